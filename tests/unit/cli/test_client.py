"""The API client: a DELETE that got no answer, or a transient one, is sent again."""

from __future__ import annotations

import httpx
import pytest

from imgmgr.client import DELETE_RETRY_PAUSES, ApiClient, ApiClientError


def _client(answers: list[int | type[Exception]]) -> tuple[ApiClient, list[str], list[float]]:
    seen: list[str] = []
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        answer = answers.pop(0)
        if isinstance(answer, type):
            raise answer("connection reset", request=request)
        body = {"type": "about:blank", "title": "x", "status": answer, "code": "X.Y", "detail": "d"}
        return httpx.Response(answer, json=body if answer >= 400 else None)

    http = httpx.Client(base_url="http://api.test/", transport=httpx.MockTransport(handler))
    client = ApiClient(endpoint="http://api.test", api_key="imk_test", http=http, _sleep=slept.append)
    return client, seen, slept


def test_a_delete_that_died_behind_the_gateway_or_got_no_answer_is_sent_again():
    # GIVEN an API whose function dies once (502), then the connection drops, then it answers
    client, seen, slept = _client([502, httpx.ReadError, 204])
    # WHEN deleting THEN the DELETE is repeated until it is answered, with growing pauses
    client.delete_image("img-1")
    assert seen == ["DELETE /v1/images/img-1"] * 3
    assert slept == list(DELETE_RETRY_PAUSES[:2])


def test_a_delete_refused_for_good_is_not_repeated_and_retries_end():
    # GIVEN an unknown image (404) THEN one request, the error raised
    client, seen, _ = _client([404])
    with pytest.raises(ApiClientError) as caught:
        client.delete_image("img-1")
    assert (caught.value.status, len(seen)) == (404, 1)
    # GIVEN an API that keeps failing THEN the attempts end with its error
    client, seen, slept = _client([503] * (len(DELETE_RETRY_PAUSES) + 1))
    with pytest.raises(ApiClientError) as caught:
        client.delete_image("img-1")
    assert caught.value.status == 503
    assert len(seen) == len(DELETE_RETRY_PAUSES) + 1 and slept == list(DELETE_RETRY_PAUSES)
