"""DynamoDB capacity accounting: the read and write units a request consumes, per table and per index.

Pure functions over items in DynamoDB's JSON form (``{"pk": {"S": "IMG#1"}, "n": {"N": "42"}}``): no
boto3, no clock, no I/O. ``bench.capacity`` records the real requests the metadata adapter sends (against
moto) and prices them with this module; the tests compute the same numbers by hand.

It lives in ``bench/``, not in ``lambdas/``: nothing at run time needs it, and ``lambdas/`` is exactly
what ships in the function zip (DESIGN.md, "Layout").

The rules, from the Amazon DynamoDB Developer Guide:

- **Item size** ("Item sizes and formats", ``CapacityUnitCalculations.html``): the sum of the lengths
  of the attribute names (UTF-8 bytes) and of their values. A string is its UTF-8 length; a binary its
  raw length; a number "(1 byte per two significant digits) + (1 byte)", leading and trailing zeroes
  trimmed; ``NULL`` and ``BOOL`` 1 byte; a list or a map 3 bytes of overhead plus 1 byte per element
  plus its elements (a map's keys count like attribute names); a set the sum of its elements.
- **Write units** ("Read/write capacity mode", ``read-write-operations.html``): one unit per 1 KB of
  the item, rounded up, at least one. ``PutItem`` and ``UpdateItem`` are charged on the larger of the
  item before and after the write, ``DeleteItem`` on the deleted item. A transactional write
  (``TransactWriteItems``) costs two units per 1 KB ("Capacity management for transactions",
  ``transaction-apis.html``). ``BatchWriteItem`` costs what its puts and deletes cost one by one.
- **Read units**: one unit per 4 KB, rounded up, for a strongly consistent read, half of it for an
  eventually consistent one, twice for a transactional one. ``GetItem`` and each item of a
  ``BatchGetItem`` are rounded up on their own; a ``Query`` adds up the sizes of every item it reads
  and rounds up once ("the total size of all items ... then rounds up to the next 4 KB boundary"). A
  read that finds nothing still costs the minimum unit. A ``ProjectionExpression`` does not lower the
  cost: the whole item is read.
- **Global secondary indexes** ("Provisioned throughput considerations for global secondary indexes",
  ``GSI.html#GSI.ThroughputConsiderations.Writes``): a table write costs an index write when the item
  is in the index (has both of the index's key attributes) before or after it. A new index entry is
  one put; a changed key is two writes (delete the old entry, put the new one); an item that leaves
  the index is one delete; an item that stays under the same key costs one write when a projected
  attribute changed and nothing otherwise. Each write is sized by the *index entry*: the table's and
  the index's key attributes plus the projected attributes (``ALL``: the whole item; ``KEYS_ONLY``:
  only the keys; ``INCLUDE``: the keys plus the named attributes). A table write is rejected when an
  index it would write lacks capacity. Index entries are written as standard writes, also when the
  table write was transactional (the index is updated asynchronously, outside the transaction).
  Queries on an index are eventually consistent and are sized by the index entries they read.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: A DynamoDB attribute value in its JSON form (``{"S": "text"}``) and an item (attribute name -> value).
AttributeValue = Mapping[str, Any]
Item = Mapping[str, AttributeValue]

Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]

#: The name under which the table's own units are reported (index units under the index's name).
TABLE = "table"

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
#: Overhead of a list or map, and of each of its elements.
_CONTAINER_OVERHEAD = 3
_ELEMENT_OVERHEAD = 1


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def number_size(text: str) -> int:
    """Bytes of a number given as DynamoDB text (``"-12.50"``): 1 per two significant digits, plus 1."""
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    # Leading zeroes (also those after the point, as in 0.005) and trailing ones are not significant.
    digits = mantissa.replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: AttributeValue) -> int:
    """Bytes of one attribute value (without its name)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return _utf8(data)
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(data) if isinstance(data, bytes | bytearray) else len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(element) for element in data)
    if kind == "NS":
        return sum(number_size(element) for element in data)
    if kind == "BS":
        return sum(value_size({"B": element}) for element in data)
    if kind == "L":
        return _CONTAINER_OVERHEAD + sum(_ELEMENT_OVERHEAD + value_size(element) for element in data)
    if kind == "M":
        return _CONTAINER_OVERHEAD + sum(
            _ELEMENT_OVERHEAD + _utf8(name) + value_size(element) for name, element in data.items()
        )
    raise ValueError(f"value: unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    """Bytes of an item: its attribute names and values (0 for no item)."""
    if item is None:
        return 0
    return sum(_utf8(name) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Standard write units of one item of ``size`` bytes: one per started KB, at least one."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """Read units of ``size`` bytes read at once: one per started 4 KB (at least one), halved when
    eventually consistent, doubled when transactional."""
    units = float(max(1, math.ceil(size / READ_UNIT_BYTES)))
    if transactional:
        return 2 * units
    return units if consistent else units / 2


@dataclass(frozen=True, kw_only=True)
class IndexSchema:
    """A global secondary index: its string keys and what it projects."""

    name: str
    hash_key: str
    range_key: str | None = None
    projection: Projection = "ALL"
    non_key_attributes: tuple[str, ...] = ()
    """The attributes an ``INCLUDE`` projection adds to the keys."""

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)


@dataclass(frozen=True, kw_only=True)
class TableSchema:
    """A table's key attributes and its global secondary indexes."""

    hash_key: str
    range_key: str | None = None
    indexes: tuple[IndexSchema, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    @property
    def targets(self) -> tuple[str, ...]:
        """The names units are reported under: ``TABLE`` and every index."""
        return (TABLE, *(index.name for index in self.indexes))

    def index(self, name: str) -> IndexSchema:
        return next(index for index in self.indexes if index.name == name)

    def key_of(self, item: Item) -> tuple[tuple[str, str], ...]:
        """The item's primary key as a hashable tuple of ``(name, text)``."""
        return tuple((name, _key_text(item[name])) for name in self.keys)


def _key_text(value: AttributeValue) -> str:
    ((kind, data),) = value.items()
    return f"{kind}:{data}"


def index_entry(table: TableSchema, index: IndexSchema, item: Item | None) -> dict[str, AttributeValue] | None:
    """What ``index`` holds for ``item``: ``None`` when the item lacks one of the index's key attributes."""
    if item is None or any(name not in item for name in index.keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    kept = {*table.keys, *index.keys}
    if index.projection == "INCLUDE":
        kept.update(index.non_key_attributes)
    return {name: value for name, value in item.items() if name in kept}


@dataclass(frozen=True, kw_only=True)
class Write:
    """One item written: its image ``before`` and ``after`` the write (``None``: absent).

    A put of a new item has no ``before``; a delete has no ``after``; a put over an existing item or an
    update has both.
    """

    before: Item | None
    after: Item | None
    transactional: bool = False


def write_cost(table: TableSchema, write: Write) -> dict[str, float]:
    """Write units ``write`` consumes on the table and on each index it touches (untouched ones left out)."""
    factor = 2 if write.transactional else 1
    cost: dict[str, float] = {TABLE: factor * write_units(max(item_size(write.before), item_size(write.after)))}
    for index in table.indexes:
        old, new = index_entry(table, index, write.before), index_entry(table, index, write.after)
        units = _index_write_units(index, old, new)
        if units:
            cost[index.name] = units
    return cost


def _index_write_units(index: IndexSchema, old: Item | None, new: Item | None) -> int:
    if old is None and new is None:
        return 0
    if old is None:
        return write_units(item_size(new))
    if new is None:
        return write_units(item_size(old))
    if any(old[name] != new[name] for name in index.keys):
        return write_units(item_size(old)) + write_units(item_size(new))
    if old == new:
        return 0
    return write_units(max(item_size(old), item_size(new)))


ReadKind = Literal["get", "batch_get", "query"]


@dataclass(frozen=True, kw_only=True)
class Read:
    """One read request: the stored (table) items it read, and where and how it read them.

    ``items`` are whole table items even for an index query or a projected read: the index entry is
    derived here, and a projection expression does not change the cost. A ``get`` or ``batch_get`` that
    found nothing lists ``missing`` keys, each charged the minimum unit.
    """

    kind: ReadKind
    items: tuple[Item, ...] = ()
    index: str | None = None
    consistent: bool = False
    missing: int = 0


def read_cost(table: TableSchema, read: Read) -> dict[str, float]:
    """Read units ``read`` consumes, under ``TABLE`` or the index it queried."""
    target = TABLE if read.index is None else read.index
    if read.index is not None:
        index = table.index(read.index)
        sizes = [item_size(index_entry(table, index, item)) for item in read.items]
        consistent = False  # an index is only read eventually consistently
    else:
        sizes = [item_size(item) for item in read.items]
        consistent = read.consistent
    if read.kind == "query":
        units = read_units(sum(sizes), consistent=consistent)
    else:
        units = sum(read_units(size, consistent=consistent) for size in sizes)
        units += read.missing * read_units(0, consistent=consistent)
    return {target: units}
