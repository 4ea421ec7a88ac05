"""Building subscription payloads and events for the analytics tests, and the corpus of the saved queries
with their answers worked out by hand (``EXPECTED``)."""

from __future__ import annotations

import base64
import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imgmgr.adapters.events import JsonlEventSink
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


# ------------------------------------------------------------------ the corpus of the saved queries

DAY1 = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 1, 31, 18, 30, tzinfo=UTC)


def corpus() -> list[AnalyticsEvent]:
    """Two days of activity by alice, bob and carol, with one duplicated delivery."""
    processed_1 = event(
        "img-1:processed",
        EventType.PROCESSED,
        at=DAY1,
        image_id="img-1",
        bytes_in=1000,
        bytes_out=400,
        categories=("Animals and Pets", "Nature and Outdoors"),
        labels=("Cat", "Grass"),
    )
    return [
        event("img-1:upload", at=DAY1, image_id="img-1", bytes_in=1000),
        event("img-2:upload", at=DAY1, owner="bob", image_id="img-2", bytes_in=3000),
        processed_1,
        processed_1,  # delivered twice: must count once everywhere
        event(
            "img-2:processed",
            EventType.PROCESSED,
            at=DAY1,
            owner="bob",
            image_id="img-2",
            bytes_in=3000,
            bytes_out=3000,
            categories=("Animals and Pets",),
            labels=("Dog",),
        ),
        event("img-6:upload", at=DAY1, image_id="img-6", bytes_in=800),
        event(
            "img-6:processed",
            EventType.PROCESSED,
            at=DAY1,
            image_id="img-6",
            bytes_in=800,
            bytes_out=100,
            categories=("Food and Beverage",),
            labels=("Cake",),
        ),
        event("img-6:delete", EventType.DELETE, at=DAY2, image_id="img-6", bytes_out=900),
        event("img-3:upload", at=DAY2, owner="bob", image_id="img-3", bytes_in=500),
        event("img-3:failed", EventType.FAILED, at=DAY2, owner="bob", image_id="img-3", code="Image.TooManyPixels"),
        event("img-4:upload", at=DAY2, owner="carol", image_id="img-4", bytes_in=200),
        event("img-4:failed", EventType.FAILED, at=DAY2, owner="carol", image_id="img-4", code="Image.TooManyPixels"),
        event("img-5:failed", EventType.FAILED, at=DAY2, owner="carol", code="Image.Unsupported"),
        event("search-1", EventType.SEARCH, at=DAY2, detail={"category": "Animals and Pets"}),
        event("view-1", EventType.VIEW, at=DAY2, owner="dave", image_id="img-1"),
    ]


EXPECTED = {
    "uploads_per_day": [("2026-01-30", 3, 2, 4800), ("2026-01-31", 2, 2, 700)],
    # img-1, img-2 processed; img-6 deleted after processing; img-3, img-4 failed.
    "image_states": [("failed", 2), ("ready", 2), ("deleted", 1)],
    # The deleted img-6 (Food and Beverage, Cake) no longer counts.
    "popular_categories": [("Animals and Pets", 2, 2), ("Nature and Outdoors", 1, 1)],
    "popular_labels": [("Cat", 1, 1), ("Dog", 1, 1), ("Grass", 1, 1)],
    "active_users": [("2026-01-30", 2, 6), ("2026-01-31", 4, 8)],
    "bytes_saved": [("2026-01-30", 2, 4000, 3400, 600, 0.85)],
    "failures_by_code": [
        ("Image.TooManyPixels", 2, 2, "2026-01-31T18:30:00.000000Z"),
        ("Image.Unsupported", 1, 1, "2026-01-31T18:30:00.000000Z"),
    ],
    "views_and_searches": [("2026-01-31", 1, 1)],
}


def write_corpus(directory: Path) -> Path:
    """``directory`` holding :func:`corpus` as the local sink writes it (JSON lines per day)."""
    sink = JsonlEventSink(directory)
    for item in corpus():
        sink.emit(item)
    return directory
