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
from lambdas.domain.events import EVENT_FIELDS, SCHEMA_VERSION, AnalyticsEvent

#: Fields of the JSON form (``AnalyticsEvent.to_dict``).
FIELDS = frozenset(item.name for item in EVENT_FIELDS)
#: Marker of the log line (``lambdas.adapters.aws.events.RECORD_TYPE``); not part of the event.
RECORD_TYPE_FIELD = "record_type"


def parse_event(line: Mapping[str, Any]) -> AnalyticsEvent:
    """The event of one JSON line (a decoded object); ``EventSchemaError`` when it breaks the schema.

    The fields are checked in the order of :data:`~lambdas.domain.events.EVENT_FIELDS` (the schema
    version first); the error names the first bad one.
    """
    if not isinstance(line, Mapping):
        raise EventSchemaError("event: expected a JSON object")
    unknown = sorted(set(line) - FIELDS - {RECORD_TYPE_FIELD})
    if unknown:
        raise EventSchemaError(f"{unknown[0]}: not a field of schema {SCHEMA_VERSION}")
    missing = sorted(FIELDS - set(line))
    if missing:
        raise EventSchemaError(f"{missing[0]}: missing")
    values: dict[str, Any] = {}
    for item in EVENT_FIELDS:
        try:
            value = item.load(line[item.name])
        except ValueError as exc:
            raise EventSchemaError(str(exc)) from None
        if item.init:
            values[item.name] = value
    return AnalyticsEvent(**values)
