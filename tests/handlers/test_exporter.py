"""The exporter handler in-process over moto S3, with the real subscription event shape."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdas.analytics.exporter import EVENTS_PREFIX
from lambdas.domain.errors import TransientError
from lambdas.handlers import exporter
from tests.fakes import FakeLambdaContext
from tests.handlers.conftest import BUCKET, load_event

CONTEXT = FakeLambdaContext("imgmgr-exporter")


def _keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="analytics/").get("Contents", [])]


def test_exports_the_subscription_payload_to_the_bucket(aws) -> None:
    # GIVEN the payload CloudWatch Logs sends for two analytics lines
    event = load_event("logs_subscription.json")
    # WHEN the handler runs
    response = exporter.handler(event, CONTEXT)
    # THEN one gzip JSON lines object under the day's partition holds both events
    [key] = _keys(aws["s3"])
    assert key.startswith(f"{EVENTS_PREFIX}dt=2026-01-31/")
    body = aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert [json.loads(line)["event_type"] for line in gzip.decompress(body).splitlines()] == ["processed", "failed"]
    assert response["written"] == [key] and response["events"] == 2


def test_a_redelivered_payload_leaves_one_object(aws) -> None:
    # GIVEN a payload exported once
    event = load_event("logs_subscription.json")
    first = exporter.handler(event, CONTEXT)
    # WHEN Lambda delivers it again (an asynchronous retry)
    second = exporter.handler(event, CONTEXT)
    # THEN nothing new is written
    assert second["written"] == [] and second["existing"] == first["written"]
    assert _keys(aws["s3"]) == first["written"]


def test_a_malformed_event_is_refused_without_a_retry(aws) -> None:
    # GIVEN an event that is not a subscription payload
    # WHEN the handler runs
    response = exporter.handler({"awslogs": {"data": "%%%"}}, CONTEXT)
    # THEN it answers with the refusal (no exception: retrying cannot help) and writes nothing
    assert response["refused"] == "Analytics.BadPayload"
    assert _keys(aws["s3"]) == []


def test_an_unreachable_bucket_raises_a_transient_error_for_lambda_to_retry(aws, monkeypatch) -> None:
    # GIVEN S3 refusing writes with a throttle
    def throttled(**kwargs):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "PutObject")

    s3 = boto3.client("s3", region_name="us-east-1")
    monkeypatch.setattr(s3, "put_object", throttled)
    handler = exporter.make_handler(s3=lambda: s3)
    # WHEN / THEN the handler raises, so that Lambda retries the payload
    with pytest.raises(TransientError, match="SlowDown"):
        handler(load_event("logs_subscription.json"), CONTEXT)
