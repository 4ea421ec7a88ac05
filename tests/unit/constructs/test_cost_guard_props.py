"""CostGuardProps: validation errors that name the prop; defaults that match the free tier."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from constructs_lib.cost_guard_props import (
    LAMBDA_GB_SECONDS_BUDGET,
    REKOGNITION_IMAGES_BUDGET,
    USAGE_TYPE_REGION_CODES,
    CostGuardProps,
    GuardedPipeline,
    PropsError,
    UsageBudget,
    regional_usage_types,
)
from imgmgr.cost.prices import PRICES

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


def test_the_rekognition_usage_budget_brakes_and_the_defaults_use_the_two_free_action_budgets() -> None:
    # GIVEN the default props: the cost budget brakes, and so does the Rekognition usage budget (its cost
    # carries no tag, so the cost budget never sees it); Lambda's usage budget only alerts
    assert (REKOGNITION_IMAGES_BUDGET.brake, LAMBDA_GB_SECONDS_BUDGET.brake) == (True, False)
    # THEN two budgets have an action: the two AWS Budgets bills nothing for
    assert CostGuardProps(pipeline=_pipeline()).action_budget_count == 2
    assert PRICES["budgets_actions"].free_per_month == 2 * 31
    # AND none without the brake
    assert CostGuardProps(pipeline=_pipeline(), brake_enabled=False).action_budget_count == 0


def test_the_rekognition_limit_is_what_the_monthly_budget_buys_never_under_the_free_images() -> None:
    # 5 USD at 0.001 USD an image: 5,000 images; 0.50 USD would buy 500, under the 1,000 free ones
    assert REKOGNITION_IMAGES_BUDGET.limit_for(5.0) == 5_000
    assert REKOGNITION_IMAGES_BUDGET.limit_for(0.5) == 1_000
    # a budget without a price keeps its limit whatever the money budget
    assert LAMBDA_GB_SECONDS_BUDGET.limit_for(1_000.0) == 400_000


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
        (dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, brake="yes"), r"^usage_budgets: lambda-gb-seconds brake 'yes'"),
        (
            dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, usd_per_unit=0),
            r"^usage_budgets: lambda-gb-seconds usd_per_unit 0 must be a positive price",
        ),
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


# ------------------------------------------------------------------------------- scope and region


def test_the_cost_budget_is_scoped_to_the_project_tag_of_the_deployment_by_default() -> None:
    props = CostGuardProps(pipeline=_pipeline(), name_prefix="photos")
    assert props.cost_allocation_tag == ("Project", "photos")
    assert props.count_credits is False


def test_the_scope_tag_can_be_another_or_none_for_the_whole_account() -> None:
    other = CostGuardProps(pipeline=_pipeline(), cost_allocation_tag_key="team", cost_allocation_tag_value="imaging")
    assert other.cost_allocation_tag == ("team", "imaging")
    assert CostGuardProps(pipeline=_pipeline(), cost_allocation_tag_key=None).cost_allocation_tag is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cost_allocation_tag_key": "aws:createdBy"}, r"^cost_allocation_tag_key: 'aws:createdBy' uses the reserved"),
        ({"cost_allocation_tag_key": "cost$center"}, r"^cost_allocation_tag_key: 'cost\$center' must be 1-128"),
        ({"cost_allocation_tag_key": ""}, r"^cost_allocation_tag_key: '' must be 1-128"),
        ({"cost_allocation_tag_value": "{x}"}, r"^cost_allocation_tag_value: '\{x\}' must be 1-256"),
        (
            {"cost_allocation_tag_key": None, "cost_allocation_tag_value": "imgmgr"},
            r"^cost_allocation_tag_value: set without cost_allocation_tag_key",
        ),
        ({"count_credits": "no"}, r"^count_credits: 'no' must be True or False"),
        ({"region": "ap-southeast-7"}, r"^region: 'ap-southeast-7' has no known usage type code"),
    ],
)
def test_bad_scope_values_are_refused_naming_the_prop(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PropsError, match=message):
        CostGuardProps(pipeline=_pipeline(), **changes)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1", ("Lambda-GB-Second-ARM", "USE1-Lambda-GB-Second-ARM")),
        ("us-west-2", ("USW2-Lambda-GB-Second-ARM",)),
        ("eu-west-1", ("EU-Lambda-GB-Second-ARM",)),
        ("eu-central-1", ("EUC1-Lambda-GB-Second-ARM",)),
        ("ap-south-1", ("APS3-Lambda-GB-Second-ARM",)),
        ("ap-southeast-3", ("APS4-Lambda-GB-Second-ARM",)),
    ],
)
def test_usage_types_carry_the_code_of_the_region(region: str, expected: tuple[str, ...]) -> None:
    assert regional_usage_types(("Lambda-GB-Second-ARM",), region) == expected


def test_every_known_region_has_its_own_code() -> None:
    codes = [code for code in USAGE_TYPE_REGION_CODES.values() if code]
    assert len(codes) == len(set(codes)) == len(USAGE_TYPE_REGION_CODES) - 1
    assert USAGE_TYPE_REGION_CODES["us-east-1"] == ""


def test_an_unknown_region_is_refused_naming_the_way_out() -> None:
    with pytest.raises(PropsError, match=r"^region: 'mx-central-1' .* UsageBudget\(regional=False\)"):
        regional_usage_types(("Lambda-GB-Second-ARM",), "mx-central-1")


def test_an_unknown_region_is_accepted_when_no_usage_budget_is_regional() -> None:
    # GIVEN a usage budget whose usage types are named in full for a region the table lacks
    literal = dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, usage_types=("MXC1-Lambda-GB-Second-ARM",), regional=False)
    # WHEN the props name that region / THEN they are valid, and so are props without usage budgets
    assert CostGuardProps(pipeline=_pipeline(), region="mx-central-1", usage_budgets=(literal,)).region
    assert CostGuardProps(pipeline=_pipeline(), region="mx-central-1", usage_budgets=()).region


def test_a_regional_usage_type_may_not_carry_a_region_code() -> None:
    coded = dataclasses.replace(LAMBDA_GB_SECONDS_BUDGET, usage_types=("USE2-Lambda-GB-Second-ARM",))
    with pytest.raises(PropsError, match=r"^usage_budgets: lambda-gb-seconds usage type 'USE2-Lambda-GB-Second-ARM'"):
        CostGuardProps(pipeline=_pipeline(), usage_budgets=(coded,))


def test_every_field_documents_its_default() -> None:
    # GIVEN the source of the props classes (field docstrings are not kept at run time)
    import inspect

    from constructs_lib import cost_guard_props as module

    for cls in (module.CostGuardProps, module.UsageBudget, module.GuardedPipeline):
        source = inspect.getsource(cls)
        # WHEN each field's docstring is found / THEN it ends with "Default: ..."
        for name in (f.name for f in dataclasses.fields(cls)):
            docstring = source.split(f"\n    {name}:", 1)[1].split('"""', 2)[1]
            assert re.search(r"Default: .+$", docstring.strip()), f"{cls.__name__}.{name}"
