"""Props of ``ImagePipeline``: every option with its default, validated at construction."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from lambdas.contract import COMPRESSED_FORMATS
from lambdas.domain.originals import DEFAULT_AFTER_DAYS, DEFAULT_POLICY, POLICIES

#: A QuickSight user or group ARN (the principal the analytics lake shares its QuickSight resources with).
QUICKSIGHT_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(user|group)/.+$")

#: Project root of this checkout (``constructs_lib/..``): where ``lambdas/`` and ``pyproject.toml`` live.
PROJECT_DIR = Path(__file__).resolve().parent.parent

#: Retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

#: Log levels Powertools understands.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

BillingMode = Literal["PROVISIONED", "PAY_PER_REQUEST"]

_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9._/#:-]{1,255}$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")

MiB = 1024 * 1024

#: Allocator settings of the image functions: keep freed memory for the next decode instead of handing it
#: back to the kernel and faulting it in again. ``PILLOW_BLOCKS_MAX`` keeps up to 8 of Pillow's 16 MiB
#: image blocks (a 32 MP decode); glibc serves allocations up to 32 MiB (above Pillow's blocks; libjpeg's
#: larger coefficient buffers still go to mmap and back to the kernel) from its heap, trims the heap only
#: past 1 GiB and grows it 64 MiB at a time. Measured by ``bench/imaging.py`` ("ours+alloc"); glibc and
#: Pillow read them at start-up, so they must be in the environment before Python starts.
DEFAULT_ALLOCATOR_ENV: Mapping[str, str] = MappingProxyType(
    {
        "PILLOW_BLOCKS_MAX": "8",
        "MALLOC_MMAP_THRESHOLD_": str(32 * MiB),
        "MALLOC_TRIM_THRESHOLD_": str(1024 * MiB),
        "MALLOC_TOP_PAD_": str(64 * MiB),
    }
)

#: Variables ``allocator_env`` may set: Pillow's block cache and glibc's malloc tunables.
ALLOCATOR_VARIABLES = frozenset(
    {
        "PILLOW_BLOCKS_MAX",
        "PILLOW_BLOCK_SIZE",
        "MALLOC_MMAP_THRESHOLD_",
        "MALLOC_TRIM_THRESHOLD_",
        "MALLOC_TOP_PAD_",
        "MALLOC_ARENA_MAX",
    }
)


class PropsError(ValueError):
    """A prop has a bad value; the message starts with the prop's name."""


@dataclass(frozen=True, kw_only=True)
class FunctionSize:
    """Memory and timeout of one Lambda function."""

    memory_mb: int
    """Memory in MB, 128-10240; CPU share grows with it (one full vCPU at 1769 MB). Default: per function."""

    timeout_seconds: int
    """Longest run of one invocation, 1-900 seconds. Default: per function."""

    def validate(self, name: str) -> None:
        """Raises ``PropsError`` naming ``name`` when a value is out of Lambda's range."""
        if (
            isinstance(self.memory_mb, bool)
            or not isinstance(self.memory_mb, int)
            or not 128 <= self.memory_mb <= 10240
        ):
            raise PropsError(f"{name}.memory_mb: {self.memory_mb!r} must be an integer from 128 to 10240")
        if (
            isinstance(self.timeout_seconds, bool)
            or not isinstance(self.timeout_seconds, int)
            or not 1 <= self.timeout_seconds <= 900
        ):
            raise PropsError(f"{name}.timeout_seconds: {self.timeout_seconds!r} must be an integer from 1 to 900")


#: A managed-login domain prefix Cognito accepts: lowercase letters, digits and hyphens, without the
#: reserved words ``aws``, ``amazon`` and ``cognito``.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED_IN_DOMAIN = ("aws", "amazon", "cognito")
#: A callback or sign-out URL Cognito accepts: HTTPS, or plain HTTP to the local machine only.
_SIGN_IN_URL = re.compile(r"^(https://[A-Za-z0-9.-]+(:\d{1,5})?|http://localhost(:\d{1,5})?)(/[^\s#]*)?$")

CognitoFeaturePlan = Literal["LITE", "ESSENTIALS"]


@dataclass(frozen=True, kw_only=True)
class CognitoProps:
    """A Cognito user pool for the end users of a deployment: each signs in with the managed login (e-mail
    and password, TOTP MFA optional) and owns the images they upload (the owner is the token's ``sub``).

    The pool's first 10,000 monthly active users are free every month on the Lite and Essentials plans,
    on any account (Cognito's pricing page, checked 2026-09-20: ``imgmgr.cost.prices``); ``imgmgr cost
    --users N`` prices a month of N. The pool stores no images and costs nothing while no one signs in.
    Threat protection (the former advanced security features, the Plus plan) is never turned on: it has
    no free tier.
    """

    domain_prefix: str
    """Prefix of the managed login's domain (``https://<prefix>.auth.<region>.amazoncognito.com``), unique
    in the region across all AWS accounts: 1-63 lowercase letters, digits and hyphens, without ``aws``,
    ``amazon`` or ``cognito``. Default: none (required)."""

    self_sign_up: bool = False
    """Let anyone who can open the page create an account (the e-mail is verified with a code before it
    can sign in). Off, only an administrator creates users (``aws cognito-idp admin-create-user``), who
    receive a temporary password by e-mail. Default: ``False``."""

    callback_urls: tuple[str, ...] = ()
    """Where the managed login may send a user back with an authorization code (HTTPS, or
    ``http://localhost[:port]``). The web page signs in to its own URL, which must be one of them.
    Default: none, meaning the stage's own page URL (``https://<api id>.execute-api.<region>.<suffix>/<stage>/``)."""

    logout_urls: tuple[str, ...] = ()
    """Where the managed login may send a user after signing out. Default: none, meaning the stage's own
    page URL."""

    access_token_minutes: int = 60
    """Lifetime of access tokens, 5-1440 minutes (Cognito's bounds). Default: 60."""

    id_token_minutes: int = 60
    """Lifetime of ID tokens (the page sends the ID token to the API), 5-1440 minutes. Default: 60."""

    refresh_token_days: int = 1
    """Lifetime of refresh tokens, 1-3650 days (Cognito's bounds): after it, the user signs in again.
    Default: 1."""

    feature_plan: CognitoFeaturePlan = "LITE"
    """The pool's feature plan (``user_pool_tier``). ``"LITE"`` has everything this option uses (the
    classic managed login, authorization code with PKCE, TOTP MFA, e-mail recovery) and the lowest price
    past the free 10,000 monthly active users (0.0055 USD per MAU up to 100,000, against 0.015 USD for
    ``"ESSENTIALS"``; us-east-1, checked 2026-09-20, ``imgmgr.cost.prices``). ``"ESSENTIALS"`` adds the
    new managed-login branding editor, passwordless sign-in and access-token customization. Plus (threat
    protection) is not offered: it has no free tier. Default: ``"LITE"``."""

    require_api_key: bool = True
    """Keep API keys required on the data routes besides the token: the usage plan's throttle and daily
    quota then still meter every caller (the first line of cost defence), and the page sends both the
    ``Authorization`` token and an ``x-api-key`` it asks the user for once. ``False`` lets a signed-in user
    call with the token alone (the stage-wide throttle of ``api_throttle_*`` still applies, the per-key
    daily quota does not). Default: ``True``."""

    def validate(self, name: str) -> None:
        """Raises ``PropsError`` naming ``name`` and the field when a value is out of Cognito's bounds."""
        prefix = self.domain_prefix
        if (
            not isinstance(prefix, str)
            or not _DOMAIN_PREFIX.match(prefix)
            or any(word in prefix for word in _RESERVED_IN_DOMAIN)
        ):
            raise PropsError(
                f"{name}.domain_prefix: {prefix!r} must be 1-63 lowercase letters, digits and hyphens, "
                "without 'aws', 'amazon' or 'cognito'"
            )
        if not isinstance(self.self_sign_up, bool):
            raise PropsError(f"{name}.self_sign_up: {self.self_sign_up!r} must be True or False")
        for field_name in ("callback_urls", "logout_urls"):
            urls = getattr(self, field_name)
            if not isinstance(urls, tuple):
                raise PropsError(f"{name}.{field_name}: expected a tuple of URLs, got {type(urls).__name__}")
            for url in urls:
                if not isinstance(url, str) or not _SIGN_IN_URL.match(url):
                    raise PropsError(
                        f"{name}.{field_name}: {url!r} must be an https:// URL (or http://localhost) without a fragment"
                    )
        _integer(f"{name}.access_token_minutes", self.access_token_minutes, 5, 1440)
        _integer(f"{name}.id_token_minutes", self.id_token_minutes, 5, 1440)
        _integer(f"{name}.refresh_token_days", self.refresh_token_days, 1, 3650)
        if self.feature_plan not in ("LITE", "ESSENTIALS"):
            raise PropsError(f"{name}.feature_plan: {self.feature_plan!r} must be 'LITE' or 'ESSENTIALS'")
        if not isinstance(self.require_api_key, bool):
            raise PropsError(f"{name}.require_api_key: {self.require_api_key!r} must be True or False")


@dataclass(frozen=True, kw_only=True)
class ImagePipelineProps:
    """Options of ``ImagePipeline``. Two defaults are billed from the first image, and no free tier
    (legacy 12-month or credit-based) covers them: the on-demand table (``billing_mode``: 0.625 USD per
    million write and 0.125 USD per million read request units, us-east-1; about 0.13 USD per 1,000
    images) and its point-in-time recovery (0.20 USD per GB-month of table, about 0.005 USD a month per
    1,000 images kept). ``billing_mode="PROVISIONED"`` (inside the always-free 25 RCU and 25 WCU, but
    about 4 images a minute once its burst is spent) and ``point_in_time_recovery=False`` make the table
    free. The rest of what the defaults deploy is free at a small volume: Lambda, CloudWatch, SQS and
    X-Ray within their always-free offers; S3, API Gateway and Rekognition (1,000 images a month) only
    within the legacy 12-month offers, so an account of the credit-based plan pays them from the first
    image. ``imgmgr cost`` estimates the monthly bill of a volume on either kind of account.

    The memory and timeout defaults of the functions come from the benchmark issue (GB-seconds measured
    per image on real photos) and will be revised as the benchmark is refined.
    """

    name_prefix: str = "imgmgr"
    """Prefix of every resource name: 3-20 lowercase letters, digits and dashes. Default: ``"imgmgr"``."""

    compress_size: FunctionSize = FunctionSize(memory_mb=1769, timeout_seconds=120)
    """Memory and timeout of the compress function (one full vCPU: it decodes full-resolution images).
    Default: 1769 MB, 120 s."""

    thumbnail_size: FunctionSize = FunctionSize(memory_mb=1024, timeout_seconds=60)
    """Memory and timeout of the thumbnail function. Default: 1024 MB, 60 s."""

    categorize_size: FunctionSize = FunctionSize(memory_mb=512, timeout_seconds=30)
    """Memory and timeout of the categorize function (mostly waits on Rekognition). Default: 512 MB, 30 s."""

    api_size: FunctionSize = FunctionSize(memory_mb=512, timeout_seconds=15)
    """Memory and timeout of the API function (API Gateway gives up after 29 s). Default: 512 MB, 15 s."""

    redrive_size: FunctionSize = FunctionSize(memory_mb=256, timeout_seconds=300)
    """Memory and timeout of the redrive function, which replays the dead-letter queue. Default: 256 MB, 300 s."""

    log_retention_days: int = 30
    """Retention of every function's and the API's log group, in days (a value CloudWatch accepts).
    Default: 30."""

    log_level: str = "INFO"
    """``POWERTOOLS_LOG_LEVEL`` of every function. Default: ``"INFO"``."""

    metrics_namespace: str = "ImgMgr"
    """CloudWatch namespace of the functions' custom metrics (``POWERTOOLS_METRICS_NAMESPACE``).
    Default: ``"ImgMgr"``."""

    max_retry_attempts: int = 2
    """Retries of a failed asynchronous invocation (0-2) before it goes to the dead-letter queue.
    Default: 2."""

    max_event_age_seconds: int = 3600
    """Age (60-21600 s) after which a queued asynchronous event goes to the dead-letter queue unprocessed.
    Default: 3600 (one hour)."""

    dead_letter_retention_seconds: int = 1_209_600
    """How long failed events wait in the dead-letter queue for a redrive (60 s to 14 days).
    Default: 1_209_600 (14 days, the SQS maximum)."""

    max_pixels: int = 100_000_000
    """Largest image (width x height) the pipeline decodes (``IMGMGR_MAX_PIXELS``). Default: 100_000_000."""

    max_upload_bytes: int = 100 * MiB
    """Largest upload the presigned POST accepts (``IMGMGR_MAX_UPLOAD_BYTES``). Default: 100 MiB."""

    compressed_format: str = "jpeg"
    """Format of the compressed rendition: ``"jpeg"``, ``"webp"`` (about 2.3x the CPU of JPEG) or
    ``"avif"`` (about 155x the encode time for 0.67x the bytes) (``IMGMGR_COMPRESSED_FORMAT``).
    Default: ``"jpeg"``."""

    allocator_env: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ALLOCATOR_ENV)
    """Environment of the compress and thumbnail functions that tunes memory reuse (Pillow's block cache,
    glibc's malloc thresholds; read when the runtime starts): names from ``ALLOCATOR_VARIABLES``, values
    non-negative integers as strings. Measured with ``bench/imaging.py`` (x86-64, glibc 2.36): the image
    work took 0.85x (photos as shipped) and 0.90x (q95 re-encodes) the CPU, for about 60 MB more peak RSS
    over a run of 19 photos and 2 MB more on a 50 MP photo. An empty mapping leaves the runtime's allocator
    alone. Default: ``DEFAULT_ALLOCATOR_ENV``."""

    min_confidence: float = 70.0
    """Lowest Rekognition confidence (0-100) of a label that is kept (``IMGMGR_MIN_CONFIDENCE``).
    Default: 70.0."""

    max_labels: int = 20
    """Most labels asked of Rekognition per image, 1-1000 (``IMGMGR_MAX_LABELS``). Default: 20."""

    billing_mode: BillingMode = "PAY_PER_REQUEST"
    """Billing mode of the table: ``"PAY_PER_REQUEST"`` (on-demand: never throttles a burst, nothing to pay
    when idle, but outside the always-free tier) or ``"PROVISIONED"`` (``read_capacity``/``write_capacity``
    per second on the table and each index, free up to 25 RCU and 25 WCU per account). On-demand costs
    0.625 USD per million write request units and 0.125 USD per million read request units (us-east-1 list
    prices since 2024-11-01); one image's life takes about 202 write and 8.5 read units
    (``python -m bench.capacity``): about 0.13 USD per 1,000 images, plus 1 read unit per image shown by a
    query. Provisioned at 5 units per part (20 in all, inside the free 25) the table processes about 3
    images a minute once its 300 s burst is spent and strands 79 of a 500-image bulk upload in the
    dead-letter queue. Default: ``"PAY_PER_REQUEST"``."""

    read_capacity: int = 5
    """Read capacity units of the table and of each of its three indexes when ``billing_mode`` is
    ``"PROVISIONED"`` (ignored on demand): 5 totals 20 RCU, inside the always-free 25. Default: 5."""

    write_capacity: int = 5
    """Write capacity units of the table and of each of its three indexes when ``billing_mode`` is
    ``"PROVISIONED"`` (ignored on demand): 5 totals 20 WCU, inside the always-free 25; a 500-image burst
    needs 66 per part not to strand images (``python -m bench.capacity``). Default: 5."""

    point_in_time_recovery: bool = True
    """Continuous backups of the table (restore to any second of the last 35 days). **Not free**: no
    free tier (legacy or credit-based) covers it; it is billed 0.20 USD per GB-month of table size
    (us-east-1 list price), about 0.005 USD a month per 1,000 images at ~25 KB of table and index
    items each (``python -m bench capacity``; ``imgmgr cost`` counts it). On by default because the table holds the only copy of the labels and
    states, and labeling the images again costs 0.001 USD each; turn it off to pay nothing.
    Default: ``True``."""

    originals: str = DEFAULT_POLICY
    """What happens to an original once its compressed rendition is verified (written, decodes to the
    original's size, quality recorded; an original that stands in for its rendition is never touched),
    ``originals_after_days`` after upload (``IMGMGR_ORIGINALS``; ``lambdas.domain.originals``):

    - ``"expire"``: deleted (the versioned bucket keeps it as a noncurrent version for
      ``noncurrent_version_expiration_days`` more). The compressed rendition (at the perceptual target) is
      then the best copy; a stored image costs its renditions only, measured 0.71x its original's bytes on
      camera-like photos (``make bench``), against 1.70x while the original is kept beside them. Until then
      the API offers the original for download.
    - ``"archive"``: moved to S3 Glacier Instant Retrieval (0.004 instead of 0.023 USD per GB-month, still
      instantly downloadable; at least 90 days are billed and reads cost 0.03 USD per GB): the bill
      shrinks, the bytes do not.
    - ``"keep"``: stays in S3 Standard.

    The default expires, since the point of compression is a smaller footprint; choose ``"keep"`` or
    ``"archive"`` when originals must survive (a photographer's delivery, a legal hold).
    Default: ``"expire"``."""

    originals_after_days: int = DEFAULT_AFTER_DAYS
    """Days after upload when ``originals`` acts (S3 lifecycle days, applied at the next midnight UTC): the
    time a user has to download the original. A change applies to every tagged original at once in S3,
    while the dates already shown by the API stay as recorded. Default: 30."""

    noncurrent_version_expiration_days: int = 7
    """The bucket is versioned (a deleted or overwritten object can be recovered): days a noncurrent
    version is kept before S3 deletes it for good. Default: 7."""

    athena_results_expiration_days: int | None = 7
    """Days after which the results of analytics queries (``athena-results/``, where ``AnalyticsLake``'s
    workgroup writes them) are deleted; ``None`` keeps them forever. Default: 7."""

    rejected_events_expiration_days: int | None = 30
    """Days after which analytics lines the exporter refused (``analytics/rejected/``, kept aside with
    the reason) are deleted; ``None`` keeps them forever. Default: 30."""

    force_destroy: bool = False
    """Let ``terraform destroy`` delete the images and their records.

    ``False`` keeps both: the table has deletion protection and the bucket (versioned) is deleted only
    when it holds no object version and no delete marker. ``terraform destroy`` then removes everything
    else (functions, roles, API, alarms, lake) and stops with errors naming the bucket (``BucketNotEmpty``)
    and the table (deletion protection), which stay in the state with every image and record. To remove
    them too, either set ``force_destroy=True`` and ``apply`` before ``destroy`` (every version of every
    object is deleted, then the table), or empty the bucket (``aws s3api delete-objects`` over
    ``list-object-versions``) and turn the protection off
    (``aws dynamodb update-table --table-name <table> --no-deletion-protection-enabled``), then run
    ``destroy`` again. ``True`` lets a single ``destroy`` delete everything, data included.
    Default: ``False``."""

    cors_allowed_origins: tuple[str, ...] = ()
    """Origins (``https://host[:port]``) of other web pages that may use the deployment from a browser:
    they may call the API (API Gateway passes their ``OPTIONS`` preflights, without a key, to the API
    function, which answers CORS for these origins only; refusals of API Gateway itself, such as a
    missing key or throttling, carry ``Access-Control-Allow-Origin`` too) and POST uploads to the bucket.
    The API's own origin (which serves the web page) needs no entry. Default: none."""

    manage_api_gateway_account: bool = False
    """Set the account-wide API Gateway CloudWatch role (``aws_api_gateway_account``, one per account and
    region), which access and execution logs need. It is a singleton of the account: two stacks that set
    it take it over from each other on every apply, and a destroy leaves it naming a deleted role. Turn it
    on in exactly one stack of the account and region; when it is off the account must already have a
    role set, or API Gateway refuses the stage's logging settings
    (``aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn,value=<arn>``).
    Default: ``False``."""

    api_stage_name: str = "prod"
    """Name of the API Gateway stage (the first segment of the API URL's path). Default: ``"prod"``."""

    api_throttle_rate_limit: float = 10.0
    """Steady requests per second across all API keys of the usage plan. Default: 10.0."""

    api_throttle_burst_limit: int = 20
    """Request burst across all API keys of the usage plan. Default: 20."""

    api_daily_quota: int = 5000
    """Requests per day per API key; the first line of cost defence. Default: 5000."""

    cognito: CognitoProps | None = None
    """A Cognito user pool for the end users (``CognitoProps``): the data routes then need a token of the
    pool (a Cognito authorizer, besides the API key when ``CognitoProps.require_api_key``), the owner of an
    image is the token's ``sub``, and the web page signs in with the managed login. ``None`` keeps one
    owner per API key. Default: ``None``."""

    lambda_source_dir: Path = PROJECT_DIR / "lambdas"
    """The ``lambdas`` package zipped as the function code (without caches, compiled files or weights).
    Default: ``lambdas/`` of this project."""

    layer_requirements: tuple[str, ...] | None = None
    """Requirements installed into the dependency layer; ``None`` installs the exact, hash-checked versions of
    ``constructs_lib/layer-requirements.lock`` (regenerate with ``python -m constructs_lib.lock_layer`` after changing
    ``[project].dependencies``; boto3/botocore are left to the Lambda runtime). Default: ``None``."""

    build_cache_dir: Path = PROJECT_DIR / ".cache"
    """Where the function zip and the dependency layer are built and cached (``lambda-function/``,
    ``lambda-layer/<sha256 of inputs>.zip``). Default: ``.cache/`` of this project."""

    def __post_init__(self) -> None:
        if not isinstance(self.name_prefix, str) or not _NAME_PREFIX.match(self.name_prefix):
            raise PropsError(
                f"name_prefix: {self.name_prefix!r} must be 3-20 lowercase letters, digits and dashes, "
                "starting with a letter"
            )
        for name in ("compress_size", "thumbnail_size", "categorize_size", "api_size", "redrive_size"):
            size = getattr(self, name)
            if not isinstance(size, FunctionSize):
                raise PropsError(f"{name}: expected a FunctionSize, got {type(size).__name__}")
            size.validate(name)
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise PropsError(
                f"log_retention_days: {self.log_retention_days!r} is not a CloudWatch retention "
                f"(one of {sorted(LOG_RETENTION_DAYS)})"
            )
        if self.log_level not in LOG_LEVELS:
            raise PropsError(f"log_level: {self.log_level!r} must be one of {', '.join(LOG_LEVELS)}")
        if not _NAMESPACE.match(self.metrics_namespace) or self.metrics_namespace.startswith("AWS/"):
            raise PropsError(f"metrics_namespace: {self.metrics_namespace!r} is not a custom CloudWatch namespace")
        _integer("max_retry_attempts", self.max_retry_attempts, 0, 2)
        _integer("max_event_age_seconds", self.max_event_age_seconds, 60, 21_600)
        _integer("dead_letter_retention_seconds", self.dead_letter_retention_seconds, 60, 1_209_600)
        _integer("max_pixels", self.max_pixels, 1, 2**40)
        _integer("max_upload_bytes", self.max_upload_bytes, 1, 5 * 1024 * MiB)
        if self.compressed_format not in COMPRESSED_FORMATS:
            raise PropsError(
                f"compressed_format: {self.compressed_format!r} must be one of {', '.join(COMPRESSED_FORMATS)}"
            )
        if not isinstance(self.allocator_env, Mapping):
            raise PropsError(f"allocator_env: expected a mapping of names to values, got {self.allocator_env!r}")
        for variable, value in self.allocator_env.items():
            if variable not in ALLOCATOR_VARIABLES:
                raise PropsError(
                    f"allocator_env: {variable!r} is not an allocator variable (one of {sorted(ALLOCATOR_VARIABLES)})"
                )
            if not isinstance(value, str) or not value.isascii() or not value.isdigit():
                raise PropsError(f"allocator_env: {variable}={value!r} must be a non-negative integer as a string")
        if isinstance(self.min_confidence, bool) or not isinstance(self.min_confidence, int | float):
            raise PropsError(f"min_confidence: {self.min_confidence!r} must be a number from 0 to 100")
        if not 0 <= self.min_confidence <= 100:
            raise PropsError(f"min_confidence: {self.min_confidence!r} must be a number from 0 to 100")
        _integer("max_labels", self.max_labels, 1, 1000)
        if self.billing_mode not in ("PROVISIONED", "PAY_PER_REQUEST"):
            raise PropsError(f"billing_mode: {self.billing_mode!r} must be 'PROVISIONED' or 'PAY_PER_REQUEST'")
        _integer("read_capacity", self.read_capacity, 1, 40_000)
        _integer("write_capacity", self.write_capacity, 1, 40_000)
        if self.originals not in POLICIES:
            raise PropsError(f"originals: {self.originals!r} must be one of {', '.join(POLICIES)}")
        _integer("originals_after_days", self.originals_after_days, 1, 36_500)
        _integer("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 36_500)
        for name in ("athena_results_expiration_days", "rejected_events_expiration_days"):
            if getattr(self, name) is not None:
                _integer(name, getattr(self, name), 1, 36_500)
        for origin in self.cors_allowed_origins:
            if not isinstance(origin, str) or not _ORIGIN.match(origin):
                raise PropsError(f"cors_allowed_origins: {origin!r} must look like 'https://host[:port]'")
        if not _STAGE_NAME.match(self.api_stage_name):
            raise PropsError(f"api_stage_name: {self.api_stage_name!r} must be 1-64 letters, digits or underscores")
        if (
            isinstance(self.api_throttle_rate_limit, bool)
            or not isinstance(self.api_throttle_rate_limit, int | float)
            or not self.api_throttle_rate_limit > 0
        ):
            raise PropsError(f"api_throttle_rate_limit: {self.api_throttle_rate_limit!r} must be a positive number")
        _integer("api_throttle_burst_limit", self.api_throttle_burst_limit, 1, 5000)
        _integer("api_daily_quota", self.api_daily_quota, 1, 10**9)
        if self.cognito is not None:
            if not isinstance(self.cognito, CognitoProps):
                raise PropsError(f"cognito: expected CognitoProps or None, got {type(self.cognito).__name__}")
            self.cognito.validate("cognito")
        if self.layer_requirements is not None and not self.layer_requirements:
            raise PropsError("layer_requirements: must name at least one requirement (or be None for the lock file's)")

    @property
    def function_sizes(self) -> dict[str, FunctionSize]:
        """Size of each function by its short name."""
        return {
            "compress": self.compress_size,
            "thumbnail": self.thumbnail_size,
            "categorize": self.categorize_size,
            "api": self.api_size,
            "redrive": self.redrive_size,
        }


def _integer(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PropsError(f"{name}: {value!r} must be an integer from {low} to {high}")
