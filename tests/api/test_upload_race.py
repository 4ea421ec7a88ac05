"""The same bytes declared twice at once make one image, over both stores (issue 12, item 4).

Two ``POST /v1/uploads`` of the same file run in two threads through the app and the real metadata
adapters (a SQLite file; DynamoDB on moto), held so that both have looked the hash up before either
writes: the window in which the look-up-then-insert of the route made two records.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from imgmgr.adapters.upload_policy import LocalPresigner
from imgmgr.keys import KeyStore, KeyStoreAuthenticator
from lambdas import steps
from lambdas.adapters.aws.dynamodb import DynamoMetadataStore, create_table_kwargs
from lambdas.api import ApiServices, create_app
from lambdas.domain.errors import ContentExistsError
from lambdas.domain.queries import ImageQuery
from lambdas.domain.records import ImageRecord
from lambdas.ports import MetadataStore
from tests.api.conftest import CHELSEA
from tests.fakes import FakeClock, FakeLabeler, RecordingEventSink

TABLE = "imgmgr-race-table"


class LookupsFirst:
    """The store, except that ``find_by_hash`` returns only once ``parties`` requests have looked up.

    ``serialize`` runs the writes one at a time: moto's in-process backend is not thread-safe, where
    DynamoDB serializes the conditional writes to one item (the gap is the emulator's, filled here).
    """

    def __init__(self, store: MetadataStore, *, parties: int, serialize: bool) -> None:
        self.store = store
        self.lookups = threading.Barrier(parties, timeout=10)
        self._writes = threading.Lock() if serialize else None

    def find_by_hash(self, owner: str, sha256: str) -> ImageRecord | None:
        found = self.store.find_by_hash(owner, sha256)
        self.lookups.wait()
        return found

    def create(self, record: ImageRecord) -> ImageRecord:
        if self._writes is None:
            return self.store.create(record)
        with self._writes:
            return self.store.create(record)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):
    if request.param == "sqlite":
        sqlite = SqliteMetadataStore(tmp_path / "meta.sqlite3")
        yield sqlite, False
        sqlite.close()
    else:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**create_table_kwargs(TABLE))
            yield DynamoMetadataStore(TABLE, client=client), True


def test_the_same_bytes_declared_twice_at_once_make_one_image_counted_once(store, tmp_path):
    # GIVEN the API over the store, whose hash look-ups both happen before either request writes
    metadata, serialize = store
    racing = LookupsFirst(metadata, parties=2, serialize=serialize)
    objects = FileObjectStore(tmp_path / "data")
    clock = FakeClock()
    keys = KeyStore(tmp_path / "keys.sqlite3")
    key, _ = keys.create("alice")
    services = ApiServices(
        metadata=racing,  # type: ignore[arg-type]
        objects=objects,
        events=RecordingEventSink(),
        clock=clock,
        presigner=LocalPresigner(b"a-test-secret-of-enough-length"),
        authenticator=KeyStoreAuthenticator(keys),
        cursor_secret=b"a-test-secret-of-enough-length",
    )
    data = CHELSEA.read_bytes()
    body = {"filename": "chelsea.png", "content_type": "image/png", "size": len(data)}
    body["sha256"] = hashlib.sha256(data).hexdigest()
    # WHEN alice declares the same file twice at once
    with TestClient(create_app(services), base_url="http://testserver") as client, ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/uploads", json=body, headers={"x-api-key": key}), range(2)))
    # THEN both succeed with the same image, and there is one record
    assert [answer.status_code for answer in answers] == [201, 201], [answer.json() for answer in answers]
    ids = {answer.json()["image"]["id"] for answer in answers}
    assert len(ids) == 1, ids
    (image_id,) = ids
    assert [r.image_id for r in metadata.query(ImageQuery(owner="alice")).items] == [image_id]
    # AND when both clients send the bytes where they were told (one key) and each upload's event runs the
    # pipeline, the image is ready and counted once
    (upload_key,) = {answer.json()["upload"]["fields"]["key"] for answer in answers}
    ports = steps.Ports(
        objects=objects, metadata=metadata, labeler=FakeLabeler(), events=RecordingEventSink(), clock=clock
    )
    for _upload in answers:
        objects.put(upload_key, data, content_type="image/png")
        steps.compress(ports, upload_key)
        steps.thumbnail(ports, image_id)
        steps.categorize(ports, image_id)
    assert metadata.get(image_id).state.value == "ready"
    assert metadata.usage("alice").images == 1
    assert metadata.category_counts("alice") == {"Animals and Pets": 1, "Furniture and Furnishings": 1}


class HolderGoneOnce:
    """The store, except that the first ``create`` loses to an image that is deleted before it is read."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self.refused = 0

    def create(self, record: ImageRecord) -> ImageRecord:
        if not self.refused:
            self.refused += 1
            raise ContentExistsError("lost to img-gone", image_id="img-gone")
        return self.store.create(record)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_a_declaration_that_lost_to_an_image_deleted_meanwhile_looks_again_and_creates(tmp_path):
    # GIVEN a store where the first create loses to an image that is gone when read
    metadata = HolderGoneOnce(SqliteMetadataStore(tmp_path / "meta.sqlite3"))
    keys = KeyStore(tmp_path / "keys.sqlite3")
    key, _ = keys.create("alice")
    services = ApiServices(
        metadata=metadata,  # type: ignore[arg-type]
        objects=FileObjectStore(tmp_path / "data"),
        events=RecordingEventSink(),
        clock=FakeClock(),
        presigner=LocalPresigner(b"a-test-secret-of-enough-length"),
        authenticator=KeyStoreAuthenticator(keys),
        cursor_secret=b"a-test-secret-of-enough-length",
    )
    data = CHELSEA.read_bytes()
    body = {"filename": "chelsea.png", "content_type": "image/png", "size": len(data)}
    body["sha256"] = hashlib.sha256(data).hexdigest()
    # WHEN alice declares the file
    with TestClient(create_app(services), base_url="http://testserver") as client:
        answer = client.post("/v1/uploads", json=body, headers={"x-api-key": key})
    # THEN the hash was free again: a new image to upload, stored once
    assert answer.status_code == 201, answer.json()
    assert metadata.refused == 1
    assert [r.image_id for r in metadata.query(ImageQuery(owner="alice")).items] == [answer.json()["image"]["id"]]
