"""``MetadataStore`` over SQLite: the same records, indexes and counters as the DynamoDB table.

Tables: ``images`` (one row per record, the record as JSON plus the indexed columns), ``image_terms``
(the categories, labels and words a ready image is listed under, the albums and the favorite mark of a
live one), ``category_counts`` and ``usage`` (the maintained counters; scope ``*`` is everyone), ``albums``
(one row per album with its maintained image count), ``purges`` (the tombstones whose objects are known to be
gone). Beyond the port, the store serves the local janitor (``imgmgr.janitor``): the tombstones still to
purge, and the records due to expire, which it removes as DynamoDB's TTL does. The database runs in WAL mode; every write is one
``BEGIN IMMEDIATE`` transaction that checks the version it read, so concurrent workers and a killed
process leave it consistent. Each thread gets its own connection.

``images.sha256`` is the content hash a record *holds* (measured, else declared): the unique partial index
``images_by_live_hash`` keeps ``(owner, sha256)`` unique over live records, so the same bytes declared
twice at once make one image (``create`` raises ``ContentExistsError`` naming the holder). A record whose
hash another live record holds keeps ``NULL`` there (it is still read by id and listed). Opening a
database made before the index existed migrates it in the schema transaction: of live records that share
a hash, the newest (the one ``find_by_hash`` answered) keeps it and the others get ``NULL``; no record is
removed, and deleted ones keep theirs (the index leaves them out).

Search words (``lambdas.domain.queries.record_words``) are ``image_terms`` of kind ``word``; a search reads
the terms of one word (``driving_word``, or the category or label asked for) and keeps the images that have
a term for every other word. A database made before words were indexed gets the word terms of its ready
images when it is opened (``PRAGMA user_version`` 1 records that it has them).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from imgmgr.database import ThreadConnections
from lambdas.domain.albums import MAX_ALBUMS_PER_OWNER, Album
from lambdas.domain.duplicates import (
    GroupPage,
    check_group_limit,
    group_cursor,
    group_cursor_after,
    live_groups,
    nearest,
    phash_bands,
)
from lambdas.domain.errors import (
    ContentExistsError,
    InvalidQueryError,
    NotFoundError,
    RecordExistsError,
    StaleRecordError,
)
from lambdas.domain.queries import LIVE_KINDS, ImageQuery, Page, index_terms, query_term
from lambdas.domain.records import (
    EXPIRING_STATES,
    ImageRecord,
    Usage,
    check_transition,
    counter_changes,
    timestamp,
)
from lambdas.domain.states import ImageState

ALL_SCOPE = "*"
#: Ids per ``SELECT ... IN`` of ``get_many`` (well under SQLite's limit of bound parameters).
_IDS_PER_SELECT = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    image_id   TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    sha256     TEXT,
    doc        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_owner ON images (owner, created_at, image_id);
CREATE INDEX IF NOT EXISTS images_by_owner_state ON images (owner, state, created_at, image_id);
DROP INDEX IF EXISTS images_by_hash;
CREATE INDEX IF NOT EXISTS images_by_state ON images (state);
CREATE TABLE IF NOT EXISTS purges (
    image_id  TEXT PRIMARY KEY,
    purged_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS image_terms (
    image_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    term       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (image_id, kind, term)
);
CREATE INDEX IF NOT EXISTS terms_global ON image_terms (kind, term, created_at, image_id);
CREATE INDEX IF NOT EXISTS terms_by_owner ON image_terms (owner, kind, term, created_at, image_id);
CREATE TABLE IF NOT EXISTS category_counts (
    scope    TEXT NOT NULL,
    category TEXT NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (scope, category)
);
CREATE TABLE IF NOT EXISTS albums (
    album_id TEXT PRIMARY KEY,
    owner    TEXT NOT NULL,
    version  INTEGER NOT NULL,
    count    INTEGER NOT NULL DEFAULT 0,
    doc      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS albums_by_owner ON albums (owner);
CREATE TABLE IF NOT EXISTS usage (
    scope        TEXT PRIMARY KEY,
    images       INTEGER NOT NULL,
    bytes_stored INTEGER NOT NULL,
    bytes_saved  INTEGER NOT NULL
);
"""

#: The unique hash index, and what a database made before it needs first: of live records that share a
#: hash, all but the newest let it go (see the module docstring).
_HASH_INDEX = "images_by_live_hash"
_HASH_MIGRATION = (
    "UPDATE images SET sha256 = NULL"
    " WHERE state != 'deleted' AND sha256 IS NOT NULL AND EXISTS ("
    "  SELECT 1 FROM images AS newer"
    "  WHERE newer.owner = images.owner AND newer.sha256 = images.sha256 AND newer.state != 'deleted'"
    "   AND (newer.created_at, newer.image_id) > (images.created_at, images.image_id))",
    f"CREATE UNIQUE INDEX {_HASH_INDEX} ON images (owner, sha256) WHERE state != 'deleted'",
)


#: ``PRAGMA user_version`` of a database whose ready images have their word terms.
_WORDS_VERSION = 1


def _index_words(db: sqlite3.Connection) -> None:
    """Add the word terms of every ready image (a database made before words were indexed)."""
    rows = db.execute("SELECT doc FROM images WHERE state = ?", (ImageState.READY.value,)).fetchall()
    for (doc,) in rows:
        record = ImageRecord.from_dict(json.loads(doc))
        db.executemany(
            "INSERT OR IGNORE INTO image_terms (image_id, kind, term, owner, created_at) VALUES (?, ?, ?, ?, ?)",
            [
                (record.image_id, kind, term, record.owner, timestamp(record.created_at))
                for kind, term in index_terms(record)
                if kind == "word"
            ],
        )


class SqliteMetadataStore:
    """``MetadataStore`` in the SQLite database at ``path`` (created with its schema if missing)."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = ThreadConnections(self.path, busy_timeout_s=busy_timeout_s, synchronous_normal=True)
        with self._write() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if not db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (_HASH_INDEX,)
            ).fetchone():
                for statement in _HASH_MIGRATION:
                    db.execute(statement)
            if db.execute("PRAGMA user_version").fetchone()[0] < _WORDS_VERSION:
                _index_words(db)
                db.execute(f"PRAGMA user_version = {_WORDS_VERSION}")

    # --- connections and transactions ---------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        """Close this thread's connection."""
        self._connections.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._connections.write()

    # --- writes ---------------------------------------------------------------------------------------
    def create(self, record: ImageRecord) -> ImageRecord:
        stored = _with_version(record, 1)
        with self._write() as db:
            if db.execute("SELECT 1 FROM images WHERE image_id = ?", (record.image_id,)).fetchone():
                raise RecordExistsError(f"image {record.image_id} exists already")
            content_hash = _hash(stored)
            holder = None if content_hash is None else _hash_holder(db, stored.owner, content_hash)
            if holder is not None:
                raise ContentExistsError(
                    f"image {holder} of {stored.owner} has the content {content_hash} already", image_id=holder
                )
            # The writer lock (BEGIN IMMEDIATE) makes the checks and the insert one step; the unique
            # indexes stand behind them.
            db.execute(
                "INSERT INTO images (image_id, owner, created_at, state, version, sha256, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                _row(stored),
            )
            self._apply(db, None, stored)
        return stored

    def get(self, image_id: str) -> ImageRecord | None:
        row = self._db().execute("SELECT doc FROM images WHERE image_id = ?", (image_id,)).fetchone()
        return None if row is None else ImageRecord.from_dict(json.loads(row[0]))

    def get_many(self, image_ids: Sequence[str]) -> list[ImageRecord]:
        unique = list(dict.fromkeys(image_ids))
        by_id: dict[str, ImageRecord] = {}
        for start in range(0, len(unique), _IDS_PER_SELECT):
            chunk = unique[start : start + _IDS_PER_SELECT]
            marks = ", ".join("?" * len(chunk))
            rows = self._db().execute(f"SELECT doc FROM images WHERE image_id IN ({marks})", chunk)  # noqa: S608
            for (doc,) in rows:
                record = ImageRecord.from_dict(json.loads(doc))
                by_id[record.image_id] = record
        return [by_id[image_id] for image_id in unique if image_id in by_id]

    def transition(self, current: ImageRecord, updated: ImageRecord) -> ImageRecord:
        check_transition(current, updated)
        stored = _with_version(updated, current.version + 1)
        with self._write() as db:
            content_hash = _hash(stored)
            if content_hash is not None and stored.state is not ImageState.DELETED:
                holder = _hash_holder(db, stored.owner, content_hash)
                if holder is not None and holder != stored.image_id:
                    # Another live record holds these bytes (stored before the hash was unique, or an
                    # object adopted from the bucket): this one stays readable without holding the hash.
                    content_hash = None
            changed = db.execute(
                "UPDATE images SET state = ?, version = ?, sha256 = ?, doc = ?"
                " WHERE image_id = ? AND version = ? AND state = ?",
                (
                    stored.state.value,
                    stored.version,
                    content_hash,
                    json.dumps(stored.to_dict()),
                    current.image_id,
                    current.version,
                    current.state.value,
                ),
            ).rowcount
            if changed != 1:
                raise StaleRecordError(f"image {current.image_id} changed since version {current.version}")
            self._apply(db, current, stored)
        return stored

    def delete(self, image_id: str, *, at: datetime, retain_seconds: int = 7 * 86400) -> ImageRecord | None:
        for _attempt in range(5):
            current = self.get(image_id)
            if current is None or current.state is ImageState.DELETED:
                return current
            try:
                return self.transition(
                    current, current.deleted(at=at, expires_at=at + timedelta(seconds=retain_seconds))
                )
            except StaleRecordError:
                continue
        raise StaleRecordError(f"image {image_id} kept changing while being deleted")

    def _apply(self, db: sqlite3.Connection, old: ImageRecord | None, new: ImageRecord) -> None:
        usage, categories, albums = counter_changes(old, new)
        for album_id, delta in albums.items():
            db.execute("UPDATE albums SET count = count + ? WHERE album_id = ?", (delta, album_id))
        for scope in (new.owner, ALL_SCOPE):
            if usage != Usage():
                db.execute(
                    "INSERT INTO usage (scope, images, bytes_stored, bytes_saved) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (scope) DO UPDATE SET images = images + excluded.images,"
                    " bytes_stored = bytes_stored + excluded.bytes_stored,"
                    " bytes_saved = bytes_saved + excluded.bytes_saved",
                    (scope, usage.images, usage.bytes_stored, usage.bytes_saved),
                )
            for category, delta in categories.items():
                db.execute(
                    "INSERT INTO category_counts (scope, category, count) VALUES (?, ?, ?)"
                    " ON CONFLICT (scope, category) DO UPDATE SET count = count + excluded.count",
                    (scope, category, delta),
                )
        before = index_terms(old) if old is not None else frozenset()
        after = index_terms(new)
        for kind, term in before - after:
            db.execute(
                "DELETE FROM image_terms WHERE image_id = ? AND kind = ? AND term = ?",
                (new.image_id, kind, term),
            )
        for kind, term in after - before:
            db.execute(
                "INSERT OR REPLACE INTO image_terms (image_id, kind, term, owner, created_at) VALUES (?, ?, ?, ?, ?)",
                (new.image_id, kind, term, new.owner, timestamp(new.created_at)),
            )

    # --- the janitor's reads and writes (not in the port: DynamoDB's TTL and the steps do this in AWS) --
    def unpurged_tombstones(self, *, after: ImageRecord | None = None, limit: int = 100) -> list[ImageRecord]:
        """Up to ``limit`` tombstones whose purge is not recorded as complete, oldest deletion first, from
        the one after ``after`` (the last of the previous page)."""
        start = ("", "") if after is None else (timestamp(after.updated_at), after.image_id)
        rows = (
            self._db()
            .execute(
                "SELECT doc FROM images WHERE state = ? AND image_id NOT IN (SELECT image_id FROM purges)"
                " AND (json_extract(doc, '$.updated_at'), image_id) > (?, ?)"
                " ORDER BY json_extract(doc, '$.updated_at'), image_id LIMIT ?",
                (ImageState.DELETED.value, *start, limit),
            )
            .fetchall()
        )
        return [ImageRecord.from_dict(json.loads(row[0])) for row in rows]

    def record_purged(self, image_id: str, *, at: datetime) -> None:
        """Record that no object of the deleted image ``image_id`` is left (a repeat keeps the first time)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO purges (image_id, purged_at) VALUES (?, ?) ON CONFLICT (image_id) DO NOTHING",
                (image_id, timestamp(at)),
            )

    def expired(self, now: datetime, *, after: ImageRecord | None = None, limit: int = 100) -> list[ImageRecord]:
        """Up to ``limit`` records whose ``expires_at`` has passed at ``now``, soonest first, from the one
        after ``after``: abandoned uploads, and tombstones whose purge is recorded (one still to purge
        stays, or nothing would remember its objects)."""
        start = ("", "") if after is None or after.expires_at is None else (timestamp(after.expires_at), after.image_id)
        rows = (
            self._db()
            .execute(
                "SELECT doc FROM images WHERE state IN (?, ?) AND json_extract(doc, '$.expires_at') <= ?"
                " AND (state != ? OR image_id IN (SELECT image_id FROM purges))"
                " AND (json_extract(doc, '$.expires_at'), image_id) > (?, ?)"
                " ORDER BY json_extract(doc, '$.expires_at'), image_id LIMIT ?",
                (
                    ImageState.AWAITING_UPLOAD.value,
                    ImageState.DELETED.value,
                    timestamp(now),
                    ImageState.DELETED.value,
                    *start,
                    limit,
                ),
            )
            .fetchall()
        )
        return [ImageRecord.from_dict(json.loads(row[0])) for row in rows]

    def originals_due(self, now: datetime, *, after: ImageRecord | None = None, limit: int = 100) -> list[ImageRecord]:
        """Up to ``limit`` live records whose original the originals policy removes by ``now`` and that
        still have it, soonest first, from the one after ``after``."""
        start = (
            ("", "")
            if after is None or after.original_expires_at is None
            else (timestamp(after.original_expires_at), after.image_id)
        )
        rows = (
            self._db()
            .execute(
                "SELECT doc FROM images WHERE state != ? AND json_extract(doc, '$.original_expires_at') <= ?"
                " AND json_extract(doc, '$.original_removed_at') IS NULL"
                " AND (json_extract(doc, '$.original_expires_at'), image_id) > (?, ?)"
                " ORDER BY json_extract(doc, '$.original_expires_at'), image_id LIMIT ?",
                (ImageState.DELETED.value, timestamp(now), *start, limit),
            )
            .fetchall()
        )
        return [ImageRecord.from_dict(json.loads(row[0])) for row in rows]

    def expire(self, record: ImageRecord) -> bool:
        """Remove an expired record as TTL does (it counts nowhere); whether it was removed. A record that
        changed since it was read (an upload that arrived meanwhile) is kept."""
        if record.state not in EXPIRING_STATES or record.expires_at is None:
            raise ValueError(f"image {record.image_id}: a {record.state} record without an expiry never expires")
        with self._write() as db:
            removed = db.execute(
                "DELETE FROM images WHERE image_id = ? AND version = ? AND state = ?",
                (record.image_id, record.version, record.state.value),
            ).rowcount
            if removed:
                db.execute("DELETE FROM image_terms WHERE image_id = ?", (record.image_id,))
                db.execute("DELETE FROM purges WHERE image_id = ?", (record.image_id,))
        return removed == 1

    # --- reads ----------------------------------------------------------------------------------------
    def query(self, query: ImageQuery) -> Page:
        after = _decode_cursor(query.cursor)
        conditions: list[str] = []
        params: list[object] = []
        term = query_term(query)
        if term is not None:
            kind, value = term
            if kind not in LIVE_KINDS and query.state not in (None, ImageState.READY):
                return Page(())
            source = "image_terms t JOIN images i ON i.image_id = t.image_id"
            conditions += ["t.kind = ?", "t.term = ?"]
            params += [kind, value]
            if kind in LIVE_KINDS:
                conditions.append("i.state != ?")
                params.append(ImageState.DELETED.value)
                if query.state is not None:
                    conditions.append("i.state = ?")
                    params.append(query.state.value)
            else:
                conditions.append("i.state = ?")
                params.append(ImageState.READY.value)
            column = "t"
            if query.owner is not None:
                conditions.append("t.owner = ?")
                params.append(query.owner)
            for word in query.words:
                if term != ("word", word):
                    conditions.append(
                        "EXISTS (SELECT 1 FROM image_terms w"
                        " WHERE w.image_id = t.image_id AND w.kind = 'word' AND w.term = ?)"
                    )
                    params.append(word)
        else:
            source = "images i"
            column = "i"
            conditions += ["i.owner = ?", "i.state != ?"]
            params += [query.owner, ImageState.DELETED.value]
            if query.state is not None:
                conditions.append("i.state = ?")
                params.append(query.state.value)
        if query.since is not None:
            conditions.append(f"{column}.created_at >= ?")
            params.append(timestamp(query.since))
        if query.until is not None:
            conditions.append(f"{column}.created_at <= ?")
            params.append(timestamp(query.until))
        if after is not None:
            conditions.append(f"({column}.created_at, {column}.image_id) < (?, ?)")
            params += list(after)
        sql = (
            f"SELECT i.doc, {column}.created_at, {column}.image_id FROM {source}"  # noqa: S608 - fixed fragments
            f" WHERE {' AND '.join(conditions)}"
            f" ORDER BY {column}.created_at DESC, {column}.image_id DESC LIMIT ?"
        )
        rows = self._db().execute(sql, [*params, query.limit + 1]).fetchall()
        items = tuple(ImageRecord.from_dict(json.loads(row[0])) for row in rows[: query.limit])
        next_cursor = None
        if len(rows) > query.limit:
            last = rows[query.limit - 1]
            next_cursor = json.dumps({"created_at": last[1], "image_id": last[2]}, separators=(",", ":"))
        return Page(items, next_cursor)

    def find_by_hash(self, owner: str, sha256: str) -> ImageRecord | None:
        row = (
            self._db()
            .execute(
                # The literal state lets SQLite use the partial index images_by_live_hash.
                "SELECT doc FROM images WHERE owner = ? AND sha256 = ? AND state != 'deleted'",
                (owner, sha256),
            )
            .fetchone()
        )
        return None if row is None else ImageRecord.from_dict(json.loads(row[0]))

    def category_counts(self, owner: str | None = None) -> dict[str, int]:
        rows = (
            self._db()
            .execute(
                "SELECT category, count FROM category_counts WHERE scope = ? AND count > 0 ORDER BY category",
                (owner if owner is not None else ALL_SCOPE,),
            )
            .fetchall()
        )
        return {category: count for category, count in rows}

    def usage(self, owner: str | None = None) -> Usage:
        row = (
            self._db()
            .execute(
                "SELECT images, bytes_stored, bytes_saved FROM usage WHERE scope = ?",
                (owner if owner is not None else ALL_SCOPE,),
            )
            .fetchone()
        )
        return Usage() if row is None else Usage(*row)

    # --- near-duplicates ------------------------------------------------------------------------------
    def near_duplicates(self, owner: str, phash: str, *, max_distance: int) -> tuple[ImageRecord, ...]:
        bands = phash_bands(phash)
        rows = (
            self._db()
            .execute(
                "SELECT DISTINCT i.doc FROM image_terms t JOIN images i ON i.image_id = t.image_id"  # noqa: S608
                f" WHERE t.owner = ? AND t.kind = 'phash' AND t.term IN ({', '.join('?' * len(bands))})"
                " AND i.state != 'deleted'",
                (owner, *bands),
            )
            .fetchall()
        )
        return nearest((ImageRecord.from_dict(json.loads(row[0])) for row in rows), phash, max_distance)

    def duplicate_groups(self, owner: str, *, limit: int = 20, cursor: str | None = None) -> GroupPage:
        limit = check_group_limit(limit)
        after = group_cursor_after(cursor)
        db = self._db()
        live = "t.owner = ? AND t.kind = 'duplicate' AND i.state != 'deleted'"
        groups = [
            row[0]
            for row in db.execute(
                f"SELECT t.term FROM image_terms t JOIN images i ON i.image_id = t.image_id WHERE {live}"  # noqa: S608
                " AND t.term > ? GROUP BY t.term HAVING COUNT(*) >= 2 ORDER BY t.term LIMIT ?",
                (owner, after, limit + 1),
            )
        ]
        page = groups[:limit]
        rows = db.execute(
            f"SELECT t.term, i.doc FROM image_terms t JOIN images i ON i.image_id = t.image_id WHERE {live}"  # noqa: S608
            f" AND t.term IN ({', '.join('?' * len(page))}) ORDER BY t.term",
            (owner, *page),
        ).fetchall()
        found = live_groups((term, ImageRecord.from_dict(json.loads(doc))) for term, doc in rows)
        return GroupPage(tuple(found), group_cursor(page[-1]) if len(groups) > limit else None)

    # --- albums ---------------------------------------------------------------------------------------
    def create_album(self, album: Album) -> Album:
        stored = replace(album, version=1, count=0)
        with self._write() as db:
            if db.execute("SELECT 1 FROM albums WHERE album_id = ?", (album.album_id,)).fetchone():
                raise RecordExistsError(f"album {album.album_id} exists already")
            db.execute(
                "INSERT INTO albums (album_id, owner, version, count, doc) VALUES (?, ?, 1, 0, ?)",
                (stored.album_id, stored.owner, json.dumps(stored.to_dict())),
            )
        return stored

    def get_album(self, album_id: str) -> Album | None:
        row = self._db().execute("SELECT doc, count FROM albums WHERE album_id = ?", (album_id,)).fetchone()
        return None if row is None else _album(row)

    def update_album(self, current: Album, updated: Album) -> Album:
        with self._write() as db:
            row = db.execute("SELECT version, count FROM albums WHERE album_id = ?", (current.album_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"album {current.album_id} does not exist")
            if row[0] != current.version:
                raise StaleRecordError(f"album {current.album_id} changed since version {current.version}")
            stored = replace(
                current,
                name=updated.name,
                cover_image_id=updated.cover_image_id,
                updated_at=updated.updated_at,
                version=current.version + 1,
                count=int(row[1]),
            )
            db.execute(
                "UPDATE albums SET version = ?, doc = ? WHERE album_id = ?",
                (stored.version, json.dumps(stored.to_dict()), stored.album_id),
            )
        return stored

    def delete_album(self, album_id: str) -> Album | None:
        with self._write() as db:
            row = db.execute("SELECT doc, count FROM albums WHERE album_id = ?", (album_id,)).fetchone()
            db.execute("DELETE FROM albums WHERE album_id = ?", (album_id,))
        return None if row is None else _album(row)

    def albums(self, owner: str) -> tuple[Album, ...]:
        rows = (
            self._db()
            .execute("SELECT doc, count FROM albums WHERE owner = ? LIMIT ?", (owner, MAX_ALBUMS_PER_OWNER))
            .fetchall()
        )
        return tuple(sorted((_album(row) for row in rows), key=lambda album: (album.name.casefold(), album.album_id)))


def _album(row: tuple[str, int]) -> Album:
    """An album from its row: the stored document, the maintained count."""
    return replace(Album.from_dict(json.loads(row[0])), count=int(row[1]))


def _with_version(record: ImageRecord, version: int) -> ImageRecord:
    return replace(record, version=version)


def _hash(record: ImageRecord) -> str | None:
    return record.sha256 or record.declared_sha256


def _hash_holder(db: sqlite3.Connection, owner: str, content_hash: str) -> str | None:
    """The live record of ``owner`` that holds ``content_hash``, if any."""
    row = db.execute(
        "SELECT image_id FROM images WHERE owner = ? AND sha256 = ? AND state != 'deleted'", (owner, content_hash)
    ).fetchone()
    return None if row is None else str(row[0])


def _row(record: ImageRecord) -> tuple[object, ...]:
    return (
        record.image_id,
        record.owner,
        timestamp(record.created_at),
        record.state.value,
        record.version,
        _hash(record),
        json.dumps(record.to_dict()),
    )


def _decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if cursor is None:
        return None
    try:
        data = json.loads(cursor)
        created_at, image_id = data["created_at"], data["image_id"]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidQueryError("cursor is not one this store issued") from exc
    if not isinstance(created_at, str) or not isinstance(image_id, str):
        raise InvalidQueryError("cursor is not one this store issued")
    return created_at, image_id
