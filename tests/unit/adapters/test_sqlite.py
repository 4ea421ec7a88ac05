"""What only the SQLite store has to guarantee: concurrent writers in threads, durability on disk, and the
migration of databases made before the content hash was unique."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from imgmgr.adapters.sqlite import SqliteMetadataStore, _row
from lambdas.domain.errors import ContentExistsError, StaleRecordError
from lambdas.domain.queries import ImageQuery
from lambdas.domain.records import new_record
from lambdas.domain.states import ImageState

T0 = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def test_of_many_concurrent_writers_from_one_read_exactly_one_wins(tmp_path):
    # GIVEN a record read once, and eight threads that each try to record a different upload
    store = SqliteMetadataStore(tmp_path / "meta.sqlite3")
    current = store.create(new_record(image_id="img-1", owner="alice", filename="a.jpg", at=T0))

    def write(size: int) -> bool:
        try:
            store.transition(
                current, current.uploaded(at=T0, size=size, sha256=str(size), sniffed_format=None, sniffed_mime=None)
            )
        except StaleRecordError:
            return False
        return True

    # WHEN they write at once
    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(write, range(1, 9)))
    # THEN exactly one won, and the upload is counted once
    assert wins.count(True) == 1
    assert store.usage("alice").images == 1


def test_records_survive_a_new_store_on_the_same_file(tmp_path):
    # GIVEN a record written by one store WHEN another opens the file THEN it reads the record
    SqliteMetadataStore(tmp_path / "meta.sqlite3").create(
        new_record(image_id="img-1", owner="alice", filename="a.jpg", at=T0)
    )
    assert SqliteMetadataStore(tmp_path / "meta.sqlite3").get("img-1").owner == "alice"


def _declared(image_id: str, owner: str = "alice", *, minutes: int = 0, sha256: str = "abc"):
    return new_record(
        image_id=image_id, owner=owner, filename="a.jpg", at=T0 + timedelta(minutes=minutes), declared_sha256=sha256
    )


def test_of_many_concurrent_creates_of_the_same_bytes_exactly_one_makes_a_record(tmp_path):
    # GIVEN eight threads that each create a record of alice declaring the same hash
    store = SqliteMetadataStore(tmp_path / "meta.sqlite3")

    def create(n: int) -> str:
        try:
            return store.create(_declared(f"img-{n}")).image_id
        except ContentExistsError as refused:
            return f"refused for {refused.image_id}"

    # WHEN they write at once
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(8)))
    # THEN one record was made and every other create was refused naming it
    (winner,) = [answer for answer in answers if not answer.startswith("refused")]
    assert sorted(answers) == sorted([winner] + [f"refused for {winner}"] * 7)
    assert [r.image_id for r in store.query(ImageQuery(owner="alice")).items] == [winner]


def _previous_schema_with_duplicates(path):
    """A database as the store made it before the hash was unique, holding live duplicates."""
    store = SqliteMetadataStore(path)
    deleted = store.create(_declared("img-0"))
    store.delete(deleted.image_id, at=T0)
    store.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX images_by_live_hash")
    db.execute("CREATE INDEX images_by_hash ON images (owner, sha256)")
    for record in (_declared("img-1", minutes=1), _declared("img-2", minutes=2), _declared("img-3", "bob")):
        db.execute(
            "INSERT INTO images (image_id, owner, created_at, state, version, sha256, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _row(replace(record, version=1)),
        )
    db.commit()
    db.close()


def _indexes(path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'images'")
        }
    finally:
        db.close()


def test_a_database_with_duplicates_from_before_the_unique_hash_migrates_keeping_every_record(tmp_path):
    # GIVEN a database of the previous schema: alice has two live records of the same bytes (img-1, then
    # img-2) and a deleted one (img-0), bob one of the same bytes (img-3)
    path = tmp_path / "meta.sqlite3"
    _previous_schema_with_duplicates(path)
    # WHEN a store opens it
    store = SqliteMetadataStore(path)
    # THEN every record is still there, the newest of alice's duplicates holds the hash (as find_by_hash
    # answered before), and the hash is unique from now on
    assert all(store.get(image_id) is not None for image_id in ("img-0", "img-1", "img-2", "img-3"))
    assert [r.image_id for r in store.query(ImageQuery(owner="alice")).items] == ["img-2", "img-1"]
    assert store.find_by_hash("alice", "abc").image_id == "img-2"
    assert store.find_by_hash("bob", "abc").image_id == "img-3"
    with pytest.raises(ContentExistsError, match="img-2"):
        store.create(_declared("img-4", minutes=3))
    assert "images_by_live_hash" in _indexes(path) and "images_by_hash" not in _indexes(path)
    # AND the older duplicate moves on without taking the hash; opening the file again changes nothing
    older = store.get("img-1")
    store.transition(older, older.uploaded(at=T0, size=10, sha256="abc", sniffed_format=None, sniffed_mime=None))
    store.close()
    again = SqliteMetadataStore(path)
    assert again.find_by_hash("alice", "abc").image_id == "img-2"
    assert again.get("img-1").state is ImageState.UPLOADED


def test_a_database_made_before_search_words_gets_the_words_of_its_ready_images(tmp_path):
    # GIVEN a ready cat in a database as it was before words were indexed (no word terms, user_version 0)
    from tests.unit.adapters.test_metadata_store_contract import _ready

    path = tmp_path / "meta.sqlite3"
    store = SqliteMetadataStore(path)
    _ready(store, "img-cat")
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM image_terms WHERE kind = 'word'")
        db.execute("PRAGMA user_version = 0")
    # WHEN it is opened THEN a search by a word finds the cat
    reopened = SqliteMetadataStore(path)
    assert [r.image_id for r in reopened.query(ImageQuery(owner="alice", words=("animal",))).items] == ["img-cat"]
    reopened.close()
