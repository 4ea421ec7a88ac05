"""The analytics engine of the local runtime: DuckDB over the events files.

The local sink writes events as JSON lines under ``<data>/events/dt=YYYY-MM-DD/events.jsonl``
(``imgmgr.adapters.events``), the layout the exporter writes to ``analytics/events/`` in AWS (there as
``dt=*/*.json.gz``; DuckDB reads both). The saved queries run here as Athena runs them, over a view typed
like the Glue table (its columns derived from the event's fields, ``lambdas.domain.events``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lambdas.analytics.errors import EventsUnreadableError
from lambdas.analytics.figures import Period, QueryResult
from lambdas.analytics.queries import SavedQuery
from lambdas.domain.events import DAY_PARTITION, EVENT_FIELDS, TABLE_COLUMNS

if TYPE_CHECKING:
    import duckdb

#: Name of the relation the queries read in DuckDB.
EVENTS_VIEW = "events"

#: The events' DuckDB types by column; ``dt`` comes from the directory name, a string like the projected
#: partition's.
EVENT_COLUMNS = {item.name: item.type.duckdb for item in EVENT_FIELDS}

#: The local sink's files.
LOCAL_PATTERN = "dt=*/events.jsonl"
#: The exporter's files in the lake.
LAKE_PATTERN = "dt=*/*.json.gz"


def connect(events_dir: str | os.PathLike[str], pattern: str = LOCAL_PATTERN) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose view :data:`EVENTS_VIEW` holds the events of the files ``pattern`` matches
    under ``events_dir`` (maybe none)."""
    import duckdb  # imported when used: the CLI's other commands start faster without it

    connection = duckdb.connect(":memory:")
    files = sorted(Path(events_dir).glob(pattern))
    if not files:
        columns = ", ".join(f'"{column.name}" {column.duckdb}' for column in TABLE_COLUMNS)
        connection.execute(f"CREATE TABLE {EVENTS_VIEW} ({columns})")
        return connection
    # A view cannot take prepared parameters: the file names and types go in as quoted literals.
    paths = ", ".join(_literal(str(path)) for path in files)
    columns = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in EVENT_COLUMNS.items())
    source = (
        f"read_json([{paths}], format = 'newline_delimited', hive_partitioning = true, "
        f"hive_types = {{{_literal(DAY_PARTITION.name)}: {_literal(DAY_PARTITION.duckdb)}}}, columns = {{{columns}}})"
    )
    connection.execute(f"CREATE VIEW {EVENTS_VIEW} AS SELECT * FROM {source}")  # noqa: S608 (quoted literals)
    return connection


def _literal(text: str) -> str:
    """A SQL string literal of ``text``."""
    return "'" + text.replace("'", "''") + "'"


class DuckDbAnalytics:
    """Runs the saved queries over the events files under ``events_dir`` (``pattern``: whose)."""

    def __init__(self, events_dir: str | os.PathLike[str], *, pattern: str = LOCAL_PATTERN) -> None:
        self._dir = Path(events_dir)
        self._pattern = pattern

    def version(self) -> tuple[tuple[str, int, int], ...]:
        """Name, size and modification time of every events file: any new event changes it."""
        found = []
        for path in sorted(self._dir.glob(self._pattern)):
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            found.append((str(path.relative_to(self._dir)), info.st_size, info.st_mtime_ns))
        return tuple(found)

    def run(self, queries: Sequence[SavedQuery], period: Period | None, owner: str | None) -> list[QueryResult]:
        """Each query over the events of ``period`` (None: every day) and ``owner`` (None: everyone's).
        :class:`EventsUnreadableError` when an events file cannot be read."""
        import duckdb

        connection = connect(self._dir, self._pattern)
        try:
            results = []
            for query in queries:
                params: list[str] = []
                if period is None and owner is None:
                    sql = query.render(EVENTS_VIEW)
                else:
                    first, last = period.days if period is not None else ("0000-01-01", "9999-12-31")
                    sql, params = query.scoped(EVENTS_VIEW, first_day=first, last_day=last, owner=owner)
                cursor = connection.execute(sql, params)
                columns = tuple(column[0] for column in cursor.description or ())
                results.append(QueryResult(query=query, columns=columns, rows=tuple(cursor.fetchall())))
            return results
        except duckdb.Error as exc:
            raise EventsUnreadableError(f"cannot read the events: {exc}") from None
        finally:
            connection.close()
