"""``imgmgr redrive``: the local dead letters back in the queue; a deployment's DLQ replayed on its functions."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from moto import mock_aws
from typer.testing import CliRunner

from imgmgr.cli import _redrive_aws, app
from imgmgr.worker import Queue

FAILURE = Path(__file__).resolve().parents[2] / "events" / "destination_failure.json"


def test_local_redrive_requeues_dead_steps(tmp_path):
    # GIVEN a step that failed until it was parked as dead
    queue = Queue(tmp_path / "queue.sqlite3", max_attempts=1)
    queue.enqueue("img1", "uploads/o/img1/a.png")
    queue.retry(queue.lease(), "boom")
    assert queue.counts().dead == 1
    # WHEN redriving the data directory
    result = CliRunner().invoke(app, ["redrive", "--data-dir", str(tmp_path)])
    # THEN the step is pending again
    assert result.exit_code == 0, result.output
    assert "requeued 1 step(s)" in result.output
    assert queue.counts().pending == 1


class _RecordingLambda:
    def __init__(self) -> None:
        self.invocations: list[dict] = []

    def invoke(self, **kwargs):
        self.invocations.append(kwargs)
        return {"StatusCode": 202}


class _Session:
    """A boto3 session whose Lambda client records invocations (moto runs no Lambda code)."""

    def __init__(self, recorder: _RecordingLambda) -> None:
        self._session = boto3.session.Session(region_name="us-east-1")
        self.region_name = "us-east-1"
        self._recorder = recorder

    def client(self, service: str):
        return self._recorder if service == "lambda" else self._session.client(service)

    def get_partition_for_region(self, region: str) -> str:
        return self._session.get_partition_for_region(region)


def test_aws_redrive_replays_each_failed_event_on_its_function():
    with mock_aws():
        # GIVEN a dead-letter queue with one failure record of the categorize function (account of moto)
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="imgmgr-dlq")["QueueUrl"]
        record = json.loads(FAILURE.read_text())
        record["requestContext"]["functionArn"] = (
            "arn:aws:lambda:us-east-1:123456789012:function:imgmgr-categorize:$LATEST"
        )
        record["requestPayload"] = {"images": [{"image_id": "img1"}]}
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))
        recorder = _RecordingLambda()
        # WHEN redriving it
        report = _redrive_aws(queue_url, max_messages=10, dry_run=False, session=_Session(recorder))
        # THEN the function got its original event again, asynchronously, and the queue is empty
        assert report.replayed == 1
        (call,) = recorder.invocations
        assert call["InvocationType"] == "Event"
        assert call["FunctionName"] == "arn:aws:lambda:us-east-1:123456789012:function:imgmgr-categorize"
        assert json.loads(call["Payload"]) == {"images": [{"image_id": "img1"}]}
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
