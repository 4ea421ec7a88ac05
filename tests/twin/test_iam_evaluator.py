"""The twin's IAM: calls become AWS's authorization requests, and their evaluation follows AWS's logic.

Expected outcomes follow https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
and AWS's Service Authorization Reference, not the implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.twin.iam import (
    AuthzRequest,
    Decision,
    InvalidRequest,
    UnknownCall,
    check_request,
    evaluate,
    requests_for,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/imgmgr-resize"
BUCKET = "arn:aws:s3:::imgmgr-images"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/images"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:resize"


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(
    request: AuthzRequest,
    *identity_statements: Mapping[str, Any],
    resource_policy: Mapping[str, Any] | None = None,
    context: Mapping[str, str | list[str]] | None = None,
) -> Decision:
    return evaluate(
        request,
        identity_policies=[policy(*identity_statements)] if identity_statements else [],
        resource_policy=resource_policy,
        principal_arn=ROLE,
        account=ACCOUNT,
        extra_context=context,
    )


def get_object(key: str, context: Mapping[str, str | list[str]] | None = None) -> AuthzRequest:
    return AuthzRequest("s3:GetObject", f"{BUCKET}/{key}", context or {})


def call(service: str, operation: str, **params: Any) -> list[AuthzRequest]:
    return requests_for(service, operation, params, region=REGION, account=ACCOUNT)


# ------------------------------------------------------------------------------------ evaluation logic


def test_a_request_no_statement_mentions_is_implicitly_denied() -> None:
    # GIVEN a role with no policies at all
    # WHEN it reads an object
    decision = decide(get_object("uploads/a.jpg"))
    # THEN the request is denied, implicitly
    assert not decision.allowed
    assert not decision.explicit_deny


def test_an_allow_for_another_resource_is_an_implicit_deny() -> None:
    # GIVEN a role allowed to read renditions only
    statement = allow("s3:GetObject", f"{BUCKET}/renditions/*")
    # WHEN it reads an upload
    decision = decide(get_object("uploads/a.jpg"), statement)
    # THEN it is denied without any explicit deny
    assert not decision.allowed
    assert not decision.explicit_deny


def test_an_allow_for_the_exact_resource_allows() -> None:
    # GIVEN a role allowed to read exactly one object
    statement = allow("s3:GetObject", f"{BUCKET}/uploads/a.jpg")
    # WHEN it reads that object
    decision = decide(get_object("uploads/a.jpg"), statement)
    # THEN the request is allowed by that statement
    assert decision.allowed
    assert decision.statements == (statement,)


def test_an_allow_for_a_wildcard_resource_allows_what_it_covers() -> None:
    # GIVEN a role allowed to read every upload
    statement = allow("s3:GetObject", f"{BUCKET}/uploads/*")
    # WHEN it reads a nested upload
    decision = decide(get_object("uploads/2024/a.jpg"), statement)
    # THEN the wildcard covers it
    assert decision.allowed


def test_a_question_mark_in_a_resource_matches_exactly_one_character() -> None:
    # GIVEN a role allowed to read uploads/?.jpg
    statement = allow("s3:GetObject", f"{BUCKET}/uploads/?.jpg")
    # WHEN it reads a one-character name and a two-character name
    one = decide(get_object("uploads/a.jpg"), statement)
    two = decide(get_object("uploads/ab.jpg"), statement)
    # THEN only the one-character name is allowed
    assert one.allowed
    assert not two.allowed


def test_an_allow_of_another_action_does_not_allow() -> None:
    # GIVEN a role allowed to write uploads
    statement = allow("s3:PutObject", f"{BUCKET}/uploads/*")
    # WHEN it reads one
    decision = decide(get_object("uploads/a.jpg"), statement)
    # THEN it is denied
    assert not decision.allowed


def test_an_action_wildcard_allows_every_matching_action() -> None:
    # GIVEN a role allowed s3:Get*
    statement = allow("s3:Get*", f"{BUCKET}/*")
    # WHEN it reads an object
    decision = decide(get_object("uploads/a.jpg"), statement)
    # THEN s3:GetObject is covered
    assert decision.allowed


def test_an_explicit_deny_wins_over_an_allow() -> None:
    # GIVEN a role allowed to read the bucket but denied its private prefix
    denial = deny("s3:GetObject", f"{BUCKET}/private/*", Sid="NoPrivate")
    statements = (allow("s3:GetObject", f"{BUCKET}/*"), denial)
    # WHEN it reads a private object
    decision = decide(get_object("private/a.jpg"), *statements)
    # THEN the deny decides
    assert not decision.allowed
    assert decision.explicit_deny
    assert decision.statements == (denial,)


def test_a_deny_in_the_bucket_policy_for_every_principal_wins_over_an_identity_allow() -> None:
    # GIVEN a role allowed to delete, and a bucket policy denying deletes to Principal "*"
    bucket_policy = policy(deny("s3:DeleteObject", f"{BUCKET}/*", Sid="NoDeletes", Principal="*"))
    # WHEN the role deletes an object
    decision = decide(
        AuthzRequest("s3:DeleteObject", f"{BUCKET}/uploads/a.jpg"),
        allow("s3:DeleteObject", f"{BUCKET}/*"),
        resource_policy=bucket_policy,
    )
    # THEN the bucket policy's deny wins
    assert not decision.allowed
    assert decision.explicit_deny


def test_a_bucket_policy_allowing_the_role_allows_without_an_identity_policy() -> None:
    # GIVEN no identity policy, and a bucket policy allowing reads to the role (same account)
    bucket_policy = policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE}))
    # WHEN the role reads an object
    decision = decide(get_object("uploads/a.jpg"), resource_policy=bucket_policy)
    # THEN the resource policy's allow is enough
    assert decision.allowed


def test_a_bucket_policy_for_another_principal_does_not_apply() -> None:
    # GIVEN a bucket policy that allows reads to another role only
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    bucket_policy = policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": other}))
    # WHEN this role reads an object
    decision = decide(get_object("uploads/a.jpg"), resource_policy=bucket_policy)
    # THEN it is denied
    assert not decision.allowed


LIST_RENDITIONS = allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": "renditions/*"}})


def test_string_like_on_the_prefix_allows_a_listing_under_it() -> None:
    # GIVEN a role that may list only under renditions/
    request = AuthzRequest("s3:ListBucket", BUCKET, {"s3:prefix": "renditions/abc/"})
    # WHEN it lists renditions/abc/
    decision = decide(request, LIST_RENDITIONS)
    # THEN the condition holds
    assert decision.allowed


def test_string_like_on_the_prefix_refuses_another_prefix() -> None:
    # GIVEN a role that may list only under renditions/
    request = AuthzRequest("s3:ListBucket", BUCKET, {"s3:prefix": "uploads/"})
    # WHEN it lists uploads/
    decision = decide(request, LIST_RENDITIONS)
    # THEN the condition fails
    assert not decision.allowed


def test_string_like_on_the_prefix_refuses_a_request_without_the_key() -> None:
    # GIVEN a role that may list only under renditions/
    request = AuthzRequest("s3:ListBucket", BUCKET)
    # WHEN the request carries no s3:prefix key at all
    decision = decide(request, LIST_RENDITIONS)
    # THEN a condition on a missing key does not match
    assert not decision.allowed


def test_string_equals_if_exists_holds_when_the_key_is_missing() -> None:
    # GIVEN an allow with StringEqualsIfExists on s3:prefix
    statement = allow("s3:ListBucket", BUCKET, Condition={"StringEqualsIfExists": {"s3:prefix": "renditions/"}})
    # WHEN the request carries no s3:prefix, and when it carries another one
    missing = decide(AuthzRequest("s3:ListBucket", BUCKET), statement)
    other = decide(AuthzRequest("s3:ListBucket", BUCKET, {"s3:prefix": "uploads/"}), statement)
    # THEN a missing key satisfies ...IfExists, a different value does not
    assert missing.allowed
    assert not other.allowed


INSECURE_TRANSPORT = deny("s3:*", "*", Sid="TlsOnly", Condition={"Bool": {"aws:SecureTransport": "false"}})


def test_a_secure_transport_deny_does_not_apply_over_tls() -> None:
    # GIVEN an allow and a deny of requests without TLS
    statements = (allow("s3:GetObject", f"{BUCKET}/*"), INSECURE_TRANSPORT)
    # WHEN the request context says SecureTransport is true
    decision = decide(get_object("uploads/a.jpg"), *statements, context={"aws:SecureTransport": "true"})
    # THEN the deny does not apply and the allow does
    assert decision.allowed


def test_a_secure_transport_deny_applies_without_tls() -> None:
    # GIVEN an allow and a deny of requests without TLS
    statements = (allow("s3:GetObject", f"{BUCKET}/*"), INSECURE_TRANSPORT)
    # WHEN the request context says SecureTransport is false
    decision = decide(get_object("uploads/a.jpg"), *statements, context={"aws:SecureTransport": "false"})
    # THEN the deny applies
    assert decision.explicit_deny


OLD_TLS = policy(
    deny("s3:*", [BUCKET, f"{BUCKET}/*"], Principal="*", Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}})
)


def test_a_tls_version_deny_applies_to_tls_1_0() -> None:
    # GIVEN a bucket policy denying TLS versions below 1.2
    # WHEN a role allowed to read uses TLS 1.0
    decision = decide(
        get_object("uploads/a.jpg", {"s3:TlsVersion": "1.0"}),
        allow("s3:GetObject", f"{BUCKET}/*"),
        resource_policy=OLD_TLS,
    )
    # THEN it is explicitly denied
    assert decision.explicit_deny


def test_a_tls_version_deny_does_not_apply_to_tls_1_3() -> None:
    # GIVEN a bucket policy denying TLS versions below 1.2
    # WHEN a role allowed to read uses TLS 1.3
    decision = decide(
        get_object("uploads/a.jpg", {"s3:TlsVersion": "1.3"}),
        allow("s3:GetObject", f"{BUCKET}/*"),
        resource_policy=OLD_TLS,
    )
    # THEN it is allowed
    assert decision.allowed


def test_not_action_allows_every_other_action() -> None:
    # GIVEN an allow of everything but s3:DeleteObject
    statement = {"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "*"}
    # WHEN the role reads and deletes
    read = decide(get_object("uploads/a.jpg"), statement)
    delete = decide(AuthzRequest("s3:DeleteObject", f"{BUCKET}/uploads/a.jpg"), statement)
    # THEN the read is allowed and the delete is not
    assert read.allowed
    assert not delete.allowed


def test_not_resource_allows_every_other_resource() -> None:
    # GIVEN an allow of reads anywhere but private/
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/private/*"}
    # WHEN the role reads an upload and a private object
    upload = decide(get_object("uploads/a.jpg"), statement)
    private = decide(get_object("private/a.jpg"), statement)
    # THEN only the upload is allowed
    assert upload.allowed
    assert not private.allowed


def test_a_deny_with_not_resource_denies_everything_outside_it() -> None:
    # GIVEN an allow of all reads and a deny of reads outside uploads/
    statements = (
        allow("s3:GetObject", "*"),
        {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/uploads/*"},
    )
    # WHEN the role reads a rendition
    decision = decide(get_object("renditions/a.jpg"), *statements)
    # THEN it is explicitly denied
    assert decision.explicit_deny


def test_resources_are_case_sensitive() -> None:
    # GIVEN a role allowed to read uploads/*
    statement = allow("s3:GetObject", f"{BUCKET}/uploads/*")
    # WHEN it reads Uploads/x
    decision = decide(get_object("Uploads/x"), statement)
    # THEN the differently cased key is not covered
    assert not decision.allowed


def test_not_resource_is_case_sensitive_for_a_deny() -> None:
    # GIVEN an allow of all reads and a deny of reads outside uploads/
    statements = (
        allow("s3:GetObject", "*"),
        {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/uploads/*"},
    )
    # WHEN the role reads Uploads/x, which is outside uploads/ since ARNs are case-sensitive
    decision = decide(get_object("Uploads/x"), *statements)
    # THEN the deny applies
    assert decision.explicit_deny


def test_not_resource_is_case_sensitive_for_an_allow() -> None:
    # GIVEN an allow of reads anywhere but private/
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/private/*"}
    # WHEN the role reads Private/x, which is not under private/
    decision = decide(get_object("Private/x"), statement)
    # THEN it is allowed
    assert decision.allowed


def test_actions_are_not_case_sensitive() -> None:
    # GIVEN a statement spelling the action in lower case
    statement = allow("s3:getobject", f"{BUCKET}/*")
    # WHEN the role calls s3:GetObject
    decision = decide(get_object("uploads/a.jpg"), statement)
    # THEN it is allowed
    assert decision.allowed


def test_the_unqualified_function_arn_does_not_allow_a_qualified_invoke() -> None:
    # GIVEN a role allowed to invoke the unqualified function ARN
    statement = allow("lambda:InvokeFunction", FUNCTION)
    # WHEN it invokes function:resize:$LATEST
    decision = decide(AuthzRequest("lambda:InvokeFunction", f"{FUNCTION}:$LATEST"), statement)
    # THEN it is denied
    assert not decision.allowed


def test_a_qualifier_wildcard_allows_a_qualified_invoke() -> None:
    # GIVEN a role allowed to invoke function:resize:*
    statement = allow("lambda:InvokeFunction", f"{FUNCTION}:*")
    # WHEN it invokes function:resize:$LATEST
    decision = decide(AuthzRequest("lambda:InvokeFunction", f"{FUNCTION}:$LATEST"), statement)
    # THEN it is allowed
    assert decision.allowed


def test_a_qualifier_wildcard_does_not_allow_an_unqualified_invoke() -> None:
    # GIVEN a role allowed to invoke function:resize:* only
    statement = allow("lambda:InvokeFunction", f"{FUNCTION}:*")
    # WHEN it invokes the unqualified function
    decision = decide(AuthzRequest("lambda:InvokeFunction", FUNCTION), statement)
    # THEN it is denied
    assert not decision.allowed


# ------------------------------------------------------------------------------------------ explanation


def test_an_implicit_deny_explains_the_near_miss_by_its_sid() -> None:
    # GIVEN a role allowed to read renditions only, by statement ReadRenditions
    statement = allow("s3:GetObject", f"{BUCKET}/renditions/*", Sid="ReadRenditions")
    # WHEN it reads an upload
    explanation = decide(get_object("uploads/a.jpg"), statement).explain()
    # THEN the explanation names the request and the statement that nearly allowed it
    assert explanation.startswith("no statement allows s3:GetObject on arn:aws:s3:::imgmgr-images/uploads/a.jpg")
    assert "ReadRenditions allows s3:GetObject on arn:aws:s3:::imgmgr-images/renditions/*" in explanation


def test_an_explicit_deny_explains_the_denying_sid() -> None:
    # GIVEN an allow and a deny with Sid NoPrivate
    statements = (allow("s3:GetObject", f"{BUCKET}/*"), deny("s3:GetObject", f"{BUCKET}/private/*", Sid="NoPrivate"))
    # WHEN the role reads a private object
    explanation = decide(get_object("private/a.jpg"), *statements).explain()
    # THEN the explanation names the deny
    assert explanation.startswith("explicitly denied by NoPrivate: s3:GetObject")


# ---------------------------------------------------------------------------------------- call -> requests


def test_transact_write_items_makes_one_request_per_item() -> None:
    # GIVEN a transaction that puts, updates, deletes and checks items of two tables
    items = [
        {"Put": {"TableName": "images", "Item": {}}},
        {"Update": {"TableName": "images", "Key": {}, "UpdateExpression": "SET a = :a"}},
        {"Delete": {"TableName": "renditions", "Key": {}}},
        {"ConditionCheck": {"TableName": "images", "Key": {}, "ConditionExpression": "attribute_exists(pk)"}},
    ]
    # WHEN its requests are mapped
    requests = call("dynamodb", "TransactWriteItems", TransactItems=items)
    # THEN each item is authorized with its own action on its own table
    renditions = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/renditions"
    assert [(r.action, r.resource) for r in requests] == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:DeleteItem", renditions),
        ("dynamodb:ConditionCheckItem", TABLE),
    ]


def test_a_query_on_an_index_targets_the_index_arn() -> None:
    # GIVEN a Query with IndexName
    # WHEN its requests are mapped
    requests = call("dynamodb", "Query", TableName="images", IndexName="by-owner", KeyConditionExpression="o = :o")
    # THEN the index ARN is authorized, not the table's
    assert requests == [AuthzRequest("dynamodb:Query", f"{TABLE}/index/by-owner")]


def test_a_query_without_an_index_targets_the_table() -> None:
    # GIVEN a Query on the table itself
    # WHEN its requests are mapped
    requests = call("dynamodb", "Query", TableName="images", KeyConditionExpression="pk = :pk")
    # THEN the table ARN is authorized
    assert requests == [AuthzRequest("dynamodb:Query", TABLE)]


def test_list_objects_v2_is_list_bucket_with_the_prefix() -> None:
    # GIVEN a ListObjectsV2 under renditions/abc/
    # WHEN its requests are mapped
    requests = call("s3", "ListObjectsV2", Bucket="imgmgr-images", Prefix="renditions/abc/")
    # THEN it is s3:ListBucket on the bucket carrying s3:prefix
    assert requests == [AuthzRequest("s3:ListBucket", BUCKET, {"s3:prefix": "renditions/abc/"})]


def test_an_invoke_keeps_the_qualifier() -> None:
    # GIVEN an Invoke of a qualified function name
    # WHEN its requests are mapped
    requests = call("lambda", "Invoke", FunctionName="resize:$LATEST")
    # THEN the qualified function ARN is authorized
    assert requests == [AuthzRequest("lambda:InvokeFunction", f"{FUNCTION}:$LATEST")]


def test_an_invoke_by_arn_keeps_the_arn() -> None:
    # GIVEN an Invoke by full ARN with an alias
    # WHEN its requests are mapped
    requests = call("lambda", "Invoke", FunctionName=f"{FUNCTION}:live")
    # THEN that ARN is authorized unchanged
    assert requests == [AuthzRequest("lambda:InvokeFunction", f"{FUNCTION}:live")]


def test_get_object_with_a_version_is_get_object_version() -> None:
    # GIVEN a GetObject of a given version
    # WHEN its requests are mapped
    requests = call("s3", "GetObject", Bucket="imgmgr-images", Key="uploads/a.jpg", VersionId="v1")
    # THEN s3:GetObjectVersion is authorized on the object
    assert requests == [AuthzRequest("s3:GetObjectVersion", f"{BUCKET}/uploads/a.jpg")]


def test_an_unknown_operation_raises_unknown_call() -> None:
    # GIVEN an operation the twin does not map
    # WHEN its requests are asked for
    # THEN UnknownCall names it
    with pytest.raises(UnknownCall, match="s3:PutBucketPolicy"):
        call("s3", "PutBucketPolicy", Bucket="imgmgr-images", Policy="{}")


def test_every_mapped_request_is_in_the_authorization_reference() -> None:
    # GIVEN the requests of the calls the functions make
    requests = [
        *call("s3", "GetObject", Bucket="imgmgr-images", Key="uploads/a.jpg"),
        *call("s3", "ListObjectsV2", Bucket="imgmgr-images", Prefix="renditions/", Delimiter="/", MaxKeys=10),
        *call("s3", "CopyObject", Bucket="imgmgr-images", Key="b", CopySource={"Bucket": "imgmgr-images", "Key": "a"}),
        *call("dynamodb", "Query", TableName="images", IndexName="by-owner"),
        *call("dynamodb", "TransactWriteItems", TransactItems=[{"ConditionCheck": {"TableName": "images"}}]),
        *call("sqs", "SendMessage", QueueUrl=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/jobs"),
        *call("lambda", "Invoke", FunctionName="resize:$LATEST"),
        *call("logs", "PutLogEvents", logGroupName="/aws/lambda/resize", logStreamName="2024/01/01/[$LATEST]abc"),
        *call("rekognition", "DetectLabels", Image={}),
    ]
    # WHEN each is checked
    # THEN none is refused
    for request in requests:
        check_request(request)


# -------------------------------------------------------------------------------- authorization reference


def test_check_request_refuses_an_unknown_action() -> None:
    # GIVEN an action S3 does not have
    request = AuthzRequest("s3:GetObjects", f"{BUCKET}/a.jpg")
    # WHEN it is checked
    # THEN it is refused as unknown
    with pytest.raises(InvalidRequest, match="s3:GetObjects is not an action"):
        check_request(request)


def test_check_request_refuses_get_object_on_a_bucket_arn() -> None:
    # GIVEN s3:GetObject on the bucket rather than an object
    request = AuthzRequest("s3:GetObject", BUCKET)
    # WHEN it is checked
    # THEN the resource type is refused
    with pytest.raises(InvalidRequest, match="is not a resource of s3:GetObject"):
        check_request(request)


def test_check_request_refuses_list_bucket_on_an_object_arn() -> None:
    # GIVEN s3:ListBucket on an object rather than the bucket (bucket names have no "/")
    request = AuthzRequest("s3:ListBucket", f"{BUCKET}/uploads/a.jpg")
    # WHEN it is checked
    # THEN the resource type is refused
    with pytest.raises(InvalidRequest, match="is not a resource of s3:ListBucket"):
        check_request(request)


def test_check_request_refuses_an_unknown_condition_key() -> None:
    # GIVEN s3:GetObject carrying s3:prefix, a key of s3:ListBucket only
    request = get_object("uploads/a.jpg", {"s3:prefix": "uploads/"})
    # WHEN it is checked
    # THEN the key is refused
    with pytest.raises(InvalidRequest, match=r"no condition keys \['s3:prefix'\]"):
        check_request(request)


def test_check_request_accepts_global_condition_keys() -> None:
    # GIVEN s3:GetObject carrying a global key, which the reference does not list per action
    request = get_object("uploads/a.jpg", {"aws:SecureTransport": "true"})
    # WHEN it is checked
    # THEN it is accepted
    check_request(request)


def test_an_allow_naming_the_account_in_a_resource_policy_only_delegates_to_identity_policies() -> None:
    # GIVEN a bucket policy that allows the account (its root), and a role with no identity policy
    bucket_policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
            }
        ]
    }
    request = AuthzRequest("s3:GetObject", "arn:aws:s3:::b/k")
    # THEN the role is not allowed (the account principal hands the decision to identity policies)
    decision = evaluate(
        request, identity_policies=[], resource_policy=bucket_policy, principal_arn=ROLE, account=ACCOUNT
    )
    assert not decision.allowed
