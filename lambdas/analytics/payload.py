"""The CloudWatch Logs subscription payload: ``{"awslogs": {"data": <base64 of gzip of JSON>}}``.

The decoded JSON::

    {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/imgmgr-compress",
     "logStream": "2026/01/31/[$LATEST]0123...", "subscriptionFilters": ["imgmgr-analytics-compress"],
     "logEvents": [{"id": "3793...", "timestamp": 1769860800000, "message": "{...}"}]}

CloudWatch Logs sends one ``CONTROL_MESSAGE`` (no events worth keeping) when a subscription is created
to check that the destination is reachable. Each log event ``id`` is unique within the account and
region, which makes a payload's identity.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Any

from lambdas.analytics.errors import PayloadError

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"

#: Largest decompressed payload accepted: CloudWatch Logs batches at most 1 MiB of events, and a
#: JSON envelope around them stays well under four times that.
MAX_DECODED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One log event: its unique id, its ingestion time in epoch milliseconds and its text."""

    id: str
    timestamp: int
    message: str


@dataclass(frozen=True, slots=True)
class LogsPayload:
    """A decoded subscription payload."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    subscription_filters: tuple[str, ...]
    log_events: tuple[LogEvent, ...]

    @property
    def is_data(self) -> bool:
        """``False`` for the control message sent when the subscription is created."""
        return self.message_type == DATA_MESSAGE


def decode(event: Any) -> LogsPayload:
    """The payload of a Lambda event sent by a CloudWatch Logs subscription; ``PayloadError`` otherwise."""
    data = event.get("awslogs", {}).get("data") if isinstance(event, dict) else None
    if not isinstance(data, str) or not data:
        raise PayloadError("event: expected {'awslogs': {'data': <base64>}}")
    try:
        compressed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadError("awslogs.data: not base64") from None
    try:
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        raw = decompressor.decompress(compressed, MAX_DECODED_BYTES)
    except zlib.error:
        raise PayloadError("awslogs.data: not gzip") from None
    if decompressor.unconsumed_tail:
        raise PayloadError(f"awslogs.data: decompresses to more than {MAX_DECODED_BYTES} bytes")
    if not decompressor.eof:
        raise PayloadError("awslogs.data: truncated gzip stream")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("awslogs.data: not JSON") from None
    return _payload(document)


def _payload(document: Any) -> LogsPayload:
    if not isinstance(document, dict):
        raise PayloadError("awslogs.data: expected a JSON object")
    message_type = document.get("messageType")
    if message_type not in (DATA_MESSAGE, CONTROL_MESSAGE):
        raise PayloadError(f"messageType: {message_type!r} is neither {DATA_MESSAGE} nor {CONTROL_MESSAGE}")
    events = document.get("logEvents", [])
    if not isinstance(events, list):
        raise PayloadError("logEvents: expected a list")
    log_events = []
    for index, item in enumerate(events):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not item["id"]
            or isinstance(item.get("timestamp"), bool)
            or not isinstance(item.get("timestamp"), int)
            or not isinstance(item.get("message"), str)
        ):
            raise PayloadError(f"logEvents[{index}]: expected id (string), timestamp (integer), message (string)")
        log_events.append(LogEvent(id=item["id"], timestamp=item["timestamp"], message=item["message"]))
    filters = document.get("subscriptionFilters", [])
    return LogsPayload(
        message_type=message_type,
        owner=str(document.get("owner", "")),
        log_group=str(document.get("logGroup", "")),
        log_stream=str(document.get("logStream", "")),
        subscription_filters=tuple(str(name) for name in filters) if isinstance(filters, list) else (),
        log_events=tuple(log_events),
    )


def encode(document: dict[str, Any]) -> dict[str, Any]:
    """The Lambda event CloudWatch Logs would send for ``document`` (the inverse of :func:`decode`)."""
    compressed = gzip.compress(json.dumps(document).encode(), mtime=0)
    return {"awslogs": {"data": base64.b64encode(compressed).decode("ascii")}}
