"""moto's server with the AWS Budgets calls it lacks filled in, run as its own process by the twin.

``python -m tests.twin.emulator_server`` prints ``port <n>`` once the server listens on a free loopback
port, then serves until it is terminated. moto (5.2) implements budgets and their notifications but not
``DescribeSubscribersForNotification``, the tagging calls or budget actions, all of which the AWS provider
reads or writes for ``aws_budgets_budget`` and ``aws_budgets_budget_action``. They are filled here, in
the harness, with the request and response shapes of the Budgets API reference
(https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_Operations_AWS_Budgets.html);
the stack is never changed to suit the emulator.

``ExecuteBudgetAction`` does what AWS Budgets does when a threshold is crossed (``APPLY_BUDGET_ACTION``)
or when the operator reverses it (``REVERSE_BUDGET_ACTION``): it attaches, or detaches, the action's
managed policy to its roles in moto's IAM, which the twin then evaluates like any other policy.

A separate process keeps the emulator's state away from the in-process ``mock_aws`` of the other tests,
which resets moto's backends whenever it starts and stops.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from copy import deepcopy
from typing import Any
from xml.etree import ElementTree

from moto.athena.responses import AthenaResponse
from moto.awslambda.models import LambdaFunction
from moto.budgets.models import budgets_backends
from moto.budgets.responses import BudgetsResponse
from moto.core.exceptions import JsonRESTError
from moto.iam.access_control import PermissionResult
from moto.iam.models import iam_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.s3.models import FakeBucket, S3Backend
from moto.s3.responses import S3Response


class NotFound(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("NotFoundException", message)


_lock = threading.Lock()
#: (account, budget name) -> action id -> the action as DescribeBudgetAction returns it.
_actions: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
#: resource ARN -> tags (``[{"Key", "Value"}]``).
_tags: dict[str, list[dict[str, str]]] = {}


def _budget_arn(account: str, budget: str, action_id: str | None = None) -> str:
    arn = f"arn:aws:budgets::{account}:budget/{budget}"
    return f"{arn}/action/{action_id}" if action_id else arn


def _action(self: BudgetsResponse) -> dict[str, Any]:
    account, budget, action_id = (self._get_param(name) for name in ("AccountId", "BudgetName", "ActionId"))
    action = _actions.get((account, budget), {}).get(action_id)
    if action is None:
        raise NotFound(f"Unable to get action: {action_id} - the action doesn't exist.")
    return action


def describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    account, budget_name = self._get_param("AccountId"), self._get_param("BudgetName")
    wanted = self._get_param("Notification")
    budget = budgets_backends[self.current_account][self.partition].budgets[account].get(budget_name)
    if budget is None:
        raise NotFound(f"Unable to get budget: {budget_name} - the budget doesn't exist.")
    for notification in budget.notifications:
        if all(notification.details.get(key) == value for key, value in wanted.items()):
            return json.dumps({"Subscribers": notification.subscribers})
    raise NotFound("Unable to get subscribers - the notification doesn't exist.")


def create_budget_action(self: BudgetsResponse) -> str:
    account, budget = self._get_param("AccountId"), self._get_param("BudgetName")
    action_id = str(uuid.uuid4())
    action = {
        "ActionId": action_id,
        "BudgetName": budget,
        "NotificationType": self._get_param("NotificationType"),
        "ActionType": self._get_param("ActionType"),
        "ActionThreshold": self._get_param("ActionThreshold"),
        "Definition": self._get_param("Definition"),
        "ExecutionRoleArn": self._get_param("ExecutionRoleArn"),
        "ApprovalModel": self._get_param("ApprovalModel"),
        "Status": "STANDBY",
        "Subscribers": self._get_param("Subscribers"),
    }
    with _lock:
        _actions.setdefault((account, budget), {})[action_id] = action
        _tags[_budget_arn(account, budget, action_id)] = list(self._get_param("ResourceTags") or [])
    return json.dumps({"AccountId": account, "BudgetName": budget, "ActionId": action_id})


def describe_budget_action(self: BudgetsResponse) -> str:
    account, budget = self._get_param("AccountId"), self._get_param("BudgetName")
    return json.dumps({"AccountId": account, "BudgetName": budget, "Action": _action(self)})


def describe_budget_actions_for_budget(self: BudgetsResponse) -> str:
    account, budget = self._get_param("AccountId"), self._get_param("BudgetName")
    return json.dumps({"Actions": list(_actions.get((account, budget), {}).values())})


def update_budget_action(self: BudgetsResponse) -> str:
    account, budget = self._get_param("AccountId"), self._get_param("BudgetName")
    with _lock:
        action = _action(self)
        old = deepcopy(action)
        for name in ("NotificationType", "ActionThreshold", "Definition", "ExecutionRoleArn", "ApprovalModel"):
            value = self._get_param(name)
            if value is not None:
                action[name] = value
        if self._get_param("Subscribers") is not None:
            action["Subscribers"] = self._get_param("Subscribers")
    return json.dumps({"AccountId": account, "BudgetName": budget, "OldAction": old, "NewAction": action})


def delete_budget_action(self: BudgetsResponse) -> str:
    account, budget = self._get_param("AccountId"), self._get_param("BudgetName")
    with _lock:
        action = _action(self)
        del _actions[(account, budget)][action["ActionId"]]
        _tags.pop(_budget_arn(account, budget, action["ActionId"]), None)
    return json.dumps({"AccountId": account, "BudgetName": budget, "Action": action})


def execute_budget_action(self: BudgetsResponse) -> str:
    """Apply or reverse an ``APPLY_IAM_POLICY`` action on moto's IAM, as AWS Budgets would."""
    account, budget = self._get_param("AccountId"), self._get_param("BudgetName")
    execution = self._get_param("ExecutionType")
    with _lock:
        action = _action(self)
        iam = iam_backends[account][self.partition]
        definition = action["Definition"]["IamActionDefinition"]
        for role in definition.get("Roles", []):
            if execution in ("APPLY_BUDGET_ACTION", "RETRY_BUDGET_ACTION"):
                iam.attach_role_policy(definition["PolicyArn"], role)
            elif execution == "REVERSE_BUDGET_ACTION":
                iam.detach_role_policy(definition["PolicyArn"], role)
        action["Status"] = {
            "APPLY_BUDGET_ACTION": "EXECUTION_SUCCESS",
            "RETRY_BUDGET_ACTION": "EXECUTION_SUCCESS",
            "REVERSE_BUDGET_ACTION": "REVERSE_SUCCESS",
            "RESET_BUDGET_ACTION": "STANDBY",
        }[execution]
    return json.dumps(
        {"AccountId": account, "BudgetName": budget, "ActionId": action["ActionId"], "ExecutionType": execution}
    )


def list_tags_for_resource(self: BudgetsResponse) -> str:
    return json.dumps({"ResourceTags": _tags.get(self._get_param("ResourceARN"), [])})


def tag_resource(self: BudgetsResponse) -> str:
    arn = self._get_param("ResourceARN")
    with _lock:
        tags = {tag["Key"]: tag["Value"] for tag in _tags.get(arn, [])}
        tags.update({tag["Key"]: tag["Value"] for tag in self._get_param("ResourceTags") or []})
        _tags[arn] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return json.dumps({})


def untag_resource(self: BudgetsResponse) -> str:
    arn = self._get_param("ResourceARN")
    removed = set(self._get_param("ResourceTagKeys") or [])
    with _lock:
        _tags[arn] = [tag for tag in _tags.get(arn, []) if tag["Key"] not in removed]
    return json.dumps({})


_moto_create_budget = BudgetsResponse.create_budget
_moto_delete_budget = BudgetsResponse.delete_budget


def create_budget(self: BudgetsResponse) -> str:
    """moto's CreateBudget, keeping the ``ResourceTags`` it ignores."""
    answer = _moto_create_budget(self)
    budget = self._get_param("Budget")["BudgetName"]
    with _lock:
        _tags[_budget_arn(self._get_param("AccountId"), budget)] = list(self._get_param("ResourceTags") or [])
    return answer


def delete_budget(self: BudgetsResponse) -> str:
    answer = _moto_delete_budget(self)
    with _lock:
        _tags.pop(_budget_arn(self._get_param("AccountId"), self._get_param("BudgetName")), None)
    return answer


FILLED = {
    "describe_subscribers_for_notification": describe_subscribers_for_notification,
    "create_budget_action": create_budget_action,
    "describe_budget_action": describe_budget_action,
    "describe_budget_actions_for_budget": describe_budget_actions_for_budget,
    "update_budget_action": update_budget_action,
    "delete_budget_action": delete_budget_action,
    "execute_budget_action": execute_budget_action,
    "list_tags_for_resource": list_tags_for_resource,
    "tag_resource": tag_resource,
    "untag_resource": untag_resource,
    "create_budget": create_budget,
    "delete_budget": delete_budget,
}


# Lambda: moto (5.2) neither keeps nor returns a function's ``LoggingConfig``; AWS returns it with its
# defaults (https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html), and without it the
# provider plans an update of every function on each plan.
_moto_function_init = LambdaFunction.__init__
_moto_get_configuration = LambdaFunction.get_configuration
_moto_update_configuration = LambdaFunction.update_configuration


def _function_init(self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
    _moto_function_init(self, account_id, spec, *args, **kwargs)
    self.twin_logging_config = _logging_config(spec.get("LoggingConfig") or {}, self.function_name)


def _logging_config(given: dict[str, Any], function_name: str) -> dict[str, Any]:
    config = {
        "LogFormat": given.get("LogFormat", "Text"),
        "LogGroup": given.get("LogGroup") or f"/aws/lambda/{function_name}",
    }
    if config["LogFormat"] == "JSON":
        config["ApplicationLogLevel"] = given.get("ApplicationLogLevel", "INFO")
        config["SystemLogLevel"] = given.get("SystemLogLevel", "INFO")
    return config


def _get_configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
    config = _moto_get_configuration(self, *args, **kwargs)
    config["LoggingConfig"] = self.twin_logging_config
    return config


def _update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
    if "LoggingConfig" in config_updates:
        self.twin_logging_config = _logging_config(config_updates["LoggingConfig"] or {}, self.function_name)
    return _moto_update_configuration(self, config_updates)


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> Any:
    """S3: moto evaluates a bucket policy on object requests without its conditions, so the stack's
    TLS-only deny (``aws:SecureTransport`` false) denies every request. The twin evaluates the bucket
    policy, conditions included, on every call a function makes; moto's own check stands aside."""
    return PermissionResult.NEUTRAL


_moto_delete_object = S3Backend.delete_object


def _delete_object(
    self: S3Backend, bucket_name: str, key_name: str, version_id: str | None = None, bypass: bool = False
) -> tuple[bool, dict[str, Any]]:
    """S3: a bucket whose versioning is suspended keeps its versions, and deleting one by its version id
    removes that version only. moto (5.2) treats a suspended bucket as unversioned there: it drops every
    version of the key (and fails on a delete marker, a 500). Terraform suspends versioning when it
    destroys ``aws_s3_bucket_versioning``, so the operator's emptying after a destroy that kept the bucket
    meets exactly this."""
    bucket = self.get_bucket(bucket_name)
    if version_id is None or bucket.versioning_status != "Suspended":
        return _moto_delete_object(self, bucket_name, key_name, version_id, bypass)
    bucket.versioning_status = "Enabled"
    try:
        return _moto_delete_object(self, bucket_name, key_name, version_id, bypass)
    finally:
        bucket.versioning_status = "Suspended"


_moto_put_bucket_lifecycle = S3Backend.put_bucket_lifecycle
_moto_get_bucket_lifecycle = S3Response.get_bucket_lifecycle
_SIZE_BOUNDS = ("ObjectSizeGreaterThan", "ObjectSizeLessThan")
# (bucket, rule id) -> the object-size bounds of the rule's And filter, as the client sent them.
_and_sizes: dict[tuple[str, str], dict[str, str]] = {}


def _put_bucket_lifecycle(self: S3Backend, bucket_name: str, rules: list[dict[str, Any]]) -> None:
    """S3: a lifecycle rule's ``And`` filter keeps its object-size bounds. moto (5.2) stores only its prefix
    and tags and answers without them; the AWS provider sends ``ObjectSizeGreaterThan`` 0 in every ``And``
    filter and waits (3 minutes, then fails) until S3 reads back what it sent."""
    for rule in rules:
        conjunction = (rule.get("Filter") or {}).get("And") or {}
        _and_sizes[(bucket_name, str(rule.get("ID")))] = {
            name: str(conjunction[name]) for name in _SIZE_BOUNDS if conjunction.get(name) is not None
        }
    _moto_put_bucket_lifecycle(self, bucket_name, rules)


def _get_bucket_lifecycle(self: S3Response) -> Any:
    status, headers, body = _moto_get_bucket_lifecycle(self)
    namespace = "http://s3.amazonaws.com/doc/2006-03-01/"
    ElementTree.register_namespace("", namespace)
    root = ElementTree.fromstring(body)
    for rule in root.iter(f"{{{namespace}}}Rule"):
        conjunction = rule.find(f"{{{namespace}}}Filter/{{{namespace}}}And")
        sizes = _and_sizes.get((self.bucket_name, rule.findtext(f"{{{namespace}}}ID") or ""), {})
        if conjunction is None:
            continue
        for position, (name, value) in enumerate(sizes.items()):
            bound = ElementTree.Element(f"{{{namespace}}}{name}")
            bound.text = value
            conjunction.insert(position, bound)
    return status, headers, ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


def delete_named_query(self: AthenaResponse) -> str:
    """Athena: moto (5.2) creates and reads named queries but cannot delete them (the provider retries)."""
    self.athena_backend.named_queries.pop(self._get_param("NamedQueryId"), None)
    return json.dumps({})


def fill_gaps() -> None:
    for name, method in FILLED.items():
        setattr(BudgetsResponse, name, method)
    AthenaResponse.delete_named_query = delete_named_query  # type: ignore[attr-defined]
    FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]
    S3Backend.delete_object = _delete_object  # type: ignore[method-assign]
    S3Backend.put_bucket_lifecycle = _put_bucket_lifecycle  # type: ignore[method-assign]
    S3Response.get_bucket_lifecycle = _get_bucket_lifecycle  # type: ignore[method-assign]
    LambdaFunction.__init__ = _function_init  # type: ignore[method-assign]
    LambdaFunction.get_configuration = _get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = _update_configuration  # type: ignore[method-assign]


def main() -> None:
    fill_gaps()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(f"port {server.get_host_and_port()[1]}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
