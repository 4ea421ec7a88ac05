"""Ports: the protocols the pure core and the steps talk to; adapters in ``lambdas/adapters`` implement them.

Only typing here: no I/O, no boto3, no environment. Errors are those of ``lambdas.domain.errors``:
adapters translate their library's faults (``TransientError`` for throttling and timeouts, so that the
caller retries; ``NotFoundError`` for a missing object) and never leak them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from lambdas.domain.albums import Album
from lambdas.domain.duplicates import GroupPage
from lambdas.domain.events import AnalyticsEvent
from lambdas.domain.labels import Labeling
from lambdas.domain.queries import ImageQuery, Page
from lambdas.domain.records import ImageRecord, Usage


@runtime_checkable
class Labeler(Protocol):
    """Says what an image shows, in Rekognition's vocabulary.

    ``image`` is a JPEG or PNG (the analysis rendition: at most 1024 px, well under 5 MB).
    Raises ``lambdas.domain.errors.TransientError`` for faults worth retrying (throttling, timeouts).
    """

    def detect(self, image: bytes) -> Labeling: ...


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a store knows about an object without reading it."""

    key: str
    size: int
    content_type: str | None = None


@runtime_checkable
class ObjectStore(Protocol):
    """Bytes under keys (``uploads/...``, ``renditions/...``): S3 in AWS, a data directory locally.

    Writes are whole-object and atomic (a reader sees the old bytes or the new, never a mix).
    Keys are relative, ``/``-separated, without ``..``; a bad key raises ``InvalidKeyError``.
    """

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``NotFoundError`` when there are none."""
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Size and type of the object under ``key``, ``None`` when there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; removing a missing object is not an error."""
        ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys starting with ``prefix``, in lexicographic order."""
        ...

    def mark_replaceable(self, key: str) -> None:
        """Mark the original under ``key`` as one the originals policy may archive or delete (S3: an object
        tag its lifecycle rule filters on; locally nothing, the janitor reads the record). A missing object
        is not an error."""
        ...


@runtime_checkable
class MetadataStore(Protocol):
    """Image records and the counters derived from them: DynamoDB in AWS, SQLite locally.

    Every write of a record is conditional on the version that was read, so that concurrent or repeated
    steps cannot both win and a state can only move forward (``lambdas.domain.states``). Counters (usage
    per owner and overall, category counts per owner and overall) change in the same transaction as the
    record, by the difference between the old and the new record's contribution: a repeated event can
    never count twice, and a deletion removes exactly what the image added.

    ``(owner, content hash)`` is unique over live (not deleted) records, the content hash being the
    measured SHA-256 once the bytes arrived and the declared one before: the record that holds a hash
    keeps it until it is deleted (or, in DynamoDB, until its abandoned upload expires), then the hash is
    free again. ``create`` is the only write refused for it: a record that gains a hash another live
    record holds (an object adopted from the bucket with an image's bytes; records stored before a store
    enforced this) is stored without holding it, and never takes it from the holder.
    """

    def create(self, record: ImageRecord) -> ImageRecord:
        """Store a new record (version 1); ``RecordExistsError`` when its image id is taken,
        ``ContentExistsError`` (naming the holder) when another live record of the owner holds its hash."""
        ...

    def get(self, image_id: str) -> ImageRecord | None:
        """The record (deleted tombstones included) or ``None``; strongly consistent."""
        ...

    def get_many(self, image_ids: Sequence[str]) -> list[ImageRecord]:
        """The records of ``image_ids`` that exist (tombstones included), in the order given, each once;
        strongly consistent. One batch read per 100 ids (DynamoDB: ``BatchGetItem``)."""
        ...

    def transition(self, current: ImageRecord, updated: ImageRecord) -> ImageRecord:
        """Replace ``current`` (as read) by ``updated`` and return what was stored (version + 1).

        ``InvalidTransitionError`` when the state would not move forward; ``StaleRecordError`` when
        the stored record is no longer ``current`` (another writer won: re-read and decide again).
        """
        ...

    def delete(self, image_id: str, *, at: datetime, retain_seconds: int = 7 * 86400) -> ImageRecord | None:
        """Turn the record into a tombstone that counts nowhere and expires after ``retain_seconds``.

        Removes it from every index and counter. The tombstone keeps what the record named (renditions and
        reserved keys: ``ImageRecord.object_keys()``), which is what a purge of the image removes. Idempotent: deleting a tombstone returns it again;
        ``None`` when there is no record at all.
        """
        ...

    def query(self, query: ImageQuery) -> Page:
        """Records matching ``query``, newest first, one page at a time (see ``ImageQuery``)."""
        ...

    def find_by_hash(self, owner: str, sha256: str) -> ImageRecord | None:
        """The owner's live (not deleted) image with this content SHA-256 (declared or measured): the one that
        holds it or, where several have those bytes (see above), one of them."""
        ...

    def category_counts(self, owner: str | None = None) -> dict[str, int]:
        """Ready images per category, for one owner or (``None``) everyone; zero counts left out."""
        ...

    def usage(self, owner: str | None = None) -> Usage:
        """Images, bytes stored and bytes saved, for one owner or (``None``) everyone."""
        ...

    # --- near-duplicates (``lambdas.domain.duplicates``) -------------------------------------------------
    def near_duplicates(self, owner: str, phash: str, *, max_distance: int) -> tuple[ImageRecord, ...]:
        """The owner's live images whose perceptual hash is within ``max_distance`` bits of ``phash``, found
        through the hash's bands (no scan), nearest first; an image with this very hash included."""
        ...

    def duplicate_groups(self, owner: str, *, limit: int = 20, cursor: str | None = None) -> GroupPage:
        """The owner's near-duplicate groups that have at least two live images, by group id, ``limit``
        (at most ``MAX_GROUPS_PER_PAGE``) groups a page; ``cursor`` is a page's ``next``."""
        ...

    # --- albums (``lambdas.domain.albums``): membership is on the records, listed with ``query(album=)`` --
    def create_album(self, album: Album) -> Album:
        """Store a new album (version 1, no images); ``RecordExistsError`` when its id is taken."""
        ...

    def get_album(self, album_id: str) -> Album | None:
        """The album with its live image count, or ``None``; strongly consistent."""
        ...

    def update_album(self, current: Album, updated: Album) -> Album:
        """Replace ``current``'s name and cover by ``updated``'s (version + 1; the count is the store's);
        ``StaleRecordError`` when the stored album is no longer ``current``, ``NotFoundError`` when gone."""
        ...

    def delete_album(self, album_id: str) -> Album | None:
        """Remove the album (``None`` when there was none). Its images stay; the caller takes them out of it
        first (``ImageRecord.filed``), or they keep an album id that lists nowhere."""
        ...

    def albums(self, owner: str) -> tuple[Album, ...]:
        """All the owner's albums (at most ``MAX_ALBUMS_PER_OWNER``), by name."""
        ...


@runtime_checkable
class EventSink(Protocol):
    """Where analytics events go: a structured log line in AWS, a JSON-lines file locally."""

    def emit(self, event: AnalyticsEvent) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """The current time, timezone-aware UTC (a port so that tests can fix it)."""

    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """Where and how a client uploads one original: POST ``fields`` then the file (as ``file``) to ``url``."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


@runtime_checkable
class Presigner(Protocol):
    """Presigned access to the object store: S3 presigned POST/GET in AWS, HMAC-signed locally.

    ``base_url`` is the API's own base URL (``http://127.0.0.1:8000/``), for hosts that serve the
    objects themselves.
    """

    def presign_post(
        self,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        expires_in: int,
        base_url: str,
        credential: str | None = None,
    ) -> PresignedPost:
        """A POST for ``key``; ``credential`` is the id of the caller's credential (``request.state.credential``
        when the authenticator leaves one), which a host that can revoke it binds the POST to."""
        ...

    def presign_get(self, key: str, *, expires_in: int, base_url: str) -> str: ...


@runtime_checkable
class Retrier(Protocol):
    """Starts the failed step of an image again: the local queue, or on AWS an asynchronous invocation of
    the step's function (its retries, destinations and idempotency apply as to any run of it).

    Raises ``lambdas.domain.errors.TransientError`` when the step could not be started (the caller may
    ask again later).
    """

    def retry(self, record: ImageRecord) -> None:
        """Start ``record``'s failed step (its failure already made retryable and pending) from its original."""
        ...
