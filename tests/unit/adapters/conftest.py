"""Both implementations of each port, for the contract suites: moto-backed AWS adapters and local ones."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from lambdas.adapters.aws.dynamodb import DynamoMetadataStore, create_table_kwargs
from lambdas.adapters.aws.s3 import S3ObjectStore

BUCKET = "imgmgr-test-bucket"
TABLE = "imgmgr-test-table"


@pytest.fixture(params=["s3", "files"])
def object_store(request, tmp_path):
    if request.param == "s3":
        with mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket=BUCKET)
            yield S3ObjectStore(BUCKET, client=client)
    else:
        yield FileObjectStore(tmp_path / "data")


@pytest.fixture(params=["dynamodb", "sqlite"])
def metadata_store(request, tmp_path):
    if request.param == "dynamodb":
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**create_table_kwargs(TABLE))
            yield DynamoMetadataStore(TABLE, client=client)
    else:
        store = SqliteMetadataStore(tmp_path / "meta.sqlite3")
        yield store
        store.close()
