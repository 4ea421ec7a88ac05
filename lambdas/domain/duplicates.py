"""Near-duplicates: images whose perceptual hashes differ in few bits, gathered into groups per owner.

The thumbnail step hashes the image it decoded (``lambdas.imaging.phash``: 64 bits, 16 hex digits) and
stores the hash with the record. A record with a hash is listed under its hash's *bands* (``phash_bands``:
``PHASH_BANDS`` slices of the hash, each an index term), so the images near a hash are found by reading
the index entries of its bands, never by a scan: two hashes within ``PHASH_BANDS - 1`` bits of each other
agree on at least one whole band (pigeonhole), and the entries carry the full hash, so the distance is
checked on the entries before any record is read. Farther pairs are found only when one of their bands
happens to agree (``bench.near_duplicates`` measures how often).

When the step finds near-duplicates of a new image (:func:`group_for`), the image and every one of them
that is in no group yet join one group, named by its oldest image; the group's images are listed under
the group's term, so an owner's groups are one ordered index read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lambdas.domain.errors import InvalidQueryError, StaleRecordError
from lambdas.domain.records import ImageRecord
from lambdas.domain.states import ImageState

if TYPE_CHECKING:
    from lambdas.ports import MetadataStore

#: Most groups one page of ``MetadataStore.duplicate_groups`` holds.
MAX_GROUPS_PER_PAGE = 50
#: Most images of one group a page shows (the newest; the group's size is counted in full).
MAX_GROUP_IMAGES = 50
#: Bits of a perceptual hash.
PHASH_BITS = 64
#: Slices of the hash a record is indexed under (8 bands of 8 bits: 8 index items per hashed image).
PHASH_BANDS = 8
_PHASH = re.compile(r"^[0-9a-f]{16}$")


def is_phash(value: str) -> bool:
    """Whether ``value`` is a perceptual hash as stored: 16 lowercase hex digits."""
    return bool(_PHASH.match(value))


def hamming(a: str, b: str) -> int:
    """The number of bits in which two hashes differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def phash_bands(phash: str) -> tuple[str, ...]:
    """The index terms of a hash: band number and its hex digits (``"0a3"``, ``"1ff"``, ...)."""
    width = len(phash) // PHASH_BANDS
    return tuple(f"{band}{phash[band * width : (band + 1) * width]}" for band in range(PHASH_BANDS))


def group_for(record: ImageRecord, near: Iterable[ImageRecord]) -> str:
    """The group ``record`` joins with its near-duplicates ``near``: the group of the oldest of them all
    that has one, else the oldest image's id (the same answer whichever of the copies is hashed last)."""
    members = sorted({r.image_id: r for r in (record, *near)}.values(), key=lambda r: (r.created_at, r.image_id))
    grouped = [r for r in members if r.duplicate_group is not None]
    return str(grouped[0].duplicate_group) if grouped else members[0].image_id


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """One near-duplicate group: its id and its live images, newest first (at most ``MAX_GROUP_IMAGES``)."""

    group_id: str
    images: tuple[ImageRecord, ...]


@dataclass(frozen=True, slots=True)
class GroupPage:
    """Groups by id, and the cursor of the next page (``None`` at the end): the last group's id."""

    groups: tuple[DuplicateGroup, ...]
    next: str | None = None


def live_groups(owner_rows: Iterable[tuple[str, ImageRecord]]) -> list[DuplicateGroup]:
    """Groups from ``(group id, record)`` rows in group order: each group's live records that are still in
    it (an index may lag the table), newest first; groups left with fewer than two images dropped."""
    by_group: dict[str, list[ImageRecord]] = {}
    for group_id, record in owner_rows:
        if record.duplicate_group == group_id and record.state is not ImageState.DELETED:
            by_group.setdefault(group_id, []).append(record)
    return [
        DuplicateGroup(
            group_id, tuple(sorted(images, key=lambda r: (r.created_at, r.image_id), reverse=True)[:MAX_GROUP_IMAGES])
        )
        for group_id, images in by_group.items()
        if len(images) >= 2
    ]


def nearest(records: Iterable[ImageRecord], phash: str, max_distance: int) -> tuple[ImageRecord, ...]:
    """The records whose hash is within ``max_distance`` bits of ``phash``, nearest (then oldest) first."""
    near = [
        (hamming(record.phash, phash), record)
        for record in records
        if record.phash is not None and hamming(record.phash, phash) <= max_distance
    ]
    near.sort(key=lambda pair: (pair[0], pair[1].created_at, pair[1].image_id))
    return tuple(record for _distance, record in near)


def group_cursor(group_id: str) -> str:
    """The cursor of the page after the group ``group_id`` (compact JSON: the API signs it)."""
    return json.dumps({"after": group_id}, separators=(",", ":"))


def check_group_limit(limit: int) -> int:
    """``limit`` if it is a page size of groups (1..``MAX_GROUPS_PER_PAGE``), else ``InvalidQueryError``."""
    if not 1 <= limit <= MAX_GROUPS_PER_PAGE:
        raise InvalidQueryError(f"limit must be 1..{MAX_GROUPS_PER_PAGE}, got {limit}")
    return limit


def group_cursor_after(cursor: str | None) -> str:
    """The group id a page starts after (``"!"``: before every id); ``InvalidQueryError`` for a cursor that is
    no group id."""
    if cursor is None:
        return "!"
    try:
        parsed = json.loads(cursor)
    except ValueError as exc:
        raise InvalidQueryError("cursor is not one this store issued") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("after"), str) or "#" in parsed["after"]:
        raise InvalidQueryError("cursor is not one this store issued")
    return str(parsed["after"])


def join_near_duplicates(store: MetadataStore, record: ImageRecord, *, max_distance: int, at: datetime) -> ImageRecord:
    """Put the stored, hashed ``record`` and those of its near-duplicates that are in no group yet into one
    group (:func:`group_for`); the record as stored after. Nothing changes when it has no near-duplicate.
    Two copies hashed at once each find the other (each stored its hash before looking) and choose the same
    group; a copy that joined another group meanwhile keeps it."""
    if record.phash is None:
        return record
    near = [
        r
        for r in store.near_duplicates(record.owner, record.phash, max_distance=max_distance)
        if r.image_id != record.image_id
    ]
    if not near:
        return record
    group = group_for(record, near)
    for other in near:
        _join(store, other.image_id, group, at)
    return _join(store, record.image_id, group, at) or record


def _join(store: MetadataStore, image_id: str, group: str, at: datetime) -> ImageRecord | None:
    """Put the image into ``group`` unless it is in a group already (or gone); re-read when another write won."""
    for _attempt in range(5):
        current = store.get(image_id)
        if current is None or current.state is ImageState.DELETED or current.duplicate_group is not None:
            return current
        try:
            return store.transition(current, current.grouped(at=at, group=group))
        except StaleRecordError:
            continue
    return store.get(image_id)
