"""Every saved query run by DuckDB over generated events, with the answers worked out by hand.

The events are written by the local JSONL sink (the layout the local server's analytics read) and, for the lake's
layout, by the exporter (gzip JSON lines under ``analytics/events/dt=.../``): the same SQL answers the
same on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from imgmgr.adapters.analytics import LAKE_PATTERN, LOCAL_PATTERN, DuckDbAnalytics
from imgmgr.adapters.events import JsonlEventSink
from imgmgr.adapters.files import FileObjectStore
from lambdas.analytics.exporter import export_event
from lambdas.analytics.figures import Period, QueryResult
from lambdas.analytics.queries import ALL_EVENTS, NAMES, PLACEHOLDER, load, saved_queries
from lambdas.domain.events import AnalyticsEvent, EventType
from tests.unit.analytics.support import event, log_line, with_messages

DAY1 = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 1, 31, 18, 30, tzinfo=UTC)


def run_queries(
    events_dir: Path,
    names: tuple[str, ...] = NAMES,
    *,
    pattern: str = LOCAL_PATTERN,
    period: Period | None = None,
    owner: str | None = None,
) -> list[QueryResult]:
    """The saved queries ``names`` run by the local engine over the events files under ``events_dir``."""
    return DuckDbAnalytics(events_dir, pattern=pattern).run([load(name) for name in names], period, owner)


def _corpus() -> list[AnalyticsEvent]:
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


@pytest.fixture(scope="module")
def local_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("events")
    sink = JsonlEventSink(directory)
    for item in _corpus():
        sink.emit(item)
    return directory


@pytest.fixture(scope="module")
def lake_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = FileObjectStore(tmp_path_factory.mktemp("bucket"))
    corpus = _corpus()
    # Two payloads, the second delivered twice, as CloudWatch Logs may.
    first, second = corpus[:8], corpus[8:]
    export_event(with_messages([log_line(item) for item in first], first_id=1), store)
    for _ in range(2):
        export_event(with_messages([log_line(item) for item in second], first_id=100), store)
    return store.root / "analytics" / "events"


@pytest.mark.parametrize("name", NAMES)
def test_query_answers_over_the_local_events(local_events: Path, name: str) -> None:
    # GIVEN the corpus written by the local sink
    # WHEN the saved query runs in DuckDB
    [result] = run_queries(local_events, (name,))
    # THEN it answers what was worked out by hand
    assert list(result.rows) == EXPECTED[name]


@pytest.mark.parametrize("name", NAMES)
def test_query_answers_the_same_over_the_exported_lake_files(lake_events: Path, name: str) -> None:
    # GIVEN the same corpus exported to gzip JSON lines (one payload delivered twice)
    # WHEN the saved query runs over the lake's files
    [result] = run_queries(lake_events, (name,), pattern=LAKE_PATTERN)
    # THEN the answer is the same as locally
    assert list(result.rows) == EXPECTED[name]


def test_queries_answer_nothing_when_there_are_no_events(tmp_path: Path) -> None:
    # GIVEN an empty events directory
    # WHEN every query runs
    results = run_queries(tmp_path)
    # THEN each answers with its columns and no rows
    assert [result.rows for result in results] == [()] * len(NAMES)
    assert results[0].columns == ("day", "uploads", "uploaders", "bytes_uploaded")


def test_every_query_file_has_a_description_and_one_placeholder() -> None:
    for query in saved_queries():
        assert query.description and not query.description.startswith("--")
        assert query.sql.count(PLACEHOLDER) == 1
        rendered = query.render('"imgmgr_analytics"."events"')
        assert PLACEHOLDER not in rendered and ALL_EVENTS not in rendered


def test_an_unknown_query_name_is_refused() -> None:
    with pytest.raises(ValueError, match="name: 'top_secret' is not a saved query"):
        load("top_secret")


#: Functions every saved query may call: those Trino (Athena engine v3) and DuckDB both define alike.
COMMON_FUNCTIONS = frozenset(
    # "If" is how sqlglot names the WHEN branches of a CASE.
    {"Case", "Cast", "Coalesce", "Count", "Greatest", "If", "Max", "Nullif", "Round", "RowNumber", "Sum"}
)


@pytest.mark.parametrize("name", NAMES)
def test_query_parses_as_trino_and_calls_only_functions_both_engines_share(name: str) -> None:
    sqlglot = pytest.importorskip("sqlglot")
    # GIVEN the query as Athena receives it
    sql = load(name).render('"imgmgr_analytics"."events"')
    # WHEN it is parsed with the Trino grammar (a syntax Trino lacks, such as QUALIFY, raises)
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    # THEN it calls only functions that DuckDB (which answered the tests above) and Trino share
    functions = tree.find_all(sqlglot.exp.Func)
    called = {type(node).__name__ for node in functions if not isinstance(node, sqlglot.exp.Connector)} - {"Unnest"}
    assert called <= COMMON_FUNCTIONS, called - COMMON_FUNCTIONS


def test_a_period_and_an_owner_scope_every_query(local_events: Path) -> None:
    # GIVEN the corpus; WHEN bob's figures of the second day are asked for
    period = Period(DAY2.date(), DAY2.date())
    results = {result.query.name: result for result in run_queries(local_events, period=period, owner="bob")}
    # THEN only his events of that day count (his img-2 of the first day is outside the period)
    assert list(results["uploads_per_day"].rows) == [("2026-01-31", 1, 1, 500)]
    assert list(results["image_states"].rows) == [("failed", 1)]
    assert list(results["failures_by_code"].rows) == [("Image.TooManyPixels", 1, 1, "2026-01-31T18:30:00.000000Z")]
    assert list(results["popular_categories"].rows) == []


def test_a_delete_after_the_period_still_removes_the_image_from_the_period_s_figures(local_events: Path) -> None:
    # GIVEN img-6, processed on the first day and deleted on the second
    # WHEN alice's figures of the first day alone are asked for
    period = Period(DAY1.date(), DAY1.date())
    results = {result.query.name: result for result in run_queries(local_events, period=period, owner="alice")}
    # THEN it is deleted there too (what became of it), and neither its category nor its saving counts
    assert ("deleted", 1) in results["image_states"].rows
    assert all(row[0] != "Food and Beverage" for row in results["popular_categories"].rows)
    assert list(results["bytes_saved"].rows) == [("2026-01-30", 1, 1000, 400, 600, 0.4)]


@pytest.mark.parametrize("name", NAMES)
def test_the_scoped_query_parses_as_trino(name: str) -> None:
    sqlglot = pytest.importorskip("sqlglot")
    sql, params = load(name).scoped(
        '"imgmgr_analytics"."events"', first_day="2026-01-01", last_day="2026-01-31", owner="a"
    )
    sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert sql.count("?") == len(params)
