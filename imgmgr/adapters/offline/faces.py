"""Frontal faces with OpenCV's Haar cascade (shipped inside the ``opencv-python-headless`` wheel).

ImageNet has no person class, so the offline labeler adds Rekognition's "Person" and "Face" labels
when this detector finds a face. The cascade's last-stage weight says how face-like a window is; it is
mapped onto a percentage with a logistic curve centred on ``WEIGHT_AT_HALF`` (weights measured on
scikit-image's astronaut: 5.7-7.5; false positives on foliage and brushes: 1.7-4.1).

A ``cv2.CascadeClassifier`` is not safe to share between threads, so each thread loads its own.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgmgr.adapters.offline.errors import ModelUnavailableError

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: Longest side the image is scaled to before detection: the cascade's cost grows with the area.
DETECTION_SIDE = 320
#: Smallest face searched for, as a fraction of the shorter side (smaller faces are rarely found anyway).
MIN_FACE_FRACTION = 1 / 8
#: Smallest face searched for, in pixels of the detection image; a shorter side than this holds none.
MIN_FACE_SIDE = 20
#: Step between the window sizes searched. 1.3 rather than OpenCV's customary 1.1-1.2: a third fewer pyramid
#: levels (face search 24 -> 17 ms of one core on a 1024 px rendition), and on the evaluation set the same
#: faces found (astronaut 97 -> 94%, Grace Hopper 50 -> 83%) with its one false positive gone (a forest, 31%).
SCALE_FACTOR = 1.3
MIN_NEIGHBORS = 5
#: Cascade weight that maps to 50% confidence, and how steeply confidence rises around it.
WEIGHT_AT_HALF = 3.5
WEIGHT_SLOPE = 1.3


@dataclass(frozen=True, slots=True)
class Face:
    """A detected face: box in the coordinates of the image given to :meth:`FaceDetector.detect`."""

    x: int
    y: int
    width: int
    height: int
    confidence: float


class FaceDetector:
    """Frontal-face detector; the cascade file is read lazily, once per thread.

    ``cascade_path``: the cascade XML. Default: OpenCV's ``haarcascade_frontalface_default.xml``.
    ``scale_factor``: step between the window sizes searched. Default: ``SCALE_FACTOR`` (1.3).
    """

    def __init__(self, cascade_path: Path | None = None, *, scale_factor: float = SCALE_FACTOR) -> None:
        if scale_factor <= 1.0:
            raise ValueError(f"scale_factor must be above 1, got {scale_factor}")
        self._cascade_path = cascade_path
        self.scale_factor = scale_factor
        self._local = threading.local()

    def _cascade(self):  # -> cv2.CascadeClassifier
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            try:
                import cv2
            except ImportError as error:
                raise ModelUnavailableError(
                    "face detection needs opencv-python-headless (the 'local' dependency group)"
                ) from error
            path = self._cascade_path or Path(cv2.data.haarcascades) / CASCADE_FILE
            cascade = cv2.CascadeClassifier(str(path))
            if cascade.empty():
                raise ModelUnavailableError(f"face cascade {path.name} is missing or unreadable")
            self._local.cascade = cascade
        return cascade

    def load(self) -> None:
        """Load this thread's cascade now (it is otherwise loaded on first use)."""
        self._cascade()

    def detect(self, gray: np.ndarray) -> list[Face]:
        """Faces in an 8-bit grayscale image, most confident first."""
        import cv2

        cascade = self._cascade()
        height, width = gray.shape
        scale = min(1.0, DETECTION_SIDE / max(height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if min(size) < MIN_FACE_SIDE:
            # No face fits (a thin panorama scaled to the detection side, a tiny image): nothing to find.
            return []
        small = gray
        if scale < 1.0:
            small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        small = cv2.equalizeHist(np.ascontiguousarray(small))
        side = max(MIN_FACE_SIDE, round(min(small.shape) * MIN_FACE_FRACTION))
        rects, _levels, weights = cascade.detectMultiScale3(
            small,
            scaleFactor=self.scale_factor,
            minNeighbors=MIN_NEIGHBORS,
            minSize=(side, side),
            outputRejectLevels=True,
        )
        faces = [
            Face(
                x=round(x / scale),
                y=round(y / scale),
                width=round(w / scale),
                height=round(h / scale),
                confidence=_confidence(float(weight)),
            )
            for (x, y, w, h), weight in zip(rects, np.ravel(weights), strict=True)
        ]
        return sorted(faces, key=lambda face: -face.confidence)


def _confidence(weight: float) -> float:
    return 100.0 / (1.0 + math.exp(-WEIGHT_SLOPE * (weight - WEIGHT_AT_HALF)))
