"""The local janitor: finishes every delete, whatever died when, and expires records as DynamoDB's TTL does.

A DELETE writes the tombstone, then removes the image's objects; a process killed in between (or a step
killed between its write and its own purge) leaves objects behind that nothing would ever remove, since
the record is gone from every listing. The janitor runs when the server starts and then every
``interval_seconds``:

- every tombstone whose purge is not recorded as complete is purged: every key it names and everything
  under ``uploads/<owner>/<id>/`` and ``renditions/<id>/`` (the local store may list, unlike the API in
  AWS). Its purge is recorded once the deletion is older than ``settle_seconds``. A step that was running
  at the delete may still write after that (its lease is renewed while it runs), but it meets the
  tombstone when it commits and purges after itself (or runs again after a restart and purges then);
- records whose ``expires_at`` has passed are removed, as the table's TTL removes them in AWS: abandoned
  uploads (``awaiting_upload``, one day after they were declared) unless their original has arrived, and
  tombstones (``ApiLimits.deleted_retain_seconds`` after the delete) once their purge is recorded;
- originals whose ``original_expires_at`` has passed are deleted and their removal recorded
  (``steps.original_expired``), as the bucket's lifecycle rule and its event do in AWS (the originals
  policy, ``lambdas.domain.originals``).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import timedelta

from imgmgr.adapters.sqlite import SqliteMetadataStore
from lambdas import steps
from lambdas.domain.errors import ImgMgrError
from lambdas.domain.records import RENDITIONS_PREFIX, UPLOADS_PREFIX, ImageRecord
from lambdas.domain.states import ImageState
from lambdas.ports import Clock, ObjectStore

logger = logging.getLogger("imgmgr.janitor")

#: Records handled per store query (a sweep goes on until none is left).
_BATCH = 100


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one sweep did: tombstones purged (recorded complete or not yet), records expired, originals
    removed by the originals policy."""

    purged: int = 0
    expired: int = 0
    originals: int = 0


def image_prefixes(record: ImageRecord) -> tuple[str, ...]:
    """The prefixes every object of the image is under: its originals' and its renditions'."""
    return (f"{UPLOADS_PREFIX}{record.owner}/{record.image_id}/", f"{RENDITIONS_PREFIX}{record.image_id}/")


def purge(objects: ObjectStore, tombstone: ImageRecord) -> int:
    """Remove every object of a deleted image: the keys it names and all under its prefixes; how many keys
    were deleted (a missing one included: deleting is idempotent)."""
    if tombstone.state is not ImageState.DELETED:
        raise ValueError(f"image {tombstone.image_id} is {tombstone.state}: only a tombstone is purged")
    keys = set(tombstone.object_keys())
    for prefix in image_prefixes(tombstone):
        keys.update(objects.list(prefix))
    for key in sorted(keys):
        objects.delete(key)
    return len(keys)


class Janitor:
    """Sweeps ``metadata`` and ``objects`` now (:meth:`sweep`) and, once started, every ``interval_seconds``."""

    def __init__(
        self,
        *,
        metadata: SqliteMetadataStore,
        objects: ObjectStore,
        clock: Clock,
        interval_seconds: float = 60.0,
        settle_seconds: float = 300.0,
        ports: steps.Ports | None = None,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        if settle_seconds < 0:
            raise ValueError("settle_seconds must not be negative")
        self.metadata = metadata
        self.objects = objects
        self.clock = clock
        self.interval_seconds = interval_seconds
        self.settle_seconds = settle_seconds
        self.ports = ports
        """The pipeline's ports: with them, originals due under the originals policy are removed."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> Sweep:
        """Purge the unfinished deletes, then expire what is due; what it did."""
        return Sweep(purged=self._purge_tombstones(), expired=self._expire(), originals=self._remove_originals())

    def _remove_originals(self) -> int:
        if self.ports is None or self.ports.originals.policy != "expire":
            return 0  # a server restarted with --originals keep removes nothing, whatever was scheduled
        now = self.clock.now()
        count = 0
        last: ImageRecord | None = None
        while batch := self.metadata.originals_due(now, after=last, limit=_BATCH):
            for record in batch:
                compressed = record.rendition("compressed")
                if compressed is None or compressed.kept_original or self.objects.head(compressed.key) is None:
                    continue  # never the only copy
                self.objects.delete(record.original_key)
                if steps.original_expired(self.ports, record.original_key).outcome is steps.Outcome.DONE:
                    count += 1
            last = batch[-1]
        return count

    def _purge_tombstones(self) -> int:
        now = self.clock.now()
        settled_before = now - timedelta(seconds=self.settle_seconds)
        count = 0
        last: ImageRecord | None = None
        while batch := self.metadata.unpurged_tombstones(after=last, limit=_BATCH):
            for tombstone in batch:
                purge(self.objects, tombstone)
                count += 1
                if tombstone.updated_at <= settled_before:
                    self.metadata.record_purged(tombstone.image_id, at=now)
            last = batch[-1]
        return count

    def _expire(self) -> int:
        now = self.clock.now()
        count = 0
        last: ImageRecord | None = None
        while batch := self.metadata.expired(now, after=last, limit=_BATCH):
            for record in batch:
                if record.state is ImageState.AWAITING_UPLOAD and self.objects.head(record.original_key) is not None:
                    # The bytes arrived and compress will move the record on (DynamoDB's TTL would drop it and
                    # compress adopt it from the key, without the name and hash the client declared).
                    continue
                count += self.metadata.expire(record)
            last = batch[-1]
        return count

    # --- the periodic thread --------------------------------------------------------------------------
    def start(self) -> None:
        """Sweep every ``interval_seconds`` in a daemon thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="imgmgr-janitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                done = self.sweep()
            except (ImgMgrError, OSError, sqlite3.Error) as exc:
                # A locked database or a failing disk must not end the thread: the next sweep tries again.
                logger.warning("the janitor's sweep failed; trying again in %.0f s: %s", self.interval_seconds, exc)
                continue
            if done.purged or done.expired or done.originals:
                logger.info(
                    "purged %d deleted image(s), expired %d record(s), removed %d original(s) by the originals policy",
                    done.purged,
                    done.expired,
                    done.originals,
                )
