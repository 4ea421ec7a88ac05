"""Export analytics events from a CloudWatch Logs subscription payload to the lake, idempotently.

One payload becomes at most one object per day of the events it holds::

    analytics/events/dt=YYYY-MM-DD/<sha256 of log group, stream and log event ids>.json.gz

gzip JSON lines, one event per line in its ``AnalyticsEvent.to_dict`` form (the same lines as the
local ``events.jsonl``). The name and the bytes depend only on the payload (gzip without a timestamp),
so a payload delivered again names the same object, which exists already and is not written twice.
Lines that are not analytics events (other log output) are ignored; event lines that break the schema
are kept aside under ``analytics/rejected/dt=.../<name>.json.gz`` with the reason, never dropped
silently and never mixed into the table that the queries read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambdas.analytics.errors import EventSchemaError
from lambdas.analytics.payload import LogEvent, LogsPayload, decode
from lambdas.analytics.schema import RECORD_TYPE_FIELD, parse_event
from lambdas.contract import EVENTS_PREFIX, RECORD_TYPE, REJECTED_PREFIX
from lambdas.domain.events import AnalyticsEvent
from lambdas.ports import ObjectStore

CONTENT_TYPE = "application/x-ndjson"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What one payload gave: objects written, objects found already written, lines by fate."""

    written: tuple[str, ...] = ()
    existing: tuple[str, ...] = ()
    events: int = 0
    rejected: int = 0
    ignored: int = 0
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": list(self.written),
            "existing": list(self.existing),
            "events": self.events,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "reasons": list(self.reasons),
        }


def day_of(moment: datetime) -> str:
    """The partition value (``YYYY-MM-DD``, UTC) of a moment."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def object_name(payload: LogsPayload, log_events: list[LogEvent]) -> str:
    """Deterministic file name of the lines from ``log_events`` of ``payload``: the same events, the same name."""
    digest = hashlib.sha256()
    for part in (payload.log_group, payload.log_stream, *(item.id for item in log_events)):
        digest.update(part.encode() + b"\0")
    return f"{digest.hexdigest()[:40]}.json.gz"


def gzip_lines(lines: list[str]) -> bytes:
    """The lines, newline-terminated, gzip-compressed without a timestamp (same input, same bytes)."""
    return gzip.compress("".join(line + "\n" for line in lines).encode(), compresslevel=9, mtime=0)


def event_line(event: AnalyticsEvent) -> str:
    """One JSON line of the lake (the form the local sink writes)."""
    return json.dumps(event.to_dict(), separators=(",", ":"))


def export_event(event: Any, store: ObjectStore) -> ExportResult:
    """Decode a Lambda event from a subscription and export it (``PayloadError`` when it is none)."""
    return export(decode(event), store)


def export(payload: LogsPayload, store: ObjectStore) -> ExportResult:
    """Write the analytics events of ``payload`` under :data:`EVENTS_PREFIX`; see the module docstring."""
    if not payload.is_data:
        return ExportResult()
    accepted: dict[str, list[tuple[LogEvent, AnalyticsEvent]]] = defaultdict(list)
    refused: dict[str, list[tuple[LogEvent, str]]] = defaultdict(list)
    ignored = 0
    for log_event in payload.log_events:
        line = _analytics_line(log_event.message)
        if line is None:
            ignored += 1
            continue
        try:
            event = parse_event(line)
        except EventSchemaError as exc:
            day = day_of(datetime.fromtimestamp(log_event.timestamp / 1000, tz=UTC))
            refused[day].append((log_event, exc.message))
            continue
        accepted[day_of(event.occurred_at)].append((log_event, event))
    written: list[str] = []
    existing: list[str] = []
    for day, items in sorted(accepted.items()):
        key = f"{EVENTS_PREFIX}dt={day}/{object_name(payload, [log_event for log_event, _ in items])}"
        lines = [event_line(event) for _, event in items]
        (written if _put_once(store, key, gzip_lines(lines)) else existing).append(key)
    for day, refusals in sorted(refused.items()):
        key = f"{REJECTED_PREFIX}dt={day}/{object_name(payload, [log_event for log_event, _ in refusals])}"
        lines = [_rejected_line(payload, log_event, reason) for log_event, reason in refusals]
        (written if _put_once(store, key, gzip_lines(lines)) else existing).append(key)
    return ExportResult(
        written=tuple(written),
        existing=tuple(existing),
        events=sum(len(items) for items in accepted.values()),
        rejected=sum(len(items) for items in refused.values()),
        ignored=ignored,
        reasons=tuple(reason for items in refused.values() for _, reason in items),
    )


def _analytics_line(message: str) -> dict[str, Any] | None:
    """The decoded object of an analytics log line; ``None`` for any other log output."""
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get(RECORD_TYPE_FIELD) != RECORD_TYPE:
        return None
    return document


def _rejected_line(payload: LogsPayload, log_event: LogEvent, reason: str) -> str:
    return json.dumps(
        {
            "log_group": payload.log_group,
            "log_stream": payload.log_stream,
            "log_event_id": log_event.id,
            "timestamp": log_event.timestamp,
            "reason": reason,
            "message": log_event.message,
        },
        separators=(",", ":"),
    )


def _put_once(store: ObjectStore, key: str, data: bytes) -> bool:
    """Write ``key`` unless it exists (a redelivered payload); ``True`` when written.

    Two deliveries racing past the check write the same bytes under the same key: still one object.
    """
    if store.head(key) is not None:
        return False
    store.put(key, data, content_type=CONTENT_TYPE)
    return True
