"""The three pipeline steps as plain functions over the ports: used by the Lambda handlers and the local worker.

Each step is idempotent and safe to run twice, concurrently or out of order:

- it reads the record and does nothing (outcome ``skipped``) when the record is already at or past the
  state the step produces, deleted, or failed for good;
- it raises ``NotReadyError`` (transient: retried) when the step it depends on has not finished;
- its side effects are deterministic overwrites (renditions under fixed keys), and the record moves on
  only through a conditional write: of two concurrent runs exactly one wins, the other sees the record
  already moved and reports ``skipped``. Counters change in that same write; analytics events are
  emitted only by the winner, with deterministic ids.

Failures: a ``PermanentError`` (bad image, missing object, checksum mismatch) moves the record to
``failed`` with the error's code and returns normally (outcome ``failed``), so Lambda does not retry and
the original is kept. A ``TransientError`` (throttling, timeouts, a lost race that did not settle) or
an unexpected exception records a *retryable* failure and propagates, so that Lambda retries and, after
its retries, the event lands in the dead-letter queue; a retry or redrive resumes the record.

Deletes: before a step writes a rendition it reserves the key in the record (``ImageRecord.reserved_keys``),
so the tombstone a DELETE writes names every object the image may have, also one written by a step that
has not committed yet. A step that meets a tombstone (before its work, or when its commit loses to the
delete) purges the image's objects it may delete; a run that died before that purge is completed by the
step's next run (a Lambda retry, a redrive, the local queue after a restart) or by a repeated DELETE.

Size: the three steps and the write protocol they share (versioned commits, key reservation, purges on a
tombstone, failure recording) are one module on purpose: each step is read against that protocol, and
split apart every step module would import the other's private helpers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from lambdas import imaging
from lambdas.contract import CATEGORIZE, COMPRESS, RENDITIONS_PREFIX, STEPS, THUMBNAIL, UPLOADS_PREFIX
from lambdas.domain.duplicates import join_near_duplicates
from lambdas.domain.errors import (
    ChecksumMismatchError,
    ImgMgrError,
    InvalidTransitionError,
    NotFoundError,
    NotReadyError,
    PermanentError,
    RecordExistsError,
    StaleRecordError,
    TransientError,
    UploadTooLargeError,
)
from lambdas.domain.events import AnalyticsEvent, EventType, pipeline_event_id
from lambdas.domain.originals import OriginalsPolicy
from lambdas.domain.records import (
    ImageRecord,
    StoredRendition,
    UploadKey,
    new_record,
    rendition_key,
)
from lambdas.domain.states import ImageState, rank
from lambdas.ports import Clock, EventSink, Labeler, MetadataStore, ObjectStore

_WRITE_ATTEMPTS = 3


class Outcome(StrEnum):
    """What a step did."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class Ports:
    """Everything a step talks to, and the image options it applies."""

    objects: ObjectStore
    metadata: MetadataStore
    labeler: Labeler
    events: EventSink
    clock: Clock
    imaging: imaging.ImagingOptions = field(default_factory=imaging.ImagingOptions)
    originals: OriginalsPolicy = field(default_factory=OriginalsPolicy)
    """What happens to an original once its compressed rendition is verified (``lambdas.domain.originals``)."""
    max_attempts: int | None = None
    """Attempts the runtime makes of a step (Lambda: 1 + its retry attempts; locally the queue's): the
    failure that reaches it is recorded as parked. None: never parked."""


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """What a step returns; its ``to_payload()`` is the Lambda response the next step receives.

    ``code`` is the failure or skip reason (``"Image.NotAnImage"``, ``"Record.NotFound"``);
    ``bytes_saved`` is set by a compress that did the work; ``duration_ms`` is the step's own time.
    """

    step: str
    image_id: str | None
    owner: str | None
    state: str | None
    outcome: Outcome
    code: str | None = None
    bytes_saved: int | None = None
    duration_ms: float = 0.0

    def to_payload(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "image_id": self.image_id,
            "owner": self.owner,
            "state": self.state,
            "outcome": self.outcome.value,
            "code": self.code,
            "bytes_saved": self.bytes_saved,
            "duration_ms": round(self.duration_ms, 3),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> StepResult:
        return cls(
            step=str(payload["step"]),
            image_id=payload.get("image_id"),
            owner=payload.get("owner"),
            state=payload.get("state"),
            outcome=Outcome(payload["outcome"]),
            code=payload.get("code"),
            bytes_saved=payload.get("bytes_saved"),
            duration_ms=float(payload.get("duration_ms") or 0.0),
        )


# --- the steps -------------------------------------------------------------------------------------------


def compress(ports: Ports, key: str) -> StepResult:
    """Step 1, on the original at ``key`` (``uploads/<owner>/<image_id>/<filename>``, already unquoted).

    Records the upload (size, SHA-256), checks it against the declared hash and the size limit, writes
    the compressed rendition and moves the record to ``compressed``. A record the API did not create
    (an object put straight into the bucket) is adopted from the key. An original that arrives for a
    deleted image is deleted.
    """
    started = time.perf_counter()
    upload = UploadKey.parse(key)
    record = _record_for_upload(ports, upload)
    if record.owner != upload.owner or record.filename != upload.filename:
        return _result(COMPRESS, record, Outcome.SKIPPED, started, code="Upload.KeyMismatch")
    if record.state is ImageState.DELETED:
        # The bytes arrived after the image was deleted (its presigned POST stays valid for minutes), or an
        # earlier run died between its write and its purge: the delete removed what existed then, so what
        # is left goes now, or it would stay in the bucket uncounted and out of reach of the API. Deleting a
        # missing object is a no-op: a repeat is safe.
        _purge(ports, record, COMPRESS)
        return _result(COMPRESS, record, Outcome.SKIPPED, started)
    if _done_or_final(record, ImageState.COMPRESSED):
        if record.original_expires_at is not None and record.original_removed_at is None:
            ports.objects.mark_replaceable(key)  # a repeat of the event, or the retry of a failed tagging
        return _result(COMPRESS, record, Outcome.SKIPPED, started)

    def work() -> StepResult:
        nonlocal record
        info = ports.objects.head(key)
        if info is None:
            raise NotFoundError(f"the original {key!r} is not in the store")
        if info.size > ports.imaging.max_input_bytes:
            raise UploadTooLargeError(f"{info.size} bytes exceed the limit of {ports.imaging.max_input_bytes}")
        data = ports.objects.get(key)
        digest = hashlib.sha256(data).hexdigest()
        if record.declared_sha256 and record.declared_sha256.lower() != digest:
            raise ChecksumMismatchError(f"declared SHA-256 {record.declared_sha256} but the bytes hash to {digest}")
        if rank(_effective_state(record)) < rank(ImageState.UPLOADED):
            moved = _commit(
                ports,
                record,
                ImageState.UPLOADED,
                lambda r: r.uploaded(
                    at=ports.clock.now(), size=len(data), sha256=digest, sniffed_format=None, sniffed_mime=None
                ),
                step=COMPRESS,
            )
            if moved is None:
                return _result(COMPRESS, _reread(ports, record), Outcome.SKIPPED, started)
            record = moved
            _emit(ports, record, EventType.UPLOAD, bytes_in=len(data), fmt=None)
        result = imaging.compress(data, ports.imaging)
        output = result.rendition("compressed")
        reserved = _reserve(ports, COMPRESS, record, (output,), ImageState.COMPRESSED)
        if reserved is None:
            return _result(COMPRESS, _reread(ports, record), Outcome.SKIPPED, started)
        record = reserved
        stored = _store(ports, record, output, original_key=key)
        saved = 0 if output.kept_original else max(0, len(data) - len(output.data))
        replaceable = _verified(ports, output, result.info)
        # S3 counts lifecycle days from the object's creation: the record's, minutes before, errs early.
        original_expires_at = ports.originals.removal_at(record.created_at) if replaceable else None
        moved = _commit(
            ports,
            record,
            ImageState.COMPRESSED,
            lambda r: _timed(
                replace(
                    r.compressed(
                        at=ports.clock.now(),
                        rendition=stored,
                        width=result.info.width,
                        height=result.info.height,
                        fmt=result.info.format,
                        mime=result.info.mime,
                    ),
                    original_expires_at=original_expires_at,
                    exif=result.exif,
                ),
                COMPRESS,
                started,
            ),
            step=COMPRESS,
        )
        if moved is None:
            return _result(COMPRESS, _reread(ports, record), Outcome.SKIPPED, started)
        tag.append(replaceable)
        return _result(COMPRESS, moved, Outcome.DONE, started, bytes_saved=saved)

    tag: list[bool] = []
    done = _guard(ports, COMPRESS, record.image_id, started, work)
    if any(tag):
        # Tagged only once the record lists the verified rendition: the lifecycle rule acts on tagged
        # originals only, so any failure before keeps the original. A failure here leaves the record as it
        # is and propagates; the retry skips the work and tags again.
        ports.objects.mark_replaceable(key)
    return done


def _verified(ports: Ports, output: imaging.Rendition, info: imaging.ImageInfo) -> bool:
    """Whether the originals policy may act on the original: the compressed rendition is not the original
    itself, decodes to the original's displayed size and has its quality recorded."""
    if not ports.originals.replaces or output.kept_original or output.quality is None:
        return False
    try:
        probed = imaging.probe(output.data, ports.imaging)
    except imaging.ImagingError:
        return False
    return (probed.width, probed.height) == (info.width, info.height) == (output.width, output.height)


def original_expired(ports: Ports, key: str) -> StepResult:
    """The bucket's lifecycle rule removed the original at ``key`` (its ``LifecycleExpiration`` event), or the
    local janitor did: record it, so the original is no longer offered nor counted."""
    started = time.perf_counter()
    upload = UploadKey.parse(key)
    record = ports.metadata.get(upload.image_id)
    if record is None:
        return StepResult(
            step=COMPRESS,
            image_id=upload.image_id,
            owner=None,
            state=None,
            outcome=Outcome.SKIPPED,
            code="Record.NotFound",
        )
    if (
        record.original_key != key
        or record.state is ImageState.DELETED
        or record.original_removed_at is not None
        # Only an original the policy scheduled, and only once it is really gone: the versioned bucket's
        # expiry of a noncurrent version (an upload POSTed twice) sends the same event for the same key.
        or record.original_expires_at is None
        or ports.objects.head(key) is not None
    ):
        return _result(COMPRESS, record, Outcome.SKIPPED, started)
    for _attempt in range(_WRITE_ATTEMPTS):
        try:
            moved = ports.metadata.transition(record, record.original_removed(at=ports.clock.now()))
        except StaleRecordError:
            latest = ports.metadata.get(upload.image_id)
            if latest is None or latest.state is ImageState.DELETED or latest.original_removed_at is not None:
                return _result(COMPRESS, latest or record, Outcome.SKIPPED, started)
            record = latest
            continue
        return _result(COMPRESS, moved, Outcome.DONE, started)
    raise StaleRecordError(f"image {record.image_id} kept changing while recording its original's removal")


def _load(
    ports: Ports, step: str, image_id: str, started: float, *, done: ImageState, after: ImageState
) -> ImageRecord | StepResult:
    """The record a chained step works on, or the step's result when there is nothing to do.

    Skips an unknown image and one already at ``done`` (or final); refuses one not yet at ``after``.
    """
    record = ports.metadata.get(image_id)
    if record is None:
        return StepResult(
            step=step, image_id=image_id, owner=None, state=None, outcome=Outcome.SKIPPED, code="Record.NotFound"
        )
    if record.state is ImageState.DELETED:
        # A run of this step may have died between its write and its purge: this run finishes the purge.
        _purge(ports, record, step)
        return _result(step, record, Outcome.SKIPPED, started)
    if _done_or_final(record, done):
        return _result(step, record, Outcome.SKIPPED, started)
    _require(record, after, step)
    return record


def thumbnail(ports: Ports, image_id: str) -> StepResult:
    """Step 2: thumbnails and the analysis preview, from the compressed rendition (else the original), and
    the image's perceptual hash, stored with the record.

    The source is read and decoded once (``imaging.derive``): the hash is computed from the thumbnail
    that decode was scaled to, not from a second decode of the original.
    """
    started = time.perf_counter()
    loaded = _load(ports, THUMBNAIL, image_id, started, done=ImageState.THUMBNAILED, after=ImageState.COMPRESSED)
    if isinstance(loaded, StepResult):
        return loaded
    record = loaded

    def work() -> StepResult:
        nonlocal record
        data = None
        for key in _thumbnail_sources(record):
            try:
                data = ports.objects.get(key)
                break
            except NotFoundError:
                continue
        if data is None:
            raise NotFoundError(f"image {image_id} has neither its compressed rendition nor its original")
        result = imaging.derive(data, ports.imaging)
        reserved = _reserve(ports, THUMBNAIL, record, result.renditions, ImageState.THUMBNAILED)
        if reserved is None:
            return _result(THUMBNAIL, _reread(ports, record), Outcome.SKIPPED, started)
        record = reserved
        stored = tuple(_store(ports, record, output) for output in result.renditions)
        moved = _commit(
            ports,
            record,
            ImageState.THUMBNAILED,
            lambda r: _timed(
                r.thumbnailed(at=ports.clock.now(), renditions=stored, phash=result.phash), THUMBNAIL, started
            ),
            step=THUMBNAIL,
        )
        if moved is None:
            return _result(THUMBNAIL, _reread(ports, record), Outcome.SKIPPED, started)
        return _result(THUMBNAIL, _grouped(ports, moved), Outcome.DONE, started)

    return _guard(ports, THUMBNAIL, image_id, started, work)


def _grouped(ports: Ports, record: ImageRecord) -> ImageRecord:
    """The hashed record put into a group with its near-duplicates (``lambdas.domain.duplicates``), once its
    hash and bands are stored. Best effort: a fault of the store here leaves the image ungrouped rather than
    failing a step whose work is done (a retried step would find it done and skip)."""
    from lambdas.imaging.phash import NEAR_DUPLICATE_DISTANCE  # numpy: imported where thumbnails are made

    try:
        return join_near_duplicates(ports.metadata, record, max_distance=NEAR_DUPLICATE_DISTANCE, at=ports.clock.now())
    except TransientError:
        return record


def categorize(ports: Ports, image_id: str) -> StepResult:
    """Step 3: label the analysis preview, store labels and categories, and make the image ready."""
    started = time.perf_counter()
    loaded = _load(ports, CATEGORIZE, image_id, started, done=ImageState.READY, after=ImageState.THUMBNAILED)
    if isinstance(loaded, StepResult):
        return loaded
    record = loaded

    def work() -> StepResult:
        analysis = record.rendition("analysis")
        if analysis is None:
            raise NotFoundError(f"image {image_id} has no analysis rendition")
        labeling = ports.labeler.detect(ports.objects.get(analysis.key))
        moved = _commit(
            ports,
            record,
            ImageState.READY,
            lambda r: _timed(r.categorized(at=ports.clock.now(), labeling=labeling), CATEGORIZE, started),
            step=CATEGORIZE,
        )
        if moved is None:
            return _result(CATEGORIZE, _reread(ports, record), Outcome.SKIPPED, started)
        compressed = moved.rendition("compressed")
        timings = moved.extra.get("timings_ms", {})
        _emit(
            ports,
            moved,
            EventType.PROCESSED,
            bytes_in=moved.size,
            # A kept original is the original's object: what is stored for it is the original's bytes.
            bytes_out=None if compressed is None else moved.size if compressed.kept_original else compressed.size,
            fmt=moved.sniffed_format,
            duration_ms=round(sum(float(ms) for ms in timings.values())),
        )
        return _result(CATEGORIZE, moved, Outcome.DONE, started)

    return _guard(ports, CATEGORIZE, image_id, started, work)


def run(ports: Ports, step: str, *, image_id: str, object_key: str) -> StepResult:
    """Run ``step`` for one image: compress reads its original at ``object_key``, the later steps work from
    its record. ``ValueError`` for a name that is not one of ``STEPS``."""
    if step == COMPRESS:
        return compress(ports, object_key)
    if step == THUMBNAIL:
        return thumbnail(ports, image_id)
    if step == CATEGORIZE:
        return categorize(ports, image_id)
    raise ValueError(f"no step {step!r}; the steps are {', '.join(STEPS)}")


# --- helpers ---------------------------------------------------------------------------------------------


def _thumbnail_sources(record: ImageRecord) -> list[str]:
    """Keys to derive thumbnails from, best first: the cheapest input that is large enough.

    A JPEG decodes at 1/2..1/8 scale almost for free (DCT scaling), so a JPEG is preferred: the compressed
    rendition (fewer bytes, already oriented) when it is one, else the original when that is a JPEG
    (decoding a full-size WebP/AVIF rendition would cost far more), else whatever exists.
    """
    compressed = record.rendition("compressed")
    original = record.original_key
    if compressed is None:
        return [original]
    if compressed.format == "jpeg" or record.sniffed_format != "jpeg":
        return [compressed.key, original]
    return [original, compressed.key]


def _effective_state(record: ImageRecord) -> ImageState:
    """The state a step sees: a retryable failure counts as the state it failed in."""
    if record.state is ImageState.FAILED and record.failure is not None and record.failure.retryable:
        return record.failure.state
    return record.state


def _done_or_final(record: ImageRecord, target: ImageState) -> bool:
    """Whether a step producing ``target`` has nothing to do: already there, deleted or failed for good."""
    state = _effective_state(record)
    return state in (ImageState.FAILED, ImageState.DELETED) or rank(state) >= rank(target)


def _require(record: ImageRecord, needed: ImageState, step: str) -> None:
    if rank(_effective_state(record)) < rank(needed):
        raise NotReadyError(f"{step} of image {record.image_id} waits for {needed} (it is {record.state})")


def _record_for_upload(ports: Ports, upload: UploadKey) -> ImageRecord:
    record = ports.metadata.get(upload.image_id)
    if record is not None:
        return record
    adopted = new_record(image_id=upload.image_id, owner=upload.owner, filename=upload.filename, at=ports.clock.now())
    try:
        return ports.metadata.create(adopted)
    except RecordExistsError:
        existing = ports.metadata.get(upload.image_id)
        if existing is None:
            raise StaleRecordError(f"image {upload.image_id} appeared and vanished") from None
        return existing


def _commit(
    ports: Ports,
    record: ImageRecord,
    target: ImageState,
    change: Callable[[ImageRecord], ImageRecord],
    *,
    step: str,
) -> ImageRecord | None:
    """Write ``change(record)``; ``None`` when another run already moved the record to ``target`` or past.

    When the image was deleted meanwhile, what this step (or the delete) left is purged (``_purge``), or
    it would outlive the image.
    """
    return _written(
        ports,
        step,
        record,
        target,
        lambda current: ports.metadata.transition(current, change(current)),
        f"moving to {target}",
    )


def _reserve(
    ports: Ports, step: str, record: ImageRecord, outputs: tuple[imaging.Rendition, ...], target: ImageState
) -> ImageRecord | None:
    """Reserve the keys ``outputs`` will be written under (``ImageRecord.reserved_keys``) before writing them.

    Returns the record to go on with; ``None`` when the image was deleted (then nothing may be written, and
    what is left is purged) or another run already moved it to ``target`` or past. A repeated run whose keys
    are reserved already writes nothing here.
    """
    keys = {rendition_key(record.image_id, o.same_as or o.name, o.format) for o in outputs if not o.kept_original}

    def reserve(current: ImageRecord) -> ImageRecord:
        if keys <= current.object_keys():
            return current
        return ports.metadata.transition(current, current.reserving(keys))

    return _written(ports, step, record, target, reserve, "reserving its rendition keys")


def _written(
    ports: Ports,
    step: str,
    record: ImageRecord,
    target: ImageState,
    write: Callable[[ImageRecord], ImageRecord],
    doing: str,
) -> ImageRecord | None:
    """``write(record)``, again on the latest record when it changed meanwhile; ``None`` when the image was
    deleted (what is left is purged) or another run already moved it to ``target`` or past."""
    current = record
    for _attempt in range(_WRITE_ATTEMPTS):
        try:
            return write(current)
        except StaleRecordError:
            latest = ports.metadata.get(record.image_id)
            if latest is not None and latest.state is ImageState.DELETED:
                _purge(ports, latest, step)
                return None
            if latest is None or _done_or_final(latest, target):
                return None
            current = latest
    raise StaleRecordError(f"image {record.image_id} kept changing while {doing}")


#: Steps that may delete an image's objects, and the prefixes each may delete under (the functions'
#: grants in ``constructs_lib.image_pipeline``). categorize writes no object, so it has nothing to purge.
_PURGED_PREFIXES: dict[str, tuple[str, ...]] = {
    COMPRESS: (UPLOADS_PREFIX, RENDITIONS_PREFIX),
    THUMBNAIL: (RENDITIONS_PREFIX,),
}


def _purge(ports: Ports, tombstone: ImageRecord, step: str) -> None:
    """Remove what is left of a deleted image that ``step`` may delete: every key the tombstone names and
    every rendition listed under ``renditions/<id>/`` (a record older than reserved keys names only its
    committed renditions). Idempotent: deleting a missing object is a no-op."""
    prefixes = _PURGED_PREFIXES.get(step, ())
    if not prefixes:
        return
    keys = set(tombstone.object_keys())
    keys.update(ports.objects.list(f"{RENDITIONS_PREFIX}{tombstone.image_id}/"))
    for key in sorted(keys):
        if key.startswith(prefixes):
            ports.objects.delete(key)


def _reread(ports: Ports, record: ImageRecord) -> ImageRecord:
    return ports.metadata.get(record.image_id) or record


def _store(ports: Ports, record: ImageRecord, output: imaging.Rendition, *, original_key: str = "") -> StoredRendition:
    """Write a rendition under its fixed key (a kept original is not copied: it points at the original)."""
    if output.kept_original and original_key:
        key = original_key
    elif output.same_as is not None:
        # The same bytes as a rendition stored just before (the analysis JPEG and its thumbnail): stored once.
        key = rendition_key(record.image_id, output.same_as, output.format)
    else:
        key = rendition_key(record.image_id, output.name, output.format)
        ports.objects.put(key, output.data, content_type=output.mime)
    return StoredRendition.of(output, key=key)


def _timed(record: ImageRecord, step: str, started: float) -> ImageRecord:
    timings = dict(record.extra.get("timings_ms", {}))
    timings[step] = round((time.perf_counter() - started) * 1000, 3)
    return replace(record, extra={**record.extra, "timings_ms": timings})


def _result(
    step: str,
    record: ImageRecord,
    outcome: Outcome,
    started: float,
    *,
    code: str | None = None,
    bytes_saved: int | None = None,
) -> StepResult:
    if code is None and record.failure is not None:
        code = record.failure.code
    return StepResult(
        step=step,
        image_id=record.image_id,
        owner=record.owner,
        state=record.state.value,
        outcome=outcome,
        code=code,
        bytes_saved=bytes_saved,
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def _emit(
    ports: Ports,
    record: ImageRecord,
    event_type: EventType,
    *,
    bytes_in: int | None = None,
    bytes_out: int | None = None,
    fmt: str | None,
    duration_ms: int | None = None,
    code: str | None = None,
    detail: dict[str, str | int | float | bool] | None = None,
) -> None:
    ports.events.emit(
        AnalyticsEvent(
            event_id=pipeline_event_id(record.image_id, event_type),
            event_type=event_type,
            occurred_at=ports.clock.now(),
            owner=record.owner,
            image_id=record.image_id,
            format=fmt,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
            categories=record.effective_categories(),
            labels=tuple(label.name for label in record.shown_labels()),
            code=code,
            duration_ms=duration_ms,
            detail=detail or {},
        )
    )


def _guard(ports: Ports, step: str, image_id: str, started: float, work: Callable[[], StepResult]) -> StepResult:
    """Run ``work``; record a permanent failure and return, or a retryable one and re-raise."""
    try:
        return work()
    except PermanentError as exc:
        failed = _record_failure(ports, step, image_id, exc, retryable=False)
        record = failed or ports.metadata.get(image_id)
        if record is None:
            raise
        if record.state is ImageState.DELETED:
            return _result(step, record, Outcome.SKIPPED, started, code=exc.code)
        return _result(step, record, Outcome.FAILED, started, code=exc.code)
    except TransientError as exc:
        _record_failure(ports, step, image_id, exc, retryable=True)
        raise
    except Exception as exc:
        # A bug or an unforeseen fault: let Lambda retry (and the DLQ keep the event), but show it.
        _record_failure(
            ports,
            step,
            image_id,
            ImgMgrError(f"{type(exc).__name__}: {exc}", code="Pipeline.InternalError"),
            retryable=True,
        )
        raise


def _record_failure(ports: Ports, step: str, image_id: str, exc: ImgMgrError, *, retryable: bool) -> ImageRecord | None:
    """Move the record to ``failed``; returns the failed record, or ``None`` when it was not possible.

    Best effort for retryable failures (the original error is what matters, and it propagates).
    """
    for _attempt in range(_WRITE_ATTEMPTS):
        try:
            record = ports.metadata.get(image_id)
            if record is None or record.state in (ImageState.DELETED, ImageState.READY):
                return None
            if record.state is ImageState.FAILED and record.failure is not None and not record.failure.retryable:
                return record
            failed = ports.metadata.transition(
                record,
                record.failed(
                    at=ports.clock.now(),
                    code=exc.code,
                    message=exc.message,
                    step=step,
                    retryable=retryable,
                    max_attempts=ports.max_attempts,
                ),
            )
        except StaleRecordError:
            continue
        except InvalidTransitionError:
            return None
        except TransientError:
            if retryable:
                return None
            raise
        if failed.failure is not None and not failed.failure.pending:
            # Final: a permanent failure, or the last attempt of a retryable one (parked). One event per
            # image (its id is the image's), so a redriven image that fails again is not counted twice.
            _emit(ports, failed, EventType.FAILED, fmt=failed.sniffed_format, code=exc.code, detail={"step": step})
        return failed
    return None
