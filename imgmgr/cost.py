"""``imgmgr cost``: the prices and free-tier allowances that matter to this system, and an estimate of the
monthly bill for a given volume of images.

Prices are us-east-1 list prices as of ``PRICES_AS_OF``, written down from the AWS pricing pages named in
``source`` (recalled, not fetched: this project cannot browse). Verify them before relying on a number;
the table is the one place to correct them. Two caveats the numbers cannot show:

- AWS accounts created on or after 2025-07-15 get the "Free plan" (credits) instead of the 12-month
  free-tier offers; ``estimate(..., twelve_month_free_tier=False)`` leaves those allowances out. The
  always-free offers (Lambda, DynamoDB, CloudWatch, SQS, SNS, X-Ray) apply to every account.
- Since 2025-08-01 Lambda bills the INIT phase (cold starts) of managed runtimes too; the per-image
  seconds below include an average share of it.

Per-image compute comes from ``make bench`` (``python -m bench.imaging``): the tuned pipeline renders the
standard renditions at 62-72 megapixels per CPU second on one x86 core (2026-11-28, ``--quick``); Lambda's
arm64 core is taken as 1.25x slower, and compress also runs the quality search.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

#: When the prices of ``PRICES`` were last checked against the pricing pages (list prices, us-east-1).
PRICES_AS_OF = "2025-06-01"

#: Region of every price.
REGION = "us-east-1"

#: Hours in a billing month, as AWS counts them for hourly prices.
HOURS_PER_MONTH = 730

GB = 1_000_000_000


@dataclass(frozen=True)
class Price:
    """One unit price and the monthly allowance free of charge."""

    service: str
    item: str
    unit: str
    usd_per_unit: float
    free_per_month: float
    free_kind: str
    """``"always"`` (every account, every month), ``"12 months"`` (new accounts created before 2025-07-15,
    for their first year) or ``"none"``."""
    source: str
    """Name of the AWS page the price comes from."""


def _p(service: str, item: str, unit: str, usd: float, free: float, kind: str, source: str) -> Price:
    return Price(service, item, unit, usd, free, kind, source)


#: The price table, by key. Quantities are in ``unit`` (a price per 1,000 requests is per request here).
PRICES: Mapping[str, Price] = {
    "lambda_gb_seconds": _p(
        "Lambda", "compute, arm64", "GB-second", 0.0000133334, 400_000, "always", "AWS Lambda pricing"
    ),
    "lambda_requests": _p("Lambda", "requests", "request", 0.20 / 1e6, 1_000_000, "always", "AWS Lambda pricing"),
    "s3_storage": _p("S3", "Standard storage", "GB-month", 0.023, 5, "12 months", "Amazon S3 pricing"),
    "s3_put": _p("S3", "PUT, COPY, POST, LIST", "request", 0.005 / 1000, 2_000, "12 months", "Amazon S3 pricing"),
    "s3_get": _p("S3", "GET and other reads", "request", 0.0004 / 1000, 20_000, "12 months", "Amazon S3 pricing"),
    "dynamodb_wcu": _p(
        "DynamoDB",
        "provisioned write capacity",
        "WCU-hour",
        0.00065,
        25 * HOURS_PER_MONTH,
        "always",
        "Amazon DynamoDB pricing for provisioned capacity",
    ),
    "dynamodb_rcu": _p(
        "DynamoDB",
        "provisioned read capacity",
        "RCU-hour",
        0.00013,
        25 * HOURS_PER_MONTH,
        "always",
        "Amazon DynamoDB pricing for provisioned capacity",
    ),
    "dynamodb_storage": _p(
        "DynamoDB", "table storage", "GB-month", 0.25, 25, "always", "Amazon DynamoDB pricing for provisioned capacity"
    ),
    "rekognition_images": _p(
        "Rekognition",
        "DetectLabels (Group 2), first 1M",
        "image",
        0.001,
        1_000,
        "12 months",
        "Amazon Rekognition pricing",
    ),
    "api_requests": _p(
        "API Gateway",
        "REST API calls, first 333M",
        "request",
        3.50 / 1e6,
        1_000_000,
        "12 months",
        "Amazon API Gateway pricing",
    ),
    "cloudwatch_alarms": _p(
        "CloudWatch",
        "alarm metrics, standard resolution",
        "alarm metric-month",
        0.10,
        10,
        "always",
        "Amazon CloudWatch pricing",
    ),
    "cloudwatch_metrics": _p(
        "CloudWatch", "custom metrics, first 10,000", "metric-month", 0.30, 10, "always", "Amazon CloudWatch pricing"
    ),
    "cloudwatch_dashboards": _p(
        "CloudWatch", "dashboards", "dashboard-month", 3.00, 3, "always", "Amazon CloudWatch pricing"
    ),
    "cloudwatch_logs": _p(
        "CloudWatch", "log ingestion (standard)", "GB", 0.50, 5, "always", "Amazon CloudWatch pricing"
    ),
    "sqs_requests": _p(
        "SQS", "standard queue requests", "request", 0.40 / 1e6, 1_000_000, "always", "Amazon SQS pricing"
    ),
    "xray_traces": _p("X-Ray", "traces recorded", "trace", 5.00 / 1e6, 100_000, "always", "AWS X-Ray pricing"),
    "sns_email": _p("SNS", "e-mail notifications", "notification", 2.00 / 1e5, 1_000, "always", "Amazon SNS pricing"),
    "budgets_actions": _p(
        "Budgets",
        "action-enabled budgets (monitoring budgets are free)",
        "budget-day",
        0.10,
        2 * 31,
        "always",
        "AWS Budgets pricing",
    ),
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
    assumptions: Mapping[str, float | int | bool] = field(default_factory=dict)

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
    read_capacity_units: int = 20,
    write_capacity_units: int = 20,
    log_bytes_per_image: int = 4_000,
    alarm_metrics: int = 9,
    custom_metrics: int = 0,
    dashboards: int = 1,
    twelve_month_free_tier: bool = True,
    profiles: Mapping[str, FunctionProfile] = DEFAULT_PROFILES,
) -> Estimate:
    """Monthly bill for ``images_per_month`` uploads of ``avg_megapixels`` each.

    Storage holds ``retained_months`` months of uploads: originals (``original_bytes_per_megapixel``) plus
    renditions (``rendition_ratio`` of the original). Each image costs 5 S3 writes (the upload, the
    compressed image, two thumbnails, the analysis preview), 3 reads by the steps and ``views_per_image``
    reads by users, 3 step invocations and ``api_requests_per_image`` API calls (each a Lambda invocation
    and an X-Ray trace), one DetectLabels and ``log_bytes_per_image`` of logs over all its invocations.
    The table's capacity is the total over the table and its indexes (the default props: 4 x 5). Raises ``ValueError`` naming a negative or empty input.
    """
    for name, value in {
        "images_per_month": images_per_month,
        "avg_megapixels": avg_megapixels,
        "original_bytes_per_megapixel": original_bytes_per_megapixel,
        "rendition_ratio": rendition_ratio,
        "api_requests_per_image": api_requests_per_image,
        "views_per_image": views_per_image,
        "read_capacity_units": read_capacity_units,
        "write_capacity_units": write_capacity_units,
        "log_bytes_per_image": log_bytes_per_image,
        "alarm_metrics": alarm_metrics,
        "custom_metrics": custom_metrics,
        "dashboards": dashboards,
    }.items():
        if value < 0:
            raise ValueError(f"{name}: {value!r} must not be negative")
    if retained_months < 1:
        raise ValueError(f"retained_months: {retained_months!r} must be at least 1")
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
    quantities = {
        "lambda_gb_seconds": gb_seconds,
        "lambda_requests": invocations,
        "s3_storage": stored_gb,
        "s3_put": images * 5,
        "s3_get": images * (3 + views_per_image),
        "dynamodb_wcu": write_capacity_units * HOURS_PER_MONTH,
        "dynamodb_rcu": read_capacity_units * HOURS_PER_MONTH,
        "rekognition_images": images,
        "api_requests": api_calls,
        "cloudwatch_alarms": alarm_metrics,
        "cloudwatch_metrics": custom_metrics,
        "cloudwatch_dashboards": dashboards,
        "cloudwatch_logs": images * log_bytes_per_image / GB,
        "xray_traces": invocations,
    }
    items = tuple(
        LineItem(key, quantity, _free(PRICES[key], twelve_month_free_tier), PRICES[key])
        for key, quantity in quantities.items()
    )
    assumptions = {
        "images_per_month": images_per_month,
        "avg_megapixels": avg_megapixels,
        "retained_months": retained_months,
        "twelve_month_free_tier": twelve_month_free_tier,
    }
    return Estimate(items=items, assumptions=assumptions)


def _free(price: Price, twelve_month_free_tier: bool) -> float:
    if price.free_kind == "always" or (price.free_kind == "12 months" and twelve_month_free_tier):
        return price.free_per_month
    return 0.0


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.4f}" if value < 10 else f"{value:,.1f}"


def price_table() -> Table:
    """The price and free-tier table, with sources and the date."""
    table = Table(title=f"AWS list prices, {REGION}, as of {PRICES_AS_OF} (verify on the pages named)")
    for column in ("service", "item", "USD per unit", "unit", "free a month", "free for", "source"):
        table.add_column(column, justify="right" if column in ("USD per unit", "free a month") else "left")
    for price in PRICES.values():
        table.add_row(
            price.service,
            price.item,
            f"{price.usd_per_unit:.10g}",
            price.unit,
            _number(price.free_per_month),
            price.free_kind,
            price.source,
        )
    return table


def estimate_table(result: Estimate) -> Table:
    """Line items of an estimate and their total beyond the free tier."""
    shown = ", ".join(f"{key} {value}" for key, value in result.assumptions.items())
    table = Table(title=f"Monthly estimate ({shown})", show_footer=True)
    table.add_column("service", footer="total beyond the free tier")
    table.add_column("item")
    table.add_column("used", justify="right")
    table.add_column("free", justify="right")
    table.add_column("billed", justify="right")
    table.add_column("unit")
    table.add_column("USD", justify="right", footer=f"{result.total_usd:,.2f}")
    for item in result.items:
        table.add_row(
            item.price.service,
            item.price.item,
            _number(item.quantity),
            _number(item.free),
            _number(item.billable),
            item.price.unit,
            f"{item.cost_usd:,.2f}",
        )
    return table


def print_estimate(result: Estimate, console: Console | None = None) -> None:
    """Prints the price table, then the estimate (``imgmgr cost``)."""
    console = console or Console()
    console.print(price_table())
    console.print(estimate_table(result))
    console.print(
        "Not included: data transfer out beyond the free 100 GB a month, KMS requests of the bucket key, "
        "point-in-time recovery of the table, QuickSight, Athena scans."
    )


def cost_command(
    images: Annotated[int, typer.Option("--images", min=0, help="Images uploaded a month.")] = 1000,
    megapixels: Annotated[float, typer.Option("--megapixels", min=0.01, help="Average megapixels of an image.")] = 12.0,
    retained_months: Annotated[int, typer.Option(min=1, help="Months of uploads kept in S3.")] = 1,
    twelve_month_free_tier: Annotated[
        bool,
        typer.Option(help="Count the 12-month free-tier offers (accounts created before 2025-07-15, first year)."),
    ] = True,
) -> None:
    """AWS prices and free tier (us-east-1, with sources and date) and the monthly bill for a volume of images."""
    result = estimate(
        images, megapixels, retained_months=retained_months, twelve_month_free_tier=twelve_month_free_tier
    )
    print_estimate(result)
