"""The Athena engine of the usage figures: what it asks Athena (scoped SQL, quoted parameters, the
workgroup, result reuse), how it waits (bounded, stopping what it abandons) and how it reads the rows."""

from __future__ import annotations

from datetime import date

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdas.adapters.aws.athena import AthenaAnalytics
from lambdas.analytics.errors import EventsUnreadableError
from lambdas.analytics.figures import Period
from lambdas.analytics.queries import load
from lambdas.domain.errors import DependencyError, TransientError

PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30))
#: An owner whose id holds a quote: it must reach Athena as one quoted literal.
OWNER = "o'brien"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def athena():
    client = boto3.client("athena", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _engine(client, clock: FakeTime, **overrides) -> AthenaAnalytics:
    return AthenaAnalytics(
        workgroup="imgmgr-analytics",
        database="imgmgr_analytics",
        table="events",
        client=client,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        **overrides,
    )


def _execution(state: str, reason: str | None = None) -> dict:
    status = {"State": state, **({"StateChangeReason": reason} if reason else {})}
    return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}}


def test_a_figure_is_asked_scoped_quoted_and_read_typed(athena):
    client, stubber = athena
    query = load("uploads_per_day")
    sql, params = query.scoped(
        '"imgmgr_analytics"."events"', first_day="2026-11-01", last_day="2026-11-30", owner=OWNER
    )
    # GIVEN Athena that runs the query a while, then answers two days
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": "imgmgr_analytics"},
            "WorkGroup": "imgmgr-analytics",
            "ExecutionParameters": ["'2026-11-01'", "'2026-11-30'", "'o''brien'"],
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 5}},
        },
    )
    stubber.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q-1"})
    stubber.add_response("get_query_execution", _execution("SUCCEEDED"), {"QueryExecutionId": "q-1"})
    columns = [("day", "varchar"), ("uploads", "bigint"), ("uploaders", "bigint"), ("bytes_uploaded", "bigint")]
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    stubber.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [
                    header,
                    {"Data": [{"VarCharValue": "2026-11-02"}, {"VarCharValue": "3"}, {"VarCharValue": "1"}, {}]},
                    {"Data": [{"VarCharValue": v} for v in ("2026-11-05", "1", "1", "4096")]},
                ],
                "ResultSetMetadata": {
                    "ColumnInfo": [{"Name": name, "Type": kind} for name, kind in columns],
                },
            }
        },
        {"QueryExecutionId": "q-1"},
    )
    clock = FakeTime()
    # WHEN the figure is asked for
    [result] = _engine(client, clock).run([query], PERIOD, OWNER)
    # THEN the rows come typed (a NULL as None), the header row left out, after one short wait
    assert result.columns == ("day", "uploads", "uploaders", "bytes_uploaded")
    assert result.rows == (("2026-11-02", 3, 1, None), ("2026-11-05", 1, 1, 4096))
    assert clock.slept == [0.1]
    assert params.count(OWNER) == 1


def test_a_query_that_fails_in_athena_is_unreadable_events_and_the_others_are_stopped(athena):
    client, stubber = athena
    queries = [load("uploads_per_day"), load("image_states")]
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, None)
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-2"}, None)
    # GIVEN the first query cut off by the workgroup's bytes-scanned limit
    stubber.add_response(
        "get_query_execution", _execution("FAILED", "Query exhausted resources: bytes scanned limit"), None
    )
    stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-2"})
    # WHEN the figures are asked for THEN the failure names the figure and Athena's reason
    with pytest.raises(EventsUnreadableError, match="the uploads_per_day query failed: Query exhausted resources"):
        _engine(client, FakeTime()).run(queries, PERIOD, OWNER)


def test_a_query_that_does_not_finish_in_time_is_stopped_and_refused(athena):
    client, stubber = athena
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, None)
    # Polls at 0, 0.1, 0.3, 0.7 and 1.5 s; the next pause (1 s) would pass the deadline.
    for _ in range(5):
        stubber.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": ANY})
    stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    clock = FakeTime()
    # GIVEN a query still running after the engine's timeout (2 s here)
    # WHEN the figure is asked for THEN it gives up in time, stops the query and says so
    with pytest.raises(DependencyError, match="did not answer uploads_per_day within 2 s"):
        _engine(client, clock, timeout_seconds=2.0).run([load("uploads_per_day")], PERIOD, OWNER)
    assert clock.now <= 2.0


def test_throttling_is_a_transient_error(athena):
    client, stubber = athena
    stubber.add_client_error(
        "start_query_execution", service_error_code="TooManyRequestsException", http_status_code=400
    )
    with pytest.raises(TransientError):
        _engine(client, FakeTime()).run([load("uploads_per_day")], PERIOD, OWNER)
