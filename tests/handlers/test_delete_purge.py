"""A DELETE that meets a step in flight, and either of them killed part way: the image's objects are all
removed in the end, by the step's next run or by a repeated DELETE (the API never lists the bucket)."""

from __future__ import annotations

import pytest

from lambdas.api.routes import delete_image
from lambdas.api.services import ApiServices
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState
from tests.fakes import ProcessKilled, UnlistedObjectStore
from tests.handlers.conftest import BUCKET, envelope, s3_event

OWNER = "alice"
IMAGE_ID = "img-0003"
KEY = f"uploads/{OWNER}/{IMAGE_ID}/photo.jpg"


@pytest.fixture
def uploaded(aws, ports, photo):
    """An image declared through the API whose original is in the bucket; the S3 event for it."""
    ports.metadata.create(new_record(image_id=IMAGE_ID, owner=OWNER, filename="photo.jpg", at=ports.clock.now()))
    aws["s3"].put_object(Bucket=BUCKET, Key=KEY, Body=photo)
    return s3_event(KEY, len(photo))


def _api(ports, **store_options) -> ApiServices:
    """The API's services over the functions' table and bucket (the DELETE route presigns nothing and
    authenticates nobody: the owner is passed in)."""
    return ApiServices(
        metadata=ports.metadata,
        objects=UnlistedObjectStore(ports.objects, **store_options),
        events=ports.events,
        clock=ports.clock,
        presigner=None,  # type: ignore[arg-type]
        authenticator=None,  # type: ignore[arg-type]
        cursor_secret=b"x" * 32,
    )


def _left(aws) -> list[str]:
    """Every object of the image still in the bucket, under either of its prefixes."""
    keys = []
    for prefix in (f"uploads/{OWNER}/{IMAGE_ID}/", f"renditions/{IMAGE_ID}/"):
        listing = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        keys += [item["Key"] for item in listing.get("Contents", [])]
    return keys


def _delete_before_first_rendition_write(ports, monkeypatch):
    """The owner's DELETE runs (and completes) just before the step writes its first rendition."""
    real_put = ports.objects.put
    done = []

    def put(key, data, *, content_type):
        if key.startswith("renditions/") and not done:
            done.append(delete_image(IMAGE_ID, OWNER, _api(ports)).status_code)
        real_put(key, data, content_type=content_type)

    monkeypatch.setattr(ports.objects, "put", put)
    return done


def _killed_at_commit(ports, monkeypatch, state: ImageState):
    """The step's process dies when it commits ``state`` (before it could notice the delete and purge)."""
    real_transition = ports.metadata.transition

    def transition(current, updated):
        if updated.state is state:
            raise ProcessKilled(f"killed while committing {state}")
        return real_transition(current, updated)

    monkeypatch.setattr(ports.metadata, "transition", transition)


def test_a_compress_killed_after_its_write_and_a_delete_is_purged_by_its_retry(
    aws, ports, handlers, context, uploaded, monkeypatch
):
    # GIVEN a DELETE between compress's rendition write and its commit, and compress killed at that commit
    deletes = _delete_before_first_rendition_write(ports, monkeypatch)
    _killed_at_commit(ports, monkeypatch, ImageState.COMPRESSED)
    with pytest.raises(ProcessKilled):
        handlers.compress(uploaded, context)
    assert deletes == [204]
    assert _left(aws) == [f"renditions/{IMAGE_ID}/compressed.jpg"]
    monkeypatch.undo()
    # WHEN Lambda retries the event
    result = handlers.compress(uploaded, context)
    # THEN the retry meets the tombstone, purges everything under the image's prefixes and skips
    assert result["images"][0]["outcome"] == "skipped"
    assert _left(aws) == []
    assert ports.metadata.get(IMAGE_ID).state is ImageState.DELETED


def test_a_thumbnail_killed_after_its_writes_and_a_delete_is_purged_by_its_retry(
    aws, ports, handlers, context, uploaded, monkeypatch
):
    # GIVEN a compressed image, deleted between thumbnail's first rendition write and its commit, and
    # thumbnail killed at that commit
    compressed = handlers.compress(uploaded, context)
    event = envelope(uploaded, compressed, function="compress")
    deletes = _delete_before_first_rendition_write(ports, monkeypatch)
    _killed_at_commit(ports, monkeypatch, ImageState.THUMBNAILED)
    with pytest.raises(ProcessKilled):
        handlers.thumbnail(event, context)
    assert deletes == [204]
    assert _left(aws) != []
    monkeypatch.undo()
    # WHEN Lambda retries the invocation
    result = handlers.thumbnail(event, context)
    # THEN the retry purges every rendition and skips
    assert result["images"][0]["outcome"] == "skipped"
    assert _left(aws) == []


def test_a_repeated_delete_removes_what_a_killed_delete_and_a_killed_step_left(
    aws, ports, handlers, context, uploaded, monkeypatch
):
    # GIVEN compress killed between its rendition write and its commit (the record names no rendition)
    _killed_at_commit(ports, monkeypatch, ImageState.COMPRESSED)
    with pytest.raises(ProcessKilled):
        handlers.compress(uploaded, context)
    monkeypatch.undo()
    assert sorted(_left(aws)) == [f"renditions/{IMAGE_ID}/compressed.jpg", KEY]
    # AND a DELETE killed after removing one object
    with pytest.raises(ProcessKilled):
        delete_image(IMAGE_ID, OWNER, _api(ports, kill_after_deletes=1))
    assert len(_left(aws)) == 1
    # WHEN the client repeats the DELETE (the API cannot list the bucket)
    response = delete_image(IMAGE_ID, OWNER, _api(ports))
    # THEN it answers 204 and nothing of the image is left
    assert response.status_code == 204
    assert _left(aws) == []
    assert ports.metadata.get(IMAGE_ID).state is ImageState.DELETED
