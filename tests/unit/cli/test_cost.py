"""imgmgr.cost: the price table and the monthly estimate, checked against hand-computed bills."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rich.console import Console
from typer.testing import CliRunner

from constructs_lib.props import CognitoProps, ImagePipelineProps
from imgmgr.cli import app
from imgmgr.cost.formatting import plain_decimal, quantity_text
from imgmgr.cost.model import (
    DEFAULT_ACTION_BUDGETS,
    READ_UNITS_PER_IMAGE,
    READ_UNITS_PER_RECORD_READ,
    TABLE_BYTES_PER_IMAGE,
    TABLE_PARTS,
    USER_POOL_PRICE_KEYS,
    WRITE_UNITS_PER_IMAGE,
    FunctionProfile,
    billed_from,
    compare,
    credit_months,
    estimate,
    first_billed,
    on_demand_usd_per_image,
)
from imgmgr.cost.prices import HOURS_PER_MONTH, PRICES, PRICES_AS_OF
from imgmgr.cost.report import MAX_WIDTH, Account, Budget, print_estimate
from lambdas.contract import GSI_NAMES

if TYPE_CHECKING:
    from bench.capacity import Recorded

#: Round numbers for hand arithmetic: at 10 MP, compress 1 GB x 2 s, thumbnail 1 GB x 0.5 s,
#: categorize 0.5 GB x 1 s, one API call 1 GB x 0.25 s.
SIMPLE_PROFILES = {
    "compress": FunctionProfile(memory_mb=1024, fixed_seconds=1.0, seconds_per_megapixel=0.1),
    "thumbnail": FunctionProfile(memory_mb=1024, fixed_seconds=0.5),
    "categorize": FunctionProfile(memory_mb=512, fixed_seconds=1.0),
    "api": FunctionProfile(memory_mb=1024, fixed_seconds=0.25),
}


def test_every_price_names_its_source_page_and_free_tier_kind() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICES_AS_OF)
    for key, price in PRICES.items():
        assert "pricing" in price.source, key
        assert price.free_kind in {"always", "12 months", "none"}, key
        assert price.usd_per_unit > 0, key
        # AND a price checked on its own was checked after the table's date, which it does not move
        if price.checked is not None:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.checked), key
            assert price.checked > PRICES_AS_OF, key


def test_a_small_month_stays_inside_the_free_tier_on_a_provisioned_table_without_backups() -> None:
    # GIVEN 100 images of 12 MP a month on an account with the 12-month offers, the table provisioned
    # within the always-free capacity and not backed up
    # WHEN the month is estimated
    result = estimate(100, 12, point_in_time_recovery=False, billing_mode="PROVISIONED")
    # THEN nothing is billed
    assert result.total_usd == 0


def test_on_demand_a_small_month_pays_only_the_table_requests() -> None:
    # GIVEN the same month on an on-demand table
    result = estimate(100, 12, point_in_time_recovery=False, billing_mode="PAY_PER_REQUEST")
    # THEN only the request units are billed, from the first image: no free tier covers them
    billed = {item.key for item in result.items if item.cost_usd > 0}
    assert billed == {"dynamodb_write_requests", "dynamodb_read_requests"}
    assert {PRICES[key].free_kind for key in billed} == {"none"}


def test_on_demand_requests_are_billed_per_image_life_view_and_listing() -> None:
    # GIVEN 20,000 images, each viewed twice and shown in 10 listing pages, on an on-demand table
    result = estimate(20_000, 12, views_per_image=2, listings_per_image=10, billing_mode="PAY_PER_REQUEST")
    writes, reads = result.item("dynamodb_write_requests"), result.item("dynamodb_read_requests")
    # THEN each life's write and read units, and one read unit per view and per listing, are billed at
    # 0.625 and 0.125 USD per million
    assert writes.quantity == pytest.approx(20_000 * WRITE_UNITS_PER_IMAGE)
    assert writes.cost_usd == pytest.approx(20_000 * WRITE_UNITS_PER_IMAGE * 0.625 / 1e6)
    assert reads.quantity == pytest.approx(20_000 * (READ_UNITS_PER_IMAGE + 12 * READ_UNITS_PER_RECORD_READ))
    assert reads.cost_usd == pytest.approx(reads.quantity * 0.125 / 1e6)
    # AND no capacity is billed by the hour
    assert not {"dynamodb_wcu", "dynamodb_rcu"} & {item.key for item in result.items}


def test_the_table_is_modelled_by_the_pipelines_default_billing_mode() -> None:
    on_demand = ImagePipelineProps().billing_mode == "PAY_PER_REQUEST"
    keys = {item.key for item in estimate(1000, 12).items}
    assert ("dynamodb_write_requests" in keys, "dynamodb_wcu" in keys) == (on_demand, not on_demand)


def test_a_provisioned_table_defaults_to_the_props_capacity_on_the_table_and_each_index() -> None:
    # GIVEN the adapter's indexes and the props' capacity per part
    props = ImagePipelineProps()
    assert 1 + len(GSI_NAMES) == TABLE_PARTS
    result = estimate(1000, 12, billing_mode="PROVISIONED")
    # THEN the hours of every part's units are counted, inside the always-free 25 of each
    assert result.item("dynamodb_wcu").quantity == props.write_capacity * TABLE_PARTS * HOURS_PER_MONTH
    assert result.item("dynamodb_rcu").quantity == props.read_capacity * TABLE_PARTS * HOURS_PER_MONTH
    assert result.item("dynamodb_wcu").cost_usd == result.item("dynamodb_rcu").cost_usd == 0
    assert not {"dynamodb_write_requests", "dynamodb_read_requests"} & {item.key for item in result.items}


def test_an_unknown_billing_mode_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^billing_mode: 'ON_DEMAND' must be"):
        estimate(1, 1, billing_mode="ON_DEMAND")  # type: ignore[arg-type]


def test_the_per_image_request_units_match_the_measured_life_of_an_image(
    recorded_life: tuple[Recorded, ...],
) -> None:
    # GIVEN one image's life recorded against moto with the real adapter (tests/unit/conftest.py), priced
    # and stored as the bench prices and stores it
    from bench.capacity import TABLE, adapter_schema, per_image, price, stored_bytes
    from bench.dynamodb_units import Read, read_cost

    schema = adapter_schema()
    units = per_image(price(recorded_life, schema))
    writes = sum(value for (_, kind), value in units.items() if kind == "write")
    reads = sum(value for (_, kind), value in units.items() if kind == "read")
    stored = sum(stored_bytes(recorded_life, schema).values())
    # THEN imgmgr.cost.model's constants are within 15 % of the measurement (measure again and correct them if not)
    assert abs(WRITE_UNITS_PER_IMAGE - writes) <= 0.15 * writes, (WRITE_UNITS_PER_IMAGE, writes)
    assert abs(READ_UNITS_PER_IMAGE - reads) <= 0.15 * reads, (READ_UNITS_PER_IMAGE, reads)
    assert abs(TABLE_BYTES_PER_IMAGE - stored) <= 0.15 * stored, (TABLE_BYTES_PER_IMAGE, stored)
    # AND a strongly consistent read of the ready record (a view, or a listed image fetched back from the
    # table after a keys-only index query) costs READ_UNITS_PER_RECORD_READ
    (record,) = {
        str(write.after["pk"]["S"]): write.after
        for entry in recorded_life
        for write in entry.writes
        if write.after is not None and write.after["pk"]["S"].startswith("IMG#") and write.after["sk"]["S"] == "IMG"
    }.values()
    assert record["state"]["S"] == "ready"
    for kind in ("get", "batch_get"):
        cost = read_cost(schema, Read(kind=kind, items=(record,), consistent=True))
        assert cost == {TABLE: pytest.approx(READ_UNITS_PER_RECORD_READ, rel=0.15)}, kind


def test_the_action_enabled_budgets_of_cost_guard_are_free() -> None:
    # GIVEN CostGuard's defaults: the cost budget and the Rekognition usage budget brake
    assert DEFAULT_ACTION_BUDGETS == 2
    assert estimate(1000, 12).item("budgets_actions").cost_usd == 0
    # WHEN a third budget gets an action / THEN it costs 0.10 USD a day
    assert estimate(1000, 12, action_budgets=3).item("budgets_actions").cost_usd == pytest.approx(31 * 0.10)


def test_point_in_time_recovery_is_billed_on_the_table_size_from_the_first_image() -> None:
    # GIVEN 1M images of 2,000 table bytes each, kept 3 months, with the pipeline's default (on)
    assert ImagePipelineProps().point_in_time_recovery is True
    result = estimate(1_000_000, 12, retained_months=3, table_bytes_per_image=2_000)
    # THEN 6 GB of table are backed up at 0.20 USD a GB-month, no allowance
    pitr = result.item("dynamodb_pitr")
    assert pitr.quantity == pytest.approx(6)
    assert (pitr.free, pitr.cost_usd) == (0, pytest.approx(1.20))
    # AND its table storage stays inside the always-free 25 GB
    assert result.item("dynamodb_storage").cost_usd == 0


def test_without_point_in_time_recovery_there_is_no_backup_line() -> None:
    keys = {item.key for item in estimate(1000, 12, point_in_time_recovery=False).items}
    assert "dynamodb_pitr" not in keys


def test_lambda_compute_is_billed_beyond_400000_gb_seconds() -> None:
    # GIVEN a million 10 MP images: (2 + 0.5 + 0.5) GB-s per image and 4 API calls of 0.25 GB-s
    result = estimate(1_000_000, 10, profiles=SIMPLE_PROFILES)
    # WHEN the Lambda lines are read
    compute, requests = result.item("lambda_gb_seconds"), result.item("lambda_requests")
    # THEN 4,000,000 GB-s minus the free 400,000 are billed at the arm64 price, 6M of 7M requests at 0.20/M
    assert compute.quantity == pytest.approx(4_000_000)
    assert compute.cost_usd == pytest.approx(3_600_000 * 0.0000133334)
    assert requests.quantity == 7_000_000
    assert requests.cost_usd == pytest.approx(1.20)


def test_rekognition_bills_every_image_beyond_the_free_thousand() -> None:
    result = estimate(1_000_000, 10, profiles=SIMPLE_PROFILES)
    assert result.item("rekognition_images").cost_usd == pytest.approx(999.00)


def test_storage_holds_originals_and_renditions_of_the_retained_months() -> None:
    # GIVEN 1M images of 10 MP (3 MB originals, renditions 35% of that) kept for 2 months
    result = estimate(1_000_000, 10, retained_months=2, profiles=SIMPLE_PROFILES)
    # THEN 8,100 GB are stored, 8,095 beyond the free 5 GB at 0.023
    storage = result.item("s3_storage")
    assert storage.quantity == pytest.approx(8_100)
    assert storage.cost_usd == pytest.approx(8_095 * 0.023)


def test_accounts_without_the_twelve_month_offers_pay_from_the_first_image() -> None:
    # GIVEN 100 images of 12 MP on an account of the credit-based plan (no 12-month offers), no backups
    result = estimate(100, 12, twelve_month_free_tier=False, point_in_time_recovery=False, billing_mode="PROVISIONED")
    # THEN Rekognition 100 x 0.001, API 400 x 3.5/M, storage 0.486 GB x 0.023, PUT 500 x 0.005/1000,
    # GET 500 x 0.0004/1000 are billed; the always-free services still cost nothing
    expected = 0.1 + 400 * 3.5e-6 + 0.486 * 0.023 + 500 * 0.005 / 1000 + 500 * 0.0004 / 1000
    assert result.total_usd == pytest.approx(expected)
    assert result.item("lambda_gb_seconds").cost_usd == 0


def test_provisioned_capacity_beyond_25_units_is_billed_by_the_hour() -> None:
    result = estimate(0, 1, read_capacity_units=40, write_capacity_units=40, billing_mode="PROVISIONED")
    assert result.item("dynamodb_wcu").cost_usd == pytest.approx(15 * HOURS_PER_MONTH * 0.00065)
    assert result.item("dynamodb_rcu").cost_usd == pytest.approx(15 * HOURS_PER_MONTH * 0.00013)


def test_an_eleventh_alarm_metric_is_billed() -> None:
    assert estimate(0, 1, alarm_metrics=11).item("cloudwatch_alarms").cost_usd == pytest.approx(0.10)


def test_a_negative_volume_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^images_per_month: -1 must not be negative"):
        estimate(-1, 12)


def test_a_missing_function_profile_is_refused() -> None:
    profiles = {name: p for name, p in SIMPLE_PROFILES.items() if name != "api"}
    with pytest.raises(ValueError, match=r"^profiles: no profile for api"):
        estimate(1, 1, profiles=profiles)


def test_lines_are_billed_from_the_volume_where_their_allowance_runs_out() -> None:
    # GIVEN the legacy free tier, without backups: 5 S3 writes per image against 2,000 free
    thresholds = billed_from(lambda images: estimate(images, 12, point_in_time_recovery=False))
    # THEN PUT requests are billed beyond 400 images, Rekognition beyond 1,000, alarms never (9 of 10)
    assert thresholds["s3_put"] == pytest.approx(400)
    assert thresholds["rekognition_images"] == pytest.approx(1000)
    assert thresholds["cloudwatch_alarms"] is None
    # AND the PUT requests are the first allowance to run out
    assert first_billed(thresholds) == ("s3_put", pytest.approx(400))


def test_without_the_twelve_month_offers_the_paid_lines_are_billed_from_the_first_image() -> None:
    thresholds = billed_from(lambda images: estimate(images, 12, twelve_month_free_tier=False))
    assert {key for key, images in thresholds.items() if images == 0} == {
        "s3_storage",
        "s3_put",
        "s3_get",
        "dynamodb_write_requests",
        "dynamodb_read_requests",
        "dynamodb_pitr",
        "rekognition_images",
        "api_requests",
    }
    # AND the first always-free allowance to run out is X-Ray's: 7 traces per image against 100,000
    assert first_billed(thresholds) == ("xray_traces", pytest.approx(100_000 / 7))


def test_a_fixed_quantity_beyond_its_allowance_is_billed_at_any_volume() -> None:
    thresholds = billed_from(lambda images: estimate(images, 12, alarm_metrics=11))
    assert thresholds["cloudwatch_alarms"] == 0


def test_without_a_user_pool_there_is_no_cognito_line() -> None:
    keys = {item.key for item in estimate(1000, 12).items}
    assert not keys & set(USER_POOL_PRICE_KEYS.values())


def test_ten_thousand_active_users_of_the_pool_are_free_on_either_account() -> None:
    # GIVEN a user pool of the default plan with 10,000 monthly active users
    for twelve_month_free_tier in (True, False):
        result = estimate(1000, 12, monthly_active_users=10_000, twelve_month_free_tier=twelve_month_free_tier)
        # THEN its line is Lite's, all of it inside the always-free 10,000
        users = result.item("cognito_lite_mau")
        assert (users.quantity, users.free, users.cost_usd) == (10_000, 10_000, 0)
        assert users.price.free_kind == "always"


def test_lite_users_beyond_the_free_ten_thousand_are_billed_at_the_lite_price() -> None:
    # GIVEN 12,000 monthly active users on the Lite plan
    result = estimate(1000, 12, monthly_active_users=12_000, user_pool_plan="LITE")
    # THEN 2,000 of them are billed at 0.0055 USD: 11 USD, and the total carries them
    users = result.item("cognito_lite_mau")
    assert users.billable == 2_000
    assert users.cost_usd == pytest.approx(2_000 * 0.0055) == pytest.approx(11.00)
    assert result.total_usd == pytest.approx(estimate(1000, 12).total_usd + 11.00)


def test_essentials_users_beyond_the_free_ten_thousand_are_billed_at_the_essentials_price() -> None:
    result = estimate(1000, 12, monthly_active_users=12_000, user_pool_plan="ESSENTIALS")
    assert result.item("cognito_essentials_mau").cost_usd == pytest.approx(2_000 * 0.015) == pytest.approx(30.00)
    assert "cognito_lite_mau" not in {item.key for item in result.items}


def test_the_user_pool_plan_defaults_to_that_of_the_cognito_props() -> None:
    assert CognitoProps(domain_prefix="acme-images").feature_plan == "LITE"
    keys = {item.key for item in estimate(1000, 12, monthly_active_users=1).items}
    assert USER_POOL_PRICE_KEYS["LITE"] in keys


def test_an_unknown_user_pool_plan_and_negative_users_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^user_pool_plan: 'PLUS' must be 'LITE' or 'ESSENTIALS'"):
        estimate(1, 1, monthly_active_users=1, user_pool_plan="PLUS")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^monthly_active_users: -1 must not be negative"):
        estimate(1, 1, monthly_active_users=-1)


def test_the_users_of_the_pool_do_not_grow_with_the_images() -> None:
    # GIVEN pools within and beyond the free 10,000 users
    within = billed_from(lambda images: estimate(images, 12, point_in_time_recovery=False, monthly_active_users=9_000))
    beyond = billed_from(lambda images: estimate(images, 12, point_in_time_recovery=False, monthly_active_users=12_000))
    # THEN the first is never billed, the second at any volume of images
    assert within["cognito_lite_mau"] is None
    assert beyond["cognito_lite_mau"] == 0
    # AND the first allowance used up by the images is still S3's PUT requests
    assert first_billed(beyond) == ("s3_put", pytest.approx(400))


@pytest.mark.parametrize(
    ("monthly", "credits", "months"), [(0, 100, math.inf), (25, 100, 4), (10, 200, 20), (400, 200, 0.5)]
)
def test_credits_last_their_amount_over_the_monthly_bill(monthly: float, credits: float, months: float) -> None:
    assert credit_months(monthly, credits) == months


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0000133334, "0.0000133334"),
        (0.20 / 1e6, "0.0000002"),
        (0.0004 / 1000, "0.0000004"),
        (2.00 / 1e5, "0.00002"),
        (1e-9, "0.000000001"),
        (0.023, "0.023"),
        (3.0, "3"),
        (1234.5, "1234.5"),
    ],
)
def test_prices_are_plain_decimals(value: float, text: str) -> None:
    assert plain_decimal(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (0.0004, "0.0004"),
        (4.86, "4.86"),
        (9_999_999, "9,999,999"),
        (31_234_567, "31.2 M"),
        (2_070_000_000, "2.07 bn"),
        (4.5e15, "4,500 tn"),
    ],
)
def test_quantities_are_plain_and_short(value: float, text: str) -> None:
    assert quantity_text(value) == text


def _printed(images: int, megapixels: float, account: Account = Account.BOTH, **options: object) -> str:
    console = Console(record=True, width=240)
    comparison = compare(images, megapixels, **options)  # type: ignore[arg-type]
    print_estimate(comparison, account=account, budget=Budget(usd=5.0, source="a test"), console=console)
    return console.export_text()


@pytest.mark.parametrize(
    ("images", "megapixels", "account", "retained_months", "users"),
    [
        (0, 0.01, Account.BOTH, 1, None),
        (1000, 12, Account.BOTH, 1, None),
        (123_456_789, 48.5, Account.LEGACY, 24, None),
        (10**9, 1000, Account.BOTH, 1200, None),
        (10**9, 1000, Account.CREDITS, 1200, None),
        (10**9, 1000, Account.BOTH, 1200, 10**9),
    ],
)
def test_the_report_fits_80_columns_and_prints_no_exponent(
    images: int, megapixels: float, account: Account, retained_months: int, users: int | None
) -> None:
    # GIVEN a console far wider than a terminal
    # WHEN an estimate, small or huge, is printed
    text = _printed(images, megapixels, account, retained_months=retained_months, monthly_active_users=users)
    # THEN no line is wider than 80 characters, no number is cut short, and none is in e-notation
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= MAX_WIDTH
    assert "…" not in text
    assert not re.search(r"\d[eE][+-]?\d", text), re.search(r".*\d[eE][+-]?\d.*", text)


def test_the_report_shows_both_accounts_the_date_and_the_totals() -> None:
    # GIVEN an estimate with known totals
    comparison = compare(1000, 12)
    text = _printed(1000, 12)
    # THEN the table carries the date of the prices and both totals, and the text both kinds of account
    assert f"as of {PRICES_AS_OF}" in text
    assert "total a month" in text
    for total in (comparison.legacy.total_usd, comparison.always_free.total_usd):
        assert f"{total:,.2f}" in text
    assert "Legacy free tier (accounts created before 2025-07-15)" in text
    assert "Credit-based plan (accounts created on or after 2025-07-15)" in text
    assert "the account closes when the credits run out" in text


def test_the_credit_plan_says_how_long_the_credits_last() -> None:
    # GIVEN 20,000 images a month: about 25 USD before credits
    comparison = compare(20_000, 12)
    monthly = comparison.always_free.total_usd
    text = " ".join(_printed(20_000, 12, Account.CREDITS).split())
    # THEN the months of 100 USD and of 200 USD at that rate are stated, and the free plan's end
    assert f"last {plain_decimal(100 / monthly, 2)} months" in text
    assert f"{plain_decimal(200 / monthly, 2)} months" in text
    assert f"here after {plain_decimal(100 / monthly, 2)} months on the sign-up credits" in text


def test_an_estimate_over_the_budget_is_warned_about() -> None:
    # GIVEN 15,000 images: above 5 USD before credits, and in the legacy first year too, with under 5 USD
    # of it on tagged resources
    text = " ".join(_printed(15_000, 12).split())
    # THEN both are warned about, with the budget
    assert "WARNING: the estimate for the legacy first year" in text
    assert "WARNING: the estimate for the credit-based plan before credits" in text
    assert "exceeds the budget of 5.00 USD" in text
    # AND, Rekognition being most of it and untagged, that the tag-scoped budget's brake would wait while
    # the Rekognition usage budget's brake stops the pipeline after the 5,000 images that 5 USD buy
    assert "so its brake waits; the Rekognition brake acts first" in text
    assert "its brake stops uploads and labels after about 5,000 images each month" in text


def test_a_volume_past_the_rekognition_brake_is_warned_about() -> None:
    # GIVEN 2,000 images against a 1 USD budget, whose Rekognition brake acts after the 1,000 images it buys
    console = Console(record=True, width=240)
    print_estimate(compare(2000, 12), budget=Budget(usd=1.0, source="a test"), console=console)
    text = " ".join(console.export_text().split())
    # THEN the Rekognition brake is warned about, with what sets its limit
    assert "WARNING: 2,000 images a month pass the 1,000 of the rekognition-images usage budget" in text
    assert "what the budget of 1.00 USD buys at 0.001 USD an image" in text


def test_the_report_says_the_on_demand_table_is_in_no_free_tier() -> None:
    text = " ".join(_printed(1000, 12, billing_mode="PAY_PER_REQUEST").split())
    assert "Table: on demand" in text
    assert "in no free tier, legacy or credit-based" in text
    assert f"{plain_decimal(WRITE_UNITS_PER_IMAGE)} write and {plain_decimal(READ_UNITS_PER_IMAGE)} read units" in text


def test_an_estimate_whose_tagged_costs_exceed_the_budget_says_the_brake_acts() -> None:
    # GIVEN 200,000 images: about 22 USD of S3 storage alone, a tagged resource
    text = " ".join(_printed(200_000, 12).split())
    assert "the brake stops uploads and labels at 100%" in text


def test_an_estimate_within_the_budget_is_not_warned_about() -> None:
    assert "WARNING" not in _printed(1000, 12)


def test_the_report_prices_the_user_pool_only_when_asked() -> None:
    # GIVEN the same month with and without a pool of 12,000 Lite users
    with_pool = " ".join(_printed(1000, 12, monthly_active_users=12_000).split())
    without = " ".join(_printed(1000, 12).split())
    # THEN only the first has the pool's line, paragraph and assumption, and says the brake cannot stop it
    assert "user pool Lite of 12,000 active users" in with_pool
    assert "Cognito Lite MAUs 12,000 10,000 always 11.00 11.00" in with_pool
    assert "User pool: Lite plan, 12,000 monthly active users" in with_pool
    assert "then 0.0055 USD each (Essentials 0.015; --user-pool-plan): 11.00 USD a month" in with_pool
    assert "CostGuard's brake stops no sign-in" in with_pool
    assert "Billed at any volume: " in with_pool and "Cognito Lite MAUs." in with_pool
    assert "User pool:" not in without and "active users" not in without
    assert "Cognito Lite MAUs 12,000" not in without
    # AND both name the Cognito page among the sources, with the day its prices were checked
    assert f"Amazon Cognito pricing (checked {PRICES['cognito_lite_mau'].checked})" in without


def test_a_free_user_pool_is_said_to_cost_nothing() -> None:
    text = " ".join(_printed(1000, 12, monthly_active_users=10_000, user_pool_plan="ESSENTIALS").split())
    assert "Cognito Essentials MAUs 10,000 10,000 always 0.00 0.00" in text
    assert "then 0.015 USD each (Lite 0.0055; --user-pool-plan): 0.00 USD a month, whatever the images." in text


def test_the_first_allowance_to_run_out_is_named() -> None:
    text = " ".join(_printed(1000, 12, Account.LEGACY, point_in_time_recovery=False).split())
    assert "The first free allowance to run out: S3 PUT requests, beyond 400 images a month." in text


def _invoke(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, ["cost", *args], env=env)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_imgmgr_cost_prints_the_estimate_for_the_volume_asked() -> None:
    # WHEN `imgmgr cost` is asked for 100 images of 12 MP on a credit-plan account
    output = _invoke("--images", "100", "--megapixels", "12", "--account", "credits", "--budget", "5")
    # THEN it prints the date of the prices and the same total as the estimate
    total = estimate(100, 12, twelve_month_free_tier=False).total_usd
    assert f"{total:,.2f}" in output
    assert PRICES_AS_OF in output
    assert "Legacy free tier" not in output


def test_imgmgr_cost_models_a_provisioned_table_on_request() -> None:
    # WHEN `imgmgr cost` is asked for the provisioned table
    output = _invoke("--images", "100", "--billing-mode", "provisioned", "--budget", "5")
    # THEN it bills capacity hours, no request units
    assert "Table: provisioned, 20 WCU and 20 RCU" in output
    assert "DynamoDB WCU-hours" in output
    assert "DynamoDB write units" not in output
    assert "table provisioned" in output


def test_imgmgr_cost_prices_the_user_pool_on_request() -> None:
    # WHEN `imgmgr cost` is asked for 100 images and 12,000 active users on each plan
    lite = _invoke("--images", "100", "--users", "12000", "--account", "credits", "--budget", "50")
    essentials = _invoke(
        "--images",
        "100",
        "--users",
        "12000",
        "--user-pool-plan",
        "essentials",
        "--account",
        "credits",
        "--budget",
        "50",
    )
    # THEN each prints its plan's line and the total of the estimate with it
    for output, plan, key, cost in (
        (lite, "LITE", "cognito_lite_mau", "11.00"),
        (essentials, "ESSENTIALS", "cognito_essentials_mau", "30.00"),
    ):
        expected = estimate(100, 12, twelve_month_free_tier=False, monthly_active_users=12_000, user_pool_plan=plan)
        assert expected.item(key).cost_usd == pytest.approx(float(cost))
        assert f"{PRICES[key].label} 12,000 10,000 always {cost}" in output
        assert f"{expected.total_usd:,.2f}" in output


def test_imgmgr_cost_refuses_a_user_pool_plan_without_users() -> None:
    result = CliRunner().invoke(app, ["cost", "--user-pool-plan", "lite"])
    assert result.exit_code == 2
    assert "needs --users" in " ".join(result.output.split())


def test_the_old_twelve_month_option_still_chooses_the_account() -> None:
    output = _invoke("--images", "100", "--no-twelve-month-free-tier", "--budget", "5")
    assert "Credit-based plan" in output
    assert "Legacy free tier" not in output


def test_the_budget_comes_from_the_deployment_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a project whose cdktf.json sets a budget of 1 USD
    (tmp_path / "cdktf.json").write_text(json.dumps({"context": {"imgmgr": {"monthly_budget_usd": 1}}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IMGMGR_MONTHLY_BUDGET_USD", raising=False)
    # WHEN the cost of 2,000 images is asked for, without --budget
    output = _invoke("--images", "2000")
    # THEN the budget and its source are named, and the estimate above it is warned about
    assert "Budget: 1.00 USD a month (from cdktf.json context imgmgr.monthly_budget_usd)" in output
    assert "exceeds the budget of 1.00 USD" in output


def test_the_budget_option_wins_over_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    output = _invoke("--images", "2000", "--budget", "50", env={"IMGMGR_MONTHLY_BUDGET_USD": "1"})
    assert "Budget: 50.00 USD a month (from --budget)" in output
    assert "exceeds the budget" not in output


def test_the_point_in_time_recovery_prop_states_the_price_of_the_table() -> None:
    # GIVEN the docstring of ImagePipelineProps.point_in_time_recovery (kept in the source only)
    import inspect

    from constructs_lib import props as module

    source = inspect.getsource(module.ImagePipelineProps)
    docstring = " ".join(source.split("\n    point_in_time_recovery:", 1)[1].split('"""', 2)[1].split())
    # THEN it says that it is not free, at the price this table bills it
    price = PRICES["dynamodb_pitr"]
    assert (price.usd_per_unit, price.unit, price.free_kind) == (0.20, "GB-month", "none")
    assert "Not free" in docstring
    assert "0.20 USD per GB-month" in docstring


def test_the_pipeline_props_state_which_defaults_cost_and_at_this_tables_prices() -> None:
    # GIVEN the ImagePipelineProps class docstring
    docstring = " ".join((ImagePipelineProps.__doc__ or "").split())
    # THEN it names the on-demand table and its backups as billed, at the prices of this table
    writes, reads = PRICES["dynamodb_write_requests"], PRICES["dynamodb_read_requests"]
    assert (writes.usd_per_unit * 1e6, reads.usd_per_unit * 1e6) == (pytest.approx(0.625), pytest.approx(0.125))
    assert "0.625 USD per million write and 0.125 USD per million read request units" in docstring
    assert f"{PRICES['dynamodb_pitr'].usd_per_unit:.2f} USD per GB-month" in docstring
    per_thousand = 1000 * on_demand_usd_per_image(WRITE_UNITS_PER_IMAGE, READ_UNITS_PER_IMAGE)
    assert f"about {per_thousand:.2f} USD per 1,000 images" in docstring


def test_the_cognito_props_state_the_user_pool_prices_of_this_table() -> None:
    # GIVEN the docstrings of CognitoProps and of its feature_plan (kept in the source only)
    import inspect

    from constructs_lib import props as module

    source = inspect.getsource(module.CognitoProps)
    plan = " ".join(source.split("\n    feature_plan:", 1)[1].split('"""', 2)[1].split())
    lite, essentials = PRICES["cognito_lite_mau"], PRICES["cognito_essentials_mau"]
    # THEN they state the free allowance, both plans' prices and the day they were checked, as priced here
    assert lite.free_per_month == essentials.free_per_month == 10_000
    assert "first 10,000 monthly active users are free" in " ".join((CognitoProps.__doc__ or "").split())
    assert f"{plain_decimal(lite.usd_per_unit)} USD per MAU up to 100,000" in plan
    assert f"against {plain_decimal(essentials.usd_per_unit)} USD for" in plan
    assert f"checked {lite.checked}" in plan
