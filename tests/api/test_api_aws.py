"""The same app in Lambda: Mangum behind API Gateway (REST proxy events), over moto's S3 and DynamoDB."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from lambdas import config, steps
from lambdas.adapters.aws.dynamodb import create_table_kwargs
from lambdas.contract import STEP_FUNCTION_ENV
from lambdas.domain.errors import PermanentError
from lambdas.handlers import api as api_handler
from lambdas.handlers import categorize as categorize_handler
from lambdas.handlers import compress as compress_handler
from lambdas.imaging import ImagingOptions
from tests.api.conftest import CHELSEA
from tests.fakes import FakeLabeler, FakeLambdaContext

EVENT = Path(__file__).resolve().parents[1] / "events" / "api_gateway_rest_request.json"
BUCKET = "imgmgr-api-test-bucket"
TABLE = "imgmgr-api-test-table"


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", region_name="us-east-1").create_table(**create_table_kwargs(TABLE))
        monkeypatch.setenv("IMGMGR_BUCKET", BUCKET)
        monkeypatch.setenv("IMGMGR_TABLE", TABLE)
        monkeypatch.setenv("IMGMGR_MAX_UPLOAD_BYTES", "5000000")
        monkeypatch.setenv("IMGMGR_CURSOR_SECRET", "a-test-secret-of-enough-length")
        config.reset()
        api_handler.app.cache_clear()
        api_handler._mangum.cache_clear()
        yield s3
        config.reset()
        api_handler.app.cache_clear()
        api_handler._mangum.cache_clear()


def call(
    method: str, path: str, *, key_id: str | None = "alice-key", body: dict | None = None, query: dict | None = None
):
    """Invoke the API function with a REST proxy event; the decoded response (status, headers, JSON body)."""
    event = json.loads(EVENT.read_text())
    event = copy.deepcopy(event)
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["path"] = "/prod" + path
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = None if query is None else {k: [v] for k, v in query.items()}
    if key_id is None:
        event["requestContext"]["identity"]["apiKeyId"] = None
    else:
        event["requestContext"]["identity"]["apiKeyId"] = key_id
    if body is not None:
        event["body"] = json.dumps(body)
        event["headers"]["Content-Type"] = "application/json"
        event["multiValueHeaders"]["Content-Type"] = ["application/json"]
    response = api_handler.handler(event, FakeLambdaContext("imgmgr-api"))
    text = response.get("body") or ""
    return response["statusCode"], response.get("headers") or {}, json.loads(text) if text else None


def declare(key_id: str = "alice-key", *, filename: str = "chelsea.png"):
    data = CHELSEA.read_bytes()
    body = {
        "filename": filename,
        "content_type": "image/png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return call("POST", "/v1/uploads", key_id=key_id, body=body)


def test_upload_is_a_presigned_s3_post_pinning_key_type_and_size(aws):
    # WHEN declaring an upload through API Gateway
    status, _headers, body = declare()
    # THEN the presigned POST's policy pins the bucket, the key, the content type and the size range
    assert status == 201
    fields = body["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"bucket": BUCKET} in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, 5_000_000] in policy["conditions"]
    assert fields["key"].startswith("uploads/alice-key/")


def test_a_request_without_api_gateway_identity_is_refused(aws):
    status, headers, body = call("GET", "/v1/images", key_id=None)
    assert (status, body["code"]) == (401, "Auth.MissingKey")
    assert headers["content-type"].startswith("application/problem+json")


def test_the_whole_life_of_an_image_over_s3_and_dynamodb(aws):
    # GIVEN an upload declared by alice, its bytes put in S3, and the three steps run (moto runs no Lambda)
    _status, _headers, body = declare()
    key, image_id = body["upload"]["fields"]["key"], body["image"]["id"]
    aws.put_object(Bucket=BUCKET, Key=key, Body=CHELSEA.read_bytes(), ContentType="image/png")
    ports = replace(config.aws_ports(), labeler=FakeLabeler())
    steps.compress(ports, key)
    steps.thumbnail(ports, image_id)
    steps.categorize(ports, image_id)
    # WHEN alice looks for it by category, opens it; bob tries to
    _s, _h, page = call("GET", "/v1/images", query={"category": "Animals and Pets"})
    _s, _h, image = call("GET", f"/v1/images/{image_id}")
    bob_status, _h, _b = call("GET", f"/v1/images/{image_id}", key_id="bob-key")
    # THEN alice finds it with presigned S3 URLs, bob does not
    assert [item["id"] for item in page["items"]] == [image_id]
    assert image["status"] == "ready"
    assert all("X-Amz-Signature=" in r["url"] for r in image["renditions"])
    assert bob_status == 404
    # WHEN alice deletes it THEN the original and every rendition are gone from the bucket
    delete_status, _h, _b = call("DELETE", f"/v1/images/{image_id}")
    assert delete_status == 204
    assert aws.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    _s, _h, stats = call("GET", "/v1/stats")
    assert stats == {"images": 0, "bytes_stored": 0, "bytes_saved": 0}


def test_free_text_search_over_dynamodb(aws):
    # GIVEN Chelsea (chelsea.png) processed with a Cat label (parents Animal, Mammal, Pet) over S3 and DynamoDB
    _status, _headers, body = declare()
    key, image_id = body["upload"]["fields"]["key"], body["image"]["id"]
    aws.put_object(Bucket=BUCKET, Key=key, Body=CHELSEA.read_bytes(), ContentType="image/png")
    ports = replace(config.aws_ports(), labeler=FakeLabeler())
    steps.compress(ports, key)
    steps.thumbnail(ports, image_id)
    steps.categorize(ports, image_id)

    def found(**query: str) -> list[str]:
        status, _h, page = call("GET", "/v1/images", query=query)
        assert status == 200, page
        return [item["id"] for item in page["items"]]

    # WHEN alice searches a parent, a category word, a file-name word, a date range and a missing word
    # THEN each finds the image or nothing; bob finds nothing
    assert found(q="mammals") == [image_id]
    assert found(q="animals") == [image_id]
    assert found(q="chelsea cat") == [image_id]
    assert found(q="kitty") == [image_id]  # a synonym searches the label's word
    assert found(q="cat", **{"from": "2000-01-01T00:00:00Z"}) == [image_id]
    assert found(q="cat", to="2000-01-01T00:00:00Z") == []
    assert found(q="tabby") == []
    status, _h, page = call("GET", "/v1/images", key_id="bob-key", query={"q": "cat"})
    assert (status, page["items"]) == (200, [])


def test_health_answers_without_identity(aws):
    status, _headers, body = call("GET", "/v1/health", key_id=None)
    assert (status, body) == (200, {"status": "ok"})


#: The step functions as the pipeline names them in the API function's environment.
STEP_FUNCTIONS = {"compress": "imgmgr-compress", "thumbnail": "imgmgr-thumbnail", "categorize": "imgmgr-categorize"}


@pytest.fixture
def lambda_calls(aws, monkeypatch):
    """The API function as the pipeline deploys it, naming the step functions; its Lambda client (the
    container's, ``config.client``) is stubbed, as moto runs no function: each invocation is recorded."""
    for step, name in STEP_FUNCTIONS.items():
        monkeypatch.setenv(STEP_FUNCTION_ENV[step], name)
    config.reset()
    client = config.client("lambda")
    calls: list[dict] = []
    client.meta.events.register("provide-client-params.lambda.Invoke", lambda params, **_: calls.append(params))
    with Stubber(client) as stubber:
        yield calls, stubber


def _failed(aws, ports, *, filename: str = "chelsea.png") -> tuple[str, str]:
    """An image uploaded and run through the steps over ``ports`` until one failed; (image id, key)."""
    _status, _headers, body = declare(filename=filename)
    key, image_id = body["upload"]["fields"]["key"], body["image"]["id"]
    aws.put_object(Bucket=BUCKET, Key=key, Body=CHELSEA.read_bytes(), ContentType="image/png")
    for step in ("compress", "thumbnail", "categorize"):
        if steps.run(ports, step, image_id=image_id, object_key=key).outcome is steps.Outcome.FAILED:
            break
    assert call("GET", f"/v1/images/{image_id}")[2]["status"] == "failed"
    return image_id, key


def test_a_failed_image_is_retried_by_invoking_its_failed_step_until_it_is_ready(aws, lambda_calls):
    # GIVEN an image whose categorize step failed for good (the labeler refused it)
    calls, stubber = lambda_calls
    refusing = replace(config.aws_ports(), labeler=FakeLabeler(error=PermanentError("no", code="Labeler.Invalid")))
    image_id, _key = _failed(aws, refusing)
    # AND declaring its bytes again names where to retry it (the deployment offers the retry)
    assert declare()[2]["retry"] == f"v1/images/{image_id}/retry"
    # WHEN its owner retries it through API Gateway
    stubber.add_response("invoke", {"StatusCode": 202})
    status, _headers, body = call("POST", f"/v1/images/{image_id}/retry")
    # THEN 202 with a pending failure, and categorize's function was invoked asynchronously, once
    assert status == 202, body
    assert (body["status"], body["failure"]["retryable"], body["failure"]["parked"]) == ("failed", True, False)
    (invoked,) = calls
    assert (invoked["FunctionName"], invoked["InvocationType"]) == ("imgmgr-categorize", "Event")
    # AND the categorize handler, run on that event, makes the image ready
    ports = replace(config.aws_ports(), labeler=FakeLabeler())
    result = categorize_handler.make_handler(lambda: ports)(json.loads(invoked["Payload"]), FakeLambdaContext())
    assert [(r["image_id"], r["outcome"]) for r in result["images"]] == [(image_id, "done")]
    assert call("GET", f"/v1/images/{image_id}")[2]["status"] == "ready"


def test_a_failed_compress_is_retried_on_the_s3_event_of_its_original(aws, lambda_calls):
    # GIVEN an image whose compress failed for good (above the pixel limit then in force), its file name
    # with characters S3 URL-encodes in its events
    calls, stubber = lambda_calls
    strict = replace(config.aws_ports(), imaging=ImagingOptions(max_pixels=1000))
    image_id, key = _failed(aws, strict, filename="my cat (1)+2.png")
    assert "+" in key  # S3 events carry it as %2B (and a space as +)
    assert call("GET", f"/v1/images/{image_id}")[2]["failure"]["code"] == "Image.TooManyPixels"
    # WHEN its owner retries it (the limit raised since)
    stubber.add_response("invoke", {"StatusCode": 202})
    assert call("POST", f"/v1/images/{image_id}/retry")[0] == 202
    # THEN compress's function got the original's S3 event, which its handler runs from the original
    (invoked,) = calls
    assert invoked["FunctionName"] == "imgmgr-compress"
    ports = replace(config.aws_ports(), labeler=FakeLabeler())
    result = compress_handler.make_handler(lambda: ports)(json.loads(invoked["Payload"]), FakeLambdaContext())
    assert [(r["image_id"], r["outcome"]) for r in result["images"]] == [(image_id, "done")]
    assert call("GET", f"/v1/images/{image_id}")[2]["status"] == "compressed"


def test_a_retry_that_lambda_refuses_leaves_the_failure_as_it_was(aws, lambda_calls):
    # GIVEN a failed image, and Lambda throttling the invocation
    _calls, stubber = lambda_calls
    refusing = replace(config.aws_ports(), labeler=FakeLabeler(error=PermanentError("no", code="Labeler.Invalid")))
    image_id, _key = _failed(aws, refusing)
    stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    # WHEN its owner retries it THEN 503: try again later
    status, _headers, body = call("POST", f"/v1/images/{image_id}/retry")
    assert (status, body["code"]) == (503, "Dependency.Throttled"), body
    # AND the image is failed as before (not waiting for a step that was never started): retryable again
    failure = call("GET", f"/v1/images/{image_id}")[2]["failure"]
    assert (failure["code"], failure["retryable"]) == ("Labeler.Invalid", False)
    assert declare()[2]["retry"] == f"v1/images/{image_id}/retry"


def test_a_deployment_that_names_no_step_functions_offers_no_retry(aws):
    # GIVEN the API function without the step functions' names (a stack from before retries)
    refusing = replace(config.aws_ports(), labeler=FakeLabeler(error=PermanentError("no", code="Labeler.Invalid")))
    image_id, _key = _failed(aws, refusing)
    # THEN a retry answers 501 with what to do instead, and a declaration offers none
    status, _headers, body = call("POST", f"/v1/images/{image_id}/retry")
    assert (status, body["code"]) == (501, "Retry.Unavailable")
    assert declare()[2]["retry"] is None
