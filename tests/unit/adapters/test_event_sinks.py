"""Both event sinks write the one event schema, one JSON object per line."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from imgmgr.adapters.events import JsonlEventSink
from lambdas.adapters.aws.events import LogEventSink
from lambdas.contract import RECORD_TYPE
from lambdas.domain.events import AnalyticsEvent, EventType
from lambdas.ports import EventSink

EVENT = AnalyticsEvent(
    event_id="img-1:processed",
    event_type=EventType.PROCESSED,
    occurred_at=datetime(2026, 1, 31, 23, 59, tzinfo=UTC),
    owner="alice",
    image_id="img-1",
    format="jpeg",
    bytes_in=1000,
    bytes_out=400,
    categories=("Animals and Pets",),
    labels=("Cat",),
    duration_ms=12,
)


def test_both_sinks_implement_the_port(tmp_path):
    assert isinstance(LogEventSink(), EventSink)
    assert isinstance(JsonlEventSink(tmp_path), EventSink)


def test_the_log_sink_writes_one_tagged_json_line(tmp_path):
    # GIVEN a log sink on a buffer WHEN an event is emitted
    stream = io.StringIO()
    LogEventSink(stream).emit(EVENT)
    # THEN one line holds the event, tagged for the subscription filter
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"record_type": RECORD_TYPE, **EVENT.to_dict()}


def test_the_jsonl_sink_appends_under_the_day_partition(tmp_path):
    # GIVEN a JSONL sink WHEN two events are emitted
    sink = JsonlEventSink(tmp_path)
    sink.emit(EVENT)
    sink.emit(EVENT)
    # THEN both are lines of the day's file, in the event schema
    lines = (tmp_path / "dt=2026-01-31" / "events.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [EVENT.to_dict(), EVENT.to_dict()]
    assert json.loads(lines[0])["schema"] == 1
