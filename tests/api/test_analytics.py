"""The usage figures: one definition each (the saved queries), the same number on every surface.

A scenario with uploads, a duplicate, a failure, a delete, a view and a search, by two owners, through the
in-process API; the analytics route, the CLI's ``stats`` and the record-based routes (``/v1/categories``,
``/v1/stats``) must agree with each other and with the records.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import imgmgr.cli
from imgmgr.client import ApiClient
from lambdas.analytics.queries import NAMES
from tests.api.conftest import CHELSEA, COFFEE, PHOTOS, declare, send, upload_and_process

ASTRONAUT = PHOTOS / "astronaut.png"


def _figures(client: TestClient, headers: dict[str, str], **params: str) -> dict:
    response = client.get("/v1/analytics", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _rows(document: dict, name: str) -> list[dict]:
    return document["figures"][name]["rows"]


@pytest.fixture
def scenario(client, runtime, alice, bob, tmp_path):
    """alice: three photos processed (one deleted), one duplicate declared, one file that is no image, a
    view and a search; bob: one photo. Returns alice's image ids by name."""
    ids = {
        "chelsea": upload_and_process(client, runtime, alice, CHELSEA),
        "coffee": upload_and_process(client, runtime, alice, COFFEE),
        "astronaut": upload_and_process(client, runtime, alice, ASTRONAUT),
    }
    assert declare(client, alice, CHELSEA, filename="again.png").json()["duplicate"] is True
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"these are notes, not a picture\n" * 40)
    answer = declare(client, alice, fake).json()
    assert send(client, answer["upload"], fake.read_bytes()).status_code == 204
    runtime.pipeline.run_step("compress", answer["image"]["id"], answer["upload"]["fields"]["key"])
    ids["notes"] = answer["image"]["id"]
    assert client.delete(f"/v1/images/{ids['coffee']}", headers=alice).status_code == 204
    assert client.get(f"/v1/images/{ids['chelsea']}", headers=alice).status_code == 200
    assert client.get("/v1/images", params={"category": "Animals and Pets"}, headers=alice).status_code == 200
    upload_and_process(client, runtime, bob, COFFEE)
    return ids


def test_every_figure_agrees_with_the_records_and_the_other_routes(client, runtime, alice, scenario):
    # GIVEN the scenario's records as the store holds them
    records = {name: runtime.pipeline.ports.metadata.get(image_id) for name, image_id in scenario.items()}
    states = {name: record.state.value for name, record in records.items()}
    assert states == {"chelsea": "ready", "coffee": "deleted", "astronaut": "ready", "notes": "failed"}
    # WHEN alice asks for her figures of the period that holds them
    document = _figures(client, alice)
    # THEN the uploads are the four originals that arrived (the duplicate sent no bytes)
    [uploads] = _rows(document, "uploads_per_day")
    assert uploads["uploads"] == 4 and uploads["uploaders"] == 1
    assert uploads["bytes_uploaded"] == sum(record.size for record in records.values())
    # AND the images by state are the records' states
    by_state = {row["state"]: row["images"] for row in _rows(document, "image_states")}
    assert by_state == {"ready": 2, "deleted": 1, "failed": 1}
    # AND the categories are those of /v1/categories (the deleted image no longer counts)
    categories = client.get("/v1/categories", headers=alice).json()["categories"]
    assert {row["category"]: row["images"] for row in _rows(document, "popular_categories")} == {
        row["name"]: row["count"] for row in categories
    }
    labels = {row["label"]: row["images"] for row in _rows(document, "popular_labels")}
    assert labels["Cat"] == 2
    # AND the bytes saved are /v1/stats' (what the stored images saved), and its images are those kept
    stats = client.get("/v1/stats", headers=alice).json()
    assert sum(row["bytes_saved"] for row in _rows(document, "bytes_saved")) == stats["bytes_saved"] > 0
    assert stats["images"] == by_state["ready"] + by_state["failed"]
    # AND the failure is the failed record's, counted once
    assert _rows(document, "failures_by_code") == [
        {
            "code": records["notes"].failure.code,
            "failures": 1,
            "owners": 1,
            "last_seen": _rows(document, "failures_by_code")[0]["last_seen"],
        }
    ]
    # AND the view and the search are counted
    [activity] = _rows(document, "views_and_searches")
    assert (activity["views"], activity["searches"]) == (1, 1)
    [active] = _rows(document, "active_users")
    assert active["active_users"] == 1


def test_the_cli_prints_what_the_api_answers(client, runtime, alice, scenario, monkeypatch):
    # GIVEN the CLI's client talking to the same API
    monkeypatch.setattr(imgmgr.cli, "ApiClient", lambda endpoint, api_key: ApiClient(endpoint, api_key, http=client))
    env = {"IMGMGR_API_KEY": alice["x-api-key"], "COLUMNS": "200"}
    # WHEN `imgmgr stats --json` and `imgmgr stats` run (from any directory: no data directory is read)
    as_json = CliRunner().invoke(imgmgr.cli.app, ["stats", "--json"], env=env, catch_exceptions=False)
    as_text = CliRunner().invoke(imgmgr.cli.app, ["stats", "-f", "image_states"], env=env, catch_exceptions=False)
    # THEN the JSON is the API's answer and the table shows the same numbers
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == _figures(client, alice)
    assert as_text.exit_code == 0, as_text.output
    assert "Images by state" in as_text.output and "ready" in as_text.output and "deleted" in as_text.output


def test_an_owner_sees_only_their_own_figures(client, bob, scenario):
    document = _figures(client, bob)
    [uploads] = _rows(document, "uploads_per_day")
    assert uploads["uploads"] == 1
    assert {row["state"]: row["images"] for row in _rows(document, "image_states")} == {"ready": 1}
    assert _rows(document, "failures_by_code") == []


def test_a_period_without_the_events_answers_empty_figures(client, runtime, alice, scenario):
    # GIVEN a period that ended before any upload
    today = runtime.pipeline.ports.metadata.get(scenario["chelsea"]).created_at.date()
    before = (today - timedelta(days=10)).isoformat()
    # WHEN it is asked for THEN every figure is there, with its columns and no rows
    document = _figures(client, alice, **{"from": (today - timedelta(days=20)).isoformat(), "to": before})
    assert list(document["figures"]) == list(NAMES)
    assert all(figure["rows"] == [] and figure["columns"] for figure in document["figures"].values())
    assert (document["from"], document["to"]) == ((today - timedelta(days=20)).isoformat(), before)


def test_the_default_period_is_the_last_thirty_days(client, runtime, alice):
    document = _figures(client, alice, figure="uploads_per_day")
    assert list(document["figures"]) == ["uploads_per_day"]
    first, last = date.fromisoformat(document["from"]), date.fromisoformat(document["to"])
    assert last == runtime.pipeline.ports.clock.now().date()
    assert (last - first).days == 29


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-02-01", "to": "2026-01-01"}, "Analytics.InvalidPeriod"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "Analytics.InvalidPeriod"),
        ({"figure": "revenue"}, "Analytics.UnknownFigure"),
        ({"from": "yesterday"}, "Request.Invalid"),
    ],
)
def test_bad_periods_and_figures_are_refused_with_a_code(client, alice, params, code):
    response = client.get("/v1/analytics", params=params, headers=alice)
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_figures_need_a_key(client):
    assert client.get("/v1/analytics").status_code == 401
