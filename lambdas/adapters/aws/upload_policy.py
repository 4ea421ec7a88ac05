"""``Presigner`` over S3: presigned POST for uploads, presigned GET for renditions.

The POST policy pins the object key, the ``Content-Type`` and a ``content-length-range`` of
1..``max_bytes``, and expires after ``expires_in`` seconds; S3 enforces every condition. Revoking the API
key that asked for it does not void it: only its expiry bounds it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import translate
from lambdas.ports import PresignedPost

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


#: Presign with SigV4 on the bucket's virtual host: what every region accepts (SigV2 only some).
PRESIGN_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})


def presign_client() -> S3Client:
    """A new boto3 S3 client with ``PRESIGN_CONFIG``."""
    return boto3.client("s3", config=PRESIGN_CONFIG)


class S3Presigner:
    """Presigned S3 POSTs and GETs on ``bucket``.

    ``client`` is used as given; without it, ``client_factory`` (default: :func:`presign_client`) builds one
    on the first presign, so that a request that presigns nothing (the page, health, stats, a delete) does
    not wait for a second S3 client (~15 ms CPU once the object store's client has loaded the S3 model).
    """

    def __init__(
        self,
        bucket: str,
        *,
        client: S3Client | None = None,
        client_factory: Callable[[], S3Client] = presign_client,
    ) -> None:
        self.bucket = bucket
        self._client = client
        self._client_factory = client_factory

    @property
    def client(self) -> S3Client:
        """The S3 client that signs, built on first use when none was given."""
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        expires_in: int,
        base_url: str = "",
        credential: str | None = None,
    ) -> PresignedPost:
        # ``credential`` is not bound: S3 cannot ask whether an API key was revoked since, so a POST issued
        # before a revocation stays usable until its expiry (``expires_in``, minutes).
        del credential
        conditions = [{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]
        try:
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=conditions,
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "s3:PutObject") from exc
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        return PresignedPost(url=post["url"], fields=dict(post["fields"]), expires_at=expires_at)

    def presign_get(self, key: str, *, expires_in: int, base_url: str = "") -> str:
        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "s3:GetObject") from exc
