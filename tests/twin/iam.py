"""IAM for the twin: which authorization requests an AWS call makes, and whether a role's policies allow them.

moto's own access control checks actions only. Here every call a function makes is mapped to the IAM
requests AWS authorizes for it (action, resource ARN, condition keys; one call may make several, such as
``TransactWriteItems``), each request is checked against AWS's service authorization reference as
bundled by ``policy_sentry`` (the action exists, the ARN has one of its resource formats, every condition
key is one the action supports), then evaluated against the caller's identity policies and the
resource's policy with ``principalmapper``'s local policy simulation (wildcards, ``Resource`` /
``NotResource``, ``Action`` / ``NotAction``, the String/Arn/Numeric/Bool/Null condition operators with
``IfExists`` and ``ForAnyValue``/``ForAllValues``).

The evaluation logic is AWS's for one account without SCPs or permission boundaries: an explicit deny
in any policy wins; otherwise an allow in an identity policy, or in the resource policy for this
principal, allows; otherwise the request is implicitly denied. principalmapper compares resources
without regard to case, while ARNs are case-sensitive: ``Resource`` / ``NotResource`` are matched here, with
case, and principalmapper checks the action and conditions.
"""

from __future__ import annotations

import collections
import collections.abc
import fnmatch
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from policy_sentry.querying.actions import get_action_data

# principalmapper 1.1.5, its last release, imports ``Mapping`` from ``collections`` (an alias that
# Python 3.10 removed): restore the alias for it before the import. Its policy simulation is unchanged.
for _alias in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _alias):
        setattr(collections, _alias, getattr(collections.abc, _alias))

from principalmapper.querying.local_policy_simulation import policy_has_matching_statement  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402


class UnknownCall(Exception):
    """An AWS call whose IAM requests the twin does not know: add it to :func:`requests_for`."""


class InvalidRequest(Exception):
    """A mapped request that AWS's authorization reference does not know (a bug of the mapping)."""


@dataclass(frozen=True)
class AuthzRequest:
    """One request to IAM: ``action`` on ``resource`` with the request's condition keys."""

    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        extra = f" with {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{extra}"


@dataclass(frozen=True)
class Decision:
    """The outcome for one request: allowed or not, and the statements that decided it."""

    request: AuthzRequest
    allowed: bool
    explicit_deny: bool = False
    statements: tuple[dict[str, Any], ...] = ()
    near_misses: tuple[dict[str, Any], ...] = ()

    def explain(self) -> str:
        if self.allowed:
            return f"allowed: {self.request}"
        if self.explicit_deny:
            sids = ", ".join(str(s.get("Sid", "?")) for s in self.statements)
            return f"explicitly denied by {sids}: {self.request}"
        misses = "; ".join(
            f"{s.get('Sid', '?')} allows {s.get('Action')} on {s.get('Resource')}"
            + (f" if {s['Condition']}" if "Condition" in s else "")
            for s in self.near_misses
        )
        return f"no statement allows {self.request}" + (f" (statements for this action: {misses})" if misses else "")


# ------------------------------------------------------------------------------------- call -> requests


def _s3_object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def queue_arn(queue_url: str, region: str) -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` (or an emulator's URL) -> the queue ARN."""
    account, name = urlparse(queue_url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def function_arn(name: str, region: str, account: str) -> str:
    """The ARN IAM authorizes for a ``FunctionName`` (a name, partial ARN or ARN, with its qualifier)."""
    if name.startswith("arn:"):
        return name
    parts = name.split(":")
    if len(parts) >= 3 and parts[1] == "function":  # <account>:function:<name>[:<qualifier>]
        return f"arn:aws:lambda:{region}:{':'.join(parts)}"
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def _table(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}

_SQS_QUEUE_CALLS = {
    "ReceiveMessage": "sqs:ReceiveMessage",
    "DeleteMessage": "sqs:DeleteMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibility": "sqs:ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "SendMessage": "sqs:SendMessage",
    "SendMessageBatch": "sqs:SendMessage",
    "GetQueueAttributes": "sqs:GetQueueAttributes",
}

_DYNAMODB_TABLE_CALLS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable")


def requests_for(
    service: str, operation: str, params: Mapping[str, Any], *, region: str, account: str
) -> list[AuthzRequest]:
    """The IAM requests AWS authorizes for one call (from the Service Authorization Reference)."""
    if service == "s3":
        bucket = params.get("Bucket", "")
        if operation in ("GetObject", "HeadObject"):
            action = "s3:GetObjectVersion" if params.get("VersionId") else "s3:GetObject"
            return [AuthzRequest(action, _s3_object(bucket, params["Key"]))]
        if operation == "PutObject":
            return [AuthzRequest("s3:PutObject", _s3_object(bucket, params["Key"]))]
        if operation == "PutObjectTagging":
            action = "s3:PutObjectVersionTagging" if params.get("VersionId") else "s3:PutObjectTagging"
            return [AuthzRequest(action, _s3_object(bucket, params["Key"]))]
        if operation == "DeleteObject":
            action = "s3:DeleteObjectVersion" if params.get("VersionId") else "s3:DeleteObject"
            return [AuthzRequest(action, _s3_object(bucket, params["Key"]))]
        if operation == "DeleteObjects":
            return [
                AuthzRequest(
                    "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject",
                    _s3_object(bucket, item["Key"]),
                )
                for item in params["Delete"]["Objects"]
            ]
        if operation in ("ListObjectsV2", "ListObjects"):
            context: dict[str, str | list[str]] = {"s3:prefix": params.get("Prefix", "")}
            if "Delimiter" in params:
                context["s3:delimiter"] = params["Delimiter"]
            if "MaxKeys" in params:
                context["s3:max-keys"] = str(params["MaxKeys"])
            return [AuthzRequest("s3:ListBucket", f"arn:aws:s3:::{bucket}", context)]
        if operation == "CopyObject":
            source = params["CopySource"]
            source_key = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source.lstrip("/")
            return [
                AuthzRequest("s3:GetObject", f"arn:aws:s3:::{source_key}"),
                AuthzRequest("s3:PutObject", _s3_object(bucket, params["Key"])),
            ]
    if service == "dynamodb":
        if operation in _DYNAMODB_TABLE_CALLS:
            return [AuthzRequest(f"dynamodb:{operation}", _table(params["TableName"], region, account))]
        if operation in ("Query", "Scan"):
            table = _table(params["TableName"], region, account)
            resource = f"{table}/index/{params['IndexName']}" if params.get("IndexName") else table
            return [AuthzRequest(f"dynamodb:{operation}", resource)]
        if operation == "TransactWriteItems":
            requests = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                requests.append(AuthzRequest(_TRANSACT_ACTIONS[kind], _table(body["TableName"], region, account)))
            return requests
        if operation == "TransactGetItems":
            return [
                AuthzRequest("dynamodb:GetItem", _table(item["Get"]["TableName"], region, account))
                for item in params["TransactItems"]
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [
                AuthzRequest(f"dynamodb:{operation}", _table(name, region, account)) for name in params["RequestItems"]
            ]
    if service == "sqs" and operation in _SQS_QUEUE_CALLS:
        return [AuthzRequest(_SQS_QUEUE_CALLS[operation], queue_arn(params["QueueUrl"], region))]
    if service == "lambda" and operation == "Invoke":
        return [AuthzRequest("lambda:InvokeFunction", function_arn(params["FunctionName"], region, account))]
    if service == "rekognition" and operation == "DetectLabels":
        return [AuthzRequest("rekognition:DetectLabels", "*")]
    if service == "logs" and operation in ("CreateLogStream", "PutLogEvents"):
        group, stream = params["logGroupName"], params["logStreamName"]
        return [
            AuthzRequest(f"logs:{operation}", f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}")
        ]
    if service == "xray" and operation in ("PutTraceSegments", "PutTelemetryRecords"):
        return [AuthzRequest(f"xray:{operation}", "*")]
    raise UnknownCall(
        f"the twin does not know the IAM requests of {service}:{operation}; add them to tests/twin/iam.py"
    )


# --------------------------------------------------------------------------- the authorization reference


#: Placeholders whose values AWS never lets contain ``/`` or ``:`` (so a bucket format does not take an
#: object ARN, nor a table format an index ARN); other placeholders (object keys, log group names with
#: ``/``, function names with a qualifier) take any text.
_SEGMENTS = frozenset({"Partition", "Region", "Account", "BucketName", "TableName", "IndexName", "QueueName"})


def _pattern(arn_format: str) -> re.Pattern[str]:
    """An ARN format of the reference (``arn:${Partition}:s3:::${BucketName}/${ObjectName}``) as a regex."""
    pieces = re.split(r"\$\{([^}]+)\}", arn_format)
    regex = "".join(
        re.escape(piece) if index % 2 == 0 else ("[^/:]+" if piece in _SEGMENTS else ".+?")
        for index, piece in enumerate(pieces)
    )
    return re.compile("^" + regex + "$")


@functools.cache
def _reference(action: str) -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    service, name = action.split(":", 1)
    data = get_action_data(service, name)
    entries = data.get(service) if isinstance(data, dict) else None
    if not entries:
        raise InvalidRequest(f"{action} is not an action of AWS's authorization reference")
    return tuple(
        (_pattern(entry["resource_arn_format"]), frozenset(key.lower() for key in entry["condition_keys"]))
        for entry in entries
    )


#: Global condition keys every request carries; not listed per action in the reference.
GLOBAL_KEYS = ("aws:",)


def check_request(request: AuthzRequest) -> None:
    """Refuses a request whose action, resource format or condition keys AWS does not define."""
    entries = _reference(request.action)
    fitting = [keys for pattern, keys in entries if pattern.match(request.resource) or request.resource == "*"]
    if not fitting:
        raise InvalidRequest(
            f"{request.resource} is not a resource of {request.action} in AWS's authorization reference"
        )
    supported = frozenset().union(*fitting)
    unknown = [key for key in request.context if not key.startswith(GLOBAL_KEYS) and key.lower() not in supported]
    if unknown:
        raise InvalidRequest(f"{request.action} has no condition keys {unknown} in AWS's authorization reference")


# ------------------------------------------------------------------------------------------- evaluation


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(_listify(policy.get("Statement", [])))


def _case_sensitive_resource(statement: Mapping[str, Any], resource: str) -> bool:
    """principalmapper matches resources ignoring case; AWS does not."""

    def matches(pattern: str) -> bool:
        return fnmatch.fnmatchcase(resource, pattern.replace("[", "[[]"))

    if "Resource" in statement:
        return any(matches(pattern) for pattern in _listify(statement["Resource"]))
    if "NotResource" in statement:
        return not any(matches(pattern) for pattern in _listify(statement["NotResource"]))
    return True


def _statement_applies(
    statement: dict[str, Any], effect: str, request: AuthzRequest, context: CaseInsensitiveDict
) -> bool:
    # principalmapper would match Resource / NotResource too, but without case: it is shown every resource.
    probe = {key: value for key, value in statement.items() if key not in ("Resource", "NotResource")}
    probe["Resource"] = "*"
    return _case_sensitive_resource(statement, request.resource) and policy_has_matching_statement(
        {"Statement": [probe]}, effect, request.action, request.resource, context
    )


def _action_applies(statement: dict[str, Any], action: str) -> bool:
    probe = {key: value for key, value in statement.items() if key not in ("Resource", "NotResource", "Condition")}
    probe["Resource"] = "*"
    return policy_has_matching_statement({"Statement": [probe]}, "Allow", action, "*", CaseInsensitiveDict())


def _principal_matches(statement: Mapping[str, Any], principal_arn: str, account: str) -> bool:
    """Whether a resource policy statement is about this principal.

    A Deny naming the account covers every principal of it. An Allow naming the account (or its root)
    only delegates to the account's identity policies, so it allows nothing by itself: it applies to
    this principal when it names the principal (or ``*``).
    """
    principal = statement.get("Principal")
    if principal is None:
        return False
    if principal == "*":
        return True
    names = [str(name) for name in _listify(principal.get("AWS", []))] if isinstance(principal, dict) else []
    if statement.get("Effect") == "Deny":
        return any(name in ("*", principal_arn, account, f"arn:aws:iam::{account}:root") for name in names)
    return any(name in ("*", principal_arn) for name in names)


def evaluate(
    request: AuthzRequest,
    *,
    identity_policies: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any] | None,
    principal_arn: str,
    account: str,
    extra_context: Mapping[str, str | list[str]] | None = None,
) -> Decision:
    """AWS's decision for ``request`` by ``principal_arn``, with its identity and resource policies."""
    context = CaseInsensitiveDict(
        {
            "aws:PrincipalArn": principal_arn,
            "aws:PrincipalAccount": account,
            "aws:PrincipalType": "AssumedRole",
            **(extra_context or {}),
            **request.context,
        }
    )
    identity = [statement for policy in identity_policies for statement in statements(policy)]
    resource = [
        statement
        for statement in (statements(resource_policy) if resource_policy else [])
        if _principal_matches(statement, principal_arn, account)
    ]
    denies = tuple(s for s in identity + resource if _statement_applies(s, "Deny", request, context))
    if denies:
        return Decision(request, allowed=False, explicit_deny=True, statements=denies)
    allows = tuple(s for s in identity + resource if _statement_applies(s, "Allow", request, context))
    if allows:
        return Decision(request, allowed=True, statements=allows)
    near = tuple(s for s in identity if s.get("Effect") == "Allow" and _action_applies(s, request.action))
    return Decision(request, allowed=False, near_misses=near)
