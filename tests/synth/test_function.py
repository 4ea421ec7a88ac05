"""FunctionBlock in a bare stack: its resources' addresses, the one merged role policy, the destinations."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import cdktf
import pytest
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.lambda_function_event_invoke_config import LambdaFunctionEventInvokeConfig
from constructs import Construct

from constructs_lib import grants
from constructs_lib.function import FunctionBlock, FunctionBlockProps, FunctionCode
from constructs_lib.props import FunctionSize, PropsError

CODE = FunctionCode(
    filename="function.zip",
    source_code_hash="c29tZSBoYXNo",
    layer_arn="arn:aws:lambda:us-east-1:123456789012:layer:dependencies:1",
    runtime="python3.12",
    architecture="arm64",
)
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:dead-letters"
BUCKET_ARN = "arn:aws:s3:::images"


def _props(name: str) -> FunctionBlockProps:
    return FunctionBlockProps(
        function_name=f"blocks-{name}",
        role_name=f"blocks-{name}-us-east-1",
        description=f"The {name} function",
        handler=f"lambdas.handlers.{name}.handler",
        code=CODE,
        size=FunctionSize(memory_mb=256, timeout_seconds=30),
        environment={"B_FIRST": "1", "A_SECOND": "2"},
        log_retention_days=7,
    )


@dataclass(frozen=True)
class Blocks:
    """Two blocks (``first`` succeeds into ``second``) and the synthesized document."""

    first: FunctionBlock
    second: FunctionBlock
    document: dict[str, Any]

    def resource(self, resource_type: str, address: str) -> dict[str, Any]:
        """The one resource of ``resource_type`` whose name starts with ``address``."""
        [found] = [r for name, r in self.document["resource"][resource_type].items() if name.startswith(f"{address}_")]
        return found

    def statements(self, block: str) -> list[dict[str, Any]]:
        policy = self.resource(IamRolePolicy.TF_RESOURCE_TYPE, f"owner_{block}-policy")
        document = policy["policy"].removeprefix("${data.aws_iam_policy_document.").split(".")[0]
        return self.document["data"]["aws_iam_policy_document"][document]["statement"]


def _names(blocks: Blocks, address: str) -> list[str]:
    """Names of the functions whose address starts with ``address``."""
    return [
        name for name in blocks.document["resource"][LambdaFunction.TF_RESOURCE_TYPE] if name.startswith(f"{address}_")
    ]


@pytest.fixture(scope="module")
def blocks() -> Blocks:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "blocks")
    owner = Construct(stack, "owner")
    first = FunctionBlock(owner, "first", props=_props("first"))
    second = FunctionBlock(owner, "second", props=_props("second"))
    # A sid granted twice on other resources is merged into one statement.
    first.grant(grants.read_objects(BUCKET_ARN, ["uploads/"], sid="ReadImages"))
    first.grant(grants.read_objects(BUCKET_ARN, ["renditions/"], sid="ReadImages"))
    first.invoke_asynchronously(
        retry_attempts=1, max_event_age_seconds=600, dead_letter_queue_arn=QUEUE_ARN, on_success=second
    )
    first.attach_policy()
    second.attach_policy()
    return Blocks(first=first, second=second, document=json.loads(cdktf.Testing.synth(stack)))


def test_the_resources_are_children_of_the_owner_named_after_the_block(blocks: Blocks) -> None:
    # GIVEN a block named "first" in the construct "owner"
    block = blocks.first
    # THEN its resources keep the addresses the owner's own children would have
    paths = [
        block.log_group.node.path,
        block.role.node.path,
        block.policy.node.path,
        block.function.node.path,
        block.async_config.node.path if block.async_config else "",
    ]
    assert paths == [f"blocks/owner/first-{kind}" for kind in ("logs", "role", "policy", "function", "async")]


def test_the_function_runs_the_code_with_its_log_group_and_after_its_permissions(blocks: Blocks) -> None:
    function = blocks.resource(LambdaFunction.TF_RESOURCE_TYPE, "owner_first-function")
    log_group = blocks.resource(CloudwatchLogGroup.TF_RESOURCE_TYPE, "owner_first-logs")
    assert (function["runtime"], function["architectures"], function["layers"]) == (
        "python3.12",
        ["arm64"],
        [CODE.layer_arn],
    )
    assert (function["filename"], function["source_code_hash"]) == (CODE.filename, CODE.source_code_hash)
    assert (function["memory_size"], function["timeout"]) == (256, 30)
    assert function["environment"]["variables"] == {"B_FIRST": "1", "A_SECOND": "2"}
    assert (log_group["name"], log_group["retention_in_days"]) == ("/aws/lambda/blocks-first", 7)
    assert function["tracing_config"] == {"mode": "Active"}
    assert [dependency.split(".")[0] for dependency in function["depends_on"]] == [
        CloudwatchLogGroup.TF_RESOURCE_TYPE,
        IamRolePolicy.TF_RESOURCE_TYPE,
    ]


def test_the_role_policy_holds_logs_traces_the_grants_merged_and_the_destinations(blocks: Blocks) -> None:
    # GIVEN the first block's policy (two grants of ReadImages, a success destination)
    statements = blocks.statements("first")
    # THEN logs and traces come first, each sid once, then what Lambda delivers to the destinations with
    assert [s["sid"] for s in statements] == [
        "WriteLogs",
        "WriteTraces",
        "ReadImages",
        "SendToDeadLetterQueue",
        "InvokeFunctions",
    ]
    by_sid = {s["sid"]: s for s in statements}
    (second,) = _names(blocks, "owner_second-function")
    assert by_sid["ReadImages"]["resources"] == [f"{BUCKET_ARN}/uploads/*", f"{BUCKET_ARN}/renditions/*"]
    assert by_sid["SendToDeadLetterQueue"]["resources"] == [QUEUE_ARN]
    assert by_sid["InvokeFunctions"]["resources"] == [f"${{{LambdaFunction.TF_RESOURCE_TYPE}.{second}.arn}}"]


def test_a_block_without_destinations_has_no_async_config_and_only_logs_and_traces(blocks: Blocks) -> None:
    assert blocks.second.async_config is None
    assert [s["sid"] for s in blocks.statements("second")] == ["WriteLogs", "WriteTraces"]


def test_the_async_config_sends_successes_on_and_failures_to_the_queue(blocks: Blocks) -> None:
    config = blocks.resource(LambdaFunctionEventInvokeConfig.TF_RESOURCE_TYPE, "owner_first-async")
    (second,) = _names(blocks, "owner_second-function")
    assert (config["maximum_retry_attempts"], config["maximum_event_age_in_seconds"]) == (1, 600)
    assert config["destination_config"] == {
        "on_success": {"destination": f"${{{LambdaFunction.TF_RESOURCE_TYPE}.{second}.arn}}"},
        "on_failure": {"destination": QUEUE_ARN},
    }
    assert [dependency.split(".")[0] for dependency in config["depends_on"]] == [IamRolePolicy.TF_RESOURCE_TYPE]


def test_a_grant_after_the_policy_is_attached_is_refused(blocks: Blocks) -> None:
    # GIVEN a block whose policy is attached
    assert blocks.second.policy_attached
    # WHEN it is granted more / THEN it refuses, rather than losing the statement
    with pytest.raises(RuntimeError, match=r"^grant: the policy of blocks-second is attached already"):
        blocks.second.grant(grants.write_traces())
    with pytest.raises(RuntimeError, match=r"^attach_policy: the policy of blocks-second is attached already"):
        blocks.second.attach_policy()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"log_retention_days": 2}, r"^log_retention_days: 2 is not a CloudWatch retention value"),
        ({"size": FunctionSize(memory_mb=64, timeout_seconds=30)}, r"^size.memory_mb: 64"),
    ],
)
def test_bad_props_are_refused_with_their_name_first(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PropsError, match=message):
        dataclasses.replace(_props("first"), **changes)
