"""The cost model of ``imgmgr cost``: what one image uses (``FunctionProfile``, ``DEFAULT_PROFILES`` and
the table's measured request units and bytes), the monthly ``Estimate`` of a volume of images (and of the
optional user pool's active users) with its ``LineItem``s (``estimate``), the volume at which each line is
first billed (``billed_from``, ``first_billed``), both kinds of account side by side (``compare``) and the
life of the credits (``credit_months``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import get_args

from constructs_lib.cost_guard_props import DEFAULT_USAGE_BUDGETS, CostGuardProps, action_budget_count
from constructs_lib.props import BillingMode, CognitoFeaturePlan, CognitoProps, ImagePipelineProps
from imgmgr.cost.prices import ACTION_DAYS, HOURS_PER_MONTH, PRICES, Price

GB = 1_000_000_000

#: DynamoDB request units of one image's life on an on-demand table, table and indexes together: the
#: API's duplicate check and create, compress, thumbnail (each reserving its rendition keys first; thumbnail
#: also writes the 8 band terms of the perceptual hash and reads those bands for near-duplicates) and
#: categorize (its 23 label and category terms, its 24 search-word terms and the counters), measured on the
#: real adapter against moto by ``python -m bench capacity`` ("units per image, current": 202 WCU, 8.5 RCU
#: with KEYS_ONLY indexes, 2026-12; 48 WCU of them the word terms of the free-text search, 16 WCU and 4 RCU
#: the near-duplicate bands, 4 WCU of them the content-hash item that keeps the owner's hashes unique, written
#: transactionally at the create and again when the upload is recorded, 8 the two key reservations). Not
#: copied to rot: ``tests/unit/cli/test_cost.py`` records the same life and fails when the measurement moves
#: more than 15 % from these; measure again and correct them when it does.
WRITE_UNITS_PER_IMAGE = 202.0
READ_UNITS_PER_IMAGE = 8.5
#: Read units of one strongly consistent read of a ready record (under 4 KB): a user's view of an image
#: (``GET /v1/images/<id>``) and each image shown in a listing or search page, whose KEYS_ONLY index
#: entries are fetched back from the table by ``BatchGetItem``, each item rounded up on its own (the
#: index query itself adds about half a unit per page of entries, left out). Checked by the same test.
READ_UNITS_PER_RECORD_READ = 1.0

#: Bytes one ready image keeps in the table and its indexes together (each item and index entry with
#: DynamoDB's 100 bytes of overhead; the shared counters left out), measured by ``python -m bench
#: capacity`` ("stored bytes per ready image, current": table 21,094 with the 233 of the content-hash
#: item, gsi1 12,372, gsi2 5,897, gsi3 238 for a photo of 14 labels and 25 search words with the KEYS_ONLY indexes, 2026-12),
#: rounded. Checked within 15 % by the same
#: test as ``WRITE_UNITS_PER_IMAGE``.
TABLE_BYTES_PER_IMAGE = 40_000

#: The table and its three global secondary indexes (``lambdas.adapters.aws.dynamodb.GSI_NAMES``, not
#: imported: it would load boto3 at every command's start; a test compares), each provisioned with
#: ``ImagePipelineProps``' ``read_capacity`` and ``write_capacity``.
TABLE_PARTS = 4

#: Budgets with an action (the brake) of ``CostGuard``'s defaults: the cost budget, and the usage
#: budgets that brake (``rekognition-images``). AWS Budgets bills none of the first two of an account.
DEFAULT_ACTION_BUDGETS = action_budget_count(CostGuardProps.brake_enabled, DEFAULT_USAGE_BUDGETS)

#: The ``PRICES`` key of the monthly active users of each feature plan of the user pool
#: (``CognitoProps.feature_plan``).
USER_POOL_PRICE_KEYS: Mapping[CognitoFeaturePlan, str] = {
    "LITE": "cognito_lite_mau",
    "ESSENTIALS": "cognito_essentials_mau",
}


@dataclass(frozen=True, kw_only=True)
class FunctionProfile:
    """Memory and billed seconds of one function run: ``fixed_seconds + seconds_per_megapixel * MP``."""

    memory_mb: int
    fixed_seconds: float
    seconds_per_megapixel: float = 0.0

    def gb_seconds(self, megapixels: float) -> float:
        """GB-seconds of one run on an image of ``megapixels`` (Lambda counts GB as 1024 MB)."""
        return self.memory_mb / 1024 * (self.fixed_seconds + self.seconds_per_megapixel * megapixels)


#: Default run profile of each function (memory as ``ImagePipelineProps``' defaults). compress: one vCPU
#: (1769 MB) decoding, orienting and searching the quality of the full image: 0.025 s/MP (bench: ~0.015
#: CPU s/MP for all renditions on x86, x1.25 for arm64, plus the quality search) and 0.4 s of S3, table
#: and cold-start share; thumbnail: 0.58 vCPU, DCT-scaled decode; categorize: waits ~0.5 s on
#: Rekognition; api: 0.1 s per request.
DEFAULT_PROFILES: Mapping[str, FunctionProfile] = {
    "compress": FunctionProfile(memory_mb=1769, fixed_seconds=0.4, seconds_per_megapixel=0.025),
    "thumbnail": FunctionProfile(memory_mb=1024, fixed_seconds=0.3, seconds_per_megapixel=0.012),
    "categorize": FunctionProfile(memory_mb=512, fixed_seconds=0.6),
    "api": FunctionProfile(memory_mb=512, fixed_seconds=0.1),
}


@dataclass(frozen=True)
class LineItem:
    """One line of the estimate: usage of one priced item and what is billed beyond its free allowance."""

    key: str
    quantity: float
    free: float
    price: Price

    @property
    def billable(self) -> float:
        """Quantity beyond the free allowance."""
        return max(0.0, self.quantity - self.free)

    @property
    def cost_usd(self) -> float:
        """Billed amount in US dollars."""
        return self.billable * self.price.usd_per_unit


@dataclass(frozen=True)
class Estimate:
    """Line items of a monthly estimate; ``total_usd`` is what is billed beyond the free tier."""

    items: tuple[LineItem, ...]
    assumptions: Mapping[str, float | int | bool | str] = field(default_factory=dict)

    @property
    def total_usd(self) -> float:
        return sum(item.cost_usd for item in self.items)

    def item(self, key: str) -> LineItem:
        """The line item of one price key."""
        return next(item for item in self.items if item.key == key)


def estimate(
    images_per_month: int,
    avg_megapixels: float,
    *,
    original_bytes_per_megapixel: float = 300_000,
    rendition_ratio: float = 0.35,
    retained_months: int = 1,
    api_requests_per_image: int = 4,
    views_per_image: int = 2,
    listings_per_image: int = 10,
    billing_mode: BillingMode = ImagePipelineProps.billing_mode,
    read_capacity_units: int = ImagePipelineProps.read_capacity * TABLE_PARTS,
    write_capacity_units: int = ImagePipelineProps.write_capacity * TABLE_PARTS,
    table_bytes_per_image: int = TABLE_BYTES_PER_IMAGE,
    point_in_time_recovery: bool = ImagePipelineProps.point_in_time_recovery,
    log_bytes_per_image: int = 4_000,
    alarm_metrics: int = 9,
    custom_metrics: int = 0,
    dashboards: int = 1,
    action_budgets: int = DEFAULT_ACTION_BUDGETS,
    twelve_month_free_tier: bool = True,
    profiles: Mapping[str, FunctionProfile] = DEFAULT_PROFILES,
    monthly_active_users: int | None = None,
    user_pool_plan: CognitoFeaturePlan = CognitoProps.feature_plan,
) -> Estimate:
    """Monthly bill for ``images_per_month`` uploads of ``avg_megapixels`` each.

    Storage holds ``retained_months`` months of uploads: originals (``original_bytes_per_megapixel``) plus
    renditions (``rendition_ratio`` of the original) in S3, and ``table_bytes_per_image`` of metadata
    (the items and their index entries, ``TABLE_BYTES_PER_IMAGE`` by default) in the table, also backed
    up by point-in-time recovery when ``point_in_time_recovery`` (the ``ImagePipelineProps`` default).
    Each image costs 5 S3 writes (the upload, the compressed image, two thumbnails, the analysis
    preview), 3 reads by the steps and ``views_per_image`` reads by users, 3 step invocations and
    ``api_requests_per_image`` API calls (each a Lambda invocation and an X-Ray trace), one DetectLabels
    and ``log_bytes_per_image`` of logs over all its invocations. The table is billed by ``billing_mode`` (``ImagePipelineProps``' default): on
    demand, each image's life takes ``WRITE_UNITS_PER_IMAGE`` and ``READ_UNITS_PER_IMAGE`` request units,
    and each of its ``views_per_image`` views and ``listings_per_image`` appearances in a listing or
    search page ``READ_UNITS_PER_RECORD_READ``; provisioned, ``read_capacity_units`` and
    ``write_capacity_units`` (the total over the table and its indexes, by default the props' 5 on each of
    ``TABLE_PARTS``; ignored on demand) are billed every hour. ``action_budgets`` budgets have an action
    (``CostGuard``'s defaults: ``DEFAULT_ACTION_BUDGETS``). ``twelve_month_free_tier`` counts the legacy
    12-month offers. ``monthly_active_users`` (None, the default: no user pool, and no line for it) are
    the users of the optional user pool (``ImagePipelineProps.cognito``) who sign in, refresh a token or are
    changed in the month, billed beyond the always-free 10,000 at the MAU price of ``user_pool_plan``
    (``CognitoProps``' default, ``"LITE"``; ``USER_POOL_PRICE_KEYS``); they do not grow with the images.
    Raises ``ValueError`` naming a negative or empty input, an unknown billing mode or an unknown plan.
    """
    for name, value in {
        "images_per_month": images_per_month,
        "avg_megapixels": avg_megapixels,
        "original_bytes_per_megapixel": original_bytes_per_megapixel,
        "rendition_ratio": rendition_ratio,
        "api_requests_per_image": api_requests_per_image,
        "views_per_image": views_per_image,
        "listings_per_image": listings_per_image,
        "read_capacity_units": read_capacity_units,
        "write_capacity_units": write_capacity_units,
        "table_bytes_per_image": table_bytes_per_image,
        "log_bytes_per_image": log_bytes_per_image,
        "alarm_metrics": alarm_metrics,
        "custom_metrics": custom_metrics,
        "dashboards": dashboards,
        "action_budgets": action_budgets,
        "monthly_active_users": monthly_active_users or 0,
    }.items():
        if value < 0:
            raise ValueError(f"{name}: {value!r} must not be negative")
    billing_modes = sorted(get_args(BillingMode))
    if billing_mode not in billing_modes:
        raise ValueError(f"billing_mode: {billing_mode!r} must be {' or '.join(map(repr, billing_modes))}")
    if retained_months < 1:
        raise ValueError(f"retained_months: {retained_months!r} must be at least 1")
    if user_pool_plan not in USER_POOL_PRICE_KEYS:
        plans = " or ".join(map(repr, USER_POOL_PRICE_KEYS))
        raise ValueError(f"user_pool_plan: {user_pool_plan!r} must be {plans}")
    missing = sorted({"compress", "thumbnail", "categorize", "api"} - set(profiles))
    if missing:
        raise ValueError(f"profiles: no profile for {', '.join(missing)}")

    images = images_per_month
    api_calls = images * api_requests_per_image
    gb_seconds = images * sum(profiles[step].gb_seconds(avg_megapixels) for step in ("compress", "thumbnail"))
    gb_seconds += images * profiles["categorize"].gb_seconds(avg_megapixels)
    gb_seconds += api_calls * profiles["api"].gb_seconds(avg_megapixels)
    invocations = images * 3 + api_calls
    original_bytes = avg_megapixels * original_bytes_per_megapixel
    stored_gb = images * retained_months * original_bytes * (1 + rendition_ratio) / GB
    table_gb = images * retained_months * table_bytes_per_image / GB
    record_reads = images * (views_per_image + listings_per_image) * READ_UNITS_PER_RECORD_READ
    table_capacity = (
        {
            "dynamodb_write_requests": images * WRITE_UNITS_PER_IMAGE,
            "dynamodb_read_requests": images * READ_UNITS_PER_IMAGE + record_reads,
        }
        if billing_mode == "PAY_PER_REQUEST"
        else {
            "dynamodb_wcu": write_capacity_units * HOURS_PER_MONTH,
            "dynamodb_rcu": read_capacity_units * HOURS_PER_MONTH,
        }
    )
    user_pool = {} if monthly_active_users is None else {USER_POOL_PRICE_KEYS[user_pool_plan]: monthly_active_users}
    quantities = {
        "lambda_gb_seconds": gb_seconds,
        "lambda_requests": invocations,
        "s3_storage": stored_gb,
        "s3_put": images * 5,
        "s3_get": images * (3 + views_per_image),
        **table_capacity,
        "dynamodb_storage": table_gb,
        **({"dynamodb_pitr": table_gb} if point_in_time_recovery else {}),
        "rekognition_images": images,
        "api_requests": api_calls,
        "cloudwatch_alarms": alarm_metrics,
        "cloudwatch_metrics": custom_metrics,
        "cloudwatch_dashboards": dashboards,
        "cloudwatch_logs": images * log_bytes_per_image / GB,
        "xray_traces": invocations,
        **user_pool,
        "budgets_actions": action_budgets * ACTION_DAYS,
    }
    items = tuple(
        LineItem(key, quantity, _free(PRICES[key], twelve_month_free_tier), PRICES[key])
        for key, quantity in quantities.items()
    )
    assumptions = {
        "images_per_month": images_per_month,
        "avg_megapixels": avg_megapixels,
        "retained_months": retained_months,
        "point_in_time_recovery": point_in_time_recovery,
        "on_demand": billing_mode == "PAY_PER_REQUEST",
        "read_capacity_units": read_capacity_units,
        "write_capacity_units": write_capacity_units,
        "listings_per_image": listings_per_image,
        "views_per_image": views_per_image,
        "twelve_month_free_tier": twelve_month_free_tier,
        **(
            {}
            if monthly_active_users is None
            else {"monthly_active_users": monthly_active_users, "user_pool_plan": user_pool_plan}
        ),
    }
    return Estimate(items=items, assumptions=assumptions)


def _free(price: Price, twelve_month_free_tier: bool) -> float:
    if price.free_kind == "always" or (price.free_kind == "12 months" and twelve_month_free_tier):
        return price.free_per_month
    return 0.0


def on_demand_usd_per_image(write_units: float, read_units: float) -> float:
    """What an on-demand table bills for one image's life of ``write_units`` and ``read_units`` request
    units (table and indexes together) at ``PRICES``' list prices, in no free tier."""
    return (
        write_units * PRICES["dynamodb_write_requests"].usd_per_unit
        + read_units * PRICES["dynamodb_read_requests"].usd_per_unit
    )


#: Volume at which the per-image growth of each line is measured (every line is linear in the images).
_PROBE_IMAGES = 1_000_000


def billed_from(estimate_of: Callable[[int], Estimate]) -> dict[str, float | None]:
    """For each line of ``estimate_of(images_per_month)``, the number of images a month beyond which it is
    billed: ``0.0`` when it is billed even without images (or from the first one), ``None`` when no
    volume of images makes it billed (a fixed quantity within its allowance, such as the user pool's
    active users, which do not grow with the images)."""
    idle, busy = estimate_of(0), estimate_of(_PROBE_IMAGES)
    thresholds: dict[str, float | None] = {}
    for item in idle.items:
        per_image = (busy.item(item.key).quantity - item.quantity) / _PROBE_IMAGES
        if item.quantity > item.free:
            thresholds[item.key] = 0.0
        elif per_image <= 0:
            thresholds[item.key] = None
        else:
            thresholds[item.key] = (item.free - item.quantity) / per_image
    return thresholds


def first_billed(thresholds: Mapping[str, float | None]) -> tuple[str, float] | None:
    """Of ``billed_from``'s thresholds, the first free allowance used up as the images grow: the line
    with an allowance (of this estimate) billed at the lowest volume, and that volume; ``None`` when no
    allowance ever is. Ties go to the line listed first in ``PRICES``."""
    candidates = [
        (images, key)
        for key, images in thresholds.items()
        if images is not None and images > 0 and PRICES[key].free_kind != "none"
    ]
    if not candidates:
        return None
    images, key = min(candidates, key=lambda pair: pair[0])
    return key, images


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One volume of images estimated on both kinds of account, with the line each pays for first."""

    legacy: Estimate
    """With the legacy 12-month offers: an account created before 2025-07-15, in its first year."""
    always_free: Estimate
    """With the always-free offers only: a credit-plan account before credits, or a legacy account after
    its first year."""
    legacy_billed_from: Mapping[str, float | None]
    """``billed_from`` of the legacy estimate."""
    always_free_billed_from: Mapping[str, float | None]
    """``billed_from`` of the always-free estimate."""


def compare(
    images_per_month: int,
    avg_megapixels: float,
    *,
    retained_months: int = 1,
    point_in_time_recovery: bool = ImagePipelineProps.point_in_time_recovery,
    billing_mode: BillingMode = ImagePipelineProps.billing_mode,
    profiles: Mapping[str, FunctionProfile] = DEFAULT_PROFILES,
    monthly_active_users: int | None = None,
    user_pool_plan: CognitoFeaturePlan = CognitoProps.feature_plan,
) -> Comparison:
    """``estimate`` of one volume (and user pool: ``monthly_active_users``, None for none) with and
    without the 12-month offers, and the first line billed of each."""

    def of(twelve_month_free_tier: bool) -> Callable[[int], Estimate]:
        return partial(
            estimate,
            avg_megapixels=avg_megapixels,
            retained_months=retained_months,
            point_in_time_recovery=point_in_time_recovery,
            billing_mode=billing_mode,
            twelve_month_free_tier=twelve_month_free_tier,
            profiles=profiles,
            monthly_active_users=monthly_active_users,
            user_pool_plan=user_pool_plan,
        )

    legacy, always_free = of(True), of(False)
    return Comparison(
        legacy=legacy(images_per_month),
        always_free=always_free(images_per_month),
        legacy_billed_from=billed_from(legacy),
        always_free_billed_from=billed_from(always_free),
    )


def credit_months(monthly_usd: float, credits_usd: float) -> float:
    """Months ``credits_usd`` pay a bill of ``monthly_usd`` (``math.inf`` for a bill of nothing)."""
    return math.inf if monthly_usd <= 0 else credits_usd / monthly_usd
