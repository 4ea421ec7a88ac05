"""What only the local data directory has to guarantee: atomic writes and keys that cannot escape."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgmgr.adapters.files import FileObjectStore
from lambdas.domain.errors import InvalidKeyError


def test_a_symlink_leading_out_of_the_data_directory_is_refused(tmp_path):
    # GIVEN a data directory with a symlink to a directory outside it
    outside = tmp_path / "outside"
    outside.mkdir()
    store = FileObjectStore(tmp_path / "data")
    os.symlink(outside, tmp_path / "data" / "uploads")
    # WHEN a key goes through the link THEN it is refused and nothing is written outside
    with pytest.raises(InvalidKeyError, match="outside the data directory"):
        store.put("uploads/alice.jpg", b"x", content_type="image/jpeg")
    assert list(outside.iterdir()) == []


def test_a_failed_write_leaves_the_old_bytes_and_no_temporary_file(tmp_path, monkeypatch):
    # GIVEN an object and a rename that fails mid-write
    store = FileObjectStore(tmp_path / "data")
    store.put("renditions/img-1/a.jpg", b"old", content_type="image/jpeg")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    # WHEN the object is overwritten THEN the write fails
    with pytest.raises(OSError, match="disk full"):
        store.put("renditions/img-1/a.jpg", b"new", content_type="image/jpeg")
    monkeypatch.undo()
    # THEN the old bytes are intact and no temporary file is left behind
    assert store.get("renditions/img-1/a.jpg") == b"old"
    assert sorted(p.name for p in (tmp_path / "data" / "renditions" / "img-1").iterdir()) == ["a.jpg"]


@settings(max_examples=200, deadline=None)
@given(key=st.lists(st.sampled_from(["a", "/", ".", "..", "\\", "\x00", "b/"]), max_size=8).map("".join))
def test_no_key_resolves_outside_the_data_directory(tmp_path_factory, key):
    # GIVEN any key made of path-ish pieces
    root = tmp_path_factory.mktemp("data")
    store = FileObjectStore(root)
    # WHEN it is turned into a path THEN it is refused or lies inside the data directory
    try:
        path = store._path(key)
    except InvalidKeyError:
        return
    assert path.resolve().is_relative_to(root.resolve())
    assert path.resolve() != root.resolve()


def test_concurrent_writers_of_one_key_leave_one_whole_object(tmp_path):
    # GIVEN eight threads writing different bytes under the same key at once
    from concurrent.futures import ThreadPoolExecutor

    store = FileObjectStore(tmp_path / "data")
    payloads = [bytes([i]) * 100_000 for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda data: store.put("renditions/img-1/a.jpg", data, content_type="image/jpeg"), payloads))
    # THEN the object is exactly one of them, and no temporary file is left
    assert store.get("renditions/img-1/a.jpg") in payloads
    assert list(store.list("renditions/")) == ["renditions/img-1/a.jpg"]
