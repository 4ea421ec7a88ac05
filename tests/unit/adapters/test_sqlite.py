"""What only the SQLite store has to guarantee: concurrent writers in threads, and durability on disk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from lambdas.adapters.local.sqlite import SqliteMetadataStore
from lambdas.domain.errors import StaleRecordError
from lambdas.domain.records import new_record

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
