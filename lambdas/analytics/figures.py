"""The analytics figures of a period: the saved queries scoped to one owner's days, answered by an engine
(DuckDB over the local events files, Athena over the lake) and cached, so that a page loaded again does
not scan again.

A figure is defined once, by its saved query (``lambdas.analytics.queries``); the API, the web page's
dashboard, ``imgmgr stats``, the lake's named queries and QuickSight all show what that query answers.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from lambdas.analytics.queries import NAMES, SavedQuery, load

#: The period a request asks for when it names none: the last 30 days, today included.
DEFAULT_DAYS = 30
#: The longest period a request may ask for (bounds what one request scans).
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    """UTC days from ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def of(cls, first: date | None, last: date | None, *, today: date) -> Period:
        """The period a request names; the missing ends default to the last :data:`DEFAULT_DAYS` days up to
        today. ``ValueError`` (the message names the parameter) when it is reversed or too long."""
        last = last or (today if first is None else min(today, first + timedelta(days=DEFAULT_DAYS - 1)))
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise ValueError(f"from: {first.isoformat()} is after to: {last.isoformat()}")
        if (last - first).days + 1 > MAX_DAYS:
            raise ValueError(f"from: a period is at most {MAX_DAYS} days, this one {(last - first).days + 1}")
        return cls(first, last)

    @property
    def days(self) -> tuple[str, str]:
        """The ends as ``dt`` partition values (``YYYY-MM-DD``)."""
        return self.first.isoformat(), self.last.isoformat()


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The rows of one saved query, with its column names."""

    query: SavedQuery
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        """The rows as objects keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class AnalyticsEngine(Protocol):
    """Runs saved queries over the events of a period (``owner`` None: everyone's)."""

    def run(self, queries: Sequence[SavedQuery], period: Period | None, owner: str | None) -> list[QueryResult]:
        """Each query over the events of ``period`` (None: every day) of ``owner`` (None: everyone's)."""
        ...

    def version(self) -> Hashable:
        """What changes whenever the events change (cached answers of another version are stale), or a
        constant where that cannot be known cheaply (answers then live their time to live)."""
        ...


class CachedFigures:
    """The figures of ``engine``, each answer kept ``ttl_seconds`` and while the engine's ``version`` stays
    (at most ``max_entries`` answers, the least recently used dropped first); thread-safe."""

    def __init__(
        self,
        engine: AnalyticsEngine,
        *,
        ttl_seconds: float = 60.0,
        max_entries: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._answers: OrderedDict[tuple[Hashable, str | None, Period, str], tuple[float, QueryResult]] = OrderedDict()

    def figures(self, period: Period, owner: str | None, names: Sequence[str] = NAMES) -> list[QueryResult]:
        """The answers of ``names`` (saved query names, ``ValueError`` for another) for ``period`` and
        ``owner``, from the cache where fresh; the others run in one call of the engine."""
        queries = [load(name) for name in names]
        now = self._monotonic()
        version = self._engine.version()
        found: dict[str, QueryResult] = {}
        with self._lock:
            for query in queries:
                entry = self._answers.get((version, owner, period, query.name))
                if entry is not None and now - entry[0] < self._ttl:
                    self._answers.move_to_end((version, owner, period, query.name))
                    found[query.name] = entry[1]
        missing = [query for query in queries if query.name not in found]
        if missing:
            for result in self._engine.run(missing, period, owner):
                found[result.query.name] = result
            with self._lock:
                for query in missing:
                    key = (version, owner, period, query.name)
                    self._answers[key] = (now, found[query.name])
                    self._answers.move_to_end(key)
                while len(self._answers) > self._max:
                    self._answers.popitem(last=False)
        return [found[query.name] for query in queries]
