"""Queries the metadata stores answer, and the page they answer with.

Every query is served by an index (no scans): by owner, by owner and category or label, by category or
label across owners, or by owner and search word. Results come newest first. ``Page.next`` is an opaque cursor (the store's last
evaluated key as compact JSON); callers that hand it to clients must sign it (the API does) and pass it
back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lambdas.domain.duplicates import phash_bands
from lambdas.domain.errors import InvalidQueryError
from lambdas.domain.labels import normalize_label
from lambdas.domain.records import ImageRecord
from lambdas.domain.states import ImageState
from lambdas.domain.synonyms import canonical_words

#: Largest page a store returns.
MAX_PAGE_SIZE = 100
#: Most words of one free-text search (each beyond the first is a filter on the records the first finds).
MAX_SEARCH_WORDS = 8
#: Longest free-text search, in characters.
MAX_SEARCH_CHARS = 200
#: Longest word indexed or searched; a longer one is left out of the index (no one types it).
MAX_WORD_CHARS = 64
#: Most search words one image is indexed under (each is an index item: this bounds the write cost).
MAX_WORDS_PER_IMAGE = 60
#: Words that say nothing about an image ("Animals and Pets", "photo of the sea").
STOP_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageQuery:
    """Which images to list.

    At least one of ``owner``, ``category``, ``label`` is required; ``category``, ``label``, ``album`` and
    ``favorite`` exclude each other (each is an index of its own). ``words`` (normalized with
    :func:`search_words`, at most ``MAX_SEARCH_WORDS``, needs ``owner``) keeps the images indexed under
    every one of them (:func:`record_words`). ``album`` (an album id) and ``favorite`` need ``owner`` and
    list live images in any state. ``state`` filters on the state (category, label and word indexes hold
    ready images only).
    ``since``/``until`` bound ``created_at`` (inclusive, timezone-aware). ``limit``: 1..100, default 50.
    """

    owner: str | None = None
    category: str | None = None
    label: str | None = None
    words: tuple[str, ...] = ()
    album: str | None = None
    favorite: bool = False
    state: ImageState | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.owner is None and self.category is None and self.label is None:
            raise InvalidQueryError("owner, category or label is required (no index serves a full listing)")
        chosen = [name for name in ("category", "label", "album") if getattr(self, name) is not None]
        chosen += ["favorite"] if self.favorite else []
        if len(chosen) > 1:
            raise InvalidQueryError(f"{' and '.join(chosen)} exclude each other")
        if self.words and self.owner is None:
            raise InvalidQueryError("a search by words needs an owner (words are indexed per owner)")
        if len(self.words) > MAX_SEARCH_WORDS:
            raise InvalidQueryError(f"at most {MAX_SEARCH_WORDS} search words, got {len(self.words)}")
        if search_words(" ".join(self.words)) != self.words:
            raise InvalidQueryError("words must be normalized (lambdas.domain.queries.search_words)")
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


def _normal_word(word: str) -> str:
    """One word as it is indexed: case-folded, a plural's ``s`` dropped ("Animals" and "animal" match)."""
    word = word.casefold()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def search_words(text: str) -> tuple[str, ...]:
    """The words of a free-text search or of an indexed name, normalized, in order, without repeats:
    split on anything but letters and digits, case-folded, plurals folded, stop words and words longer
    than ``MAX_WORD_CHARS`` left out (``"Tabby cats, IMG_0042"`` -> ``("tabby", "cat", "img", "0042")``)."""
    words = (_normal_word(word) for word in _WORD.findall(text))
    return tuple(dict.fromkeys(w for w in words if w not in STOP_WORDS and len(w) <= MAX_WORD_CHARS))


def display_filename(record: ImageRecord) -> str:
    """The file name the owner gave (kept in ``extra``), else the stored one."""
    return str(record.extra.get("original_filename") or record.filename)


def record_words(record: ImageRecord) -> frozenset[str]:
    """The search words an image is indexed under: the words of its labels and their parents (tags), of
    its categories and of its file name without the extension; at most ``MAX_WORDS_PER_IMAGE`` (labels
    first, most confident first, then categories, then the file name)."""
    stem, dot, _extension = display_filename(record).rpartition(".")
    names = (*record.effective_tags(), *record.effective_categories(), stem if dot else display_filename(record))
    words: dict[str, None] = {}
    for name in names:
        # Indexed as searched (a synonym under its canonical word), so that an own tag "Grandma's sofa" or a
        # file "kitty.jpg" is found by "sofa" and "kitty", which search "couch" and "cat".
        words.update(dict.fromkeys(canonical_words(search_words(name))))
    return frozenset(list(words)[:MAX_WORDS_PER_IMAGE])


def index_terms(record: ImageRecord) -> frozenset[tuple[str, str]]:
    """The (kind, value) terms a record is listed under.

    While it is ready: ``("category", "Animals and Pets")`` for each category, ``("label", "cat")`` for each
    label and parent (normalized with :func:`normalize_label`), ``("word", "animal")`` for each of
    :func:`record_words`, all as the owner corrected them (``ImageRecord.effective_tags``). While it is live
    (any state but deleted): ``("album", <album id>)`` for each album, ``("favorite", "yes")`` for a favorite,
    ``("phash", <band>)`` for each band of its perceptual hash and ``("duplicate", <group>)`` for its
    near-duplicate group (``lambdas.domain.duplicates``).
    """
    if record.state is ImageState.DELETED:
        return frozenset()
    terms = {("album", album_id) for album_id in record.albums}
    if record.favorite:
        terms.add(FAVORITE_TERM)
    if record.phash is not None:
        terms.update(("phash", band) for band in phash_bands(record.phash))
    if record.duplicate_group is not None:
        terms.add(("duplicate", record.duplicate_group))
    if record.state is ImageState.READY:
        terms.update(("category", category) for category in record.effective_categories())
        terms.update(("label", normalize_label(tag)) for tag in record.effective_tags())
        terms.update(("word", word) for word in record_words(record))
    return frozenset(terms)


#: Kinds of term listed while an image is live, whatever its state (the others: while it is ready).
LIVE_KINDS = frozenset({"album", "favorite", "phash", "duplicate"})
#: The term a favorite is listed under.
FAVORITE_TERM = ("favorite", "yes")


def query_term(query: ImageQuery) -> tuple[str, str] | None:
    """The term whose listing a query reads (``None``: the owner's listing): its category, label, album,
    the favorites, else the driving word of its search words."""
    if query.category is not None:
        return "category", query.category
    if query.label is not None:
        return "label", normalize_label(query.label)
    if query.album is not None:
        return "album", query.album
    if query.favorite:
        return FAVORITE_TERM
    if query.words:
        return "word", driving_word(query.words)
    return None


def driving_word(words: tuple[str, ...]) -> str:
    """The word whose index a search by ``words`` reads (the others filter what it finds): the longest,
    which is usually the rarest; the first of those."""
    return max(words, key=len)
