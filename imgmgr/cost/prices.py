"""The prices and free-tier allowances ``imgmgr cost`` counts: ``PRICES``, one ``Price`` a line
(us-east-1 list prices as of ``PRICES_AS_OF``, or of their own ``checked`` date, each naming the AWS
pricing page it comes from), the credits of the credit-based plan, and what the estimate leaves out
(``NOT_INCLUDED``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs_lib.cost_guard_props import REKOGNITION_USD_PER_IMAGE

#: When the prices of ``PRICES`` were last checked against the pricing pages (list prices, us-east-1): the
#: date of the table as a whole. A price checked later on its own names its date in ``Price.checked``
#: rather than moving this one, which would claim the others were checked again too.
PRICES_AS_OF = "2025-06-01"

#: Region of every price.
REGION = "us-east-1"

#: Hours in a billing month, as AWS counts them for hourly prices.
HOURS_PER_MONTH = 730

#: Credits of the credit-based plan (accounts created on or after 2025-07-15; AWS Free Tier page).
SIGN_UP_CREDITS_USD = 100.0
ACTIVITY_CREDITS_USD = 100.0
#: Longest life of a free-plan account, and of the credits on either plan, in months after sign-up.
FREE_PLAN_MONTHS = 6
CREDITS_EXPIRE_MONTHS = 12

#: Days of a month as Budgets counts its actions (the free allowance is two budgets every day).
ACTION_DAYS = 31


@dataclass(frozen=True)
class Price:
    """One unit price and the monthly allowance free of charge."""

    service: str
    item: str
    unit: str
    usd_per_unit: float
    free_per_month: float
    free_kind: str
    """``"always"`` (every account, every month), ``"12 months"`` (accounts created before 2025-07-15,
    for their first year) or ``"none"``."""
    source: str
    """Name of the AWS page the price comes from."""
    label: str
    """Short name of the line in the estimate (``"S3 GET requests"``)."""
    quoted_per: int = 1
    """How many units the price is quoted for in the table (``1_000_000``: per million requests)."""
    checked: str | None = None
    """When this price was checked against ``source``, if later than ``PRICES_AS_OF`` (``YYYY-MM-DD``;
    None: as of ``PRICES_AS_OF``)."""


def _p(
    service: str,
    item: str,
    unit: str,
    usd: float,
    free: float,
    kind: str,
    source: str,
    label: str,
    per: int = 1,
    checked: str | None = None,
) -> Price:
    return Price(service, item, unit, usd, free, kind, source, label, per, checked)


_DYNAMODB = "Amazon DynamoDB pricing for provisioned capacity"
_COGNITO = "Amazon Cognito pricing"
#: When the Cognito prices were checked: the pricing page (aws.amazon.com/cognito/pricing) as transcribed
#: on that day (its worked billing examples: Lite 0.0055 USD a MAU from 10,001 to 100,000 and 0.0046 to
#: 1M, Essentials 0.015, Plus 0.020 without free tier; 10,000 MAU free a month per account on Lite and
#: Essentials).
_COGNITO_CHECKED = "2026-09-20"
_DYNAMODB_ON_DEMAND = "Amazon DynamoDB pricing for on-demand capacity"

#: The price table, by key. Quantities are in ``unit`` (a price per 1,000 requests is per request here).
#: DetectLabels is a Group 2 API of Rekognition Image; API Gateway's price is the REST API's; alarms are
#: standard resolution; SQS requests are those of standard queues; monitoring budgets (no action) are free.
PRICES: Mapping[str, Price] = {
    "lambda_gb_seconds": _p(
        "Lambda", "compute, arm64", "GB-second", 0.0000133334, 400_000, "always", "AWS Lambda pricing", "Lambda GB-s"
    ),
    "lambda_requests": _p(
        "Lambda",
        "requests",
        "request",
        0.20 / 1e6,
        1_000_000,
        "always",
        "AWS Lambda pricing",
        "Lambda requests",
        1_000_000,
    ),
    "s3_storage": _p(
        "S3", "Standard storage", "GB-month", 0.023, 5, "12 months", "Amazon S3 pricing", "S3 storage (GB-month)"
    ),
    "s3_put": _p(
        "S3",
        "PUT, COPY, POST, LIST",
        "request",
        0.005 / 1000,
        2_000,
        "12 months",
        "Amazon S3 pricing",
        "S3 PUT requests",
        1000,
    ),
    "s3_get": _p(
        "S3",
        "GET and other reads",
        "request",
        0.0004 / 1000,
        20_000,
        "12 months",
        "Amazon S3 pricing",
        "S3 GET requests",
        1000,
    ),
    "dynamodb_wcu": _p(
        "DynamoDB",
        "provisioned writes",
        "WCU-hour",
        0.00065,
        25 * HOURS_PER_MONTH,
        "always",
        _DYNAMODB,
        "DynamoDB WCU-hours",
    ),
    "dynamodb_rcu": _p(
        "DynamoDB",
        "provisioned reads",
        "RCU-hour",
        0.00013,
        25 * HOURS_PER_MONTH,
        "always",
        _DYNAMODB,
        "DynamoDB RCU-hours",
    ),
    # On demand since the 2024-11-01 price cut (1.25 and 0.25 USD per million before); in no free tier.
    "dynamodb_write_requests": _p(
        "DynamoDB",
        "on-demand writes",
        "write unit",
        0.625 / 1e6,
        0,
        "none",
        _DYNAMODB_ON_DEMAND,
        "DynamoDB write units",
        1_000_000,
    ),
    "dynamodb_read_requests": _p(
        "DynamoDB",
        "on-demand reads",
        "read unit",
        0.125 / 1e6,
        0,
        "none",
        _DYNAMODB_ON_DEMAND,
        "DynamoDB read units",
        1_000_000,
    ),
    "dynamodb_storage": _p(
        "DynamoDB", "table storage", "GB-month", 0.25, 25, "always", _DYNAMODB, "DynamoDB storage (GB-mo)"
    ),
    # Continuous backups are billed on the table's size and are in no free tier, legacy or credit-based.
    "dynamodb_pitr": _p(
        "DynamoDB",
        "point-in-time recovery",
        "GB-month",
        0.20,
        0,
        "none",
        _DYNAMODB,
        "DynamoDB PITR (GB-month)",
    ),
    "rekognition_images": _p(
        "Rekognition",
        "DetectLabels, first 1M",
        "image",
        REKOGNITION_USD_PER_IMAGE,
        1_000,
        "12 months",
        "Amazon Rekognition pricing",
        "Rekognition images",
    ),
    "api_requests": _p(
        "API Gateway",
        "REST calls, first 333M",
        "request",
        3.50 / 1e6,
        1_000_000,
        "12 months",
        "Amazon API Gateway pricing",
        "API Gateway calls",
        1_000_000,
    ),
    "cloudwatch_alarms": _p(
        "CloudWatch",
        "alarm metrics",
        "alarm metric-month",
        0.10,
        10,
        "always",
        "Amazon CloudWatch pricing",
        "CloudWatch alarm metrics",
    ),
    "cloudwatch_metrics": _p(
        "CloudWatch",
        "custom metrics",
        "metric-month",
        0.30,
        10,
        "always",
        "Amazon CloudWatch pricing",
        "CloudWatch custom metrics",
    ),
    "cloudwatch_dashboards": _p(
        "CloudWatch",
        "dashboards",
        "dashboard-month",
        3.00,
        3,
        "always",
        "Amazon CloudWatch pricing",
        "CloudWatch dashboards",
    ),
    "cloudwatch_logs": _p(
        "CloudWatch",
        "log ingestion",
        "GB",
        0.50,
        5,
        "always",
        "Amazon CloudWatch pricing",
        "Log ingestion (GB)",
    ),
    "sqs_requests": _p(
        "SQS",
        "requests",
        "request",
        0.40 / 1e6,
        1_000_000,
        "always",
        "Amazon SQS pricing",
        "SQS requests",
        1_000_000,
    ),
    "xray_traces": _p(
        "X-Ray",
        "traces",
        "trace",
        5.00 / 1e6,
        100_000,
        "always",
        "AWS X-Ray pricing",
        "X-Ray traces",
        1_000_000,
    ),
    "sns_email": _p(
        "SNS",
        "e-mails",
        "e-mail",
        2.00 / 1e5,
        1_000,
        "always",
        "Amazon SNS pricing",
        "SNS e-mails",
        100_000,
    ),
    # User pool MAUs (ImagePipelineProps.cognito), by feature plan: users who sign in directly (or through a
    # social provider), free up to 10,000 a month per account or organization on Lite and Essentials, an
    # offer that does not expire (not a 12-month one). Lite's rate is that of its first paid tier, to
    # 100,000 MAUs (cheaper beyond: NOT_INCLUDED); Essentials has one rate.
    "cognito_lite_mau": _p(
        "Cognito",
        "Lite MAUs, to 100,000",
        "MAU",
        0.0055,
        10_000,
        "always",
        _COGNITO,
        "Cognito Lite MAUs",
        checked=_COGNITO_CHECKED,
    ),
    "cognito_essentials_mau": _p(
        "Cognito",
        "Essentials MAUs",
        "MAU",
        0.015,
        10_000,
        "always",
        _COGNITO,
        "Cognito Essentials MAUs",
        checked=_COGNITO_CHECKED,
    ),
    "budgets_actions": _p(
        "Budgets",
        "action-enabled budgets",
        "budget-day",
        0.10,
        2 * ACTION_DAYS,
        "always",
        "AWS Budgets pricing",
        "Budgets action-days",
    ),
}

#: Lines billed to no taggable resource: a cost budget filtered on the deployment's tag (``CostGuard``'s
#: default) never counts them.
UNTAGGED = ("rekognition_images", "xray_traces")

#: Prices the estimate leaves out, for the note under it (us-east-1 list prices, same pages).
NOT_INCLUDED = (
    "data transfer out beyond the free 100 GB a month",
    "KMS requests of the bucket key",
    "customer-managed KMS keys (1 USD a month each; none by default)",
    "Athena scans (5 USD per TB, cut off by the workgroup)",
    "the optional Glue crawler and job (0.44 USD per DPU-hour)",
    "QuickSight (off by default)",
    "Rekognition's cheaper tiers beyond 1M images a month",
    "Cognito Lite's cheaper tiers beyond 100,000 MAUs (0.0046 USD a MAU to 1M)",
)
