"""Grant statements: named actions, scoped resources, '*' only where AWS has no resource-level permission."""

from __future__ import annotations

import pytest

from constructs_lib import grants
from constructs_lib.grants import Statement


def test_object_grants_are_scoped_to_key_prefixes() -> None:
    statement = grants.read_objects("arn:aws:s3:::b", ["uploads/", "renditions/"])
    assert statement.actions == ("s3:GetObject",)
    assert statement.resources == ("arn:aws:s3:::b/uploads/*", "arn:aws:s3:::b/renditions/*")


@pytest.mark.parametrize("prefix", ["uploads", "/uploads/", "up*/", ""])
def test_a_prefix_that_is_not_a_key_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"^prefixes: .* must be a key prefix ending with '/'"):
        grants.object_arns("arn:aws:s3:::b", [prefix])


def test_listing_is_granted_on_the_bucket_only_under_the_prefixes() -> None:
    statement = grants.list_objects("arn:aws:s3:::b", ["renditions/"])
    assert statement.actions == ("s3:ListBucket",)
    assert statement.resources == ("arn:aws:s3:::b",)
    assert statement.conditions == (grants.Condition("StringLike", "s3:prefix", ("renditions/*",)),)


def test_table_grants_cover_the_table_and_each_named_index() -> None:
    statement = grants.read_table("arn:t", ["gsi1", "gsi2"])
    assert statement.resources == ("arn:t", "arn:t/index/gsi1", "arn:t/index/gsi2")
    assert "dynamodb:Scan" not in statement.actions


def test_log_grant_covers_the_streams_of_one_group() -> None:
    assert grants.write_logs("arn:lg").resources == ("arn:lg:*",)


def test_a_wildcard_action_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^actions: .* without wildcards"):
        Statement("All", ("s3:*",), ("arn:aws:s3:::b/*",))


def test_a_star_resource_is_refused_for_an_action_with_resource_level_permissions() -> None:
    with pytest.raises(ValueError, match=r"^resources: statement Read may use '\*' only"):
        Statement("Read", ("s3:GetObject",), ("*",))


def test_a_star_resource_is_accepted_for_detect_labels_and_traces() -> None:
    assert grants.detect_labels().resources == ("*",)
    assert grants.write_traces().resources == ("*",)
    assert {
        "rekognition:DetectLabels",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    } == grants.ACTIONS_WITHOUT_RESOURCE_LEVEL


def test_merge_adds_resources_of_a_repeated_grant_once() -> None:
    # GIVEN the same grant twice on overlapping prefixes
    first = grants.read_objects("arn:b", ["uploads/"], sid="Read")
    second = grants.read_objects("arn:b", ["uploads/", "renditions/"], sid="Read")
    # WHEN merged
    merged = grants.merge([grants.write_traces(), first, second])
    # THEN one statement per sid, in grant order, each resource once
    assert [s.sid for s in merged] == ["WriteTraces", "Read"]
    assert merged[1].resources == ("arn:b/uploads/*", "arn:b/renditions/*")


def test_merge_refuses_one_sid_with_different_actions() -> None:
    with pytest.raises(ValueError, match=r"^sid: 'Objects' is granted with different actions"):
        grants.merge(
            [
                grants.read_objects("arn:b", ["uploads/"], sid="Objects"),
                grants.write_objects("arn:b", ["uploads/"], sid="Objects"),
            ]
        )
