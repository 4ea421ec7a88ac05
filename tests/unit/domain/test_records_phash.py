"""The perceptual hash a record gets when it is thumbnailed, and keeps through its persistence form."""

from __future__ import annotations

from datetime import UTC, datetime

from lambdas.domain.records import ImageRecord, StoredRendition, new_record
from lambdas.domain.states import ImageState

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
HASH = "c3a5f00f0ff05a3c"


def _compressed() -> ImageRecord:
    rendition = StoredRendition(
        name="compressed", key="renditions/img-1/compressed.jpg", format="jpeg", mime="image/jpeg", width=10,
        height=10, size=400,
    )  # fmt: skip
    uploaded = new_record(image_id="img-1", owner="alice", filename="cat.jpg", at=T0).uploaded(
        at=T0, size=1000, sha256="abc", sniffed_format="jpeg", sniffed_mime="image/jpeg"
    )
    return uploaded.compressed(at=T0, rendition=rendition, width=10, height=10, fmt="jpeg", mime="image/jpeg")


def test_a_thumbnailed_record_has_the_hash_and_keeps_it_in_its_persistence_form():
    # GIVEN a compressed record WHEN thumbnailed with a hash THEN it has it, also once stored and read back
    record = _compressed().thumbnailed(at=T0, renditions=(), phash=HASH)
    assert (record.state, record.phash) == (ImageState.THUMBNAILED, HASH)
    assert ImageRecord.from_dict(record.to_dict()).phash == HASH


def test_a_record_thumbnailed_without_a_hash_keeps_the_one_it_has():
    # GIVEN a record that has a hash (an earlier thumbnail run) WHEN thumbnailed without one THEN it keeps it
    hashed = _compressed().thumbnailed(at=T0, renditions=(), phash=HASH)
    again = hashed.failed(at=T0, code="Pipeline.InternalError", message="x", step="thumbnail", retryable=True)
    assert again.thumbnailed(at=T0, renditions=()).phash == HASH
