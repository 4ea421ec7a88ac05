"""The full chain in-process: S3 event -> compress -> (envelope) thumbnail -> (envelope) categorize."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import boto3
from botocore.stub import Stubber

from lambdas.adapters.aws.rekognition import RekognitionLabeler
from lambdas.domain.events import EventType
from lambdas.domain.queries import ImageQuery
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState
from lambdas.handlers import compress
from tests.handlers.conftest import BUCKET, envelope, load_event, s3_event, step_handlers

OWNER = "alice@example.com"
IMAGE_ID = "01JJ7Q3M5V8E2K9X4T6R0ABCDE"
KEY = f"uploads/{OWNER}/{IMAGE_ID}/kleiber+nuthatch=1.jpg"


def run_chain(handlers, context, key, size):
    """Deliver the S3 event and each destination envelope in turn; the three handler results."""
    first_event = s3_event(key, size)
    first = handlers.compress(first_event, context)
    second_event = envelope(first_event, first, function="compress")
    second = handlers.thumbnail(second_event, context)
    third = handlers.categorize(envelope(second_event, second, function="thumbnail"), context)
    return first, second, third


def upload(aws, key, data):
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=data)


def test_a_real_photo_goes_through_the_chain_and_is_found_by_category(
    aws, ports, handlers, context, real_photo, events
):
    # GIVEN the API's record and a real photo uploaded under its key
    ports.metadata.create(
        new_record(image_id=IMAGE_ID, owner=OWNER, filename="kleiber+nuthatch=1.jpg", at=ports.clock.now())
    )
    upload(aws, KEY, real_photo)
    # WHEN the three handlers run in turn
    first, second, third = run_chain(handlers, context, KEY, len(real_photo))
    # THEN each step did its work, the image is ready and it is found by category
    assert [r["images"][0]["outcome"] for r in (first, second, third)] == ["done", "done", "done"]
    record = ports.metadata.get(IMAGE_ID)
    assert record.state is ImageState.READY
    assert {r.name for r in record.renditions} == {"compressed", "thumb-256", "thumb-1024", "analysis"}
    page = ports.metadata.query(ImageQuery(owner=OWNER, category="Animals and Pets"))
    assert [r.image_id for r in page.items] == [IMAGE_ID]
    assert ports.metadata.category_counts() == {"Animals and Pets": 1, "Furniture and Furnishings": 1}
    # AND the renditions are in the bucket, the original untouched, and both events were emitted
    keys = {o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {r.key for r in record.renditions} | {KEY} == keys
    assert aws["s3"].get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == real_photo
    assert [e.event_type for e in events.events] == [EventType.UPLOAD, EventType.PROCESSED]
    assert record.rendition("compressed").size < len(real_photo)


def test_the_url_encoded_key_of_the_event_is_decoded(aws, ports, handlers, context, real_photo):
    # GIVEN an upload whose owner and filename need URL encoding (@, +, =), and no API record
    upload(aws, KEY, real_photo)
    event = s3_event(KEY, len(real_photo))
    assert "%40" in event["Records"][0]["s3"]["object"]["key"]
    # WHEN compress handles the event THEN it found the object and adopted the record from the key
    result = handlers.compress(event, context)["images"][0]
    assert (result["outcome"], result["owner"]) == ("done", OWNER)
    assert ports.metadata.get(IMAGE_ID).filename == "kleiber+nuthatch=1.jpg"


def test_the_chain_with_rekognition_categorizes_by_rekognitions_categories(aws, ports, context, real_photo):
    # GIVEN Rekognition (stubbed) answering with a realistic DetectLabels response
    client = boto3.client("rekognition", region_name="us-east-1")
    response = load_event("rekognition_detect_labels.json")
    response.pop("ResponseMetadata")
    with Stubber(client) as stubber:
        stubber.add_response("detect_labels", response)
        stubbed = replace(ports, labeler=RekognitionLabeler(min_confidence=70, max_labels=20, client=client))
        upload(aws, KEY, real_photo)
        # WHEN the chain runs
        run_chain(step_handlers(stubbed), context, KEY, len(real_photo))
        stubber.assert_no_pending_responses()
    # THEN the image is listed under Rekognition's categories and its labels' parents
    record = ports.metadata.get(IMAGE_ID)
    assert record.categories == ("Animals and Pets", "Furniture and Furnishings", "Home and Indoors")
    assert record.labeler_model == "rekognition:3.0"
    assert [r.image_id for r in ports.metadata.query(ImageQuery(category="Home and Indoors")).items] == [IMAGE_ID]
    assert [r.image_id for r in ports.metadata.query(ImageQuery(owner=OWNER, label="Mammal")).items] == [IMAGE_ID]


def test_the_handlers_log_the_image_id_and_publish_metrics(
    aws, ports, handlers, context, real_photo, capsys, monkeypatch
):
    # GIVEN an uploaded photo, and the logger writing to a buffer
    upload(aws, KEY, real_photo)
    buffer = io.StringIO()
    monkeypatch.setattr(compress.logger.registered_handler, "stream", buffer)
    # WHEN compress runs
    handlers.compress(s3_event(KEY, len(real_photo)), context)
    # THEN its log lines carry the image id and its EMF blob has the step's metrics
    logs = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [log["correlation_id"] for log in logs if log["message"] == "step finished"] == [IMAGE_ID]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = next(line for line in lines if "_aws" in line)
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"ProcessingMs", "BytesSaved"} <= names
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ImgMgrTest"
    assert emf["step"] == "compress"


def test_a_kept_original_counts_its_original_bytes_as_stored_in_the_processed_event(aws, ports, context, events):
    # GIVEN functions at a high fixed quality, and a small low-quality JPEG with GPS, which no re-encoding
    # beats: kept as its own compressed rendition (the stored object is the original)
    from lambdas.imaging import ImagingOptions
    from tests.unit.imaging import imaging_samples as samples

    data = samples.jpeg(320, 240, quality=20, exif=samples.exif_with(gps=True, copyright="Ada", serial="SN123"))
    fixed = step_handlers(replace(ports, imaging=ImagingOptions(fixed_quality=95)))
    ports.metadata.create(
        new_record(image_id=IMAGE_ID, owner=OWNER, filename="kleiber+nuthatch=1.jpg", at=ports.clock.now())
    )
    upload(aws, KEY, data)
    # WHEN the chain runs
    run_chain(fixed, context, KEY, len(data))
    record = ports.metadata.get(IMAGE_ID)
    assert record.rendition("compressed").kept_original
    # THEN the processed event says the original's bytes are what is stored, so the lake's bytes saved
    # agree with the record's usage (nothing saved)
    [processed] = [e for e in events.events if e.event_type is EventType.PROCESSED]
    assert processed.bytes_out == processed.bytes_in == len(data)
    assert record.usage().bytes_saved == 0
