"""RekognitionLabeler against a stubbed DetectLabels (botocore Stubber, a realistic response)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdas.adapters.aws.rekognition import RekognitionLabeler
from lambdas.domain.errors import PermanentError, ThrottledError, TransientError
from lambdas.ports import Labeler

EVENTS = Path(__file__).resolve().parents[2] / "events"


def detect_labels_response() -> dict:
    response = json.loads((EVENTS / "rekognition_detect_labels.json").read_text())
    response.pop("ResponseMetadata")
    return response


@pytest.fixture
def stubbed():
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_it_implements_the_port(stubbed):
    client, _ = stubbed
    assert isinstance(RekognitionLabeler(client=client), Labeler)


def test_labels_keep_names_confidences_parents_and_categories(stubbed):
    # GIVEN DetectLabels answering for a cat on a couch
    client, stubber = stubbed
    stubber.add_response("detect_labels", detect_labels_response())
    # WHEN an image is labeled
    labeling = RekognitionLabeler(client=client).detect(b"\xff\xd8jpeg")
    # THEN labels, parents and Rekognition's categories come through
    assert labeling.labels[0].name == "Cat"
    assert labeling.labels[0].parents == ("Animal", "Mammal", "Pet")
    assert labeling.categories == ("Animals and Pets", "Furniture and Furnishings", "Home and Indoors")
    assert "Furniture" in labeling.tags
    assert labeling.model == "rekognition:3.0"


def test_settings_are_sent_as_min_confidence_and_max_labels(stubbed):
    # GIVEN a labeler configured for 85 % and 5 labels
    client, stubber = stubbed
    stubber.add_response(
        "detect_labels",
        detect_labels_response(),
        {"Image": {"Bytes": b"img"}, "MinConfidence": 85.0, "MaxLabels": 5, "Features": ANY},
    )
    # WHEN it labels THEN the request carries them (the stubber checks the parameters)
    RekognitionLabeler(min_confidence=85, max_labels=5, client=client).detect(b"img")


def test_throttling_is_transient(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("detect_labels", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(ThrottledError, match="throttled"):
        RekognitionLabeler(client=client).detect(b"img")


def test_a_service_fault_is_transient(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("detect_labels", "InternalServerError", "oops", 500)
    with pytest.raises(TransientError, match="service side"):
        RekognitionLabeler(client=client).detect(b"img")


def test_an_image_rekognition_cannot_read_is_permanent(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("detect_labels", "InvalidImageFormatException", "bad", 400)
    with pytest.raises(PermanentError, match=r"Labeler\.InvalidImage"):
        RekognitionLabeler(client=client).detect(b"img")


def test_min_confidence_out_of_range_is_refused():
    with pytest.raises(ValueError, match="min_confidence"):
        RekognitionLabeler(min_confidence=120, client=object())


def test_client_is_built_on_first_detect_only() -> None:
    # GIVEN a labeler given a client factory instead of a client (as every function's ports are)
    built: list[object] = []
    client = boto3.client("rekognition", region_name="us-east-1")

    def factory():  # type: ignore[no-untyped-def]
        built.append(client)
        return client

    labeler = RekognitionLabeler(client_factory=factory)
    # WHEN nothing is labeled yet
    # THEN no client was built (compress, thumbnail and api never label)
    assert built == []
    # WHEN an image is labeled twice
    with Stubber(client) as stubber:
        stubber.add_response("detect_labels", {"Labels": []})
        stubber.add_response("detect_labels", {"Labels": []})
        labeler.detect(b"img")
        labeler.detect(b"img")
    # THEN the factory ran once
    assert built == [client]
