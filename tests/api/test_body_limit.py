"""A request body over the cap is refused before it is read, whether its length is declared or chunked."""

from __future__ import annotations

import asyncio

import pytest

from lambdas.api.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from tests.api.conftest import CHELSEA, declare, send

BIG = b"x" * (4 * DEFAULT_MAX_BODY_BYTES)


def _assert_too_large(response) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "Request.TooLarge"


def test_a_declared_body_over_the_cap_is_refused_before_the_key_is_checked(client):
    # GIVEN no key and a body four times the cap WHEN posting it THEN 413, not 401 or 422 after reading it
    response = client.post("/v1/uploads", content=BIG, headers={"content-type": "application/json"})
    _assert_too_large(response)


def test_a_chunked_body_over_the_cap_is_refused(client, alice):
    # GIVEN a body without Content-Length (a generator is sent chunked)
    def chunks():
        for _ in range(4):
            yield b"x" * DEFAULT_MAX_BODY_BYTES

    # WHEN posting it with a valid key THEN 413
    response = client.post("/v1/uploads", content=chunks(), headers={"content-type": "application/json", **alice})
    assert "content-length" not in response.request.headers
    _assert_too_large(response)


def test_a_route_that_reads_no_body_refuses_a_declared_big_one_too(client, alice):
    response = client.request("GET", "/v1/images", content=BIG, headers=alice)
    _assert_too_large(response)


def test_a_small_body_passes(client, alice):
    assert declare(client, alice).status_code == 201


def test_the_upload_endpoint_takes_bodies_up_to_its_policys_size(client, alice):
    # GIVEN an original far above the general cap (Chelsea is ~200 KB) WHEN uploading it THEN it is stored
    target = declare(client, alice).json()["upload"]
    assert len(CHELSEA.read_bytes()) > DEFAULT_MAX_BODY_BYTES
    assert send(client, target, CHELSEA.read_bytes()).status_code == 204


async def _echo_app(scope, receive, send) -> None:
    """Reads the whole body, like FastAPI before it runs a route's dependencies."""
    while (await receive()).get("more_body", False):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"read"})


def _call(middleware, path: str, chunks: int, chunk_bytes: int) -> tuple[int, int]:
    """POST ``chunks`` chunks of ``chunk_bytes`` without Content-Length; (status, chunks the app pulled)."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * chunk_bytes, "more_body": pulled < chunks}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], pulled


def test_a_chunked_body_is_cut_as_soon_as_it_passes_the_cap():
    # GIVEN a 16 MiB stream in 64 KiB chunks and a 64 KiB cap
    middleware = BodyLimit(_echo_app, max_bytes=DEFAULT_MAX_BODY_BYTES)
    # WHEN the app reads it THEN it is refused after the second chunk: the rest is never received
    assert _call(middleware, "/v1/uploads", chunks=256, chunk_bytes=DEFAULT_MAX_BODY_BYTES) == (413, 2)


def test_a_streamed_path_is_counted_against_its_own_bound():
    middleware = BodyLimit(_echo_app, max_bytes=1024, streamed={"/local/uploads": 10 * 1024})
    assert _call(middleware, "/local/uploads", chunks=10, chunk_bytes=1024) == (200, 10)
    assert _call(middleware, "/local/uploads", chunks=100, chunk_bytes=1024) == (413, 11)


def test_a_negative_cap_is_refused():
    with pytest.raises(ValueError, match="max_bytes must not be negative"):
        BodyLimit(_echo_app, max_bytes=-1)
