"""The served OpenAPI document and the method answers agree with what the API does."""

from __future__ import annotations

import pytest


def test_the_declared_size_carries_the_configured_upload_limit_as_maximum(client):
    # GIVEN an app whose upload limit is 2,000,000 bytes (tests/api/conftest.py) WHEN reading its schema
    schema = client.get("/openapi.json").json()
    size = schema["components"]["schemas"]["UploadRequest"]["properties"]["size"]
    # THEN a size above the limit (a documented 413) is outside the schema
    assert (size["minimum"], size["maximum"]) == (1, 2_000_000)


def test_a_size_at_the_maximum_is_accepted_and_one_above_it_is_413(client, alice):
    body = {"filename": "a.png", "content_type": "image/png", "sha256": "0" * 64}
    assert client.post("/v1/uploads", json=body | {"size": 2_000_000}, headers=alice).status_code == 201
    response = client.post("/v1/uploads", json=body | {"size": 2_000_001}, headers=alice)
    assert (response.status_code, response.json()["code"]) == (413, "Upload.TooLarge")


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "POST", "PUT"])
def test_a_method_the_image_path_lacks_names_every_method_it_has(client, method):
    # GIVEN /v1/images/{id}, which has GET, DELETE and PATCH in three routes (two routers)
    response = client.request(method, "/v1/images/abc")
    # THEN the 405 lists every route's methods, not only the first's
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    if method != "HEAD":
        assert response.json()["code"] == "Method.NotAllowed"


def test_a_path_with_one_route_lists_its_methods(client):
    response = client.request("DELETE", "/v1/uploads")
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
