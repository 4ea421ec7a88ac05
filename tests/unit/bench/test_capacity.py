"""bench.capacity: the recorded life of one image, token buckets, and the burst simulation."""

from __future__ import annotations

from bench.capacity import (
    STEPS,
    Buckets,
    Capacity,
    Recorded,
    Request,
    Retries,
    adapter_retries,
    adapter_schema,
    default_capacity,
    per_image,
    price,
    simulate,
)
from bench.dynamodb_units import TABLE, write_cost

RETRIES = Retries(sdk_attempts=5, adapter_attempts=5)
SECONDS = dict.fromkeys(STEPS, 0.5)


def _plans(write_units: float) -> dict[str, tuple[Request, ...]]:
    """Each step: one transaction of ``write_units`` on the table and on ``gsi1``."""
    units = {(TABLE, "write"): write_units, ("gsi1", "write"): write_units}
    return {step: (Request(operation="TransactWriteItems", retry="transaction", parts=(units,)),) for step in STEPS}


def test_the_life_of_an_image_is_recorded_step_by_step(recorded_life: tuple[Recorded, ...]) -> None:
    # GIVEN the requests of one image from the API's create to ready (tests/unit/conftest.py)
    operations = [(entry.step, entry.operation) for entry in recorded_life]
    # THEN the API checks the hash then creates; each step reads the record and moves it; categorize
    # puts its terms first (48 items: two batches); compress records the upload, reserves its rendition's key (so that a tombstone
    # names it), then moves the record
    assert operations[:2] == [("api", "Query"), ("api", "TransactWriteItems")]
    assert [op for step, op in operations if step == "categorize"] == [
        "GetItem",
        "BatchWriteItem",
        "BatchWriteItem",
        "TransactWriteItems",
    ]
    assert [op for step, op in operations if step == "compress"].count("TransactWriteItems") == 3


def test_each_term_costs_one_unit_on_the_table_and_on_two_indexes(recorded_life: tuple[Recorded, ...]) -> None:
    # GIVEN the categorize step's term puts, priced with the adapter's projections
    plans = price(recorded_life, adapter_schema())
    parts = [part for r in plans["categorize"] if r.operation == "BatchWriteItem" for part in r.parts]
    # THEN every label and category item (14 labels: 19 tags and 4 categories) is one unit in the table,
    # gsi1 and gsi2; every search-word item (24 words: "puppy" is indexed as its canonical "dog", a word the
    # photo has already) one in the table and gsi1 only
    terms = [part for part in parts if ("gsi2", "write") in part]
    words = [part for part in parts if ("gsi2", "write") not in part]
    assert len(terms) == 23
    assert all(part == {(TABLE, "write"): 1, ("gsi1", "write"): 1, ("gsi2", "write"): 1} for part in terms)
    assert len(words) == 24
    assert all(part == {(TABLE, "write"): 1, ("gsi1", "write"): 1} for part in words)


def test_the_content_hash_item_costs_two_units_at_the_create_and_two_when_the_upload_is_recorded(
    recorded_life: tuple[Recorded, ...],
) -> None:
    # GIVEN the writes of one image's life to its content-hash item (HASH#<owner>#<sha256>), priced
    schema = adapter_schema()
    hash_writes = [
        (entry.step, write_cost(schema, write))
        for entry in recorded_life
        for write in entry.writes
        if str((write.after or write.before or {}).get("pk", {}).get("S", "")).startswith("HASH#")
    ]
    # THEN the API's create and compress's record of the upload (dropping the TTL) write it, one 1 KB unit
    # doubled by the transaction, on the table only (no index key); nothing else touches it on the way to ready
    assert hash_writes == [("api", {TABLE: 2}), ("compress", {TABLE: 2})]


def test_keys_only_indexes_write_a_record_entry_only_when_its_key_changes(
    recorded_life: tuple[Recorded, ...],
) -> None:
    # GIVEN the life priced with the adapter's keys-only indexes and with ALL projections
    keys_only, everything = (
        per_image(price(recorded_life, adapter_schema())),
        per_image(price(recorded_life, adapter_schema("ALL"))),
    )
    # THEN gsi1 takes the record once, the 23 terms, the 24 words and the 8 bands of the perceptual hash the
    # thumbnail step stores; gsi3 the record once and a move (delete + put) on each of the four transitions; ALL
    # rewrote the growing record on every transition
    assert keys_only[("gsi1", "write")] == 1 + 23 + 24 + 8
    assert keys_only[("gsi3", "write")] == 1 + 2 * 4
    assert everything[("gsi1", "write")] > keys_only[("gsi1", "write")]
    assert everything[(TABLE, "write")] == keys_only[(TABLE, "write")]


def test_the_default_capacity_is_read_from_the_props() -> None:
    label, capacity = default_capacity(("table", "gsi1"))
    assert (label, capacity.rates) == ("on-demand", None)


def test_the_retries_are_the_adapter_client_config() -> None:
    # GIVEN lambdas.config.client's Config(retries={"max_attempts": 4}): four retries after the first call
    retries = adapter_retries()
    assert retries.sdk_attempts == 5
    assert retries.lambda_delays == (60.0, 120.0)


def test_a_bucket_starts_with_the_burst_and_refills_at_its_rate() -> None:
    # GIVEN 5 units per second with the 300 s burst
    buckets = Buckets(Capacity(rates={(TABLE, "write"): 5.0}))
    # WHEN the burst is spent / THEN nothing more goes through until it refilled
    assert buckets.take(0.0, {(TABLE, "write"): 1500.0})
    assert not buckets.take(0.0, {(TABLE, "write"): 1.0})
    assert buckets.take(1.0, {(TABLE, "write"): 5.0})
    assert not buckets.take(1.0, {(TABLE, "write"): 1.0})


def test_a_bucket_holds_no_more_than_the_burst() -> None:
    buckets = Buckets(Capacity(rates={(TABLE, "write"): 1.0}))
    assert not buckets.take(10_000.0, {(TABLE, "write"): 301.0})


def test_an_index_without_capacity_throttles_the_table_write() -> None:
    # GIVEN a table with capacity left and an index without
    buckets = Buckets(Capacity(rates={(TABLE, "write"): 10.0, ("gsi1", "write"): 10.0}))
    assert buckets.take(0.0, {("gsi1", "write"): 3000.0})
    # WHEN a write needs both / THEN it is refused and the table's capacity is not spent
    assert not buckets.take(0.0, {(TABLE, "write"): 1.0, ("gsi1", "write"): 1.0})
    assert buckets.take(0.0, {(TABLE, "write"): 3000.0})


def test_on_demand_takes_the_whole_burst() -> None:
    outcome = simulate(_plans(50), Capacity.on_demand(), seconds=SECONDS, retries=RETRIES, images=200)
    assert (outcome.ready, outcome.stranded, outcome.refused, outcome.throttled) == (200, 0, 0, 0)


def test_too_little_capacity_strands_images_after_the_lambda_retries() -> None:
    # GIVEN 5 units per second for steps of 50 units: the burst takes 7 images' worth of steps
    capacity = Capacity(rates={(TABLE, "write"): 5.0, ("gsi1", "write"): 5.0})
    outcome = simulate(_plans(50), capacity, seconds=SECONDS, retries=RETRIES, images=200)
    # THEN most images end in the dead-letter queue or are refused at the API (its create is throttled too)
    assert outcome.stranded > 0
    assert outcome.stranded + outcome.refused > 150
    assert outcome.ready + outcome.stranded + outcome.refused == 200
    assert outcome.failed_runs >= 3 * outcome.stranded


def test_enough_capacity_strands_nothing() -> None:
    capacity = Capacity(rates={(TABLE, "write"): 2000.0, ("gsi1", "write"): 2000.0})
    outcome = simulate(_plans(50), capacity, seconds=SECONDS, retries=RETRIES, images=200)
    assert (outcome.ready, outcome.stranded) == (200, 0)
