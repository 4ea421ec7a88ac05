"""``MetadataStore`` over one DynamoDB table (single-table design, every read a ``GetItem``/``Query``).

Key design (all keys are strings; ``<ts>`` is the fixed-width UTC creation time, so keys sort by time;
``<sk>`` below is ``<ts>#<id>``)::

    image record    pk IMG#<id>                   sk IMG
                    gsi1 OWNER#<owner>                          / <sk>
                    gsi2 HASH#<owner>#<sha256>                  / <sk>   (once a hash is known)
                    gsi3 OWNER#<owner>#STATE#<state>            / <sk>
    category term   pk IMG#<id>                   sk TERM#CAT#<category>
                    gsi1 OWNER#<owner>#CAT#<category>           / <sk>
                    gsi2 CAT#<category>                         / <sk>
    label term      pk IMG#<id>                   sk TERM#LABEL#<label>
                    gsi1 OWNER#<owner>#LABEL#<label>            / <sk>
                    gsi2 LABEL#<label>                          / <sk>
    word term       pk IMG#<id>                   sk TERM#WORD#<word>
                    gsi1 OWNER#<owner>#WORD#<word>              / <sk>   (no gsi2: searched per owner)
    album term      pk IMG#<id>                   sk TERM#ALBUM#<album id>
                    gsi1 OWNER#<owner>#ALBUM#<album id>         / <sk>   (no gsi2)
    favorite term   pk IMG#<id>                   sk TERM#FAV#yes
                    gsi1 OWNER#<owner>#FAV#yes                  / <sk>   (no gsi2)
    hash band term  pk IMG#<id>                   sk TERM#PHASH#<band>
                    gsi1 OWNER#<owner>#PHASH#<band>             / <phash>#<id>   (no gsi2)
    duplicate term  pk IMG#<id>                   sk TERM#DUP#<group>
                    gsi1 OWNER#<owner>#DUP                      / <group>#<sk>   (no gsi2)
    album           pk ALBUM#<album id>           sk ALBUM                   name, owner, cover_image_id, count, version
                    gsi1 OWNER#<owner>#ALBUMS                   / <created ts>#<album id>
    usage           pk OWNER#<owner> | ALL        sk USAGE                   images, bytes_stored, bytes_saved
    category count  pk OWNER#<owner> | ALL        sk COUNT#CAT#<category>    count
    content hash    pk HASH#<owner>#<sha256>      sk HASH                    image_id, owner[, expires_at]
    shared secret   pk CONFIG#<name>              sk CONFIG                  secret  (lambdas.adapters.aws.shared_secret)

Access patterns:

- by id: ``GetItem IMG#<id>/IMG`` (strongly consistent); several by id (``get_many``: an album listing's
  chosen covers): ``BatchGetItem`` of up to 100 records per call;
- by owner, newest first: ``Query gsi1 OWNER#<owner>`` descending; with a status filter
  ``Query gsi3 OWNER#<owner>#STATE#<state>``; a date range is a ``BETWEEN`` on the sort key; then
  ``BatchGetItem`` of the records, keeping those that still match (not deleted; in that state);
- by category or label, newest first: ``Query gsi1 OWNER#<owner>#CAT#<category>`` (one owner) or
  ``Query gsi2 CAT#<category>`` (everyone), then ``BatchGetItem`` of the records, keeping those that are
  ready and still carry the term (a term item outlives its record's readiness only briefly, see below);
- by search words (free text), newest first: ``Query gsi1 OWNER#<owner>#WORD#<word>`` for one word (the
  longest, ``lambdas.domain.queries.driving_word``), or the category or label partition above when one is
  asked for too; then ``BatchGetItem`` of the records, keeping those that are ready and are indexed under
  every other word as well (checked on the record, ``record_words``); a date range is the same
  ``BETWEEN`` on the sort key. One ``Query`` per page read, whatever the number of words (at most 8);
- by content hash per owner: ``Query gsi2 HASH#<owner>#<sha256>`` (declared hash until the upload
  arrives, measured hash after), then ``GetItem`` of the record;
- an album's images, newest first: ``Query gsi1 OWNER#<owner>#ALBUM#<album id>``; the favorites:
  ``Query gsi1 OWNER#<owner>#FAV#yes``; then ``BatchGetItem`` of the records, keeping the live ones that
  still carry the term (in any state: these terms are written while a record is live, not only ready);
- near-duplicates of a hash: ``Query gsi1 OWNER#<owner>#PHASH#<band>`` for each of its
  ``PHASH_BANDS`` bands (``lambdas.domain.duplicates``); the entries' sort keys carry the full hash, so the
  distance is checked on the index before ``BatchGetItem`` reads the few records that are near (at most
  ``_MAX_BAND_ENTRIES`` entries are read per band: a band shared by more images is a flat, common one);
- an owner's near-duplicate groups, by group id: ``Query gsi1 OWNER#<owner>#DUP`` with
  ``gsi1sk > <last group of the previous page>#~``, read until one group more than the page holds, then
  ``BatchGetItem`` of their records, keeping the live ones still in that group;
- an album by id: ``GetItem ALBUM#<album id>/ALBUM``; an owner's albums: ``Query gsi1 OWNER#<owner>#ALBUMS``
  then ``BatchGetItem`` of the albums (at most ``MAX_ALBUMS_PER_OWNER``);
- category counts: ``Query OWNER#<owner> | ALL`` with ``begins_with(sk, "COUNT#CAT#")``;
- usage: ``GetItem OWNER#<owner> | ALL / USAGE``.

Every record write is a ``TransactWriteItems``: a ``Put`` of the record conditional on the version and
state that were read (``attribute_not_exists(pk)`` for a new one), the writes of its content-hash item
when its claim changes (below), and ``ADD`` updates of the counters by the difference the change makes
(``lambdas.domain.records.counter_changes``).

The content-hash item keeps ``(owner, sha256)`` unique over live records (the GSI alone could not: two
uploads of the same bytes at once both found nothing, then both created). A live record with a hash
(measured, else declared) *claims* it: ``create`` puts the item, conditional on
``attribute_not_exists(pk) OR expires_at < :now``, in the record's transaction; when that condition
fails the transaction is cancelled, the old item comes back (``ReturnValuesOnConditionCheckFailure``) and
``create`` raises ``ContentExistsError`` naming the holder, which the API answers as the duplicate. The
item carries the record's ``expires_at`` while the upload is awaited, so TTL removes an abandoned upload's
claim with its record (and an expired claim TTL has not removed yet is free: ``:now`` is the writer's
time); the transition that records the upload puts it again without ``expires_at``; the tombstone's
transaction deletes it. Writes of a record whose hash another live record holds (records stored before
the item existed, or an object adopted from the bucket with the bytes of an image) condition the item on
``image_id = :id`` as well and, when another record holds it, go through without it. Lookups stay on
``gsi2`` (which also finds those older records); the item only decides who may create.

An album's image count is an ``ADD`` on its item in the transaction of each record write that changes the
record's albums (``counter_changes``); the album's own writes (rename, cover) are ``UpdateItem`` ``SET``s
conditional on its version, so they never overwrite the count. A count added after the album was deleted
leaves an item without a name, which reads as no album (and lists nowhere: it has no ``gsi1`` key).

The owner's edits (favorite, own tags, removed labels, albums) are record writes like the pipeline's: the
record's ``Put`` (conditional on its version) and the difference of its terms. Setting a favorite, adding
to an album or a tag that adds a word costs one term item (2 WCU: table + ``gsi1``, under 1 KB); a tag
that names a label adds a label term (3 WCU: ``gsi2`` too) and its words; the album's count update is
2 WCU in the transaction; the record's ``Put`` is 2 WCU per KB of the record (transactional). Removing
each costs the same. ``python -m bench.capacity`` measures them.

Term items are written before the transaction (idempotent puts) and removed after it; readers check the
record, so a crash in between never shows a wrong result. Deleted records are tombstones without index
attributes (they vanish from every GSI) whose ``expires_at`` (epoch seconds, the table's TTL attribute)
removes them later. Label terms are case-folded (``lambdas.domain.queries.normalize_label``).

Word terms are the search words of a ready image (``lambdas.domain.queries.record_words``: the words of
its labels and their parents, of its categories and of its file name, case-folded, plurals folded, stop
words left out, at most 60). Each is one item under 1 KB with one index entry, so it costs 2 WCU to write
(table + ``gsi1``) when the image becomes ready and 2 WCU to delete when it is deleted (the category and
label items cost 3 each: ``gsi2`` too). The photo ``python -m bench capacity`` measures (14 labels, 19 tags,
4 categories, file ``IMG_20260131_120000.jpg``) has 25 words: 25 more items, +50 WCU at ``ready`` (138 ->
188 WCU over its life; 202 with the near-duplicate bands and "puppy" indexed as its synonym "dog", ``imgmgr.cost.model.WRITE_UNITS_PER_IMAGE``) and +50 at delete, +14.7 KB stored,
written by ``BatchWriteItem`` before the record's transaction like the other terms. Records made ready
before word terms existed have none: they are found by category and label, not by words, until they are written again.

GSIs project ``KEYS_ONLY``: an index entry is the table key (``IMG#<id>``, which names the image) and the
index key, so every read through an index fetches the records from the table (``BatchGetItem``, or
``GetItem`` for a hash) and checks them. That keeps each index write at one unit: an entry changes only
when its key does (a record's ``gsi1``/``gsi2`` entries are written once, its ``gsi3`` entry once per
state), where an ``ALL`` projection rewrote the whole record (up to 3 KB with its labels) into every index
on every transition and stored it three more times. ``python -m bench.capacity`` measures the units.

Size: one adapter for one table; the key design above and the code that writes and reads each access
pattern are kept together so that a change of one is seen beside the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import error_code, translate
from lambdas.contract import ATTRIBUTE_DEFINITIONS, GSI_KEYS, GSI_NAMES, GSI_PROJECTION, TABLE_KEY_SCHEMA, TTL_ATTRIBUTE
from lambdas.domain.albums import MAX_ALBUMS_PER_OWNER, Album
from lambdas.domain.duplicates import (
    GroupPage,
    check_group_limit,
    group_cursor,
    group_cursor_after,
    hamming,
    is_phash,
    live_groups,
    nearest,
    phash_bands,
)
from lambdas.domain.errors import (
    ContentExistsError,
    DependencyError,
    InvalidQueryError,
    NotFoundError,
    RecordExistsError,
    StaleRecordError,
    ThrottledError,
)
from lambdas.domain.queries import LIVE_KINDS, ImageQuery, Page, index_terms, query_term
from lambdas.domain.records import ImageRecord, Usage, check_transition, counter_changes, timestamp
from lambdas.domain.states import ImageState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ALL_SCOPE = "ALL"
_RECORD_SK = "IMG"
_HASH_SK = "HASH"
_USAGE_SK = "USAGE"
_COUNT_PREFIX = "COUNT#CAT#"
_TERM_PREFIX = "TERM#"
_KINDS = {
    "category": "CAT",
    "label": "LABEL",
    "word": "WORD",
    "album": "ALBUM",
    "favorite": "FAV",
    "phash": "PHASH",
    "duplicate": "DUP",
}
#: Term kinds listed per owner only: no ``gsi2`` entry (one write unit less per item).
_OWNER_KINDS = frozenset({"word", "album", "favorite", "phash", "duplicate"})
#: Most index entries read for one band of a hash (see the module docstring).
_MAX_BAND_ENTRIES = 1000
_ALBUM_SK = "ALBUM"
_TRANSACTION_ATTEMPTS = 5
#: Most keys of one ``BatchGetItem``.
_BATCH_GET_KEYS = 100


def _back_off(attempt: int) -> None:
    """Wait before repeating a request DynamoDB left undone: 50 ms, doubling with each attempt."""
    time.sleep(0.05 * 2**attempt)


def _until_processed(
    operation: str,
    call: Callable[..., Mapping[str, Any]],
    pending: dict[str, Any],
    *,
    unprocessed: str,
    take: Callable[[Mapping[str, Any]], None] | None = None,
) -> None:
    """Send a batch ``operation`` (``call(RequestItems=...)``) again for what DynamoDB left ``unprocessed``
    (throttled parts of a batch), backing off between attempts; ``take`` sees every response.
    ``ThrottledError`` when some of it is still left after the last attempt."""
    for attempt in range(_TRANSACTION_ATTEMPTS + 1):
        try:
            response = call(RequestItems=pending)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"dynamodb:{operation}") from exc
        if take is not None:
            take(response)
        pending = dict(response.get(unprocessed) or {})
        if not pending:
            return
        if attempt < _TRANSACTION_ATTEMPTS:
            _back_off(attempt)
    what = "keys" if unprocessed == "UnprocessedKeys" else "items"
    raise ThrottledError(f"dynamodb:{operation} left {what} unprocessed")


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments for the table (on-demand billing), from the constants above."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in TABLE_KEY_SCHEMA],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in ATTRIBUTE_DEFINITIONS
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": GSI_KEYS[name][0], "KeyType": "HASH"},
                    {"AttributeName": GSI_KEYS[name][1], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": GSI_PROJECTION},
            }
            for name in GSI_NAMES
        ],
    }


def _record_pk(image_id: str) -> str:
    return f"IMG#{image_id}"


def _image_id(item: Mapping[str, Any]) -> str:
    """The image an item (record or term, or their index entries) belongs to, from its ``IMG#<id>`` key."""
    return str(item["pk"]["S"]).removeprefix("IMG#")


def _scope_pk(owner: str | None) -> str:
    return ALL_SCOPE if owner is None else f"OWNER#{owner}"


def _sort_key(record: ImageRecord) -> str:
    return f"{timestamp(record.created_at)}#{record.image_id}"


def _serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    # DynamoDB has no floats: round-trip through JSON to turn them into Decimals.
    plain = json.loads(json.dumps(values), parse_float=Decimal)
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as ``Decimal``: turn them into ints or floats, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | set):
        return [_plain(item) for item in value]
    return value


def _album_pk(album_id: str) -> str:
    return f"ALBUM#{album_id}"


def _album_item(album: Album) -> dict[str, Any]:
    doc = {key: value for key, value in album.to_dict().items() if value is not None and key != "count"}
    doc["pk"], doc["sk"] = _album_pk(album.album_id), _ALBUM_SK
    doc["gsi1pk"], doc["gsi1sk"] = f"OWNER#{album.owner}#ALBUMS", f"{timestamp(album.created_at)}#{album.album_id}"
    return _serialize(doc)


def _album_from_item(item: Mapping[str, Any]) -> Album | None:
    """The album an item holds; ``None`` for a count left behind by a write after its deletion."""
    doc = _deserialize(item)
    if "name" not in doc:
        return None
    return Album.from_dict(doc)


def _hash_pk(owner: str, content_hash: str) -> str:
    return f"HASH#{owner}#{content_hash}"


@dataclass(frozen=True, slots=True)
class _Claim:
    """The content-hash item a record wants: its key and, while its upload is awaited, its expiry."""

    pk: str
    expires_at: int | None


def _claim(record: ImageRecord | None) -> _Claim | None:
    """The content hash a record claims: a live record's measured, else declared, SHA-256."""
    if record is None or record.state is ImageState.DELETED:
        return None
    content_hash = record.sha256 or record.declared_sha256
    if not content_hash:
        return None
    return _Claim(_hash_pk(record.owner, content_hash), _epoch(record.expires_at))


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


class _ClaimTaken(Exception):
    """Another record holds the content hash a transaction claimed (``holder``, when DynamoDB said)."""

    def __init__(self, holder: str | None) -> None:
        super().__init__(holder)
        self.holder = holder


def _record_item(record: ImageRecord) -> dict[str, Any]:
    doc: dict[str, Any] = record.to_dict()
    doc["pk"], doc["sk"] = _record_pk(record.image_id), _RECORD_SK
    doc[TTL_ATTRIBUTE] = _epoch(record.expires_at)
    if doc[TTL_ATTRIBUTE] is None:
        del doc[TTL_ATTRIBUTE]
    if record.state is not ImageState.DELETED:
        sort_key = _sort_key(record)
        doc["gsi1pk"], doc["gsi1sk"] = f"OWNER#{record.owner}", sort_key
        doc["gsi3pk"], doc["gsi3sk"] = f"OWNER#{record.owner}#STATE#{record.state.value}", sort_key
        content_hash = record.sha256 or record.declared_sha256
        if content_hash:
            doc["gsi2pk"], doc["gsi2sk"] = f"HASH#{record.owner}#{content_hash}", sort_key
    return _serialize(doc)


def _record_from_item(item: Mapping[str, Any]) -> ImageRecord:
    doc = _deserialize(item)
    expires = doc.get(TTL_ATTRIBUTE)
    doc[TTL_ATTRIBUTE] = None if expires is None else timestamp(datetime.fromtimestamp(int(expires), tz=UTC))
    return ImageRecord.from_dict(doc)


def _term_item(record: ImageRecord, kind: str, term: str) -> dict[str, Any]:
    tag = _KINDS[kind]
    sort_key = _sort_key(record)
    item = _serialize(
        {
            "pk": _record_pk(record.image_id),
            "sk": f"{_TERM_PREFIX}{tag}#{term}",
            "image_id": record.image_id,
            "owner": record.owner,
            "kind": kind,
            "term": term,
            **_term_index_key(record, kind, tag, term, sort_key),
        }
    )
    if kind not in _OWNER_KINDS:
        # Words, albums and favorites are listed per owner only: no gsi2 entry, one write unit less each.
        item["gsi2pk"], item["gsi2sk"] = _serializer.serialize(f"{tag}#{term}"), _serializer.serialize(sort_key)
    return item


def _term_index_key(record: ImageRecord, kind: str, tag: str, term: str, sort_key: str) -> dict[str, str]:
    """A term item's ``gsi1`` key: its owner's partition of the term, by time; a hash band's entries sort by
    the full hash (read to check distances), a group's entries share the owner's one partition of groups."""
    if kind == "phash":
        return {"gsi1pk": f"OWNER#{record.owner}#{tag}#{term}", "gsi1sk": f"{record.phash}#{record.image_id}"}
    if kind == "duplicate":
        return {"gsi1pk": f"OWNER#{record.owner}#{tag}", "gsi1sk": f"{term}#{sort_key}"}
    return {"gsi1pk": f"OWNER#{record.owner}#{tag}#{term}", "gsi1sk": sort_key}


class DynamoMetadataStore:
    """``MetadataStore`` over the table ``table_name``; ``client`` defaults to a new boto3 client."""

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")

    def _get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        """One item by its key, read consistently; ``None`` when absent."""
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "dynamodb:GetItem") from exc
        return response.get("Item")

    # --- writes ---------------------------------------------------------------------------------------
    def create(self, record: ImageRecord) -> ImageRecord:
        stored = replace(record, version=1)
        claim = _claim(stored)
        for _attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                self._write(None, stored, "attribute_not_exists(pk)", {}, {})
            except _ClaimTaken as taken:
                holder = taken.holder
                if holder is None and claim is not None:
                    item = self._get_item(claim.pk, _HASH_SK)
                    holder = None if item is None else str(item["image_id"]["S"])
                if holder is None:
                    continue  # the claim was let go meanwhile: claim it again
                raise ContentExistsError(
                    f"image {holder} of {stored.owner} has the content of image {stored.image_id} already",
                    image_id=holder,
                ) from None
            return stored
        raise DependencyError(f"the content hash of image {stored.image_id} kept changing hands")

    def get(self, image_id: str) -> ImageRecord | None:
        item = self._get_item(_record_pk(image_id), _RECORD_SK)
        return None if item is None else _record_from_item(item)

    def get_many(self, image_ids: Sequence[str]) -> list[ImageRecord]:
        return self._records(list(dict.fromkeys(image_ids)))

    def transition(self, current: ImageRecord, updated: ImageRecord) -> ImageRecord:
        check_transition(current, updated)
        stored = replace(updated, version=current.version + 1)
        self._write(
            current,
            stored,
            "#version = :version AND #state = :state",
            {"#version": "version", "#state": "state"},
            {":version": {"N": str(current.version)}, ":state": {"S": current.state.value}},
        )
        return stored

    def delete(self, image_id: str, *, at: datetime, retain_seconds: int = 7 * 86400) -> ImageRecord | None:
        for _attempt in range(_TRANSACTION_ATTEMPTS):
            current = self.get(image_id)
            if current is None:
                return None
            if current.state is ImageState.DELETED:
                self._delete_terms(image_id, None)
                return current
            try:
                deleted = self.transition(
                    current, current.deleted(at=at, expires_at=at + timedelta(seconds=retain_seconds))
                )
            except StaleRecordError:
                continue
            self._delete_terms(image_id, None)
            return deleted
        raise StaleRecordError(f"image {image_id} kept changing while being deleted")

    def _write(
        self,
        old: ImageRecord | None,
        new: ImageRecord,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> None:
        before = index_terms(old) if old is not None else frozenset()
        after = index_terms(new)
        if after - before:
            self._put_terms(new, after - before)
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _record_item(new),
            "ConditionExpression": condition,
        }
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = values
        claims = self._claim_writes(old, new)
        counters = list(self._counter_updates(old, new))
        try:
            self._transact([{"Put": put}, *claims, *counters], new, creating=old is None, claims=len(claims))
        except _ClaimTaken:
            if old is None:
                raise
            # Another live record holds the hash (see the module docstring): this one goes on without it.
            self._transact([{"Put": put}, *counters], new, creating=False, claims=0)
        if before - after:
            self._delete_terms(new.image_id, before - after)

    def _claim_writes(self, old: ImageRecord | None, new: ImageRecord) -> list[dict[str, Any]]:
        """The writes of the content-hash items when ``old`` becomes ``new`` (none when the claim stays)."""
        before, after = _claim(old), _claim(new)
        if before == after:
            return []
        mine = {":image_id": {"S": new.image_id}}
        writes: list[dict[str, Any]] = []
        if before is not None and (after is None or after.pk != before.pk):
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": {"pk": {"S": before.pk}, "sk": {"S": _HASH_SK}},
                        "ConditionExpression": "attribute_not_exists(pk) OR image_id = :image_id",
                        "ExpressionAttributeValues": mine,
                    }
                }
            )
        if after is not None:
            item: dict[str, Any] = {"pk": after.pk, "sk": _HASH_SK, "image_id": new.image_id, "owner": new.owner}
            if after.expires_at is not None:
                item[TTL_ATTRIBUTE] = after.expires_at
            condition = "attribute_not_exists(pk) OR #expires < :now"
            values: dict[str, Any] = {":now": {"N": str(_epoch(new.updated_at))}}
            if old is not None:
                condition += " OR image_id = :image_id"
                values.update(mine)
            writes.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": _serialize(item),
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": {"#expires": TTL_ATTRIBUTE},
                        "ExpressionAttributeValues": values,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        return writes

    def _counter_updates(self, old: ImageRecord | None, new: ImageRecord) -> Iterator[dict[str, Any]]:
        usage, categories, albums = counter_changes(old, new)
        for album_id, delta in albums.items():
            yield {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"pk": {"S": _album_pk(album_id)}, "sk": {"S": _ALBUM_SK}},
                    "UpdateExpression": "ADD #count :delta",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {":delta": {"N": str(delta)}},
                }
            }
        for owner in (new.owner, None):
            if usage != Usage():
                yield {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": {"S": _scope_pk(owner)}, "sk": {"S": _USAGE_SK}},
                        "UpdateExpression": "ADD images :images, bytes_stored :stored, bytes_saved :saved",
                        "ExpressionAttributeValues": {
                            ":images": {"N": str(usage.images)},
                            ":stored": {"N": str(usage.bytes_stored)},
                            ":saved": {"N": str(usage.bytes_saved)},
                        },
                    }
                }
            for category, delta in categories.items():
                yield {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"pk": {"S": _scope_pk(owner)}, "sk": {"S": f"{_COUNT_PREFIX}{category}"}},
                        "UpdateExpression": "ADD #count :delta SET category = :category",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": {":delta": {"N": str(delta)}, ":category": {"S": category}},
                    }
                }

    def _transact(self, items: list[dict[str, Any]], record: ImageRecord, *, creating: bool, claims: int = 0) -> None:
        """Run the transaction ``items``: the record's ``Put`` first, then ``claims`` content-hash writes."""
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                return
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise translate(exc, "dynamodb:TransactWriteItems") from exc
                cancellations = list(exc.response.get("CancellationReasons", []))
                reasons = [reason.get("Code", "None") for reason in cancellations]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    if creating:
                        raise RecordExistsError(f"image {record.image_id} exists already") from exc
                    raise StaleRecordError(
                        f"image {record.image_id} changed since version {record.version - 1}"
                    ) from exc
                for reason in cancellations[1 : 1 + claims]:
                    if reason.get("Code") == "ConditionalCheckFailed":
                        held: Mapping[str, Any] = reason.get("Item", {})
                        holder = held.get("image_id", {}).get("S")
                        raise _ClaimTaken(None if holder is None else str(holder)) from exc
                if any(code in ("ThrottlingError", "ProvisionedThroughputExceeded") for code in reasons):
                    raise ThrottledError(f"dynamodb:TransactWriteItems throttled ({reasons})") from exc
                # Contention on a counter item: nothing was written, the same transaction may be retried.
                if attempt + 1 < _TRANSACTION_ATTEMPTS:
                    _back_off(attempt)
            except BotoCoreError as exc:
                raise translate(exc, "dynamodb:TransactWriteItems") from exc
        raise DependencyError(f"dynamodb:TransactWriteItems kept conflicting for image {record.image_id}")

    def _put_terms(self, record: ImageRecord, terms: Iterable[tuple[str, str]]) -> None:
        self._batch_write([{"PutRequest": {"Item": _term_item(record, kind, term)}} for kind, term in sorted(terms)])

    def _delete_terms(self, image_id: str, terms: Iterable[tuple[str, str]] | None) -> None:
        """Remove the given term items, or (``None``) every term item of the image."""
        if terms is None:
            keys = [item["sk"]["S"] for item in self._query_all_terms(image_id)]
        else:
            keys = [f"{_TERM_PREFIX}{_KINDS[kind]}#{term}" for kind, term in terms]
        self._batch_write(
            [{"DeleteRequest": {"Key": {"pk": {"S": _record_pk(image_id)}, "sk": {"S": sk}}}} for sk in sorted(keys)]
        )

    def _query_all_terms(self, image_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": _record_pk(image_id)}, ":prefix": {"S": _TERM_PREFIX}},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        while True:
            response = self._query(kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            _until_processed(
                "BatchWriteItem",
                self.client.batch_write_item,
                {self.table_name: requests[start : start + 25]},
                unprocessed="UnprocessedItems",
            )

    # --- reads ----------------------------------------------------------------------------------------
    def _query(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.client.query(**kwargs))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "dynamodb:Query") from exc

    def query(self, query: ImageQuery) -> Page:
        term = query_term(query)
        if term is not None:
            if term[0] not in LIVE_KINDS and query.state not in (None, ImageState.READY):
                return Page(())
            tag = f"{_KINDS[term[0]]}#{term[1]}"
            index, partition = ("gsi1", f"OWNER#{query.owner}#{tag}") if query.owner is not None else ("gsi2", tag)
        elif query.state is not None:
            if query.state is ImageState.DELETED:
                return Page(())
            index, partition = "gsi3", f"OWNER#{query.owner}#STATE#{query.state.value}"
        else:
            index, partition = "gsi1", f"OWNER#{query.owner}"
        pk_name, sk_name = GSI_KEYS[index]
        condition = "#pk = :pk"
        values: dict[str, Any] = {":pk": {"S": partition}}
        if query.since is not None or query.until is not None:
            condition += " AND #sk BETWEEN :low AND :high"
            values[":low"] = {"S": timestamp(query.since) if query.since is not None else "0"}
            # "~" sorts after every character an image id may contain.
            values[":high"] = {"S": (timestamp(query.until) + "#~") if query.until is not None else "~"}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": pk_name, "#sk": sk_name} if "#sk" in condition else {"#pk": pk_name},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        start = _decode_cursor(query.cursor, ("pk", "sk", pk_name, sk_name))
        found: list[ImageRecord] = []
        while True:
            if start is not None:
                kwargs["ExclusiveStartKey"] = start
            kwargs["Limit"] = query.limit - len(found)
            response = self._query(kwargs)
            image_ids = [_image_id(item) for item in response.get("Items", [])]
            found.extend(
                record
                for record in self._records(image_ids)
                if _still_matches(record, query.state, term) and _has_words(record, query.words)
            )
            start = response.get("LastEvaluatedKey")
            if start is None:
                return Page(tuple(found))
            if len(found) >= query.limit:
                return Page(tuple(found), _encode_cursor(start))

    def _records(self, image_ids: list[str]) -> list[ImageRecord]:
        """The records of ``image_ids`` that exist, read consistently, in the order given."""
        unique = list(dict.fromkeys(image_ids))
        by_id: dict[str, ImageRecord] = {}
        for start in range(0, len(unique), _BATCH_GET_KEYS):
            by_id.update(self._batch_get(unique[start : start + _BATCH_GET_KEYS]))
        records = (by_id.get(image_id) for image_id in image_ids)
        return [record for record in records if record is not None]

    def _batch_get(self, image_ids: list[str]) -> dict[str, ImageRecord]:
        keys = [{"pk": {"S": _record_pk(image_id)}, "sk": {"S": _RECORD_SK}} for image_id in image_ids]
        by_id: dict[str, ImageRecord] = {}

        def take(response: Mapping[str, Any]) -> None:
            for item in response.get("Responses", {}).get(self.table_name, []):
                record = _record_from_item(item)
                by_id[record.image_id] = record

        _until_processed(
            "BatchGetItem",
            self.client.batch_get_item,
            {self.table_name: {"Keys": keys, "ConsistentRead": True}},
            unprocessed="UnprocessedKeys",
            take=take,
        )
        return by_id

    def find_by_hash(self, owner: str, sha256: str) -> ImageRecord | None:
        response = self._query(
            {
                "TableName": self.table_name,
                "IndexName": "gsi2",
                "KeyConditionExpression": "gsi2pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"HASH#{owner}#{sha256}"}},
                "ScanIndexForward": False,
                "Limit": 1,
            }
        )
        items = response.get("Items", [])
        if not items:
            return None
        # The index holds keys only, and may lag a deletion: read and confirm the record itself.
        record = self.get(_image_id(items[0]))
        return None if record is None or record.state is ImageState.DELETED else record

    def category_counts(self, owner: str | None = None) -> dict[str, int]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": _scope_pk(owner)}, ":prefix": {"S": _COUNT_PREFIX}},
        }
        counts: dict[str, int] = {}
        while True:
            response = self._query(kwargs)
            for item in response.get("Items", []):
                count = int(item.get("count", {}).get("N", "0"))
                if count > 0:
                    counts[item["sk"]["S"][len(_COUNT_PREFIX) :]] = count
            if "LastEvaluatedKey" not in response:
                return dict(sorted(counts.items()))
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def usage(self, owner: str | None = None) -> Usage:
        item = self._get_item(_scope_pk(owner), _USAGE_SK)
        if item is None:
            return Usage()
        return Usage(
            images=int(item.get("images", {}).get("N", "0")),
            bytes_stored=int(item.get("bytes_stored", {}).get("N", "0")),
            bytes_saved=int(item.get("bytes_saved", {}).get("N", "0")),
        )

    # --- near-duplicates ------------------------------------------------------------------------------
    def near_duplicates(self, owner: str, phash: str, *, max_distance: int) -> tuple[ImageRecord, ...]:
        near: dict[str, None] = {}  # an image near the hash is usually in several of its bands
        for band in phash_bands(phash):
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"OWNER#{owner}#{_KINDS['phash']}#{band}"}},
            }
            read = 0
            while read < _MAX_BAND_ENTRIES:
                kwargs["Limit"] = _MAX_BAND_ENTRIES - read
                response = self._query(kwargs)
                for item in response.get("Items", []):
                    other, _, image_id = str(item["gsi1sk"]["S"]).partition("#")
                    if is_phash(other) and hamming(other, phash) <= max_distance:
                        near[image_id] = None
                read += len(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return nearest(self._records(list(near)), phash, max_distance)

    def duplicate_groups(self, owner: str, *, limit: int = 20, cursor: str | None = None) -> GroupPage:
        limit = check_group_limit(limit)
        after = group_cursor_after(cursor)
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk > :after",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"OWNER#{owner}#{_KINDS['duplicate']}"},
                # "~" sorts after every character of an image id: past the whole group.
                ":after": {"S": after if cursor is None else f"{after}#~"},
            },
        }
        entries: list[tuple[str, str]] = []
        groups: dict[str, None] = {}
        exhausted = False
        while len(groups) <= limit:
            response = self._query(kwargs)
            for item in response.get("Items", []):
                group_id = str(item["gsi1sk"]["S"]).split("#", 1)[0]
                groups.setdefault(group_id, None)
                if len(groups) > limit:
                    break
                entries.append((group_id, _image_id(item)))
            if "LastEvaluatedKey" not in response:
                exhausted = len(groups) <= limit
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        records = {record.image_id: record for record in self._records([image_id for _, image_id in entries])}
        found = live_groups((group_id, records[image_id]) for group_id, image_id in entries if image_id in records)
        page = list(groups)[:limit]
        return GroupPage(tuple(found), None if exhausted or not page else group_cursor(page[-1]))

    # --- albums ---------------------------------------------------------------------------------------
    def create_album(self, album: Album) -> Album:
        stored = replace(album, version=1, count=0)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_album_item(stored),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise RecordExistsError(f"album {album.album_id} exists already") from exc
            raise translate(exc, "dynamodb:PutItem") from exc
        except BotoCoreError as exc:
            raise translate(exc, "dynamodb:PutItem") from exc
        return stored

    def get_album(self, album_id: str) -> Album | None:
        item = self._get_item(_album_pk(album_id), _ALBUM_SK)
        return None if item is None else _album_from_item(item)

    def update_album(self, current: Album, updated: Album) -> Album:
        names = {"#name": "name", "#updated": "updated_at", "#version": "version", "#cover": "cover_image_id"}
        values: dict[str, Any] = {
            ":name": {"S": updated.name},
            ":updated": {"S": timestamp(updated.updated_at)},
            ":version": {"N": str(current.version)},
            ":next": {"N": str(current.version + 1)},
        }
        expression = "SET #name = :name, #updated = :updated, #version = :next"
        if updated.cover_image_id is None:
            expression += " REMOVE #cover"
        else:
            expression += ", #cover = :cover"
            values[":cover"] = {"S": updated.cover_image_id}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": _album_pk(current.album_id)}, "sk": {"S": _ALBUM_SK}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#name) AND #version = :version",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                if self.get_album(current.album_id) is None:
                    raise NotFoundError(f"album {current.album_id} does not exist") from exc
                raise StaleRecordError(f"album {current.album_id} changed since version {current.version}") from exc
            raise translate(exc, "dynamodb:UpdateItem") from exc
        except BotoCoreError as exc:
            raise translate(exc, "dynamodb:UpdateItem") from exc
        stored = _album_from_item(response["Attributes"])
        assert stored is not None
        return stored

    def delete_album(self, album_id: str) -> Album | None:
        try:
            response = self.client.delete_item(
                TableName=self.table_name,
                Key={"pk": {"S": _album_pk(album_id)}, "sk": {"S": _ALBUM_SK}},
                ReturnValues="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "dynamodb:DeleteItem") from exc
        old = response.get("Attributes")
        return None if not old else _album_from_item(old)

    def albums(self, owner: str) -> tuple[Album, ...]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"OWNER#{owner}#ALBUMS"}},
        }
        keys: list[dict[str, Any]] = []
        while len(keys) < MAX_ALBUMS_PER_OWNER:
            response = self._query(kwargs)
            keys.extend({"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        found: list[Album] = []

        def take(response: Mapping[str, Any]) -> None:
            for item in response.get("Responses", {}).get(self.table_name, []):
                album = _album_from_item(item)
                if album is not None:
                    found.append(album)

        keys = keys[:MAX_ALBUMS_PER_OWNER]
        for start in range(0, len(keys), _BATCH_GET_KEYS):
            _until_processed(
                "BatchGetItem",
                self.client.batch_get_item,
                {self.table_name: {"Keys": keys[start : start + _BATCH_GET_KEYS], "ConsistentRead": True}},
                unprocessed="UnprocessedKeys",
                take=take,
            )
        return tuple(sorted(found, key=lambda album: (album.name.casefold(), album.album_id)))


def _still_matches(record: ImageRecord, state: ImageState | None, term: tuple[str, str] | None) -> bool:
    """Whether a record found through an index still belongs to the query (the index may lag the table)."""
    if term is not None and term not in index_terms(record):
        return False
    if state is not None:
        return record.state is state
    return record.state is not ImageState.DELETED


def _has_words(record: ImageRecord, words: tuple[str, ...]) -> bool:
    """Whether a record is indexed under every search word (the driving word's index found it)."""
    return not words or {("word", word) for word in words} <= index_terms(record)


def _encode_cursor(key: Mapping[str, Any]) -> str:
    return json.dumps({name: value["S"] for name, value in key.items()}, sort_keys=True, separators=(",", ":"))


def _decode_cursor(cursor: str | None, names: tuple[str, ...]) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise InvalidQueryError("cursor is not one this store issued") from exc
    if not isinstance(data, dict) or set(data) != set(names) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidQueryError("cursor is not one this store issued")
    return {name: {"S": value} for name, value in data.items()}
