"""The analytics event: one schema for everything the lake counts, written through the ``EventSink`` port.

One event is one flat JSON object (one log line in AWS, one line of a JSONL file locally)::

    {"schema": 1, "event_id": "img-1:processed", "event_type": "processed",
     "occurred_at": "2026-01-31T12:00:00.000000Z", "owner": "alice", "image_id": "img-1",
     "format": "jpeg", "bytes_in": 2400000, "bytes_out": 310000, "categories": ["Animals and Pets"],
     "labels": ["Cat", "Animal"], "code": null, "duration_ms": 812, "detail": {}}

``event_id`` is deterministic for pipeline events (``<image_id>:<event_type>``), so that a consumer can
drop the duplicate an at-least-once delivery may still produce. ``detail`` holds small string/number
extras (a search's filters, a step name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from lambdas.domain.records import timestamp

SCHEMA_VERSION = 1


class EventType(StrEnum):
    """What happened."""

    UPLOAD = "upload"
    PROCESSED = "processed"
    FAILED = "failed"
    VIEW = "view"
    SEARCH = "search"
    DELETE = "delete"


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsEvent:
    """One analytics event; see the module docstring for the JSON form."""

    event_id: str
    event_type: EventType
    occurred_at: datetime
    owner: str
    image_id: str | None = None
    format: str | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None
    categories: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    code: str | None = None
    duration_ms: int | None = None
    detail: dict[str, str | int | float | bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form, with the schema version first."""
        return {
            "schema": SCHEMA_VERSION,
            "event_id": self.event_id,
            "event_type": self.event_type.value,
            "occurred_at": timestamp(self.occurred_at),
            "owner": self.owner,
            "image_id": self.image_id,
            "format": self.format,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "categories": list(self.categories),
            "labels": list(self.labels),
            "code": self.code,
            "duration_ms": self.duration_ms,
            "detail": dict(self.detail),
        }


def pipeline_event_id(image_id: str, event_type: EventType) -> str:
    """Deterministic id of a pipeline event: one per image and type."""
    return f"{image_id}:{event_type.value}"
