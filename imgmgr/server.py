"""``imgmgr serve``: the API and the web page under uvicorn, and the pipeline workers, on one data directory.

Everything is built once here: the local adapters over the data directory, the API app with the local
upload endpoint, the durable queue and its worker threads. A lock file keeps a second server off the same
data directory, which is what lets a starting server free every lease left by a killed one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import uvicorn
from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from imgmgr.adapters.analytics import DuckDbAnalytics
from imgmgr.adapters.events import JsonlEventSink
from imgmgr.adapters.files import FileObjectStore
from imgmgr.adapters.sqlite import SqliteMetadataStore
from imgmgr.adapters.upload_policy import LocalPresigner
from imgmgr.config import DataDir
from imgmgr.http_guard import ConnectionLimits, protocol_for
from imgmgr.janitor import Janitor
from imgmgr.keys import KeyStore, KeyStoreAuthenticator
from imgmgr.local_routes import UPLOAD_PATH, local_router, upload_body_bytes
from imgmgr.pipeline import LocalPipeline
from imgmgr.worker import Queue, Workers
from lambdas.adapters.clock import SystemClock
from lambdas.analytics.figures import CachedFigures
from lambdas.api import ApiLimits, ApiServices, create_app
from lambdas.contract import STEPS
from lambdas.domain.errors import InvalidKeyError, TransientError
from lambdas.domain.originals import OriginalsPolicy
from lambdas.domain.records import UPLOADS_PREFIX, ImageRecord, UploadKey
from lambdas.domain.states import ImageState
from lambdas.ports import Labeler, MetadataStore, ObjectStore

logger = logging.getLogger("imgmgr.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Names of this machine that every server answers to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Addresses that bind every interface: the machine's own names are allowed then.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104 - names to recognise, nothing binds here


def allowed_hosts(host: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The ``Host`` header values a server bound to ``host`` answers: this machine's loopback names, the
    bound address, the machine's names when it binds every interface, and ``extra``. The API puts its
    own base URL into upload and download links, so a request naming another host is refused (400)
    rather than handed links to that host."""
    names = [*LOOPBACK_HOSTS, *extra]
    if host in WILDCARD_HOSTS:
        names += [socket.gethostname(), socket.getfqdn()]
    else:
        names.append(host)
    return tuple(dict.fromkeys(name.lower() for name in names if name))


FIRST_OWNER = "local"


class DataDirBusyError(RuntimeError):
    """Another ``imgmgr serve`` holds the data directory."""


@dataclass
class Runtime:
    """The local system on one data directory, ready to serve."""

    data: DataDir
    app: FastAPI
    queue: Queue
    keys: KeyStore
    pipeline: LocalPipeline
    workers: Workers
    janitor: Janitor
    _lock: IO[str] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Own the data directory, resume every unfinished step and delete, start the workers and the janitor."""
        self._lock = _lock(self.data)
        swept = sweep_partial_writes(self.data.objects)
        if swept:
            logger.info("removed %d partial write(s) left by a killed process", swept)
        self.pipeline.warm_up()
        released = self.queue.release_all()
        if released:
            logger.info("resuming %d image(s) left unfinished by the last run", released)
        queued = queue_arrived_uploads(self.pipeline.ports.objects, self.pipeline.ports.metadata, self.queue)
        if queued:
            logger.info("queued %d upload(s) a killed process stored but never queued", queued)
        cleaned = self.janitor.sweep()
        logger.info("purged %d deleted image(s), expired %d record(s)", cleaned.purged, cleaned.expired)
        self.workers.start()
        self.janitor.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let in-flight steps finish (up to ``timeout``), then release the data directory."""
        self.janitor.stop()
        self.workers.stop(timeout)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def sweep_partial_writes(objects_root: Path) -> int:
    """Remove the temporary files of writes a killed process never finished; how many.

    ``FileObjectStore`` writes ``.tmp-*`` files and renames them into place; a SIGKILL in between leaves
    one behind. Only call this while holding the data directory's lock (no writer can be running).
    """
    count = 0
    if objects_root.is_dir():
        for path in objects_root.rglob(".tmp-*"):
            if path.is_file():
                path.unlink(missing_ok=True)
                count += 1
    return count


def queue_arrived_uploads(objects: ObjectStore, metadata: MetadataStore, queue: Queue) -> int:
    """Queue compress for every stored original whose record still awaits it; how many were queued.

    The upload endpoint stores the original, then queues its first step: a process killed in between
    leaves an original no step will ever read. An image that has a row in the queue keeps it.
    """
    count = 0
    for key in objects.list(UPLOADS_PREFIX):
        try:
            image_id = UploadKey.parse(key).image_id
        except InvalidKeyError:
            continue
        record = metadata.get(image_id)
        if record is not None and record.state is ImageState.AWAITING_UPLOAD and record.original_key == key:
            count += queue.enqueue_new(image_id, key)
    return count


@dataclass(frozen=True, slots=True)
class QueueRetrier:
    """The API's ``Retrier`` over the local queue: the failed step is queued again from the original,
    attempts reset (a row parked as dead included), as ``imgmgr redrive`` does for every dead row."""

    queue: Queue

    def retry(self, record: ImageRecord) -> None:
        failed_step = record.failure.step if record.failure is not None else ""
        try:
            self.queue.enqueue(
                record.image_id, record.original_key, step=failed_step if failed_step in STEPS else STEPS[0]
            )
        except sqlite3.Error as exc:
            raise TransientError(f"the retry could not be queued: {exc}") from exc


def _lock(data: DataDir) -> IO[str]:
    handle = open(data.lock, "a+")  # noqa: SIM115 - held for the life of the server
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.close()
        raise DataDirBusyError(f"another imgmgr serve is using {data.root}") from exc
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def build_runtime(
    data: DataDir,
    *,
    workers: int = 2,
    limits: ApiLimits | None = None,
    labeler: Labeler | None = None,
    hosts: tuple[str, ...] | None = None,
    originals: OriginalsPolicy | None = None,
) -> Runtime:
    """Every local adapter over ``data``, the app and the (not yet started) workers.

    ``labeler`` defaults to the offline labeler (or none when it is not installed). ``hosts`` are the
    ``Host`` header values the app answers (``allowed_hosts``; ``serve`` always gives them); ``None``
    checks none, for an app driven in-process only.
    """
    limits = limits or ApiLimits()
    secret = data.secret()
    objects = FileObjectStore(data.objects)
    metadata = SqliteMetadataStore(data.metadata)
    events = JsonlEventSink(data.events)
    clock = SystemClock()
    keys = KeyStore(data.keys)
    presigner = LocalPresigner(secret, credential_live=keys.is_live)
    queue = Queue(data.queue)
    pipeline = LocalPipeline(
        objects=objects,
        metadata=metadata,
        events=events,
        clock=clock,
        models_dir=data.models,
        labeler=labeler,
        max_attempts=queue.max_attempts,
        originals=originals or OriginalsPolicy(),
    )

    def on_uploaded(key: UploadKey) -> None:
        try:
            queue.enqueue(key.image_id, key.key)
        except sqlite3.Error as exc:
            raise TransientError(f"the upload could not be queued: {exc}") from exc

    services = ApiServices(
        metadata=metadata,
        objects=objects,
        events=events,
        clock=clock,
        presigner=presigner,
        authenticator=KeyStoreAuthenticator(keys),
        cursor_secret=secret,
        limits=limits,
        analytics=CachedFigures(DuckDbAnalytics(data.events)),
        retrier=QueueRetrier(queue),
    )
    router = local_router(presigner, objects, metadata, on_uploaded, max_upload_bytes=limits.max_upload_bytes)
    app = create_app(
        services, routers=(router,), streamed_bodies={UPLOAD_PATH: upload_body_bytes(limits.max_upload_bytes)}
    )
    if hosts is not None:
        # Outermost: a request for another host is refused before anything reads it.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))
    return Runtime(
        data=data,
        app=app,
        queue=queue,
        keys=keys,
        pipeline=pipeline,
        workers=Workers(queue, pipeline.run_step, count=workers),
        janitor=Janitor(
            metadata=metadata,
            objects=objects,
            clock=clock,
            settle_seconds=queue.lease_seconds,
            ports=pipeline.ports,
        ),
    )


def _ignore(_signum: int, _frame: object) -> None:
    """Signal handler that does nothing (uvicorn has already acted on the signal)."""


def serve(
    data: DataDir,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = 2,
    extra_hosts: tuple[str, ...] = (),
    connections: ConnectionLimits | None = None,
    limits: ApiLimits | None = None,
    originals: OriginalsPolicy | None = None,
) -> None:
    """Run until SIGINT/SIGTERM: uvicorn in this thread, the workers beside it; print the URL and a new key.
    Requests whose ``Host`` is not one of ``allowed_hosts(host, extra_hosts)`` are refused; ``connections``
    bounds the connections and how long each may take (default ``ConnectionLimits()``), ``limits`` the
    API's inputs (default ``ApiLimits()``)."""
    connections = connections or ConnectionLimits()
    runtime = build_runtime(
        data, workers=workers, limits=limits, hosts=allowed_hosts(host, extra_hosts), originals=originals
    )
    runtime.start()
    try:
        url = f"http://{host}:{port}/"
        if runtime.keys.is_empty():
            key, _record = runtime.keys.create(FIRST_OWNER, name="created by the first imgmgr serve")
            print(f"imgmgr: created the first API key (owner {FIRST_OWNER!r}); it is shown only once:", flush=True)
            print(f"  {key}", flush=True)
            print(f"imgmgr: open {url}#key={key}", flush=True)
        else:
            print(f"imgmgr: open {url} (make a key with: imgmgr keys create)", flush=True)
        print(f"imgmgr: data in {data.root}; {workers} worker(s); labeler: {runtime.pipeline.labeler_name}", flush=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"imgmgr: WARNING: listening on {host} over plain HTTP: keys and images cross the network unencrypted"
            )
        config = uvicorn.Config(
            runtime.app,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            lifespan="off",
            http=protocol_for(connections),
        )
        # uvicorn handles SIGINT/SIGTERM while it runs, then re-raises them: with these no-op handlers in
        # place that re-raise returns here, so the workers finish their steps and the lock is released.
        previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            uvicorn.Server(config).run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        runtime.stop()
        print("imgmgr: stopped", flush=True)
