"""Redrive: dead-letter queue messages (on-failure destination records) are replayed on their function."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from lambdas import config
from lambdas.handlers import redrive
from tests.handlers.conftest import failure_record, s3_event

KEY = "uploads/alice/img-0003/photo.jpg"
#: The destination records name the function qualified with ``$LATEST``; the replay invokes it unqualified.
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:imgmgr-compress"


@pytest.fixture
def lambda_stub(aws, monkeypatch):
    """A stubbed Lambda client (moto runs no functions) next to moto's SQS."""
    client = boto3.client("lambda", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    monkeypatch.setattr(config, "client", lambda service: {"lambda": client, "sqs": sqs}[service])
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _queue(aws, body):
    boto3.client("sqs", region_name="us-east-1").send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(body))


def _depth(aws):
    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=aws["queue_url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_failed_event_is_invoked_again_on_its_function_and_removed(aws, lambda_stub, context):
    # GIVEN the S3 event of a compress whose retries were exhausted, in the queue
    event = s3_event(KEY, 1000)
    _queue(aws, failure_record(event, function="compress"))
    lambda_stub.add_response(
        "invoke",
        {"StatusCode": 202},
        {"FunctionName": FUNCTION, "InvocationType": "Event", "Payload": json.dumps(event).encode()},
    )
    # WHEN the redrive runs
    report = redrive.handler({}, context)
    # THEN compress was invoked asynchronously with the original event and the message is gone
    assert (report["replayed"], report["kept"]) == (1, [])
    assert _depth(aws) == 0


def test_the_replay_invokes_the_unqualified_arn_that_the_role_is_allowed(aws, lambda_stub, context):
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
    assert redrive.handler({}, context)["replayed"] == 1


def test_a_version_qualifier_is_kept_since_it_names_other_code():
    assert redrive.unqualified(f"{FUNCTION}:7") == f"{FUNCTION}:7"
    assert redrive.unqualified(f"{FUNCTION}:$LATEST") == FUNCTION


def test_a_record_for_a_function_of_another_account_stays_in_the_queue(aws, lambda_stub, context):
    # GIVEN a message naming a function outside this account
    record = failure_record(s3_event(KEY, 1000), function="compress")
    record["requestContext"]["functionArn"] = "arn:aws:lambda:us-east-1:999999999999:function:evil"
    _queue(aws, record)
    # WHEN the redrive runs THEN nothing is invoked and the message is kept, with the reason
    report = redrive.handler({}, context)
    assert report["replayed"] == 0
    assert "outside" in report["kept"][0]["reason"]
    assert _depth(aws) == 1


def test_a_dry_run_invokes_nothing(aws, lambda_stub, context):
    # GIVEN a replayable message WHEN a dry run goes over the queue THEN it is seen but kept
    _queue(aws, failure_record(s3_event(KEY, 1000), function="compress"))
    report = redrive.handler({"dry_run": True}, context)
    assert (report["seen"], report["replayed"], report["kept"][0]["reason"]) == (1, 0, "dry run")


def test_a_message_that_is_not_a_destination_record_is_kept(aws, lambda_stub, context):
    _queue(aws, {"hello": "world"})
    report = redrive.handler({}, context)
    assert report["kept"][0]["reason"] == "not a Lambda destination record"
