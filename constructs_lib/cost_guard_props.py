"""Props of ``CostGuard``: the budget, its alerts and brake, the alarms; validated at construction.

Nothing here imports the AWS provider bindings (slow to import): the pipeline's resources are typed
for the type checker only, and the names the brake covers (prefixes, steps) come from ``lambdas.contract``.

Size: most of it is the documented defaults of every budget and alarm threshold, one field each.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from constructs_lib.props import PropsError
from lambdas.contract import PAID_WRITE_PREFIXES, STEPS

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.iam_role import IamRole
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
    from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

    from constructs_lib.image_pipeline import ImagePipeline

__all__ = [
    "DEFAULT_USAGE_BUDGETS",
    "LAMBDA_GB_SECONDS_BUDGET",
    "REKOGNITION_IMAGES_BUDGET",
    "REKOGNITION_USD_PER_IMAGE",
    "USAGE_TYPE_REGION_CODES",
    "CostGuardProps",
    "GuardedPipeline",
    "PropsError",
    "UsageBudget",
    "action_budget_count",
    "regional_usage_types",
    "usage_type_region_code",
]

_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_SHORT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)

#: AWS Budgets notifies at most 10 e-mail addresses per notification (and 11 subscribers per action).
MAX_ALERT_EMAILS = 10

#: A user-defined tag key or value as AWS accepts it (letters, digits, spaces and ``_ . : / = + - @``);
#: ``$`` would break the ``user:<key>$<value>`` form of Budgets' tag filter.
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")

#: The code Cost Explorer and AWS Budgets put before a usage type in each commercial region
#: (``EUC1-Lambda-GB-Second-ARM``). us-east-1 has none for most services (``Lambda-GB-Second-ARM``) and
#: ``USE1`` for some, so both forms are counted there; eu-west-1 is ``EU``, from the years it was the
#: only European region. Taken from the ``usagetype`` attribute of the AWS Price List API as two
#: independent tables of it agree (infracost's and a Price List reader's, 2025); regions where they
#: differ or that only one lists (ap-southeast-5/6/7, ap-east-2, mx-central-1, GovCloud, China) are left
#: out on purpose: a wrong code gives a budget that silently counts nothing, so such a region fails at
#: synthesis instead (name the usage types in full with ``UsageBudget(regional=False)``).
USAGE_TYPE_REGION_CODES: Mapping[str, str] = MappingProxyType(
    {
        "us-east-1": "",
        "us-east-2": "USE2",
        "us-west-1": "USW1",
        "us-west-2": "USW2",
        "ca-central-1": "CAN1",
        "ca-west-1": "CAN2",
        "sa-east-1": "SAE1",
        "eu-west-1": "EU",
        "eu-west-2": "EUW2",
        "eu-west-3": "EUW3",
        "eu-central-1": "EUC1",
        "eu-central-2": "EUC2",
        "eu-north-1": "EUN1",
        "eu-south-1": "EUS1",
        "eu-south-2": "EUS2",
        "ap-east-1": "APE1",
        "ap-northeast-1": "APN1",
        "ap-northeast-2": "APN2",
        "ap-northeast-3": "APN3",
        "ap-southeast-1": "APS1",
        "ap-southeast-2": "APS2",
        "ap-south-1": "APS3",
        "ap-southeast-3": "APS4",
        "ap-south-2": "APS5",
        "ap-southeast-4": "APS6",
        "me-south-1": "MES1",
        "me-central-1": "MEC1",
        "il-central-1": "ILC1",
        "af-south-1": "AFS1",
    }
)

#: Every region code, and us-east-1's ``USE1`` (see ``USAGE_TYPE_REGION_CODES``).
_REGION_CODES = frozenset(code for code in USAGE_TYPE_REGION_CODES.values() if code) | {"USE1"}


def usage_type_region_code(region: str) -> str:
    """The code before usage types in ``region`` (``""`` for us-east-1). Raises ``PropsError`` naming
    ``region`` for a region missing from ``USAGE_TYPE_REGION_CODES``."""
    if not isinstance(region, str) or region not in USAGE_TYPE_REGION_CODES:
        raise PropsError(
            f"region: {region!r} has no known usage type code, so the usage budgets cannot name its usage "
            "types; give them in full with UsageBudget(regional=False), or set usage_budgets=() "
            f"(known regions: {', '.join(sorted(USAGE_TYPE_REGION_CODES))})"
        )
    return USAGE_TYPE_REGION_CODES[region]


def regional_usage_types(usage_types: tuple[str, ...], region: str) -> tuple[str, ...]:
    """``usage_types`` (given without a region code) as Cost Explorer names them in ``region``: the code
    and a dash before each, or in us-east-1 each as it is and with ``USE1-``. Raises ``PropsError``
    naming ``region`` for a region missing from ``USAGE_TYPE_REGION_CODES``."""
    code = usage_type_region_code(region)
    if code:
        return tuple(f"{code}-{usage_type}" for usage_type in usage_types)
    return (*usage_types, *(f"USE1-{usage_type}" for usage_type in usage_types))


@dataclass(frozen=True, kw_only=True)
class UsageBudget:
    """A monthly USAGE budget on some usage types (Cost Explorer's ``UsageType`` dimension), alerting
    on the topic at ``CostGuardProps.actual_alert_percent`` actual and ``forecast_alert_percent`` forecast."""

    name: str
    """Short name (``lambda-gb-seconds``): the budget is ``<name_prefix>-<name>``. Default: none (required)."""

    usage_types: tuple[str, ...]
    """Usage types counted (OR), as Cost Explorer names them but without the region code
    (``Lambda-GB-Second-ARM``): the code of ``CostGuardProps.region`` is put before each
    (``regional_usage_types``), unless ``regional`` is off. Default: none (required)."""

    unit: str
    """Unit of the limit, as the usage types report it (``Lambda-GB-Second``). Default: none (required)."""

    limit: float
    """Monthly amount, usually the free-tier allowance (the least one, with ``usd_per_unit``).
    Default: none (required)."""

    regional: bool = True
    """Put the region's code before each of ``usage_types``; off, they are counted exactly as given (for a
    region ``USAGE_TYPE_REGION_CODES`` lacks, or a global usage type). Default: ``True``."""

    brake: bool = False
    """Apply the brake (the cost budget's deny policy, on the same roles) when the actual usage reaches
    ``CostGuardProps.brake_percent`` of ``limit``, with a budget action of its own; only while
    ``CostGuardProps.brake_enabled``. For usage that no cost budget filtered on the deployment's tag can
    see (Rekognition). AWS Budgets bills nothing for the first two action-enabled budgets of an account,
    then 0.10 USD a day for each further one. Default: ``False`` (``REKOGNITION_IMAGES_BUDGET``: ``True``)."""

    usd_per_unit: float | None = None
    """List price of one unit: the budget's limit is then at least what ``CostGuardProps.monthly_budget_usd``
    buys (``limit_for``), so that usage billed to no tagged resource (Rekognition) brakes when it alone
    would spend the monthly budget; ``None``: ``limit`` as given (``REKOGNITION_IMAGES_BUDGET`` sets
    ``REKOGNITION_USD_PER_IMAGE``). Default: ``None``."""

    def limit_for(self, monthly_budget_usd: float) -> float:
        """The monthly limit under a budget of ``monthly_budget_usd``: ``limit``, or what the budget buys
        at ``usd_per_unit`` when that is more."""
        if self.usd_per_unit is None:
            return self.limit
        return max(self.limit, round(monthly_budget_usd / self.usd_per_unit))

    def validate(self, field_name: str) -> None:
        """Raises ``PropsError`` naming ``field_name`` and this budget when a value is bad."""
        if not isinstance(self.name, str) or not _SHORT_NAME.match(self.name):
            raise PropsError(f"{field_name}: name {self.name!r} must be 2-32 lowercase letters, digits and dashes")
        if (
            isinstance(self.usage_types, str)
            or not self.usage_types
            or not all(isinstance(t, str) and t.strip() for t in self.usage_types)
        ):
            raise PropsError(f"{field_name}: {self.name} must name at least one usage type")
        if self.regional:
            coded = [t for t in self.usage_types if t.split("-", 1)[0] in _REGION_CODES]
            if coded:
                raise PropsError(
                    f"{field_name}: {self.name} usage type {coded[0]!r} carries a region code: give it without "
                    "(the region's code is put before it), or set regional=False"
                )
        if not isinstance(self.unit, str) or not self.unit.strip():
            raise PropsError(f"{field_name}: {self.name} must name the unit of its limit")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int | float) or not self.limit > 0:
            raise PropsError(f"{field_name}: {self.name} limit {self.limit!r} must be a positive number")
        if not isinstance(self.brake, bool):
            raise PropsError(f"{field_name}: {self.name} brake {self.brake!r} must be True or False")
        if self.usd_per_unit is not None and (
            isinstance(self.usd_per_unit, bool)
            or not isinstance(self.usd_per_unit, int | float)
            or not self.usd_per_unit > 0
        ):
            raise PropsError(f"{field_name}: {self.name} usd_per_unit {self.usd_per_unit!r} must be a positive price")


#: Lambda compute on arm64 against the always-free 400,000 GB-seconds a month (shared with x86 functions).
LAMBDA_GB_SECONDS_BUDGET = UsageBudget(
    name="lambda-gb-seconds",
    usage_types=("Lambda-GB-Second-ARM",),
    unit="Lambda-GB-Second",
    limit=400_000,
)

#: List price of one DetectLabels image (us-east-1, first 1 million a month; Amazon Rekognition pricing).
REKOGNITION_USD_PER_IMAGE = 0.001

#: Rekognition Image analysis (DetectLabels is a "Group 2" API), 1,000 images a month in the legacy
#: 12-month free tier (it was 5,000 before; ``imgmgr.cost.prices`` keeps the table); on accounts of the
#: credit-based plan every image is billed. It brakes: DetectLabels is billed to no taggable resource, so
#: the cost budget (filtered on the deployment's tag) never sees it, and without this action the most
#: expensive line of a busy month could never stop the pipeline. Its limit is what
#: ``CostGuardProps.monthly_budget_usd`` buys at ``REKOGNITION_USD_PER_IMAGE`` (5,000 images for 5 USD),
#: never under the 1,000 free ones. The action is the second action-enabled budget (two are free). For
#: another limit give ``CostGuardProps.usage_budgets`` a copy
#: (``dataclasses.replace(REKOGNITION_IMAGES_BUDGET, limit=20_000, usd_per_unit=None)``), or ``brake=False``.
#: The usage type names are the least certain value here (the AWS Free Tier usage types page lists
#: ``ImagesProcessed`` and ``Group2-ImagesProcessed``): check them in Cost Explorer (group by Usage
#: type) after the first images.
REKOGNITION_IMAGES_BUDGET = UsageBudget(
    name="rekognition-images",
    usage_types=("ImagesProcessed", "Group2-ImagesProcessed"),
    unit="Images",
    limit=1_000,
    brake=True,
    usd_per_unit=REKOGNITION_USD_PER_IMAGE,
)

DEFAULT_USAGE_BUDGETS = (LAMBDA_GB_SECONDS_BUDGET, REKOGNITION_IMAGES_BUDGET)


def action_budget_count(brake_enabled: bool, usage_budgets: tuple[UsageBudget, ...]) -> int:
    """Budgets with an action: the cost budget and each usage budget that brakes (none without the brake)."""
    if not brake_enabled:
        return 0
    return 1 + sum(budget.brake for budget in usage_budgets)


@dataclass(frozen=True, kw_only=True)
class GuardedPipeline:
    """The resources of a pipeline that ``CostGuard`` watches and brakes; ``GuardedPipeline.of(pipeline)``
    takes them from an ``ImagePipeline``, or name them one by one for another stack's functions."""

    functions: Mapping[str, LambdaFunction]
    """Functions by short name: alarms on errors and on durations near ``timeouts_seconds``. Default: none."""

    timeouts_seconds: Mapping[str, int]
    """Timeout of each function in seconds (a plain number: the resource's attribute is a token).
    Default: none (required, same keys as ``functions``)."""

    roles: Mapping[str, IamRole]
    """Roles the brake attaches its deny policy to, by short name: the pipeline's, and the roles of
    other functions of the stack (``GuardedPipeline.of(pipeline, extra_roles=...)``).
    Default: none (required)."""

    dead_letter_queue: SqsQueue
    """Queue whose depth above zero raises an alarm. Default: none (required)."""

    rest_api_name: str
    """Name of the REST API (the ``ApiName`` dimension of API Gateway's metrics). Default: none (required)."""

    api_stage_name: str
    """Stage of the REST API (the ``Stage`` dimension). Default: none (required)."""

    bucket_arn: str
    """Bucket whose new objects the brake denies (under ``paid_write_prefixes``). Default: none (required)."""

    paid_write_prefixes: tuple[str, ...] = PAID_WRITE_PREFIXES
    """Key prefixes where the brake denies ``s3:PutObject``: no new upload can be signed and no rendition
    written, so storage stops growing; reads and deletes stay allowed.
    Default: ``("uploads/", "renditions/")``."""

    replay_role: str | None = "redrive"
    """Key of ``roles`` whose invocations of ``replay_targets`` the brake denies (replays would only fail
    again while braked); ``None`` denies no invocation. Default: ``"redrive"``."""

    replay_targets: tuple[str, ...] = STEPS
    """Functions ``replay_role`` may not invoke while braked. Default: the three pipeline steps."""

    @classmethod
    def of(
        cls,
        pipeline: ImagePipeline,
        *,
        extra_roles: Mapping[str, IamRole] | None = None,
        extra_functions: Mapping[str, tuple[LambdaFunction, int]] | None = None,
    ) -> GuardedPipeline:
        """The functions, roles, queue, API and bucket of an ``ImagePipeline``, and ``extra_roles`` (by short
        name) that the brake covers as well: the roles of other constructs' functions that work for the
        pipeline, such as ``{"exporter": analytics_lake.exporter_role}``. Raises ``PropsError`` when an
        extra role takes the name of a pipeline role. ``extra_functions`` (by short name: the function and
        its timeout in seconds) are watched by the alarms and the dashboard like the pipeline's own."""
        extra_roles = dict(extra_roles or {})
        extra_functions = dict(extra_functions or {})
        taken = sorted(set(extra_roles) & set(pipeline.roles))
        if taken:
            raise PropsError(f"extra_roles: {taken} already name roles of the pipeline")
        taken = sorted(set(extra_functions) & set(pipeline.functions))
        if taken:
            raise PropsError(f"extra_functions: {taken} already name functions of the pipeline")
        return cls(
            functions={**pipeline.functions, **{name: function for name, (function, _) in extra_functions.items()}},
            timeouts_seconds={
                **{name: size.timeout_seconds for name, size in pipeline.props.function_sizes.items()},
                **{name: seconds for name, (_, seconds) in extra_functions.items()},
            },
            roles={**pipeline.roles, **extra_roles},
            dead_letter_queue=pipeline.dead_letter_queue,
            rest_api_name=pipeline.api.rest_api.name,
            api_stage_name=pipeline.props.api_stage_name,
            bucket_arn=pipeline.bucket.arn,
            paid_write_prefixes=PAID_WRITE_PREFIXES,
            replay_role="redrive",
            replay_targets=STEPS,
        )

    def validate(self) -> None:
        """Raises ``PropsError`` starting with ``pipeline.<field>`` when a value is bad."""
        if not self.functions:
            raise PropsError("pipeline.functions: name at least one function")
        if set(self.timeouts_seconds) != set(self.functions):
            raise PropsError(
                f"pipeline.timeouts_seconds: keys {sorted(self.timeouts_seconds)} must be the functions' "
                f"{sorted(self.functions)}"
            )
        for name, seconds in self.timeouts_seconds.items():
            if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= 900:
                raise PropsError(f"pipeline.timeouts_seconds: {name} {seconds!r} must be an integer from 1 to 900")
        if not self.roles:
            raise PropsError("pipeline.roles: name at least one role for the brake")
        if not isinstance(self.rest_api_name, str) or not self.rest_api_name:
            raise PropsError(f"pipeline.rest_api_name: {self.rest_api_name!r} must name the REST API")
        if not isinstance(self.api_stage_name, str) or not _STAGE_NAME.match(self.api_stage_name):
            raise PropsError(f"pipeline.api_stage_name: {self.api_stage_name!r} must be 1-64 letters, digits or _")
        if not self.paid_write_prefixes:
            raise PropsError("pipeline.paid_write_prefixes: name at least one key prefix")
        for prefix in self.paid_write_prefixes:
            if not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix:
                raise PropsError(f"pipeline.paid_write_prefixes: {prefix!r} must be a key prefix ending with '/'")
        if self.replay_role is not None:
            if self.replay_role not in self.roles:
                raise PropsError(f"pipeline.replay_role: {self.replay_role!r} is not one of the roles")
            unknown = sorted(set(self.replay_targets) - set(self.functions))
            if not self.replay_targets or unknown:
                raise PropsError(f"pipeline.replay_targets: {unknown or 'none'} must name functions of the pipeline")


@dataclass(frozen=True, kw_only=True)
class CostGuardProps:
    """Options of ``CostGuard``. The defaults cost nothing: two action-enabled budgets (the cost budget
    and ``rekognition-images``; AWS Budgets bills none of the first two of an account, then 0.10 USD a
    day for each, so a second deployment in the same account pays 0.20 USD a day for its two), usage
    budgets (free), 9 alarm metrics (10 free), one dashboard (3 free), no custom metric.

    The cost budget counts this deployment only: the costs of resources tagged
    ``cost_allocation_tag_key`` = ``cost_allocation_tag_value``. Cost Explorer and Budgets see a tag only
    once it is **activated as a cost allocation tag** (Billing and Cost Management > Cost allocation
    tags, in the management account of an organization, or ``aws ce update-cost-allocation-tags-status
    --cost-allocation-tags-status TagKey=Project,Status=Active``). A key can be activated only after it
    has appeared on a resource (up to 24 hours after the first apply), activation takes up to 24 hours,
    and costs from before it are not tagged: **until then the budget sees 0 USD, and neither its alerts
    nor the brake fire.** Costs that belong to no taggable resource are never counted: Rekognition
    ``DetectLabels`` (watched by the ``rekognition-images`` usage budget instead, which alerts and brakes
    at its own limit of images), X-Ray traces, most data transfer, Budgets' own charges."""

    pipeline: GuardedPipeline
    """What to watch and brake: ``GuardedPipeline.of(image_pipeline)``. Default: none (required)."""

    name_prefix: str = "imgmgr"
    """Prefix of every resource name: 3-20 lowercase letters, digits and dashes. Default: ``"imgmgr"``."""

    monthly_budget_usd: float = 5.0
    """Monthly cost budget of this deployment in US dollars: the costs of resources tagged
    ``cost_allocation_tag_key`` = ``cost_allocation_tag_value`` (the whole account when the key is
    ``None``), before credits unless ``count_credits``. ``imgmgr cost`` warns when its estimate exceeds
    it. Default: ``5.0``."""

    cost_allocation_tag_key: str | None = "Project"
    """Tag key that scopes the cost budget (Budgets' ``TagKeyValue`` filter ``user:<key>$<value>``); it
    must be activated as a cost allocation tag before the budget counts anything (see the class
    docstring). ``None`` budgets the whole account's bill. The ready stack tags every resource
    ``Project=<name_prefix>`` through the provider's ``default_tags``. Default: ``"Project"``."""

    cost_allocation_tag_value: str | None = None
    """Value of ``cost_allocation_tag_key`` on this deployment's resources; ``None`` means ``name_prefix``.
    Default: ``None``."""

    count_credits: bool = False
    """Let credits (the 100-200 USD of the credit-based Free Tier plan, promotional credits) reduce the
    cost the budget measures. Off, the budget measures the cost before credits, so spending credits
    alerts and brakes as spending money would; on, the alerts and the brake wait until the credits no
    longer cover the bill. Default: ``False``."""

    region: str | None = None
    """Region whose usage types the usage budgets count (``regional_usage_types``): a key of
    ``USAGE_TYPE_REGION_CODES``. ``None`` means the region of the stack's AWS provider (the one without an
    alias), read at synthesis; a provider whose region is not a plain string fails then, naming this
    prop. Default: ``None``."""

    alert_emails: tuple[str, ...] = ()
    """Addresses subscribed to the alert topic (each confirms once) and told by Budgets directly; at most
    10. Default: none (alerts reach the SNS topic only)."""

    actual_alert_percent: float = 80.0
    """Alert when the actual cost (or usage) of the month exceeds this share of the budget. Default: 80.0."""

    forecast_alert_percent: float = 100.0
    """Alert when the month's forecast exceeds this share of the budget. Default: 100.0."""

    brake_enabled: bool = True
    """Attach the deny policy automatically when the actual cost reaches ``brake_percent`` of the budget,
    or the actual usage of a usage budget with ``brake`` that share of its limit. Off, no budget
    brakes. Default: ``True``."""

    brake_percent: float = 100.0
    """Share of the budget (and of each braking usage budget's limit), actual, at which the brake is
    applied. Default: 100.0."""

    usage_budgets: tuple[UsageBudget, ...] = DEFAULT_USAGE_BUDGETS
    """Usage budgets against free-tier allowances: by default Lambda arm64 GB-seconds (400,000; alerts
    only) and Rekognition images (1,000; alerts and brakes). They count the usage of the whole account in
    ``region`` (usage types carry no tag). Default: ``DEFAULT_USAGE_BUDGETS``."""

    near_timeout_ratio: float = 0.8
    """Alarm when a function's longest run in a period exceeds this share of its timeout. Default: 0.8."""

    api_5xx_threshold: int = 0
    """Alarm when the API answers more 5xx responses than this in one period. Default: 0."""

    alarm_period_seconds: int = 300
    """Period of every alarm (60 or a multiple of 60; standard resolution). Default: 300."""

    dashboard: bool = True
    """Create the CloudWatch dashboard (3 are free). Default: ``True``."""

    def __post_init__(self) -> None:
        if not isinstance(self.name_prefix, str) or not _NAME_PREFIX.match(self.name_prefix):
            raise PropsError(
                f"name_prefix: {self.name_prefix!r} must be 3-20 lowercase letters, digits and dashes, "
                "starting with a letter"
            )
        if not isinstance(self.pipeline, GuardedPipeline):
            raise PropsError(f"pipeline: expected a GuardedPipeline, got {type(self.pipeline).__name__}")
        self.pipeline.validate()
        if (
            isinstance(self.monthly_budget_usd, bool)
            or not isinstance(self.monthly_budget_usd, int | float)
            or not 0 < self.monthly_budget_usd < 1_000_000
        ):
            raise PropsError(f"monthly_budget_usd: {self.monthly_budget_usd!r} must be a positive amount in USD")
        if isinstance(self.alert_emails, str):
            raise PropsError("alert_emails: expected a tuple of addresses, got one string")
        if len(self.alert_emails) > MAX_ALERT_EMAILS:
            raise PropsError(f"alert_emails: {len(self.alert_emails)} addresses, AWS Budgets takes at most 10")
        for email in self.alert_emails:
            if not isinstance(email, str) or not _EMAIL.match(email):
                raise PropsError(f"alert_emails: {email!r} is not an e-mail address")
        if len(set(self.alert_emails)) != len(self.alert_emails):
            raise PropsError("alert_emails: an address is listed twice")
        for name in ("actual_alert_percent", "forecast_alert_percent", "brake_percent"):
            _percent(name, getattr(self, name))
        self._validate_scope()
        names = [budget.name for budget in self.usage_budgets]
        for budget in self.usage_budgets:
            if not isinstance(budget, UsageBudget):
                raise PropsError(f"usage_budgets: expected UsageBudget items, got {type(budget).__name__}")
            budget.validate("usage_budgets")
        if len(set(names)) != len(names):
            raise PropsError(f"usage_budgets: names {names} must be unique")
        if (
            isinstance(self.near_timeout_ratio, bool)
            or not isinstance(self.near_timeout_ratio, int | float)
            or not 0 < self.near_timeout_ratio <= 1
        ):
            raise PropsError(f"near_timeout_ratio: {self.near_timeout_ratio!r} must be a number above 0, at most 1")
        if isinstance(self.api_5xx_threshold, bool) or not isinstance(self.api_5xx_threshold, int):
            raise PropsError(f"api_5xx_threshold: {self.api_5xx_threshold!r} must be an integer of at least 0")
        if self.api_5xx_threshold < 0:
            raise PropsError(f"api_5xx_threshold: {self.api_5xx_threshold!r} must be an integer of at least 0")
        period = self.alarm_period_seconds
        if isinstance(period, bool) or not isinstance(period, int) or period < 60 or period % 60:
            raise PropsError(f"alarm_period_seconds: {period!r} must be 60 or a multiple of 60")
        if self.region is not None and any(budget.regional for budget in self.usage_budgets):
            usage_type_region_code(self.region)

    @property
    def action_budget_count(self) -> int:
        """Budgets with an action (the brake): the first two of an account are free, each further one
        costs 0.10 USD a day."""
        return action_budget_count(self.brake_enabled, self.usage_budgets)

    @property
    def cost_allocation_tag(self) -> tuple[str, str] | None:
        """Key and value of the tag that scopes the cost budget; ``None`` for the whole account."""
        if self.cost_allocation_tag_key is None:
            return None
        return self.cost_allocation_tag_key, self.cost_allocation_tag_value or self.name_prefix

    def _validate_scope(self) -> None:
        key, value = self.cost_allocation_tag_key, self.cost_allocation_tag_value
        if key is not None:
            if not isinstance(key, str) or not 1 <= len(key) <= 128 or not _TAG_TEXT.match(key):
                raise PropsError(
                    f"cost_allocation_tag_key: {key!r} must be 1-128 letters, digits, spaces or _ . : / = + - @"
                )
            if key.lower().startswith("aws:"):
                raise PropsError(f"cost_allocation_tag_key: {key!r} uses the reserved 'aws:' prefix")
        if value is not None:
            if key is None:
                raise PropsError("cost_allocation_tag_value: set without cost_allocation_tag_key")
            if not isinstance(value, str) or not 1 <= len(value) <= 256 or not _TAG_TEXT.match(value):
                raise PropsError(
                    f"cost_allocation_tag_value: {value!r} must be 1-256 letters, digits, spaces or _ . : / = + - @"
                )
        if not isinstance(self.count_credits, bool):
            raise PropsError(f"count_credits: {self.count_credits!r} must be True or False")


def _percent(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1000:
        raise PropsError(f"{name}: {value!r} must be a percentage above 0, at most 1000")
