"""Every failure path ends in its documented state, with nothing lost."""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import replace
from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from lambdas.adapters.aws.rekognition import RekognitionLabeler
from lambdas.domain.errors import ThrottledError
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState
from lambdas.handlers import categorize
from tests.handlers.conftest import BUCKET, TABLE, envelope, s3_event

OWNER = "alice"
IMAGE_ID = "img-0002"
KEY = f"uploads/{OWNER}/{IMAGE_ID}/upload.jpg"


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (the data never gets decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def _awaiting(ports, **declared):
    return ports.metadata.create(
        new_record(image_id=IMAGE_ID, owner=OWNER, filename="upload.jpg", at=ports.clock.now(), **declared)
    )


def _outcome(result):
    return result["images"][0]["outcome"], result["images"][0]["code"]


def _compress(aws, handlers, context, data):
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY, Body=data)
    event = s3_event(KEY, len(data))
    return event, handlers.compress(event, context)


def test_not_an_image_fails_for_good_and_keeps_the_original(aws, ports, handlers, context, events):
    # GIVEN a text file uploaded as a photo
    _awaiting(ports)
    event, result = _compress(aws, handlers, context, b"this is not an image at all")
    # THEN compress returns normally with the imaging code, the record is failed for good
    assert _outcome(result) == ("failed", "Image.NotAnImage")
    record = ports.metadata.get(IMAGE_ID)
    assert (record.state, record.failure.code, record.failure.retryable) == (
        ImageState.FAILED,
        "Image.NotAnImage",
        False,
    )
    # AND the original is kept, counted in usage, and a failed event was emitted
    assert aws["s3"].get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"this is not an image at all"
    assert ports.metadata.usage(OWNER).images == 1
    assert [e.event_type.value for e in events.events] == ["upload", "failed"]
    # AND the chain after it does nothing
    assert _outcome(handlers.thumbnail(envelope(event, result, function="compress"), context)) == (
        "skipped",
        "Image.NotAnImage",
    )


def test_an_image_over_the_pixel_limit_fails_for_good(aws, ports, handlers, context):
    # GIVEN a PNG declaring 8000x6000 pixels, over the 40 MP limit of the test environment
    _, result = _compress(aws, handlers, context, _png_header(8000, 6000))
    # THEN the image failed with the imaging code and nothing was decoded or written
    assert _outcome(result) == ("failed", "Image.TooManyPixels")
    assert ports.metadata.get(IMAGE_ID).state is ImageState.FAILED
    assert list(ports.objects.list("renditions/")) == []


def test_a_missing_object_fails_the_record_for_good(aws, ports, handlers, context):
    # GIVEN the API's record, and an S3 event for an object that is not there (any more)
    _awaiting(ports)
    # WHEN compress handles the event
    result = handlers.compress(s3_event(KEY, 1234), context)
    # THEN the record is failed with Object.NotFound, and the handler returned normally
    assert _outcome(result) == ("failed", "Object.NotFound")
    assert ports.metadata.get(IMAGE_ID).failure.code == "Object.NotFound"


def test_an_upload_after_the_delete_is_removed_and_the_tombstone_stays(aws, ports, handlers, context, photo):
    # GIVEN an upload declared, then deleted through the API before its bytes arrived (the API found
    # nothing to remove), then the bytes sent with the still-valid presigned POST
    _awaiting(ports)
    ports.metadata.delete(IMAGE_ID, at=ports.clock.now())
    # WHEN compress handles the event
    event, result = _compress(aws, handlers, context, photo)
    # THEN it skips, the tombstone stays, and the original is gone from the bucket (nothing is orphaned)
    assert _outcome(result)[0] == "skipped"
    assert ports.metadata.get(IMAGE_ID).state is ImageState.DELETED
    assert list(ports.objects.list("uploads/")) == []
    assert list(ports.objects.list(f"renditions/{IMAGE_ID}/")) == []
    # AND a repeated event (S3 delivers at least once) skips again without an error
    assert _outcome(handlers.compress(event, context))[0] == "skipped"


def test_bytes_that_differ_from_the_declared_hash_fail(aws, ports, handlers, context, photo):
    # GIVEN an upload declared with another file's SHA-256
    _awaiting(ports, declared_sha256=hashlib.sha256(b"another file").hexdigest())
    # WHEN the real bytes arrive THEN the record fails with Upload.ChecksumMismatch
    _, result = _compress(aws, handlers, context, photo)
    assert _outcome(result) == ("failed", "Upload.ChecksumMismatch")


def test_a_failed_upload_no_longer_expires_while_its_original_is_kept(aws, ports, handlers, context, photo):
    # GIVEN an upload declared as the API does it: with another file's hash and the abandoned-upload expiry
    declared = _awaiting(ports, declared_sha256=hashlib.sha256(b"another file").hexdigest())
    store = ports.metadata
    store.transition(declared, replace(declared, expires_at=ports.clock.now() + timedelta(days=1)))
    # WHEN the bytes arrive and fail the checksum
    _, result = _compress(aws, handlers, context, photo)
    # THEN the failed record has no TTL in DynamoDB: it stays as long as the original it stands for
    assert _outcome(result) == ("failed", "Upload.ChecksumMismatch")
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key={"pk": {"S": f"IMG#{IMAGE_ID}"}, "sk": {"S": "IMG"}}, ConsistentRead=True
    )["Item"]
    assert (item["state"]["S"], "expires_at" in item) == ("failed", False)
    assert aws["s3"].head_object(Bucket=BUCKET, Key=KEY)["ContentLength"] == len(photo)


def test_a_key_outside_the_layout_is_refused_loudly_without_a_record(aws, ports, handlers, context, photo):
    # GIVEN an object under uploads/ but not uploads/<owner>/<id>/<file>
    aws["s3"].put_object(Bucket=BUCKET, Key="uploads/stray.jpg", Body=photo)
    # WHEN compress handles its event THEN it reports the key as invalid and does not raise
    result = handlers.compress(s3_event("uploads/stray.jpg", len(photo)), context)
    assert _outcome(result) == ("failed", "Object.InvalidKey")


def _until_thumbnailed(aws, handlers, context, photo):
    event, first = _compress(aws, handlers, context, photo)
    second_event = envelope(event, first, function="compress")
    second = handlers.thumbnail(second_event, context)
    return envelope(second_event, second, function="thumbnail")


def test_rekognition_throttled_raises_for_a_retry_and_the_retry_finishes(aws, ports, handlers, context, photo):
    # GIVEN a thumbnailed image and Rekognition throttling once, then answering
    third_event = _until_thumbnailed(aws, handlers, context, photo)
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("detect_labels", "ThrottlingException", "Rate exceeded", 400)
        stubber.add_response(
            "detect_labels",
            {
                "Labels": [
                    {"Name": "Pattern", "Confidence": 88.0, "Parents": [], "Categories": [{"Name": "Backgrounds"}]}
                ]
            },
        )
        categorize_throttled = categorize.make_handler(
            lambda: replace(ports, labeler=RekognitionLabeler(client=client))
        )
        # WHEN categorize runs THEN it raises so that Lambda retries
        with pytest.raises(ThrottledError, match="throttled"):
            categorize_throttled(third_event, context)
        # AND the record shows a retryable failure that remembers where to resume
        failed = ports.metadata.get(IMAGE_ID)
        assert (failed.state, failed.failure.code, failed.failure.retryable) == (
            ImageState.FAILED,
            "Dependency.Throttled",
            True,
        )
        assert failed.failure.state is ImageState.THUMBNAILED
        # WHEN Lambda retries the same event THEN the image becomes ready with nothing lost
        categorize_throttled(third_event, context)
    record = ports.metadata.get(IMAGE_ID)
    assert (record.state, record.failure, record.categories) == (ImageState.READY, None, ("Backgrounds",))
    assert {r.name for r in record.renditions} == {"compressed", "thumb-256", "thumb-1024", "analysis"}


def test_dynamodb_throttling_raises_for_a_retry_and_keeps_the_state(aws, ports, handlers, context, photo, monkeypatch):
    # GIVEN a compressed image, and DynamoDB refusing every write with a throughput error
    event, first = _compress(aws, handlers, context, photo)
    store = ports.metadata

    def throttled(current, updated):
        raise ThrottledError("dynamodb:TransactWriteItems throttled (ProvisionedThroughputExceeded)")

    monkeypatch.setattr(store, "transition", throttled)
    # WHEN thumbnail runs THEN it raises for a retry and the record stays compressed
    with pytest.raises(ThrottledError, match="throttled"):
        handlers.thumbnail(envelope(event, first, function="compress"), context)
    monkeypatch.undo()
    assert ports.metadata.get(IMAGE_ID).state is ImageState.COMPRESSED


def test_a_conditional_write_that_keeps_losing_is_retried_not_dropped(
    aws, ports, handlers, context, photo, monkeypatch
):
    # GIVEN a compressed image whose record changes under every write (a writer that never settles)
    from lambdas.domain.errors import StaleRecordError

    event, first = _compress(aws, handlers, context, photo)
    store = ports.metadata
    real_transition = store.transition

    def always_stale(current, updated):
        if updated.state is ImageState.THUMBNAILED:
            raise StaleRecordError(f"image {current.image_id} changed since version {current.version}")
        return real_transition(current, updated)

    monkeypatch.setattr(store, "transition", always_stale)
    # WHEN thumbnail runs THEN it raises (Lambda retries) and the record shows a retryable conflict
    with pytest.raises(StaleRecordError, match="kept changing"):
        handlers.thumbnail(envelope(event, first, function="compress"), context)
    failed = ports.metadata.get(IMAGE_ID)
    assert (failed.failure.code, failed.failure.retryable) == ("Record.Conflict", True)


def test_an_unexpected_fault_is_raised_and_recorded_as_retryable(aws, ports, handlers, context, photo):
    # GIVEN a thumbnailed image and a labeler with a bug
    third_event = _until_thumbnailed(aws, handlers, context, photo)

    class Broken:
        def detect(self, image):
            raise KeyError("Labels")

    categorize_broken = categorize.make_handler(lambda: replace(ports, labeler=Broken()))
    # WHEN categorize runs THEN the fault propagates and the record can resume later
    with pytest.raises(KeyError, match="Labels"):
        categorize_broken(third_event, context)
    failure = ports.metadata.get(IMAGE_ID).failure
    assert (failure.code, failure.retryable) == ("Pipeline.InternalError", True)


def test_an_image_deleted_while_compressing_leaves_no_rendition_behind(
    aws, ports, handlers, context, photo, monkeypatch
):
    # GIVEN an upload that the owner deletes while compress is encoding it
    store = ports.metadata
    real_transition = store.transition

    def delete_first(current, updated):
        if updated.state is ImageState.COMPRESSED:
            real_delete(IMAGE_ID, at=ports.clock.now())
        return real_transition(current, updated)

    real_delete = store.delete
    monkeypatch.setattr(store, "transition", delete_first)
    # WHEN compress finishes THEN it skips, the tombstone stays and its rendition was removed
    _, result = _compress(aws, handlers, context, photo)
    assert _outcome(result)[0] == "skipped"
    assert ports.metadata.get(IMAGE_ID).state is ImageState.DELETED
    assert list(ports.objects.list(f"renditions/{IMAGE_ID}/")) == []


def test_the_last_attempt_of_an_unexpected_fault_parks_the_image_and_a_redrive_resumes_it(
    aws, ports, handlers, context, photo, events
):
    # GIVEN a thumbnailed image, the functions' own attempt limit (IMGMGR_MAX_ATTEMPTS, default 1 + 2
    # retries) and a labeler with a bug
    third_event = _until_thumbnailed(aws, handlers, context, photo)
    assert ports.max_attempts == 3

    class Broken:
        def detect(self, image):
            raise KeyError("Labels")

    categorize_broken = categorize.make_handler(lambda: replace(ports, labeler=Broken()))
    # WHEN Lambda makes its three attempts
    seen = []
    for _attempt in range(3):
        with pytest.raises(KeyError):
            categorize_broken(third_event, context)
        failure = ports.metadata.get(IMAGE_ID).failure
        seen.append((failure.attempts, failure.parked, failure.pending))
    # THEN the first two say the pipeline is still retrying, the last one that it is parked (the API's
    # "retryable" is ``pending``: tests/api)
    assert seen == [(1, False, True), (2, False, True), (3, True, False)]
    # AND only the parked (final) failure is an analytics event, once
    failed = [e for e in events.events if e.event_type.value == "failed"]
    assert [(e.image_id, e.code) for e in failed] == [(IMAGE_ID, failure.code)]
    # WHEN the operator redrives the event once the fault is gone THEN the image becomes ready
    handlers.categorize(third_event, context)
    record = ports.metadata.get(IMAGE_ID)
    assert (record.state, record.failure) == (ImageState.READY, None)


def test_a_step_that_runs_out_of_its_functions_time_records_why_before_lambda_ends_it(
    aws, ports, handlers, context, photo, monkeypatch
):
    # GIVEN a compressed image, a thumbnail function with 5.5 s left (the deadline keeps 5 s back) and a
    # derive that would take far longer
    import time as real_time

    from lambdas import imaging
    from lambdas.handlers.common import DeadlineExceededError

    event, first = _compress(aws, handlers, context, photo)

    def slow_derive(data, options):
        real_time.sleep(30)

    monkeypatch.setattr(imaging, "derive", slow_derive)
    monkeypatch.setattr(context, "get_remaining_time_in_millis", lambda: 5_500)
    # WHEN thumbnail runs THEN it is stopped half a second in, and raises for Lambda's retry
    started = real_time.monotonic()
    with pytest.raises(DeadlineExceededError, match="ran out of time"):
        handlers.thumbnail(envelope(event, first, function="compress"), context)
    assert real_time.monotonic() - started < 5
    # AND the record says why, retryable, resuming from compressed
    failure = ports.metadata.get(IMAGE_ID).failure
    assert (failure.code, failure.retryable, failure.state) == (
        "Pipeline.DeadlineExceeded",
        True,
        ImageState.COMPRESSED,
    )


def test_a_short_function_timeout_keeps_a_quarter_back_not_the_whole_margin():
    # GIVEN 400 ms left, under the 5 s margin
    import time as real_time

    from lambdas.handlers.common import DeadlineExceededError, deadline

    class Short:
        def get_remaining_time_in_millis(self):
            return 400

    # THEN a step of 100 ms finishes (the alarm is at 300 ms, not at once) and one of 2 s is stopped
    with deadline(Short()):
        real_time.sleep(0.1)
    with pytest.raises(DeadlineExceededError), deadline(Short()):
        real_time.sleep(2)
