"""``ObjectStore`` over a data directory: the same keys as S3, as relative file paths.

Writes go to a temporary file in the target directory, are flushed to disk and renamed over the target,
so a reader sees the old bytes or the new ones, never a torn file, even if the process dies mid-write.
A key can never name a path outside the data directory: absolute keys, ``..``, empty segments,
backslashes and symlinks that lead out are refused with ``InvalidKeyError``.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lambdas.domain.errors import InvalidKeyError, NotFoundError
from lambdas.ports import ObjectInfo

_TEMP_PREFIX = ".tmp-"


class FileObjectStore:
    """``ObjectStore`` rooted at ``root`` (created if missing)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        segments = key.split("/")
        if (
            not key
            or "\\" in key
            or "\x00" in key
            or any(segment in ("", ".", "..") for segment in segments)
            or segments[-1].startswith(_TEMP_PREFIX)
        ):
            raise InvalidKeyError(f"key {key!r} is not a relative, normalized object key")
        path = self.root.joinpath(*segments)
        # A symlink inside the data directory could still lead out: compare the resolved path.
        if not path.resolve().is_relative_to(self.root):
            raise InvalidKeyError(f"key {key!r} leads outside the data directory")
        return path

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError(f"no object under {key!r}") from exc

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        content_type, _ = mimetypes.guess_type(path.name)
        return ObjectInfo(key=key, size=path.stat().st_size, content_type=content_type)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)

    def mark_replaceable(self, key: str) -> None:
        """Nothing to mark: the local janitor removes originals at the record's ``original_expires_at``."""
        self._path(key)

    def list(self, prefix: str) -> Iterator[str]:
        keys = []
        for directory, _dirs, files in os.walk(self.root):
            base = Path(directory).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith(_TEMP_PREFIX):
                    continue
                key = name if base == "." else f"{base}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))
