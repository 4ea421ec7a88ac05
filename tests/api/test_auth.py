"""Every route but the public ones needs a live key; an owner never reaches another owner's images.

The routes are read from the app itself, so a route added without the key check fails here.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts

from imgmgr.config import DataDir
from imgmgr.server import build_runtime
from tests.api.conftest import upload_and_process
from tests.fakes import FakeLabeler

#: Routes anyone may call: liveness, where the page signs in, the web page and its files, the API's own
#: description.
PUBLIC = frozenset({"/v1/health", "/v1/sign-in", "/", "/static", "/openapi.json", "/docs"})
#: The local host's routes that a signature authorizes instead of a key (the presigned POST, signed downloads).
SIGNED = frozenset({"/local/uploads", "/local/objects/{key:path}"})


def routes_of(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route of ``app``; a mount (no methods) as ("*", path)."""
    for route in iter_route_contexts(app.routes):
        for method in sorted(route.methods or {"*"}):
            yield method, route.path


def _local_app_routes() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        return sorted(set(routes_of(build_runtime(DataDir.resolve(Path(tmp)), labeler=FakeLabeler()).app)))


ROUTES = _local_app_routes()
PROTECTED = [(method, re.sub(r"\{[^}]+\}", "abc", path)) for method, path in ROUTES if path not in PUBLIC | SIGNED]


def test_the_exempt_routes_exist_and_the_api_is_protected():
    # GIVEN the routes of the local app THEN every exempt path names one of them, and the rest is most of the API
    paths = {path for _method, path in ROUTES}
    assert (PUBLIC | SIGNED) - paths == set()
    assert ("DELETE", "/v1/images/abc") in PROTECTED
    assert len(PROTECTED) >= 6


def test_a_route_added_later_is_among_those_checked():
    # GIVEN an app with one more router WHEN listing its routes THEN the new route is there to be checked
    extra = APIRouter(prefix="/v1")
    extra.add_api_route("/albums", lambda: {}, methods=["PUT"])
    app = FastAPI()
    app.include_router(extra)
    assert ("PUT", "/v1/albums") in set(routes_of(app))


def test_health_needs_no_key(client):
    # GIVEN no key WHEN asking for health THEN it answers
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "path"), [(method, path) for method, path in ROUTES if path in SIGNED])
def test_signed_routes_refuse_a_request_without_signature(client, method, path):
    # GIVEN no key and no signature WHEN calling a route a signature authorizes THEN it is refused
    concrete = re.sub(r"\{[^}]+\}", "uploads/alice/abc/x.png", path)
    response = client.request(method, concrete, data={"key": "uploads/alice/abc/x.png"})
    assert response.status_code in (400, 403, 411, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


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
