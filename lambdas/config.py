"""Settings of the Lambda functions, read from the environment here and nowhere else, and the port factory.

=============================  ====================================================  ==================
variable                       meaning                                               default
=============================  ====================================================  ==================
``IMGMGR_BUCKET``              the bucket of originals and renditions                required
``IMGMGR_TABLE``               the DynamoDB table                                    required
``IMGMGR_DLQ_URL``             the dead-letter queue (redrive only)                  ``""``
``IMGMGR_MAX_PIXELS``          largest width x height accepted                       100000000
``IMGMGR_MAX_UPLOAD_BYTES``    largest original accepted, bytes                      104857600 (100 MiB)
``IMGMGR_COMPRESSED_FORMAT``   ``jpeg``, ``webp`` or ``avif``                        ``jpeg``
``IMGMGR_MIN_CONFIDENCE``      Rekognition ``MinConfidence``, percent                70
``IMGMGR_MAX_LABELS``          Rekognition ``MaxLabels``                             20
``IMGMGR_CURSOR_SECRET``       key that signs the API's page cursors                 ``""``: a random
                                                                                     one kept in the
                                                                                     table
``IMGMGR_CORS_ORIGINS``        other origins whose pages may call the API            ``""``: none
                               (comma-separated ``https://host[:port]``)
``IMGMGR_ANALYTICS_WORKGROUP`` Athena workgroup of the API's usage figures           ``""``: none (the
``IMGMGR_ANALYTICS_DATABASE``  Glue database of the events table                     figures answer 503)
``IMGMGR_ANALYTICS_TIMEOUT_SECONDS`` how long the API waits for Athena's answers     10
``IMGMGR_COMPRESS_FUNCTION``   the step functions the API starts again for a         ``""``: none (the
``IMGMGR_THUMBNAIL_FUNCTION``  failed image's retry (names, all three or none)       retry answers 501)
``IMGMGR_CATEGORIZE_FUNCTION``
``IMGMGR_COGNITO_LOGIN_URL``   the user pool's managed login and the page's app      ``""``: none (the
``IMGMGR_COGNITO_CLIENT_ID``   client: the owner is then the token's ``sub``         owner is the key)
``IMGMGR_COGNITO_API_KEY_REQUIRED`` whether data calls need a key besides the token  ``true``
=============================  ====================================================  ==================

Powertools reads ``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` itself. Clients are
built once per container (:func:`aws_ports` is cached) and reused by every invocation.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from lambdas.contract import CATEGORIZE, COMPRESS, COMPRESSED_FORMATS, STEP_FUNCTION_ENV, THUMBNAIL, Env
from lambdas.domain.originals import OriginalsPolicy

if TYPE_CHECKING:
    from lambdas.imaging import ImagingOptions
    from lambdas.steps import Ports

MiB = 1024 * 1024
#: A web origin: scheme, host and optional port, nothing else (no path, no trailing slash).
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The functions' settings; validated at construction, messages start with the variable name."""

    bucket: str
    """``IMGMGR_BUCKET``: bucket name. Required."""
    table: str
    """``IMGMGR_TABLE``: table name. Required."""
    dlq_url: str = ""
    """``IMGMGR_DLQ_URL``: URL of the dead-letter queue that the redrive function drains. Default: ``""``."""
    max_pixels: int = 100_000_000
    """``IMGMGR_MAX_PIXELS``: largest pixel count accepted. Default: 100_000_000."""
    max_upload_bytes: int = 100 * MiB
    """``IMGMGR_MAX_UPLOAD_BYTES``: largest original accepted. Default: 100 MiB."""
    compressed_format: str = "jpeg"
    """``IMGMGR_COMPRESSED_FORMAT``: format of the compressed rendition. Default: ``"jpeg"``."""
    min_confidence: float = 70.0
    """``IMGMGR_MIN_CONFIDENCE``: lowest label confidence kept, percent. Default: 70."""
    max_labels: int = 20
    """``IMGMGR_MAX_LABELS``: most labels asked for per image. Default: 20."""
    cursor_secret: str = field(default="", repr=False)
    """``IMGMGR_CURSOR_SECRET``: key that signs the API's page cursors, at least 16 bytes. Default: ``""``,
    for a random key that the API creates once and keeps in the table
    (``lambdas.adapters.aws.shared_secret``)."""
    originals: str = "expire"
    """``IMGMGR_ORIGINALS``: the originals policy, ``keep``, ``archive`` or ``expire``
    (``lambdas.domain.originals``). Default: ``expire``."""
    originals_after_days: int = 30
    """``IMGMGR_ORIGINALS_AFTER_DAYS``: days after upload when the policy acts. Default: 30."""
    max_attempts: int = 3
    """``IMGMGR_MAX_ATTEMPTS``: attempts Lambda makes of an asynchronous step (1 + its retry attempts); the
    failure that reaches it is recorded as parked. Default: 3."""
    cors_origins: tuple[str, ...] = ()
    """``IMGMGR_CORS_ORIGINS``: origins (``scheme://host[:port]``) of other web pages that may call the API
    from a browser; the API answers their preflights and marks its responses to them. Default: none (the
    API's own page is same-origin)."""

    analytics_workgroup: str = ""
    """``IMGMGR_ANALYTICS_WORKGROUP``: the Athena workgroup in which the API answers its usage figures
    (``AnalyticsLake`` sets it). Default: ``""``, no figures (``GET /v1/analytics`` answers 503)."""
    analytics_database: str = ""
    """``IMGMGR_ANALYTICS_DATABASE``: the Glue database of the events table. Default: ``""``."""
    analytics_timeout_seconds: float = 10.0
    """``IMGMGR_ANALYTICS_TIMEOUT_SECONDS``: how long a request waits for Athena's answers before it gives
    up (and stops the queries); ``AnalyticsLake`` sets it a few seconds under the API function's timeout.
    Default: 10."""

    compress_function: str = ""
    """``IMGMGR_COMPRESS_FUNCTION``: name of the compress function, which the API invokes to retry a failed
    image (``ImagePipeline`` sets the three step functions' names on the API function). Default: ``""``."""
    thumbnail_function: str = ""
    """``IMGMGR_THUMBNAIL_FUNCTION``: name of the thumbnail function. Default: ``""``."""
    categorize_function: str = ""
    """``IMGMGR_CATEGORIZE_FUNCTION``: name of the categorize function. Default: ``""``."""

    cognito_login_url: str = ""
    """``IMGMGR_COGNITO_LOGIN_URL``: base URL of the user pool's managed login
    (``https://<prefix>.auth.<region>.amazoncognito.com``; ``ImagePipeline`` sets it with
    ``ImagePipelineProps.cognito``). Set, a Cognito authorizer checked the caller's token and the owner of
    an image is the token's ``sub``. Default: ``""``, the owner is the API key's id."""
    cognito_client_id: str = ""
    """``IMGMGR_COGNITO_CLIENT_ID``: the page's app client of that pool. Default: ``""``."""
    cognito_api_key_required: str = "true"
    """``IMGMGR_COGNITO_API_KEY_REQUIRED``: ``"true"`` when data calls need an API key besides the token
    (the page then asks for one), ``"false"`` when the token alone is enough. Default: ``"true"``."""

    def __post_init__(self) -> None:
        if bool(self.cognito_login_url) != bool(self.cognito_client_id):
            raise ValueError(f"{Env.COGNITO_LOGIN_URL} and {Env.COGNITO_CLIENT_ID} go together: set both or neither")
        if self.cognito_login_url and not self.cognito_login_url.startswith("https://"):
            raise ValueError(f"{Env.COGNITO_LOGIN_URL} must be an https:// URL, got {self.cognito_login_url!r}")
        if self.cognito_api_key_required not in ("true", "false"):
            raise ValueError(
                f"{Env.COGNITO_API_KEY_REQUIRED} must be 'true' or 'false', got {self.cognito_api_key_required!r}"
            )
        named = [bool(self.compress_function), bool(self.thumbnail_function), bool(self.categorize_function)]
        if any(named) and not all(named):
            variables = ", ".join(STEP_FUNCTION_ENV.values())
            raise ValueError(f"{variables} go together: set all three or none")
        if bool(self.analytics_workgroup) != bool(self.analytics_database):
            raise ValueError(f"{Env.ANALYTICS_WORKGROUP} and {Env.ANALYTICS_DATABASE} go together: set both or neither")
        if not 1 <= self.analytics_timeout_seconds <= 60:
            raise ValueError(f"{Env.ANALYTICS_TIMEOUT_SECONDS} must be 1..60, got {self.analytics_timeout_seconds}")
        if not self.bucket:
            raise ValueError(f"{Env.BUCKET} must name the bucket")
        if not self.table:
            raise ValueError(f"{Env.TABLE} must name the table")
        if self.max_pixels < 1:
            raise ValueError(f"{Env.MAX_PIXELS} must be positive, got {self.max_pixels}")
        if self.max_upload_bytes < 1:
            raise ValueError(f"{Env.MAX_UPLOAD_BYTES} must be positive, got {self.max_upload_bytes}")
        if self.compressed_format not in COMPRESSED_FORMATS:
            raise ValueError(
                f"{Env.COMPRESSED_FORMAT} must be one of {COMPRESSED_FORMATS}, got {self.compressed_format!r}"
            )
        if not 0 <= self.min_confidence <= 100:
            raise ValueError(f"{Env.MIN_CONFIDENCE} must be 0..100, got {self.min_confidence}")
        try:
            OriginalsPolicy(policy=self.originals, after_days=self.originals_after_days)
        except ValueError as exc:
            raise ValueError(f"{Env.ORIGINALS} / {Env.ORIGINALS_AFTER_DAYS}: {exc}") from None
        if not 1 <= self.max_attempts <= 10:
            raise ValueError(f"{Env.MAX_ATTEMPTS} must be 1..10, got {self.max_attempts}")
        if not 1 <= self.max_labels <= 1000:
            raise ValueError(f"{Env.MAX_LABELS} must be 1..1000, got {self.max_labels}")
        if self.cursor_secret and len(self.cursor_secret.encode()) < 16:
            raise ValueError(f"{Env.CURSOR_SECRET} must be at least 16 bytes when set")
        for origin in self.cors_origins:
            if not ORIGIN.fullmatch(origin):
                raise ValueError(f"{Env.CORS_ORIGINS}: {origin!r} is not an origin like https://example.com[:port]")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (default: ``os.environ``): each field from its variable
        (``lambdas.contract.Env``), parsed by the field's type; an unset variable leaves the default (a
        required name is then empty, which the checks refuse)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            name = variable(item.name)
            if name in env:
                values[item.name] = _parsed(name, env[name], str(item.type))
            elif item.default is MISSING and item.default_factory is MISSING:
                values[item.name] = ""
        return cls(**values)

    @property
    def uses_cognito(self) -> bool:
        """Whether the deployment has a user pool (the owner is the token's ``sub``)."""
        return bool(self.cognito_client_id)

    def step_functions(self) -> dict[str, str]:
        """The function of each step by step name (``{"compress": "imgmgr-compress", ...}``), or ``{}``
        when they are not named."""
        names = {
            COMPRESS: self.compress_function,
            THUMBNAIL: self.thumbnail_function,
            CATEGORIZE: self.categorize_function,
        }
        return names if all(names.values()) else {}

    def imaging_options(self) -> ImagingOptions:
        """The image core's options for these settings."""
        from lambdas.imaging import ImagingOptions

        return ImagingOptions(
            max_pixels=self.max_pixels,
            max_input_bytes=self.max_upload_bytes,
            compressed_format=self.compressed_format,
        )


def variable(field_name: str) -> str:
    """The environment variable of a ``Settings`` field (``max_pixels`` -> ``IMGMGR_MAX_PIXELS``)."""
    return str(getattr(Env, field_name.upper()))


def _parsed(name: str, text: str, kind: str) -> Any:
    """``text`` of the variable ``name`` as a value of the field type ``kind`` (as written in the class)."""
    if kind == "tuple[str, ...]":
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if kind in ("int", "float"):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {text!r}") from None
    return text


@functools.cache
def settings() -> Settings:
    """The settings of this container (read once)."""
    return Settings.from_env()


@functools.cache
def client(service: str):  # type: ignore[no-untyped-def]
    """One boto3 client per service per container, with adaptive retries."""
    import boto3
    from botocore.config import Config

    # The service name is a runtime string here, so the typed overloads of boto3.client do not apply.
    return boto3.client(service, config=Config(retries={"mode": "adaptive", "max_attempts": 4}))  # type: ignore[call-overload]


@functools.cache
def aws_ports() -> Ports:
    """The ports over AWS for this container: S3, DynamoDB, Rekognition, log-line events."""
    from lambdas.adapters.aws.dynamodb import DynamoMetadataStore
    from lambdas.adapters.aws.events import LogEventSink
    from lambdas.adapters.aws.rekognition import RekognitionLabeler
    from lambdas.adapters.aws.s3 import S3ObjectStore
    from lambdas.adapters.clock import SystemClock
    from lambdas.steps import Ports

    current = settings()
    return Ports(
        objects=S3ObjectStore(current.bucket, client=client("s3")),
        metadata=DynamoMetadataStore(current.table, client=client("dynamodb")),
        labeler=RekognitionLabeler(
            min_confidence=current.min_confidence,
            max_labels=current.max_labels,
            client_factory=functools.partial(client, "rekognition"),
        ),
        events=LogEventSink(),
        clock=SystemClock(),
        imaging=current.imaging_options(),
        max_attempts=current.max_attempts,
        originals=OriginalsPolicy(policy=current.originals, after_days=current.originals_after_days),
    )


def reset() -> None:
    """Forget the cached settings, clients and ports (tests change the environment between cases)."""
    settings.cache_clear()
    client.cache_clear()
    aws_ports.cache_clear()
