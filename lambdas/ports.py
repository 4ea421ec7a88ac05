"""Ports: the protocols the pure core and the steps talk to; adapters in ``lambdas/adapters`` implement them.

Only typing here: no I/O, no boto3, no environment.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from lambdas.domain.labels import Labeling


@runtime_checkable
class Labeler(Protocol):
    """Says what an image shows, in Rekognition's vocabulary.

    ``image`` is a JPEG or PNG (the analysis rendition: at most 1024 px, well under 5 MB).
    Raises ``lambdas.domain.errors.TransientError`` for faults worth retrying (throttling, timeouts).
    """

    def detect(self, image: bytes) -> Labeling: ...
