"""IAM actions as named tuples and the statements built from them (AWS CDK ``bucket-grants`` style).

Every permission of the pipeline is one of these tuples applied to scoped resources: object-key
prefixes of the bucket, the table and its index ARNs, one queue, one function, one log group. A
``Statement`` is plain data; ``policy_document`` turns statements into the ``DataAwsIamPolicyDocument``
of a role policy, and is the one function here that imports the AWS provider bindings (slow to import:
when it is called, so that the statements stay quick to import and test).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
    from constructs import Construct

#: Read an object (and its metadata). Presigned GET URLs are signed with this permission.
OBJECT_READ_ACTIONS = ("s3:GetObject",)

#: Write an object. Presigned POST policies are signed with this permission.
OBJECT_WRITE_ACTIONS = ("s3:PutObject",)

#: Delete an object (deleting an image deletes its original and renditions).
OBJECT_DELETE_ACTIONS = ("s3:DeleteObject",)

#: List object keys; always granted with an ``s3:prefix`` condition (a step that wrote the renditions of
#: an image deleted meanwhile lists ``renditions/<id>/`` to remove them).
OBJECT_LIST_ACTIONS = ("s3:ListBucket",)

#: Read items and query the table and its indexes (what ``lambdas.adapters.aws.dynamodb`` reads with;
#: no ``ConditionCheck`` in its transactions, no ``DescribeTable``).
TABLE_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
)

#: Write items (conditional writes and transactions use these per item: a record's ``Put``, the counters'
#: ``Update``, the content-hash item's ``Put`` and ``Delete``).
TABLE_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)

#: Put a message on a queue: Lambda's on-failure destination uses the function's own role.
QUEUE_SEND_ACTIONS = ("sqs:GetQueueAttributes", "sqs:SendMessage")

#: Consume a queue: read, delete and hide messages while they are replayed.
QUEUE_CONSUME_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)

#: Invoke a function: Lambda's on-success destination uses the invoking function's role.
FUNCTION_INVOKE_ACTIONS = ("lambda:InvokeFunction",)

#: Write log events to an existing log group (the construct creates every log group itself).
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")

#: Send X-Ray traces. X-Ray has no resource-level permissions: the resource is ``*``.
TRACE_WRITE_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")

#: Label an image sent as bytes. DetectLabels has no resource-level permissions: the resource is ``*``.
LABEL_DETECT_ACTIONS = ("rekognition:DetectLabels",)

#: Actions that AWS authorizes on ``*`` only; the one place a ``*`` resource is allowed.
ACTIONS_WITHOUT_RESOURCE_LEVEL = frozenset(TRACE_WRITE_ACTIONS + LABEL_DETECT_ACTIONS)

ALL_RESOURCES = "*"


@dataclass(frozen=True)
class Condition:
    """One condition of a statement (``StringLike`` ``s3:prefix`` ``renditions/*``)."""

    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One ``Allow`` statement: a statement id, named actions, scoped resources and conditions."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        if not self.sid.isalnum():
            raise ValueError(f"sid: {self.sid!r} must be alphanumeric")
        if not self.actions or any("*" in action for action in self.actions):
            raise ValueError(f"actions: {self.actions!r} must name actions without wildcards")
        if not self.resources:
            raise ValueError(f"resources: statement {self.sid} has no resource")
        if ALL_RESOURCES in self.resources and not set(self.actions) <= ACTIONS_WITHOUT_RESOURCE_LEVEL:
            raise ValueError(
                f"resources: statement {self.sid} may use '*' only for actions without resource-level permissions"
            )


def object_arns(bucket_arn: str, prefixes: Iterable[str]) -> tuple[str, ...]:
    """ARNs of every object under each key prefix (``uploads/`` -> ``<bucket arn>/uploads/*``)."""
    arns = []
    for prefix in prefixes:
        if not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix:
            raise ValueError(f"prefixes: {prefix!r} must be a key prefix ending with '/'")
        arns.append(f"{bucket_arn}/{prefix}*")
    return tuple(arns)


def read_objects(bucket_arn: str, prefixes: Sequence[str], *, sid: str = "ReadObjects") -> Statement:
    """Read the objects under ``prefixes``."""
    return Statement(sid, OBJECT_READ_ACTIONS, object_arns(bucket_arn, prefixes))


def write_objects(bucket_arn: str, prefixes: Sequence[str], *, sid: str = "WriteObjects") -> Statement:
    """Create or overwrite objects under ``prefixes``."""
    return Statement(sid, OBJECT_WRITE_ACTIONS, object_arns(bucket_arn, prefixes))


def delete_objects(bucket_arn: str, prefixes: Sequence[str], *, sid: str = "DeleteObjects") -> Statement:
    """Delete objects under ``prefixes``."""
    return Statement(sid, OBJECT_DELETE_ACTIONS, object_arns(bucket_arn, prefixes))


def tag_objects(bucket_arn: str, prefixes: Sequence[str], *, sid: str = "TagObjects") -> Statement:
    """Set the tags of objects under ``prefixes`` (what a lifecycle rule may filter on)."""
    return Statement(sid, ("s3:PutObjectTagging",), object_arns(bucket_arn, prefixes))


def list_objects(bucket_arn: str, prefixes: Sequence[str], *, sid: str = "ListObjects") -> Statement:
    """List the keys under ``prefixes`` only (the bucket ARN with an ``s3:prefix`` condition)."""
    patterns = tuple(arn.removeprefix(f"{bucket_arn}/") for arn in object_arns(bucket_arn, prefixes))
    return Statement(sid, OBJECT_LIST_ACTIONS, (bucket_arn,), (Condition("StringLike", "s3:prefix", patterns),))


def table_arns(table_arn: str, index_names: Iterable[str]) -> tuple[str, ...]:
    """The table ARN and the ARN of each named index."""
    return (table_arn, *(f"{table_arn}/index/{name}" for name in index_names))


def read_table(table_arn: str, index_names: Sequence[str], *, sid: str = "ReadTable") -> Statement:
    """Get and query items of the table and its indexes."""
    return Statement(sid, TABLE_READ_ACTIONS, table_arns(table_arn, index_names))


def write_table(table_arn: str, *, sid: str = "WriteTable") -> Statement:
    """Put, update and delete items of the table (indexes are written through the table)."""
    return Statement(sid, TABLE_WRITE_ACTIONS, (table_arn,))


def send_to_queue(queue_arn: str, *, sid: str = "SendToQueue") -> Statement:
    """Send messages to one queue."""
    return Statement(sid, QUEUE_SEND_ACTIONS, (queue_arn,))


def consume_queue(queue_arn: str, *, sid: str = "ConsumeQueue") -> Statement:
    """Receive and delete messages of one queue."""
    return Statement(sid, QUEUE_CONSUME_ACTIONS, (queue_arn,))


def invoke_functions(function_arns: Sequence[str], *, sid: str = "InvokeFunctions") -> Statement:
    """Invoke the named functions (unqualified ARNs)."""
    return Statement(sid, FUNCTION_INVOKE_ACTIONS, tuple(function_arns))


def write_logs(log_group_arn: str, *, sid: str = "WriteLogs") -> Statement:
    """Write log streams of one log group (``<arn>:*`` covers its streams)."""
    return Statement(sid, LOG_WRITE_ACTIONS, (f"{log_group_arn}:*",))


def write_traces(*, sid: str = "WriteTraces") -> Statement:
    """Send X-Ray segments and telemetry (no resource-level permissions exist)."""
    return Statement(sid, TRACE_WRITE_ACTIONS, (ALL_RESOURCES,))


def detect_labels(*, sid: str = "DetectLabels") -> Statement:
    """Call Rekognition ``DetectLabels`` on image bytes (no resource-level permissions exist)."""
    return Statement(sid, LABEL_DETECT_ACTIONS, (ALL_RESOURCES,))


def merge(statements: Iterable[Statement]) -> list[Statement]:
    """Statements in grant order, each once; one sid granted again on more resources gets them added
    (only when its actions and conditions are the same, so that a merge never widens an action to other resources)."""
    merged: dict[str, Statement] = {}
    for statement in statements:
        known = merged.get(statement.sid)
        if known is None:
            merged[statement.sid] = statement
        elif known.actions == statement.actions and known.conditions == statement.conditions:
            resources = tuple(dict.fromkeys(known.resources + statement.resources))
            merged[statement.sid] = Statement(statement.sid, known.actions, resources, known.conditions)
        else:
            raise ValueError(f"sid: {statement.sid!r} is granted with different actions or conditions")
    return list(merged.values())


def policy_document(scope: Construct, id: str, statements: Iterable[Statement]) -> DataAwsIamPolicyDocument:
    """An IAM policy document (``data.aws_iam_policy_document``, child ``id`` of ``scope``) that allows
    ``statements``, as every role policy of the constructs is built (``IamRolePolicy(..., policy=document.json)``)."""
    from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
        DataAwsIamPolicyDocument,
        DataAwsIamPolicyDocumentStatement,
        DataAwsIamPolicyDocumentStatementCondition,
    )

    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=statement.sid,
                effect="Allow",
                actions=list(statement.actions),
                resources=list(statement.resources),
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test=condition.test, variable=condition.variable, values=list(condition.values)
                    )
                    for condition in statement.conditions
                ]
                or None,
            )
            for statement in statements
        ],
    )
