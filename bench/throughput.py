"""End-to-end local throughput: the benchmark corpus uploaded to ``imgmgr serve`` until every image is ``ready``.

Run ``python -m bench.throughput`` (``make bench`` runs it through ``python -m bench``). Options:
``--workers N`` (pipeline worker threads, default 2: this machine's cores), ``--concurrency N`` (files
uploaded at once, default 4 as the CLI), ``--quick`` (first 5 photos as shipped), ``--timeout S``
(default 600).

The corpus is ``bench.imaging``'s: the JPEGs of Debian's ``lomiri-wallpapers-16.04`` / ``-20.04`` (installed
with apt-get when missing), as shipped and re-encoded at quality 95 (closer to a camera original). The
server runs in its own process on a temporary data directory and a free port; the photos go through the
HTTP API as ``imgmgr upload`` sends them: create the upload, POST the bytes to the returned form; then
the images are polled until ``ready``. Wall time runs from the first upload request to the last image's
``ready`` write (the record's ``updated_at``, same machine clock).

Step time is what the server recorded with each record: ``extra.timings_ms`` holds each step's own time
(compress, thumbnail, categorize: read the input, image work or labeling, store, commit), and the
``processed`` analytics event carries their sum, checked here. Overhead = wall x workers - step time:
upload handling, queueing, idle workers while uploads arrive or at the tail. Step times are wall times
of threads that share one process (GIL) with uvicorn, so contention inside a step counts as step time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.imaging import corpus_paths, prepare
from bench.local_server import LocalServer

STEP_NAMES = ("compress", "thumbnail", "categorize")
#: The share of worker time spent in the steps we aim for (the rest is overhead to remove).
STEP_SHARE_TARGET = 0.90
POLL_SECONDS = 0.2


@dataclass
class Sent:
    path: Path
    image_id: str
    started: float  # epoch seconds: create-upload request sent
    uploaded: float  # epoch seconds: the bytes were accepted


@dataclass
class Row:
    """One image as the server recorded it; times in epoch seconds, step times in ms."""

    name: str
    megapixels: float
    megabytes: float
    step_ms: dict[str, float]
    event_ms: int | None  # the ``processed`` event's duration
    uploaded: float
    ready: float

    @property
    def steps_ms(self) -> float:
        return sum(self.step_ms.values())

    @property
    def wait_ms(self) -> float:
        return (self.ready - self.uploaded) * 1000 - self.steps_ms


def upload_all(url: str, key: str, paths: list[Path], concurrency: int) -> list[Sent]:
    """Create each upload and POST its bytes, ``concurrency`` at a time, exactly as ``imgmgr upload`` does."""
    from imgmgr.client import ApiClient, content_type_of, sha256_of

    client = ApiClient(url, key)

    def one(path: Path) -> Sent:
        started = time.time()
        content_type = content_type_of(path) or "application/octet-stream"
        answer = client.create_upload(
            filename=path.name, content_type=content_type, size=path.stat().st_size, sha256=sha256_of(path)
        )
        if answer["duplicate"]:
            raise RuntimeError(f"{path.name}: answered as a duplicate of {answer['image']['id']}")
        client.send(answer["upload"], path)
        return Sent(path, answer["image"]["id"], started, time.time())

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(one, paths))
    finally:
        client.close()


def wait_ready(url: str, key: str, image_ids: list[str], timeout: float) -> dict[str, float]:
    """Poll until every image is ``ready``; when each was first seen so. Raises on a final failure or timeout.

    One listing per poll (``GET /v1/images``, pages of 100) rather than one request per image, so that
    polling 38 images does not compete with the workers for the server's CPU.
    """
    from imgmgr.client import ApiClient

    client = ApiClient(url, key)
    wanted = set(image_ids)
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < len(wanted):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(wanted) - len(seen)} image(s) not ready after {timeout:.0f} s")
            cursor = None
            while True:
                page = client.list_images(limit=100, cursor=cursor)
                now = time.time()
                for image in page["items"]:
                    if image["id"] not in wanted or image["id"] in seen:
                        continue
                    if image["status"] == "ready":
                        seen[image["id"]] = now
                    elif image["status"] in ("failed", "deleted") and not (image.get("failure") or {}).get("retryable"):
                        raise RuntimeError(f"image {image['id']} ({image['filename']}): {image['failure']}")
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            time.sleep(POLL_SECONDS)
    finally:
        client.close()
    return seen


def processed_durations(events_dir: Path) -> dict[str, int]:
    """``duration_ms`` of each image's ``processed`` event (what the analytics lake sees)."""
    durations = {}
    for path in sorted(events_dir.glob("dt=*/events.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["event_type"] == "processed":
                durations[event["image_id"]] = event["duration_ms"]
    return durations


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--quick", action="store_true", help="first 5 photos only")
    args = parser.parse_args(argv)

    shipped, q95, _big = prepare(corpus_paths())
    paths = shipped[:5] if args.quick else [*shipped, *q95]
    # Same bytes, one upload: the API would answer an exact duplicate with the existing image.
    paths = list({hashlib.sha256(p.read_bytes()).hexdigest(): p for p in paths}.values())
    if not paths:
        print("no photos in the corpus", file=sys.stderr)
        return 1
    print(
        f"corpus: {len(paths)} JPEGs (as shipped{'' if args.quick else ' and re-encoded at q95'}), {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB; "
        f"imgmgr serve --workers {args.workers}; uploads {args.concurrency} at a time",
        flush=True,
    )

    from imgmgr.adapters.sqlite import SqliteMetadataStore

    with tempfile.TemporaryDirectory(prefix="imgmgr-bench-throughput-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        server = LocalServer(data_dir, workers=args.workers)
        with server:
            assert server.key is not None
            first = time.time()
            sent = upload_all(server.url, server.key, paths, args.concurrency)
            uploads_done = time.time()
            seen_ready = wait_ready(server.url, server.key, [s.image_id for s in sent], args.timeout)
        # The server has stopped: read what it recorded.
        store = SqliteMetadataStore(data_dir / "metadata.sqlite3")
        records = {s.image_id: store.get(s.image_id) for s in sent}
        store.close()
        events = processed_durations(data_dir / "events")

    rows = []
    for item in sent:
        record = records[item.image_id]
        if record is None or record.state.value != "ready":
            print(f"{item.path.name}: no ready record", file=sys.stderr)
            return 1
        timings = record.extra.get("timings_ms", {})
        missing = [step for step in STEP_NAMES if step not in timings]
        if missing:
            print(f"{item.path.name}: no timings for {', '.join(missing)}", file=sys.stderr)
            return 1
        rows.append(
            Row(
                name=f"q95/{item.path.name}" if item.path.parent.name == "q95" else item.path.name,
                megapixels=(record.width or 0) * (record.height or 0) / 1e6,
                megabytes=(record.size or 0) / 1e6,
                step_ms={step: float(timings[step]) for step in STEP_NAMES},
                event_ms=events.get(item.image_id),
                uploaded=item.uploaded,
                ready=record.updated_at.timestamp(),
            )
        )

    print()
    print(
        f"{'photo':<40} {'MP':>5} {'MB':>5} {'compress':>9} {'thumb':>7} {'categ':>7} {'steps':>7} {'ready':>7}"
        f" {'wait':>7}"
    )
    print(f"{'':<40} {'':>5} {'':>5} {'ms':>9} {'ms':>7} {'ms':>7} {'ms':>7} {'s':>7} {'ms':>7}")
    for row in sorted(rows, key=lambda r: r.ready):
        print(
            f"{row.name[:40]:<40} {row.megapixels:5.1f} {row.megabytes:5.2f} {row.step_ms['compress']:9.0f}"
            f" {row.step_ms['thumbnail']:7.0f} {row.step_ms['categorize']:7.0f} {row.steps_ms:7.0f}"
            f" {row.ready - row.uploaded:7.2f} {row.wait_ms:7.0f}"
        )
    print("  ready: upload accepted -> ready; wait: ready - steps, queued behind other images")
    print("  (a wait below 0: the first step started before the client saw its upload accepted)")

    mismatched = [r.name for r in rows if r.event_ms is None or abs(r.event_ms - r.steps_ms) > 1.0]
    if mismatched:
        print(f"processed events disagree with the records' timings: {', '.join(mismatched)}", file=sys.stderr)
        return 1

    count = len(rows)
    last_ready = max(r.ready for r in rows)
    wall = last_ready - first
    worker_ms = wall * args.workers * 1000
    totals = {step: sum(r.step_ms[step] for r in rows) for step in STEP_NAMES}
    step_ms = sum(totals.values())
    imaging_ms = totals["compress"] + totals["thumbnail"]
    overhead_ms = worker_ms - step_ms
    megapixels = sum(r.megapixels for r in rows)
    per_minute = count / wall * 60
    ceiling = args.workers * 60_000 / statistics.mean(r.steps_ms for r in rows)

    def share(ms: float) -> str:
        return f"{ms / 1000:7.1f} s  {ms / worker_ms:6.1%}"

    print()
    print(f"images                         {count} ({megapixels:.1f} MP, {sum(r.megabytes for r in rows):.1f} MB)")
    print(f"uploads sent                   {uploads_done - first:7.1f} s after the first")
    print(
        f"wall, first upload -> ready    {wall:7.1f} s   (last seen by polling {max(seen_ready.values()) - first:.1f} s)"
    )
    print(f"throughput                     {per_minute:7.1f} images/min   {megapixels / wall:6.2f} MP/s")
    print(f"ceiling with zero overhead     {ceiling:7.1f} images/min   (workers x 60 s / mean step time per image)")
    print(f"worker time = wall x {args.workers}         {worker_ms / 1000:7.1f} s  100.0%")
    print(f"  imaging (compress+thumbnail) {share(imaging_ms)}")
    print(f"    compress                   {share(totals['compress'])}")
    print(f"    thumbnail                  {share(totals['thumbnail'])}")
    print(f"  labeling (categorize)        {share(totals['categorize'])}")
    print(f"  overhead                     {share(overhead_ms)}")
    verdict = "met" if step_ms / worker_ms >= STEP_SHARE_TARGET else "MISSED"
    print(
        f"steps' share of worker time    {step_ms / worker_ms:6.1%}   target >= {STEP_SHARE_TARGET:.0%}: {verdict};"
        f" ratio to ceiling {per_minute / ceiling:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
