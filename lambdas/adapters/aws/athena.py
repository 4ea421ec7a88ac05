"""``AnalyticsEngine`` over Amazon Athena: the saved queries, scoped to an owner and a period, in the
analytics workgroup.

The workgroup enforces its result location, encryption and bytes-scanned cutoff; a query that passes the
cutoff fails there. Each request starts every query it needs at once and waits for them within
``timeout_seconds`` (API Gateway answers 504 after 29 s), asks Athena to reuse a result of the same query
from the last ``reuse_minutes`` (a page loaded again scans nothing), and reads the rows typed as
Athena reports them. The values go in as ``ExecutionParameters``: Athena substitutes each ``?`` with a
literal, so text is quoted here, with its quotes doubled.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import translate
from lambdas.analytics.errors import EventsUnreadableError
from lambdas.analytics.figures import Period, QueryResult
from lambdas.analytics.queries import SavedQuery
from lambdas.domain.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

#: Athena's column types read as integers and as floating-point numbers; others stay text.
_INTEGERS = frozenset({"tinyint", "smallint", "integer", "int", "bigint"})
_FLOATS = frozenset({"double", "float", "real", "decimal"})
#: A query's states once it no longer runs.
_FINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
#: Far before any period, far after: the ends of "every day".
_EVERY_DAY = ("0000-01-01", "9999-12-31")


class AthenaAnalytics:
    """Runs saved queries in ``workgroup`` over ``"<database>"."<table>"``."""

    def __init__(
        self,
        *,
        workgroup: str,
        database: str,
        table: str,
        client: AthenaClient,
        timeout_seconds: float = 20.0,
        reuse_minutes: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._workgroup = workgroup
        self._database = database
        self._relation = f'"{database}"."{table}"'
        self._client = client
        self._timeout = timeout_seconds
        self._reuse = reuse_minutes
        self._sleep = sleep
        self._monotonic = monotonic

    def version(self) -> Hashable:
        """Constant: Athena cannot tell cheaply whether events arrived, so answers live their time to live."""
        return None

    def run(self, queries: Sequence[SavedQuery], period: Period | None, owner: str | None) -> list[QueryResult]:
        """Each query over ``period`` (None: every day) of ``owner`` (None: everyone's). Raises
        ``EventsUnreadableError`` for a query that fails (the cutoff, a bad file) or does not finish in time,
        and the translated AWS error (throttling, access denied...) for a call that fails."""
        first, last = period.days if period is not None else _EVERY_DAY
        started = {}
        for query in queries:
            sql, params = query.scoped(self._relation, first_day=first, last_day=last, owner=owner)
            started[query.name] = self._start(sql, [_literal(value) for value in params])
        self._wait(started)
        return [self._results(query, started[query.name]) for query in queries]

    def _start(self, sql: str, params: list[str]) -> str:
        try:
            answer = self._client.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self._database},
                WorkGroup=self._workgroup,
                ExecutionParameters=params,
                ResultReuseConfiguration={
                    "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": self._reuse}
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "athena:StartQueryExecution") from exc
        return answer["QueryExecutionId"]

    def _wait(self, started: dict[str, str]) -> None:
        deadline = self._monotonic() + self._timeout
        pending = dict(started)
        pause = 0.1
        while pending:
            for name, execution_id in list(pending.items()):
                try:
                    status = self._client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
                except (ClientError, BotoCoreError) as exc:
                    raise translate(exc, "athena:GetQueryExecution") from exc
                state = status["State"]
                if state == "SUCCEEDED":
                    del pending[name]
                elif state in _FINAL:
                    self._stop(pending.values())
                    reason = status.get("StateChangeReason", state.lower())
                    raise EventsUnreadableError(f"the {name} query {state.lower()}: {reason}")
            if not pending:
                return
            if self._monotonic() + pause > deadline:
                self._stop(pending.values())
                raise DependencyError(f"Athena did not answer {', '.join(pending)} within {self._timeout:.0f} s")
            self._sleep(pause)
            pause = min(pause * 2, 1.0)

    def _stop(self, execution_ids: Any) -> None:
        """Best effort: a query no one waits for should not scan on."""
        for execution_id in execution_ids:
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.stop_query_execution(QueryExecutionId=execution_id)

    def _results(self, query: SavedQuery, execution_id: str) -> QueryResult:
        columns: tuple[str, ...] = ()
        kinds: tuple[str, ...] = ()
        rows: list[tuple[Any, ...]] = []
        try:
            pages = self._client.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id)
            for index, page in enumerate(pages):
                result_set = page["ResultSet"]
                if index == 0:
                    info = result_set["ResultSetMetadata"]["ColumnInfo"]
                    columns = tuple(column["Name"] for column in info)
                    kinds = tuple(column["Type"].lower() for column in info)
                data = result_set.get("Rows", [])
                if index == 0 and data:
                    data = data[1:]  # the first row of the first page repeats the column names
                rows.extend(
                    tuple(_value(cell, kind) for cell, kind in zip(row["Data"], kinds, strict=True)) for row in data
                )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "athena:GetQueryResults") from exc
        return QueryResult(query=query, columns=columns, rows=tuple(rows))


def _literal(value: str) -> str:
    """``value`` as a Trino string literal."""
    return "'" + value.replace("'", "''") + "'"


def _value(cell: Mapping[str, Any], kind: str) -> Any:
    """One cell as the type Athena reports for its column (no ``VarCharValue``: NULL)."""
    text = cell.get("VarCharValue")
    if text is None:
        return None
    if kind in _INTEGERS:
        return int(text)
    if kind in _FLOATS:
        return float(text)
    return text
