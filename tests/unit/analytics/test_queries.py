"""Every saved query run by DuckDB over generated events, with the answers worked out by hand.

The events are written by the local JSONL sink (the layout the local server's analytics read) and, for the lake's
layout, by the exporter (gzip JSON lines under ``analytics/events/dt=.../``): the same SQL answers the
same on both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imgmgr.adapters.analytics import EVENTS_VIEW, LAKE_PATTERN, LOCAL_PATTERN, DuckDbAnalytics, connect
from imgmgr.adapters.files import FileObjectStore
from lambdas.analytics.exporter import export_event
from lambdas.analytics.figures import Period, QueryResult
from lambdas.analytics.queries import ALL_EVENTS, COLUMNS_PREFIX, NAMES, PLACEHOLDER, load, parse, saved_queries
from tests.unit.analytics.support import DAY1, DAY2, EXPECTED, corpus, log_line, with_messages, write_corpus


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


@pytest.fixture(scope="module")
def local_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("events"))


@pytest.fixture(scope="module")
def lake_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = FileObjectStore(tmp_path_factory.mktemp("bucket"))
    events = corpus()
    # Two payloads, the second delivered twice, as CloudWatch Logs may.
    first, second = events[:8], events[8:]
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


#: The Trino name of each type DuckDB gives a result column. DuckDB types the sum of integers as HUGEINT
#: (128 bits) where Trino's ``sum`` of a bigint is a bigint: the same integer, told apart by width alone.
TRINO_NAME_OF_DUCKDB_TYPE = {
    "VARCHAR": "varchar",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double",
}


@pytest.mark.parametrize("name", NAMES)
def test_query_answers_with_the_columns_it_declares(local_events: Path, name: str) -> None:
    # GIVEN the query and the columns its file declares
    query = load(name)
    connection = connect(local_events)
    try:
        # WHEN DuckDB describes the result of the query over the corpus
        described = connection.execute(f"DESCRIBE {query.render(EVENTS_VIEW)}").fetchall()
        names = [column[0] for column in connection.execute(query.render(EVENTS_VIEW)).description or ()]
    finally:
        connection.close()
    # THEN its columns are the declared ones, by name, order and type
    assert query.columns
    assert names == [column for column, _ in query.columns]
    assert [(row[0], TRINO_NAME_OF_DUCKDB_TYPE[row[1]]) for row in described] == list(query.columns)


def test_the_columns_declaration_is_neither_the_description_nor_the_sql() -> None:
    # GIVEN the saved queries
    for query in saved_queries():
        # THEN the first line stays the description, and the statement Athena saves omits the declaration
        assert query.sql.splitlines()[0] == f"-- {query.description}"
        assert COLUMNS_PREFIX not in query.sql and "columns:" not in query.description


def test_a_query_file_without_a_columns_declaration_is_refused() -> None:
    # GIVEN a file with a description and a statement, but no declaration of its columns
    text = "-- Uploads.\nSELECT count(*) AS uploads FROM {events}\n"
    # WHEN it is parsed, THEN the error names the file and says what line 2 must be
    with pytest.raises(ValueError, match=r"uploads\.sql: line 2 must declare the result's columns \('-- columns: "):
        parse("uploads", text)


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("-- columns: uploads", r"uploads\.sql: line 2 must declare .*, not 'uploads'"),
        ("-- columns: uploads timestamp", r"uploads\.sql: column 'uploads': type 'timestamp' is not one of"),
        ("-- columns: uploads bigint, uploads bigint", r"uploads\.sql: a column is declared twice"),
        (
            "-- columns: uploads bigint\n-- columns: uploads bigint",
            r"uploads\.sql: must start with a '-- ' description",
        ),
    ],
)
def test_a_malformed_columns_declaration_is_refused(declaration: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        described = declaration if declaration.count(COLUMNS_PREFIX) > 1 else f"-- Uploads.\n{declaration}"
        parse("uploads", f"{described}\nSELECT count(*) AS uploads FROM {{events}}\n")


def test_a_declaration_is_parsed_into_names_and_types() -> None:
    query = parse("uploads", "-- Uploads.\n-- columns: day varchar, uploads bigint\nSELECT 1 FROM {events}")
    assert query.columns == (("day", "varchar"), ("uploads", "bigint"))
    assert query.sql == "-- Uploads.\nSELECT 1 FROM {events}"


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
