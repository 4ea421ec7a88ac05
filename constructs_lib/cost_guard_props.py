"""Props of ``CostGuard``: the budget, its alerts and brake, the alarms; validated at construction.

Nothing here imports the AWS provider bindings (slow to import): the pipeline's resources are typed
for the type checker only, and ``GuardedPipeline.of`` imports ``ImagePipeline``'s constants when called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.props import PropsError

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.iam_role import IamRole
    from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
    from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

    from constructs_lib.image_pipeline import ImagePipeline

__all__ = [
    "DEFAULT_USAGE_BUDGETS",
    "LAMBDA_GB_SECONDS_BUDGET",
    "REKOGNITION_IMAGES_BUDGET",
    "CostGuardProps",
    "GuardedPipeline",
    "PropsError",
    "UsageBudget",
]

_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
_SHORT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)

#: AWS Budgets notifies at most 10 e-mail addresses per notification (and 11 subscribers per action).
MAX_ALERT_EMAILS = 10


@dataclass(frozen=True, kw_only=True)
class UsageBudget:
    """A monthly USAGE budget on some usage types (Cost Explorer's ``UsageType`` dimension), alerting
    on the topic at ``CostGuardProps.actual_alert_percent`` actual and ``forecast_alert_percent`` forecast."""

    name: str
    """Short name (``lambda-gb-seconds``): the budget is ``<name_prefix>-<name>``. Default: none (required)."""

    usage_types: tuple[str, ...]
    """Usage types counted (OR), as Cost Explorer names them: us-east-1 usually has no region prefix,
    other regions have one (``USE2-Lambda-GB-Second-ARM``). Default: none (required)."""

    unit: str
    """Unit of the limit, as the usage types report it (``Lambda-GB-Second``). Default: none (required)."""

    limit: float
    """Monthly amount, usually the free-tier allowance. Default: none (required)."""

    def validate(self, field_name: str) -> None:
        """Raises ``PropsError`` naming ``field_name`` and this budget when a value is bad."""
        if not isinstance(self.name, str) or not _SHORT_NAME.match(self.name):
            raise PropsError(f"{field_name}: name {self.name!r} must be 2-32 lowercase letters, digits and dashes")
        if not self.usage_types or not all(isinstance(t, str) and t.strip() for t in self.usage_types):
            raise PropsError(f"{field_name}: {self.name} must name at least one usage type")
        if not isinstance(self.unit, str) or not self.unit.strip():
            raise PropsError(f"{field_name}: {self.name} must name the unit of its limit")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int | float) or not self.limit > 0:
            raise PropsError(f"{field_name}: {self.name} limit {self.limit!r} must be a positive number")


#: Lambda compute on arm64 against the always-free 400,000 GB-seconds a month (shared with x86 functions).
LAMBDA_GB_SECONDS_BUDGET = UsageBudget(
    name="lambda-gb-seconds",
    usage_types=("Lambda-GB-Second-ARM",),
    unit="Lambda-GB-Second",
    limit=400_000,
)

#: Rekognition Image analysis (DetectLabels is a "Group 2" API) against the 12-month free tier of 1,000
#: images a month (it was 5,000 before; ``imgmgr.cost`` keeps the table). The usage type names are the
#: least certain value here: check them in Cost Explorer (group by Usage type) after the first images.
REKOGNITION_IMAGES_BUDGET = UsageBudget(
    name="rekognition-images",
    usage_types=("USE1-ImagesProcessed", "USE1-Group2-ImagesProcessed"),
    unit="Images",
    limit=1_000,
)

DEFAULT_USAGE_BUDGETS = (LAMBDA_GB_SECONDS_BUDGET, REKOGNITION_IMAGES_BUDGET)


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
    other functions of the stack (``GuardedPipeline.of(pipeline, extra_roles=...)``). Default: none
    (required)."""

    dead_letter_queue: SqsQueue
    """Queue whose depth above zero raises an alarm. Default: none (required)."""

    rest_api_name: str
    """Name of the REST API (the ``ApiName`` dimension of API Gateway's metrics). Default: none (required)."""

    api_stage_name: str
    """Stage of the REST API (the ``Stage`` dimension). Default: none (required)."""

    bucket_arn: str
    """Bucket whose new objects the brake denies (under ``paid_write_prefixes``). Default: none (required)."""

    paid_write_prefixes: tuple[str, ...] = ("uploads/", "renditions/")
    """Key prefixes where the brake denies ``s3:PutObject``: no new upload can be signed and no rendition
    written, so storage stops growing; reads and deletes stay allowed.
    Default: ``("uploads/", "renditions/")``."""

    replay_role: str | None = "redrive"
    """Key of ``roles`` whose invocations of ``replay_targets`` the brake denies (replays would only fail
    again while braked); ``None`` denies no invocation. Default: ``"redrive"``."""

    replay_targets: tuple[str, ...] = ("compress", "thumbnail", "categorize")
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
        from constructs_lib.image_pipeline import RENDITIONS_PREFIX, STEP_FUNCTIONS, UPLOADS_PREFIX

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
            paid_write_prefixes=(UPLOADS_PREFIX, RENDITIONS_PREFIX),
            replay_role="redrive",
            replay_targets=STEP_FUNCTIONS,
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
    """Options of ``CostGuard``. The defaults cost nothing: one action-enabled budget (two are free),
    usage budgets (free), 9 alarm metrics (10 free), one dashboard (3 free), no custom metric."""

    pipeline: GuardedPipeline
    """What to watch and brake: ``GuardedPipeline.of(image_pipeline)``. Default: none (required)."""

    name_prefix: str = "imgmgr"
    """Prefix of every resource name: 3-20 lowercase letters, digits and dashes. Default: ``"imgmgr"``."""

    monthly_budget_usd: float = 5.0
    """Monthly cost budget of the whole account in US dollars (Budgets sees the bill, not one stack).
    Default: ``5.0``."""

    alert_emails: tuple[str, ...] = ()
    """Addresses subscribed to the alert topic (each confirms once) and told by Budgets directly; at most
    10. Default: none (alerts reach the SNS topic only)."""

    actual_alert_percent: float = 80.0
    """Alert when the actual cost (or usage) of the month exceeds this share of the budget. Default: 80.0."""

    forecast_alert_percent: float = 100.0
    """Alert when the month's forecast exceeds this share of the budget. Default: 100.0."""

    brake_enabled: bool = True
    """Attach the deny policy automatically when the actual cost reaches ``brake_percent``. Default: ``True``."""

    brake_percent: float = 100.0
    """Share of the budget, actual, at which the brake is applied. Default: 100.0."""

    usage_budgets: tuple[UsageBudget, ...] = DEFAULT_USAGE_BUDGETS
    """Usage budgets against free-tier allowances (no action; free). Default: Lambda arm64 GB-seconds
    (400,000) and Rekognition images (1,000), us-east-1 usage type names."""

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


def _percent(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1000:
        raise PropsError(f"{name}: {value!r} must be a percentage above 0, at most 1000")
