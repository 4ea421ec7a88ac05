"""kill -9 in the middle of processing, restart: every image reaches ready, nothing twice."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter

import httpx

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
        # A kept original is not copied (the rendition points at the original): every other one is one file.
        copies = sorted(r["name"] for r in image["renditions"] if not r["kept_original"])
        stored = sorted(
            p.name.split(".")[0] for p in (server.data_dir / "objects" / "renditions" / image["id"]).iterdir()
        )
        assert stored == copies
    events = [
        json.loads(line)
        for path in (server.data_dir / "events").rglob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    processed = Counter(e["image_id"] for e in events if e["event_type"] == "processed")
    assert processed == Counter(ids)
    assert Queue(server.data_dir / "queue.sqlite3").counts() == (0, 0, 0)
    client.close()
