"""Albums: an owner's named sets of images. An image may be in several; deleting an album leaves its images.

Membership is kept on the image record (``ImageRecord.albums``), where it is listed as a term like a
label (``lambdas.domain.queries.index_terms``), so that an album's images are one index read, newest
first, and a deleted image leaves its albums with its other terms. The album itself holds its name, its
cover and the number of its live images, which the stores keep in the transaction of every record write
(``lambdas.domain.records.counter_changes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lambdas.domain.errors import InvalidEditError
from lambdas.domain.records import parse_timestamp, timestamp

#: Longest album name, in characters.
MAX_ALBUM_NAME_CHARS = 100
#: Most albums one owner keeps.
MAX_ALBUMS_PER_OWNER = 500
_ALBUM_ID = re.compile(r"^al_[0-9a-f]{16,32}$")
_NAME_TEXT = re.compile(r"^[^\x00-\x1f\x7f]+$")


def check_album_name(name: str) -> str:
    """An album name as stored (trimmed, inner spaces collapsed); ``InvalidEditError`` when empty, longer
    than ``MAX_ALBUM_NAME_CHARS`` or holding control characters."""
    text = " ".join(name.split())
    if not text or len(text) > MAX_ALBUM_NAME_CHARS or not _NAME_TEXT.match(text):
        raise InvalidEditError(f"an album name is 1..{MAX_ALBUM_NAME_CHARS} printable characters")
    return text


def is_album_id(value: str) -> bool:
    """Whether ``value`` has the form of an album id (``al_`` and 16..32 hex digits)."""
    return bool(_ALBUM_ID.match(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class Album:
    """One album. ``count`` (its live images) and ``version`` are the store's: leave them alone.

    ``cover_image_id`` is the image the owner chose to show for it; ``None`` shows its newest image.
    """

    album_id: str
    owner: str
    name: str
    created_at: datetime
    updated_at: datetime
    cover_image_id: str | None = None
    count: int = 0
    version: int = 0

    def __post_init__(self) -> None:
        if not is_album_id(self.album_id):
            raise InvalidEditError(f"{self.album_id!r} is not an album id")
        check_album_name(self.name)

    def renamed(self, name: str, *, at: datetime) -> Album:
        return replace(self, name=check_album_name(name), updated_at=at)

    def covered(self, image_id: str | None, *, at: datetime) -> Album:
        return replace(self, cover_image_id=image_id, updated_at=at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "album_id": self.album_id,
            "owner": self.owner,
            "name": self.name,
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
            "cover_image_id": self.cover_image_id,
            "count": self.count,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Album:
        return cls(
            album_id=str(data["album_id"]),
            owner=str(data["owner"]),
            name=str(data["name"]),
            created_at=parse_timestamp(data["created_at"]),
            updated_at=parse_timestamp(data["updated_at"]),
            cover_image_id=data.get("cover_image_id"),
            count=int(data.get("count") or 0),
            version=int(data.get("version") or 0),
        )


def new_album(*, album_id: str, owner: str, name: str, at: datetime) -> Album:
    """A new, empty album (what ``POST /v1/albums`` stores)."""
    return Album(album_id=album_id, owner=owner, name=check_album_name(name), created_at=at, updated_at=at)
