"""Decoding CloudWatch Logs subscription payloads."""

from __future__ import annotations

import base64
import gzip

import pytest

from lambdas.analytics.errors import PayloadError
from lambdas.analytics.payload import MAX_DECODED_BYTES, LogEvent, decode, encode
from tests.unit.analytics.support import decoded, encoded, subscription_event


def test_decodes_the_real_subscription_event_shape() -> None:
    # GIVEN the Lambda event CloudWatch Logs sends to a subscribed function
    event = subscription_event()
    # WHEN it is decoded
    payload = decode(event)
    # THEN the envelope and both log events come out as sent
    assert payload.is_data
    assert payload.owner == "123456789012"
    assert payload.log_group == "/aws/lambda/imgmgr-categorize"
    assert payload.log_stream.startswith("2026/01/31/[$LATEST]")
    assert payload.subscription_filters == ("imgmgr-analytics-categorize",)
    assert [item.id for item in payload.log_events] == [
        "39419543178296367102914839460497261043213962546216714240",
        "39419543253095712419316512877843197498611845211906342913",
    ]
    assert payload.log_events[0].timestamp == 1769860800413
    assert '"event_type":"processed"' in payload.log_events[0].message


def test_control_message_is_not_data() -> None:
    # GIVEN the control message CloudWatch Logs sends when a subscription is created
    document = decoded(subscription_event())
    document.update(messageType="CONTROL_MESSAGE", logGroup="", logStream="", subscriptionFilters=[])
    document["logEvents"] = [{"id": "0", "timestamp": 1769860800000, "message": "CWL CONTROL MESSAGE: Checking health"}]
    # WHEN it is decoded
    payload = decode(encoded(document))
    # THEN it says it carries no data
    assert not payload.is_data


def test_encode_is_the_inverse_of_decode() -> None:
    # GIVEN the document of the fixture
    document = decoded(subscription_event())
    # WHEN it is encoded and decoded again
    payload = decode(encode(document))
    # THEN the log events are the same
    assert payload.log_events[1] == LogEvent(
        id=document["logEvents"][1]["id"],
        timestamp=document["logEvents"][1]["timestamp"],
        message=document["logEvents"][1]["message"],
    )


def test_event_without_awslogs_is_refused() -> None:
    with pytest.raises(PayloadError, match=r"event: expected \{'awslogs'"):
        decode({"Records": []})


def test_data_that_is_not_base64_is_refused() -> None:
    with pytest.raises(PayloadError, match=r"awslogs\.data: not base64"):
        decode({"awslogs": {"data": "not base64!"}})


def test_data_that_is_not_gzip_is_refused() -> None:
    with pytest.raises(PayloadError, match=r"awslogs\.data: not gzip"):
        decode({"awslogs": {"data": base64.b64encode(b"plain text, no gzip").decode()}})


def test_truncated_gzip_is_refused() -> None:
    # GIVEN a payload cut in the middle of its gzip stream
    data = base64.b64decode(subscription_event()["awslogs"]["data"])
    truncated = base64.b64encode(data[: len(data) // 2]).decode()
    # WHEN / THEN it is refused
    with pytest.raises(PayloadError, match=r"awslogs\.data: truncated gzip stream"):
        decode({"awslogs": {"data": truncated}})


def test_gzip_bomb_is_refused() -> None:
    # GIVEN a small payload that inflates beyond what CloudWatch Logs can send
    bomb = gzip.compress(b" " * (MAX_DECODED_BYTES + 1))
    # WHEN / THEN it is refused before it is inflated whole
    with pytest.raises(PayloadError, match="decompresses to more than"):
        decode({"awslogs": {"data": base64.b64encode(bomb).decode()}})


def test_gzip_of_something_else_than_json_is_refused() -> None:
    data = base64.b64encode(gzip.compress(b"\xff\xfe not json")).decode()
    with pytest.raises(PayloadError, match=r"awslogs\.data: not JSON"):
        decode({"awslogs": {"data": data}})


def test_unknown_message_type_is_refused() -> None:
    document = decoded(subscription_event())
    document["messageType"] = "SOMETHING_ELSE"
    with pytest.raises(PayloadError, match="messageType: 'SOMETHING_ELSE'"):
        decode(encoded(document))


def test_log_event_without_an_integer_timestamp_is_refused() -> None:
    document = decoded(subscription_event())
    document["logEvents"][1]["timestamp"] = "1769860800000"
    with pytest.raises(PayloadError, match=r"logEvents\[1\]: expected id"):
        decode(encoded(document))
