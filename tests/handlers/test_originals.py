"""The originals policy on AWS: compress tags an original whose rendition is verified, the lifecycle rule's
removal event is recorded, and the original then stops being offered and counted."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from PIL import Image

from lambdas.domain.originals import OriginalsPolicy
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState
from lambdas.handlers import compress
from tests.handlers.conftest import BUCKET, s3_event

OWNER = "alice"
IMAGE_ID = "img-0077"


def _upload(aws, ports, data: bytes, name: str = "upload.jpg") -> tuple[str, dict]:
    key = f"uploads/{OWNER}/{IMAGE_ID}/{name}"
    ports.metadata.create(new_record(image_id=IMAGE_ID, owner=OWNER, filename=name, at=ports.clock.now()))
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=data)
    return key, s3_event(key, len(data))


def _tags(aws, key: str) -> dict[str, str]:
    tags = aws["s3"].get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def _lifecycle_event(event: dict) -> dict:
    removed = dict(event)
    removed["Records"] = [dict(event["Records"][0], eventName="LifecycleExpiration:DeleteMarkerCreated")]
    return removed


def test_a_verified_original_is_tagged_and_its_removal_recorded(aws, ports, handlers, context, photo):
    # GIVEN the functions' default policy (expire 30 days after upload) and an uploaded photo
    assert ports.originals == OriginalsPolicy(policy="expire", after_days=30)
    key, event = _upload(aws, ports, photo)
    # WHEN compress runs
    handlers.compress(event, context)
    record = ports.metadata.get(IMAGE_ID)
    # THEN its rendition is verified, the original tagged for the lifecycle rule and its removal dated
    assert record.state is ImageState.COMPRESSED and not record.rendition("compressed").kept_original
    assert _tags(aws, key) == {"imgmgr-original": "replaceable"}
    due = record.original_expires_at
    assert due is not None and (due.hour, due.minute) == (0, 0)
    assert timedelta(days=30) <= due - ports.clock.now() <= timedelta(days=31)
    before = ports.metadata.usage(OWNER)
    # WHEN the lifecycle rule removes it (S3 sends compress the LifecycleExpiration event)
    aws["s3"].delete_object(Bucket=BUCKET, Key=key)
    result = handlers.compress(_lifecycle_event(event), context)
    # THEN the removal is recorded: the state stays, the original no longer counts
    assert result["images"][0]["outcome"] == "done"
    removed = ports.metadata.get(IMAGE_ID)
    assert removed.state is ImageState.COMPRESSED and removed.original_removed_at is not None
    after = ports.metadata.usage(OWNER)
    assert before.bytes_stored - after.bytes_stored == len(photo)
    assert after.images == before.images == 1
    # AND a repeat of the event changes nothing
    assert handlers.compress(_lifecycle_event(event), context)["images"][0]["outcome"] == "skipped"
    assert ports.metadata.usage(OWNER) == after


def test_an_original_that_stands_in_for_its_rendition_is_never_tagged(aws, ports, handlers, context):
    # GIVEN a tiny, already small PNG: kept as its own compressed rendition
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(buffer, "PNG")
    key, event = _upload(aws, ports, buffer.getvalue(), name="dot.png")
    handlers.compress(event, context)
    record = ports.metadata.get(IMAGE_ID)
    # THEN nothing marks it for removal
    assert record.rendition("compressed").kept_original
    assert _tags(aws, key) == {}
    assert record.original_expires_at is None


def test_the_keep_policy_tags_nothing(aws, ports, context, photo):
    # GIVEN functions configured with the keep policy
    keeping = compress.make_handler(lambda: replace(ports, originals=OriginalsPolicy(policy="keep")))
    key, event = _upload(aws, ports, photo)
    # WHEN compress runs THEN the original is neither tagged nor scheduled
    keeping(event, context)
    assert _tags(aws, key) == {}
    assert ports.metadata.get(IMAGE_ID).original_expires_at is None


def test_a_lifecycle_event_for_an_original_still_stored_or_never_scheduled_changes_nothing(
    aws, ports, handlers, context, photo
):
    # GIVEN a compressed photo whose original is scheduled but still stored (the versioned bucket expires
    # a noncurrent version of the same key, e.g. after the upload was POSTed twice)
    key, event = _upload(aws, ports, photo)
    handlers.compress(event, context)
    before = ports.metadata.usage(OWNER)
    # WHEN the event arrives THEN nothing is recorded: the original is still there
    assert handlers.compress(_lifecycle_event(event), context)["images"][0]["outcome"] == "skipped"
    assert ports.metadata.get(IMAGE_ID).original_removed_at is None
    # AND for an original the policy never scheduled, even once gone, nothing is recorded either
    record = ports.metadata.get(IMAGE_ID)
    ports.metadata.transition(record, replace(record, original_expires_at=None))
    aws["s3"].delete_object(Bucket=BUCKET, Key=key)
    assert handlers.compress(_lifecycle_event(event), context)["images"][0]["outcome"] == "skipped"
    assert ports.metadata.usage(OWNER) == before


def test_an_original_is_tagged_only_once_the_record_lists_its_rendition(
    aws, ports, handlers, context, photo, monkeypatch
):
    # GIVEN a compress whose commit keeps being throttled
    from lambdas.domain.errors import ThrottledError

    key, event = _upload(aws, ports, photo)
    store = ports.metadata
    real_transition = store.transition

    def throttled_at_compressed(current, updated):
        if updated.state is ImageState.COMPRESSED:
            raise ThrottledError("dynamodb:TransactWriteItems throttled")
        return real_transition(current, updated)

    monkeypatch.setattr(store, "transition", throttled_at_compressed)
    # WHEN compress fails after writing its rendition THEN the original is not tagged (it stays)
    with pytest.raises(ThrottledError):
        handlers.compress(event, context)
    assert _tags(aws, key) == {}
    # WHEN Lambda retries once DynamoDB answers THEN it is tagged with the record moved
    monkeypatch.setattr(store, "transition", real_transition)
    handlers.compress(event, context)
    assert ports.metadata.get(IMAGE_ID).state is ImageState.COMPRESSED
    assert _tags(aws, key) == {"imgmgr-original": "replaceable"}


def test_a_tagging_that_failed_after_the_commit_is_done_by_the_retry(aws, ports, handlers, context, photo, monkeypatch):
    # GIVEN a compress whose tagging fails once after its commit
    from lambdas.domain.errors import ThrottledError

    key, event = _upload(aws, ports, photo)
    objects = ports.objects
    real_mark = objects.mark_replaceable
    calls = []

    def failing_once(k):
        calls.append(k)
        if len(calls) == 1:
            raise ThrottledError("s3:PutObjectTagging throttled (SlowDown)")
        real_mark(k)

    monkeypatch.setattr(objects, "mark_replaceable", failing_once)
    with pytest.raises(ThrottledError):
        handlers.compress(event, context)
    assert ports.metadata.get(IMAGE_ID).state is ImageState.COMPRESSED
    # WHEN Lambda retries (the record is compressed already: the work is skipped) THEN it tags
    assert handlers.compress(event, context)["images"][0]["outcome"] == "skipped"
    assert _tags(aws, key) == {"imgmgr-original": "replaceable"}


def test_the_removal_date_counts_from_the_upload_not_from_a_late_compress(aws, ports, handlers, context, photo, clock):
    # GIVEN an upload declared now and compressed three days later (retries, a redrive)
    _key, event = _upload(aws, ports, photo)
    created = ports.metadata.get(IMAGE_ID).created_at
    clock.advance(seconds=3 * 86400)
    handlers.compress(event, context)
    # THEN the date is 30 days after the upload (at the next midnight UTC), as S3 counts
    due = ports.metadata.get(IMAGE_ID).original_expires_at
    assert timedelta(days=30) <= due - created < timedelta(days=31)
