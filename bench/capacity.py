"""DynamoDB capacity under a bulk upload: units per image, measured, then a 500-image burst simulated.

Run ``python -m bench.capacity`` (``make bench`` runs it through ``python -m bench``). Options: ``--images N``
(default 500), ``--arrival-seconds S`` (the uploads arrive evenly within S seconds, default 60),
``--concurrency N`` (Lambda concurrency of the account, default 10: a new account's), ``--megapixels MP``
(size of the synthetic photo, default 12), ``--seed N``.

**Measured.** One image goes through its whole life against moto (``mock_aws``) with the real adapters:
the API's part of ``POST /v1/uploads`` (``find_by_hash`` then ``create``, as ``lambdas.api.routes``
calls them), the bytes into S3, then ``lambdas.steps.compress``, ``thumbnail`` and ``categorize`` with
the real ``RekognitionLabeler`` answered by a recorded-style ``DetectLabels`` response (14 labels and
their parents in 4 categories, as Rekognition returns for a photo of a dog on a beach). Every request the
``DynamoMetadataStore`` sends is caught by botocore event hooks on its client; the item images before
and after each write are read back from moto, and ``bench.dynamodb_units`` prices them (sizes, 1 KB /
4 KB units, transactions, index entries by projection). Because the accounting keeps the item images,
the same life is also priced under the previous design (every index projecting ``ALL``).

**Simulated.** ``--images`` uploads arrive within ``--arrival-seconds``; each image's steps run as the
deployment runs them: the API request at arrival, then compress, thumbnail and categorize as
asynchronous invocations chained by destinations, at most ``--concurrency`` at a time, each taking the
billed seconds of ``imgmgr.cost.model.DEFAULT_PROFILES`` and sending the requests measured above. The table
and each index are token buckets refilled at their provisioned rate that start full with DynamoDB's
burst capacity (300 s of unused capacity); a write needs capacity on the table *and* on every index it
writes. A throttled request is retried as the code does: the SDK retries throttling errors (the
adapter's client config is read from ``lambdas.config.client``: adaptive mode, ``max_attempts``),
with full-jitter backoff ``rand * min(2**i, 20)`` s; a throttled ``TransactWriteItems`` is cancelled
(``TransactionCanceledException``, which the SDK does not retry) and the adapter raises
``ThrottledError`` at once; ``BatchWriteItem`` leftovers are retried by the adapter's own loop. A step
that fails records the failure (one more read and transaction) and Lambda retries the event after 60 s
and 120 s (``max_retry_attempts`` of the props); after that it goes to the dead-letter queue: the image
is *stranded* until a redrive. An API request that is throttled past the SDK's retries is *refused*
(the client sees an error; nothing is stranded). On-demand tables are not throttled (a new on-demand
table takes 4,000 write units per second at once; the peak is printed).

The capacity simulated as "default" is the synthesized one: ``ImagePipelineProps()``'s ``billing_mode``,
``read_capacity`` and ``write_capacity`` on the table and each index, with the adapter's projections.
Prices: ``imgmgr.cost.prices.PRICES`` (us-east-1 list prices as of ``imgmgr.cost.prices.PRICES_AS_OF``):
on-demand request units (``imgmgr.cost.model.on_demand_usd_per_image``), provisioned capacity per
WCU-hour and RCU-hour (25 of each free for every account) and table storage.

Size: one benchmark with its own write-unit model and report; the numbers it prints are quoted by
``imgmgr.cost.model``, so the measurement and its explanation stay in one file.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import io
import json
import os
import random
import sys
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from bench.dynamodb_units import (
    TABLE,
    IndexSchema,
    Item,
    Projection,
    Read,
    TableSchema,
    Write,
    index_entry,
    item_size,
    read_cost,
    write_cost,
)

BURST_SECONDS = 300
#: Lambda's asynchronous retries: one minute before the first, two before the second.
LAMBDA_RETRY_DELAYS = (60.0, 120.0)
#: A new on-demand table serves this many write request units per second at once.
ON_DEMAND_INITIAL_WRITE_UNITS = 4000
#: DynamoDB adds 100 bytes per item to its size for storage, in the table and in each index.
STORAGE_OVERHEAD_BYTES = 100
STEPS = ("api", "compress", "thumbnail", "categorize")
TABLE_NAME = "imgmgr-capacity"
BUCKET = "imgmgr-capacity"
OWNER = "alice"
#: Partition keys of the items that belong to one image (``lambdas.adapters.aws.dynamodb``'s key design).
_IMAGE_ITEM_PREFIXES = ("IMG#", "HASH#")

Kind = Literal["read", "write"]
Retry = Literal["sdk", "transaction", "batch"]
Units = Mapping[tuple[str, str], float]  # (target, "read" | "write") -> units


# --- one image's life, recorded ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """One request the store sent: what it read or the item images it wrote, unpriced."""

    step: str
    operation: str
    writes: tuple[Write, ...] = ()
    reads: tuple[Read, ...] = ()

    @property
    def retry(self) -> Retry:
        if self.operation == "TransactWriteItems":
            return "transaction"
        return "batch" if self.operation == "BatchWriteItem" else "sdk"


def adapter_schema(projection: Projection | None = None) -> TableSchema:
    """The table as the adapter defines it (``projection`` overrides every index's, for comparisons)."""
    from lambdas.adapters.aws import dynamodb

    if dynamodb.GSI_PROJECTION not in get_args(Projection):
        raise ValueError(f"GSI_PROJECTION: {dynamodb.GSI_PROJECTION!r} is not a projection this accounting knows")
    chosen = projection or cast(Projection, dynamodb.GSI_PROJECTION)
    indexes = [
        IndexSchema(
            name=name, hash_key=dynamodb.GSI_KEYS[name][0], range_key=dynamodb.GSI_KEYS[name][1], projection=chosen
        )
        for name in dynamodb.GSI_NAMES
    ]
    keys = {key_type: attribute for attribute, key_type in dynamodb.TABLE_KEY_SCHEMA}
    return TableSchema(hash_key=keys["HASH"], range_key=keys.get("RANGE"), indexes=tuple(indexes))


class Recorder:
    """Catches every DynamoDB request of ``client`` (botocore events) and keeps the items it touched.

    ``raw`` is a second client on the same backend without the hooks, used to read items before and
    after each write. ``step`` names the phase the requests belong to.
    """

    def __init__(self, client: Any, raw: Any, table: TableSchema) -> None:
        self.raw = raw
        self.table = table
        self.step = "api"
        self.recorded: list[Recorded] = []
        self._pending: tuple[str, dict[str, Any], list[tuple[dict[str, Any], bool]]] | None = None
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _stored(self, table_name: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self.raw.get_item(TableName=table_name, Key=dict(key), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.table.keys}

    def _written_keys(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
        """``(table, key, is_condition_check)`` of every item the request writes."""
        if operation == "PutItem":
            return [(params["TableName"], self._key(params["Item"]), False)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], dict(params["Key"]), False)]
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                ((action, body),) = entry.items()
                key = self._key(body["Item"]) if action == "Put" else dict(body["Key"])
                found.append((body["TableName"], key, action == "ConditionCheck"))
            return found
        if operation == "BatchWriteItem":
            found = []
            for table_name, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        found.append((table_name, self._key(request["PutRequest"]["Item"]), False))
                    else:
                        found.append((table_name, dict(request["DeleteRequest"]["Key"]), False))
            return found
        return []

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        keys = self._written_keys(model.name, params)
        befores = [({"table": name, "key": key, "item": self._stored(name, key)}, check) for name, key, check in keys]
        self._pending = (model.name, json.loads(json.dumps(params, default=str)), befores)

    def _after(self, http_response: Any, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        pending, self._pending = self._pending, None
        if pending is None or http_response.status_code >= 300:
            return
        operation, params, befores = pending
        writes = []
        for before, check in befores:
            after = before["item"] if check else self._stored(before["table"], before["key"])
            writes.append(Write(before=before["item"], after=after, transactional=operation == "TransactWriteItems"))
        reads = self._reads(operation, params, parsed)
        if writes or reads:
            self.recorded.append(Recorded(step=self.step, operation=operation, writes=tuple(writes), reads=reads))

    def _reads(self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> tuple[Read, ...]:
        if operation == "GetItem":
            item = self._stored(params["TableName"], params["Key"])
            items = () if item is None else (item,)
            return (
                Read(kind="get", items=items, consistent=bool(params.get("ConsistentRead")), missing=1 - len(items)),
            )
        if operation == "Query":
            table_name = params["TableName"]
            stored = [self._stored(table_name, self._key(item)) for item in parsed.get("Items", [])]
            return (
                Read(
                    kind="query",
                    items=tuple(item for item in stored if item is not None),
                    index=params.get("IndexName"),
                    consistent=bool(params.get("ConsistentRead")),
                ),
            )
        if operation == "BatchGetItem":
            reads = []
            for table_name, request in params["RequestItems"].items():
                stored = [self._stored(table_name, key) for key in request["Keys"]]
                found = tuple(item for item in stored if item is not None)
                reads.append(
                    Read(
                        kind="batch_get",
                        items=found,
                        consistent=bool(request.get("ConsistentRead")),
                        missing=len(stored) - len(found),
                    )
                )
            return tuple(reads)
        return ()


#: A DetectLabels answer shaped like Rekognition's for a photo of a dog on a beach: 14 labels over 70 %
#: confidence, their parents, 4 label categories.
DETECT_LABELS_RESPONSE: dict[str, Any] = {
    "LabelModelVersion": "3.0",
    "Labels": [
        {
            "Name": name,
            "Confidence": confidence,
            "Parents": [{"Name": p} for p in parents],
            "Categories": [{"Name": category}],
        }
        for name, confidence, parents, category in (
            ("Dog", 98.73645782470703, ("Animal", "Canine", "Mammal", "Pet"), "Animals and Pets"),
            ("Animal", 98.73645782470703, (), "Animals and Pets"),
            ("Canine", 98.73645782470703, ("Animal", "Mammal"), "Animals and Pets"),
            ("Mammal", 98.73645782470703, ("Animal",), "Animals and Pets"),
            ("Pet", 98.73645782470703, ("Animal",), "Animals and Pets"),
            ("Puppy", 81.0592041015625, ("Animal", "Canine", "Dog", "Mammal", "Pet"), "Animals and Pets"),
            (
                "Beach",
                97.41316986083984,
                ("Coast", "Nature", "Outdoors", "Sea", "Shoreline", "Water"),
                "Nature and Outdoors",
            ),
            ("Sea", 97.41316986083984, ("Nature", "Outdoors", "Water"), "Nature and Outdoors"),
            ("Sand", 93.20285034179688, ("Nature", "Outdoors"), "Nature and Outdoors"),
            ("Sky", 88.6470947265625, ("Nature", "Outdoors"), "Nature and Outdoors"),
            ("Person", 92.48812103271484, (), "Person Description"),
            ("Adult", 90.11322784423828, ("Person",), "Person Description"),
            ("Shorts", 77.5409164428711, ("Clothing",), "Apparel and Accessories"),
            ("Clothing", 77.5409164428711, (), "Apparel and Accessories"),
        )
    ],
}


def _photo(megapixels: float) -> bytes:
    """A photo-like JPEG (smooth gradients and grain, EXIF-free) of about ``megapixels``."""
    from PIL import Image, ImageFilter

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = random.Random(7)
    noise = Image.frombytes("L", (width // 8, height // 8), rng.randbytes((width // 8) * (height // 8)))
    base = Image.merge("RGB", [noise.filter(ImageFilter.GaussianBlur(r)) for r in (2, 3, 5)])
    image = base.resize((width, height), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


class _NoEvents:
    def emit(self, event: object) -> None:
        del event


@contextmanager
def _aws() -> Iterator[None]:
    """moto with fake credentials (never a real account)."""
    from moto import mock_aws

    saved = {
        name: os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        with mock_aws():
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


#: The owner's edits measured after the image is ready (``record_life(edits=True)``), in this order.
EDITS = (
    "favorite",
    "unfavorite",
    "tag (new word)",
    "tag (known label: Horse)",
    "remove a label (Dog)",
    "create album",
    "add to album",
    "remove from album",
)


def _edit(store: Any, image_id: str, edit: str, at: datetime) -> None:
    """One owner edit of the ready image, as the API writes it (``lambdas.api`` calls the same methods)."""
    from lambdas.domain.albums import new_album

    album_id = "al_00000000000000000000a1"
    if edit == "create album":
        store.create_album(new_album(album_id=album_id, owner=OWNER, name="Holidays", at=at))
        return
    current = store.get(image_id)
    changes = {
        "favorite": lambda r: r.corrected(at=at, favorite=True),
        "unfavorite": lambda r: r.corrected(at=at, favorite=False),
        "tag (new word)": lambda r: r.corrected(at=at, add_tags=("Grandma",)),
        "tag (known label: Horse)": lambda r: r.corrected(at=at, add_tags=("Horse",)),
        "remove a label (Dog)": lambda r: r.corrected(at=at, remove_tags=("Dog",)),
        "add to album": lambda r: r.filed(at=at, add=(album_id,)),
        "remove from album": lambda r: r.filed(at=at, remove=(album_id,)),
    }
    store.transition(current, changes[edit](current))


def record_life(photo: bytes, *, edits: bool = False) -> list[Recorded]:
    """The DynamoDB requests of one image's life, from the API's create to ``ready``; with ``edits``, then
    the owner's ``EDITS`` (recorded under the step ``edit: <name>``)."""
    import boto3
    from botocore.stub import ANY, Stubber

    from lambdas import steps
    from lambdas.adapters.aws.dynamodb import DynamoMetadataStore, create_table_kwargs
    from lambdas.adapters.aws.rekognition import RekognitionLabeler
    from lambdas.adapters.aws.s3 import S3ObjectStore
    from lambdas.adapters.clock import SystemClock
    from lambdas.domain.records import new_record

    with _aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        raw = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_kwargs(TABLE_NAME))
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        rekognition = boto3.client("rekognition", region_name="us-east-1")
        recorder = Recorder(client, raw, adapter_schema())
        store = DynamoMetadataStore(TABLE_NAME, client=client)
        objects = S3ObjectStore(BUCKET, client=s3)
        ports = steps.Ports(
            objects=objects,
            metadata=store,
            labeler=RekognitionLabeler(client=rekognition),
            events=_NoEvents(),
            clock=SystemClock(),
        )
        sha256 = hashlib.sha256(photo).hexdigest()
        now = datetime.now(UTC)
        # POST /v1/uploads: the duplicate check, then the record awaiting its upload.
        assert store.find_by_hash(OWNER, sha256) is None
        record = new_record(
            image_id="0123456789abcdef0123456789abcdef",
            owner=OWNER,
            filename="IMG_20260131_120000.jpg",
            at=now,
            declared_mime="image/jpeg",
            declared_bytes=len(photo),
            declared_sha256=sha256,
            expires_at=now.replace(year=now.year + 1),
        )
        record = store.create(replace(record, extra={"original_filename": "IMG_20260131_120000.jpg"}))
        objects.put(record.original_key, photo, content_type="image/jpeg")
        with Stubber(rekognition) as stubber:
            stubber.add_response(
                "detect_labels",
                DETECT_LABELS_RESPONSE,
                {"Image": {"Bytes": ANY}, "MaxLabels": ANY, "MinConfidence": ANY, "Features": ANY},
            )
            for step, run in (
                ("compress", lambda: steps.compress(ports, record.original_key)),
                ("thumbnail", lambda: steps.thumbnail(ports, record.image_id)),
                ("categorize", lambda: steps.categorize(ports, record.image_id)),
            ):
                recorder.step = step
                result = run()
                if result.outcome is not steps.Outcome.DONE:
                    raise RuntimeError(f"{step} did not finish: {result}")
        for edit in EDITS if edits else ():
            recorder.step = f"edit: {edit}"
            _edit(store, record.image_id, edit, datetime.now(UTC))
        return recorder.recorded


# --- pricing -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request of a step, priced: per item for a batch write (each item may be throttled alone)."""

    operation: str
    retry: Retry
    parts: tuple[Units, ...]

    @property
    def units(self) -> dict[tuple[str, str], float]:
        total: dict[tuple[str, str], float] = {}
        for part in self.parts:
            for key, value in part.items():
                total[key] = total.get(key, 0.0) + value
        return total


def _tag(cost: Mapping[str, float], kind: Kind) -> dict[tuple[str, str], float]:
    return {(target, kind): units for target, units in cost.items()}


def price(recorded: Sequence[Recorded], table: TableSchema) -> dict[str, tuple[Request, ...]]:
    """The requests of each step, priced under ``table``'s projections."""
    plans: dict[str, list[Request]] = {step: [] for step in STEPS}
    for entry in recorded:
        if entry.step not in plans:
            continue  # an owner's edit: priced by edit_units
        write_parts = [_tag(write_cost(table, write), "write") for write in entry.writes]
        read_parts = [_tag(read_cost(table, read), "read") for read in entry.reads]
        if entry.retry == "batch":
            parts = tuple(write_parts)
        else:
            merged: dict[tuple[str, str], float] = {}
            for part in (*write_parts, *read_parts):
                for key, value in part.items():
                    merged[key] = merged.get(key, 0.0) + value
            parts = (merged,)
        plans[entry.step].append(Request(operation=entry.operation, retry=entry.retry, parts=parts))
    return {step: tuple(requests) for step, requests in plans.items()}


def edit_units(recorded: Sequence[Recorded], table: TableSchema) -> dict[str, tuple[float, float]]:
    """Write and read units of each owner edit recorded (``record_life(edits=True)``)."""
    units: dict[str, tuple[float, float]] = {}
    for entry in recorded:
        if not entry.step.startswith("edit: "):
            continue
        write = sum(sum(write_cost(table, w).values()) for w in entry.writes)
        read = sum(sum(read_cost(table, r).values()) for r in entry.reads)
        before = units.get(entry.step.removeprefix("edit: "), (0.0, 0.0))
        units[entry.step.removeprefix("edit: ")] = (before[0] + write, before[1] + read)
    return units


def per_image(plans: Mapping[str, Sequence[Request]]) -> dict[tuple[str, str], float]:
    """Units of one image's whole life, per ``(target, kind)``."""
    total: dict[tuple[str, str], float] = {}
    for requests in plans.values():
        for request in requests:
            for key, value in request.units.items():
                total[key] = total.get(key, 0.0) + value
    return total


def stored_bytes(recorded: Sequence[Recorded], table: TableSchema) -> dict[str, int]:
    """Bytes one ready image keeps in the table and in each index: its own items (``IMG#<id>``: the
    record and its terms; ``HASH#<owner>#<sha256>``: its content-hash item) as last written; the counters,
    shared by every image, are left out."""
    final: dict[tuple[tuple[str, str], ...], Item | None] = {}
    for entry in recorded:
        for write in entry.writes:
            item = write.after if write.after is not None else write.before
            if item is not None:
                final[table.key_of(item)] = write.after
    sizes = {target: 0 for target in table.targets}
    for item in final.values():
        if item is None or not str(item[table.hash_key].get("S", "")).startswith(_IMAGE_ITEM_PREFIXES):
            continue
        sizes[TABLE] += item_size(item) + STORAGE_OVERHEAD_BYTES
        for index in table.indexes:
            entry_item = index_entry(table, index, item)
            if entry_item is not None:
                sizes[index.name] += item_size(entry_item) + STORAGE_OVERHEAD_BYTES
    return sizes


# --- the burst, simulated ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Capacity:
    """Provisioned units per second of each ``(target, kind)``; ``None``: on-demand (never throttled)."""

    rates: Mapping[tuple[str, str], float] | None
    burst_seconds: float = BURST_SECONDS

    @classmethod
    def uniform(cls, targets: Sequence[str], *, read: float, write: float) -> Capacity:
        rates = {(target, "read"): float(read) for target in targets}
        rates.update({(target, "write"): float(write) for target in targets})
        return cls(rates=rates)

    @classmethod
    def on_demand(cls) -> Capacity:
        return cls(rates=None)


class Buckets:
    """Token buckets of a table and its indexes: full (burst capacity) at time 0, refilled at the rate."""

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity
        rates = capacity.rates or {}
        self.level = {key: rate * capacity.burst_seconds for key, rate in rates.items()}
        self.time = 0.0
        self.consumed: dict[int, float] = {}  # second -> write units (the peak rate)

    def _refill(self, now: float) -> None:
        rates = self.capacity.rates or {}
        elapsed = max(0.0, now - self.time)
        for key, rate in rates.items():
            self.level[key] = min(rate * self.capacity.burst_seconds, self.level[key] + rate * elapsed)
        self.time = max(self.time, now)

    def take(self, now: float, units: Units) -> bool:
        """Consume ``units`` if every bucket they touch holds enough, else nothing (throttled)."""
        if self.capacity.rates is not None:
            self._refill(now)
            if any(self.level.get(key, 0.0) < value for key, value in units.items()):
                return False
            for key, value in units.items():
                self.level[key] -= value
        second = int(now)
        writes = sum(value for (_target, kind), value in units.items() if kind == "write")
        self.consumed[second] = self.consumed.get(second, 0.0) + writes
        return True


@dataclass(frozen=True)
class _Wait:
    seconds: float


@dataclass(frozen=True)
class _Take:
    units: Units


_Action = _Wait | _Take


@dataclass(frozen=True, kw_only=True)
class Retries:
    """How throttled requests and failed steps are retried."""

    sdk_attempts: int
    """Attempts of one call by the SDK (``max_attempts`` of the client config)."""
    adapter_attempts: int
    """Extra calls of ``BatchWriteItem`` for unprocessed items (the adapter's loop)."""
    lambda_delays: tuple[float, ...] = LAMBDA_RETRY_DELAYS
    max_event_age_seconds: float = 3600.0


def _request(request: Request, retries: Retries, rng: random.Random) -> Generator[_Action, bool, bool]:
    """Send one request as the code does; ``True`` once it went through, ``False`` if it gave up."""
    if request.retry == "transaction":
        return (yield _Take(request.units))
    if request.retry == "sdk":
        for attempt in range(retries.sdk_attempts):
            if (yield _Take(request.units)):
                return True
            if attempt + 1 < retries.sdk_attempts:
                yield _Wait(rng.random() * min(2.0**attempt, 20.0))
        return False
    pending = list(request.parts)
    for call in range(retries.adapter_attempts + 1):
        for attempt in range(retries.sdk_attempts):
            left = []
            for part in pending:
                if not (yield _Take(part)):
                    left.append(part)
            if len(left) < len(pending):  # some went through: the rest come back as UnprocessedItems
                break
            if attempt + 1 < retries.sdk_attempts:
                yield _Wait(rng.random() * min(2.0**attempt, 20.0))
        else:
            return False
        pending = left
        if not pending:
            return True
        yield _Wait(0.05 * 2**call)
    return False


def _invocation(
    requests: Sequence[Request], seconds: float, retries: Retries, rng: random.Random
) -> Generator[_Action, bool, bool]:
    """One run of a step: its work, then its requests; a give-up records the failure and fails the run."""
    if seconds:
        yield _Wait(seconds)
    for request in requests:
        if not (yield from _request(request, retries, rng)):
            # The step records a retryable failure: a read and a transaction like its last one, best effort.
            failure = [r for r in requests if r.retry == "transaction"][-1:] or [request]
            reads = [r for r in requests if r.retry == "sdk"][:1]
            for extra in (*reads, *failure):
                yield _Take(extra.units)
            return False
    return True


@dataclass(kw_only=True)
class Outcome:
    """What became of the burst."""

    images: int
    ready: int = 0
    stranded: int = 0
    refused: int = 0
    throttled: int = 0
    failed_runs: int = 0
    last_ready: float = 0.0
    peak_write_units_per_second: float = 0.0

    @property
    def images_per_minute(self) -> float:
        """Images made ready per minute from the first arrival (time 0) to the last ready one."""
        return 0.0 if self.last_ready <= 0 else 60.0 * self.ready / self.last_ready


@dataclass(order=True)
class _Event:
    available: float
    seq: int
    image: int = field(compare=False)
    step: int = field(compare=False)
    attempt: int = field(compare=False, default=0)
    enqueued: float = field(compare=False, default=0.0)


def simulate(
    plans: Mapping[str, Sequence[Request]],
    capacity: Capacity,
    *,
    seconds: Mapping[str, float],
    retries: Retries,
    images: int = 500,
    arrival_seconds: float = 60.0,
    concurrency: int = 10,
    seed: int = 1,
) -> Outcome:
    """``images`` uploads within ``arrival_seconds`` through the pipeline on ``capacity``."""
    rng = random.Random(seed)
    buckets = Buckets(capacity)
    outcome = Outcome(images=images)
    pipeline = [step for step in STEPS if step != "api"]
    clock: list[tuple[float, int, str, Any]] = []  # (time, seq, what, payload)
    queue: list[_Event] = []
    seq = 0
    free = concurrency

    def push(at: float, what: str, payload: Any) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(clock, (at, seq, what, payload))

    def enqueue(event: _Event) -> None:
        heapq.heappush(queue, event)
        push(event.available, "dispatch", None)

    def advance(now: float, run: dict[str, Any], sent: bool | None) -> None:
        """Drive a run until it waits or ends."""
        generator: Generator[_Action, bool, bool] = run["generator"]
        try:
            action = next(generator) if sent is None else generator.send(sent)
            while isinstance(action, _Take):
                granted = buckets.take(now, action.units)
                if not granted:
                    outcome.throttled += 1
                action = generator.send(granted)
            push(now + action.seconds, "resume", run)
        except StopIteration as stop:
            finish(now, run, bool(stop.value))

    def finish(now: float, run: dict[str, Any], ok: bool) -> None:
        nonlocal free
        event: _Event | None = run["event"]
        if event is None:  # the API request at arrival
            if ok:
                enqueue(_Event(now + 1.0, seq, run["image"], 0, enqueued=now + 1.0))
            else:
                outcome.refused += 1
            return
        free += 1
        if ok:
            if event.step + 1 < len(pipeline):
                enqueue(_Event(now, seq, event.image, event.step + 1, enqueued=now))
            else:
                outcome.ready += 1
                outcome.last_ready = max(outcome.last_ready, now)
        else:
            outcome.failed_runs += 1
            if event.attempt < len(retries.lambda_delays):
                delay = retries.lambda_delays[event.attempt]
                enqueue(replace(event, available=now + delay, seq=seq, attempt=event.attempt + 1, enqueued=now))
            else:
                outcome.stranded += 1
        push(now, "dispatch", None)

    def dispatch(now: float) -> None:
        nonlocal free
        while free and queue and queue[0].available <= now:
            event = heapq.heappop(queue)
            if now - event.enqueued > retries.max_event_age_seconds:
                outcome.stranded += 1
                continue
            free -= 1
            step = pipeline[event.step]
            run = {"event": event, "generator": _invocation(plans[step], seconds[step], retries, rng)}
            advance(now, run, None)

    for image in range(images):
        at = arrival_seconds * image / images
        push(at, "arrive", image)
    while clock:
        now, _, what, payload = heapq.heappop(clock)
        if what == "arrive":
            run = {"event": None, "image": payload, "generator": _invocation(plans["api"], 0.0, retries, rng)}
            advance(now, run, None)
        elif what == "resume":
            advance(now, payload, True)
        else:
            dispatch(now)
    outcome.peak_write_units_per_second = max(buckets.consumed.values(), default=0.0)
    return outcome


# --- the report ----------------------------------------------------------------------------------------


def step_seconds(megapixels: float) -> dict[str, float]:
    """Billed seconds of each step on an image of ``megapixels`` (``imgmgr.cost.model.DEFAULT_PROFILES``)."""
    from imgmgr.cost.model import DEFAULT_PROFILES

    seconds = {}
    for step in STEPS:
        profile = DEFAULT_PROFILES[step]
        seconds[step] = profile.fixed_seconds + profile.seconds_per_megapixel * megapixels
    return seconds


def adapter_retries() -> Retries:
    """The retry behaviour of the deployed code: the SDK config of ``lambdas.config.client`` and the props."""
    from constructs_lib.props import ImagePipelineProps
    from lambdas.adapters.aws import dynamodb
    from lambdas.config import client

    client.cache_clear()
    with _aws():  # a client needs a region and credentials; it sends nothing
        retries = client("dynamodb").meta.config.retries
    client.cache_clear()
    props = ImagePipelineProps()
    return Retries(
        sdk_attempts=int(retries.get("total_max_attempts", retries.get("max_attempts", 3) + 1)),
        adapter_attempts=dynamodb._TRANSACTION_ATTEMPTS,  # the bound of the adapter's BatchWriteItem loop
        lambda_delays=LAMBDA_RETRY_DELAYS[: props.max_retry_attempts],
        max_event_age_seconds=float(props.max_event_age_seconds),
    )


def default_capacity(targets: Sequence[str]) -> tuple[str, Capacity]:
    """The synthesized capacity: ``ImagePipelineProps()``'s billing mode and units on every part."""
    from constructs_lib.props import ImagePipelineProps

    props = ImagePipelineProps()
    if props.billing_mode == "PAY_PER_REQUEST":
        return "on-demand", Capacity.on_demand()
    label = f"provisioned {props.read_capacity} RCU / {props.write_capacity} WCU each"
    return label, Capacity.uniform(targets, read=props.read_capacity, write=props.write_capacity)


def provisioned_usd_per_month(capacity: Capacity) -> float:
    """Monthly bill of provisioned capacity beyond the always-free 25 WCU and 25 RCU (``imgmgr.cost.prices``)."""
    from imgmgr.cost.prices import HOURS_PER_MONTH, PRICES

    if capacity.rates is None:
        return 0.0
    total = 0.0
    for kind, key in (("write", "dynamodb_wcu"), ("read", "dynamodb_rcu")):
        units = sum(rate for (_target, k), rate in capacity.rates.items() if k == kind)
        price_row = PRICES[key]
        total += max(0.0, units * HOURS_PER_MONTH - price_row.free_per_month) * price_row.usd_per_unit
    return total


def on_demand_usd(units: Mapping[tuple[str, str], float]) -> float:
    """On-demand price of ``units`` (request units, any target; ``imgmgr.cost.model.on_demand_usd_per_image``)."""
    from imgmgr.cost.model import on_demand_usd_per_image

    writes = sum(value for (_target, kind), value in units.items() if kind == "write")
    reads = sum(value for (_target, kind), value in units.items() if kind == "read")
    return on_demand_usd_per_image(writes, reads)


def smallest_safe_provisioning(run: Callable[[int], Outcome], *, limit: int = 4000) -> int | None:
    """The smallest write capacity per part at which ``run(write_capacity)`` strands and refuses nothing
    (``None``: not even at ``limit``)."""
    low, high = 1, limit
    outcome = run(high)
    if outcome.stranded or outcome.refused:
        return None
    while low < high:
        middle = (low + high) // 2
        outcome = run(middle)
        if outcome.stranded or outcome.refused:
            low = middle + 1
        else:
            high = middle
    return low


def _units_table(title: str, units: Mapping[tuple[str, str], float], targets: Sequence[str]) -> list[str]:
    lines = [title, f"  {'':10} {'WCU':>8} {'RCU':>8}"]
    for target in targets:
        lines.append(f"  {target:10} {units.get((target, 'write'), 0.0):8.1f} {units.get((target, 'read'), 0.0):8.1f}")
    write_total = sum(units.get((t, "write"), 0.0) for t in targets)
    read_total = sum(units.get((t, "read"), 0.0) for t in targets)
    lines.append(f"  {'total':10} {write_total:8.1f} {read_total:8.1f}")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--arrival-seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from imgmgr.cost.formatting import plain_decimal
    from imgmgr.cost.prices import PRICES, REGION

    recorded = record_life(_photo(args.megapixels), edits=True)
    current = adapter_schema()
    previous = adapter_schema("ALL")
    targets = current.targets
    # name -> (schema, its priced plans)
    designs = {
        "previous (indexes project ALL)": (previous, price(recorded, previous)),
        "current": (current, price(recorded, current)),
    }
    previous_plans, current_plans = designs["previous (indexes project ALL)"][1], designs["current"][1]
    for name, (schema, plans) in designs.items():
        for line in _units_table(f"units per image, {name}:", per_image(plans), targets):
            print(line)
        by_step = {step: sum(sum(r.units.values()) for r in plans[step]) for step in STEPS}
        print("  by step (all parts, read + write): " + ", ".join(f"{s} {u:.1f}" for s, u in by_step.items()))
        stored = stored_bytes(recorded, schema)
        print("  stored bytes per ready image: " + ", ".join(f"{t} {b}" for t, b in stored.items()))
    print("current projections: " + ", ".join(f"{index.name} {index.projection}" for index in current.indexes))
    print("\nowner edits of the ready image (current design; record read + write):")
    print(f"  {'edit':28} {'WCU':>6} {'RCU':>6}")
    for edit, (write, read) in edit_units(recorded, current).items():
        print(f"  {edit:28} {write:6.1f} {read:6.1f}")

    retries = adapter_retries()
    seconds = step_seconds(args.megapixels)
    print(
        f"\nburst: {args.images} uploads within {args.arrival_seconds:.0f} s, Lambda concurrency {args.concurrency}, "
        f"step seconds {', '.join(f'{s} {v:.2f}' for s, v in seconds.items())}; SDK attempts {retries.sdk_attempts}, "
        f"Lambda retries after {', '.join(f'{d:.0f} s' for d in retries.lambda_delays)}, then the dead-letter queue"
    )

    def run(plans: Mapping[str, Sequence[Request]], capacity: Capacity) -> Outcome:
        return simulate(
            plans,
            capacity,
            seconds=seconds,
            retries=retries,
            images=args.images,
            arrival_seconds=args.arrival_seconds,
            concurrency=args.concurrency,
            seed=args.seed,
        )

    default_label, default = default_capacity(targets)
    five = Capacity.uniform(targets, read=5, write=5)
    scenarios = [
        ("previous design: ALL, provisioned 5/5 each", previous_plans, five),
        ("current projections, provisioned 5/5 each", current_plans, five),
        ("previous projections (ALL), on-demand", previous_plans, Capacity.on_demand()),
        (f"default (synthesized): current projections, {default_label}", current_plans, default),
    ]
    print(f"\n  {'scenario':64} {'ready':>6} {'stranded':>8} {'refused':>7} {'img/min':>8} {'peak WCU/s':>10}")
    for label, plans, capacity in scenarios:
        outcome = run(plans, capacity)
        print(
            f"  {label:64} {outcome.ready:6d} {outcome.stranded:8d} {outcome.refused:7d} "
            f"{outcome.images_per_minute:8.1f} {outcome.peak_write_units_per_second:10.0f}"
        )
        if capacity.rates is not None:
            units = per_image(plans)
            bound, key = min((rate * 60 / units[key], key) for key, rate in capacity.rates.items() if key in units)
            print(f"  {'':64} after the burst: at most {bound:.1f} images/min ({key[0]} {key[1]}s)")
        elif outcome.peak_write_units_per_second > ON_DEMAND_INITIAL_WRITE_UNITS:
            print(f"  {'':64} above the {ON_DEMAND_INITIAL_WRITE_UNITS} WRU/s a new on-demand table takes at once")

    safe = smallest_safe_provisioning(lambda wcu: run(current_plans, Capacity.uniform(targets, read=5, write=wcu)))
    per_thousand = 1000 * on_demand_usd(per_image(current_plans))
    previous_per_thousand = 1000 * on_demand_usd(per_image(previous_plans))
    write_price, read_price, storage = (
        PRICES[key] for key in ("dynamodb_write_requests", "dynamodb_read_requests", "dynamodb_storage")
    )
    print(
        f"\non-demand cost per 1,000 images ({REGION}, ${plain_decimal(write_price.usd_per_unit * 1e6)}/M WRU, "
        f"${plain_decimal(read_price.usd_per_unit * 1e6)}/M RRU): current ${per_thousand:.4f}, "
        f"previous projections ${previous_per_thousand:.4f}; storage beyond "
        f"{plain_decimal(storage.free_per_month)} GB at ${plain_decimal(storage.usd_per_unit)}/{storage.unit}"
    )
    if safe is not None:
        monthly = provisioned_usd_per_month(Capacity.uniform(targets, read=5, write=safe))
        print(
            f"provisioned alternative: the smallest write capacity that strands nothing is {safe} WCU on the table "
            f"and on each index ({len(targets) * safe} WCU): ${monthly:.2f} a month beyond the free tier, "
            f"the on-demand price of {monthly / max(per_thousand, 1e-12) * 1000:,.0f} images"
        )
    if default.rates is None:
        print(f"default: on-demand, ${per_thousand:.4f} per 1,000 images, nothing when idle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
