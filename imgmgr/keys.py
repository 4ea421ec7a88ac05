"""Local API keys: stored as SHA-256 hashes in SQLite, shown once, revocable.

A key reads ``imk_<key id>_<secret>``; the key id names the key in listings, the owner is the identity
its images belong to. Keys carry 256 bits of randomness, so a plain SHA-256 suffices (no slow hash).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request

from imgmgr.database import ThreadConnections
from lambdas.api.errors import ApiError

KEY_PREFIX = "imk_"
OWNER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id     TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"""


class KeyStoreError(Exception):
    """A key operation that cannot be done (unknown key id, bad owner)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (never the secret)."""

    key_id: str
    owner: str
    name: str
    created_at: str
    revoked_at: str | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """API keys in the SQLite database at ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._connections = ThreadConnections(self.path)
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return self._connections.get()

    def create(self, owner: str, *, name: str = "") -> tuple[str, ApiKey]:
        """A new key for ``owner``: ``(the key, shown only now; its record)``."""
        if not OWNER_PATTERN.match(owner):
            raise KeyStoreError(f"owner {owner!r} must be 1-64 of A-Z a-z 0-9 . _ @ = + - and start alphanumeric")
        key_id = secrets.token_hex(4)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._db().execute(
            "INSERT INTO api_keys (key_id, key_hash, owner, name, created_at) VALUES (?, ?, ?, ?, ?)",
            (key_id, _hash(key), owner, name[:100], created),
        )
        return key, ApiKey(key_id, owner, name[:100], created, None)

    def list(self) -> list[ApiKey]:
        rows = self._db().execute(
            "SELECT key_id, owner, name, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id"
        )
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke the key ``key_id`` (revoking twice keeps the first time)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        db = self._db()
        db.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?", (now, key_id))
        row = db.execute(
            "SELECT key_id, owner, name, created_at, revoked_at FROM api_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
        if row is None:
            raise KeyStoreError(f"no key {key_id!r}")
        return ApiKey(*row)

    def identify(self, key: str) -> ApiKey | None:
        """The record of a live key; ``None`` for an unknown or revoked one."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        row = (
            self._db()
            .execute(
                "SELECT key_id, owner, name, created_at, revoked_at FROM api_keys WHERE key_hash = ?", (_hash(key),)
            )
            .fetchone()
        )
        if row is None or row[4] is not None:
            return None
        return ApiKey(*row)

    def owner_of(self, key: str) -> str | None:
        """The owner of a live key; ``None`` for an unknown or revoked one."""
        record = self.identify(key)
        return None if record is None else record.owner

    def is_live(self, key_id: str) -> bool:
        """Whether the key ``key_id`` exists and is not revoked."""
        row = self._db().execute("SELECT revoked_at FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return row is not None and row[0] is None

    def is_empty(self) -> bool:
        return self._db().execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is None


class KeyStoreAuthenticator:
    """The local host's ``Authenticator``: header ``x-api-key`` checked against the ``KeyStore``.

    The id of the key is left in ``request.state.credential``: the upload policies handed out are bound to
    it, so that revoking a key also voids the uploads it was promised."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    def owner(self, request: Request) -> str:
        key = request.headers.get("x-api-key")
        if not key:
            raise ApiError(401, "Auth.MissingKey", "an API key is required (header x-api-key)")
        record = self.keys.identify(key)
        if record is None:
            raise ApiError(403, "Auth.InvalidKey", "the API key is unknown or revoked")
        request.state.credential = record.key_id
        return record.owner
