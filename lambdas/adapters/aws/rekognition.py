"""``Labeler`` over Amazon Rekognition ``DetectLabels``.

Labels keep Rekognition's names, confidences, parents and label categories; the image's categories are
the categories of its labels (``lambdas.domain.labels.Labeling.categories``). ``min_confidence`` and
``max_labels`` come from settings (``IMGMGR_MIN_CONFIDENCE``, ``IMGMGR_MAX_LABELS``). Throttling and
service faults raise ``TransientError`` (retried); an image Rekognition cannot read raises a
``PermanentError`` with code ``"Labeler.InvalidImage"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import error_code, translate
from lambdas.domain.errors import PermanentError
from lambdas.domain.labels import Label, Labeling

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

#: Rekognition's answer for bytes it cannot use: the image is at fault, retrying cannot help.
INVALID_IMAGE_CODES = frozenset({"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"})


class RekognitionLabeler:
    """``Labeler`` calling ``DetectLabels`` with ``GENERAL_LABELS``.

    ``min_confidence``: percent, default 70. ``max_labels``: default 20. ``client`` is used as given;
    without it, ``client_factory`` (default: a new boto3 Rekognition client) builds one on the first
    ``detect``, so that functions which never label (compress, thumbnail, api) do not pay for a client at
    cold start.
    """

    def __init__(
        self,
        *,
        min_confidence: float = 70.0,
        max_labels: int = 20,
        client: RekognitionClient | None = None,
        client_factory: Callable[[], RekognitionClient] | None = None,
    ) -> None:
        if not 0 <= min_confidence <= 100:
            raise ValueError(f"min_confidence must be 0..100, got {min_confidence}")
        if max_labels < 1:
            raise ValueError(f"max_labels must be at least 1, got {max_labels}")
        self.min_confidence = min_confidence
        self.max_labels = max_labels
        self._client = client
        self._client_factory = client_factory

    @property
    def client(self) -> RekognitionClient:
        """The Rekognition client, built on first use when none was given."""
        if self._client is None:
            self._client = self._client_factory() if self._client_factory else boto3.client("rekognition")
        return self._client

    def detect(self, image: bytes) -> Labeling:
        try:
            response = self.client.detect_labels(
                Image={"Bytes": image},
                MaxLabels=self.max_labels,
                MinConfidence=self.min_confidence,
                Features=["GENERAL_LABELS"],
            )
        except ClientError as exc:
            code = error_code(exc)
            if code in INVALID_IMAGE_CODES:
                raise PermanentError(
                    f"Rekognition cannot label this image ({code})", code="Labeler.InvalidImage"
                ) from exc
            raise translate(exc, "rekognition:DetectLabels") from exc
        except BotoCoreError as exc:
            raise translate(exc, "rekognition:DetectLabels") from exc
        labels = tuple(
            Label(
                name=item["Name"],
                confidence=round(float(item.get("Confidence", 0.0)), 3),
                parents=tuple(parent["Name"] for parent in item.get("Parents", [])),
                categories=tuple(category["Name"] for category in item.get("Categories", [])),
            )
            for item in sorted(response.get("Labels", []), key=lambda item: -float(item.get("Confidence", 0.0)))
        )
        version = response.get("LabelModelVersion")
        return Labeling(labels, f"rekognition:{version}" if version else "rekognition")
