"""Handlers in-process over moto (S3, DynamoDB, SQS): environment, resources, ports, real event shapes.

moto runs no Lambda and delivers no destinations: tests build the S3 event and the destination
envelopes from the shapes in ``tests/events`` and chain the handlers themselves.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws

from lambdas import config
from lambdas.adapters.aws.dynamodb import create_table_kwargs
from lambdas.handlers import categorize, compress, thumbnail
from lambdas.handlers.common import Handler
from lambdas.steps import Ports
from tests.fakes import FakeClock, FakeLabeler, FakeLambdaContext, RecordingEventSink

EVENTS = Path(__file__).resolve().parents[1] / "events"
BUCKET = "imgmgr-test-bucket"
TABLE = "imgmgr-test-table"
#: A real photo (a Eurasian nuthatch, 6028x3391, 4.4 MB) from the Debian package lomiri-wallpapers.
REAL_PHOTO = Path("/usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg")


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def s3_event(key: str, size: int) -> dict:
    """The S3 ObjectCreated event for ``key`` in the test bucket, the key URL-encoded as S3 sends it."""
    event = load_event("s3_object_created.json")
    record = event["Records"][0]["s3"]
    record["bucket"]["name"] = BUCKET
    record["bucket"]["arn"] = f"arn:aws:s3:::{BUCKET}"
    record["object"]["key"] = quote_plus(key, safe="/")
    record["object"]["size"] = size
    return event


def envelope(request: dict, response: dict, *, function: str) -> dict:
    """The on-success destination envelope of ``function`` invoked with ``request``, answering ``response``."""
    event = load_event("destination_success.json")
    event["requestContext"]["functionArn"] = f"arn:aws:lambda:us-east-1:123456789012:function:imgmgr-{function}:$LATEST"
    event["requestPayload"] = copy.deepcopy(request)
    event["responsePayload"] = copy.deepcopy(response)
    return event


def failure_record(request: dict, *, function: str) -> dict:
    """The on-failure (RetriesExhausted) destination record that lands in the dead-letter queue."""
    event = load_event("destination_failure.json")
    event["requestContext"]["functionArn"] = f"arn:aws:lambda:us-east-1:123456789012:function:imgmgr-{function}:$LATEST"
    event["requestPayload"] = copy.deepcopy(request)
    return event


@pytest.fixture
def aws(monkeypatch):
    """moto with the bucket, table and queue, and the functions' environment pointing at them."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        boto3.client("dynamodb", region_name="us-east-1").create_table(**create_table_kwargs(TABLE))
        queue_url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="imgmgr-dlq")["QueueUrl"]
        monkeypatch.setenv("IMGMGR_BUCKET", BUCKET)
        monkeypatch.setenv("IMGMGR_TABLE", TABLE)
        monkeypatch.setenv("IMGMGR_DLQ_URL", queue_url)
        monkeypatch.setenv("IMGMGR_MAX_PIXELS", "40000000")
        config.reset()
        yield {"s3": s3, "queue_url": queue_url}
        monkeypatch.undo()
        config.reset()


@pytest.fixture
def labeler():
    return FakeLabeler()


@pytest.fixture
def events():
    return RecordingEventSink()


@pytest.fixture
def clock():
    return FakeClock(tick_seconds=1)


@pytest.fixture
def ports(aws, labeler, events, clock):
    """The functions' own ports (S3, DynamoDB over moto) with a fake labeler, clock and event sink."""
    return replace(config.aws_ports(), labeler=labeler, events=events, clock=clock)


@dataclass(frozen=True, kw_only=True)
class StepHandlers:
    """The three step functions' handlers, built over the same ports."""

    compress: Handler
    thumbnail: Handler
    categorize: Handler


def step_handlers(ports: Ports) -> StepHandlers:
    """Each step's handler as its function builds it (``make_handler``), over ``ports`` instead of AWS's."""
    return StepHandlers(
        compress=compress.make_handler(lambda: ports),
        thumbnail=thumbnail.make_handler(lambda: ports),
        categorize=categorize.make_handler(lambda: ports),
    )


@pytest.fixture
def handlers(ports) -> StepHandlers:
    """The step handlers over the ``ports`` fixture."""
    return step_handlers(ports)


@pytest.fixture
def context():
    return FakeLambdaContext()


@pytest.fixture(autouse=True)
def _clean_metrics():
    """Powertools keeps metrics in class state: start and end every test empty."""
    Metrics().clear_metrics()
    yield
    Metrics().clear_metrics()


@pytest.fixture(scope="session")
def real_photo() -> bytes:
    if not REAL_PHOTO.is_file():
        pytest.fail(f"{REAL_PHOTO} is missing: install the Debian package lomiri-wallpapers")
    return REAL_PHOTO.read_bytes()


@pytest.fixture(scope="session")
def photo() -> bytes:
    """A small photo-like JPEG (640x480: gradients, edges, noise), quick to run through every step."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(4)
    y, x = np.mgrid[0:480, 0:640]
    rgb = np.stack(
        [128 + 100 * np.sin(x / 23.0) * np.cos(y / 17.0), 255 * x / 639, np.where((x // 40 + y // 40) % 2, 210, 50)],
        axis=-1,
    )
    pixels = np.clip(rgb + rng.normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()
