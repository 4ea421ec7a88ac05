"""What only the DynamoDB store has to get right: transaction cancellations, the key design constants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdas.adapters.aws.dynamodb import GSI_KEYS, GSI_NAMES, TTL_ATTRIBUTE, DynamoMetadataStore, create_table_kwargs
from lambdas.domain.errors import StaleRecordError, ThrottledError
from lambdas.domain.records import new_record

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
    # THEN there are three GSIs with string <name>pk/<name>sk keys, projecting ALL
    assert (
        [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == list(GSI_NAMES) == ["gsi1", "gsi2", "gsi3"]
    )
    assert GSI_KEYS["gsi2"] == ("gsi2pk", "gsi2sk")
    assert all(index["Projection"] == {"ProjectionType": "ALL"} for index in table["GlobalSecondaryIndexes"])
    assert all(attribute["AttributeType"] == "S" for attribute in table["AttributeDefinitions"])
    assert TTL_ATTRIBUTE == "expires_at"
