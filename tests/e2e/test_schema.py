"""schemathesis against the OpenAPI document of a running ``imgmgr serve``: no 5xx, responses as documented."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from imgmgr.keys import KeyStore
from tests.e2e.support import Server

_state: dict[str, str] = {}


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema")
    data_dir = root / "data"
    data_dir.mkdir()
    server = Server(data_dir, root / "serve.log")
    try:
        server.start()
        _state["key"], _ = KeyStore(data_dir / "keys.sqlite3").create("schema")
        yield server
    finally:
        server.kill()


# One plain test over every operation: schemathesis' pytest plugin does not support this pytest yet.
def test_every_operation_answers_as_documented(running):
    api_schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            # Schema-valid requests may still break a business rule (a declared size above the deployment's
            # limit is a documented 413): acceptance of positive data is not a property of this API.
            case.call_and_validate(headers={"x-api-key": _state["key"]}, excluded_checks=[positive_data_acceptance])

        check()


def test_every_schema_valid_upload_declaration_is_accepted(running):
    # GIVEN the upload operation, whose declared size carries the server's limit as its maximum
    api_schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    operation = api_schema["/v1/uploads"]["POST"]

    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        # WHEN any schema-valid declaration is sent THEN it is accepted (201, or 200 for a duplicate): no
        # size the schema allows is refused as too large
        case.call_and_validate(headers={"x-api-key": _state["key"]})

    check()


def test_options_on_every_path_allows_every_documented_method(running):
    # GIVEN every path of the served schema and the methods it documents
    paths = httpx.get(f"{running.url}/openapi.json").json()["paths"]
    for template, operations in paths.items():
        path = template.replace("{image_id}", "abc")
        # WHEN asking with OPTIONS THEN Allow names each of them (not only those of the first route)
        response = httpx.options(f"{running.url}{path}", headers={"x-api-key": _state["key"]})
        allowed = {method.strip().lower() for method in response.headers.get("allow", "").split(",")}
        assert set(operations) <= allowed, (template, response.headers.get("allow"))


def test_the_served_schema_carries_the_configured_upload_limit(tmp_path):
    # GIVEN a server started with --max-upload-bytes 5000000
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = Server(data_dir, tmp_path / "serve.log", workers=1, options=("--max-upload-bytes=5000000",))
    try:
        server.start()
        # WHEN reading its schema THEN the declared size's maximum is that limit
        schema = httpx.get(f"{server.url}/openapi.json").json()
        assert schema["components"]["schemas"]["UploadRequest"]["properties"]["size"]["maximum"] == 5_000_000
    finally:
        server.kill()
