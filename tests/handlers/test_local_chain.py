"""The same steps over the local adapters: data directory, SQLite, JSONL events."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgmgr.adapters.events import JsonlEventSink
from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from lambdas import steps
from lambdas.domain.errors import NotReadyError
from lambdas.domain.queries import ImageQuery
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState
from lambdas.imaging import ImagingOptions
from tests.fakes import FakeClock, FakeLabeler, RecordingEventSink

KEY = "uploads/alice/img-0004/photo.jpg"


@pytest.fixture
def local(tmp_path):
    store = SqliteMetadataStore(tmp_path / "meta.sqlite3")
    ports = steps.Ports(
        objects=FileObjectStore(tmp_path / "data"),
        metadata=store,
        labeler=FakeLabeler(),
        events=JsonlEventSink(tmp_path / "events"),
        clock=FakeClock(tick_seconds=1),
    )
    yield ports
    store.close()


def _chain(ports):
    # Each step starts from the previous one's result as its destination delivers it (the payload).
    first = steps.run(ports, steps.COMPRESS, image_id="", object_key=KEY)
    image_id = steps.StepResult.from_payload(first.to_payload()).image_id
    second = steps.run(ports, steps.THUMBNAIL, image_id=image_id, object_key=KEY)
    third = steps.run(
        ports, steps.CATEGORIZE, image_id=steps.StepResult.from_payload(second.to_payload()).image_id, object_key=KEY
    )
    return first, second, third


def test_the_chain_makes_the_image_ready_and_findable(local, photo, tmp_path):
    # GIVEN a photo in the data directory
    local.objects.put(KEY, photo, content_type="image/jpeg")
    # WHEN the three steps run in turn
    results = _chain(local)
    # THEN it is ready, its renditions are files, and it is found by category and counted
    assert [r.outcome for r in results] == [steps.Outcome.DONE] * 3
    record = local.metadata.get("img-0004")
    assert record.state is ImageState.READY
    assert all(local.objects.head(r.key) is not None for r in record.renditions)
    assert [r.image_id for r in local.metadata.query(ImageQuery(category="Animals and Pets")).items] == ["img-0004"]
    assert local.metadata.category_counts("alice") == {"Animals and Pets": 1, "Furniture and Furnishings": 1}
    lines = (tmp_path / "events" / "dt=2026-01-31" / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["event_type"] for line in lines] == ["upload", "processed"]


def test_the_chain_twice_changes_nothing_the_second_time(local, photo):
    # GIVEN the chain run once
    local.objects.put(KEY, photo, content_type="image/jpeg")
    _chain(local)
    before = (local.metadata.get("img-0004"), local.metadata.usage(), local.metadata.category_counts())
    # WHEN it runs again THEN every step skips and nothing changed
    assert [r.outcome for r in _chain(local)] == [steps.Outcome.SKIPPED] * 3
    assert (local.metadata.get("img-0004"), local.metadata.usage(), local.metadata.category_counts()) == before


def test_a_bad_image_fails_locally_too(local):
    # GIVEN bytes that are no image WHEN compressed THEN the record is failed with the imaging code
    local.objects.put(KEY, b"%PDF-1.7 not an image", content_type="application/pdf")
    result = steps.compress(local, KEY)
    assert (result.outcome, result.code) == (steps.Outcome.FAILED, "Image.NotAnImage")


def test_thumbnails_come_from_the_jpeg_original_when_the_compressed_rendition_is_webp(local, photo, monkeypatch):
    # GIVEN WebP as the compressed format and a JPEG original, compressed already
    ports = replace(local, imaging=ImagingOptions(compressed_format="webp"))
    ports.objects.put(KEY, photo, content_type="image/jpeg")
    steps.compress(ports, KEY)
    read = []
    real_get = ports.objects.get
    monkeypatch.setattr(ports.objects, "get", lambda key: read.append(key) or real_get(key))
    # WHEN thumbnails are derived THEN they were decoded from the JPEG original (DCT scaling), not the WebP
    assert steps.thumbnail(ports, "img-0004").outcome is steps.Outcome.DONE
    assert read == [KEY]


DELIVERIES = [steps.COMPRESS, steps.THUMBNAIL, steps.CATEGORIZE] * 2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(DELIVERIES))
def test_any_order_of_duplicated_deliveries_ends_ready_and_counted_once(photo, order):
    # GIVEN the API's record and every step's event delivered twice, in any order; an event that comes
    # too early is retried later (as Lambda does with the NotReadyError it raises)
    with tempfile.TemporaryDirectory() as directory:
        labeler, events = FakeLabeler(), RecordingEventSink()
        store = SqliteMetadataStore(Path(directory) / "meta.sqlite3")
        ports = steps.Ports(
            objects=FileObjectStore(Path(directory) / "data"),
            metadata=store,
            labeler=labeler,
            events=events,
            clock=FakeClock(tick_seconds=1),
        )
        # The API creates the record before the client uploads.
        store.create(new_record(image_id="img-0004", owner="alice", filename="photo.jpg", at=ports.clock.now()))
        ports.objects.put(KEY, photo, content_type="image/jpeg")
        pending = list(order)
        for _turn in range(50):
            if not pending:
                break
            step = pending.pop(0)
            try:
                if step == steps.COMPRESS:
                    steps.compress(ports, KEY)
                else:
                    getattr(steps, step)(ports, "img-0004")
            except NotReadyError:
                pending.append(step)
        # THEN the image is ready, labeled once, counted once, with one event of each kind
        record = store.get("img-0004")
        assert record.state is ImageState.READY
        assert len(labeler.calls) == 1
        assert store.category_counts() == {"Animals and Pets": 1, "Furniture and Furnishings": 1}
        assert store.usage().images == 1
        assert sorted(e.event_type.value for e in events.events) == ["processed", "upload"]
        store.close()
