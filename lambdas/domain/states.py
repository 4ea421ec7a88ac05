"""The state machine of an image: it only moves forward.

::

    awaiting_upload -> uploaded -> compressed -> thumbnailed -> ready
          \\______________\\____________\\_____________\\-> failed
    (every state but deleted) -> deleted

A step may skip states forward (``awaiting_upload -> compressed`` when the upload and the compression
are recorded at once). ``failed`` is terminal unless the failure is *retryable* (a transient fault whose
retries were exhausted or are still pending): then the record may resume from the state it failed in,
which is how a Lambda retry or a redrive of the dead-letter queue finishes the image. ``deleted`` is
terminal. Stores enforce the rule with a conditional write on the state and version they read.
"""

from __future__ import annotations

from enum import StrEnum


class ImageState(StrEnum):
    """Where an image is in its life."""

    AWAITING_UPLOAD = "awaiting_upload"
    UPLOADED = "uploaded"
    COMPRESSED = "compressed"
    THUMBNAILED = "thumbnailed"
    READY = "ready"
    FAILED = "failed"
    DELETED = "deleted"


#: The happy path, in order.
PIPELINE: tuple[ImageState, ...] = (
    ImageState.AWAITING_UPLOAD,
    ImageState.UPLOADED,
    ImageState.COMPRESSED,
    ImageState.THUMBNAILED,
    ImageState.READY,
)

_RANK = {state: rank for rank, state in enumerate(PIPELINE)}


def rank(state: ImageState) -> int:
    """Position of a pipeline state on the happy path; ``failed`` and ``deleted`` rank after ``ready``."""
    return _RANK.get(state, len(PIPELINE))


def is_forward(src: ImageState, dst: ImageState, *, resume_from: ImageState | None = None) -> bool:
    """Whether ``src -> dst`` moves forward (or stays, for an update that keeps the state).

    ``resume_from`` is the state a *retryable* failure happened in: a failed record may go on to any
    pipeline state at or after it, or to a new failure.
    """
    if src is ImageState.DELETED:
        return False
    if dst is ImageState.DELETED:
        return True
    if src is ImageState.FAILED:
        if dst is ImageState.FAILED:
            return True
        return resume_from is not None and dst in _RANK and rank(dst) >= rank(resume_from)
    if dst is ImageState.FAILED:
        return src is not ImageState.READY
    return rank(dst) >= rank(src)
