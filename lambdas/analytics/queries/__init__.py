"""The saved queries: plain SQL in the common subset of Trino (Athena) and DuckDB.

Each ``<name>.sql`` starts with a ``-- `` comment line (its description) and reads the events through
one placeholder, :data:`PLACEHOLDER`, replaced by the events relation: the Glue table in Athena
(``"<database>"."events"``), a view over the local JSON lines in DuckDB. Every query counts an event
once even when an at-least-once delivery logged it twice (``row_number() OVER (PARTITION BY event_id)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Stands for the events relation in every query.
PLACEHOLDER = "{events}"

#: The saved queries, in the order they are shown.
NAMES = ("uploads_per_day", "popular_categories", "active_users", "bytes_saved", "failures_by_code")

QUERIES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """One saved query: its name (the file name), its description (the first comment) and its SQL."""

    name: str
    description: str
    sql: str

    def render(self, relation: str) -> str:
        """The SQL reading ``relation`` (a table name or a table function call) as the events."""
        return self.sql.replace(PLACEHOLDER, relation)


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
