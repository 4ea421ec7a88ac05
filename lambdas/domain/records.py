"""The image record: everything the system knows about one image, as one immutable value.

Records change by ``dataclasses.replace`` through the helpers below, each of which checks the state
machine (``lambdas.domain.states``); a store then writes the new record only if the stored one is still
the one that was read (same ``version``). ``to_dict``/``from_dict`` give the JSON-able form both stores
persist; timestamps are UTC and serialized with a fixed width so that their strings sort by time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lambdas.contract import RENDITIONS_PREFIX, UPLOADS_PREFIX
from lambdas.domain.errors import InvalidKeyError, InvalidTransitionError
from lambdas.domain.labels import Label, Labeling
from lambdas.domain.states import ImageState, is_forward
from lambdas.renditions import RenditionInfo

#: The only states whose records may carry ``expires_at``: an upload never made, and a tombstone.
EXPIRING_STATES = frozenset({ImageState.AWAITING_UPLOAD, ImageState.DELETED})

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$")
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif", "gif": "gif", "heif": "heic"}


def timestamp(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601 text (``2026-01-31T12:00:00.000000Z``): sorts as the time does."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`timestamp`."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _check_segment(name: str, value: str) -> None:
    if not _SAFE_SEGMENT.match(value) or ".." in value:
        raise InvalidKeyError(f"{name} {value!r} is not a safe key segment")


def upload_key(owner: str, image_id: str, filename: str) -> str:
    """``uploads/<owner>/<image_id>/<filename>``; every segment must be safe (no ``/``, no ``..``)."""
    for name, value in (("owner", owner), ("image_id", image_id), ("filename", filename)):
        _check_segment(name, value)
    return f"{UPLOADS_PREFIX}{owner}/{image_id}/{filename}"


@dataclass(frozen=True, slots=True)
class UploadKey:
    """The parts of an original's object key."""

    owner: str
    image_id: str
    filename: str

    @classmethod
    def parse(cls, key: str) -> UploadKey:
        """Split ``uploads/<owner>/<image_id>/<filename>``; raises ``InvalidKeyError`` for anything else."""
        parts = key.split("/")
        if len(parts) != 4 or parts[0] + "/" != UPLOADS_PREFIX:
            raise InvalidKeyError(f"key {key!r} is not uploads/<owner>/<image_id>/<filename>")
        upload_key(parts[1], parts[2], parts[3])
        return cls(owner=parts[1], image_id=parts[2], filename=parts[3])

    @property
    def key(self) -> str:
        return upload_key(self.owner, self.image_id, self.filename)


def rendition_key(image_id: str, name: str, image_format: str) -> str:
    """``renditions/<image_id>/<name>.<ext>`` with the usual extension of the format (``jpeg`` -> ``jpg``)."""
    _check_segment("image_id", image_id)
    _check_segment("name", name)
    extension = _EXTENSIONS.get(image_format.lower(), image_format.lower())
    return f"{RENDITIONS_PREFIX}{image_id}/{name}.{extension}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRendition(RenditionInfo):
    """A derived image as stored: its description (``RenditionInfo``) and the object ``key`` of its bytes
    (the original's, for a kept original; a shared one for renditions whose bytes are the same)."""

    key: str

    @classmethod
    def of(cls, rendition: RenditionInfo, *, key: str) -> StoredRendition:
        """``rendition``'s description, stored under ``key``."""
        return cls(**rendition.described(), key=key)


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """Why an image failed: a stable ``code`` (``"Image.NotAnImage"``), a message, the step, when.

    ``retryable`` failures came from transient faults: a retry or a redrive may resume the record from
    ``state`` (the state it was in when the step failed). Others are final. ``attempts`` counts the
    step's consecutive retryable failures; the one that reaches the runtime's limit (Lambda: 1 + its
    retry attempts; locally the queue's ``max_attempts``) marks the failure ``parked``: the pipeline no
    longer retries it by itself (the event waits in the dead-letter queue), only a redrive resumes it.
    """

    code: str
    message: str
    step: str
    state: ImageState
    retryable: bool
    at: datetime
    attempts: int = 1
    parked: bool = False

    @property
    def pending(self) -> bool:
        """Whether the pipeline is still retrying: retryable and not parked."""
        return self.retryable and not self.parked


@dataclass(frozen=True, slots=True)
class Usage:
    """What an owner (or everyone) stores: images, bytes of originals and renditions, bytes saved."""

    images: int = 0
    bytes_stored: int = 0
    bytes_saved: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.images + other.images,
            self.bytes_stored + other.bytes_stored,
            self.bytes_saved + other.bytes_saved,
        )

    def __neg__(self) -> Usage:
        return Usage(-self.images, -self.bytes_stored, -self.bytes_saved)

    def __sub__(self, other: Usage) -> Usage:
        return self + -other


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRecord:
    """One image. ``version`` is managed by the stores (optimistic locking); leave it alone.

    ``declared_*`` come from the client when it asked to upload; ``sniffed_*``, ``size``, ``sha256`` and
    the dimensions from the bytes that actually arrived. ``reserved_keys`` are the rendition keys a step
    recorded before writing objects under them: a delete that comes between a step's write and its
    commit still knows every object to remove, without listing the bucket (see :meth:`object_keys`).
    """

    image_id: str
    owner: str
    filename: str
    created_at: datetime
    updated_at: datetime
    state: ImageState = ImageState.AWAITING_UPLOAD
    version: int = 0
    declared_mime: str | None = None
    declared_bytes: int | None = None
    declared_sha256: str | None = None
    sniffed_format: str | None = None
    sniffed_mime: str | None = None
    size: int | None = None
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    renditions: tuple[StoredRendition, ...] = ()
    labels: tuple[Label, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    labeler_model: str | None = None
    failure: Failure | None = None
    expires_at: datetime | None = None
    reserved_keys: tuple[str, ...] = ()
    original_expires_at: datetime | None = None
    """When the originals policy removes the original (its verified compressed rendition stays)."""
    original_removed_at: datetime | None = None
    """When the original was removed by the originals policy: it is no longer stored nor counted."""
    exif: dict[str, str | int | float] = field(default_factory=dict)
    """Capture time, camera, lens and exposure read from the original by the compress step, for its
    owner (``lambdas.imaging.metadata.exif_summary``); empty when the original had none (or for records
    stored before it was read)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_segment("image_id", self.image_id)
        _check_segment("owner", self.owner)

    @property
    def original_key(self) -> str:
        return upload_key(self.owner, self.image_id, self.filename)

    def rendition(self, name: str) -> StoredRendition | None:
        """The stored rendition called ``name``, if any."""
        return next((r for r in self.renditions if r.name == name), None)

    def object_keys(self) -> frozenset[str]:
        """Every object key this image may have in the store: its original, its renditions and the keys
        a step reserved before writing (what a purge of the image removes)."""
        return frozenset({self.original_key, *(r.key for r in self.renditions), *self.reserved_keys})

    def reserving(self, keys: frozenset[str] | set[str]) -> ImageRecord:
        """The same record (same state) with ``keys`` reserved as well; see ``reserved_keys``."""
        for key in keys:
            if not key.startswith(f"{RENDITIONS_PREFIX}{self.image_id}/"):
                raise InvalidKeyError(f"image {self.image_id}: {key!r} is not one of its rendition keys")
        return replace(self, reserved_keys=tuple(sorted({*self.reserved_keys, *keys})))

    # --- contributions to the maintained counters -------------------------------------------------
    def usage(self) -> Usage:
        """What this record adds to its owner's usage: nothing until the original arrived or once deleted."""
        if self.state in (ImageState.AWAITING_UPLOAD, ImageState.DELETED) or self.size is None:
            return Usage()
        original = 0 if self.original_removed_at is not None else self.size
        # Renditions that share bytes (the analysis JPEG and its thumbnail) share one key: counted once.
        stored = original + sum({r.key: r.size for r in self.renditions if not r.kept_original}.values())
        compressed = self.rendition("compressed")
        saved = 0
        if compressed is not None and not compressed.kept_original:
            saved = max(0, self.size - compressed.size)
        return Usage(images=1, bytes_stored=stored, bytes_saved=saved)

    def counted_categories(self) -> tuple[str, ...]:
        """Categories this record adds to the category counts: its categories while it is ready."""
        return self.categories if self.state is ImageState.READY else ()

    # --- transitions --------------------------------------------------------------------------------
    def _moved(self, state: ImageState, at: datetime, **changes: Any) -> ImageRecord:
        resume = self.failure.state if self.failure is not None and self.failure.retryable else None
        if not is_forward(self.state, state, resume_from=resume):
            raise InvalidTransitionError(f"image {self.image_id}: {self.state} -> {state} does not move forward")
        if state is not ImageState.FAILED:
            changes.setdefault("failure", None)
        if state not in EXPIRING_STATES:
            # Only an abandoned upload and a tombstone may expire (DynamoDB TTL): any other record may stand
            # for an original in the bucket, which would outlive it, uncounted and undeletable.
            changes.setdefault("expires_at", None)
        return replace(self, state=state, updated_at=at, **changes)

    def uploaded(
        self, *, at: datetime, size: int, sha256: str, sniffed_format: str | None, sniffed_mime: str | None
    ) -> ImageRecord:
        """The original arrived: its size and hash (and type, when known)."""
        return self._moved(
            ImageState.UPLOADED,
            at,
            size=size,
            sha256=sha256,
            sniffed_format=sniffed_format,
            sniffed_mime=sniffed_mime,
            expires_at=None,
        )

    def compressed(
        self, *, at: datetime, rendition: StoredRendition, width: int, height: int, fmt: str, mime: str
    ) -> ImageRecord:
        """The compressed rendition is stored; the original's real format and (oriented) size are known."""
        return self._moved(
            ImageState.COMPRESSED,
            at,
            renditions=_merge(self.renditions, (rendition,)),
            width=width,
            height=height,
            sniffed_format=fmt,
            sniffed_mime=mime,
        )

    def original_removed(self, *, at: datetime) -> ImageRecord:
        """The originals policy removed the original (same state): it stops counting in the usage."""
        if self.original_removed_at is not None:
            return self
        return replace(self, original_removed_at=at, updated_at=at)

    def thumbnailed(self, *, at: datetime, renditions: tuple[StoredRendition, ...]) -> ImageRecord:
        """The thumbnails and the analysis preview are stored."""
        return self._moved(ImageState.THUMBNAILED, at, renditions=_merge(self.renditions, renditions))

    def categorized(self, *, at: datetime, labeling: Labeling) -> ImageRecord:
        """Labels and categories are known: the image is ready."""
        return self._moved(
            ImageState.READY,
            at,
            labels=labeling.labels,
            categories=labeling.categories,
            tags=labeling.tags,
            labeler_model=labeling.model or None,
        )

    def failed(
        self, *, at: datetime, code: str, message: str, step: str, retryable: bool, max_attempts: int | None = None
    ) -> ImageRecord:
        """The step failed; a retryable failure remembers the state to resume from and counts the step's
        attempts, parked at ``max_attempts`` (None: never). A failed record never expires (its original
        may be in the bucket: only deleting the image removes both)."""
        previous = self.failure if self.state is ImageState.FAILED else None
        resume_state = previous.state if previous is not None else self.state
        attempts = 1
        if retryable and previous is not None and previous.retryable and previous.step == step and not previous.parked:
            attempts = previous.attempts + 1  # a parked failure that fails again was redriven: it counts anew
        parked = retryable and max_attempts is not None and attempts >= max_attempts
        failure = Failure(
            code=code,
            message=message[:1000],
            step=step,
            state=resume_state,
            retryable=retryable,
            at=at,
            attempts=attempts,
            parked=parked,
        )
        return self._moved(ImageState.FAILED, at, failure=failure)

    def retrying(self, *, at: datetime) -> ImageRecord:
        """A failed image its owner asked to retry: the failure becomes retryable and pending again (attempts
        counted anew), so its failed step may resume it from the state it failed in. A permanent failure
        is retried the same way: the owner knows something the pipeline does not (a raised limit, a fix)."""
        if self.state is not ImageState.FAILED or self.failure is None:
            raise InvalidTransitionError(f"image {self.image_id}: only a failed image can be retried ({self.state})")
        failure = replace(self.failure, retryable=True, parked=False, attempts=0)
        return replace(self, failure=failure, updated_at=at)

    def deleted(self, *, at: datetime, expires_at: datetime) -> ImageRecord:
        """A tombstone: it stops counting anywhere and expires (DynamoDB TTL) at ``expires_at``."""
        return self._moved(ImageState.DELETED, at, expires_at=expires_at)

    # --- persistence form ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (timestamps as :func:`timestamp` text, no floats but confidences/ssim)."""
        return {
            "image_id": self.image_id,
            "owner": self.owner,
            "filename": self.filename,
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
            "state": self.state.value,
            "version": self.version,
            "declared_mime": self.declared_mime,
            "declared_bytes": self.declared_bytes,
            "declared_sha256": self.declared_sha256,
            "sniffed_format": self.sniffed_format,
            "sniffed_mime": self.sniffed_mime,
            "size": self.size,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            # "key" second, where records have always had it: the stored JSON text stays the same.
            "renditions": [{"name": r.name, "key": r.key, **r.to_plain()} for r in self.renditions],
            "labels": [
                {
                    "name": label.name,
                    "confidence": label.confidence,
                    "parents": list(label.parents),
                    "categories": list(label.categories),
                }
                for label in self.labels
            ],
            "categories": list(self.categories),
            "tags": list(self.tags),
            "labeler_model": self.labeler_model,
            "failure": None
            if self.failure is None
            else {
                "code": self.failure.code,
                "message": self.failure.message,
                "step": self.failure.step,
                "state": self.failure.state.value,
                "retryable": self.failure.retryable,
                "at": timestamp(self.failure.at),
                "attempts": self.failure.attempts,
                "parked": self.failure.parked,
            },
            "expires_at": None if self.expires_at is None else timestamp(self.expires_at),
            "reserved_keys": list(self.reserved_keys),
            "original_expires_at": None if self.original_expires_at is None else timestamp(self.original_expires_at),
            "original_removed_at": None if self.original_removed_at is None else timestamp(self.original_removed_at),
            "exif": dict(self.exif),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageRecord:
        """Inverse of :meth:`to_dict`; numbers may come back as ``Decimal`` (DynamoDB) and are converted."""

        def opt_int(value: Any) -> int | None:
            return None if value is None else int(value)

        failure = data.get("failure")
        expires_at = data.get("expires_at")
        return cls(
            image_id=data["image_id"],
            owner=data["owner"],
            filename=data["filename"],
            created_at=parse_timestamp(data["created_at"]),
            updated_at=parse_timestamp(data["updated_at"]),
            state=ImageState(data["state"]),
            version=int(data.get("version", 0)),
            declared_mime=data.get("declared_mime"),
            declared_bytes=opt_int(data.get("declared_bytes")),
            declared_sha256=data.get("declared_sha256"),
            sniffed_format=data.get("sniffed_format"),
            sniffed_mime=data.get("sniffed_mime"),
            size=opt_int(data.get("size")),
            sha256=data.get("sha256"),
            width=opt_int(data.get("width")),
            height=opt_int(data.get("height")),
            renditions=tuple(StoredRendition.from_plain(r) for r in data.get("renditions") or ()),
            labels=tuple(
                Label(
                    name=label["name"],
                    confidence=float(label["confidence"]),
                    parents=tuple(label.get("parents") or ()),
                    categories=tuple(label.get("categories") or ()),
                )
                for label in data.get("labels") or ()
            ),
            categories=tuple(data.get("categories") or ()),
            tags=tuple(data.get("tags") or ()),
            labeler_model=data.get("labeler_model"),
            failure=None
            if not failure
            else Failure(
                code=failure["code"],
                message=failure["message"],
                step=failure["step"],
                state=ImageState(failure["state"]),
                retryable=bool(failure["retryable"]),
                at=parse_timestamp(failure["at"]),
                attempts=int(failure.get("attempts", 1)),
                parked=bool(failure.get("parked", False)),
            ),
            expires_at=None if not expires_at else parse_timestamp(expires_at),
            reserved_keys=tuple(data.get("reserved_keys") or ()),
            original_expires_at=_optional_timestamp(data.get("original_expires_at")),
            original_removed_at=_optional_timestamp(data.get("original_removed_at")),
            exif={
                str(name): value
                for name, value in (data.get("exif") or {}).items()
                if isinstance(value, str | int | float) and not isinstance(value, bool)
            },
            extra=dict(data.get("extra") or {}),
        )


def _merge(current: tuple[StoredRendition, ...], new: tuple[StoredRendition, ...]) -> tuple[StoredRendition, ...]:
    """Renditions by name, the new ones replacing old ones of the same name (a repeated step)."""
    names = {r.name for r in new}
    return tuple(r for r in current if r.name not in names) + new


def new_record(
    *,
    image_id: str,
    owner: str,
    filename: str,
    at: datetime,
    declared_mime: str | None = None,
    declared_bytes: int | None = None,
    declared_sha256: str | None = None,
    expires_at: datetime | None = None,
) -> ImageRecord:
    """A record awaiting its upload (what ``POST /v1/uploads`` writes). ``expires_at`` lets an abandoned
    upload expire by TTL."""
    return ImageRecord(
        image_id=image_id,
        owner=owner,
        filename=filename,
        created_at=at,
        updated_at=at,
        declared_mime=declared_mime,
        declared_bytes=declared_bytes,
        declared_sha256=declared_sha256,
        expires_at=expires_at,
    )


def counter_changes(old: ImageRecord | None, new: ImageRecord | None) -> tuple[Usage, dict[str, int]]:
    """How the maintained counters change when ``old`` becomes ``new`` (``None``: no record).

    Returns the usage difference and the per-category difference (zero entries left out). Stores apply
    both, to the owner's counters and to the overall ones, in the transaction that writes ``new``.
    """
    before = old.usage() if old is not None else Usage()
    after = new.usage() if new is not None else Usage()
    categories: dict[str, int] = {}
    for category in old.counted_categories() if old is not None else ():
        categories[category] = categories.get(category, 0) - 1
    for category in new.counted_categories() if new is not None else ():
        categories[category] = categories.get(category, 0) + 1
    return after - before, {name: delta for name, delta in categories.items() if delta}


def check_transition(current: ImageRecord, updated: ImageRecord) -> None:
    """Raise ``InvalidTransitionError`` unless ``updated`` may replace ``current`` (what stores enforce)."""
    if (updated.image_id, updated.owner, updated.created_at) != (
        current.image_id,
        current.owner,
        current.created_at,
    ):
        raise InvalidTransitionError(f"image {current.image_id}: id, owner and created_at never change")
    resume = current.failure.state if current.failure is not None and current.failure.retryable else None
    if not is_forward(current.state, updated.state, resume_from=resume):
        raise InvalidTransitionError(
            f"image {current.image_id}: {current.state} -> {updated.state} does not move forward"
        )


def _optional_timestamp(value: Any) -> datetime | None:
    return None if not value else parse_timestamp(value)
