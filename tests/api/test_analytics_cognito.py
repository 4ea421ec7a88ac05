"""The usage figures of a deployment with a user pool: the functions log their analytics events with the
token's ``sub`` as the owner, so the lake's active users are the signed-in users, not the API key they
share, and each user's figures are their own. The log lines are those the functions print over moto;
the exporter writes them to the lake's layout as the subscription delivers them, and DuckDB runs the
saved queries there as Athena would."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from imgmgr.adapters.analytics import LAKE_PATTERN, DuckDbAnalytics
from imgmgr.adapters.files import FileObjectStore
from lambdas import config, steps
from lambdas.analytics.exporter import export_event
from lambdas.analytics.figures import QueryResult
from lambdas.analytics.queries import NAMES, load
from lambdas.contract import RECORD_TYPE, Env
from tests.api.conftest import CHELSEA
from tests.api.test_api_cognito import (  # noqa: F401 - the fixture
    BUCKET,
    SHARED_KEY_ID,
    _reset,
    call,
    claims_of_user,
    declare,
    pool,
)
from tests.fakes import FakeLabeler
from tests.unit.analytics.support import with_messages

WORKGROUP = "imgmgr-analytics"
DATABASE = "imgmgr_analytics"


def _upload_and_process(claims: dict[str, str]) -> str:
    """Chelsea declared by the user of ``claims``, put in S3 and taken through the three steps over the
    functions' own ports (moto runs no Lambda); its image id."""
    _status, body = declare(claims)
    key, image_id = body["upload"]["fields"]["key"], body["image"]["id"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=CHELSEA.read_bytes(), ContentType="image/png")
    ports = replace(config.aws_ports(), labeler=FakeLabeler())
    steps.compress(ports, key)
    steps.thumbnail(ports, image_id)
    steps.categorize(ports, image_id)
    return image_id


def _analytics_lines(printed: str) -> list[str]:
    """The lines of the functions' output that the log group's subscription filter sends to the exporter."""
    return [line for line in printed.splitlines() if f'"record_type":"{RECORD_TYPE}"' in line]


@pytest.fixture
def activity(pool, capsys):  # noqa: F811
    """alice and bob, two users of the pool calling through one API key: each uploads a photo, opens it and
    searches; bob also tries to open alice's. Returns their claims and the analytics lines logged."""
    alice, bob = claims_of_user(pool, "alice@example.com"), claims_of_user(pool, "bob@example.com")
    capsys.readouterr()
    images = {"alice": _upload_and_process(alice), "bob": _upload_and_process(bob)}
    for name, claims in (("alice", alice), ("bob", bob)):
        assert call("GET", f"/v1/images/{images[name]}", claims=claims)[0] == 200
        assert call("GET", "/v1/images", claims=claims)[0] == 200
    assert call("GET", f"/v1/images/{images['alice']}", claims=bob)[0] == 404
    return alice, bob, _analytics_lines(capsys.readouterr().out)


def _lake(lines: list[str], root: Path) -> Path:
    """The events directory of the lake after the exporter received ``lines`` in one subscription payload."""
    store = FileObjectStore(root)
    assert export_event(with_messages(lines), store).events == len(lines)
    return store.root / "analytics" / "events"


def _figure(events_dir: Path, name: str, owner: str | None = None) -> QueryResult:
    [result] = DuckDbAnalytics(events_dir, pattern=LAKE_PATTERN).run([load(name)], None, owner)
    return result


def test_every_event_of_a_signed_in_user_belongs_to_their_token_subject(activity):
    # GIVEN the analytics lines the functions logged for alice and bob
    alice, bob, lines = activity
    events = [json.loads(line) for line in lines]
    # THEN each user's upload, processing, view and search is theirs, by their pool subject
    by_owner = {
        owner: sorted(event["event_type"] for event in events if event["owner"] == owner)
        for owner in {event["owner"] for event in events}
    }
    expected = sorted(["upload", "processed", "view", "search"])
    assert by_owner == {alice["sub"]: expected, bob["sub"]: expected}
    # AND none belongs to the key they share (bob's attempt at alice's image logged nothing)
    assert SHARED_KEY_ID not in by_owner


def test_the_lakes_active_users_are_the_two_signed_in_users(activity, tmp_path):
    # GIVEN the lines exported to the lake as the subscription delivers them
    alice, bob, lines = activity
    events_dir = _lake(lines, tmp_path)
    day = json.loads(lines[0])["occurred_at"][:10]
    # WHEN the saved query of active users runs over every event (the lake's named query, QuickSight)
    everyone = _figure(events_dir, "active_users")
    # THEN it counts two users that day, with all their events
    assert everyone.records() == [{"day": day, "active_users": 2, "events": len(lines)}]
    # AND each user's figures (GET /v1/analytics scopes them to the owner) are their own
    for claims in (alice, bob):
        assert _figure(events_dir, "active_users", claims["sub"]).records() == [
            {"day": day, "active_users": 1, "events": 4}
        ]
        assert _figure(events_dir, "views_and_searches", claims["sub"]).records() == [
            {"day": day, "views": 1, "searches": 1}
        ]
    # AND the shared key owns no activity
    assert _figure(events_dir, "active_users", SHARED_KEY_ID).rows == ()


def test_the_api_asks_athena_for_the_figures_of_the_token_subject(pool, monkeypatch):  # noqa: F811
    # GIVEN the API function of a deployment with an analytics lake, over moto's Athena
    monkeypatch.setenv(Env.ANALYTICS_WORKGROUP, WORKGROUP)
    monkeypatch.setenv(Env.ANALYTICS_DATABASE, DATABASE)
    _reset()
    athena = boto3.client("athena")
    athena.create_work_group(
        Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/athena/"}}
    )
    alice, bob = claims_of_user(pool, "alice@example.com"), claims_of_user(pool, "bob@example.com")
    # WHEN each asks for their figures
    for claims in (alice, bob):
        status, body = call("GET", "/v1/analytics", claims=claims)
        assert status == 200, body
    # THEN every query Athena ran is scoped to one user's subject, never to the key they share: each
    # user's saved queries once
    ids = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    assert all("owner = ?" in execution["Query"] for execution in executions)
    owners = Counter(execution["ExecutionParameters"][-1] for execution in executions)
    assert owners == {f"'{claims['sub']}'": len(NAMES) for claims in (alice, bob)}
