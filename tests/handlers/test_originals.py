"""The originals policy on AWS: compress tags an original whose rendition is verified, the lifecycle rule's
removal event is recorded, and the original then stops being offered and counted."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

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


def test_a_verified_original_is_tagged_and_its_removal_recorded(aws, ports, context, photo):
    # GIVEN the functions' default policy (expire 30 days after upload) and an uploaded photo
    assert ports.originals == OriginalsPolicy(policy="expire", after_days=30)
    key, event = _upload(aws, ports, photo)
    # WHEN compress runs
    compress.handler(event, context)
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
    result = compress.handler(_lifecycle_event(event), context)
    # THEN the removal is recorded: the state stays, the original no longer counts
    assert result["images"][0]["outcome"] == "done"
    removed = ports.metadata.get(IMAGE_ID)
    assert removed.state is ImageState.COMPRESSED and removed.original_removed_at is not None
    after = ports.metadata.usage(OWNER)
    assert before.bytes_stored - after.bytes_stored == len(photo)
    assert after.images == before.images == 1
    # AND a repeat of the event changes nothing
    assert compress.handler(_lifecycle_event(event), context)["images"][0]["outcome"] == "skipped"
    assert ports.metadata.usage(OWNER) == after


def test_an_original_that_stands_in_for_its_rendition_is_never_tagged(aws, ports, context):
    # GIVEN a tiny, already small PNG: kept as its own compressed rendition
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(buffer, "PNG")
    key, event = _upload(aws, ports, buffer.getvalue(), name="dot.png")
    compress.handler(event, context)
    record = ports.metadata.get(IMAGE_ID)
    # THEN nothing marks it for removal
    assert record.rendition("compressed").kept_original
    assert _tags(aws, key) == {}
    assert record.original_expires_at is None


def test_the_keep_policy_tags_nothing(aws, ports, context, photo, monkeypatch):
    from lambdas import config

    keeping = replace(ports, originals=OriginalsPolicy(policy="keep"))
    monkeypatch.setattr(config, "aws_ports", lambda: keeping)
    key, event = _upload(aws, ports, photo)
    compress.handler(event, context)
    assert _tags(aws, key) == {}
    assert ports.metadata.get(IMAGE_ID).original_expires_at is None
