"""The saved queries: plain SQL in the common subset of Trino (Athena) and DuckDB.

Each ``<name>.sql`` starts with a ``-- `` comment line (its description) and reads the events of its
period through one placeholder, :data:`PLACEHOLDER`; a query that must know what happened later (an image
deleted since) reads every event through :data:`ALL_EVENTS` too. Both stand for the events relation: the
Glue table in Athena (``"<database>"."events"``), a view over the local JSON lines in DuckDB. The lake's
saved (named) queries read every day of the deployment (:meth:`SavedQuery.render`); the API's figures read
one owner's days (:meth:`SavedQuery.scoped`, with positional ``?`` parameters, which Athena's
``ExecutionParameters`` and DuckDB both take). Every query counts an event once even when an at-least-once
delivery logged it twice (``row_number() OVER (PARTITION BY event_id)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Stands for the events of the period in every query.
PLACEHOLDER = "{events}"
#: Stands for every event of the scope, whatever the day (optional).
ALL_EVENTS = "{all_events}"

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
    """One saved query: its name (the file name), its description (the first comment) and its SQL."""

    name: str
    description: str
    sql: str

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


def load(name: str) -> SavedQuery:
    """The saved query ``name``; ``ValueError`` for a name that is not one of :data:`NAMES`."""
    if name not in NAMES:
        raise ValueError(f"name: {name!r} is not a saved query (one of {', '.join(NAMES)})")
    sql = (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8").strip()
    first = sql.splitlines()[0]
    if not first.startswith("-- ") or sql.count(PLACEHOLDER) != 1:
        raise ValueError(f"{name}.sql: must start with a '-- ' description and read {PLACEHOLDER} once")
    return SavedQuery(name=name, description=first.removeprefix("-- ").strip(), sql=sql)


def saved_queries() -> tuple[SavedQuery, ...]:
    """Every saved query, in :data:`NAMES` order."""
    return tuple(load(name) for name in NAMES)
