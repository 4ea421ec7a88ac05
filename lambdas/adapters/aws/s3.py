"""``ObjectStore`` over one S3 bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import error_code, translate
from lambdas.contract import REPLACEABLE_TAG
from lambdas.domain.errors import InvalidKeyError, NotFoundError
from lambdas.ports import ObjectInfo

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def _check_key(key: str) -> None:
    segments = key.split("/")
    if not key or key.startswith("/") or any(segment in ("", ".", "..") for segment in segments):
        raise InvalidKeyError(f"key {key!r} is not a relative, normalized object key")


class S3ObjectStore:
    """``ObjectStore`` over ``bucket``; ``client`` defaults to a new boto3 S3 client."""

    def __init__(self, bucket: str, *, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.client: S3Client = client if client is not None else boto3.client("s3")

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        _check_key(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "s3:PutObject") from exc

    def get(self, key: str) -> bytes:
        _check_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read()
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                raise NotFoundError(f"no object under {key!r}") from exc
            raise translate(exc, "s3:GetObject") from exc
        except BotoCoreError as exc:
            raise translate(exc, "s3:GetObject") from exc

    def head(self, key: str) -> ObjectInfo | None:
        _check_key(key)
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                return None
            raise translate(exc, "s3:HeadObject") from exc
        except BotoCoreError as exc:
            raise translate(exc, "s3:HeadObject") from exc
        return ObjectInfo(key=key, size=int(response["ContentLength"]), content_type=response.get("ContentType"))

    def delete(self, key: str) -> None:
        _check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "s3:DeleteObject") from exc

    def mark_replaceable(self, key: str) -> None:
        _check_key(key)
        name, value = REPLACEABLE_TAG
        try:
            self.client.put_object_tagging(
                Bucket=self.bucket, Key=key, Tagging={"TagSet": [{"Key": name, "Value": value}]}
            )
        except ClientError as exc:
            if error_code(exc) in _MISSING_CODES:
                return  # gone already (the image was deleted meanwhile): nothing left to mark
            raise translate(exc, "s3:PutObjectTagging") from exc
        except BotoCoreError as exc:
            raise translate(exc, "s3:PutObjectTagging") from exc

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "s3:ListObjectsV2") from exc
