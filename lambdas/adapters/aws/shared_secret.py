"""A random secret shared by every container of a deployment, kept in the deployment's DynamoDB table.

The first container that needs it creates it with a conditional ``PutItem`` (``attribute_not_exists``);
when two race, the first write wins and the other reads the winner's value, so every container signs
with the same key. The item lives beside the image records in the single table::

    shared secret   pk CONFIG#<name>              sk CONFIG                  secret (binary), created_at

It has no index attributes (it appears in no GSI) and no TTL. The functions that use it already read
and write the table; nothing else needs a permission, and no extra Terraform provider is needed to
generate the secret at deploy time.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import error_code, translate
from lambdas.domain.errors import StaleRecordError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

#: Length of a generated secret, bytes (the key length of HMAC-SHA256).
SECRET_BYTES = 32
#: Name of the item holding the cursor-signing secret of the API.
CURSOR_SECRET_NAME = "cursor-secret"  # noqa: S105 - the name of an item, not a secret

_CONFIG_SK = "CONFIG"


def secret_key(name: str) -> dict[str, dict[str, str]]:
    """The table key of the shared secret called ``name``."""
    return {"pk": {"S": f"CONFIG#{name}"}, "sk": {"S": _CONFIG_SK}}


class DynamoSharedSecret:
    """The secret called ``name`` in ``table``, created on first use; ``client`` defaults to a new one."""

    def __init__(self, table: str, name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self.name = name
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")

    def get_or_create(self) -> bytes:
        """The stored secret; creates a random one of :data:`SECRET_BYTES` when there is none yet."""
        stored = self._read()
        if stored is not None:
            return stored
        candidate = secrets.token_bytes(SECRET_BYTES)
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **secret_key(self.name),
                    "secret": {"B": candidate},
                    "created_at": {"N": str(int(time.time()))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise translate(exc, "dynamodb:PutItem") from exc
            # Another container wrote it first: its value is the one every container uses.
            winner = self._read()
            if winner is None:
                raise StaleRecordError(f"shared secret {self.name!r} was written and is gone") from None
            return winner
        except BotoCoreError as exc:
            raise translate(exc, "dynamodb:PutItem") from exc
        return candidate

    def _read(self) -> bytes | None:
        try:
            response = self.client.get_item(TableName=self.table, Key=secret_key(self.name), ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "dynamodb:GetItem") from exc
        item = response.get("Item")
        return None if item is None else bytes(item["secret"]["B"])
