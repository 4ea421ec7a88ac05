"""imgmgr.cost: the price table and the monthly estimate, checked against hand-computed bills."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from imgmgr.cost import HOURS_PER_MONTH, PRICES, PRICES_AS_OF, FunctionProfile, estimate, print_estimate

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


def test_a_small_month_stays_inside_the_free_tier() -> None:
    # GIVEN 100 images of 12 MP a month on an account with the 12-month offers
    # WHEN the month is estimated
    result = estimate(100, 12)
    # THEN nothing is billed
    assert result.total_usd == 0


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
    # GIVEN 100 images of 12 MP on an account of the new Free plan (no 12-month offers)
    result = estimate(100, 12, twelve_month_free_tier=False)
    # THEN Rekognition 100 x 0.001, API 400 x 3.5/M, storage 0.486 GB x 0.023, PUT 500 x 0.005/1000,
    # GET 500 x 0.0004/1000 are billed; the always-free services still cost nothing
    expected = 0.1 + 400 * 3.5e-6 + 0.486 * 0.023 + 500 * 0.005 / 1000 + 500 * 0.0004 / 1000
    assert result.total_usd == pytest.approx(expected)
    assert result.item("lambda_gb_seconds").cost_usd == 0


def test_provisioned_capacity_beyond_25_units_is_billed_by_the_hour() -> None:
    result = estimate(0, 1, read_capacity_units=40, write_capacity_units=40)
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


def test_printed_estimate_shows_the_prices_date_and_the_total() -> None:
    # GIVEN an estimate with a known total
    result = estimate(100, 12, twelve_month_free_tier=False)
    console = Console(record=True, width=240)
    # WHEN it is printed
    print_estimate(result, console)
    text = console.export_text()
    # THEN the table carries the date of the prices and the total beyond the free tier
    assert f"as of {PRICES_AS_OF}" in text
    assert "total beyond the free tier" in text
    assert f"{result.total_usd:,.2f}" in text


def test_imgmgr_cost_prints_the_estimate_for_the_volume_asked() -> None:
    # GIVEN the command line
    from typer.testing import CliRunner

    from imgmgr.cli import app

    # WHEN `imgmgr cost` is asked for 100 images of 12 MP without the 12-month offers
    result = CliRunner().invoke(app, ["cost", "--images", "100", "--megapixels", "12", "--no-twelve-month-free-tier"])
    # THEN it exits 0 and prints the date of the prices and the same total as the estimate
    assert result.exit_code == 0, result.output
    total = estimate(100, 12, twelve_month_free_tier=False).total_usd
    assert f"{total:,.2f}" in result.output
    assert PRICES_AS_OF in result.output
