"""One SQLite connection per thread, and the write transaction the local host's stores all use.

The metadata store, the job queue and the key store share one database file (``.data/imgmgr.db``) with
the server's threads and the worker threads. SQLite connections must not cross threads, so each thread
opens its own on first use (WAL journal: readers never block the writer). A write takes the writer lock
up front (``BEGIN IMMEDIATE``), so a read-check-write sequence inside it is one step.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ThreadConnections:
    """Per-thread connections to the SQLite database at ``path``.

    ``busy_timeout_s`` is how long a statement waits for another connection's lock; ``synchronous_normal``
    syncs the WAL at checkpoints only (no corruption on power loss; the last transactions may be lost),
    for stores whose writes are frequent and replayable.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0, synchronous_normal: bool = False
    ) -> None:
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._synchronous_normal = synchronous_normal
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, in autocommit mode)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            if self._synchronous_normal:
                db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (the next ``get`` opens a new one)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the writer lock from its start; rolled back on any exception."""
        db = self.get()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
