"""CostGuard on a small stack of its own (a pipeline and its guard): alerts, budgets, the brake, alarms
within the free 10 alarm metrics, the dashboard, and checkov."""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdktf
import pytest
from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget
from cdktf_cdktf_provider_aws.budgets_budget_action import BudgetsBudgetAction
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription

from constructs_lib.cost_guard import CostGuard
from constructs_lib.cost_guard_props import (
    LAMBDA_GB_SECONDS_BUDGET,
    REKOGNITION_IMAGES_BUDGET,
    CostGuardProps,
    GuardedPipeline,
)
from constructs_lib.image_pipeline import ImagePipeline
from constructs_lib.props import ImagePipelineProps, PropsError
from tests.synth.support import plain, short
from tests.synth.test_checkov import read_skips, run_checkov

EMAILS = ("ops@example.com", "finance@example.com")
_REFERENCE = re.compile(r"^\$\{(?:data\.)?(?P<type>[a-z0-9_]+)\.(?P<name>[^.}]+)\.(?P<attr>[a-z_]+)\}$")

#: Skips this stack needs beyond tests/synth/checkov_skips.txt (to be moved there when CostGuard joins
#: the ready stack).
COST_GUARD_SKIPS = {
    "CKV_AWS_26": "the alert topic carries only budget and alarm texts; AWS Budgets and CloudWatch alarms cannot "
    "publish under the AWS managed key alias/aws/sns, and a customer-managed key costs 1 USD a month",
}


@dataclass(frozen=True)
class GuardedStack:
    guard: CostGuard
    pipeline: ImagePipeline
    json_text: str
    document: dict[str, Any]
    path: Path

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return self.document.get("resource", {}).get(resource_type, {})

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        return self.document.get("data", {}).get(data_type, {})

    def own(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one type that the guard created (construct id ``cost``)."""
        return {name: r for name, r in self.resources(resource_type).items() if name.startswith("cost_")}

    def document_of(self, reference: str) -> dict[str, Any]:
        """The policy document a ``${data.aws_iam_policy_document.<name>.json}`` reference points at."""
        type_, name, attr = _ref(reference)
        assert (type_, attr) == ("aws_iam_policy_document", "json"), reference
        return self.data(type_)[name]


def _ref(value: str) -> tuple[str, str, str]:
    match = _REFERENCE.match(value)
    assert match, f"not a reference: {value!r}"
    return match["type"], match["name"], match["attr"]


def _build(
    app: cdktf.App, name: str, region: str = "us-east-1", **props: Any
) -> tuple[cdktf.TerraformStack, ImagePipeline, CostGuard]:
    stack = cdktf.TerraformStack(app, name)
    AwsProvider(stack, "aws", region=region)
    pipeline = ImagePipeline(stack, "pipeline", props=ImagePipelineProps(name_prefix="guarded"))
    guard = CostGuard(
        stack,
        "cost",
        props=CostGuardProps(name_prefix="guarded", pipeline=GuardedPipeline.of(pipeline), **props),
    )
    return stack, pipeline, guard


def _synth(stack: cdktf.TerraformStack, pipeline: ImagePipeline, guard: CostGuard, path: Path) -> GuardedStack:
    json_text = cdktf.Testing.synth(stack)
    path.write_text(json_text)
    return GuardedStack(guard, pipeline, json_text, json.loads(json_text), path)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> GuardedStack:
    app = cdktf.Testing.app()
    stack, pipeline, guard = _build(app, "guarded", alert_emails=EMAILS, monthly_budget_usd=12.5)
    return _synth(stack, pipeline, guard, tmp_path_factory.mktemp("guarded") / "cdk.tf.json")


@pytest.fixture(scope="module")
def unbraked(tmp_path_factory: pytest.TempPathFactory) -> GuardedStack:
    app = cdktf.Testing.app()
    # In another region, budgeting the whole account with credits counted.
    stack, pipeline, guard = _build(
        app,
        "unbraked",
        region="eu-central-1",
        brake_enabled=False,
        dashboard=False,
        cost_allocation_tag_key=None,
        count_credits=True,
    )
    return _synth(stack, pipeline, guard, tmp_path_factory.mktemp("unbraked") / "cdk.tf.json")


# ------------------------------------------------------------------------------------------- topic


def test_each_alert_address_subscribes_to_the_topic_by_email(guarded: GuardedStack) -> None:
    subscriptions = guarded.own(SnsTopicSubscription.TF_RESOURCE_TYPE).values()
    assert sorted((s["protocol"], s["endpoint"]) for s in subscriptions) == sorted(("email", e) for e in EMAILS)
    for subscription in subscriptions:
        assert _ref(subscription["topic_arn"])[0] == "aws_sns_topic"


def test_only_budgets_and_cloudwatch_of_this_account_may_publish_to_the_topic(guarded: GuardedStack) -> None:
    # GIVEN the topic policy
    (policy,) = guarded.own("aws_sns_topic_policy").values()
    (statement,) = guarded.document_of(policy["policy"])["statement"]
    # THEN it allows only sns:Publish on the topic, to the two services, from this account
    assert statement["effect"] == "Allow"
    assert statement["actions"] == ["sns:Publish"]
    assert [_ref(r)[0] for r in statement["resources"]] == ["aws_sns_topic"]
    assert statement["principals"] == [
        {"type": "Service", "identifiers": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]}
    ]
    (condition,) = statement["condition"]
    assert (condition["test"], condition["variable"]) == ("StringEquals", "aws:SourceAccount")
    assert _ref(condition["values"][0])[0] == "aws_caller_identity"


# ----------------------------------------------------------------------------------------- budgets


def test_monthly_cost_budget_alerts_at_80_percent_actual_and_100_percent_forecast(guarded: GuardedStack) -> None:
    budgets = [b for b in guarded.own(BudgetsBudget.TF_RESOURCE_TYPE).values() if b["budget_type"] == "COST"]
    assert [plain(b["name"]) for b in budgets] == ["guarded-monthly-cost-<region>"]
    assert cdktf.Testing.to_have_resource_with_properties(
        guarded.json_text,
        BudgetsBudget.TF_RESOURCE_TYPE,
        {
            "budget_type": "COST",
            "limit_amount": "12.50",
            "limit_unit": "USD",
            "time_unit": "MONTHLY",
            "notification": [
                {
                    "notification_type": "ACTUAL",
                    "comparison_operator": "GREATER_THAN",
                    "threshold": 80,
                    "threshold_type": "PERCENTAGE",
                    "subscriber_email_addresses": list(EMAILS),
                },
                {
                    "notification_type": "FORECASTED",
                    "comparison_operator": "GREATER_THAN",
                    "threshold": 100,
                    "threshold_type": "PERCENTAGE",
                    "subscriber_email_addresses": list(EMAILS),
                },
            ],
        },
    )


def test_every_budget_notifies_the_topic_once_its_policy_exists(guarded: GuardedStack) -> None:
    budgets = guarded.own(BudgetsBudget.TF_RESOURCE_TYPE).values()
    (policy_name,) = guarded.own("aws_sns_topic_policy")
    for budget in budgets:
        assert budget["depends_on"] == [f"aws_sns_topic_policy.{policy_name}"]
        for notification in budget["notification"]:
            assert [_ref(arn)[0] for arn in notification["subscriber_sns_topic_arns"]] == ["aws_sns_topic"]


def test_the_cost_budget_counts_the_deployments_tagged_resources_before_credits(guarded: GuardedStack) -> None:
    # GIVEN the cost budget of the default props (tag Project, the stack's name prefix)
    (budget,) = [b for b in guarded.own(BudgetsBudget.TF_RESOURCE_TYPE).values() if b["budget_type"] == "COST"]
    # THEN it filters on the user tag Project=guarded and does not let credits reduce the cost it measures
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": ["user:Project$guarded"]}]
    assert budget["cost_types"] == {"include_credit": False}


def test_the_cost_budget_may_cover_the_whole_account_with_credits(unbraked: GuardedStack) -> None:
    (budget,) = [b for b in unbraked.own(BudgetsBudget.TF_RESOURCE_TYPE).values() if b["budget_type"] == "COST"]
    assert "cost_filter" not in budget
    assert budget["cost_types"] == {"include_credit": True}


def _usage_budgets(stack: GuardedStack) -> dict[str, dict[str, Any]]:
    budgets = stack.own(BudgetsBudget.TF_RESOURCE_TYPE).values()
    return {short(b["name"]).split("-", 1)[1]: b for b in budgets if b["budget_type"] == "USAGE"}


def test_usage_budgets_watch_lambda_gb_seconds_and_rekognition_images(guarded: GuardedStack) -> None:
    # GIVEN the usage budgets of a stack in us-east-1
    usage = _usage_budgets(guarded)
    assert sorted(usage) == ["lambda-gb-seconds", "rekognition-images"]
    lambda_budget = usage["lambda-gb-seconds"]
    assert (lambda_budget["limit_amount"], lambda_budget["limit_unit"]) == ("400000", "Lambda-GB-Second")
    # THEN they count the usage types as us-east-1 names them: without a region code, and with USE1
    assert lambda_budget["cost_filter"] == [
        {"name": "UsageType", "values": ["Lambda-GB-Second-ARM", "USE1-Lambda-GB-Second-ARM"]}
    ]
    rekognition = usage["rekognition-images"]
    # (what the guard's 12.50 USD budget buys at 0.001 USD an image: the images billed to no tag)
    assert rekognition["limit_amount"] == "12500"
    assert rekognition["cost_filter"] == [
        {
            "name": "UsageType",
            "values": [
                "ImagesProcessed",
                "Group2-ImagesProcessed",
                "USE1-ImagesProcessed",
                "USE1-Group2-ImagesProcessed",
            ],
        }
    ]


def test_usage_budgets_count_the_usage_types_of_the_providers_region(unbraked: GuardedStack) -> None:
    # GIVEN a stack whose provider is in eu-central-1
    usage = _usage_budgets(unbraked)
    # THEN its usage types carry that region's code
    assert unbraked.guard.usage_region == "eu-central-1"
    assert usage["lambda-gb-seconds"]["cost_filter"] == [{"name": "UsageType", "values": ["EUC1-Lambda-GB-Second-ARM"]}]
    assert usage["rekognition-images"]["cost_filter"][0]["values"] == [
        "EUC1-ImagesProcessed",
        "EUC1-Group2-ImagesProcessed",
    ]


def _guard_in(provider_region: str | None, **props: Any) -> CostGuard:
    """A guard built (not synthesized) in a stack of its own, over an existing pipeline's resources."""
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "elsewhere")
    AwsProvider(stack, "aws", region=provider_region)
    pipeline = _build(cdktf.Testing.app(), "source")[1]
    return CostGuard(stack, "cost", props=CostGuardProps(pipeline=GuardedPipeline.of(pipeline), **props))


def test_a_region_without_a_known_usage_type_code_fails_at_construction() -> None:
    with pytest.raises(PropsError, match=r"^region: 'ap-southeast-7' has no known usage type code"):
        _guard_in("ap-southeast-7")


def test_a_provider_without_a_plain_region_needs_the_region_prop() -> None:
    # GIVEN a provider that takes its region from the environment at apply time
    with pytest.raises(PropsError, match=r"^region: the usage budgets need the deployment's region"):
        _guard_in(None)
    # WHEN the region is given / THEN the guard is built for it
    assert _guard_in(None, region="us-west-2").usage_region == "us-west-2"


# ------------------------------------------------------------------------------------------- brake


def _actions_by_budget(stack: GuardedStack) -> dict[str, dict[str, Any]]:
    """The guard's budget actions by the name of the budget each belongs to."""
    budgets = stack.resources(BudgetsBudget.TF_RESOURCE_TYPE)
    actions = {}
    for action in stack.own(BudgetsBudgetAction.TF_RESOURCE_TYPE).values():
        type_, name, attr = _ref(action["budget_name"])
        assert (type_, attr) == (BudgetsBudget.TF_RESOURCE_TYPE, "name")
        actions[short(budgets[name]["name"])] = action
    return actions


def test_the_brake_attaches_the_deny_policy_to_every_pipeline_role_at_100_percent_actual(
    guarded: GuardedStack,
) -> None:
    # GIVEN the cost budget's action
    action = _actions_by_budget(guarded)["guarded-monthly-cost"]
    # THEN it applies the brake policy automatically when the actual cost reaches the budget
    assert (action["action_type"], action["approval_model"], action["notification_type"]) == (
        "APPLY_IAM_POLICY",
        "AUTOMATIC",
        "ACTUAL",
    )
    assert action["action_threshold"] == {"action_threshold_type": "PERCENTAGE", "action_threshold_value": 100}
    definition = action["definition"]["iam_action_definition"]
    assert _ref(definition["policy_arn"])[0] == "aws_iam_policy"
    roles = guarded.resources("aws_iam_role")
    braked = {short(roles[_ref(reference)[1]]["name"]) for reference in definition["roles"]}
    assert braked == {f"guarded-{name}" for name in ("compress", "thumbnail", "categorize", "api", "redrive")}
    assert sorted(s["subscription_type"] for s in action["subscriber"]) == ["EMAIL", "EMAIL", "SNS"]


def test_the_rekognition_usage_budget_brakes_too_and_only_it(guarded: GuardedStack) -> None:
    # GIVEN the budget actions: Rekognition's cost carries no tag, so the cost budget never counts it
    actions = _actions_by_budget(guarded)
    # THEN the cost budget and the Rekognition usage budget have one each (the two free action-enabled
    # budgets), the Lambda usage budget none
    assert sorted(actions) == ["guarded-monthly-cost", "guarded-rekognition-images"]
    assert guarded.guard.props.action_budget_count == len(actions) == 2
    assert set(guarded.guard.usage_brakes) == {"rekognition-images"}
    # AND the usage brake applies automatically at 100 % of the actual images (the 12,500 that the budget buys)
    usage = actions["guarded-rekognition-images"]
    assert (usage["action_type"], usage["approval_model"], usage["notification_type"]) == (
        "APPLY_IAM_POLICY",
        "AUTOMATIC",
        "ACTUAL",
    )
    assert usage["action_threshold"] == {"action_threshold_type": "PERCENTAGE", "action_threshold_value": 100}
    assert _usage_budgets(guarded)["rekognition-images"]["limit_amount"] == "12500"


def test_the_usage_brake_is_the_cost_brake_on_another_trigger(guarded: GuardedStack) -> None:
    # GIVEN both budget actions
    actions = _actions_by_budget(guarded)
    cost, usage = actions["guarded-monthly-cost"], actions["guarded-rekognition-images"]
    # THEN they attach the same policy to the same roles, through the same execution role, once its
    # permission exists, and tell the same subscribers
    for key in ("definition", "execution_role_arn", "depends_on", "subscriber", "approval_model"):
        assert usage[key] == cost[key], key
    (policy_name,) = guarded.own("aws_iam_policy")
    assert _ref(usage["definition"]["iam_action_definition"]["policy_arn"])[:2] == ("aws_iam_policy", policy_name)
    (role_name,) = [
        name for name, role in guarded.own("aws_iam_role").items() if short(role["name"]) == "guarded-cost-brake"
    ]
    assert _ref(usage["execution_role_arn"]) == ("aws_iam_role", role_name, "arn")
    (role_policy_name,) = guarded.own("aws_iam_role_policy")
    assert usage["depends_on"] == [f"aws_iam_role_policy.{role_policy_name}"]


def test_the_brake_has_one_execution_role_with_one_permission(guarded: GuardedStack) -> None:
    # GIVEN the guard's roles and their inline policies (least privilege: no role per action)
    roles = [short(role["name"]) for role in guarded.own("aws_iam_role").values()]
    policies = guarded.own("aws_iam_role_policy").values()
    # THEN one role serves both actions, with the one statement the brake needs
    assert roles == ["guarded-cost-brake"]
    assert [_ref(policy["role"])[0] for policy in policies] == ["aws_iam_role"]


def test_a_usage_budget_without_brake_gets_no_action(guarded: GuardedStack) -> None:
    # GIVEN a guard whose Rekognition usage budget only alerts
    alerting = dataclasses.replace(REKOGNITION_IMAGES_BUDGET, brake=False)
    guard = _guard_in("us-east-1", usage_budgets=(LAMBDA_GB_SECONDS_BUDGET, alerting))
    # THEN only the cost budget brakes
    assert guard.usage_brakes == {}
    assert guard.brake is not None
    assert guard.props.action_budget_count == 1


def _brake_statements(guarded: GuardedStack) -> dict[str, dict[str, Any]]:
    (policy,) = guarded.own("aws_iam_policy").values()
    return {s["sid"]: s for s in guarded.document_of(policy["policy"])["statement"]}


def test_the_brake_only_denies(guarded: GuardedStack) -> None:
    assert {s["effect"] for s in _brake_statements(guarded).values()} == {"Deny"}


def test_the_brake_stops_labels_and_new_objects_but_keeps_images_readable_and_deletable(
    guarded: GuardedStack,
) -> None:
    statements = _brake_statements(guarded)
    denied = {action for s in statements.values() for action in s["actions"]}
    assert denied == {"rekognition:DetectLabels", "s3:PutObject", "lambda:InvokeFunction"}
    prefixes = {r.rsplit("}/", 1)[1] for r in statements["DenyNewObjects"]["resources"]}
    assert prefixes == {"uploads/*", "renditions/*"}


def test_the_brake_denies_replays_to_the_redrive_role_only(guarded: GuardedStack) -> None:
    # GIVEN the statement that denies invocations
    replays = _brake_statements(guarded)["DenyReplays"]
    functions = guarded.resources("aws_lambda_function")
    targets = {functions[_ref(r)[1]]["function_name"] for r in replays["resources"]}
    (condition,) = replays["condition"]
    _, role, attr = _ref(condition["values"][0])
    # THEN it names the three steps, and only for the redrive role (destinations keep their chain)
    assert targets == {"guarded-compress", "guarded-thumbnail", "guarded-categorize"}
    assert (condition["test"], condition["variable"], attr) == ("ArnEquals", "aws:PrincipalArn", "arn")
    assert short(guarded.resources("aws_iam_role")[role]["name"]) == "guarded-redrive"


def test_the_brake_role_trusts_only_budgets_of_this_account(guarded: GuardedStack) -> None:
    role = next(r for r in guarded.own("aws_iam_role").values() if short(r["name"]) == "guarded-cost-brake")
    (statement,) = guarded.document_of(role["assume_role_policy"])["statement"]
    assert statement["principals"] == [{"type": "Service", "identifiers": ["budgets.amazonaws.com"]}]
    assert [(c["test"], c["variable"]) for c in statement["condition"]] == [("StringEquals", "aws:SourceAccount")]


def test_the_brake_role_may_only_attach_and_detach_the_brake_on_the_pipeline_roles(guarded: GuardedStack) -> None:
    # GIVEN the inline policy of the brake's execution role
    (policy,) = guarded.own("aws_iam_role_policy").values()
    (statement,) = guarded.document_of(policy["policy"])["statement"]
    # THEN it attaches and detaches, on the five pipeline role ARNs, only the brake policy
    assert statement["actions"] == ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    roles = guarded.resources("aws_iam_role")
    assert {short(roles[_ref(r)[1]]["name"]) for r in statement["resources"]} == {
        f"guarded-{name}" for name in ("compress", "thumbnail", "categorize", "api", "redrive")
    }
    (condition,) = statement["condition"]
    assert (condition["test"], condition["variable"]) == ("ArnEquals", "iam:PolicyARN")
    assert _ref(condition["values"][0])[0] == "aws_iam_policy"


def test_extra_roles_join_the_pipeline_roles_under_the_brake(guarded: GuardedStack) -> None:
    # GIVEN a role of another construct that works for the pipeline (a stand-in here)
    other = guarded.pipeline.roles["api"]
    # WHEN the guarded resources are taken from the pipeline with it
    roles = GuardedPipeline.of(guarded.pipeline, extra_roles={"exporter": other}).roles
    # THEN the brake covers the pipeline's five roles and the extra one
    assert roles == {**guarded.pipeline.roles, "exporter": other}


def test_an_extra_role_may_not_take_the_name_of_a_pipeline_role(guarded: GuardedStack) -> None:
    with pytest.raises(PropsError, match=r"^extra_roles: \['redrive'\] already name roles of the pipeline"):
        GuardedPipeline.of(guarded.pipeline, extra_roles={"redrive": guarded.pipeline.roles["api"]})


def test_without_the_brake_there_is_no_action_policy_or_role(unbraked: GuardedStack) -> None:
    # GIVEN brake_enabled off, with the default usage budgets (Rekognition's would brake)
    assert unbraked.guard.usage_brakes == {}
    assert not unbraked.own("aws_budgets_budget_action")
    assert not unbraked.own("aws_iam_policy")
    assert not unbraked.own("aws_iam_role")


def test_without_alert_emails_budgets_notify_the_topic_only(unbraked: GuardedStack) -> None:
    assert not unbraked.own(SnsTopicSubscription.TF_RESOURCE_TYPE)
    for budget in unbraked.own(BudgetsBudget.TF_RESOURCE_TYPE).values():
        for notification in budget["notification"]:
            assert "subscriber_email_addresses" not in notification


# ------------------------------------------------------------------------------------------ alarms


def _alarm_metrics(alarm: dict[str, Any]) -> int:
    """Alarm metrics CloudWatch bills for one alarm: 1, or each metric of a metric-math alarm."""
    if "metric_query" in alarm:
        return sum(1 for query in alarm["metric_query"] if "metric" in query)
    return 1


def test_alarms_stay_within_the_free_ten_alarm_metrics(guarded: GuardedStack) -> None:
    alarms = guarded.own("aws_cloudwatch_metric_alarm").values()
    counted = sum(_alarm_metrics(alarm) for alarm in alarms)
    assert counted == guarded.guard.alarm_metric_count == 9


def test_every_alarm_and_its_recovery_go_to_the_topic(guarded: GuardedStack) -> None:
    for alarm in guarded.own("aws_cloudwatch_metric_alarm").values():
        for key in ("alarm_actions", "ok_actions"):
            assert [_ref(arn)[0] for arn in alarm[key]] == ["aws_sns_topic"], alarm["alarm_name"]


def test_alarms_cover_dead_letters_api_errors_lambda_errors_throttles_and_timeouts(guarded: GuardedStack) -> None:
    alarms = {a["alarm_name"]: a for a in guarded.own("aws_cloudwatch_metric_alarm").values()}
    assert sorted(alarms) == [
        "guarded-api-5xx",
        "guarded-dead-letters",
        "guarded-lambda-errors",
        "guarded-lambda-throttles",
        "guarded-near-timeout",
    ]
    dead_letters = alarms["guarded-dead-letters"]
    assert (dead_letters["metric_name"], dead_letters["threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    assert _ref(dead_letters["dimensions"]["QueueName"])[0] == "aws_sqs_queue"
    api = alarms["guarded-api-5xx"]
    assert (api["namespace"], api["metric_name"], api["dimensions"]["Stage"]) == ("AWS/ApiGateway", "5XXError", "prod")
    assert _ref(api["dimensions"]["ApiName"])[0] == "aws_api_gateway_rest_api"


def test_near_timeout_compares_each_longest_run_with_its_own_timeout(guarded: GuardedStack) -> None:
    # GIVEN the near-timeout alarm and the functions' timeouts
    alarm = next(a for a in guarded.own("aws_cloudwatch_metric_alarm").values() if a["alarm_name"].endswith("timeout"))
    functions = guarded.resources("aws_lambda_function")
    # WHEN each duration metric is matched with its divisor in the expression
    (expression,) = [q["expression"] for q in alarm["metric_query"] if q.get("return_data")]
    divisors = dict(re.findall(r"(d\d+) / (\d+)", expression))
    timeouts = {}
    for query in alarm["metric_query"]:
        if "metric" in query:
            function = functions[_ref(query["metric"]["dimensions"]["FunctionName"])[1]]
            assert (query["metric"]["metric_name"], query["metric"]["stat"]) == ("Duration", "Maximum")
            timeouts[function["function_name"]] = (int(divisors[query["id"]]), function["timeout"] * 1000)
    # THEN every function is watched against its timeout in milliseconds, over 80% of it
    assert len(timeouts) == 5
    assert all(divisor == timeout for divisor, timeout in timeouts.values()), timeouts
    assert alarm["threshold"] == 0.8


# --------------------------------------------------------------------------------------- dashboard


def test_one_dashboard_charts_every_function_the_api_and_the_queue(guarded: GuardedStack) -> None:
    (dashboard,) = guarded.own("aws_cloudwatch_dashboard").values()
    body = json.loads(dashboard["dashboard_body"])
    names = {
        metric[3]
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
        if metric[0] == "AWS/Lambda"
    }
    functions = guarded.resources("aws_lambda_function")
    assert {functions[_ref(name)[1]]["function_name"] for name in names} == {
        f"guarded-{name}" for name in ("compress", "thumbnail", "categorize", "api", "redrive")
    }
    namespaces = {metric[0] for widget in body["widgets"] for metric in widget["properties"]["metrics"]}
    assert namespaces == {"AWS/Lambda", "AWS/ApiGateway", "AWS/SQS", "AWS/Rekognition"}


def test_the_dashboard_is_optional(unbraked: GuardedStack) -> None:
    assert not unbraked.own("aws_cloudwatch_dashboard")


# ----------------------------------------------------------------------------------------- checkov


def test_guarded_stack_passes_checkov(guarded: GuardedStack) -> None:
    # GIVEN the project's reviewed skips and the guard's one (the unencrypted alert topic)
    skips = {**read_skips(), **COST_GUARD_SKIPS}
    # WHEN checkov scans the pipeline and its guard
    report = run_checkov(guarded.path, skips)
    # THEN nothing fails
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    failed = report["results"].get("failed_checks", [])
    assert not failed, "\n".join(f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in failed)
