"""``MetadataStore.get_many`` (an album listing's chosen covers in one batch read), on DynamoDB and SQLite."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.adapters.test_metadata_store_contract import T0, _awaiting, _ready


def test_get_many_returns_the_existing_records_in_the_order_asked_each_once(metadata_store):
    # GIVEN two live images and a tombstone
    _ready(metadata_store, "a")
    metadata_store.create(_awaiting("b", minutes=1))
    metadata_store.create(_awaiting("gone", minutes=2))
    metadata_store.delete("gone", at=T0 + timedelta(hours=1))
    # WHEN reading them with an unknown id and a repeat
    records = metadata_store.get_many(["b", "nobody", "gone", "a", "b"])
    # THEN the existing ones come back once each, in the order asked, the tombstone included
    assert [record.image_id for record in records] == ["b", "gone", "a"]
    assert records[2] == metadata_store.get("a")


def test_get_many_reads_more_ids_than_one_batch_takes(metadata_store):
    for index in range(105):
        metadata_store.create(_awaiting(f"img-{index:03d}", minutes=index))
    wanted = [f"img-{index:03d}" for index in reversed(range(105))]
    assert [record.image_id for record in metadata_store.get_many(wanted)] == wanted
    assert metadata_store.get_many([]) == []
