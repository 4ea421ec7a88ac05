"""Retrying a failed image: POST /v1/images/{id}/retry, and what declaring its bytes again answers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from lambdas.api import create_app
from lambdas.domain.errors import PermanentError
from tests.api.conftest import declare, send


def failed_in_categorize(client, runtime, headers) -> str:
    """An image whose categorize step failed for good (the labeler refused it); the image id."""
    answer = declare(client, headers).json()
    from tests.api.conftest import CHELSEA

    assert send(client, answer["upload"], CHELSEA.read_bytes()).status_code == 204
    image_id, key = answer["image"]["id"], answer["upload"]["fields"]["key"]
    runtime.pipeline.ports.labeler.error = PermanentError("refused", code="Labeler.InvalidImage")
    for step in ("compress", "thumbnail", "categorize"):
        runtime.pipeline.run_step(step, image_id, key)
    runtime.pipeline.ports.labeler.error = None
    assert client.get(f"/v1/images/{image_id}", headers=headers).json()["status"] == "failed"
    return image_id


def test_a_failed_image_is_retried_from_its_failed_step_until_it_is_ready(client, runtime, alice):
    # GIVEN an image that failed for good in categorize (the queue has dropped it)
    image_id = failed_in_categorize(client, runtime, alice)
    while (job := runtime.queue.lease()) is not None:
        runtime.queue.drop(job)
    # WHEN its owner retries it
    response = client.post(f"/v1/images/{image_id}/retry", headers=alice)
    # THEN 202: still failed, but with a pending (retryable) failure, and categorize is queued again
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["failure"]["retryable"], body["failure"]["parked"]) == ("failed", True, False)
    job = runtime.queue.lease()
    assert job is not None and (job.image_id, job.step) == (image_id, "categorize")
    # AND running that step makes it ready
    assert runtime.pipeline.run_step(job.step, job.image_id, job.object_key)
    assert client.get(f"/v1/images/{image_id}", headers=alice).json()["status"] == "ready"


def test_declaring_the_bytes_of_a_failed_image_again_names_where_to_retry_it(client, runtime, alice):
    # GIVEN an image that failed
    image_id = failed_in_categorize(client, runtime, alice)
    # WHEN the same bytes are declared again
    response = declare(client, alice, filename="again.png")
    # THEN it is that image (nothing to upload), with the path of its retry
    assert response.status_code == 200
    body = response.json()
    assert (body["duplicate"], body["upload"], body["image"]["id"]) == (True, None, image_id)
    assert body["retry"] == f"v1/images/{image_id}/retry"
    assert client.post(body["retry"], headers=alice).status_code == 202
    # AND once the retry is pending, a declaration no longer offers it
    assert declare(client, alice).json()["retry"] is None


def test_a_duplicate_of_a_ready_image_offers_no_retry(client, runtime, alice):
    from tests.api.conftest import upload_and_process

    upload_and_process(client, runtime, alice)
    assert declare(client, alice).json()["retry"] is None


def test_only_a_failed_image_can_be_retried(client, runtime, alice):
    from tests.api.conftest import upload_and_process

    image_id = upload_and_process(client, runtime, alice)
    response = client.post(f"/v1/images/{image_id}/retry", headers=alice)
    assert (response.status_code, response.json()["code"]) == (409, "Image.NotFailed")


def test_another_owners_image_cannot_be_retried(client, runtime, alice, bob):
    image_id = failed_in_categorize(client, runtime, alice)
    response = client.post(f"/v1/images/{image_id}/retry", headers=bob)
    assert (response.status_code, response.json()["code"]) == (404, "Image.NotFound")


def test_a_failed_image_whose_original_is_gone_cannot_be_retried(client, runtime, alice):
    # GIVEN a failed image whose original is no longer stored
    image_id = failed_in_categorize(client, runtime, alice)
    record = runtime.pipeline.ports.metadata.get(image_id)
    runtime.pipeline.ports.objects.delete(record.original_key)
    # WHEN retried, THEN a clear refusal, and a declaration of its bytes offers no retry
    response = client.post(f"/v1/images/{image_id}/retry", headers=alice)
    assert (response.status_code, response.json()["code"]) == (409, "Image.OriginalGone")
    assert declare(client, alice).json()["retry"] is None


def test_a_deployment_without_a_retrier_answers_a_clear_problem(client, runtime, alice):
    # GIVEN a failed image, and the API as AWS hosts it: no retrier (failed steps are replayed by a redrive)
    image_id = failed_in_categorize(client, runtime, alice)
    services = replace(runtime.app.state.services, retrier=None)
    with TestClient(create_app(services), base_url="http://testserver") as client:
        # WHEN a failed image is retried, THEN 501 with a code and what to do instead
        response = client.post(f"/v1/images/{image_id}/retry", headers=alice)
        assert (response.status_code, response.json()["code"]) == (501, "Retry.Unavailable")
        assert "imgmgr redrive" in response.json()["detail"]
        # AND a declaration of its bytes offers no retry
        assert declare(client, alice).json()["retry"] is None


def test_the_openapi_document_describes_the_retry_and_the_retry_link(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/images/{image_id}/retry"]["post"]
    assert {"202", "404", "409", "501"} <= set(operation["responses"])
    retry = spec["components"]["schemas"]["UploadResponse"]["properties"]["retry"]
    assert "v1/images/{id}/retry" in retry["description"]
    assert "retry" in spec["paths"]["/v1/uploads"]["post"]["responses"]["200"]["description"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"size": 0}, "The file is empty."),
        ({"filename": ""}, "The file name is empty."),
        ({"filename": "x" * 256}, "The file name is too long (at most 255 characters)."),
        ({"sha256": "abc"}, "The file checksum (SHA-256) must be 64 hexadecimal digits."),
        ({"size": "big"}, "The file size must be a whole number."),
    ],
)
def test_validation_errors_say_which_field_in_words(client, alice, change, detail):
    body = {"filename": "a.png", "content_type": "image/png", "size": 10, "sha256": "a" * 64} | change
    response = client.post("/v1/uploads", json=body, headers=alice)
    assert (response.status_code, response.json()["code"], response.json()["detail"]) == (
        422,
        "Request.Invalid",
        detail,
    )


def test_a_type_not_allowed_lists_the_types_briefly(client, alice):
    body = {"filename": "a.txt", "content_type": "text/plain", "size": 10, "sha256": "a" * 64}
    detail = client.post("/v1/uploads", json=body, headers=alice).json()["detail"]
    assert detail.endswith("JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC, AVIF")
