"""The local pipeline: a durable SQLite queue of steps and the worker threads that drain it.

One row per image names the next step to run (``compress`` -> ``thumbnail`` -> ``categorize``), as the S3
event and the two Lambda destinations do in AWS. A worker leases a row (``BEGIN IMMEDIATE``), runs the
step, then advances the row in one transaction. While the step runs, its lease is renewed every third of
``lease_seconds``, so however long a step takes no second worker takes the same image. A process killed
mid-step leaves the row leased; the lease expires (and ``Queue.release_all`` frees every lease when the
server starts), so the step runs again: the
steps are idempotent, which is what makes at-least-once safe. Transient faults are retried with backoff;
after ``max_attempts`` the row is parked as ``dead`` (the local dead-letter queue) until ``imgmgr redrive``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from imgmgr.database import ThreadConnections
from lambdas.contract import STEPS
from lambdas.domain.errors import PermanentError

logger = logging.getLogger("imgmgr.worker")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    image_id     TEXT PRIMARY KEY,
    object_key   TEXT NOT NULL,
    step         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_token  TEXT,
    lease_until  REAL,
    last_error   TEXT,
    enqueued_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (status, available_at);
"""

#: Runs one step for one image: ``(step, image_id, object_key) -> whether the next step should follow``.
#: Raises ``PermanentError`` for input that can never succeed, anything else to be retried.
StepRunner = Callable[[str, str, str], bool]


@dataclass(frozen=True, slots=True)
class Job:
    image_id: str
    object_key: str
    step: str
    attempts: int
    token: str


class QueueCounts(NamedTuple):
    """Rows waiting, being worked on, and parked as dead."""

    pending: int
    leased: int
    dead: int


class Queue:
    """The durable queue in the SQLite database at ``path``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease_seconds: float = 300.0,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._now = now
        self._connections = ThreadConnections(self.path, synchronous_normal=True)
        self._wakeup = threading.Condition()
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return self._connections.get()

    def _transaction(self, sql_and_params: list[tuple[str, tuple[object, ...]]]) -> list[sqlite3.Cursor]:
        with self._connections.write() as db:
            return [db.execute(sql, params) for sql, params in sql_and_params]

    def enqueue(self, image_id: str, object_key: str, *, step: str = STEPS[0]) -> None:
        """Queue ``step`` for the image (an arrived upload queues ``compress``); a repeat restarts the row."""
        now = self._now()
        self._transaction(
            [
                (
                    "INSERT INTO jobs (image_id, object_key, step, available_at, enqueued_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (image_id) DO UPDATE SET object_key = excluded.object_key, step = excluded.step,"
                    " status = 'pending', attempts = 0, available_at = excluded.available_at,"
                    " lease_token = NULL, lease_until = NULL, last_error = NULL",
                    (image_id, object_key, step, now, now),
                )
            ]
        )
        with self._wakeup:
            self._wakeup.notify()

    def enqueue_new(self, image_id: str, object_key: str) -> bool:
        """Queue compress for an image that has no row yet (a row in progress or dead is kept); whether it did."""
        now = self._now()
        (cursor,) = self._transaction(
            [
                (
                    "INSERT INTO jobs (image_id, object_key, step, available_at, enqueued_at) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (image_id) DO NOTHING",
                    (image_id, object_key, STEPS[0], now, now),
                )
            ]
        )
        if cursor.rowcount:
            with self._wakeup:
                self._wakeup.notify()
        return cursor.rowcount > 0

    def lease(self) -> Job | None:
        """Take the next runnable job for ``lease_seconds``, or ``None`` when there is none."""
        now = self._now()
        token = uuid.uuid4().hex
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT image_id, object_key, step, attempts FROM jobs WHERE status = 'pending'"
                " AND available_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
                # Oldest image first: an image in progress finishes before the next one starts.
                " ORDER BY enqueued_at, image_id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE jobs SET lease_token = ?, lease_until = ? WHERE image_id = ?",
                    (token, now + self.lease_seconds, row[0]),
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return None if row is None else Job(row[0], row[1], row[2], row[3], token)

    def renew(self, jobs: list[Job]) -> int:
        """Extend the leases of ``jobs`` (steps still running) by ``lease_seconds``; how many were still held."""
        if not jobs:
            return 0
        until = self._now() + self.lease_seconds
        cursors = self._transaction(
            [
                (
                    "UPDATE jobs SET lease_until = ? WHERE image_id = ? AND lease_token = ?",
                    (until, job.image_id, job.token),
                )
                for job in jobs
            ]
        )
        return sum(cursor.rowcount for cursor in cursors)

    def advance(self, job: Job) -> None:
        """The job's step is done: queue the next step, or remove the row after the last."""
        position = STEPS.index(job.step)
        if position + 1 == len(STEPS):
            self._transaction([("DELETE FROM jobs WHERE image_id = ? AND lease_token = ?", (job.image_id, job.token))])
            return
        self._transaction(
            [
                (
                    "UPDATE jobs SET step = ?, attempts = 0, available_at = ?, lease_token = NULL, lease_until = NULL,"
                    " last_error = NULL WHERE image_id = ? AND lease_token = ?",
                    (STEPS[position + 1], self._now(), job.image_id, job.token),
                )
            ]
        )

    def drop(self, job: Job) -> None:
        """The image failed for good (recorded by the step): nothing left to run."""
        self._transaction([("DELETE FROM jobs WHERE image_id = ? AND lease_token = ?", (job.image_id, job.token))])

    def retry(self, job: Job, error: str) -> bool:
        """Run the step again after a backoff; park the row as ``dead`` after ``max_attempts``. True if parked."""
        attempts = job.attempts + 1
        dead = attempts >= self.max_attempts
        delay = self.backoff_seconds * (2 ** (attempts - 1))
        self._transaction(
            [
                (
                    "UPDATE jobs SET attempts = ?, status = ?, available_at = ?, lease_token = NULL,"
                    " lease_until = NULL, last_error = ? WHERE image_id = ? AND lease_token = ?",
                    (
                        attempts,
                        "dead" if dead else "pending",
                        self._now() + delay,
                        error[:1000],
                        job.image_id,
                        job.token,
                    ),
                )
            ]
        )
        return dead

    def release_all(self) -> int:
        """Free every lease (the server starts and owns the data directory alone): unfinished steps run again."""
        (cursor,) = self._transaction(
            [("UPDATE jobs SET lease_token = NULL, lease_until = NULL WHERE lease_token IS NOT NULL", ())]
        )
        return cursor.rowcount

    def redrive(self) -> int:
        """Put every dead row back in the queue, attempts reset; returns how many."""
        (cursor,) = self._transaction(
            [
                (
                    "UPDATE jobs SET status = 'pending', attempts = 0, available_at = ?, last_error = NULL"
                    " WHERE status = 'dead'",
                    (self._now(),),
                )
            ]
        )
        with self._wakeup:
            self._wakeup.notify_all()
        return cursor.rowcount

    def counts(self) -> QueueCounts:
        rows = dict(
            self._db()
            .execute(
                "SELECT CASE WHEN status = 'dead' THEN 'dead' WHEN lease_token IS NOT NULL THEN 'leased'"
                " ELSE 'pending' END, COUNT(*) FROM jobs GROUP BY 1"
            )
            .fetchall()
        )
        return QueueCounts(rows.get("pending", 0), rows.get("leased", 0), rows.get("dead", 0))

    def wait(self, timeout: float) -> None:
        """Sleep until something is enqueued or ``timeout`` seconds pass."""
        with self._wakeup:
            self._wakeup.wait(timeout)

    def wake_all(self) -> None:
        with self._wakeup:
            self._wakeup.notify_all()


class Workers:
    """``count`` threads draining ``queue`` through ``run_step``; :meth:`stop` lets in-flight steps finish."""

    def __init__(self, queue: Queue, run_step: StepRunner, *, count: int = 2, poll_seconds: float = 0.5) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.queue = queue
        self.run_step = run_step
        self.count = count
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, Job] = {}
        self._running_lock = threading.Lock()

    def start(self) -> None:
        for number in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"imgmgr-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        renewer = threading.Thread(target=self._renew_loop, name="imgmgr-lease-renewer", daemon=True)
        renewer.start()
        self._threads.append(renewer)

    def _renew_loop(self) -> None:
        """Renew the lease of every running step each third of the lease: a long step is never taken by a
        second worker (a lease expires only when its process is gone, and a starting server frees those)."""
        interval = max(0.01, self.queue.lease_seconds / 3)
        while not self._stop.wait(interval):
            with self._running_lock:
                jobs = list(self._running.values())
            try:
                self.queue.renew(jobs)
            except sqlite3.Error:
                logger.exception("could not renew the leases of %d running step(s)", len(jobs))

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.queue.wake_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.queue.lease()
                if job is None:
                    self.queue.wait(self.poll_seconds)
                    continue
                self.run_one(job)
            except sqlite3.Error:
                # A locked or failing queue database must not end the thread: a job whose outcome could not
                # be recorded stays leased and runs again when its lease expires (the steps are idempotent).
                logger.exception("the queue failed; trying again in %.1f s", self.poll_seconds)
                self._stop.wait(self.poll_seconds)

    def run_one(self, job: Job) -> None:
        """Run ``job``'s step (its lease renewed while it runs) and record the outcome in the queue."""
        with self._running_lock:
            self._running[job.token] = job
        try:
            self._run_one(job)
        finally:
            with self._running_lock:
                self._running.pop(job.token, None)

    def _run_one(self, job: Job) -> None:
        started = time.perf_counter()
        try:
            proceed = self.run_step(job.step, job.image_id, job.object_key)
        except PermanentError as exc:
            logger.warning("image %s: %s failed for good: %s", job.image_id, job.step, exc)
            self.queue.drop(job)
            return
        except Exception as exc:  # noqa: BLE001 - any other fault is retried, then dead-lettered
            dead = self.queue.retry(job, f"{type(exc).__name__}: {exc}")
            log = logger.error if dead else logger.warning
            log(
                "image %s: %s failed (attempt %d%s): %s",
                job.image_id,
                job.step,
                job.attempts + 1,
                ", parked as dead" if dead else "",
                exc,
            )
            return
        if not proceed:
            self.queue.drop(job)
            return
        self.queue.advance(job)
        logger.info("image %s: %s done in %.0f ms", job.image_id, job.step, (time.perf_counter() - started) * 1000)
