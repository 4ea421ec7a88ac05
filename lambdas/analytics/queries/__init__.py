"""The saved queries: plain SQL in the common subset of Trino (Athena) and DuckDB.

Each ``<name>.sql`` starts with a ``-- `` comment line (its description), then declares the columns of
its result, by name and Trino (Athena) type, on a second comment line (``-- columns: day varchar, uploads
bigint``; :data:`COLUMNS_PREFIX`): what a reader of the result, such as a QuickSight data set, is told to
expect (a test runs every query in DuckDB and compares; DuckDB's HUGEINT sums are Trino's bigint ones).
It reads the events of its period through one placeholder, :data:`PLACEHOLDER`; a query that must know
what happened later (an image deleted since) reads every event through :data:`ALL_EVENTS` too. Both stand for the events relation: the
Glue table in Athena (``"<database>"."events"``), a view over the local JSON lines in DuckDB. The lake's
saved (named) queries read every day of the deployment (:meth:`SavedQuery.render`); the API's figures read
one owner's days (:meth:`SavedQuery.scoped`, with positional ``?`` parameters, which Athena's
``ExecutionParameters`` and DuckDB both take). Every query counts an event once even when an at-least-once
delivery logged it twice (``row_number() OVER (PARTITION BY event_id)``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

#: Stands for the events of the period in every query.
PLACEHOLDER = "{events}"
#: Stands for every event of the scope, whatever the day (optional).
ALL_EVENTS = "{all_events}"

#: Starts the second line of a query file: the declaration of its result's columns.
COLUMNS_PREFIX = "-- columns: "
#: The Trino (Athena) type names a result column may be declared with.
RESULT_TYPES = ("varchar", "bigint", "integer", "double")

_COLUMN = re.compile(r"^(?P<name>[a-z][a-z0-9_]*) (?P<type>[a-z]+)$")

#: The saved queries, in the order they are shown.
NAMES = (
    "uploads_per_day",
    "image_states",
    "popular_categories",
    "popular_labels",
    "active_users",
    "bytes_saved",
    "failures_by_code",
    "views_and_searches",
)

QUERIES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """One saved query: its name (the file name), its description (the first comment), the columns of its
    result (the second comment) and its SQL (the description comment and the statement)."""

    name: str
    description: str
    sql: str
    columns: tuple[tuple[str, str], ...]
    """The result's columns in order: name and Trino type (one of :data:`RESULT_TYPES`)."""

    def render(self, relation: str) -> str:
        """The SQL reading ``relation`` (a table name or a table function call) as every event."""
        return self.sql.replace(PLACEHOLDER, relation).replace(ALL_EVENTS, relation)

    def scoped(self, relation: str, *, first_day: str, last_day: str, owner: str | None) -> tuple[str, list[str]]:
        """The SQL reading the events of ``relation`` from ``first_day`` to ``last_day`` (``YYYY-MM-DD``,
        inclusive, on the ``dt`` partition) of ``owner`` (None: everyone), and its positional parameters."""
        mine = " AND owner = ?" if owner is not None else ""
        pieces = re.split(r"(\{events\}|\{all_events\})", self.sql)
        params: list[str] = []
        sql = []
        for piece in pieces:
            if piece == PLACEHOLDER:
                sql.append(f"(SELECT * FROM {relation} WHERE dt BETWEEN ? AND ?{mine})")  # noqa: S608 (values are parameters)
                params += [first_day, last_day, *([owner] if owner is not None else [])]
            elif piece == ALL_EVENTS:
                sql.append(f"(SELECT * FROM {relation}{' WHERE owner = ?' if owner is not None else ''})")  # noqa: S608
                params += [owner] if owner is not None else []
            else:
                sql.append(piece)
        return "".join(sql), params


@functools.cache
def load(name: str) -> SavedQuery:
    """The saved query ``name`` (its file read once per process: every analytics request asks for them);
    ``ValueError`` for a name that is not one of :data:`NAMES`."""
    if name not in NAMES:
        raise ValueError(f"name: {name!r} is not a saved query (one of {', '.join(NAMES)})")
    return parse(name, (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def parse(name: str, text: str) -> SavedQuery:
    """The saved query ``name`` whose file holds ``text``; ``ValueError`` naming the file when it lacks the
    description, the columns' declaration or its one :data:`PLACEHOLDER`."""
    lines = text.strip().splitlines()
    first, declared = [*lines, "", ""][:2]
    # The declaration is kept apart from the SQL: Athena's named queries show the description and the statement.
    sql = "\n".join([first, *lines[2:]]).strip()
    if not first.startswith("-- ") or first.startswith(COLUMNS_PREFIX):
        raise ValueError(f"{name}.sql: must start with a '-- ' description and read {PLACEHOLDER} once")
    columns = _columns(name, declared)
    if sql.count(PLACEHOLDER) != 1:
        raise ValueError(f"{name}.sql: must start with a '-- ' description and read {PLACEHOLDER} once")
    return SavedQuery(name=name, description=first.removeprefix("-- ").strip(), sql=sql, columns=columns)


def _columns(name: str, declared: str) -> tuple[tuple[str, str], ...]:
    """The columns the second line of ``name``.sql declares; ``ValueError`` naming the file when it does not
    declare them as ``-- columns: <name> <type>, ...`` with distinct names and types of :data:`RESULT_TYPES`."""
    usage = f"{name}.sql: line 2 must declare the result's columns ('{COLUMNS_PREFIX}day varchar, uploads bigint')"
    if not declared.startswith(COLUMNS_PREFIX):
        raise ValueError(usage)
    columns = []
    for item in declared.removeprefix(COLUMNS_PREFIX).split(","):
        match = _COLUMN.match(item.strip())
        if match is None:
            raise ValueError(f"{usage}, not {item.strip()!r}")
        if match["type"] not in RESULT_TYPES:
            raise ValueError(
                f"{name}.sql: column {match['name']!r}: type {match['type']!r} is not one of {RESULT_TYPES}"
            )
        columns.append((match["name"], match["type"]))
    names = [column for column, _ in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}.sql: a column is declared twice ({', '.join(names)})")
    return tuple(columns)


def saved_queries() -> tuple[SavedQuery, ...]:
    """Every saved query, in :data:`NAMES` order."""
    return tuple(load(name) for name in NAMES)
