"""Validating analytics event lines against the event schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.analytics.errors import EventSchemaError
from lambdas.analytics.schema import parse_event
from lambdas.domain.events import EventType
from tests.unit.analytics.support import event, log_line


def _line(**overrides: Any) -> dict[str, Any]:
    item = event(
        "img-1:processed",
        EventType.PROCESSED,
        image_id="img-1",
        format="jpeg",
        bytes_in=2_400_000,
        bytes_out=310_000,
        categories=("Animals and Pets",),
        labels=("Cat", "Animal"),
        duration_ms=812,
        detail={"step": "categorize", "retry": False},
    )
    return json.loads(log_line(item, **overrides))


def test_a_log_line_parses_to_the_event_it_was_written_from() -> None:
    # GIVEN the log line of an event (with the record_type marker)
    line = _line()
    # WHEN it is parsed
    parsed = parse_event(line)
    # THEN it is the same event, and its JSON form is the line without the marker
    assert parsed.occurred_at == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert parsed.event_type is EventType.PROCESSED
    assert parsed.categories == ("Animals and Pets",)
    assert parsed.to_dict() == {key: value for key, value in line.items() if key != "record_type"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schema": 2}, "schema: 2 is not version 1"),
        ({"schema": True}, "schema: True is not version 1"),
        ({"event_type": "download"}, "event_type: 'download' must be one of"),
        ({"occurred_at": "2026-01-31 12:00:00"}, "occurred_at: '2026-01-31 12:00:00' is not UTC"),
        ({"occurred_at": None}, "occurred_at: None is not UTC"),
        ({"owner": ""}, "owner: '' must be a non-empty string"),
        ({"event_id": 7}, "event_id: 7 must be a non-empty string"),
        ({"bytes_in": -1}, "bytes_in: -1 must be a non-negative integer"),
        ({"bytes_out": "310000"}, "bytes_out: '310000' must be a non-negative integer"),
        ({"duration_ms": 1.5}, "duration_ms: 1.5 must be a non-negative integer"),
        ({"categories": "Animals"}, "categories: 'Animals' must be a list"),
        ({"labels": ["Cat", None]}, r"labels: \['Cat', None\] must be a list"),
        ({"detail": {"step": ["a"]}}, "detail: .* must map strings"),
        ({"image_id": ""}, "image_id: '' must be a non-empty string"),
        ({"extra": 1}, "extra: not a field of schema 1"),
    ],
)
def test_a_line_that_breaks_the_schema_is_refused_naming_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(EventSchemaError, match=message):
        parse_event(_line(**overrides))


def test_a_line_without_a_field_is_refused() -> None:
    line = _line()
    del line["labels"]
    with pytest.raises(EventSchemaError, match="labels: missing"):
        parse_event(line)


def test_a_line_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(EventSchemaError, match="event: expected a JSON object"):
        parse_event(["not", "an", "object"])  # type: ignore[arg-type]
