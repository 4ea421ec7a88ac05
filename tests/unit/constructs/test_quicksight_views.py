"""The QuickSight views of the events: their SQL gives the saved queries' figures, their columns are the event's.

DuckDB runs each data set's SQL over the corpus of ``tests.unit.analytics.test_queries`` (one event
delivered twice), then aggregates it as the visual does (its measures, grouped by its dimension, after
its event-type filter): the answers are the saved queries' answers for the same corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.quicksight_views import (
    CATEGORY_COLUMN,
    EVENT_DATA_SET_COLUMNS,
    EVENTS_ONCE,
    IMAGE_CATEGORIES,
    VIEWS,
    definition,
    visuals,
)
from imgmgr.adapters.analytics import EVENTS_VIEW, connect
from imgmgr.adapters.events import JsonlEventSink
from lambdas.domain.events import TABLE_COLUMNS, EventType
from tests.unit.analytics.test_queries import EXPECTED, _corpus


@pytest.fixture(scope="module")
def events_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("events")
    sink = JsonlEventSink(directory)
    for item in _corpus():
        sink.emit(item)
    return directory


def _answer(events_dir: Path, view_sql: str, aggregate: str) -> list[tuple[Any, ...]]:
    connection = connect(events_dir)
    try:
        return connection.execute(aggregate.replace("{view}", f"({view_sql})")).fetchall()
    finally:
        connection.close()


def test_events_once_gives_the_uploads_per_day(events_dir: Path) -> None:
    # GIVEN the deduplicated events data set
    sql = EVENTS_ONCE.sql(EVENTS_VIEW)
    # WHEN the uploads visual aggregates it (uploads, uploaders, bytes uploaded per day)
    rows = _answer(
        events_dir,
        sql,
        "SELECT dt, count(event_id), count(DISTINCT owner), sum(bytes_in) FROM {view} "
        "WHERE event_type = 'upload' GROUP BY dt ORDER BY dt",
    )
    # THEN the figures are those of the saved query
    assert rows == EXPECTED["uploads_per_day"]


def test_events_once_gives_the_active_users_and_the_bytes_saved(events_dir: Path) -> None:
    # GIVEN the deduplicated events data set
    sql = EVENTS_ONCE.sql(EVENTS_VIEW)
    # WHEN the active-users and bytes-saved visuals aggregate it
    active = _answer(
        events_dir, sql, "SELECT dt, count(DISTINCT owner), count(event_id) FROM {view} GROUP BY dt ORDER BY dt"
    )
    saved = _answer(
        events_dir,
        sql,
        "SELECT dt, count(event_id), sum(bytes_in), sum(bytes_out), sum(bytes_in) - sum(bytes_out), "
        "round(sum(bytes_out) / sum(bytes_in), 4) FROM {view} WHERE event_type = 'processed' GROUP BY dt",
    )
    # THEN the duplicated delivery counts once, as in the saved queries
    assert active == EXPECTED["active_users"]
    assert saved == EXPECTED["bytes_saved"]


def test_events_once_gives_the_failures_by_code(events_dir: Path) -> None:
    rows = _answer(
        events_dir,
        EVENTS_ONCE.sql(EVENTS_VIEW),
        "SELECT code, count(event_id), count(DISTINCT owner) FROM {view} "
        "WHERE event_type = 'failed' GROUP BY code ORDER BY 2 DESC, code",
    )
    assert rows == [row[:3] for row in EXPECTED["failures_by_code"]]


def test_image_categories_gives_the_popular_categories(events_dir: Path) -> None:
    # GIVEN one row per category of each processed image
    sql = IMAGE_CATEGORIES.sql(EVENTS_VIEW)
    # WHEN the categories bar chart aggregates it
    rows = _answer(
        events_dir,
        sql,
        "SELECT category, count(event_id), count(DISTINCT owner) FROM {view} GROUP BY category ORDER BY 2 DESC, 1",
    )
    # THEN the figures are those of the saved query
    assert rows == EXPECTED["popular_categories"]


def test_views_columns_are_the_events_scalar_columns() -> None:
    # GIVEN the event's one definition of its columns
    scalars = [column for column in TABLE_COLUMNS if "<" not in column.glue]
    # THEN the deduplicated events keep every scalar column, and the categories view a few and the element
    assert list(EVENTS_ONCE.columns) == scalars == list(EVENT_DATA_SET_COLUMNS)
    assert set(IMAGE_CATEGORIES.columns) - {CATEGORY_COLUMN} <= set(scalars)
    assert (CATEGORY_COLUMN.name, CATEGORY_COLUMN.glue) == ("category", "string")


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.identifier)
def test_view_sql_parses_as_trino_and_selects_its_columns(view: Any) -> None:
    sqlglot = pytest.importorskip("sqlglot")
    # GIVEN the data set's SQL as Athena receives it
    sql = view.sql('"imgmgr_analytics"."events"')
    # WHEN it is parsed with the Trino grammar
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    # THEN it selects exactly the data set's declared columns, in order
    assert [select.alias_or_name for select in tree.selects] == [column.name for column in view.columns]


def test_a_column_the_data_set_lacks_is_refused_naming_the_data_set() -> None:
    with pytest.raises(KeyError, match="image_categories: no column 'bytes_in'"):
        IMAGE_CATEGORIES.column("bytes_in")


def _blocks(node: Any) -> Iterator[dict[str, Any]]:
    """Every object nested in ``node``, itself included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _blocks(value)
    elif isinstance(node, list):
        for value in node:
            yield from _blocks(value)


def _column_refs(node: Any) -> list[dict[str, str]]:
    return [block for block in _blocks(node) if set(block) == {"data_set_identifier", "column_name"}]


def test_definition_declares_every_view_and_only_uses_their_columns() -> None:
    # GIVEN the definition over two data set ARNs
    arns = {view.identifier: f"arn:aws:quicksight:us-east-1:123456789012:dataset/{view.identifier}" for view in VIEWS}
    document = definition(arns)
    # THEN it declares each view once, by its ARN
    declared = {item["identifier"]: item["data_set_arn"] for item in document["data_set_identifiers_declarations"]}
    assert declared == arns
    # AND every column reference (visuals and filters) names a declared view and one of its columns
    by_id = {view.identifier: {column.name for column in view.columns} for view in VIEWS}
    refs = list(_column_refs(document))
    assert len(refs) > len(visuals())
    for ref in refs:
        assert ref["column_name"] in by_id[ref["data_set_identifier"]], ref
    # AND the calculated measures only name columns of the deduplicated events
    expressions = [block["expression"] for block in _blocks(document) if "expression" in block]
    assert expressions
    for expression in expressions:
        assert set(re.findall(r"\{(\w+)\}", expression)) <= by_id[EVENTS_ONCE.identifier]


def test_each_filter_is_scoped_to_the_visuals_of_its_event_type() -> None:
    # GIVEN the definition
    document = definition({view.identifier: "arn" for view in VIEWS})
    groups = {group["filter_group_id"]: group for group in document["filter_groups"]}
    # THEN failures are filtered to failed events, uploads to uploads; active users to nothing
    scoped = {
        group["filters"][0]["category_filter"]["configuration"]["filter_list_configuration"]["category_values"][0]: (
            group["scope_configuration"]["selected_sheets"]["sheet_visual_scoping_configurations"][0]["visual_ids"]
        )
        for group in groups.values()
    }
    assert scoped[EventType.FAILED.value] == ["failures-by-code"]
    assert "uploads-per-day" in scoped[EventType.UPLOAD.value]
    assert all("active-users-per-day" not in ids for ids in scoped.values())
