"""Every event delivered twice and out of order: no duplicate renditions, labels, counters or events,
and no state moves back."""

from __future__ import annotations

import pytest

from lambdas.domain.errors import NotReadyError
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState
from tests.handlers.conftest import BUCKET, envelope, s3_event

OWNER = "alice"
IMAGE_ID = "img-0001"
KEY = f"uploads/{OWNER}/{IMAGE_ID}/photo.jpg"


@pytest.fixture
def uploaded(aws, ports, photo):
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY, Body=photo)
    return s3_event(KEY, len(photo))


def _snapshot(aws, ports):
    record = ports.metadata.get(IMAGE_ID)
    objects = {o["Key"]: o["ETag"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    return {
        "record": record,
        "objects": objects,
        "counts": ports.metadata.category_counts(),
        "owner_counts": ports.metadata.category_counts(OWNER),
        "usage": ports.metadata.usage(OWNER),
        "total": ports.metadata.usage(),
    }


def _outcomes(result):
    return [item["outcome"] for item in result["images"]]


def test_every_event_twice_changes_nothing_the_second_time(aws, ports, handlers, context, uploaded, labeler, events):
    # GIVEN the chain delivered once
    first = handlers.compress(uploaded, context)
    second_event = envelope(uploaded, first, function="compress")
    second = handlers.thumbnail(second_event, context)
    third_event = envelope(second_event, second, function="thumbnail")
    handlers.categorize(third_event, context)
    before = _snapshot(aws, ports)
    emitted = len(events.events)
    # WHEN every event is delivered again
    again = [
        handlers.compress(uploaded, context),
        handlers.thumbnail(second_event, context),
        handlers.categorize(third_event, context),
    ]
    # THEN each step skipped, and records, objects, counters, labeler calls and events are unchanged
    assert [_outcomes(result) for result in again] == [["skipped"]] * 3
    assert _snapshot(aws, ports) == before
    assert len(events.events) == emitted
    assert len(labeler.calls) == 1
    assert before["record"].state is ImageState.READY


def test_late_duplicates_after_ready_do_not_move_the_state_back(aws, ports, handlers, context, uploaded):
    # GIVEN a ready image
    first = handlers.compress(uploaded, context)
    second_event = envelope(uploaded, first, function="compress")
    second = handlers.thumbnail(second_event, context)
    handlers.categorize(envelope(second_event, second, function="thumbnail"), context)
    version = ports.metadata.get(IMAGE_ID).version
    # WHEN the earlier events arrive late, in reverse order
    handlers.thumbnail(second_event, context)
    handlers.compress(uploaded, context)
    # THEN the image is still ready at the same version
    record = ports.metadata.get(IMAGE_ID)
    assert (record.state, record.version) == (ImageState.READY, version)


def test_thumbnail_before_compress_waits_and_loses_nothing(aws, ports, handlers, context, uploaded):
    # GIVEN an envelope naming the image before compress has run (a reordered delivery)
    early = envelope(
        uploaded, {"images": [{"step": "compress", "image_id": IMAGE_ID, "outcome": "done"}]}, function="compress"
    )
    ports.metadata.create(new_record(image_id=IMAGE_ID, owner=OWNER, filename="photo.jpg", at=ports.clock.now()))
    # WHEN thumbnail runs first THEN it asks to be retried and leaves the record as it was
    with pytest.raises(NotReadyError, match="waits for compressed"):
        handlers.thumbnail(early, context)
    assert ports.metadata.get(IMAGE_ID).state is ImageState.AWAITING_UPLOAD
    # AND once compress ran, the retried thumbnail succeeds
    handlers.compress(uploaded, context)
    assert _outcomes(handlers.thumbnail(early, context)) == ["done"]


def test_categorize_before_thumbnail_waits(aws, ports, handlers, context, uploaded):
    # GIVEN a compressed image
    first = handlers.compress(uploaded, context)
    early = envelope(uploaded, first, function="thumbnail")
    # WHEN categorize arrives before thumbnail THEN it asks to be retried and the state stays
    with pytest.raises(NotReadyError, match="waits for thumbnailed"):
        handlers.categorize(early, context)
    assert ports.metadata.get(IMAGE_ID).state is ImageState.COMPRESSED


def test_two_compress_runs_racing_write_once(aws, ports, handlers, context, uploaded, events, monkeypatch):
    # GIVEN a duplicate compress that finishes while this one is between its work and its write
    from lambdas import steps

    store = ports.metadata
    real_transition = store.transition
    raced = []

    def transition(current, updated):
        if updated.state is ImageState.COMPRESSED and not raced:
            raced.append(None)
            raced[0] = steps.compress(ports, KEY)
        return real_transition(current, updated)

    monkeypatch.setattr(store, "transition", transition)
    # WHEN this run writes THEN its conditional write loses and it reports skipped
    result = handlers.compress(uploaded, context)
    assert _outcomes(result) == ["skipped"]
    assert raced[0].outcome.value == "done"
    # AND the upload is counted once, with one upload event
    assert ports.metadata.usage(OWNER).images == 1
    assert [e.event_type.value for e in events.events] == ["upload"]
    assert ports.metadata.get(IMAGE_ID).state is ImageState.COMPRESSED
