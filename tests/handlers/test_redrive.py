"""Redrive: dead-letter queue messages (on-failure destination records) are replayed on their function."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from lambdas import config
from lambdas.handlers import redrive
from tests.handlers.conftest import BUCKET, TABLE, failure_record, s3_event

KEY = "uploads/alice/img-0003/photo.jpg"
#: The destination records name the function qualified with ``$LATEST``; the replay invokes it unqualified.
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:imgmgr-compress"


@pytest.fixture
def lambda_client(aws):
    return boto3.client("lambda", region_name="us-east-1")


@pytest.fixture
def lambda_stub(lambda_client):
    """The Lambda client stubbed (moto runs no functions): every invoke must be expected."""
    with Stubber(lambda_client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def handler(aws, lambda_client, lambda_stub):
    """The redrive handler over moto's queue and SQS, and the stubbed Lambda client."""
    settings = config.Settings(bucket=BUCKET, table=TABLE, dlq_url=aws["queue_url"])
    sqs = boto3.client("sqs", region_name="us-east-1")
    return redrive.make_handler(settings=lambda: settings, sqs=lambda: sqs, lambda_client=lambda: lambda_client)


def _queue(aws, body):
    boto3.client("sqs", region_name="us-east-1").send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(body))


def _depth(aws):
    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=aws["queue_url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_failed_event_is_invoked_again_on_its_function_and_removed(aws, lambda_stub, handler, context):
    # GIVEN the S3 event of a compress whose retries were exhausted, in the queue
    event = s3_event(KEY, 1000)
    _queue(aws, failure_record(event, function="compress"))
    lambda_stub.add_response(
        "invoke",
        {"StatusCode": 202},
        {"FunctionName": FUNCTION, "InvocationType": "Event", "Payload": json.dumps(event).encode()},
    )
    # WHEN the redrive runs
    report = handler({}, context)
    # THEN compress was invoked asynchronously with the original event and the message is gone
    assert (report["replayed"], report["kept"]) == (1, [])
    assert _depth(aws) == 0


def test_the_replay_invokes_the_unqualified_arn_that_the_role_is_allowed(aws, lambda_stub, handler, context):
    # GIVEN a failure record naming compress as Lambda does, with the $LATEST qualifier
    event = s3_event(KEY, 1000)
    record = failure_record(event, function="compress")
    assert record["requestContext"]["functionArn"] == f"{FUNCTION}:$LATEST"
    _queue(aws, record)
    # WHEN the redrive runs THEN it invokes the unqualified ARN (the stubbed call fails on any other)
    lambda_stub.add_response(
        "invoke",
        {"StatusCode": 202},
        {"FunctionName": FUNCTION, "InvocationType": "Event", "Payload": json.dumps(event).encode()},
    )
    assert handler({}, context)["replayed"] == 1


def test_a_version_qualifier_is_kept_since_it_names_other_code():
    assert redrive.unqualified(f"{FUNCTION}:7") == f"{FUNCTION}:7"
    assert redrive.unqualified(f"{FUNCTION}:$LATEST") == FUNCTION


def test_a_record_for_a_function_of_another_account_stays_in_the_queue(aws, lambda_stub, handler, context):
    # GIVEN a message naming a function outside this account
    record = failure_record(s3_event(KEY, 1000), function="compress")
    record["requestContext"]["functionArn"] = "arn:aws:lambda:us-east-1:999999999999:function:evil"
    _queue(aws, record)
    # WHEN the redrive runs THEN nothing is invoked and the message is kept, with the reason
    report = handler({}, context)
    assert report["replayed"] == 0
    assert "outside" in report["kept"][0]["reason"]
    assert _depth(aws) == 1


def test_a_dry_run_invokes_nothing(aws, lambda_stub, handler, context):
    # GIVEN a replayable message WHEN a dry run goes over the queue THEN it is seen but kept
    _queue(aws, failure_record(s3_event(KEY, 1000), function="compress"))
    report = handler({"dry_run": True}, context)
    assert (report["seen"], report["replayed"], report["kept"][0]["reason"]) == (1, 0, "dry run")


def test_a_message_that_is_not_a_destination_record_is_kept(aws, lambda_stub, handler, context):
    _queue(aws, {"hello": "world"})
    report = handler({}, context)
    assert report["kept"][0]["reason"] == "not a Lambda destination record"


def test_the_functions_handler_drains_the_queue_its_environment_names(aws, context):
    # GIVEN IMGMGR_DLQ_URL naming the queue (the aws fixture), holding a message that is no record
    _queue(aws, {"hello": "world"})
    # WHEN the handler its function's handler string names runs (the container's settings and clients)
    report = redrive.handler({}, context)
    # THEN it read that queue, and kept the message with the reason
    assert (report["seen"], report["replayed"]) == (1, 0)
    assert report["kept"][0]["reason"] == "not a Lambda destination record"
