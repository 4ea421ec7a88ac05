"""Building subscription payloads and events for the analytics tests."""

from __future__ import annotations

import base64
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdas.adapters.aws.events import LogEventSink
from lambdas.domain.events import AnalyticsEvent, EventType

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def subscription_event() -> dict[str, Any]:
    """The real-shaped Lambda event of a CloudWatch Logs subscription (two analytics lines)."""
    return json.loads((EVENTS_DIR / "logs_subscription.json").read_text())


def decoded(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON document inside a subscription event."""
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def encoded(document: dict[str, Any]) -> dict[str, Any]:
    """A subscription event carrying ``document``."""
    data = base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()
    return {"awslogs": {"data": data}}


def event(
    event_id: str,
    event_type: EventType = EventType.UPLOAD,
    *,
    at: datetime = datetime(2026, 1, 31, 12, 0, tzinfo=UTC),
    owner: str = "alice",
    **fields: Any,
) -> AnalyticsEvent:
    return AnalyticsEvent(event_id=event_id, event_type=event_type, occurred_at=at, owner=owner, **fields)


def log_line(item: AnalyticsEvent, **overrides: Any) -> str:
    """The log line ``LogEventSink`` prints for ``item`` (with fields overridden, when asked)."""
    stream = io.StringIO()
    LogEventSink(stream).emit(item)
    line = stream.getvalue().rstrip("\n")
    if not overrides:
        return line
    return json.dumps({**json.loads(line), **overrides}, separators=(",", ":"))


def with_messages(messages: list[str], *, first_id: int = 1000) -> dict[str, Any]:
    """The fixture's payload with its log events replaced by ``messages`` (ids from ``first_id``)."""
    document = decoded(subscription_event())
    document["logEvents"] = [
        {"id": f"{first_id + index:056d}", "timestamp": 1769860800000 + index, "message": message}
        for index, message in enumerate(messages)
    ]
    return encoded(document)
