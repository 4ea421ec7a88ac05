"""Image records: keys, transitions, counters, persistence form."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.domain.errors import InvalidKeyError, InvalidQueryError, InvalidTransitionError
from lambdas.domain.labels import Label, Labeling
from lambdas.domain.queries import ImageQuery, index_terms
from lambdas.domain.records import (
    ImageRecord,
    StoredRendition,
    UploadKey,
    Usage,
    check_transition,
    counter_changes,
    new_record,
    parse_timestamp,
    rendition_key,
    timestamp,
)
from lambdas.domain.states import ImageState

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
CAT = Labeling((Label("Cat", 97.5, ("Animal",), ("Animals and Pets",)),), "fake")


def _uploaded() -> ImageRecord:
    record = new_record(image_id="img-1", owner="alice", filename="cat.jpg", at=T0)
    return record.uploaded(at=T0, size=1000, sha256="abc", sniffed_format="jpeg", sniffed_mime="image/jpeg")


def _compressed(size: int = 400, *, kept: bool = False) -> ImageRecord:
    rendition = StoredRendition(
        name="compressed",
        key="renditions/img-1/compressed.jpg",
        format="jpeg",
        mime="image/jpeg",
        width=10,
        height=10,
        size=size,
        kept_original=kept,
    )
    return _uploaded().compressed(at=T0, rendition=rendition, width=10, height=10, fmt="jpeg", mime="image/jpeg")


def test_upload_key_parses_into_owner_id_and_filename():
    assert UploadKey.parse("uploads/alice/img-1/cat.jpg") == UploadKey("alice", "img-1", "cat.jpg")


@pytest.mark.parametrize(
    "key", ["uploads/alice/img-1", "renditions/img-1/a.jpg", "uploads/alice/../x.jpg", "uploads/a/b/c/d.jpg"]
)
def test_keys_outside_the_layout_are_refused(key):
    with pytest.raises(InvalidKeyError, match="is not"):
        UploadKey.parse(key)


def test_rendition_key_uses_the_usual_extension():
    assert rendition_key("img-1", "thumb-256", "JPEG") == "renditions/img-1/thumb-256.jpg"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_timestamps_round_trip(moment):
    assert parse_timestamp(timestamp(moment)) == moment


@given(
    st.lists(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
        min_size=2,
        max_size=5,
    )
)
def test_timestamp_text_sorts_as_time(moments):
    assert sorted(moments) == sorted(moments, key=timestamp)


def test_a_step_cannot_move_a_ready_record_back():
    ready = _compressed().thumbnailed(at=T0, renditions=()).categorized(at=T0, labeling=CAT)
    with pytest.raises(InvalidTransitionError, match="ready -> compressed"):
        ready.compressed(at=T0, rendition=ready.renditions[0], width=1, height=1, fmt="jpeg", mime="image/jpeg")


def test_a_final_failure_cannot_resume():
    failed = _uploaded().failed(at=T0, code="Image.NotAnImage", message="no", step="compress", retryable=False)
    with pytest.raises(InvalidTransitionError, match="failed -> compressed"):
        _ = failed.compressed(
            at=T0, rendition=_compressed().renditions[0], width=1, height=1, fmt="jpeg", mime="image/jpeg"
        )


def test_a_repeated_failure_keeps_the_state_to_resume_from():
    failed = _compressed().failed(at=T0, code="Dependency.Throttled", message="x", step="thumbnail", retryable=True)
    again = failed.failed(at=T0, code="Dependency.Throttled", message="y", step="thumbnail", retryable=True)
    assert again.failure.state is ImageState.COMPRESSED


def test_failures_count_to_the_limit_and_a_redriven_one_counts_anew():
    # GIVEN a step failing three times with a limit of three attempts
    record = _compressed()
    seen = []
    for _ in range(3):
        record = record.failed(at=T0, code="X", message="x", step="thumbnail", retryable=True, max_attempts=3)
        seen.append((record.failure.attempts, record.failure.parked))
    # THEN the third is parked
    assert seen == [(1, False), (2, False), (3, True)]
    # WHEN the parked step is redriven and fails again THEN it is attempt 1 of a new round, not parked
    again = record.failed(at=T0, code="X", message="x", step="thumbnail", retryable=True, max_attempts=3)
    assert (again.failure.attempts, again.failure.parked, again.failure.state) == (1, False, ImageState.COMPRESSED)


@pytest.mark.parametrize("retryable", [False, True])
def test_a_failure_before_the_upload_stops_the_abandoned_upload_ttl(retryable):
    # GIVEN an upload the API declared, set to expire if its bytes never arrive
    declared = new_record(image_id="img-1", owner="alice", filename="cat.jpg", at=T0, expires_at=T0 + timedelta(days=1))
    # WHEN the upload fails before it was recorded (checksum mismatch, too large, object missing)
    failed = declared.failed(at=T0, code="Upload.ChecksumMismatch", message="x", step="compress", retryable=retryable)
    # THEN the record no longer expires: its original may be in the bucket until the image is deleted
    assert failed.expires_at is None


def test_only_awaiting_upload_and_deleted_records_keep_an_expiry():
    # GIVEN a record that carries an expiry (an older failed record written before failures cleared it)
    later = T0 + timedelta(days=1)
    failed = new_record(image_id="img-1", owner="alice", filename="cat.jpg", at=T0, expires_at=later).failed(
        at=T0, code="Dependency.Throttled", message="x", step="compress", retryable=True
    )
    stale = ImageRecord.from_dict({**failed.to_dict(), "expires_at": timestamp(later)})
    # WHEN it fails again, resumes, or is deleted
    # THEN only the tombstone expires
    assert stale.failed(at=T0, code="X.Y", message="x", step="compress", retryable=True).expires_at is None
    assert stale.uploaded(at=T0, size=1, sha256="a", sniffed_format=None, sniffed_mime=None).expires_at is None
    assert stale.deleted(at=T0, expires_at=later).expires_at == later


def test_check_transition_refuses_a_change_of_owner():
    record = _uploaded()
    other = ImageRecord.from_dict({**record.to_dict(), "owner": "mallory"})
    with pytest.raises(InvalidTransitionError, match="never change"):
        check_transition(record, other)


def test_usage_counts_original_and_renditions_and_savings():
    assert _compressed(400).usage() == Usage(images=1, bytes_stored=1400, bytes_saved=600)


def test_a_kept_original_is_not_stored_twice_nor_saved():
    assert _compressed(1000, kept=True).usage() == Usage(images=1, bytes_stored=1000, bytes_saved=0)


def test_an_image_awaiting_upload_uses_nothing():
    assert new_record(image_id="img-1", owner="alice", filename="a.jpg", at=T0).usage() == Usage()


def test_counter_changes_of_becoming_ready_add_its_categories():
    thumbnailed = _compressed().thumbnailed(at=T0, renditions=())
    ready = thumbnailed.categorized(at=T0, labeling=CAT)
    assert counter_changes(thumbnailed, ready) == (Usage(), {"Animals and Pets": 1}, {})


def test_counter_changes_of_a_deletion_remove_everything_it_added():
    ready = _compressed().thumbnailed(at=T0, renditions=()).categorized(at=T0, labeling=CAT)
    deleted = ready.deleted(at=T0, expires_at=T0 + timedelta(days=7))
    assert counter_changes(ready, deleted) == (-ready.usage(), {"Animals and Pets": -1}, {})


def test_a_ready_record_is_indexed_by_categories_and_folded_labels():
    ready = _compressed().thumbnailed(at=T0, renditions=()).categorized(at=T0, labeling=CAT)
    # AND by the search words of its labels, parents, categories and file name ("and" is no word)
    assert index_terms(ready) == {
        ("category", "Animals and Pets"),
        ("label", "cat"),
        ("label", "animal"),
        ("word", "cat"),
        ("word", "animal"),
        ("word", "pet"),
    }


def test_the_persistence_form_round_trips():
    ready = _compressed().thumbnailed(at=T0, renditions=()).categorized(at=T0, labeling=CAT)
    failed = _uploaded().failed(at=T0, code="Image.NotAnImage", message="no", step="compress", retryable=False)
    assert ImageRecord.from_dict(ready.to_dict()) == ready
    assert ImageRecord.from_dict(failed.to_dict()) == failed


def test_a_record_with_every_rendition_field_set_round_trips_in_the_stored_form():
    # GIVEN a record whose renditions set every field, one of them a kept original
    kept = StoredRendition(
        name="compressed",
        key="uploads/alice/img-1/cat.jpg",
        format="jpeg",
        mime="image/jpeg",
        width=4000,
        height=3000,
        size=123456,
        quality=82,
        ssim=0.98765,
        kept_original=True,
    )
    thumb = StoredRendition(
        name="thumb-256", key="renditions/img-1/thumb-256.webp", format="webp", mime="image/webp", width=256,
        height=192, size=9000, quality=80, ssim=None, kept_original=False,
    )  # fmt: skip
    record = _uploaded().compressed(at=T0, rendition=kept, width=4000, height=3000, fmt="jpeg", mime="image/jpeg")
    record = record.thumbnailed(at=T0, renditions=(thumb,))
    # WHEN it is stored as JSON and loaded back
    stored = json.loads(json.dumps(record.to_dict()))
    # THEN each rendition is stored as it always was (key second) and the record comes back equal
    assert [list(r.items()) for r in stored["renditions"]] == [
        [
            ("name", "compressed"),
            ("key", "uploads/alice/img-1/cat.jpg"),
            ("format", "jpeg"),
            ("mime", "image/jpeg"),
            ("width", 4000),
            ("height", 3000),
            ("size", 123456),
            ("quality", 82),
            ("ssim", 0.98765),
            ("kept_original", True),
        ],
        [
            ("name", "thumb-256"),
            ("key", "renditions/img-1/thumb-256.webp"),
            ("format", "webp"),
            ("mime", "image/webp"),
            ("width", 256),
            ("height", 192),
            ("size", 9000),
            ("quality", 80),
            ("ssim", None),
            ("kept_original", False),
        ],
    ]
    assert ImageRecord.from_dict(stored) == record


def test_a_rendition_stored_without_its_optional_fields_and_with_decimal_numbers_loads():
    # GIVEN a rendition as an older record or DynamoDB gives it: no quality/ssim/kept_original, Decimals
    stored = {
        **_uploaded().to_dict(),
        "renditions": [
            {"name": "compressed", "key": "renditions/img-1/compressed.jpg", "format": "jpeg",
             "mime": "image/jpeg", "width": Decimal(10), "height": Decimal("20"), "size": Decimal(300)},
            {"name": "thumb-256", "key": "renditions/img-1/thumb-256.jpg", "format": "jpeg",
             "mime": "image/jpeg", "width": 1, "height": 2, "size": 3, "quality": Decimal(80),
             "ssim": Decimal("0.95"), "kept_original": None},
        ],
    }  # fmt: skip
    # WHEN it is loaded
    compressed, thumb = ImageRecord.from_dict(stored).renditions
    # THEN the missing fields take their defaults and the numbers their types
    assert compressed == StoredRendition(
        name="compressed", key="renditions/img-1/compressed.jpg", format="jpeg", mime="image/jpeg", width=10,
        height=20, size=300, quality=None, ssim=None, kept_original=False,
    )  # fmt: skip
    assert (thumb.quality, thumb.ssim, thumb.kept_original) == (80, 0.95, False)
    assert [type(value) for value in (compressed.width, thumb.quality, thumb.ssim)] == [int, int, float]


def test_a_tombstone_names_every_key_reserved_before_a_write():
    # GIVEN a compressed image whose thumbnail keys were reserved, then deleted
    reserved = _compressed().reserving({"renditions/img-1/thumb-256.jpg"})
    tombstone = reserved.deleted(at=T0, expires_at=T0 + timedelta(days=7))
    # THEN its object keys are the original, the committed rendition and the reserved key, also when stored
    assert reserved.state is ImageState.COMPRESSED
    assert tombstone.object_keys() == {
        "uploads/alice/img-1/cat.jpg",
        "renditions/img-1/compressed.jpg",
        "renditions/img-1/thumb-256.jpg",
    }
    assert ImageRecord.from_dict(tombstone.to_dict()) == tombstone


def test_only_the_images_own_rendition_keys_may_be_reserved():
    with pytest.raises(InvalidKeyError, match="not one of its rendition keys"):
        _uploaded().reserving({"renditions/img-2/compressed.jpg"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "owner, category or label is required"),
        ({"category": "Sports", "label": "ball"}, "exclude each other"),
        ({"owner": "a", "limit": 0}, "limit must be"),
        ({"owner": "a", "since": datetime(2026, 1, 1)}, "since must be timezone-aware"),
        ({"owner": "a", "since": T0, "until": T0 - timedelta(days=1)}, "since must not be after until"),
    ],
)
def test_queries_no_index_serves_are_refused(kwargs, message):
    with pytest.raises(InvalidQueryError, match=message):
        ImageQuery(**kwargs)


def test_a_permanent_failure_retried_by_its_owner_may_resume_from_the_state_it_failed_in():
    # GIVEN a record that failed for good in compress
    failed = _uploaded().failed(at=T0, code="Image.NotAnImage", message="no", step="compress", retryable=False)
    # WHEN its owner retries it
    retried = failed.retrying(at=T0 + timedelta(seconds=1))
    # THEN its failure is pending again, counted anew, and compress may move it forward
    assert (retried.failure.retryable, retried.failure.parked, retried.failure.attempts) == (True, False, 0)
    check_transition(failed, retried)
    assert retried.failed(at=T0, code="X.Y", message="again", step="compress", retryable=True).failure.attempts == 1


def test_only_a_failed_record_can_be_retried():
    with pytest.raises(InvalidTransitionError, match="only a failed image can be retried"):
        _uploaded().retrying(at=T0)
