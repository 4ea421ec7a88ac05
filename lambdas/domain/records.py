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
from typing import Any, NamedTuple

from lambdas.contract import RENDITIONS_PREFIX, UPLOADS_PREFIX
from lambdas.domain.errors import InvalidEditError, InvalidKeyError, InvalidTransitionError
from lambdas.domain.labels import Label, Labeling, normalize_label
from lambdas.domain.states import ImageState, is_forward
from lambdas.domain.taxonomy import known_label
from lambdas.renditions import RenditionInfo

#: The only states whose records may carry ``expires_at``: an upload never made, and a tombstone.
EXPIRING_STATES = frozenset({ImageState.AWAITING_UPLOAD, ImageState.DELETED})

#: Most tags an owner adds to one image (each is searched: it is an index entry, see ``index_terms``).
MAX_USER_TAGS = 40
#: Longest tag an owner may add, in characters.
MAX_TAG_CHARS = 64
#: Most albums one image is in.
MAX_ALBUMS_PER_IMAGE = 50
_TAG_TEXT = re.compile(r"^[^\x00-\x1f\x7f]+$")

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
    favorite: bool = False
    """The owner marked the image as a favorite."""
    user_tags: tuple[str, ...] = ()
    """The owner's own tags, as typed (trimmed): searched like labels, kept however often the image is
    labelled again (see :meth:`effective_tags`)."""
    removed_labels: tuple[str, ...] = ()
    """Model labels (normalized names) the owner removed as wrong: hidden, not searched, their categories
    gone from the image, however often it is labelled again."""
    albums: tuple[str, ...] = ()
    """The ids of the owner's albums the image is in, sorted."""
    phash: str | None = None
    """The perceptual hash (64 bits as 16 hex digits) of the image the thumbnail step decoded, by which
    near-duplicates are found."""
    duplicate_group: str | None = None
    """The near-duplicate group the image belongs to (the id of the group's first image), ``None`` while
    no near-duplicate of it is known."""
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
        """Categories this record adds to the category counts: its categories (as corrected) while it is ready."""
        return self.effective_categories() if self.state is ImageState.READY else ()

    def counted_albums(self) -> tuple[str, ...]:
        """Albums this record adds one image to: its albums while it is live (not deleted)."""
        return self.albums if self.state is not ImageState.DELETED else ()

    # --- the owner's corrections --------------------------------------------------------------------
    @property
    def corrected_by_owner(self) -> bool:
        """Whether the owner added tags or removed labels (the model's labeling is not the whole story)."""
        return bool(self.user_tags or self.removed_labels)

    def shown_labels(self) -> tuple[Label, ...]:
        """The model's labels the owner did not remove, most confident first."""
        if not self.removed_labels:
            return self.labels
        removed = set(self.removed_labels)
        return tuple(label for label in self.labels if normalize_label(label.name) not in removed)

    def owner_labels(self) -> tuple[Label, ...]:
        """The owner's tags as labels: one that names a known label brings its parents and categories
        (``lambdas.domain.taxonomy``), any other is the bare name."""
        return tuple(known_label(tag) or Label(name=tag, confidence=100.0) for tag in self.user_tags)

    def effective_tags(self) -> tuple[str, ...]:
        """What the image is listed and searched under as labels: the names and parents of the labels the
        owner kept, then the owner's tags (and their known parents); every removed name left out."""
        if not self.corrected_by_owner:
            return self.tags
        removed = set(self.removed_labels)
        seen: dict[str, str] = {}
        for label in (*self.shown_labels(), *self.owner_labels()):
            for name in (label.name, *label.parents):
                key = normalize_label(name)
                if key not in removed:
                    seen.setdefault(key, name)
        return tuple(seen.values())

    def effective_categories(self) -> tuple[str, ...]:
        """The image's categories as corrected: those of the labels the owner kept and of the owner's tags
        that name known labels, in order of first appearance."""
        if not self.corrected_by_owner:
            return self.categories
        seen: dict[str, None] = {}
        for label in (*self.shown_labels(), *self.owner_labels()):
            seen.update(dict.fromkeys(label.categories))
        return tuple(seen)

    def corrected(
        self,
        *,
        at: datetime,
        favorite: bool | None = None,
        add_tags: tuple[str, ...] = (),
        remove_tags: tuple[str, ...] = (),
    ) -> ImageRecord:
        """The owner's edit (same state): ``favorite`` set or unset (``None``: left), tags added and removed.

        Adding a tag restores a model label the owner had removed, or else becomes an own tag (unless the
        model gave it already). Removing a tag drops an own tag, or marks a model label (or parent) as
        wrong. Removals apply after additions. ``InvalidEditError`` for an empty or too long tag, more than
        ``MAX_USER_TAGS`` own tags, or a deleted image.
        """
        if self.state is ImageState.DELETED:
            raise InvalidTransitionError(f"image {self.image_id} is deleted")
        own = {normalize_label(tag): tag for tag in self.user_tags}
        removed = dict.fromkeys(self.removed_labels)
        model = {normalize_label(tag) for tag in self.tags}
        for tag in add_tags:
            text = check_tag(tag)
            key = normalize_label(text)
            removed.pop(key, None)
            if key not in model:
                own.setdefault(key, text)
        for tag in remove_tags:
            key = normalize_label(check_tag(tag))
            own.pop(key, None)
            if key in model:
                removed[key] = None
        if len(own) > MAX_USER_TAGS:
            raise InvalidEditError(f"an image has at most {MAX_USER_TAGS} own tags, this edit leaves {len(own)}")
        return replace(
            self,
            favorite=self.favorite if favorite is None else favorite,
            user_tags=tuple(own.values()),
            removed_labels=tuple(sorted(removed)),
            updated_at=at,
        )

    def filed(self, *, at: datetime, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> ImageRecord:
        """The image put into the albums ``add`` and taken out of ``remove`` (same state); removals last.
        ``InvalidEditError`` beyond ``MAX_ALBUMS_PER_IMAGE`` albums or for a deleted image."""
        if self.state is ImageState.DELETED:
            raise InvalidTransitionError(f"image {self.image_id} is deleted")
        for album_id in add:
            _check_segment("album_id", album_id)
        albums = (set(self.albums) | set(add)) - set(remove)
        if len(albums) > MAX_ALBUMS_PER_IMAGE:
            raise InvalidEditError(
                f"an image is in at most {MAX_ALBUMS_PER_IMAGE} albums, this edit leaves {len(albums)}"
            )
        return replace(self, albums=tuple(sorted(albums)), updated_at=at)

    def grouped(self, *, at: datetime, group: str | None) -> ImageRecord:
        """The image in the near-duplicate group ``group`` (``None``: in none), same state."""
        if group is not None:
            _check_segment("duplicate_group", group)
        return replace(self, duplicate_group=group, updated_at=at)

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

    def thumbnailed(
        self, *, at: datetime, renditions: tuple[StoredRendition, ...], phash: str | None = None
    ) -> ImageRecord:
        """The thumbnails and the analysis preview are stored, with the perceptual hash of the image they
        were scaled from (``phash``; None keeps the record's)."""
        return self._moved(
            ImageState.THUMBNAILED,
            at,
            renditions=_merge(self.renditions, renditions),
            phash=self.phash if phash is None else phash,
        )

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
            **self._organized(),
            "extra": dict(self.extra),
        }

    def _organized(self) -> dict[str, Any]:
        """The owner's organizing and the near-duplicate fields, those that are set: a record never
        organized is stored as it was before they existed (DynamoDB counts every attribute's bytes)."""
        fields = {
            "favorite": self.favorite,
            "user_tags": list(self.user_tags),
            "removed_labels": list(self.removed_labels),
            "albums": list(self.albums),
            "phash": self.phash,
            "duplicate_group": self.duplicate_group,
        }
        return {name: value for name, value in fields.items() if value not in (None, False, [])}

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
            favorite=bool(data.get("favorite", False)),
            user_tags=tuple(data.get("user_tags") or ()),
            removed_labels=tuple(data.get("removed_labels") or ()),
            albums=tuple(data.get("albums") or ()),
            phash=data.get("phash"),
            duplicate_group=data.get("duplicate_group"),
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


class CounterChanges(NamedTuple):
    """How the maintained counters change with one write (zero entries left out): the usage difference,
    the per-category difference (owner and overall) and the per-album difference (albums are the owner's)."""

    usage: Usage
    categories: dict[str, int]
    albums: dict[str, int]


def counter_changes(old: ImageRecord | None, new: ImageRecord | None) -> CounterChanges:
    """How the maintained counters change when ``old`` becomes ``new`` (``None``: no record).

    Stores apply the usage and category differences to the owner's counters and to the overall ones, and
    the album differences to the albums' image counts, in the transaction that writes ``new``.
    """
    before = old.usage() if old is not None else Usage()
    after = new.usage() if new is not None else Usage()
    return CounterChanges(
        after - before,
        _differences(old.counted_categories() if old else (), new.counted_categories() if new else ()),
        _differences(old.counted_albums() if old else (), new.counted_albums() if new else ()),
    )


def _differences(before: tuple[str, ...], after: tuple[str, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in before:
        counts[name] = counts.get(name, 0) - 1
    for name in after:
        counts[name] = counts.get(name, 0) + 1
    return {name: delta for name, delta in counts.items() if delta}


def check_tag(tag: str) -> str:
    """An owner's tag as stored (trimmed, inner spaces collapsed); ``InvalidEditError`` when it is empty,
    longer than ``MAX_TAG_CHARS`` or holds control characters."""
    text = " ".join(tag.split())
    if not text or len(text) > MAX_TAG_CHARS or not _TAG_TEXT.match(text):
        raise InvalidEditError(f"a tag is 1..{MAX_TAG_CHARS} printable characters, got {tag[:80]!r}")
    return text


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
