"""The QuickSight data sets are the saved queries, and the visuals chart their result columns.

DuckDB runs each data set's SQL over the corpus of ``tests.unit.analytics.support`` (one event delivered
twice, one image deleted after it was processed): it answers what the saved query answers, worked out by
hand (``EXPECTED``). Each visual's aggregation (its SUM measures grouped by its dimension) over that
result gives the same figures again: a visual adds no definition of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.quicksight_views import (
    EVENT_DATA_SET_COLUMNS,
    FIGURES,
    RESULT_QUICKSIGHT_TYPES,
    FigureDataSet,
    Visual,
    definition,
    visuals,
)
from imgmgr.adapters.analytics import EVENTS_VIEW, connect
from lambdas.analytics.queries import NAMES, RESULT_TYPES, load
from lambdas.domain.events import TABLE_COLUMNS
from tests.unit.analytics.support import EXPECTED, write_corpus

ARNS = {
    figure.identifier: f"arn:aws:quicksight:us-east-1:123456789012:dataset/{figure.identifier}" for figure in FIGURES
}


@pytest.fixture(scope="module")
def events_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("events"))


def _run(events_dir: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows DuckDB answers for ``sql`` over the corpus."""
    connection = connect(events_dir)
    try:
        cursor = connection.execute(sql)
        return [column[0] for column in cursor.description or ()], cursor.fetchall()
    finally:
        connection.close()


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


def _wells(visual: Visual) -> tuple[str, list[tuple[str, str]]]:
    """The dimension column of a bar chart and its measures (column, aggregation)."""
    wells = visual.block["bar_chart_visual"]["chart_configuration"]["field_wells"]["bar_chart_aggregated_field_wells"]
    [dimension] = wells["category"]
    measures = [
        (
            value["numerical_measure_field"]["column"]["column_name"],
            value["numerical_measure_field"]["aggregation_function"]["simple_numerical_aggregation"],
        )
        for value in wells["values"]
    ]
    return dimension["categorical_dimension_field"]["column"]["column_name"], measures


# ------------------------------------------------------------------------------------------ data sets


@pytest.mark.parametrize("figure", FIGURES, ids=lambda figure: figure.identifier)
def test_data_set_sql_answers_what_the_saved_query_answers(events_dir: Path, figure: FigureDataSet) -> None:
    # GIVEN the data set's custom SQL, here over DuckDB's events view
    sql = figure.sql(EVENTS_VIEW)
    # WHEN it runs over the corpus
    names, rows = _run(events_dir, sql)
    # THEN it answers the saved query's figures, worked out by hand, under the columns it declares
    assert rows == EXPECTED[figure.identifier]
    assert names == [name for name, _ in figure.columns]


def test_every_saved_query_is_a_data_set_with_its_own_sql_and_columns() -> None:
    # GIVEN the data sets of the analysis
    # THEN there is one per saved query, in order, whose SQL is that query over the events table
    assert [figure.identifier for figure in FIGURES] == list(NAMES)
    for figure in FIGURES:
        query = load(figure.identifier)
        assert figure.sql('"db"."events"') == query.render('"db"."events"')
        # AND its columns are the query's declared ones, typed for QuickSight
        assert figure.columns == tuple((name, RESULT_QUICKSIGHT_TYPES[kind]) for name, kind in query.columns)


def test_every_declared_result_type_has_a_quicksight_type() -> None:
    assert set(RESULT_QUICKSIGHT_TYPES) == set(RESULT_TYPES)
    assert {RESULT_QUICKSIGHT_TYPES[kind] for kind in ("varchar", "bigint", "double")} == {
        "STRING",
        "INTEGER",
        "DECIMAL",
    }


@pytest.mark.parametrize("figure", FIGURES, ids=lambda figure: figure.identifier)
def test_data_set_sql_parses_as_trino_and_selects_its_declared_columns(figure: FigureDataSet) -> None:
    sqlglot = pytest.importorskip("sqlglot")
    # GIVEN the data set's SQL as Athena receives it
    sql = figure.sql('"imgmgr_analytics"."events"')
    # WHEN it is parsed with the Trino grammar
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    # THEN its outer SELECT names exactly the declared columns, in order
    assert [select.alias_or_name for select in tree.selects] == [name for name, _ in figure.columns]


def test_a_column_the_query_does_not_declare_is_refused_naming_the_data_set() -> None:
    [states] = [figure for figure in FIGURES if figure.identifier == "image_states"]
    with pytest.raises(KeyError, match="image_states: no column 'category' \\(columns: state, images\\)"):
        states.column("category")


def test_the_raw_events_data_set_keeps_the_events_scalar_columns() -> None:
    # GIVEN the event's one definition of its columns
    scalars = [column for column in TABLE_COLUMNS if "<" not in column.glue]
    # THEN the raw events data set reads every scalar column (QuickSight takes no arrays or maps)
    assert list(EVENT_DATA_SET_COLUMNS) == scalars


# -------------------------------------------------------------------------------------------- visuals


def test_every_figure_of_the_web_dashboard_has_a_visual() -> None:
    # GIVEN the visuals of the sheet
    shown = visuals()
    # THEN every saved query is charted (the web page charts each one), each visual id once
    assert {visual.data_set.identifier for visual in shown} == set(NAMES)
    assert len({visual.visual_id for visual in shown}) == len(shown)


@pytest.mark.parametrize("visual", visuals(), ids=lambda visual: visual.visual_id)
def test_visual_aggregation_gives_back_the_saved_query_s_figures(events_dir: Path, visual: Visual) -> None:
    # GIVEN a visual: SUM of some result columns grouped by one of them
    dimension, measures = _wells(visual)
    assert {aggregation for _, aggregation in measures} == {"SUM"}
    columns = [name for name, _ in visual.data_set.columns]
    # WHEN DuckDB aggregates the data set's result as QuickSight does
    summed = ", ".join(f'sum("{column}")' for column, _ in measures)
    sql = f'SELECT "{dimension}", {summed} FROM ({visual.data_set.sql(EVENTS_VIEW)}) GROUP BY 1'
    _, rows = _run(events_dir, sql)
    # THEN each bar is the saved query's own row: one row per day (or category...), nothing re-aggregated
    wanted = [column for column, _ in measures]
    expected = {
        (row[columns.index(dimension)], *(row[columns.index(column)] for column in wanted))
        for row in EXPECTED[visual.data_set.identifier]
    }
    assert set(rows) == expected
    assert len(rows) == len(EXPECTED[visual.data_set.identifier])


def test_per_day_visuals_run_by_day_oldest_first_and_ranked_ones_largest_first() -> None:
    for visual in visuals():
        dimension, measures = _wells(visual)
        configuration = visual.block["bar_chart_visual"]["chart_configuration"]
        [sort] = configuration["sort_configuration"]["category_sort"]
        if dimension == "day":
            assert configuration["orientation"] == "VERTICAL", visual.visual_id
            assert sort["field_sort"] == {"field_id": f"{visual.visual_id}.day", "direction": "ASC"}
        else:
            assert configuration["orientation"] == "HORIZONTAL", visual.visual_id
            first = measures[0][0]
            assert sort["field_sort"] == {"field_id": f"{visual.visual_id}.{first}", "direction": "DESC"}


def test_definition_declares_every_data_set_and_only_uses_their_declared_columns() -> None:
    # GIVEN the definition over the data sets' ARNs
    document = definition(ARNS)
    # THEN it declares each data set once, by its ARN
    declared = {item["identifier"]: item["data_set_arn"] for item in document["data_set_identifiers_declarations"]}
    assert declared == ARNS
    # AND every column reference names a declared data set and one of the columns its query declares
    by_id = {figure.identifier: {name for name, _ in figure.columns} for figure in FIGURES}
    refs = _column_refs(document)
    assert len(refs) > len(visuals())
    for ref in refs:
        assert ref["column_name"] in by_id[ref["data_set_identifier"]], ref
    # AND nothing is computed in QuickSight: no calculated fields, no filters of its own
    assert not [block for block in _blocks(document) if "expression" in block]
    assert "filter_groups" not in document and "calculated_fields" not in document


def test_each_visual_reads_only_its_own_data_set() -> None:
    for visual in visuals():
        assert {ref["data_set_identifier"] for ref in _column_refs(visual.block)} == {visual.data_set.identifier}
