"""The deployment's shared secret in DynamoDB: created once, first writer wins, every reader the same."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas.adapters.aws.dynamodb import create_table_kwargs
from lambdas.adapters.aws.shared_secret import SECRET_BYTES, DynamoSharedSecret
from lambdas.domain.errors import ThrottledError

TABLE = "imgmgr-secret-table"


@pytest.fixture
def client():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_kwargs(TABLE))
        yield client


def test_the_first_use_creates_a_random_secret_that_later_uses_read(client):
    # WHEN two containers ask for the secret one after the other
    first = DynamoSharedSecret(TABLE, "cursor-secret", client=client).get_or_create()
    second = DynamoSharedSecret(TABLE, "cursor-secret", client=client).get_or_create()
    # THEN the first created 32 random bytes and the second read them
    assert first == second
    assert len(first) == SECRET_BYTES


def test_of_two_containers_racing_to_create_it_the_first_writer_wins(client):
    # GIVEN a container that found no secret, and another one that created it meanwhile
    late = DynamoSharedSecret(TABLE, "cursor-secret", client=client)
    real_read = late._read
    reads: list[bytes | None] = []

    def read_missing_first() -> bytes | None:
        reads.append(None if not reads else real_read())
        return reads[-1]

    late._read = read_missing_first  # type: ignore[method-assign]
    winner = DynamoSharedSecret(TABLE, "cursor-secret", client=client).get_or_create()
    # WHEN the late one writes its own candidate THEN its conditional put loses and it uses the winner's
    assert late.get_or_create() == winner
    assert reads == [None, winner]


def test_secrets_of_other_names_are_independent(client):
    cursor = DynamoSharedSecret(TABLE, "cursor-secret", client=client).get_or_create()
    other = DynamoSharedSecret(TABLE, "other-secret", client=client).get_or_create()
    assert cursor != other


def test_a_throttled_read_is_transient():
    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", "slow down", 400)
        with pytest.raises(ThrottledError, match="dynamodb:GetItem throttled"):
            DynamoSharedSecret(TABLE, "cursor-secret", client=client).get_or_create()
