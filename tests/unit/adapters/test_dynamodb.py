"""What only the DynamoDB store has to get right: transaction cancellations, the key design constants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from lambdas.adapters.aws.dynamodb import DynamoMetadataStore, _record_item, create_table_kwargs
from lambdas.contract import GSI_KEYS, GSI_NAMES, TTL_ATTRIBUTE
from lambdas.domain.errors import ContentExistsError, DependencyError, StaleRecordError, ThrottledError
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


def test_a_batch_write_that_stays_throttled_is_refused_after_backing_off_between_attempts(stubbed, monkeypatch):
    # GIVEN a batch write whose item DynamoDB leaves unprocessed every time
    slept: list[float] = []
    monkeypatch.setattr("lambdas.adapters.aws.dynamodb.time.sleep", slept.append)
    store, stubber = stubbed
    requests = [{"DeleteRequest": {"Key": {"pk": {"S": "IMG#img-1"}, "sk": {"S": "TERM#CAT#Animals"}}}}]
    for _ in range(6):
        stubber.add_response(
            "batch_write_item", {"UnprocessedItems": {"table": requests}}, {"RequestItems": {"table": requests}}
        )
    # WHEN it is sent / THEN it was sent six times, 50 ms doubling between them, and throttling is reported
    with pytest.raises(ThrottledError, match="BatchWriteItem left items unprocessed"):
        store._batch_write(requests)
    assert slept == [0.05, 0.1, 0.2, 0.4, 0.8]
    stubber.assert_no_pending_responses()


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


@pytest.fixture
def table():
    """The store on moto, with the client to read its items as they are."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_kwargs("table"))
        yield DynamoMetadataStore("table", client=client), client


def _hash_item(client, owner: str, sha256: str) -> dict | None:
    key = {"pk": {"S": f"HASH#{owner}#{sha256}"}, "sk": {"S": "HASH"}}
    return client.get_item(TableName="table", Key=key, ConsistentRead=True).get("Item")


def _declared(image_id: str, *, at: datetime = T0, sha256: str = "abc"):
    return new_record(
        image_id=image_id,
        owner="alice",
        filename="a.jpg",
        at=at,
        declared_sha256=sha256,
        expires_at=at + timedelta(days=1),
    )


def test_the_hash_item_of_an_abandoned_upload_expires_with_its_record(table):
    # GIVEN an upload declared with a hash, awaiting its bytes until T0 + 1 day
    store, client = table
    record = store.create(_declared("img-1"))
    # THEN the hash item names the record and carries the record's TTL, so that TTL removes both
    item = _hash_item(client, "alice", "abc")
    assert item["image_id"] == {"S": "img-1"}
    assert item[TTL_ATTRIBUTE] == {"N": str(int((T0 + timedelta(days=1)).timestamp()))}
    assert _record_item(record)[TTL_ATTRIBUTE] == item[TTL_ATTRIBUTE]


def test_the_hash_item_of_an_uploaded_image_never_expires_and_goes_with_its_delete(table):
    # GIVEN an upload whose bytes arrived
    store, client = table
    created = store.create(_declared("img-1"))
    store.transition(created, created.uploaded(at=T0, size=10, sha256="abc", sniffed_format=None, sniffed_mime=None))
    # THEN its hash item has no TTL any more
    item = _hash_item(client, "alice", "abc")
    assert item["image_id"] == {"S": "img-1"} and TTL_ATTRIBUTE not in item
    # WHEN the image is deleted THEN the hash item is gone with it
    store.delete("img-1", at=T0 + timedelta(hours=1))
    assert _hash_item(client, "alice", "abc") is None


def test_an_expired_claim_that_ttl_has_not_removed_yet_does_not_block_the_bytes(table):
    # GIVEN an abandoned upload past its expiry, still in the table (TTL deletes within days, not at once)
    store, client = table
    store.create(_declared("img-1"))
    # WHEN the same bytes are declared two days later THEN they make a new image that holds the hash
    store.create(_declared("img-2", at=T0 + timedelta(days=2)))
    assert _hash_item(client, "alice", "abc")["image_id"] == {"S": "img-2"}


def test_a_claim_lost_to_another_record_names_it_from_the_cancellation(stubbed):
    # GIVEN a create whose hash item is held by img-0 (DynamoDB returns the item: ALL_OLD)
    store, stubber = stubbed
    holder = {"pk": {"S": "HASH#alice#abc"}, "sk": {"S": "HASH"}, "image_id": {"S": "img-0"}}
    stubber.add_client_error(
        "transact_write_items",
        "TransactionCanceledException",
        "cancelled",
        400,
        modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": holder}]},
    )
    # WHEN it is created THEN it is refused naming img-0, without another request
    with pytest.raises(ContentExistsError, match="img-0") as refused:
        store.create(_declared("img-1"))
    assert refused.value.image_id == "img-0"
