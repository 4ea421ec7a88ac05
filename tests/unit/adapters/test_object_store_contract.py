"""The ObjectStore contract, run against S3 (moto) and the local data directory."""

from __future__ import annotations

import pytest

from lambdas.domain.errors import InvalidKeyError, NotFoundError
from lambdas.ports import ObjectStore


def test_both_stores_implement_the_port(object_store):
    # GIVEN a store WHEN checked against the protocol THEN it conforms
    assert isinstance(object_store, ObjectStore)


def test_put_then_get_returns_the_same_bytes(object_store):
    # GIVEN bytes stored under a key
    object_store.put("renditions/img-1/compressed.jpg", b"\xff\xd8data", content_type="image/jpeg")
    # WHEN read back THEN they are the same bytes
    assert object_store.get("renditions/img-1/compressed.jpg") == b"\xff\xd8data"


def test_put_replaces_the_previous_bytes(object_store):
    # GIVEN a key written twice
    object_store.put("renditions/img-1/thumb-256.jpg", b"old", content_type="image/jpeg")
    object_store.put("renditions/img-1/thumb-256.jpg", b"new!", content_type="image/jpeg")
    # WHEN read THEN the second write wins and its size is reported
    assert object_store.get("renditions/img-1/thumb-256.jpg") == b"new!"
    assert object_store.head("renditions/img-1/thumb-256.jpg").size == 4


def test_get_of_a_missing_key_raises_not_found(object_store):
    # GIVEN an empty store WHEN a missing key is read THEN NotFoundError names the key
    with pytest.raises(NotFoundError, match=r"uploads/alice/img-1/cat\.jpg"):
        object_store.get("uploads/alice/img-1/cat.jpg")


def test_head_of_a_missing_key_is_none(object_store):
    # GIVEN an empty store WHEN a missing key is headed THEN there is no info
    assert object_store.head("uploads/alice/img-1/cat.jpg") is None


def test_head_reports_size(object_store):
    # GIVEN an object of 5 bytes WHEN headed THEN its size is 5
    object_store.put("uploads/alice/img-1/cat.jpg", b"12345", content_type="image/jpeg")
    assert object_store.head("uploads/alice/img-1/cat.jpg").size == 5


def test_delete_removes_and_is_idempotent(object_store):
    # GIVEN an object
    object_store.put("uploads/alice/img-1/cat.jpg", b"x", content_type="image/jpeg")
    # WHEN deleted twice
    object_store.delete("uploads/alice/img-1/cat.jpg")
    object_store.delete("uploads/alice/img-1/cat.jpg")
    # THEN it is gone and the second delete did not fail
    assert object_store.head("uploads/alice/img-1/cat.jpg") is None


def test_list_returns_keys_under_a_prefix_in_order(object_store):
    # GIVEN objects under two images
    for key in ("renditions/img-2/a.jpg", "renditions/img-1/thumb-256.jpg", "renditions/img-1/analysis.jpg"):
        object_store.put(key, b"x", content_type="image/jpeg")
    # WHEN listing one image's prefix THEN only its keys come back, sorted
    assert list(object_store.list("renditions/img-1/")) == [
        "renditions/img-1/analysis.jpg",
        "renditions/img-1/thumb-256.jpg",
    ]


@pytest.mark.parametrize("key", ["../escape.jpg", "/etc/passwd", "uploads/../../x", "uploads//x", ""])
def test_keys_that_are_not_normalized_are_refused(object_store, key):
    # GIVEN a key that is absolute, empty or climbs up WHEN written THEN it is refused
    with pytest.raises(InvalidKeyError, match="key"):
        object_store.put(key, b"x", content_type="image/jpeg")
