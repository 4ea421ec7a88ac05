"""``Presigner`` of the local host: S3-shaped POST policies and GET URLs, signed with HMAC-SHA256.

The POST fields mirror S3's: ``key``, ``Content-Type``, ``policy`` (base64 JSON with ``expiration`` and
``conditions``: the key, the content type and a ``content-length-range``) and ``x-imgmgr-signature``.
Nothing else enforces them locally, so :meth:`LocalPresigner.check_post` does, before the upload endpoint
stores a byte: signature, expiry, key, content type, size and, when the presigner is told how, that the
API key the policy was issued to (``x-imgmgr-credential``) has not been revoked since.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from lambdas.domain.errors import PermanentError
from lambdas.ports import PresignedPost

UPLOAD_PATH = "local/uploads"
OBJECTS_PATH = "local/objects/"
SIGNATURE_FIELD = "x-imgmgr-signature"
#: The id of the API key a POST policy was issued to (the local host voids it when the key is revoked).
CREDENTIAL_FIELD = "x-imgmgr-credential"


class PolicyError(PermanentError):
    """A local upload or download that its policy does not allow; ``status`` is the HTTP status to answer."""

    code = "Upload.PolicyViolation"

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, code=code)
        self.status = status


class LocalPresigner:
    """Signs POST policies and GET URLs with ``secret``; ``now`` gives UNIX seconds (tests fix it).

    With ``credential_live`` (the key store's ``is_live``) every POST policy must name the credential it was
    issued to (``CREDENTIAL_FIELD``), and is refused once that credential is revoked. Default: None (POSTs
    are not bound to a credential).
    """

    def __init__(
        self,
        secret: bytes,
        *,
        now: Callable[[], float] = time.time,
        credential_live: Callable[[str], bool] | None = None,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("secret must be at least 16 bytes")
        self._secret = secret
        self._now = now
        self._credential_live = credential_live

    def _sign(self, message: bytes) -> str:
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    # --- uploads --------------------------------------------------------------------------------------
    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        expires_in: int,
        base_url: str,
        credential: str | None = None,
    ) -> PresignedPost:
        expires = int(self._now()) + expires_in
        expires_at = datetime.fromtimestamp(expires, UTC)
        exact = {"key": key, "Content-Type": content_type}
        if credential is not None:
            # Pinned like any field of an S3 policy: the POST carries it, the signed policy requires it.
            exact[CREDENTIAL_FIELD] = credential
        conditions: list[object] = [{name: value} for name, value in exact.items()]
        conditions.append(["content-length-range", 1, max_bytes])
        policy = {"expiration": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": conditions}
        encoded = base64.b64encode(json.dumps(policy, separators=(",", ":")).encode()).decode()
        fields = {**exact, "policy": encoded, SIGNATURE_FIELD: self._sign(encoded.encode())}
        return PresignedPost(url=base_url.rstrip("/") + "/" + UPLOAD_PATH, fields=fields, expires_at=expires_at)

    def check_post(self, fields: Mapping[str, str], size: int | None) -> tuple[str, str]:
        """Check a POST's form ``fields`` (and the file's ``size`` when known) against its signed policy.

        Returns ``(key, content_type)``; raises ``PolicyError`` for a missing or bad signature (403), an
        expired policy (403), a key or content type other than the policy's (403) or a size outside
        ``content-length-range`` (413 above, 400 below).
        """
        encoded = fields.get("policy") or ""
        signature = fields.get(SIGNATURE_FIELD) or ""
        if not encoded or not signature:
            raise PolicyError("policy and signature are required", code="Upload.SignatureMissing", status=403)
        if not hmac.compare_digest(self._sign(encoded.encode()), signature):
            raise PolicyError("the policy's signature does not match", code="Upload.SignatureInvalid", status=403)
        try:
            policy = json.loads(base64.b64decode(encoded, validate=True))
            expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            conditions = policy["conditions"]
            exact = {k: v for c in conditions if isinstance(c, dict) for k, v in c.items()}
            (low, high) = next(c[1:] for c in conditions if isinstance(c, list) and c[0] == "content-length-range")
        except (ValueError, KeyError, TypeError, StopIteration, binascii.Error) as exc:
            raise PolicyError("the policy is malformed", code="Upload.PolicyInvalid", status=400) from exc
        if expiration.timestamp() < self._now():
            raise PolicyError("the upload policy has expired", code="Upload.PolicyExpired", status=403)
        for name in ("key", "Content-Type", *exact):
            if fields.get(name) != exact.get(name):
                raise PolicyError(f"{name} is not the one the policy allows", code="Upload.PolicyMismatch", status=403)
        if self._credential_live is not None:
            credential = exact.get(CREDENTIAL_FIELD)
            if not isinstance(credential, str):
                raise PolicyError("the policy names no API key", code="Upload.CredentialMissing", status=403)
            if not self._credential_live(credential):
                raise PolicyError(
                    "the API key this upload was issued to has been revoked",
                    code="Upload.CredentialRevoked",
                    status=403,
                )
        if size is not None and size > high:
            raise PolicyError(f"the file is larger than {high} bytes", code="Upload.TooLarge", status=413)
        if size is not None and size < low:
            raise PolicyError(f"the file is smaller than {low} bytes", code="Upload.TooSmall", status=400)
        return exact["key"], exact["Content-Type"]

    def max_bytes(self, fields: Mapping[str, str]) -> int | None:
        """The policy's upper size bound, read before the body (only after ``check_post`` has vouched for it)."""
        try:
            policy = json.loads(base64.b64decode(fields.get("policy") or "", validate=True))
            return int(next(c[2] for c in policy["conditions"] if isinstance(c, list)))
        except (ValueError, KeyError, TypeError, StopIteration, binascii.Error):
            return None

    # --- downloads ------------------------------------------------------------------------------------
    def presign_get(self, key: str, *, expires_in: int, base_url: str) -> str:
        expires = int(self._now()) + expires_in
        query = urlencode({"expires": expires, "signature": self._sign(f"GET\n{key}\n{expires}".encode())})
        return f"{base_url.rstrip('/')}/{OBJECTS_PATH}{quote(key)}?{query}"

    def check_get(self, key: str, expires: int, signature: str) -> None:
        """Raise ``PolicyError`` (403) unless ``signature`` signs ``key`` until ``expires``, still in the future."""
        if not hmac.compare_digest(self._sign(f"GET\n{key}\n{expires}".encode()), signature):
            raise PolicyError("the URL's signature does not match", code="Object.SignatureInvalid", status=403)
        if expires < self._now():
            raise PolicyError("the URL has expired", code="Object.UrlExpired", status=403)
