"""The applied stack itself: a plan after the apply changes nothing, the functions run the synthesized
archive, every policy passes parliament's lint, the cost brake stops the pipeline and lifting it resumes
it, and a second deployment with another prefix applies beside the first."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from parliament import analyze_policy_string

from tests.synth.support import Synthesized
from tests.twin.conftest import Applied, Emulator, TwinSession, apply_stack, release_data
from tests.twin.runtime import PostRefused
from tests.twin.support import declare, image, photo, upload


def test_a_plan_after_the_apply_proposes_no_change(applied: Applied) -> None:
    changes = applied.workspace.plan_changes()
    assert [(change["address"], change["change"]["actions"]) for change in changes] == []


def test_every_function_runs_the_synthesized_archive_and_its_handler_is_in_it(
    twin: TwinSession, synthesized: Synthesized
) -> None:
    functions = synthesized.resources("aws_lambda_function")
    assert functions
    for resource in functions.values():
        configuration = twin.twin.configuration(resource["function_name"])
        archive = synthesized.path.parent / resource["filename"]
        digest = base64.b64encode(hashlib.sha256(archive.read_bytes()).digest()).decode()
        assert configuration["CodeSha256"] == digest == resource["source_code_hash"], resource["function_name"]
        module = configuration["Handler"].rpartition(".")[0].replace(".", "/") + ".py"
        assert module in zipfile.ZipFile(archive).namelist(), (resource["function_name"], module)


#: parliament findings accepted, each with its reason.
ACCEPTED_FINDINGS: dict[str, str] = {}


def test_every_applied_policy_passes_parliament(twin: TwinSession) -> None:
    # GIVEN every policy the deployment wrote (inline and customer managed; AWS's own managed policies are
    # AWS's to lint)
    iam = twin.twin.admin("iam")
    prefix = "imgmgr-"
    roles = [role for role in iam.list_roles()["Roles"] if role["RoleName"].startswith(prefix)]
    assert len(roles) >= 7, [role["RoleName"] for role in roles]
    documents = [
        (role["RoleName"], iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"])
        for role in roles
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    ]
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        documents.append((policy["PolicyName"], version["PolicyVersion"]["Document"]))
    findings = []
    for name, document in documents:
        for finding in analyze_policy_string(json.dumps(document)).findings:
            if finding.issue not in ACCEPTED_FINDINGS:
                findings.append((name, finding.issue, finding.detail))
    assert findings == []


def _brake(session: TwinSession) -> tuple[dict, str]:
    budgets = session.twin.admin("budgets")
    for budget in budgets.describe_budgets(AccountId=session.twin.account)["Budgets"]:
        actions = budgets.describe_budget_actions_for_budget(
            AccountId=session.twin.account, BudgetName=budget["BudgetName"]
        )["Actions"]
        if actions:
            return actions[0], budget["BudgetName"]
    raise AssertionError("no budget action was applied")


def _execute(session: TwinSession, execution: str) -> None:
    action, budget = _brake(session)
    session.twin.admin("budgets").execute_budget_action(
        AccountId=session.twin.account, BudgetName=budget, ActionId=action["ActionId"], ExecutionType=execution
    )


def test_the_cost_brake_stops_uploads_and_labelling_and_lifting_it_resumes_them(twin: TwinSession) -> None:
    # GIVEN the budget action applied, as AWS Budgets applies it at the threshold
    action, _ = _brake(twin)
    assert action["ActionType"] == "APPLY_IAM_POLICY" and action["ApprovalModel"] == "AUTOMATIC"
    _execute(twin, "APPLY_BUDGET_ACTION")
    try:
        # WHEN a user uploads THEN the API still answers, but S3 refuses the presigned POST: its signer may
        # no longer write originals
        data = photo(21)
        target = declare(twin, data).json()["upload"]
        with pytest.raises(PostRefused, match="explicitly denied"):
            twin.twin.post_object(target["url"], target["fields"], data)
        denied = twin.expect_denials()
        assert [(call.function, call.operation) for call in denied] == [("imgmgr-api", "PostObject")]
        # AND a user still sees and lists images
        assert twin.api.request("GET", "/v1/images", api_key=twin.api_key).status == 200
    finally:
        # WHEN the operator reverses the action
        _execute(twin, "REVERSE_BUDGET_ACTION")
    # THEN uploads and the pipeline work again
    uploaded = upload(twin, photo(22))
    assert image(twin, uploaded["id"])["status"] == "ready", twin.errors()


def test_the_brake_denies_labelling_to_a_step_already_running(twin: TwinSession) -> None:
    # GIVEN an image uploaded before the brake, and the brake applied while it is processed
    data = photo(23)
    target = declare(twin, data).json()["upload"]
    twin.twin.post_object(target["url"], target["fields"], data)
    _execute(twin, "APPLY_BUDGET_ACTION")
    try:
        twin.twin.drain()
        denied = {(call.function, call.decisions[0].request.action) for call in twin.expect_denials()}
        # THEN the steps' writes and Rekognition were refused, and the event waits in the dead-letter queue
        assert ("imgmgr-compress", "s3:PutObject") in denied, denied
        sqs = twin.twin.admin("sqs")
        depth = sqs.get_queue_attributes(
            QueueUrl=twin.outputs["dead_letter_queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
        )
        assert int(depth["Attributes"]["ApproximateNumberOfMessages"]) == 1
    finally:
        _execute(twin, "REVERSE_BUDGET_ACTION")
    # WHEN the operator replays the queue THEN the image gets ready
    replay = twin.twin.invoke("imgmgr-redrive", {})
    assert replay.error is None and replay.result["replayed"] == 1, (replay.error, replay.result)
    twin.twin.drain()
    images = twin.api.request("GET", "/v1/images", api_key=twin.api_key).json()["items"]
    assert all(item["status"] == "ready" for item in images if item["sha256"] == hashlib.sha256(data).hexdigest())


def test_a_second_deployment_with_another_prefix_applies_beside_the_first(
    applied: Applied, emulator: Emulator, synth_settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # GIVEN the ready stack synthesized again with another name prefix and stack name
    from stacks.app import build_app

    settings = synth_settings.with_changes(name_prefix="imgtwo", stack_name="imgtwo")
    outdir = tmp_path_factory.mktemp("cdktf-second")
    app, _ = build_app(settings, outdir)
    app.synth()
    # WHEN it is applied to the same account and region as the first
    second = apply_stack(
        Path(outdir) / "stacks" / "imgtwo", tmp_path_factory.mktemp("twin-second") / "stack", emulator.endpoint
    )
    try:
        # THEN every name differs and the first deployment is untouched (its plan is still empty)
        assert second.outputs["bucket_name"] != applied.outputs["bucket_name"]
        assert second.outputs["table_name"] != applied.outputs["table_name"]
        assert applied.workspace.plan_changes() == []
    finally:
        release_data(emulator.endpoint, second.outputs)
        second.workspace.destroy()
    assert applied.workspace.plan_changes() == []


def test_the_key_the_operator_reads_from_the_outputs_is_the_usage_plan_key(twin: TwinSession) -> None:
    # GIVEN the value of `terraform output -raw api_key_value` and the key API Gateway holds
    held = twin.twin.admin("apigateway").get_api_key(apiKey=twin.outputs["api_key_id"], includeValue=True)
    # THEN they are the same key, and it opens the data routes
    assert twin.api_key == held["value"]
    assert twin.api.request("GET", "/v1/categories", api_key=twin.api_key).status == 200
