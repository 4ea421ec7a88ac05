"""The local server's start-up duties: one server per data directory, no partial writes left over."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from imgmgr.config import DataDir
from imgmgr.server import DataDirBusyError, allowed_hosts, build_runtime, queue_arrived_uploads, sweep_partial_writes
from lambdas.domain.states import ImageState
from tests.api.conftest import CHELSEA, declare
from tests.fakes import FakeLabeler

READY = ImageState.READY


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


def _declare_and_store(runtime) -> tuple[str, str]:
    """Declare Chelsea and write its original as the upload endpoint does, then die before queueing it."""
    key, _ = runtime.keys.create("alice")
    with TestClient(runtime.app, base_url="http://testserver") as client:
        answer = declare(client, {"x-api-key": key}).json()
    object_key = answer["upload"]["fields"]["key"]
    runtime.pipeline.ports.objects.put(object_key, CHELSEA.read_bytes(), content_type="image/png")
    return answer["image"]["id"], object_key


def test_a_stored_upload_never_queued_is_processed_by_the_next_server(tmp_path):
    # GIVEN a server killed between storing an original and queueing its first step
    data = DataDir.resolve(tmp_path / "data")
    image_id, _key = _declare_and_store(build_runtime(data, workers=1, labeler=FakeLabeler()))
    # WHEN the next server starts
    runtime = build_runtime(data, workers=1, labeler=FakeLabeler())
    runtime.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and runtime.pipeline.ports.metadata.get(image_id).state is not READY:
            time.sleep(0.05)
    finally:
        runtime.stop()
    # THEN the image goes through the pipeline
    assert runtime.pipeline.ports.metadata.get(image_id).state is READY


def test_queueing_arrived_uploads_keeps_rows_already_in_the_queue(tmp_path):
    # GIVEN a stored original never queued
    runtime = build_runtime(DataDir.resolve(tmp_path / "data"), workers=1, labeler=FakeLabeler())
    image_id, key = _declare_and_store(runtime)
    ports = runtime.pipeline.ports
    # WHEN queueing arrived uploads twice THEN the first queues it and the second changes nothing
    assert queue_arrived_uploads(ports.objects, ports.metadata, runtime.queue) == 1
    assert queue_arrived_uploads(ports.objects, ports.metadata, runtime.queue) == 0
    job = runtime.queue.lease()
    assert (job.image_id, job.object_key, job.step) == (image_id, key, "compress")
    # AND once its compress is parked as dead, the row is not revived
    assert runtime.queue.retry(replace(job, attempts=runtime.queue.max_attempts - 1), "boom")
    assert queue_arrived_uploads(ports.objects, ports.metadata, runtime.queue) == 0
    assert runtime.queue.counts().dead == 1


def test_a_delete_killed_after_its_tombstone_is_finished_by_the_next_server(tmp_path):
    # GIVEN a stored original and a rendition no record names, and a DELETE killed after its tombstone
    data = DataDir.resolve(tmp_path / "data")
    killed = build_runtime(data, workers=1, labeler=FakeLabeler())
    image_id, key = _declare_and_store(killed)
    ports = killed.pipeline.ports
    ports.objects.put(f"renditions/{image_id}/compressed.jpg", b"written", content_type="image/jpeg")
    ports.metadata.delete(image_id, at=ports.clock.now())
    # WHEN the next server starts
    runtime = build_runtime(data, workers=1, labeler=FakeLabeler())
    runtime.start()
    runtime.stop()
    # THEN nothing of the image is left under its prefixes
    assert ports.objects.head(key) is None
    assert list(ports.objects.list(f"renditions/{image_id}/")) == []


def test_the_allowed_hosts_are_loopback_the_bound_address_and_the_machine_when_binding_everything():
    assert allowed_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "::1")
    assert allowed_hosts("192.0.2.10", ("Photos.LAN",)) == ("127.0.0.1", "localhost", "::1", "photos.lan", "192.0.2.10")
    wildcard = allowed_hosts("0.0.0.0")
    assert socket.gethostname().lower() in wildcard and "0.0.0.0" not in wildcard
