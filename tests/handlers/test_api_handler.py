"""The API function's own wiring over moto: its cursor secret, and the stage root without a slash."""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import logging

import boto3
import pytest

from lambdas import config
from lambdas.adapters.aws.shared_secret import CURSOR_SECRET_NAME, SECRET_BYTES, secret_key
from lambdas.domain.records import new_record
from lambdas.handlers import api as api_handler
from tests.fakes import FakeLambdaContext
from tests.handlers.conftest import BUCKET, TABLE, load_event

OWNER = "k1a2b3c4d5"


def _new_container() -> None:
    """Forget everything a container caches (settings, clients, the app), as a cold start does."""
    config.reset()
    api_handler.app.cache_clear()
    api_handler._mangum.cache_clear()


@pytest.fixture
def container(aws):
    """A cold API container over moto, without ``IMGMGR_CURSOR_SECRET`` (what the construct deploys)."""
    _new_container()
    yield
    _new_container()


def _call(
    path: str,
    *,
    query: dict | None = None,
    request_path: str | None = None,
    resource: str = "/v1/{proxy+}",
    method: str = "GET",
    headers: dict[str, str] | None = None,
):
    event = copy.deepcopy(load_event("api_gateway_rest_request.json"))
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    event["path"] = path
    event["resource"] = event["requestContext"]["resourcePath"] = resource
    event["requestContext"]["path"] = request_path or f"/prod{path}"
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = None if query is None else {k: [v] for k, v in query.items()}
    return api_handler.handler(event, FakeLambdaContext("imgmgr-api"))


def _stored_secret() -> bytes | None:
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key=secret_key(CURSOR_SECRET_NAME), ConsistentRead=True
    )
    return None if "Item" not in item else bytes(item["Item"]["secret"]["B"])


def _warnings(caplog, capsys) -> list[str]:
    """Warnings logged, whether Powertools printed them or handed them to logging."""
    printed = [line for line in capsys.readouterr().out.splitlines() if '"level":"WARNING"' in line.replace(" ", "")]
    return printed + [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


def test_containers_share_one_random_cursor_secret_kept_in_the_table(container, caplog, capsys):
    # GIVEN a deployment without IMGMGR_CURSOR_SECRET and two cold containers
    first = api_handler.cursor_secret(config.settings())
    _new_container()
    second = api_handler.cursor_secret(config.settings())
    # THEN both sign with the same random 32-byte secret, the one stored in the table
    assert first == second == _stored_secret()
    assert len(first) == SECRET_BYTES
    assert first != hashlib.sha256(f"imgmgr-cursor|{BUCKET}|{TABLE}".encode()).digest()
    # AND nothing warned about it
    assert _warnings(caplog, capsys) == []


def test_a_cursor_from_one_container_opens_in_another(container, caplog, capsys):
    # GIVEN two images of the caller, and the first page (one image) listed by one container
    metadata = config.aws_ports().metadata
    for image_id in ("img-a", "img-b"):
        metadata.create(new_record(image_id=image_id, owner=OWNER, filename="a.jpg", at=config.aws_ports().clock.now()))
    first = _call("/v1/images", query={"limit": "1"})
    cursor = json.loads(first["body"])["next_cursor"]
    assert first["statusCode"] == 200 and cursor
    # WHEN another (cold) container is asked for the next page with that cursor
    _new_container()
    second = _call("/v1/images", query={"limit": "1", "cursor": cursor})
    # THEN it accepts the cursor and answers with the other image, and no container warned
    assert second["statusCode"] == 200, second["body"]
    ids = [item["id"] for page in (first, second) for item in json.loads(page["body"])["items"]]
    assert sorted(ids) == ["img-a", "img-b"]
    assert _warnings(caplog, capsys) == []


def test_a_configured_cursor_secret_is_used_and_nothing_is_stored(container, monkeypatch):
    # GIVEN IMGMGR_CURSOR_SECRET set by the operator
    monkeypatch.setenv("IMGMGR_CURSOR_SECRET", "an-operator-chosen-secret")
    _new_container()
    # THEN the API signs with it and creates no secret in the table
    assert api_handler.cursor_secret(config.settings()) == b"an-operator-chosen-secret"
    assert _stored_secret() is None


def test_the_stage_root_without_its_slash_redirects_into_the_stage(container):
    # WHEN the deployed URL is opened without its trailing slash (API Gateway routes it to the root)
    response = _call("/", request_path="/prod", resource="/")
    # THEN the answer sends the browser to the stage's directory, where the page's relative links resolve
    assert (response["statusCode"], response["headers"]["Location"]) == (301, "prod/")


def test_the_stage_root_with_its_slash_serves_the_page(container):
    response = _call("/", request_path="/prod/", resource="/")
    assert response["statusCode"] == 200
    assert 'src="static/app.js"' in response["body"]


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-api-key"}


def _preflight(origin: str):
    # A browser's preflight carries no key: API Gateway passes it without one (CORS_ROUTES).
    response = _call("/v1/uploads", method="OPTIONS", headers={"Origin": origin, **PREFLIGHT})
    return response["statusCode"], {name.lower(): value for name, value in response["headers"].items()}


def test_a_configured_origin_gets_its_preflight_answered_and_its_responses_marked(container, monkeypatch):
    monkeypatch.setenv("IMGMGR_CORS_ORIGINS", "https://app.example.com, https://other.example.org:8443")
    # WHEN the other page's browser asks before POSTing with the key header
    status, headers = _preflight("https://app.example.com")
    # THEN the API allows exactly that origin, the method and the key header, without cookies
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert "POST" in headers["access-control-allow-methods"]
    assert "x-api-key" in headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in headers
    # AND a real request from it (health needs no record) is readable by that page
    response = _call("/v1/health", resource="/v1/health", headers={"Origin": "https://other.example.org:8443"})
    assert response["headers"]["access-control-allow-origin"] == "https://other.example.org:8443"


def test_other_origins_and_unconfigured_deployments_get_no_cors(container, monkeypatch):
    monkeypatch.setenv("IMGMGR_CORS_ORIGINS", "https://app.example.com")
    status, headers = _preflight("https://evil.example.net")
    assert status == 400 and "access-control-allow-origin" not in headers
    _new_container()
    monkeypatch.delenv("IMGMGR_CORS_ORIGINS")
    status, headers = _preflight("https://app.example.com")
    assert status == 405 and "access-control-allow-origin" not in headers


def test_the_first_request_builds_the_app_and_leaves_the_collector_on(container):
    # GIVEN a cold container WHEN its first request builds the app (the collector paused meanwhile)
    gc.enable()
    response = _call("/v1/health")
    # THEN the request is answered and the collector runs again for the requests after it
    assert response["statusCode"] == 200
    assert gc.isenabled()
