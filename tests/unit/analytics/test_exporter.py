"""Exporting analytics events to the lake: layout, filtering, refusals and idempotency."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imgmgr.adapters.files import FileObjectStore
from lambdas.analytics.errors import PayloadError
from lambdas.analytics.exporter import EVENTS_PREFIX, REJECTED_PREFIX, export_event
from lambdas.domain.events import EventType
from tests.unit.analytics.support import decoded, encoded, event, log_line, subscription_event, with_messages


@pytest.fixture
def store(tmp_path: Path) -> FileObjectStore:
    return FileObjectStore(tmp_path / "objects")


def _lines(store: FileObjectStore, key: str) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(store.get(key)).decode().splitlines()]


def test_events_land_as_gzip_json_lines_under_their_day(store: FileObjectStore) -> None:
    # GIVEN the real-shaped payload with two events of 2026-01-31
    # WHEN it is exported
    result = export_event(subscription_event(), store)
    # THEN one object under dt=2026-01-31 holds both events in their JSON form, without the log marker
    assert len(result.written) == 1
    key = result.written[0]
    assert key.startswith(f"{EVENTS_PREFIX}dt=2026-01-31/") and key.endswith(".json.gz")
    lines = _lines(store, key)
    assert [line["event_type"] for line in lines] == ["processed", "failed"]
    assert "record_type" not in lines[0]
    assert lines[0]["bytes_in"] == 4412837 and lines[1]["code"] == "Labels.Unavailable"
    assert result.events == 2 and result.rejected == 0 and result.ignored == 0


def test_the_same_payload_delivered_twice_writes_one_object(store: FileObjectStore) -> None:
    # GIVEN a payload already exported
    first = export_event(subscription_event(), store)
    # WHEN the same payload is delivered again
    second = export_event(subscription_event(), store)
    # THEN it names the same object, which is not written again, and no other object appears
    assert second.written == ()
    assert second.existing == first.written
    assert list(store.list("analytics/")) == list(first.written)


def test_a_payload_exported_in_two_places_gives_identical_bytes(tmp_path: Path) -> None:
    # GIVEN two empty stores
    one, two = FileObjectStore(tmp_path / "one"), FileObjectStore(tmp_path / "two")
    # WHEN the same payload is exported to each (gzip carries no timestamp)
    key = export_event(subscription_event(), one).written[0]
    export_event(subscription_event(), two)
    # THEN the objects are byte for byte the same: a racing duplicate overwrites with the same bytes
    assert one.get(key) == two.get(key)


def test_other_payloads_get_other_names(store: FileObjectStore) -> None:
    # GIVEN two payloads with the same lines but different log event ids
    line = log_line(event("img-1:upload"))
    # WHEN both are exported
    first = export_event(with_messages([line], first_id=1), store)
    second = export_event(with_messages([line], first_id=2), store)
    # THEN each has its own object
    assert first.written != second.written
    assert len(list(store.list(EVENTS_PREFIX))) == 2


def test_events_of_several_days_are_split_by_their_own_day(store: FileObjectStore) -> None:
    # GIVEN a payload with events on both sides of midnight UTC
    late = event("a", at=datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))
    early = event("b", at=datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC))
    # WHEN it is exported
    result = export_event(with_messages([log_line(late), log_line(early)]), store)
    # THEN each day's partition holds its own event
    days = sorted(key.split("/")[2] for key in result.written)
    assert days == ["dt=2026-01-31", "dt=2026-02-01"]


def test_lines_that_are_not_analytics_events_are_ignored(store: FileObjectStore) -> None:
    # GIVEN one event among the other output of a function
    messages = [
        "START RequestId: 6f1c Version: $LATEST\n",
        '{"level":"INFO","message":"step finished","service":"imgmgr"}\n',
        "{not json\n",
        log_line(event("img-1:upload")) + "\n",
        "REPORT RequestId: 6f1c Duration: 812.00 ms\n",
    ]
    # WHEN the payload is exported
    result = export_event(with_messages(messages), store)
    # THEN only the event is kept, and the rest is counted as ignored
    assert result.events == 1 and result.ignored == 4
    assert [line["event_id"] for line in _lines(store, result.written[0])] == ["img-1:upload"]


def test_an_event_line_that_breaks_the_schema_is_kept_aside_with_its_reason(store: FileObjectStore) -> None:
    # GIVEN a valid event and one with an unknown type
    good = log_line(event("img-1:upload"))
    bad = log_line(event("img-2:upload"), event_type="download")
    # WHEN the payload is exported
    result = export_event(with_messages([good, bad]), store)
    # THEN the valid one is in the table's prefix, the other under rejected/ with why
    assert result.events == 1 and result.rejected == 1
    rejected = [key for key in result.written if key.startswith(REJECTED_PREFIX)]
    assert len(rejected) == 1 and rejected[0].startswith(f"{REJECTED_PREFIX}dt=2026-01-31/")
    [refusal] = _lines(store, rejected[0])
    assert refusal["reason"].startswith("event_type: 'download'")
    assert json.loads(refusal["message"])["event_id"] == "img-2:upload"
    assert [line["event_id"] for line in _lines(store, result.written[0])] == ["img-1:upload"]


def test_the_control_message_writes_nothing(store: FileObjectStore) -> None:
    # GIVEN the control message sent when the subscription is created
    document = decoded(subscription_event())
    document["messageType"] = "CONTROL_MESSAGE"
    # WHEN it is exported
    result = export_event(encoded(document), store)
    # THEN nothing is written
    assert result.written == () and list(store.list("analytics/")) == []


def test_a_payload_that_is_not_one_is_refused(store: FileObjectStore) -> None:
    with pytest.raises(PayloadError, match=r"awslogs\.data: not base64"):
        export_event({"awslogs": {"data": "%%%"}}, store)


def test_event_ids_repeated_by_the_pipeline_are_kept_for_the_queries_to_count_once(store: FileObjectStore) -> None:
    # GIVEN the same pipeline event logged twice (a step retried after emitting it)
    line = log_line(event("img-1:processed", EventType.PROCESSED))
    # WHEN both log events are exported
    result = export_event(with_messages([line, line]), store)
    # THEN both lines are in the lake: deduplication by event_id is the queries' job
    assert [row["event_id"] for row in _lines(store, result.written[0])] == ["img-1:processed"] * 2
