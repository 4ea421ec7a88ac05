"""What QuickSight shows of the analytics events: one data set per saved query, and the definition of the
analysis and the dashboard that chart their results.

A figure is defined once, by its saved query (``lambdas/analytics/queries/``). Each data set of the
analysis IS one saved query: its custom SQL is the query over the events table, its columns are the ones
the query declares (``SavedQuery.columns``, with their QuickSight types), so QuickSight shows what the
API, the web page, ``imgmgr stats`` and Athena's named queries show. The visuals aggregate nothing of
their own: a per-day figure has one row per day (its counts are the SUM of that one row), a ranked figure
one row per category, label, state or code. A visual names a column through :meth:`FigureDataSet.column`,
which refuses a name the query does not declare, so a renamed result column fails the synthesis instead
of leaving a broken visual.

:data:`EVENT_DATA_SET_COLUMNS` are the events table's scalar columns with their QuickSight types, for the
raw events data set the construct offers beside the figures (arrays and maps have no QuickSight type).

The provider bindings type the ``definition`` block of ``aws_quicksight_analysis`` and
``aws_quicksight_dashboard`` as ``Any`` (it is too deeply nested for typed classes): :func:`definition`
builds it as a plain dict in Terraform's own snake_case names, passed as the resource's ``definition``
argument. The construct (``constructs_lib.analytics_lake``) creates the resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.analytics.queries import SavedQuery, saved_queries
from lambdas.domain.columns import TableColumn
from lambdas.domain.events import TABLE_COLUMNS

#: QuickSight input column types of the events table's scalar columns, by Glue type (arrays and maps are
#: left out of the raw events data set).
QUICKSIGHT_TYPES = {"string": "STRING", "int": "INTEGER", "bigint": "INTEGER"}

#: The events table's columns that the raw events data set reads, in order.
EVENT_DATA_SET_COLUMNS: tuple[TableColumn, ...] = tuple(
    column for column in TABLE_COLUMNS if column.glue in QUICKSIGHT_TYPES
)

#: QuickSight input column types of a saved query's result columns, by the Trino type they are declared
#: with (``lambdas.analytics.queries.RESULT_TYPES``).
RESULT_QUICKSIGHT_TYPES = {"varchar": "STRING", "bigint": "INTEGER", "integer": "INTEGER", "double": "DECIMAL"}

#: QuickSight types a measure can SUM.
_NUMBERS = frozenset({"INTEGER", "DECIMAL"})


@dataclass(frozen=True, slots=True)
class FigureDataSet:
    """One data set of the analysis: the result of one saved query."""

    query: SavedQuery

    @property
    def identifier(self) -> str:
        """How the analysis and its visuals name the data set (``DataSetIdentifier``): the query's name."""
        return self.query.name

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """Its columns in order: the query's declared names, with their QuickSight types."""
        return tuple((name, RESULT_QUICKSIGHT_TYPES[kind]) for name, kind in self.query.columns)

    def column(self, name: str) -> str:
        """Its column ``name``; ``KeyError`` naming the data set when the query declares none."""
        if any(column == name for column, _ in self.columns):
            return name
        declared = ", ".join(column for column, _ in self.columns)
        raise KeyError(f"{self.identifier}: no column {name!r} (columns: {declared})")

    def quicksight_type(self, name: str) -> str:
        """The QuickSight type of its column ``name`` (``KeyError`` as :meth:`column`)."""
        self.column(name)
        return dict(self.columns)[name]

    def sql(self, relation: str) -> str:
        """The custom SQL of the data set: the saved query over ``relation`` (``"<database>"."events"``)."""
        return self.query.render(relation)


#: The data sets that the analysis and the dashboard declare: every saved query, in its order.
FIGURES: tuple[FigureDataSet, ...] = tuple(FigureDataSet(query) for query in saved_queries())
_BY_NAME = {figure.identifier: figure for figure in FIGURES}

SHEET_ID = "usage"


# ------------------------------------------------------------------------------------------ fields


def _ref(data_set: FigureDataSet, name: str) -> dict[str, str]:
    return {"data_set_identifier": data_set.identifier, "column_name": data_set.column(name)}


def _dimension(field_id: str, data_set: FigureDataSet, name: str) -> dict[str, Any]:
    return {"categorical_dimension_field": {"field_id": field_id, "column": _ref(data_set, name)}}


def _sum(field_id: str, data_set: FigureDataSet, name: str) -> dict[str, Any]:
    """The SUM of a number column; ``ValueError`` for a column that is not a number."""
    kind = data_set.quicksight_type(name)
    if kind not in _NUMBERS:
        raise ValueError(f"{data_set.identifier}: column {name!r} is a {kind}, not a number to chart")
    return {
        "numerical_measure_field": {
            "field_id": field_id,
            "column": _ref(data_set, name),
            "aggregation_function": {"simple_numerical_aggregation": "SUM"},
        }
    }


def _title(text: str) -> dict[str, Any]:
    return {"visibility": "VISIBLE", "format_text": {"plain_text": text}}


# ----------------------------------------------------------------------------------------- visuals


@dataclass(frozen=True, slots=True)
class Visual:
    """One visual of the sheet and the data set (saved query) it reads."""

    visual_id: str
    data_set: FigureDataSet
    block: dict[str, Any]
    """The ``visuals`` element: ``{"bar_chart_visual": {...}}``."""


def _bars(
    visual_id: str,
    title: str,
    data_set: FigureDataSet,
    dimension: str,
    values: Sequence[str],
    *,
    orientation: str,
    sort: tuple[str, str],
) -> Visual:
    """A bar chart of the columns ``values`` (summed) by ``dimension``, sorted on ``sort`` (a field id
    suffix: the dimension or a value, and ``ASC`` or ``DESC``)."""
    fields = {column: f"{visual_id}.{column}" for column in (dimension, *values)}
    return Visual(
        visual_id,
        data_set,
        {
            "bar_chart_visual": {
                "visual_id": visual_id,
                "title": _title(title),
                "chart_configuration": {
                    "orientation": orientation,
                    "bars_arrangement": "CLUSTERED",
                    "field_wells": {
                        "bar_chart_aggregated_field_wells": {
                            "category": [_dimension(fields[dimension], data_set, dimension)],
                            "values": [_sum(fields[column], data_set, column) for column in values],
                        }
                    },
                    "sort_configuration": {
                        "category_sort": [{"field_sort": {"field_id": fields[sort[0]], "direction": sort[1]}}]
                    },
                },
            }
        },
    )


def _per_day(visual_id: str, title: str, name: str, values: Sequence[str]) -> Visual:
    """Bars per day of the saved query ``name``'s columns ``values``, oldest day first (one row per day:
    each bar is that row's value)."""
    return _bars(visual_id, title, _BY_NAME[name], "day", values, orientation="VERTICAL", sort=("day", "ASC"))


def _ranked(visual_id: str, title: str, name: str, dimension: str, values: Sequence[str]) -> Visual:
    """Horizontal bars of the saved query ``name``'s columns ``values`` by ``dimension``, the largest first
    value first (one row per ``dimension``)."""
    return _bars(
        visual_id, title, _BY_NAME[name], dimension, values, orientation="HORIZONTAL", sort=(values[0], "DESC")
    )


def visuals() -> tuple[Visual, ...]:
    """The visuals of the sheet, in the order of the saved queries, each on its query's result columns."""
    return (
        _per_day("uploads-per-day", "Uploads and uploaders per day", "uploads_per_day", ["uploads", "uploaders"]),
        _per_day("bytes-uploaded-per-day", "Bytes uploaded per day", "uploads_per_day", ["bytes_uploaded"]),
        _ranked("image-states", "Images uploaded, by what became of them", "image_states", "state", ["images"]),
        _ranked(
            "popular-categories",
            "Images per category (not deleted since)",
            "popular_categories",
            "category",
            ["images", "owners"],
        ),
        _ranked(
            "popular-labels", "Images per label (not deleted since)", "popular_labels", "label", ["images", "owners"]
        ),
        _per_day(
            "active-users-per-day",
            "Active users (anyone with an event) per day",
            "active_users",
            ["active_users", "events"],
        ),
        _per_day(
            "bytes-saved-per-day",
            "Bytes of the originals, of the compressed renditions and saved, per day (images not deleted since)",
            "bytes_saved",
            ["bytes_in", "bytes_out", "bytes_saved"],
        ),
        _per_day(
            "size-ratio-per-day", "Compressed size as a share of the original, per day", "bytes_saved", ["size_ratio"]
        ),
        _ranked("failures-by-code", "Failed images by reason code", "failures_by_code", "code", ["failures", "owners"]),
        _per_day(
            "views-and-searches-per-day", "Views and searches per day", "views_and_searches", ["views", "searches"]
        ),
    )


# -------------------------------------------------------------------------------------- definition


def definition(data_set_arns: Mapping[str, str]) -> dict[str, Any]:
    """The ``definition`` block of the analysis and of the dashboard: one sheet of :func:`visuals`, over
    the data sets of :data:`FIGURES` whose ARNs ``data_set_arns`` gives by identifier."""
    shown = visuals()
    # Two visuals side by side on QuickSight's 36-column grid.
    elements = [
        {"element_id": visual.visual_id, "element_type": "VISUAL", "column_span": 18, "row_span": 12}
        for visual in shown
    ]
    return {
        "data_set_identifiers_declarations": [
            {"identifier": figure.identifier, "data_set_arn": data_set_arns[figure.identifier]} for figure in FIGURES
        ],
        "sheets": [
            {
                "sheet_id": SHEET_ID,
                "name": "Usage",
                "title": "Uploads, images, categories, labels, users, savings, failures, views and searches",
                "visuals": [visual.block for visual in shown],
                "layouts": {"configuration": {"grid_layout": {"elements": elements}}},
            }
        ],
    }
