"""Opaque, signed, owner-bound page cursors.

A store's cursor (its last evaluated key) is wrapped with the owner and a digest of the query's filters
and signed with HMAC-SHA256. A client can pass it back unchanged and nothing else: a modified cursor, one
issued to another owner or one reused with other filters is refused with ``Cursor.Invalid``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from lambdas.api.errors import ApiError

_VERSION = 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    """Signs and checks cursors with ``secret`` (at least 16 bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def sign(self, store_cursor: str, *, owner: str, scope: str) -> str:
        """The opaque cursor handed to ``owner`` for a query whose filters are ``scope``."""
        payload = json.dumps(
            {"v": _VERSION, "o": owner, "s": _digest(scope), "c": store_cursor}, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def open(self, cursor: str, *, owner: str, scope: str) -> str:
        """The store's cursor inside ``cursor``; ``ApiError`` 400 ``Cursor.Invalid`` unless it is genuine."""
        try:
            encoded, signature = cursor.split(".", 1)
            payload = _unb64(encoded)
            genuine = hmac.compare_digest(self._mac(payload), _unb64(signature))
        except (ValueError, TypeError) as exc:
            raise _invalid() from exc
        if not genuine:
            raise _invalid()
        data = json.loads(payload)
        if data.get("v") != _VERSION or data.get("o") != owner or data.get("s") != _digest(scope):
            raise _invalid()
        store_cursor = data.get("c")
        if not isinstance(store_cursor, str):
            raise _invalid()
        return store_cursor


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:32]


def _invalid() -> ApiError:
    return ApiError(400, "Cursor.Invalid", "cursor is not one this API issued for this query and key")
