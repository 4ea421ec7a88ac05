"""The local server's start-up duties: one server per data directory, no partial writes left over."""

from __future__ import annotations

import pytest

from imgmgr.config import DataDir
from imgmgr.server import DataDirBusyError, build_runtime, sweep_partial_writes
from tests.fakes import FakeLabeler


def test_partial_writes_of_a_killed_process_are_swept(tmp_path):
    # GIVEN a rendition and the temporary file of a write that never finished
    directory = tmp_path / "renditions" / "img1"
    directory.mkdir(parents=True)
    (directory / "compressed.jpg").write_bytes(b"done")
    (directory / ".tmp-abc123").write_bytes(b"half")
    # WHEN sweeping THEN only the temporary file goes
    assert sweep_partial_writes(tmp_path) == 1
    assert [p.name for p in directory.iterdir()] == ["compressed.jpg"]


def test_a_second_server_cannot_take_a_data_directory_in_use(tmp_path):
    data = DataDir.resolve(tmp_path / "data")
    first = build_runtime(data, workers=1, labeler=FakeLabeler())
    second = build_runtime(data, workers=1, labeler=FakeLabeler())
    first.start()
    try:
        with pytest.raises(DataDirBusyError, match="another imgmgr serve is using"):
            second.start()
    finally:
        first.stop()
