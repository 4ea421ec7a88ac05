"""CostGuardProps: validation errors that name the prop; defaults that match the free tier."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from constructs_lib.cost_guard_props import (
    LAMBDA_GB_SECONDS_BUDGET,
    REKOGNITION_IMAGES_BUDGET,
    CostGuardProps,
    GuardedPipeline,
    PropsError,
    UsageBudget,
)
from imgmgr.cost import PRICES

FUNCTIONS = ("compress", "thumbnail", "categorize", "api", "redrive")


def _pipeline(**changes: Any) -> GuardedPipeline:
    """A pipeline of stand-in resources (validation never looks inside them)."""
    values: dict[str, Any] = {
        "functions": {name: object() for name in FUNCTIONS},
        "timeouts_seconds": dict.fromkeys(FUNCTIONS, 60),
        "roles": {name: object() for name in FUNCTIONS},
        "dead_letter_queue": object(),
        "rest_api_name": "imgmgr-api",
        "api_stage_name": "prod",
        "bucket_arn": "arn:aws:s3:::bucket",
    }
    values.update(changes)
    return GuardedPipeline(**values)


def test_defaults_are_five_dollars_80_percent_actual_100_forecast_and_the_brake_at_100() -> None:
    props = CostGuardProps(pipeline=_pipeline())
    assert (props.monthly_budget_usd, props.actual_alert_percent, props.forecast_alert_percent) == (5.0, 80.0, 100.0)
    assert (props.brake_enabled, props.brake_percent) == (True, 100.0)


def test_default_usage_budgets_are_the_free_tier_allowances_of_the_price_table() -> None:
    assert LAMBDA_GB_SECONDS_BUDGET.limit == PRICES["lambda_gb_seconds"].free_per_month
    assert REKOGNITION_IMAGES_BUDGET.limit == PRICES["rekognition_images"].free_per_month


def test_props_are_frozen() -> None:
    props = CostGuardProps(pipeline=_pipeline())
    with pytest.raises(dataclasses.FrozenInstanceError):
        props.monthly_budget_usd = 50.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name_prefix": "Bad_Prefix"}, r"^name_prefix: 'Bad_Prefix'"),
        ({"monthly_budget_usd": 0}, r"^monthly_budget_usd: 0 must be a positive amount"),
        ({"monthly_budget_usd": True}, r"^monthly_budget_usd: True"),
        ({"alert_emails": "ops@example.com"}, r"^alert_emails: expected a tuple"),
        ({"alert_emails": ("not-an-address",)}, r"^alert_emails: 'not-an-address' is not an e-mail address"),
        ({"alert_emails": ("a@example.com", "a@example.com")}, r"^alert_emails: an address is listed twice"),
        ({"alert_emails": tuple(f"u{i}@example.com" for i in range(11))}, r"^alert_emails: 11 addresses"),
        ({"actual_alert_percent": 0}, r"^actual_alert_percent: 0 must be a percentage"),
        ({"forecast_alert_percent": 1001}, r"^forecast_alert_percent: 1001"),
        ({"brake_percent": -5}, r"^brake_percent: -5"),
        ({"near_timeout_ratio": 1.5}, r"^near_timeout_ratio: 1.5"),
        ({"api_5xx_threshold": -1}, r"^api_5xx_threshold: -1"),
        ({"alarm_period_seconds": 90}, r"^alarm_period_seconds: 90 must be 60 or a multiple of 60"),
        ({"pipeline": "pipeline"}, r"^pipeline: expected a GuardedPipeline, got str"),
    ],
)
def test_bad_values_are_refused_naming_the_prop(changes: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"pipeline": _pipeline(), **changes}
    with pytest.raises(PropsError, match=message):
        CostGuardProps(**values)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, name="Bad Name"), r"^usage_budgets: name 'Bad Name'"),
        (dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, usage_types=()), r"^usage_budgets: lambda-gb-seconds must name"),
        (
            dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, unit=" "),
            r"^usage_budgets: lambda-gb-seconds must name the unit",
        ),
        (dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, limit=0), r"^usage_budgets: lambda-gb-seconds limit 0"),
    ],
)
def test_bad_usage_budgets_are_refused_naming_the_budget(budget: UsageBudget, message: str) -> None:
    with pytest.raises(PropsError, match=message):
        CostGuardProps(pipeline=_pipeline(), usage_budgets=(budget,))


def test_two_usage_budgets_of_one_name_are_refused() -> None:
    with pytest.raises(PropsError, match=r"^usage_budgets: names .* must be unique"):
        CostGuardProps(pipeline=_pipeline(), usage_budgets=(LAMBDA_GB_SECONDS_BUDGET, LAMBDA_GB_SECONDS_BUDGET))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"functions": {}}, r"^pipeline.functions: name at least one"),
        ({"timeouts_seconds": {"compress": 60}}, r"^pipeline.timeouts_seconds: keys \['compress'\]"),
        ({"timeouts_seconds": {**dict.fromkeys(FUNCTIONS, 60), "api": 901}}, r"^pipeline.timeouts_seconds: api 901"),
        ({"roles": {}}, r"^pipeline.roles: name at least one role"),
        ({"api_stage_name": "prod/v1"}, r"^pipeline.api_stage_name: 'prod/v1'"),
        ({"paid_write_prefixes": ("uploads",)}, r"^pipeline.paid_write_prefixes: 'uploads' must be a key prefix"),
        ({"replay_role": "worker"}, r"^pipeline.replay_role: 'worker' is not one of the roles"),
        ({"replay_targets": ("resize",)}, r"^pipeline.replay_targets: \['resize'\]"),
    ],
)
def test_a_bad_pipeline_is_refused_naming_its_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PropsError, match=message):
        CostGuardProps(pipeline=_pipeline(**changes))


def test_without_a_replay_role_no_replay_targets_are_checked() -> None:
    props = CostGuardProps(pipeline=_pipeline(replay_role=None, replay_targets=()))
    assert props.pipeline.replay_role is None
