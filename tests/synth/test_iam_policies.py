"""Walks every IAM policy of the synthesized stack: least privilege by construction.

No wildcard action in any Allow statement; a ``*`` resource only for the actions AWS authorizes on
``*`` alone (X-Ray, Rekognition DetectLabels); Rekognition only for categorize; S3 only on the prefixes
each function works on (the pipeline's functions and the analytics exporter), and the bucket itself
only to list those prefixes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.synth.support import Synthesized

_REFERENCE = re.compile(r"^\$\{(?:data\.)?(?P<type>[a-z0-9_]+)\.(?P<name>[^.}]+)\.(?P<attr>[a-z_]+)\}")
_STAR_ONLY_ACTIONS = {"rekognition:DetectLabels", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
STEPS = ("compress", "thumbnail", "categorize")
#: Where the analytics exporter writes events, and the lines it refuses.
EXPORTER_PREFIXES = ("analytics/events/", "analytics/rejected/")


def _ref(value: str) -> tuple[str, str, str]:
    match = _REFERENCE.match(value)
    assert match, f"not a reference: {value!r}"
    return match["type"], match["name"], match["attr"]


def _documents(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return synthesized.document["data"]["aws_iam_policy_document"]


def _allow_statements(synthesized: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, document in _documents(synthesized).items():
        for statement in document["statement"]:
            if statement.get("effect", "Allow") == "Allow":
                yield name, statement


def _function_statements(synthesized: Synthesized) -> dict[str, list[dict[str, Any]]]:
    """Allow statements of each function's role, by function short name (``compress``...)."""
    documents = _documents(synthesized)
    by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in synthesized.resources("aws_iam_role_policy").values():
        _, role, _ = _ref(policy["role"])
        _, document, _ = _ref(policy["policy"])
        by_role.setdefault(role, []).extend(documents[document]["statement"])
    result = {}
    for function in synthesized.resources("aws_lambda_function").values():
        _, role, _ = _ref(function["role"])
        result[function["function_name"].split("-", 1)[1]] = by_role[role]
    return result


def _object_grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(S3 action, key prefix) pairs: object actions on ``<bucket>/<prefix>*``, listing on the bucket
    with an ``s3:prefix`` condition."""
    pairs = set()
    for statement in statements:
        for action in statement["actions"]:
            if not action.startswith("s3:"):
                continue
            for resource in statement["resources"]:
                if action == "s3:ListBucket":
                    assert re.fullmatch(r"\$\{aws_s3_bucket\.[^}]+\.arn\}", resource), resource
                    (condition,) = statement["condition"]
                    assert (condition["test"], condition["variable"]) == ("StringLike", "s3:prefix")
                    pairs.update((action, value.removesuffix("*")) for value in condition["values"])
                    continue
                if action == "s3:GetBucketLocation":
                    # Bucket metadata (Athena asks it for the caller): the bucket itself, no key prefix.
                    assert re.fullmatch(r"\$\{aws_s3_bucket\.[^}]+\.arn\}", resource), resource
                    pairs.add((action, ""))
                    continue
                match = re.fullmatch(r"\$\{aws_s3_bucket\.[^}]+\.arn\}/(?P<prefix>(?:[a-z-]+/)+)\*", resource)
                assert match, f"S3 grant on {resource!r} is not an object prefix"
                pairs.add((action, match["prefix"]))
    return pairs


def _actions(statements: list[dict[str, Any]], service: str) -> set[str]:
    return {a for s in statements for a in s["actions"] if a.startswith(service + ":")}


def test_every_role_policy_is_built_from_a_policy_document(synthesized: Synthesized) -> None:
    # GIVEN every inline role policy and role trust policy
    policies = [p["policy"] for p in synthesized.resources("aws_iam_role_policy").values()]
    trusts = [r["assume_role_policy"] for r in synthesized.resources("aws_iam_role").values()]
    # WHEN each is read / THEN it is the JSON of a data.aws_iam_policy_document, never a hand-built string
    assert policies and trusts
    for policy in policies + trusts:
        assert re.fullmatch(r"\$\{data\.aws_iam_policy_document\.[^}]+\.json\}", policy), policy


def test_no_allow_statement_has_a_wildcard_action(synthesized: Synthesized) -> None:
    for document, statement in _allow_statements(synthesized):
        assert "not_actions" not in statement, document
        for action in statement["actions"]:
            assert "*" not in action, f"{document}: {action}"


def test_star_resources_only_for_actions_without_resource_level_permissions(synthesized: Synthesized) -> None:
    # GIVEN every Allow statement that names resources
    star_actions = set()
    for document, statement in _allow_statements(synthesized):
        if "resources" not in statement:  # trust policies name principals instead
            assert statement["actions"] == ["sts:AssumeRole"], document
            continue
        assert "not_resources" not in statement, document
        # WHEN a statement grants on '*'
        if "*" in statement["resources"]:
            assert statement["resources"] == ["*"], document
            star_actions.update(statement["actions"])
    # THEN those are exactly X-Ray's and Rekognition DetectLabels
    assert star_actions == _STAR_ONLY_ACTIONS


def test_only_categorize_may_call_rekognition(synthesized: Synthesized) -> None:
    callers = {
        name for name, statements in _function_statements(synthesized).items() if _actions(statements, "rekognition")
    }
    assert callers == {"categorize"}
    assert _actions(_function_statements(synthesized)["categorize"], "rekognition") == {"rekognition:DetectLabels"}


def test_no_role_may_administer_the_bucket(synthesized: Synthesized) -> None:
    for name, statements in _function_statements(synthesized).items():
        assert _actions(statements, "s3") <= {
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:ListBucket",
            "s3:PutObjectTagging",
            "s3:GetBucketLocation",
        }, name


def test_only_compress_may_tag_and_only_originals(synthesized: Synthesized) -> None:
    # The originals policy's lifecycle rule acts on originals compress tagged (lambdas.domain.originals)
    taggers = {
        name: {prefix for action, prefix in _object_grants(statements) if action == "s3:PutObjectTagging"}
        for name, statements in _function_statements(synthesized).items()
        if "s3:PutObjectTagging" in _actions(statements, "s3")
    }
    assert taggers == {"compress": {"uploads/"}}


def test_only_steps_that_write_renditions_and_the_exporter_may_list_and_only_their_prefixes(
    synthesized: Synthesized,
) -> None:
    # GIVEN the listing grants of every function (the api presigns but never lists)
    listers = {
        name: {prefix for action, prefix in _object_grants(statements) if action == "s3:ListBucket"}
        for name, statements in _function_statements(synthesized).items()
    }
    # THEN compress and thumbnail may list renditions/ (to purge those of a deleted image), the exporter
    # its own two prefixes (to tell a missing object from a refusal), the api the events and the query
    # results (Athena lists them with the caller's rights for the usage figures), nobody else anything
    assert {name: prefixes for name, prefixes in listers.items() if prefixes} == {
        "compress": {"renditions/"},
        "thumbnail": {"renditions/"},
        "exporter": set(EXPORTER_PREFIXES),
        "api": {"analytics/events/", "athena-results/"},
    }


def test_object_grants_read_nested_prefixes() -> None:
    # GIVEN a statement on a nested prefix of the bucket
    statement = {"actions": ["s3:PutObject"], "resources": ["${aws_s3_bucket.b.arn}/analytics/events/*"]}
    # WHEN its grants are read / THEN the whole prefix is kept
    assert _object_grants([statement]) == {("s3:PutObject", "analytics/events/")}


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (
            "compress",
            {
                ("s3:GetObject", "uploads/"),
                # an original that arrives after its image was deleted is deleted (lambdas.steps.compress)
                ("s3:DeleteObject", "uploads/"),
                # an original whose compressed rendition is verified is tagged for the originals policy
                ("s3:PutObjectTagging", "uploads/"),
                ("s3:PutObject", "renditions/"),
                ("s3:ListBucket", "renditions/"),
                ("s3:DeleteObject", "renditions/"),
            },
        ),
        (
            "thumbnail",
            {
                ("s3:GetObject", "uploads/"),
                ("s3:GetObject", "renditions/"),
                ("s3:PutObject", "renditions/"),
                ("s3:ListBucket", "renditions/"),
                ("s3:DeleteObject", "renditions/"),
            },
        ),
        ("categorize", {("s3:GetObject", "renditions/")}),
        (
            "api",
            {
                ("s3:PutObject", "uploads/"),
                ("s3:GetObject", "uploads/"),
                ("s3:GetObject", "renditions/"),
                ("s3:DeleteObject", "uploads/"),
                ("s3:DeleteObject", "renditions/"),
                # the usage figures: Athena reads the events and writes its results with the api's rights
                ("s3:GetObject", "analytics/events/"),
                ("s3:ListBucket", "analytics/events/"),
                ("s3:GetObject", "athena-results/"),
                ("s3:PutObject", "athena-results/"),
                ("s3:ListBucket", "athena-results/"),
                ("s3:GetBucketLocation", ""),
            },
        ),
        ("redrive", set()),
        (
            "exporter",
            {
                (action, prefix)
                for action in ("s3:PutObject", "s3:GetObject", "s3:ListBucket")
                for prefix in EXPORTER_PREFIXES
            },
        ),
    ],
)
def test_each_function_reaches_only_its_prefixes(
    synthesized: Synthesized, function: str, expected: set[tuple[str, str]]
) -> None:
    assert _object_grants(_function_statements(synthesized)[function]) == expected


def test_only_the_api_and_compress_may_delete_originals(synthesized: Synthesized) -> None:
    # GIVEN the functions whose roles may delete objects under uploads/
    deleters = {
        name
        for name, statements in _function_statements(synthesized).items()
        if ("s3:DeleteObject", "uploads/") in _object_grants(statements)
    }
    # THEN the api (deleting an image) and compress (an original that arrived after the delete) only
    assert deleters == {"api", "compress"}


def test_table_access_is_scoped_to_the_table_and_its_indexes(synthesized: Synthesized) -> None:
    # GIVEN the DynamoDB statements of every function
    for name, statements in _function_statements(synthesized).items():
        for statement in statements:
            if not _actions([statement], "dynamodb"):
                continue
            # THEN each names only the table ARN or one of its index ARNs, and no Scan
            for resource in statement["resources"]:
                assert re.fullmatch(r"\$\{aws_dynamodb_table\.[^}]+\.arn\}(/index/gsi[123])?", resource), (
                    name,
                    resource,
                )
            assert "dynamodb:Scan" not in statement["actions"], name


@pytest.mark.parametrize("function", ["api", *STEPS])
def test_table_actions_are_the_ones_the_adapter_sends(synthesized: Synthesized, function: str) -> None:
    # GIVEN the DynamoDB actions of a function that reads and writes image records
    actions = _actions(_function_statements(synthesized)[function], "dynamodb")
    # THEN they are the reads and the per-item writes of its transactions (record Put, counter Update,
    # content-hash item Put and Delete) and the term batches, nothing it never sends (ConditionCheckItem,
    # DescribeTable); the twin evaluates every call against them (tests/twin)
    assert actions == {
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }


def test_redrive_drains_the_queue_but_touches_no_data(synthesized: Synthesized) -> None:
    statements = _function_statements(synthesized)["redrive"]
    assert _actions(statements, "sqs") == {
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    }
    assert not _actions(statements, "s3") | _actions(statements, "dynamodb")


@pytest.mark.parametrize(
    ("function", "targets"),
    [
        ("compress", {"thumbnail"}),
        ("thumbnail", {"categorize"}),
        ("categorize", set()),
        # the retry of a failed image starts its failed step again
        ("api", set(STEPS)),
        ("redrive", {*STEPS, "exporter"}),
        ("exporter", set()),
    ],
)
def test_functions_invoke_only_their_destination_or_replay_targets(
    synthesized: Synthesized, function: str, targets: set[str]
) -> None:
    functions = synthesized.resources("aws_lambda_function")
    invoked = set()
    for statement in _function_statements(synthesized)[function]:
        if "lambda:InvokeFunction" in statement["actions"]:
            assert statement["actions"] == ["lambda:InvokeFunction"]
            for resource in statement["resources"]:
                type_, name, attr = _ref(resource)
                assert (type_, attr) == ("aws_lambda_function", "arn")
                invoked.add(functions[name]["function_name"].split("-", 1)[1])
    assert invoked == targets


def test_only_the_pipeline_steps_and_the_exporter_may_send_to_the_dead_letter_queue(synthesized: Synthesized) -> None:
    # GIVEN the functions whose roles may send messages to a queue
    senders = {
        name
        for name, statements in _function_statements(synthesized).items()
        if "sqs:SendMessage" in _actions(statements, "sqs")
    }
    # THEN they are the functions with an on-failure destination: the steps and the exporter, to the queue only
    assert senders == {*STEPS, "exporter"}
    for name in senders:
        for statement in _function_statements(synthesized)[name]:
            if _actions([statement], "sqs"):
                assert set(statement["actions"]) == {"sqs:GetQueueAttributes", "sqs:SendMessage"}, name
                assert [_ref(r)[0::2] for r in statement["resources"]] == [("aws_sqs_queue", "arn")], name


def test_each_function_writes_only_its_own_log_group(synthesized: Synthesized) -> None:
    groups = synthesized.resources("aws_cloudwatch_log_group")
    for name, statements in _function_statements(synthesized).items():
        resources = [r for s in statements if _actions([s], "logs") for r in s["resources"]]
        assert len(resources) == 1, name
        _, group, _ = _ref(resources[0])
        assert resources[0].endswith(".arn}:*")
        assert groups[group]["name"].endswith(f"-{name}"), name


def test_function_roles_trust_only_lambda(synthesized: Synthesized) -> None:
    documents = _documents(synthesized)
    for function in synthesized.resources("aws_lambda_function").values():
        _, role, _ = _ref(function["role"])
        _, trust, _ = _ref(synthesized.resources("aws_iam_role")[role]["assume_role_policy"])
        (statement,) = documents[trust]["statement"]
        assert statement["principals"] == [{"identifiers": ["lambda.amazonaws.com"], "type": "Service"}]


def test_the_ready_stack_leaves_the_account_wide_api_gateway_setting_alone(synthesized: Synthesized) -> None:
    # GIVEN the default settings THEN no account singleton is taken over and no managed policy attached
    assert synthesized.resources("aws_api_gateway_account") == {}
    assert synthesized.resources("aws_iam_role_policy_attachment") == {}
