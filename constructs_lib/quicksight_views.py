"""What QuickSight shows of the analytics events: the data sets' columns and SQL, and the definition of
the analysis and the dashboard (the same figures as the saved queries of ``lambdas/analytics/queries/``).

Every column comes from the one definition of the event (``lambdas.domain.events.TABLE_COLUMNS``):
:data:`EVENT_DATA_SET_COLUMNS` are its scalar columns with their QuickSight types, and a visual names a
column through :meth:`DataSetView.column`, which refuses a name the data set does not have, so renaming
a field of the event fails the synthesis instead of leaving a broken visual.

The provider bindings type the ``definition`` block of ``aws_quicksight_analysis`` and
``aws_quicksight_dashboard`` as ``Any`` (it is too deeply nested for typed classes): :func:`definition`
builds it as a plain dict in Terraform's own snake_case names, passed as the resource's ``definition``
argument. The construct (``constructs_lib.analytics_lake``) creates the resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.domain.columns import TableColumn
from lambdas.domain.events import TABLE_COLUMNS, EventType

#: QuickSight input column types of the scalar columns (arrays and maps are left out of the data sets).
QUICKSIGHT_TYPES = {"string": "STRING", "int": "INTEGER", "bigint": "INTEGER"}

#: The events table's columns that QuickSight reads (arrays and maps have no QuickSight type), in order.
EVENT_DATA_SET_COLUMNS: tuple[TableColumn, ...] = tuple(
    column for column in TABLE_COLUMNS if column.glue in QUICKSIGHT_TYPES
)

#: The event's list of categories, which the categories data set unnests into one row per category.
CATEGORIES_COLUMN = next(column for column in TABLE_COLUMNS if column.name == "categories")
#: One category of a processed image: the element of :data:`CATEGORIES_COLUMN`.
CATEGORY_COLUMN = TableColumn(
    name="category",
    glue=CATEGORIES_COLUMN.glue.removeprefix("array<").removesuffix(">"),
    duckdb=CATEGORIES_COLUMN.duckdb.removesuffix("[]"),
    comment="One category of the processed image",
)

#: Each delivery of an event counts once, as in the saved queries (``lambdas.analytics.queries``).
_FIRST_DELIVERY = "row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS delivery"


def _quoted(columns: Sequence[TableColumn]) -> str:
    return ", ".join(f'"{column.name}"' for column in columns)


@dataclass(frozen=True, slots=True)
class DataSetView:
    """One QuickSight data set of the analysis: its identifier there, its columns and its SQL."""

    identifier: str
    """How the analysis and its visuals name the data set (``DataSetIdentifier``)."""
    name: str
    """The data set's name, after the deployment's prefix."""
    columns: tuple[TableColumn, ...]
    """Its columns, in order."""
    event_type: EventType | None = None
    """The only event type it holds; ``None``: every type. Default: ``None``."""
    unnested: tuple[TableColumn, TableColumn] | None = None
    """An array column and the column of its elements: one row per element. Default: ``None``."""

    def quicksight_type(self, column: TableColumn) -> str:
        """The QuickSight type of one of its columns."""
        return QUICKSIGHT_TYPES[column.glue]

    def column(self, name: str) -> TableColumn:
        """Its column ``name``; ``KeyError`` naming the data set when it has none."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.identifier}: no column {name!r} (columns: {', '.join(c.name for c in self.columns)})")

    def sql(self, relation: str) -> str:
        """The custom SQL of the data set over ``relation`` (the events table, ``"<database>"."events"``)."""
        # Built from the declared column names and the construct's own table name, never from input.
        once = f"(SELECT *, {_FIRST_DELIVERY} FROM {relation}) AS events"  # noqa: S608
        where = "WHERE delivery = 1"
        if self.event_type is not None:
            where += f" AND event_type = '{self.event_type.value}'"
        if self.unnested is None:
            return f"SELECT {_quoted(self.columns)} FROM {once} {where}"  # noqa: S608
        listed, element = self.unnested
        kept = [column for column in self.columns if column is not element]
        return (
            f'SELECT {_quoted(kept)}, listed."{element.name}" FROM {once} '  # noqa: S608
            f'CROSS JOIN UNNEST(events."{listed.name}") AS listed ("{element.name}") {where}'
        )


#: Every event once (the first delivery), with its scalar columns.
EVENTS_ONCE = DataSetView(
    identifier="events_once",
    name="analytics events (each once)",
    columns=EVENT_DATA_SET_COLUMNS,
)
#: One row per category of each processed image, each event once.
IMAGE_CATEGORIES = DataSetView(
    identifier="image_categories",
    name="categories of processed images",
    columns=(
        *(column for column in EVENT_DATA_SET_COLUMNS if column.name in ("event_id", "owner", "dt")),
        CATEGORY_COLUMN,
    ),
    event_type=EventType.PROCESSED,
    unnested=(CATEGORIES_COLUMN, CATEGORY_COLUMN),
)
#: The data sets that the analysis and the dashboard declare.
VIEWS: tuple[DataSetView, ...] = (EVENTS_ONCE, IMAGE_CATEGORIES)

SHEET_ID = "usage"


# ------------------------------------------------------------------------------------------ fields


def _ref(view: DataSetView, name: str) -> dict[str, str]:
    return {"data_set_identifier": view.identifier, "column_name": view.column(name).name}


def _dimension(field_id: str, view: DataSetView, name: str) -> dict[str, Any]:
    return {"categorical_dimension_field": {"field_id": field_id, "column": _ref(view, name)}}


def _measure(field_id: str, view: DataSetView, name: str, aggregation: str) -> dict[str, Any]:
    """A measure: ``SUM``/``MIN``/``MAX``... of a number, ``COUNT``/``DISTINCT_COUNT`` of a string."""
    if view.quicksight_type(view.column(name)) == "INTEGER":
        return {
            "numerical_measure_field": {
                "field_id": field_id,
                "column": _ref(view, name),
                "aggregation_function": {"simple_numerical_aggregation": aggregation},
            }
        }
    return {
        "categorical_measure_field": {
            "field_id": field_id,
            "column": _ref(view, name),
            "aggregation_function": aggregation,
        }
    }


def _calculated(field_id: str, view: DataSetView, expression: str, *names: str) -> dict[str, Any]:
    """A measure computed by ``expression`` over the columns ``names`` (``{0}``, ``{1}``... in it)."""
    columns = ["{" + view.column(name).name + "}" for name in names]
    return {"calculated_measure_field": {"field_id": field_id, "expression": expression.format(*columns)}}


def _title(text: str) -> dict[str, Any]:
    return {"visibility": "VISIBLE", "format_text": {"plain_text": text}}


# ----------------------------------------------------------------------------------------- visuals


@dataclass(frozen=True, slots=True)
class Visual:
    """One visual of the sheet and the event type it is filtered to (``None``: every event)."""

    visual_id: str
    block: dict[str, Any]
    """The ``visuals`` element: ``{"line_chart_visual": {...}}`` and the like."""
    event_type: EventType | None = None


def _per_day(visual_id: str, title: str, values: list[dict[str, Any]], event_type: EventType | None) -> Visual:
    """A line per value over the days (``dt``) of the deduplicated events, oldest day first."""
    day = f"{visual_id}.day"
    return Visual(
        visual_id,
        {
            "line_chart_visual": {
                "visual_id": visual_id,
                "title": _title(title),
                "chart_configuration": {
                    "type": "LINE",
                    "field_wells": {
                        "line_chart_aggregated_field_wells": {
                            "category": [_dimension(day, EVENTS_ONCE, "dt")],
                            "values": values,
                        }
                    },
                    "sort_configuration": {"category_sort": [{"field_sort": {"field_id": day, "direction": "ASC"}}]},
                },
            }
        },
        event_type,
    )


def _uploads() -> Visual:
    v = "uploads-per-day"
    return _per_day(
        v,
        "Uploads and uploaders per day",
        [
            _measure(f"{v}.uploads", EVENTS_ONCE, "event_id", "COUNT"),
            _measure(f"{v}.uploaders", EVENTS_ONCE, "owner", "DISTINCT_COUNT"),
        ],
        EventType.UPLOAD,
    )


def _bytes_uploaded() -> Visual:
    v = "bytes-uploaded-per-day"
    return _per_day(
        v, "Bytes uploaded per day", [_measure(f"{v}.bytes", EVENTS_ONCE, "bytes_in", "SUM")], EventType.UPLOAD
    )


def _bytes_saved() -> Visual:
    v = "bytes-saved-per-day"
    return _per_day(
        v,
        "Bytes of the originals, of the compressed renditions and saved, per day",
        [
            _measure(f"{v}.bytes-in", EVENTS_ONCE, "bytes_in", "SUM"),
            _measure(f"{v}.bytes-out", EVENTS_ONCE, "bytes_out", "SUM"),
            _calculated(f"{v}.bytes-saved", EVENTS_ONCE, "sum({0}) - sum({1})", "bytes_in", "bytes_out"),
        ],
        EventType.PROCESSED,
    )


def _size_ratio() -> Visual:
    v = "size-ratio-per-day"
    return _per_day(
        v,
        "Compressed size as a share of the original, per day",
        [_calculated(f"{v}.ratio", EVENTS_ONCE, "sum({0}) / sum({1})", "bytes_out", "bytes_in")],
        EventType.PROCESSED,
    )


def _active_users() -> Visual:
    v = "active-users-per-day"
    return _per_day(
        v,
        "Active users (anyone with an event) per day",
        [
            _measure(f"{v}.users", EVENTS_ONCE, "owner", "DISTINCT_COUNT"),
            _measure(f"{v}.events", EVENTS_ONCE, "event_id", "COUNT"),
        ],
        None,
    )


def _popular_categories() -> Visual:
    v = "popular-categories"
    images = f"{v}.images"
    return Visual(
        v,
        {
            "bar_chart_visual": {
                "visual_id": v,
                "title": _title("Processed images per category"),
                "chart_configuration": {
                    "orientation": "HORIZONTAL",
                    "field_wells": {
                        "bar_chart_aggregated_field_wells": {
                            "category": [_dimension(f"{v}.category", IMAGE_CATEGORIES, CATEGORY_COLUMN.name)],
                            "values": [
                                _measure(images, IMAGE_CATEGORIES, "event_id", "COUNT"),
                                _measure(f"{v}.owners", IMAGE_CATEGORIES, "owner", "DISTINCT_COUNT"),
                            ],
                        }
                    },
                    "sort_configuration": {
                        "category_sort": [{"field_sort": {"field_id": images, "direction": "DESC"}}]
                    },
                },
            }
        },
    )


def _failures() -> Visual:
    v = "failures-by-code"
    failures = f"{v}.failures"
    return Visual(
        v,
        {
            "table_visual": {
                "visual_id": v,
                "title": _title("Failed images by reason code"),
                "chart_configuration": {
                    "field_wells": {
                        "table_aggregated_field_wells": {
                            "group_by": [_dimension(f"{v}.code", EVENTS_ONCE, "code")],
                            "values": [
                                _measure(failures, EVENTS_ONCE, "event_id", "COUNT"),
                                _measure(f"{v}.owners", EVENTS_ONCE, "owner", "DISTINCT_COUNT"),
                            ],
                        }
                    },
                    "sort_configuration": {"row_sort": [{"field_sort": {"field_id": failures, "direction": "DESC"}}]},
                },
            }
        },
        EventType.FAILED,
    )


def visuals() -> tuple[Visual, ...]:
    """The visuals of the sheet, in the order of the saved queries' figures."""
    return (
        _uploads(),
        _bytes_uploaded(),
        _popular_categories(),
        _active_users(),
        _bytes_saved(),
        _size_ratio(),
        _failures(),
    )


# -------------------------------------------------------------------------------------- definition


def _filter_groups(shown: Sequence[Visual]) -> list[dict[str, Any]]:
    """One filter group per event type, on ``event_type``, scoped to the visuals of that type."""
    groups = []
    for event_type in EventType:
        ids = [visual.visual_id for visual in shown if visual.event_type is event_type]
        if not ids:
            continue
        groups.append(
            {
                "filter_group_id": f"only-{event_type.value}",
                "cross_dataset": "SINGLE_DATASET",
                "status": "ENABLED",
                "filters": [
                    {
                        "category_filter": {
                            "filter_id": f"only-{event_type.value}-events",
                            "column": _ref(EVENTS_ONCE, "event_type"),
                            "configuration": {
                                "filter_list_configuration": {
                                    "match_operator": "CONTAINS",
                                    "category_values": [event_type.value],
                                }
                            },
                        }
                    }
                ],
                "scope_configuration": {
                    "selected_sheets": {
                        "sheet_visual_scoping_configurations": [
                            {"sheet_id": SHEET_ID, "scope": "SELECTED_VISUALS", "visual_ids": ids}
                        ]
                    }
                },
            }
        )
    return groups


def definition(data_set_arns: Mapping[str, str]) -> dict[str, Any]:
    """The ``definition`` block of the analysis and of the dashboard: one sheet of :func:`visuals`, over
    the data sets of :data:`VIEWS` whose ARNs ``data_set_arns`` gives by identifier."""
    shown = visuals()
    # Two visuals side by side on QuickSight's 36-column grid.
    elements = [
        {"element_id": visual.visual_id, "element_type": "VISUAL", "column_span": 18, "row_span": 12}
        for visual in shown
    ]
    return {
        "data_set_identifiers_declarations": [
            {"identifier": view.identifier, "data_set_arn": data_set_arns[view.identifier]} for view in VIEWS
        ],
        "filter_groups": _filter_groups(shown),
        "sheets": [
            {
                "sheet_id": SHEET_ID,
                "name": "Usage",
                "title": "Uploads, categories, users, savings and failures",
                "visuals": [visual.block for visual in shown],
                "layouts": {"configuration": {"grid_layout": {"elements": elements}}},
            }
        ],
    }
