"""``imgmgr stats``: the saved queries of the analytics lake, run by DuckDB over the local events.

The local runtime writes events as JSON lines under ``<data>/events/dt=YYYY-MM-DD/events.jsonl``
(``imgmgr.adapters.events``), the layout the exporter writes to ``analytics/events/`` in AWS.
:func:`run_queries` reads them with the same SQL files that Athena runs (``lambdas.analytics.queries``),
typed like the Glue table, and :func:`render` prints each result as a rich table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lambdas.analytics.queries import NAMES, SavedQuery, load
from lambdas.domain.events import DAY_PARTITION, EVENT_FIELDS, TABLE_COLUMNS

if TYPE_CHECKING:
    import duckdb

#: Name of the relation the queries read in DuckDB.
EVENTS_VIEW = "events"

#: The events' DuckDB types by column, derived from the event's fields (``lambdas.domain.events``) like
#: the Glue table's; ``dt`` comes from the directory name, as a string like the projected partition.
EVENT_COLUMNS = {item.name: item.type.duckdb for item in EVENT_FIELDS}


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The rows of one saved query, with its column names."""

    query: SavedQuery
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


#: The local sink's files; the exporter's in S3 are ``dt=*/*.json.gz`` (DuckDB reads both, gzip or not).
LOCAL_PATTERN = "dt=*/events.jsonl"


def connect(events_dir: str | os.PathLike[str], pattern: str = LOCAL_PATTERN) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose view :data:`EVENTS_VIEW` holds the events of the files ``pattern`` matches
    under ``events_dir`` (maybe none)."""
    import duckdb  # imported when used: every other CLI command starts faster without it

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


def run_queries(
    events_dir: str | os.PathLike[str], names: tuple[str, ...] = NAMES, *, pattern: str = LOCAL_PATTERN
) -> list[QueryResult]:
    """Each named saved query run over the events of the files ``pattern`` matches under ``events_dir``."""
    connection = connect(events_dir, pattern)
    try:
        results = []
        for name in names:
            query = load(name)
            cursor = connection.execute(query.render(EVENTS_VIEW))
            columns = tuple(column[0] for column in cursor.description or ())
            results.append(QueryResult(query=query, columns=columns, rows=tuple(cursor.fetchall())))
        return results
    finally:
        connection.close()


def render(results: list[QueryResult], console: Console) -> None:
    """One rich table per query, titled with its description."""
    for result in results:
        table = Table(title=result.query.description, title_justify="left")
        for column in result.columns:
            table.add_column(column.replace("_", " "), justify="left" if column in _TEXT_COLUMNS else "right")
        for row in result.rows:
            table.add_row(*(_cell(value) for value in row))
        if not result.rows:
            console.print(f"[bold]{result.query.description}[/bold]\n  no events yet")
        else:
            console.print(table)


_TEXT_COLUMNS = frozenset({"day", "category", "code", "last_seen"})


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def show(
    events_dir: str | os.PathLike[str],
    *,
    names: tuple[str, ...] = (),
    as_json: bool = False,
    console: Console | None = None,
    errors: Console | None = None,
) -> int:
    """What ``imgmgr stats`` does: run ``names`` (default: every saved query) and print tables or JSON.

    Returns the exit status: 0; 1 when an events file cannot be read; 2 for an unknown query name (both
    said on ``errors``).
    """
    import duckdb

    console = console or Console()
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        (errors or Console(stderr=True)).print(
            f"unknown query {', '.join(unknown)}; saved queries: {', '.join(NAMES)}", markup=False, highlight=False
        )
        return 2
    try:
        results = run_queries(events_dir, names or NAMES)
    except duckdb.Error as exc:
        # A line that is not an event (a file edited by hand, a disk that filled up): say which, count nothing.
        (errors or Console(stderr=True)).print(f"cannot read the events: {exc}", markup=False, highlight=False)
        return 1
    if as_json:
        document = {
            result.query.name: [dict(zip(result.columns, row, strict=True)) for row in result.rows]
            for result in results
        }
        console.print_json(json.dumps(document))
    else:
        render(results, console)
    return 0


def stats_command(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="IMGMGR_DATA_DIR", help="Data directory. Default: .data in the current directory."
        ),
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option("--query", "-q", help=f"Only this saved query (repeatable): {', '.join(NAMES)}."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Usage analytics of the local system: the analytics lake's saved queries, run by DuckDB."""
    from imgmgr.config import DataDir

    status = show(DataDir.resolve(data_dir).events, names=tuple(query or ()), as_json=as_json)
    if status:
        raise typer.Exit(status)
