"""bench.dynamodb_units: item sizes and units by DynamoDB's rules, checked against hand-computed items."""

from __future__ import annotations

import pytest

from bench.dynamodb_units import (
    TABLE,
    IndexSchema,
    Read,
    TableSchema,
    Write,
    index_entry,
    item_size,
    number_size,
    read_cost,
    read_units,
    value_size,
    write_cost,
    write_units,
)

SCHEMA = TableSchema(
    hash_key="pk",
    range_key="sk",
    indexes=(
        IndexSchema(name="byall", hash_key="apk", range_key="ask", projection="ALL"),
        IndexSchema(name="bykeys", hash_key="kpk", range_key="ksk", projection="KEYS_ONLY"),
        IndexSchema(name="byinc", hash_key="kpk", range_key="ksk", projection="INCLUDE", non_key_attributes=("n",)),
    ),
)


def _item(pad: int, **keys: str) -> dict:
    """``pk``/``sk`` (``"P"``/``"S"``: 2 + 1 + 2 + 1 = 6 bytes), ``pad`` (3 + ``pad`` bytes), extra keys."""
    item = {"pk": {"S": "P"}, "sk": {"S": "S"}, "pad": {"S": "x" * pad}}
    item.update({name: {"S": value} for name, value in keys.items()})
    return item


@pytest.mark.parametrize(
    ("text", "size"),
    [("42", 2), ("7", 2), ("100", 2), ("-12.50", 3), ("0", 2), ("0.005", 2), ("123456789", 6), ("1E+3", 2)],
)
def test_a_number_takes_a_byte_per_two_significant_digits_plus_one(text: str, size: int) -> None:
    assert number_size(text) == size


def test_an_item_is_its_names_and_values() -> None:
    # GIVEN pk "IMG#1" (2 + 5), sk "IMG" (2 + 3), n 42 (1 + 2), a NULL (4 + 1), "é" in UTF-8 (1 + 2)
    item = {"pk": {"S": "IMG#1"}, "sk": {"S": "IMG"}, "n": {"N": "42"}, "none": {"NULL": True}, "e": {"S": "é"}}
    # THEN its size is 7 + 5 + 3 + 5 + 3
    assert item_size(item) == 23


def test_maps_and_lists_cost_three_bytes_and_one_per_element() -> None:
    # GIVEN {"a": "xy", "b": [1, true]}: list 3 + (1 + 2) + (1 + 1) = 8; map 3 + (1 + 1 + 2) + (1 + 1 + 8) = 17
    value = {"M": {"a": {"S": "xy"}, "b": {"L": [{"N": "1"}, {"BOOL": True}]}}}
    # THEN the value is 17 bytes, and 18 as attribute "m"
    assert value_size(value) == 17
    assert item_size({"m": value}) == 18
    assert value_size({"L": []}) == value_size({"M": {}}) == 3


def test_sets_and_binaries_are_the_sum_of_their_elements() -> None:
    assert value_size({"SS": ["ab", "c"]}) == 3
    assert value_size({"NS": ["1", "22", "333"]}) == 2 + 2 + 3
    assert value_size({"B": "AAEC"}) == 3  # base64 of three bytes


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1, 1), (1024, 1), (1025, 2), (3072, 3), (3073, 4)])
def test_a_write_unit_is_one_started_kilobyte(size: int, units: int) -> None:
    assert write_units(size) == units


def test_a_read_unit_is_four_kilobytes_halved_when_eventually_consistent() -> None:
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(100, consistent=False) == 0.5
    assert read_units(100, consistent=True, transactional=True) == 2


def test_a_new_item_is_put_into_the_indexes_whose_keys_it_has() -> None:
    # GIVEN a new item with the keys of "byall" only: 6 + (3 + 1479) + (3 + 1) * 2 = 1,496 bytes
    item = _item(1479, apk="a", ask="b")
    assert item_size(item) == 1496
    # WHEN it is put / THEN 2 units on the table and 2 on "byall" (the whole item), nothing elsewhere
    assert write_cost(SCHEMA, Write(before=None, after=item)) == {TABLE: 2, "byall": 2}


def test_a_transactional_write_costs_twice_on_the_table_only() -> None:
    item = _item(1479, apk="a", ask="b")
    assert write_cost(SCHEMA, Write(before=None, after=item, transactional=True)) == {TABLE: 4, "byall": 2}


def test_an_update_costs_the_larger_of_the_item_before_and_after() -> None:
    # GIVEN an item shrinking from 3,000 to 500 bytes, in no index
    before, after = _item(2991), _item(491)
    assert (item_size(before), item_size(after)) == (3000, 500)
    # THEN the write costs 3 units, as the larger image
    assert write_cost(SCHEMA, Write(before=before, after=after)) == {TABLE: 3}


def test_a_keys_only_index_is_not_written_when_only_other_attributes_change() -> None:
    # GIVEN an item in the keys-only and the include index whose padding grows
    before, after = _item(10, kpk="k", ksk="1"), _item(2000, kpk="k", ksk="1")
    # THEN neither index entry changed: the table alone pays
    assert write_cost(SCHEMA, Write(before=before, after=after)) == {TABLE: 2}


def test_a_projected_attribute_change_is_one_index_write() -> None:
    before = {**_item(10, kpk="k", ksk="1"), "n": {"N": "1"}}
    after = {**_item(10, kpk="k", ksk="1"), "n": {"N": "2"}}
    # THEN "byinc" (which projects n) is written once, "bykeys" not at all
    assert write_cost(SCHEMA, Write(before=before, after=after)) == {TABLE: 1, "byinc": 1}


def test_a_changed_index_key_is_a_delete_and_a_put() -> None:
    before, after = _item(10, apk="a", ask="1"), _item(10, apk="a", ask="2")
    assert write_cost(SCHEMA, Write(before=before, after=after)) == {TABLE: 1, "byall": 2}


def test_an_item_leaving_an_index_is_one_delete() -> None:
    # GIVEN a 2,100-byte item that loses its "byall" keys (a tombstone): its index entry is deleted
    before, after = _item(2083, apk="a", ask="b"), _item(50)
    assert item_size(before) == 2100
    # THEN the table pays for the larger image, the index one delete of the old entry (3 units)
    assert write_cost(SCHEMA, Write(before=before, after=after)) == {TABLE: 3, "byall": 3}


def test_a_delete_costs_the_deleted_item() -> None:
    assert write_cost(SCHEMA, Write(before=_item(1100, kpk="k", ksk="1"), after=None)) == {
        TABLE: 2,
        "bykeys": 1,
        "byinc": 1,
    }


def test_index_entries_hold_what_the_projection_says() -> None:
    item = {**_item(10, kpk="k", ksk="1"), "n": {"N": "5"}}
    assert set(index_entry(SCHEMA, SCHEMA.index("bykeys"), item) or {}) == {"pk", "sk", "kpk", "ksk"}
    assert set(index_entry(SCHEMA, SCHEMA.index("byinc"), item) or {}) == {"pk", "sk", "kpk", "ksk", "n"}
    assert index_entry(SCHEMA, SCHEMA.index("byall"), item) is None


def test_a_query_rounds_the_sum_of_its_items_once() -> None:
    # GIVEN three 2,000-byte items (6,000 bytes: two 4 KB units)
    items = tuple(_item(1991) for _ in range(3))
    assert item_size(items[0]) == 2000
    # THEN a consistent query costs 2, an eventually consistent one 1, a batch get 1 per item
    assert read_cost(SCHEMA, Read(kind="query", items=items, consistent=True)) == {TABLE: 2}
    assert read_cost(SCHEMA, Read(kind="query", items=items)) == {TABLE: 1}
    assert read_cost(SCHEMA, Read(kind="batch_get", items=items, consistent=True)) == {TABLE: 3}


def test_an_index_query_reads_the_index_entries_eventually_consistently() -> None:
    # GIVEN three large items read through the keys-only index (entries of 14 bytes each)
    items = tuple(_item(3000, kpk="k", ksk=str(n)) for n in range(3))
    # THEN the query costs the minimum half unit on the index, even when asked consistently
    assert read_cost(SCHEMA, Read(kind="query", items=items, index="bykeys", consistent=True)) == {"bykeys": 0.5}


def test_a_read_that_finds_nothing_costs_the_minimum() -> None:
    assert read_cost(SCHEMA, Read(kind="get", consistent=True, missing=1)) == {TABLE: 1}
    assert read_cost(SCHEMA, Read(kind="query")) == {TABLE: 0.5}


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="value: unknown DynamoDB type 'X'"):
        value_size({"X": "?"})
