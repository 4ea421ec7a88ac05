"""The Lambda retrier's events: each is what its step's handler reads (the handlers run them in tests/api)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import pytest
from botocore.stub import Stubber

from lambdas.adapters.aws.retrier import LambdaRetrier, failed_step, step_event
from lambdas.domain.errors import ThrottledError
from lambdas.domain.records import ImageRecord, new_record
from lambdas.handlers.common import previous_results
from lambdas.steps import Outcome, StepResult

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
FUNCTIONS = {"compress": "p-compress", "thumbnail": "p-thumbnail", "categorize": "p-categorize"}


def _failed_in(step: str) -> ImageRecord:
    record = new_record(image_id="img-1", owner="alice", filename="my-cat+1.jpg", at=T0)
    record = record.uploaded(at=T0, size=1000, sha256="abc", sniffed_format="jpeg", sniffed_mime="image/jpeg")
    failed = record.failed(at=T0, code="Labeler.Invalid", message="no", step=step, retryable=False)
    return failed.retrying(at=T0)


@pytest.mark.parametrize(("step", "previous"), [("thumbnail", "compress"), ("categorize", "thumbnail")])
def test_a_chained_step_gets_the_result_of_the_step_before_it(step: str, previous: str) -> None:
    # GIVEN an image that failed in a chained step WHEN its retry event is built
    event = step_event(step, _failed_in(step), bucket="b")
    # THEN it is one result of the step before, in the shape that step returns, naming the image
    (result,) = previous_results(event)
    assert (
        result.keys()
        == StepResult(step="x", image_id="i", owner="o", state="s", outcome=Outcome.DONE).to_payload().keys()
    )
    parsed = StepResult.from_payload(result)
    assert (parsed.step, parsed.image_id, parsed.outcome) == (previous, "img-1", Outcome.DONE)


def test_compress_gets_the_s3_event_of_the_original_with_its_key_url_encoded() -> None:
    # GIVEN an image that failed in compress, its file name with a plus WHEN its retry event is built
    record = _failed_in("compress")
    (s3_record,) = step_event("compress", record, bucket="b")["Records"]
    # THEN it is an ObjectCreated record of the bucket whose key, decoded as S3 encodes it, is the original's
    assert s3_record["eventName"].startswith("ObjectCreated:")
    assert s3_record["s3"]["bucket"]["name"] == "b"
    assert "+" not in s3_record["s3"]["object"]["key"]
    assert unquote_plus(s3_record["s3"]["object"]["key"]) == record.original_key


def test_a_failure_naming_no_known_step_starts_again_with_compress() -> None:
    assert failed_step(_failed_in("upload")) == "compress"
    assert failed_step(_failed_in("thumbnail")) == "thumbnail"


def test_the_retry_invokes_the_failed_steps_function_asynchronously() -> None:
    # GIVEN the retrier over a stubbed Lambda client
    retrier = LambdaRetrier(FUNCTIONS, bucket="b", client=_lambda_client())
    record = _failed_in("categorize")
    with Stubber(retrier.client) as stubber:
        expected = {
            "FunctionName": "p-categorize",
            "InvocationType": "Event",
            "Payload": json.dumps(step_event("categorize", record, bucket="b")).encode(),
        }
        stubber.add_response("invoke", {"StatusCode": 202}, expected)
        # WHEN it retries a failed categorize THEN categorize's function is invoked with the event
        retrier.retry(record)
        stubber.assert_no_pending_responses()


def test_a_throttled_invocation_is_a_transient_error() -> None:
    retrier = LambdaRetrier(FUNCTIONS, bucket="b", client=_lambda_client())
    with Stubber(retrier.client) as stubber:
        stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
        with pytest.raises(ThrottledError, match="lambda:InvokeFunction"):
            retrier.retry(_failed_in("compress"))


def test_every_step_needs_its_function() -> None:
    with pytest.raises(ValueError, match="functions: no function named for thumbnail"):
        LambdaRetrier({**FUNCTIONS, "thumbnail": ""}, bucket="b", client=_lambda_client())


def _lambda_client():
    import boto3

    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
