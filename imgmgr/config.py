"""Where the local runtime keeps everything: one data directory (``.data/`` in the current directory).

::

    <data>/objects/          the object store: uploads/..., renditions/... (the S3 keys as files)
    <data>/metadata.sqlite3  image records, indexes and counters
    <data>/queue.sqlite3     the durable work queue of the pipeline steps
    <data>/keys.sqlite3      API keys (hashed)
    <data>/events/           analytics events, dt=YYYY-MM-DD/events.jsonl
    <data>/models/           the offline labeler's cache
    <data>/secret            the HMAC secret signing cursors, upload policies and object URLs (0600)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path(".data")
DATA_DIR_ENV = "IMGMGR_DATA_DIR"


@dataclass(frozen=True, slots=True)
class DataDir:
    """The paths inside a data directory."""

    root: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None) -> DataDir:
        """``path``, else ``$IMGMGR_DATA_DIR``, else ``.data`` in the current directory; created if missing."""
        chosen = Path(path) if path is not None else Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
        root = chosen.expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(root)

    @property
    def objects(self) -> Path:
        return self.root / "objects"

    @property
    def metadata(self) -> Path:
        return self.root / "metadata.sqlite3"

    @property
    def queue(self) -> Path:
        return self.root / "queue.sqlite3"

    @property
    def keys(self) -> Path:
        return self.root / "keys.sqlite3"

    @property
    def events(self) -> Path:
        return self.root / "events"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def lock(self) -> Path:
        return self.root / "serve.lock"

    def secret(self) -> bytes:
        """The data directory's signing secret, created (32 random bytes, mode 0600) on first use."""
        path = self.root / "secret"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return bytes.fromhex(path.read_text().strip())
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        return bytes.fromhex(path.read_text().strip())
