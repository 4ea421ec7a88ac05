"""The three pipeline steps over the local adapters, as the worker runs them.

The steps are the Lambdas' own (``lambdas.steps``); only the labeler differs: the bundled offline one
when it can load, else none at all (the log says so, and images become ready without labels: the product
never invents labels).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from lambdas import steps
from lambdas.domain.errors import ImgMgrError
from lambdas.domain.labels import Labeling
from lambdas.domain.originals import OriginalsPolicy
from lambdas.domain.states import ImageState
from lambdas.imaging import ImagingOptions
from lambdas.ports import Clock, EventSink, Labeler, MetadataStore, ObjectStore

logger = logging.getLogger("imgmgr.pipeline")


class NoLabeler:
    """``Labeler`` that sees nothing: used when the offline labeler is not installed."""

    def detect(self, image: bytes) -> Labeling:
        return Labeling(labels=(), model="")


def default_labeler(models_dir: Path) -> tuple[Labeler, str]:
    """The offline labeler when importable, else ``NoLabeler``; with a name for the log."""
    try:
        # Optional: it needs the "local" extra (onnxruntime, the weights package).
        from imgmgr.adapters.offline.labeler import OfflineLabeler
    except ImportError as exc:
        logger.warning("offline labeler unavailable (%s): images will have no labels or categories", exc)
        return NoLabeler(), "none (offline labeler not installed)"
    # Its detectors load only when fetched (`make venv`); one that cannot is left out, with a warning.
    return OfflineLabeler(models_dir), "offline (EfficientNet-Lite0, CenterNet objects, face cascade, PP-OCR text)"


class LocalPipeline:
    """Runs ``compress``, ``thumbnail`` and ``categorize`` for one image over the local adapters."""

    def __init__(
        self,
        *,
        objects: ObjectStore,
        metadata: MetadataStore,
        events: EventSink,
        clock: Clock,
        models_dir: Path,
        labeler: Labeler | None = None,
        imaging: ImagingOptions | None = None,
        max_attempts: int | None = None,
        originals: OriginalsPolicy | None = None,
    ) -> None:
        if labeler is None:
            labeler, self.labeler_name = default_labeler(models_dir)
        else:
            self.labeler_name = type(labeler).__name__
        self.ports = steps.Ports(
            objects=objects,
            metadata=metadata,
            labeler=labeler,
            events=events,
            clock=clock,
            imaging=imaging or ImagingOptions(),
            max_attempts=max_attempts,
            originals=originals or OriginalsPolicy(policy="keep"),
        )

    def warm_up(self) -> None:
        """Load the labeler's model now, in this thread, before any worker needs it.

        Loading once up front keeps the first image fast and keeps worker threads from importing the
        model's libraries concurrently. A labeler that cannot load is replaced by none (and the log says so).
        """
        load = getattr(self.ports.labeler, "load", None)
        if load is None:
            return
        try:
            load()
        except (ImgMgrError, ImportError, OSError, RuntimeError) as exc:
            logger.warning("the labeler cannot load (%s): images will have no labels or categories", exc)
            self.ports = replace(self.ports, labeler=NoLabeler())
            self.labeler_name = "none (the offline labeler failed to load)"

    def run_step(self, step: str, image_id: str, object_key: str) -> bool:
        """Run ``step`` for the image; whether a next step should follow (False: the image is finished).

        A ``TransientError`` (including ``NotReadyError``) propagates for the worker to retry.
        """
        result = steps.run(self.ports, step, image_id=image_id, object_key=object_key)
        if result.outcome is not steps.Outcome.DONE:
            logger.info("image %s: %s %s (%s)", image_id, step, result.outcome.value, result.code or result.state)
        if result.outcome is steps.Outcome.FAILED:
            return False
        if result.outcome is steps.Outcome.SKIPPED:
            record = self.ports.metadata.get(image_id)
            if record is None or record.state is ImageState.DELETED:
                return False
            if record.state is ImageState.FAILED and not (record.failure and record.failure.retryable):
                return False
        return True
