"""Queries the metadata stores answer, and the page they answer with.

Every query is served by an index (no scans): by owner, by owner and category or label, or by category
or label across owners. Results come newest first. ``Page.next`` is an opaque cursor (the store's last
evaluated key as compact JSON); callers that hand it to clients must sign it (the API does) and pass it
back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lambdas.domain.errors import InvalidQueryError
from lambdas.domain.records import ImageRecord
from lambdas.domain.states import ImageState

#: Largest page a store returns.
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageQuery:
    """Which images to list.

    At least one of ``owner``, ``category``, ``label`` is required; ``category`` and ``label`` exclude
    each other. ``state`` filters on the state (category and label indexes hold ready images only).
    ``since``/``until`` bound ``created_at`` (inclusive, timezone-aware). ``limit``: 1..100, default 50.
    """

    owner: str | None = None
    category: str | None = None
    label: str | None = None
    state: ImageState | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.owner is None and self.category is None and self.label is None:
            raise InvalidQueryError("owner, category or label is required (no index serves a full listing)")
        if self.category is not None and self.label is not None:
            raise InvalidQueryError("category and label exclude each other")
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidQueryError(f"limit must be 1..{MAX_PAGE_SIZE}, got {self.limit}")
        for name, moment in (("since", self.since), ("until", self.until)):
            if moment is not None and moment.tzinfo is None:
                raise InvalidQueryError(f"{name} must be timezone-aware")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidQueryError("since must not be after until")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records, newest first, and the cursor of the next page (``None`` at the end)."""

    items: tuple[ImageRecord, ...]
    next: str | None = None


def normalize_label(name: str) -> str:
    """The form label names are indexed under: trimmed and case-folded (``"Cat"`` and ``"cat"`` match)."""
    return " ".join(name.split()).casefold()


def index_terms(record: ImageRecord) -> frozenset[tuple[str, str]]:
    """The (kind, value) terms a record is listed under by category and label: only while it is ready.

    ``("category", "Animals and Pets")`` for each category, ``("label", "cat")`` for each label and
    parent (normalized with :func:`normalize_label`).
    """
    if record.state is not ImageState.READY:
        return frozenset()
    terms = {("category", category) for category in record.categories}
    terms.update(("label", normalize_label(tag)) for tag in record.tags)
    return frozenset(terms)
