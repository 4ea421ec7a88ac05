"""Every route but health needs a live key; an owner never reaches another owner's images."""

from __future__ import annotations

import pytest

from tests.api.conftest import upload_and_process

PROTECTED = [
    ("POST", "/v1/uploads"),
    ("GET", "/v1/images"),
    ("GET", "/v1/images/abc"),
    ("DELETE", "/v1/images/abc"),
    ("GET", "/v1/categories"),
    ("GET", "/v1/stats"),
]


def test_health_needs_no_key(client):
    # GIVEN no key WHEN asking for health THEN it answers
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_routes_refuse_a_request_without_key(client, method, path):
    # GIVEN no x-api-key header WHEN calling a protected route
    response = client.request(method, path, json={})
    # THEN 401 problem+json with a stable code
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "Auth.MissingKey"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_routes_refuse_a_revoked_key(client, runtime, method, path):
    # GIVEN a key that was revoked
    key, record = runtime.keys.create("carol")
    runtime.keys.revoke(record.key_id)
    # WHEN calling a protected route with it
    response = client.request(method, path, json={}, headers={"x-api-key": key})
    # THEN 403
    assert response.status_code == 403
    assert response.json()["code"] == "Auth.InvalidKey"


def test_unknown_key_is_refused(client):
    response = client.get("/v1/images", headers={"x-api-key": "imk_00000000_not-a-key"})
    assert response.status_code == 403
    assert response.json()["code"] == "Auth.InvalidKey"


def test_another_owners_image_is_not_found(client, runtime, alice, bob):
    # GIVEN an image of alice
    image_id = upload_and_process(client, runtime, alice)
    # WHEN bob asks for it, or deletes it
    seen = client.get(f"/v1/images/{image_id}", headers=bob)
    removed = client.delete(f"/v1/images/{image_id}", headers=bob)
    # THEN both answer as for a missing image, and alice still has it
    assert (seen.status_code, seen.json()["code"]) == (404, "Image.NotFound")
    assert (removed.status_code, removed.json()["code"]) == (404, "Image.NotFound")
    assert client.get(f"/v1/images/{image_id}", headers=alice).status_code == 200


def test_listing_shows_only_the_callers_images(client, runtime, alice, bob):
    upload_and_process(client, runtime, alice)
    assert client.get("/v1/images", headers=bob).json()["items"] == []
    assert client.get("/v1/images?category=Animals and Pets", headers=bob).json()["items"] == []
    assert client.get("/v1/categories", headers=bob).json() == {"categories": []}


def test_an_exact_duplicate_of_another_owners_image_is_uploaded_anew(client, runtime, alice, bob):
    # GIVEN alice's image WHEN bob declares the same bytes THEN bob gets his own upload, not alice's image
    alice_id = upload_and_process(client, runtime, alice)
    from tests.api.conftest import declare

    answer = declare(client, bob).json()
    assert answer["duplicate"] is False
    assert answer["image"]["id"] != alice_id
