"""The analytics event is declared once (the fields of ``AnalyticsEvent``): every surface follows from it.

Nothing here lists the fields again: each check is derived from ``EVENT_FIELDS`` / ``TABLE_COLUMNS``,
so a field added, removed, retyped or made nullable in the declaration is checked on every surface.
(The Glue table, the Spark schema and the QuickSight columns are checked against the same definition
in ``tests/synth/test_analytics_lake.py``.)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pytest

from imgmgr.adapters.analytics import connect
from imgmgr.adapters.events import JsonlEventSink
from lambdas.analytics.errors import EventSchemaError
from lambdas.analytics.schema import FIELDS, parse_event
from lambdas.domain.columns import COUNT, TEXT, Column, columns_of
from lambdas.domain.events import DAY_PARTITION, EVENT_FIELDS, TABLE_COLUMNS, AnalyticsEvent, EventType

_FULL = AnalyticsEvent(
    event_id="img-1:processed",
    event_type=EventType.PROCESSED,
    occurred_at=datetime(2026, 1, 31, 12, 0, 0, 250_000, tzinfo=UTC),
    owner="alice",
    image_id="img-1",
    format="jpeg",
    bytes_in=2_400_000,
    bytes_out=310_000,
    categories=("Animals and Pets", "Nature and Outdoors"),
    labels=("Cat", "Animal"),
    code="Image.TooManyPixels",
    duration_ms=812,
    detail={"step": "categorize", "retry": False, "attempt": 2, "ratio": 0.5},
)
_MINIMAL = AnalyticsEvent(
    event_id="view-1", event_type=EventType.VIEW, occurred_at=datetime(2026, 2, 1, tzinfo=UTC), owner="bob"
)


def _round_trip(event: AnalyticsEvent) -> AnalyticsEvent:
    return parse_event(json.loads(json.dumps(event.to_dict())))


def test_the_full_event_sets_every_field_apart_from_its_default() -> None:
    # GIVEN the event the other tests round-trip
    # THEN no field holds its default, so a field the JSON form loses or mangles cannot go unseen
    for item in dataclasses.fields(AnalyticsEvent):
        if item.init:
            default = item.default_factory() if item.default_factory is not dataclasses.MISSING else item.default
            assert getattr(_FULL, item.name) != default, item.name


@pytest.mark.parametrize("event", [_FULL, _MINIMAL], ids=["full", "minimal"])
def test_the_json_form_parses_back_to_the_same_event(event: AnalyticsEvent) -> None:
    # GIVEN the JSON form of an event
    document = event.to_dict()
    # THEN its keys are the declared fields, in order, and the validator accepts exactly those
    assert list(document) == [item.name for item in EVENT_FIELDS]
    assert set(document) == FIELDS
    # AND it parses back to the same event, field by field
    parsed = _round_trip(event)
    for item in EVENT_FIELDS:
        assert getattr(parsed, item.name) == getattr(event, item.name), item.name
    assert parsed == event


@pytest.mark.parametrize("field", EVENT_FIELDS, ids=lambda item: item.name)
def test_a_null_is_accepted_exactly_where_the_field_is_nullable(field: Any) -> None:
    # GIVEN the full event's JSON form with one field null
    document = {**_FULL.to_dict(), field.name: None}
    if field.nullable:
        # THEN a nullable field reads back as None
        assert getattr(parse_event(document), field.name) is None
    else:
        # THEN any other is refused, naming the field
        with pytest.raises(EventSchemaError, match=f": {field.name}: None "):
            parse_event(document)


def _described(connection: Any) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in connection.execute("DESCRIBE events").fetchall()]


def test_duckdb_reads_the_events_files_with_exactly_the_declared_columns(tmp_path: Path) -> None:
    # GIVEN the local sink's files of a full and a minimal event (every nullable field null)
    sink = JsonlEventSink(tmp_path)
    for event in (_FULL, _MINIMAL):
        sink.emit(event)
    # WHEN DuckDB reads them as the local analytics engine does
    connection = connect(tmp_path)
    try:
        # THEN the columns are the declared ones with their DuckDB types, then the partition
        assert _described(connection) == [(column.name, column.duckdb) for column in TABLE_COLUMNS]
        # AND every field of the full event reads back as its JSON form (the detail as JSON text)
        cursor = connection.execute("SELECT * FROM events WHERE event_id = ?", [_FULL.event_id])
        row = dict(zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True))
    finally:
        connection.close()
    expected = _FULL.to_dict()
    assert {name: json.loads(row[name]) if name == "detail" else row[name] for name in expected} == expected
    assert row[DAY_PARTITION.name] == "2026-01-31"


def test_duckdb_gives_an_empty_events_directory_the_same_columns(tmp_path: Path) -> None:
    connection = connect(tmp_path)
    try:
        assert _described(connection) == [(column.name, column.duckdb) for column in TABLE_COLUMNS]
    finally:
        connection.close()


def test_a_field_whose_annotation_is_not_its_value_type_is_refused() -> None:
    # GIVEN a record whose count is annotated as a string
    @dataclass(frozen=True)
    class Mistyped:
        size: Annotated[str, Column(COUNT, "Bytes")]

    # THEN its columns cannot be derived
    with pytest.raises(TypeError, match=r"^Mistyped.size: <class 'str'> is not <class 'int'>"):
        columns_of(Mistyped)


def test_a_field_without_a_column_is_refused() -> None:
    @dataclass(frozen=True)
    class Undeclared:
        name: Annotated[str, Column(TEXT, "Name")]
        note: str

    with pytest.raises(TypeError, match=r"^Undeclared.note: annotate it"):
        columns_of(Undeclared)
