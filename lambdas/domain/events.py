"""The analytics event: one schema for everything the lake counts, written through the ``EventSink`` port.

One event is one flat JSON object (one log line in AWS, one line of a JSONL file locally)::

    {"schema": 1, "event_id": "img-1:processed", "event_type": "processed",
     "occurred_at": "2026-01-31T12:00:00.000000Z", "owner": "alice", "image_id": "img-1",
     "format": "jpeg", "bytes_in": 2400000, "bytes_out": 310000, "categories": ["Animals and Pets"],
     "labels": ["Cat", "Animal"], "code": null, "duration_ms": 812, "detail": {}}

``event_id`` is deterministic for pipeline events (``<image_id>:<event_type>``), so that a consumer can
drop the duplicate an at-least-once delivery may still produce. ``detail`` holds small string/number
extras (a search's filters, a step name).

The fields of :class:`AnalyticsEvent` are the one definition of that shape: :data:`EVENT_FIELDS`, read
from their annotations (``lambdas.domain.columns``), gives the JSON form (``to_dict``), its validator
(``lambdas.analytics.schema``), the Glue table, the Spark schema and the QuickSight columns of the lake
(``constructs_lib.analytics_lake``) and the DuckDB columns of ``imgmgr stats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from lambdas.domain.columns import (
    COUNT,
    MOMENT,
    SCALARS,
    TEXT,
    TEXTS,
    Column,
    SchemaField,
    TableColumn,
    choice,
    columns_of,
    version,
)

SCHEMA_VERSION = 1


class EventType(StrEnum):
    """What happened."""

    UPLOAD = "upload"
    PROCESSED = "processed"
    FAILED = "failed"
    VIEW = "view"
    SEARCH = "search"
    DELETE = "delete"


def _listed(kind: type[StrEnum]) -> str:
    """The values of ``kind`` as ``"a, b or c"`` (a column comment that follows the enumeration)."""
    *first, last = (member.value for member in kind)
    return f"{', '.join(first)} or {last}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsEvent:
    """One analytics event; see the module docstring for the JSON form.

    The fields, in this order, are the keys of the JSON form and the columns of the tables that read it
    (:data:`EVENT_FIELDS`): each annotation gives the Python type, whether it may be null, the value type
    (its JSON check, Glue and DuckDB types) and the column's comment.
    """

    schema: Annotated[int, Column(version(SCHEMA_VERSION), "Version of the event schema")] = field(
        default=SCHEMA_VERSION, init=False
    )
    event_id: Annotated[str, Column(TEXT, "Unique per event; '<image_id>:<event_type>' for pipeline events")]
    event_type: Annotated[EventType, Column(choice(EventType), _listed(EventType))]
    occurred_at: Annotated[datetime, Column(MOMENT, "UTC time, 'YYYY-MM-DDTHH:MM:SS.ffffffZ'")]
    owner: Annotated[str, Column(TEXT, "Identity the event belongs to")]
    image_id: Annotated[str | None, Column(TEXT, "Image concerned, if any")] = None
    format: Annotated[str | None, Column(TEXT, "Sniffed image format")] = None
    bytes_in: Annotated[int | None, Column(COUNT, "Bytes of the original")] = None
    bytes_out: Annotated[int | None, Column(COUNT, "Bytes of the compressed rendition (or freed by a delete)")] = None
    categories: Annotated[tuple[str, ...], Column(TEXTS, "Categories of the image")] = ()
    labels: Annotated[tuple[str, ...], Column(TEXTS, "Labels of the image")] = ()
    code: Annotated[str | None, Column(TEXT, "Failure reason code")] = None
    duration_ms: Annotated[int | None, Column(COUNT, "Processing time")] = None
    detail: Annotated[
        dict[str, str | int | float | bool], Column(SCALARS, "Small extras (a search's filters, a failed step)")
    ] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form, with the schema version first."""
        return {item.name: item.dump(getattr(self, item.name)) for item in EVENT_FIELDS}


EVENT_FIELDS: Final[tuple[SchemaField, ...]] = columns_of(AnalyticsEvent)
"""The fields of the JSON form (and columns of the events tables), in order."""
DAY_PARTITION: Final = TableColumn(name="dt", glue="string", duckdb="VARCHAR", comment="UTC day")
"""The partition column of the events tables: the ``dt=YYYY-MM-DD`` directory of the files, not a field."""
TABLE_COLUMNS: Final[tuple[TableColumn, ...]] = (*(item.column for item in EVENT_FIELDS), DAY_PARTITION)
"""Every column of the events tables: the fields, in order, then the partition."""


def pipeline_event_id(image_id: str, event_type: EventType) -> str:
    """Deterministic id of a pipeline event: one per image and type."""
    return f"{image_id}:{event_type.value}"
