"""The durable queue of the local pipeline: order of steps, leases, retries, dead letters, redrive."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from imgmgr.worker import Job, Queue, QueueCounts, Workers
from lambdas.domain.errors import PermanentError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(tmp_path, clock) -> Queue:
    return Queue(tmp_path / "queue.sqlite3", lease_seconds=60, max_attempts=3, backoff_seconds=1, now=clock)


def test_steps_run_in_order_and_the_row_goes_after_the_last(queue):
    queue.enqueue("img1", "uploads/o/img1/a.png")
    seen = []
    while (job := queue.lease()) is not None:
        seen.append(job.step)
        queue.advance(job)
    assert seen == ["compress", "thumbnail", "categorize"]
    assert queue.counts().pending == 0


def test_a_leased_job_is_not_handed_out_twice_until_its_lease_expires(queue, clock):
    queue.enqueue("img1", "k")
    first = queue.lease()
    assert queue.lease() is None
    clock.now += 61
    again = queue.lease()
    assert (again.image_id, again.step) == (first.image_id, first.step)


def test_release_all_resumes_the_steps_a_killed_process_left_leased(tmp_path, queue):
    # GIVEN a job leased by a process that then died
    queue.enqueue("img1", "k")
    queue.lease()
    # WHEN a new server opens the same queue and frees the leases
    reopened = Queue(queue.path)
    assert reopened.release_all() == 1
    # THEN the step is handed out again
    assert reopened.lease().step == "compress"


def test_a_stale_lease_holder_cannot_advance_the_job(queue, clock):
    queue.enqueue("img1", "k")
    stale = queue.lease()
    clock.now += 61
    fresh = queue.lease()
    queue.advance(stale)
    assert queue.counts().leased == 1
    queue.advance(fresh)
    assert queue.lease().step == "thumbnail"


def test_failures_back_off_then_park_the_job_as_dead(queue, clock):
    queue.enqueue("img1", "k")
    parked = []
    for _attempt in range(3):
        clock.now += 100
        parked.append(queue.retry(queue.lease(), "boom"))
    assert parked == [False, False, True]
    clock.now += 100
    assert queue.lease() is None
    assert queue.counts().dead == 1


def test_redrive_puts_dead_jobs_back_at_the_step_that_failed(queue, clock):
    queue.enqueue("img1", "k")
    queue.advance(queue.lease())
    for _attempt in range(3):
        clock.now += 100
        queue.retry(queue.lease(), "boom")
    assert queue.redrive() == 1
    job = queue.lease()
    assert (job.step, job.attempts) == ("thumbnail", 0)


def test_reuploading_restarts_the_image_at_compress(queue):
    queue.enqueue("img1", "k")
    queue.advance(queue.lease())
    queue.enqueue("img1", "k")
    assert queue.lease().step == "compress"


def _runner(result=True, error=None):
    def run(step, image_id, key):
        if error is not None:
            raise error
        return result

    return run


def test_worker_drops_an_image_that_failed_for_good(queue):
    queue.enqueue("img1", "k")
    Workers(queue, _runner(error=PermanentError("bad", code="Image.NotAnImage"))).run_one(queue.lease())
    assert queue.counts() == QueueCounts(0, 0, 0)


def test_worker_drops_an_image_the_step_says_is_finished(queue):
    queue.enqueue("img1", "k")
    Workers(queue, _runner(result=False)).run_one(queue.lease())
    assert queue.counts() == QueueCounts(0, 0, 0)


def test_worker_retries_an_unexpected_fault(queue):
    queue.enqueue("img1", "k")
    Workers(queue, _runner(error=RuntimeError("disk full"))).run_one(queue.lease())
    assert queue.counts().pending == 1


def test_workers_drain_the_queue_and_stop(queue):
    done = []

    def run(step, image_id, key):
        done.append((image_id, step))
        return True

    for n in range(3):
        queue.enqueue(f"img{n}", "k")
    workers = Workers(queue, run, count=2, poll_seconds=0.05)
    workers.start()
    try:
        for _ in range(100):
            if len(done) == 9:
                break
            queue.wait(0.05)
    finally:
        workers.stop(timeout=5)
    assert sorted(done) == sorted(
        (f"img{n}", step) for n in range(3) for step in ("compress", "thumbnail", "categorize")
    )


def test_a_worker_survives_a_queue_error_and_goes_on_with_the_next_image(queue):
    # GIVEN a queue whose first advance fails (a locked database), and two images
    advance = queue.advance
    failures = []

    def advance_failing_once(job):
        if not failures:
            failures.append(job.image_id)
            raise sqlite3.OperationalError("database is locked")
        advance(job)

    queue.advance = advance_failing_once
    done = []

    def run(step, image_id, key):
        done.append((image_id, step))
        return True

    queue.enqueue("img1", "k")
    queue.enqueue("img2", "k")
    # WHEN one worker drains the queue
    workers = Workers(queue, run, count=1, poll_seconds=0.01)
    workers.start()
    try:
        for _ in range(200):
            if len(done) == 4:
                break
            queue.wait(0.05)
    finally:
        workers.stop(timeout=5)
    # THEN the failed advance left img1 leased (its lease will expire) and the same thread finished img2
    assert failures == ["img1"]
    assert done == [("img1", "compress")] + [("img2", step) for step in ("compress", "thumbnail", "categorize")]
    assert queue.counts() == QueueCounts(pending=0, leased=1, dead=0)


def test_a_step_longer_than_its_lease_is_never_run_twice_at_once(tmp_path):
    # GIVEN a real-time queue whose lease is 0.3 s, one image, and a step that takes 1.2 s (four leases)
    queue = Queue(tmp_path / "queue.sqlite3", lease_seconds=0.3, max_attempts=3, backoff_seconds=0.01)
    running: list[str] = []
    overlaps: list[str] = []
    runs: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(step, image_id, key):
        with lock:
            if image_id in running:
                overlaps.append(step)
            running.append(image_id)
            runs.append((image_id, step))
        time.sleep(1.2 if step == "compress" else 0.0)
        with lock:
            running.remove(image_id)
        return True

    queue.enqueue("img1", "k")
    # WHEN two workers drain the queue
    workers = Workers(queue, run, count=2, poll_seconds=0.02)
    workers.start()
    try:
        for _ in range(200):
            if len(runs) >= 3 and not running:
                break
            time.sleep(0.02)
    finally:
        workers.stop(timeout=5)
    # THEN the lease was renewed while the step ran: each step ran once, never two at once
    assert overlaps == []
    assert runs == [("img1", "compress"), ("img1", "thumbnail"), ("img1", "categorize")]


def test_renew_extends_only_leases_still_held(queue, clock):
    queue.enqueue("img1", "k")
    job = queue.lease()
    assert queue.renew([job]) == 1
    stale = Job(job.image_id, job.object_key, job.step, job.attempts, "someone-elses-token")
    assert queue.renew([stale]) == 0
