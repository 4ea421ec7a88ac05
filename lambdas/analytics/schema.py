"""Validation of one analytics event line against the schema of ``lambdas.domain.events``.

:func:`parse_event` is the inverse of ``AnalyticsEvent.to_dict``: it accepts exactly the fields that
``to_dict`` writes (plus the ``record_type`` marker of the log line) with their types, and refuses
anything else with ``EventSchemaError`` naming the field, so that the lake never holds a line the
saved queries cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.analytics.errors import EventSchemaError
from lambdas.domain.events import SCHEMA_VERSION, AnalyticsEvent, EventType
from lambdas.domain.records import parse_timestamp

#: Fields of the JSON form (``AnalyticsEvent.to_dict``).
FIELDS = frozenset(
    {
        "schema",
        "event_id",
        "event_type",
        "occurred_at",
        "owner",
        "image_id",
        "format",
        "bytes_in",
        "bytes_out",
        "categories",
        "labels",
        "code",
        "duration_ms",
        "detail",
    }
)
#: Marker of the log line (``lambdas.adapters.aws.events.RECORD_TYPE``); not part of the event.
RECORD_TYPE_FIELD = "record_type"

_EVENT_TYPES = {kind.value: kind for kind in EventType}


def parse_event(line: Mapping[str, Any]) -> AnalyticsEvent:
    """The event of one JSON line (a decoded object); ``EventSchemaError`` when it breaks the schema."""
    if not isinstance(line, Mapping):
        raise EventSchemaError("event: expected a JSON object")
    unknown = sorted(set(line) - FIELDS - {RECORD_TYPE_FIELD})
    if unknown:
        raise EventSchemaError(f"{unknown[0]}: not a field of schema {SCHEMA_VERSION}")
    missing = sorted(FIELDS - set(line))
    if missing:
        raise EventSchemaError(f"{missing[0]}: missing")
    schema = line["schema"]
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        raise EventSchemaError(f"schema: {schema!r} is not version {SCHEMA_VERSION}")
    event_type = _EVENT_TYPES.get(line["event_type"]) if isinstance(line["event_type"], str) else None
    if event_type is None:
        raise EventSchemaError(f"event_type: {line['event_type']!r} must be one of {', '.join(_EVENT_TYPES)}")
    occurred_at = line["occurred_at"]
    try:
        moment = parse_timestamp(occurred_at)
    except (TypeError, ValueError):
        raise EventSchemaError(f"occurred_at: {occurred_at!r} is not UTC 'YYYY-MM-DDTHH:MM:SS.ffffffZ'") from None
    return AnalyticsEvent(
        event_id=_text(line, "event_id"),
        event_type=event_type,
        occurred_at=moment,
        owner=_text(line, "owner"),
        image_id=_optional_text(line, "image_id"),
        format=_optional_text(line, "format"),
        bytes_in=_optional_count(line, "bytes_in"),
        bytes_out=_optional_count(line, "bytes_out"),
        categories=_texts(line, "categories"),
        labels=_texts(line, "labels"),
        code=_optional_text(line, "code"),
        duration_ms=_optional_count(line, "duration_ms"),
        detail=_detail(line),
    )


def _text(line: Mapping[str, Any], name: str) -> str:
    value = line[name]
    if not isinstance(value, str) or not value:
        raise EventSchemaError(f"{name}: {value!r} must be a non-empty string")
    return value


def _optional_text(line: Mapping[str, Any], name: str) -> str | None:
    return None if line[name] is None else _text(line, name)


def _optional_count(line: Mapping[str, Any], name: str) -> int | None:
    value = line[name]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EventSchemaError(f"{name}: {value!r} must be a non-negative integer or null")
    return value


def _texts(line: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = line[name]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise EventSchemaError(f"{name}: {value!r} must be a list of non-empty strings")
    return tuple(value)


def _detail(line: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    value = line["detail"]
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str | int | float | bool) for key, item in value.items()
    ):
        raise EventSchemaError(f"detail: {value!r} must map strings to strings, numbers or booleans")
    return dict(value)
