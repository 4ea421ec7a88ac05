"""kill -9 in the middle of processing, restart: every image reaches ready, nothing twice."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from imgmgr.adapters.sqlite import SqliteMetadataStore
from imgmgr.config import DataDir
from imgmgr.worker import Queue
from tests.e2e.support import PHOTOS

BATCH = [
    "chelsea.png",
    "coffee.png",
    "astronaut.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "motorcycle_left.png",
    "retina.jpg",
    "camera.png",
]


def _upload(client: httpx.Client, url: str, name: str) -> str:
    data = (PHOTOS / name).read_bytes()
    content_type = "image/jpeg" if name.endswith(".jpg") else "image/png"
    body = {
        "filename": name,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    answer = client.post(f"{url}/v1/uploads", json=body).raise_for_status().json()
    target = answer["upload"]
    httpx.post(target["url"], data=target["fields"], files={"file": (name, data)}).raise_for_status()
    return answer["image"]["id"]


def _states(client: httpx.Client, url: str, ids: list[str]) -> dict[str, str]:
    return {image_id: client.get(f"{url}/v1/images/{image_id}").json()["status"] for image_id in ids}


def test_killed_server_resumes_every_image_without_duplicates(server, api_key):
    # GIVEN one worker busy with a batch of real photos
    server.workers = 1
    server.start()
    client = httpx.Client(headers={"x-api-key": api_key}, timeout=30)
    ids = [_upload(client, server.url, name) for name in BATCH]
    # WHEN the server is killed with SIGKILL while the pipeline is part way through
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = _states(client, server.url, ids)
        if any(s != "awaiting_upload" and s != "uploaded" for s in states.values()):
            break
        time.sleep(0.02)
    server.kill()
    unfinished_at_kill = sum(state != "ready" for state in states.values())
    # AND started again
    server.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = _states(client, server.url, ids)
        if all(state in ("ready", "failed") for state in states.values()):
            break
        time.sleep(0.2)
    # THEN every image is ready
    assert unfinished_at_kill > 0
    assert set(states.values()) == {"ready"}, states
    # AND nothing was counted, stored or reported twice
    stats = client.get(f"{server.url}/v1/stats").json()
    assert stats["images"] == len(BATCH)
    images = [client.get(f"{server.url}/v1/images/{image_id}").json() for image_id in ids]
    categories = client.get(f"{server.url}/v1/categories").json()["categories"]
    assert sum(c["count"] for c in categories) == sum(len(image["categories"]) for image in images)
    for image in images:
        names = [r["name"] for r in image["renditions"]]
        assert len(names) == len(set(names))
        # A kept original is not copied (the rendition points at the original), the analysis JPEG shares its
        # thumbnail's file: every file a rendition names exists once, and no other file is there.
        named = sorted(
            {urlsplit(r["url"]).path.rsplit("/", 1)[1] for r in image["renditions"] if not r["kept_original"]}
        )
        stored = sorted(p.name for p in (server.data_dir / "objects" / "renditions" / image["id"]).iterdir())
        assert stored == named
        assert {"compressed", "thumb-256", "thumb-1024", "analysis"} <= set(names)
    events = [
        json.loads(line)
        for path in (server.data_dir / "events").rglob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    processed = Counter(e["image_id"] for e in events if e["event_type"] == "processed")
    assert processed == Counter(ids)
    assert Queue(server.data_dir / "queue.sqlite3").counts() == (0, 0, 0)
    client.close()


def _left_under_prefixes(data_dir, owner: str, ids: list[str]) -> list[str]:
    """Every file still under the images' prefixes (uploads/<owner>/<id>/, renditions/<id>/)."""
    objects = data_dir / "objects"
    found = []
    for image_id in ids:
        for directory in (objects / "uploads" / owner / image_id, objects / "renditions" / image_id):
            if directory.is_dir():
                found += [str(path.relative_to(objects)) for path in directory.rglob("*") if path.is_file()]
    return sorted(found)


def test_deletes_during_processing_and_a_kill_leave_no_file_behind(server, api_key):
    # GIVEN one worker busy with a batch of real photos, one of them compressed, with a signed URL of its original
    server.workers = 1
    server.start()
    client = httpx.Client(headers={"x-api-key": api_key}, timeout=30)
    ids = [_upload(client, server.url, name) for name in BATCH]
    first_url = None
    deadline = time.monotonic() + 60
    while first_url is None and time.monotonic() < deadline:
        for image_id in ids:
            first_url = client.get(f"{server.url}/v1/images/{image_id}").json()["original_url"]
            if first_url is not None:
                first = image_id
                break
        else:
            time.sleep(0.02)
    assert first_url is not None
    assert httpx.get(first_url).status_code == 200
    # WHEN the owner deletes half of the images while the pipeline works on them, and the server is killed
    # with SIGKILL right after
    others = [image_id for image_id in ids if image_id != first]
    for image_id in others[::2]:
        assert client.delete(f"{server.url}/v1/images/{image_id}").status_code == 204
    server.kill()
    # AND the other deletes were killed right after writing their tombstones (the first thing a DELETE does)
    store = SqliteMetadataStore(DataDir.resolve(server.data_dir).metadata)
    for image_id in [first, *others[1::2]]:
        store.delete(image_id, at=datetime.now(UTC))
    store.close()
    assert _left_under_prefixes(server.data_dir, "e2e", [first, *others[1::2]])
    # AND the server is started again
    server.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        left = _left_under_prefixes(server.data_dir, "e2e", ids)
        if not left and Queue(server.data_dir / "queue.sqlite3").counts() == (0, 0, 0):
            break
        time.sleep(0.2)
    # THEN no file of any image is left under its prefixes, and nothing is left to run
    assert left == []
    assert Queue(server.data_dir / "queue.sqlite3").counts() == (0, 0, 0)
    # AND the signed URL handed out before the delete no longer serves the original
    assert httpx.get(first_url).status_code == 404
    # AND nothing of the batch is listed or counted
    assert client.get(f"{server.url}/v1/images").json()["items"] == []
    assert client.get(f"{server.url}/v1/stats").json() == {"images": 0, "bytes_stored": 0, "bytes_saved": 0}
    client.close()
