"""What only the DynamoDB store has to get right: transaction cancellations, the key design constants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdas.adapters.aws.dynamodb import (
    GSI_KEYS,
    GSI_NAMES,
    TTL_ATTRIBUTE,
    DynamoMetadataStore,
    _record_item,
    create_table_kwargs,
)
from lambdas.domain.errors import DependencyError, StaleRecordError, ThrottledError
from lambdas.domain.queries import ImageQuery
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def _cancelled(*codes: str) -> dict:
    return {"CancellationReasons": [{"Code": code} for code in codes]}


@pytest.fixture
def stubbed():
    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield DynamoMetadataStore("table", client=client), stubber
        stubber.assert_no_pending_responses()


def _uploaded_pair():
    created = replace(new_record(image_id="img-1", owner="alice", filename="a.jpg", at=T0), version=1)
    return created, created.uploaded(at=T0, size=10, sha256="abc", sniffed_format=None, sniffed_mime=None)


def test_a_transaction_conflict_is_retried(stubbed):
    # GIVEN a transaction that conflicts once on a counter item, then goes through
    store, stubber = stubbed
    current, updated = _uploaded_pair()
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "conflict",
        400,
        modeled_fields=_cancelled("None", "TransactionConflict", "None"),
    )
    stubber.add_response("transact_write_items", {}, {"TransactItems": ANY})
    # WHEN the record moves THEN the store retried and succeeded
    assert store.transition(current, updated).version == current.version + 1


def test_a_failed_condition_on_the_record_is_a_stale_record(stubbed):
    store, stubber = stubbed
    current, updated = _uploaded_pair()
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "cancelled",
        400,
        modeled_fields=_cancelled("ConditionalCheckFailed", "None", "None"),
    )
    with pytest.raises(StaleRecordError, match="img-1 changed"):
        store.transition(current, updated)


def test_a_throttled_transaction_is_transient(stubbed):
    store, stubber = stubbed
    current, updated = _uploaded_pair()
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "cancelled",
        400,
        modeled_fields=_cancelled("ThrottlingError", "None", "None"),
    )
    with pytest.raises(ThrottledError, match="throttled"):
        store.transition(current, updated)


def test_the_table_definition_follows_the_documented_key_design():
    # GIVEN the CreateTable arguments built from the constants the infrastructure uses
    table = create_table_kwargs("t")
    # THEN there are three GSIs with string <name>pk/<name>sk keys, projecting the keys only
    assert (
        [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == list(GSI_NAMES) == ["gsi1", "gsi2", "gsi3"]
    )
    assert GSI_KEYS["gsi2"] == ("gsi2pk", "gsi2sk")
    assert all(index["Projection"] == {"ProjectionType": "KEYS_ONLY"} for index in table["GlobalSecondaryIndexes"])
    assert all(attribute["AttributeType"] == "S" for attribute in table["AttributeDefinitions"])
    assert TTL_ATTRIBUTE == "expires_at"


_ANY_QUERY = {
    "KeyConditionExpression": ANY,
    "ExpressionAttributeNames": ANY,
    "ExpressionAttributeValues": ANY,
    "ScanIndexForward": False,
    "Limit": ANY,
}


def _index_entry(image_id: str, index: str, index_pk: str) -> dict:
    """A keys-only index entry of a record: the table key and the index key."""
    return {
        "pk": {"S": f"IMG#{image_id}"},
        "sk": {"S": "IMG"},
        f"{index}pk": {"S": index_pk},
        f"{index}sk": {"S": f"2026-01-31T12:00:00.000000Z#{image_id}"},
    }


def test_a_listing_reads_the_records_and_leaves_out_those_that_moved_on(stubbed):
    # GIVEN the uploaded-state index lists two images, one of which has been compressed meanwhile
    store, stubber = stubbed
    _, uploaded = _uploaded_pair()
    moved = replace(uploaded, image_id="img-2", state=ImageState.COMPRESSED)
    entries = [_index_entry(r.image_id, "gsi3", "OWNER#alice#STATE#uploaded") for r in (uploaded, moved)]
    stubber.add_response("query", {"Items": entries}, {"TableName": "table", "IndexName": "gsi3", **_ANY_QUERY})
    keys = [{"pk": entry["pk"], "sk": entry["sk"]} for entry in entries]
    stubber.add_response(
        "batch_get_item",
        {"Responses": {"table": [_record_item(moved), _record_item(uploaded)]}},
        {"RequestItems": {"table": {"Keys": keys, "ConsistentRead": True}}},
    )
    # WHEN the uploaded images are listed
    page = store.query(ImageQuery(owner="alice", state=ImageState.UPLOADED))
    # THEN the records come from the table, in the index's order, without the one that moved on
    assert [record.image_id for record in page.items] == ["img-1"]
    assert page.items[0].sha256 == "abc"


def test_keys_a_batch_read_leaves_unprocessed_are_read_again_consistently_in_the_index_order(stubbed, monkeypatch):
    # GIVEN the owner index lists two images, and the first batch read leaves the first one unprocessed
    monkeypatch.setattr("lambdas.adapters.aws.dynamodb.time.sleep", lambda seconds: None)
    store, stubber = stubbed
    _, first = _uploaded_pair()
    second = replace(first, image_id="img-2")
    entries = [_index_entry(r.image_id, "gsi1", "OWNER#alice") for r in (first, second)]
    stubber.add_response("query", {"Items": entries}, {"TableName": "table", "IndexName": "gsi1", **_ANY_QUERY})
    keys = [{"pk": entry["pk"], "sk": entry["sk"]} for entry in entries]
    left = {"table": {"Keys": keys[:1], "ConsistentRead": True}}
    stubber.add_response(
        "batch_get_item",
        {"Responses": {"table": [_record_item(second)]}, "UnprocessedKeys": left},
        {"RequestItems": {"table": {"Keys": keys, "ConsistentRead": True}}},
    )
    stubber.add_response("batch_get_item", {"Responses": {"table": [_record_item(first)]}}, {"RequestItems": left})
    # WHEN the owner's images are listed / THEN both come back, newest-first as the index has them
    assert [record.image_id for record in store.query(ImageQuery(owner="alice")).items] == ["img-1", "img-2"]


def test_a_conflicting_transaction_gives_up_without_sleeping_after_the_last_attempt(stubbed, monkeypatch):
    # GIVEN a transaction that conflicts on every attempt
    slept: list[float] = []
    monkeypatch.setattr("lambdas.adapters.aws.dynamodb.time.sleep", slept.append)
    store, stubber = stubbed
    current, updated = _uploaded_pair()
    for _ in range(5):
        stubber.add_client_error(
            "transact_write_items",
            "TransactionCanceledException",
            "conflict",
            400,
            modeled_fields=_cancelled("None", "TransactionConflict", "None"),
        )
    # WHEN it is given up / THEN it waited between attempts only (no billed sleep before the error)
    with pytest.raises(DependencyError):
        store.transition(current, updated)
    assert len(slept) == 4


def test_a_listing_leaves_out_a_record_deleted_after_the_index_was_read(stubbed):
    # GIVEN the owner index still lists an image whose record is a tombstone by now
    store, stubber = stubbed
    created, _ = _uploaded_pair()
    tombstone = created.deleted(at=T0, expires_at=T0 + timedelta(days=7))
    entry = _index_entry("img-1", "gsi1", "OWNER#alice")
    stubber.add_response("query", {"Items": [entry]}, {"TableName": "table", "IndexName": "gsi1", **_ANY_QUERY})
    stubber.add_response("batch_get_item", {"Responses": {"table": [_record_item(tombstone)]}}, {"RequestItems": ANY})
    # WHEN the owner's images are listed / THEN the deleted one is not
    assert store.query(ImageQuery(owner="alice")).items == ()
