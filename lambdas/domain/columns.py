"""Columns of a flat record: each field of a dataclass, declared once, with its JSON form and its table types.

A field is annotated ``Annotated[<python type>, Column(<value type>, "<comment>")]``. :func:`columns_of`
reads the dataclass and gives, in field order, each field's name, value type, nullability (``| None``
in the annotation) and comment, checking that the annotation is the value type's Python type. From
that one declaration come the JSON form (:meth:`SchemaField.dump`), its validation
(:meth:`SchemaField.load`) and the columns of the tables that read the JSON lines
(:attr:`SchemaField.column`: Glue/Hive for Athena and Spark, DuckDB).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from lambdas.domain.records import parse_timestamp, timestamp


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class ValueType:
    """One kind of value: its Python type, how it is written to JSON and read back, its table types."""

    python: Any
    """The Python type of a value (without ``None``), as the dataclass field is annotated."""
    glue: str
    """Glue/Hive column type (Athena's table; Spark's schema is the same in upper case)."""
    duckdb: str
    """DuckDB column type of the JSON value (``imgmgr stats``)."""
    problem: str
    """What is said of a bad value, after ``"<field>: <value>"``."""
    load: Callable[[Any], Any]
    """The Python value of a JSON value; ``ValueError`` when it is not one."""
    dump: Callable[[Any], Any] = _same
    """The JSON value of a Python value."""
    null_problem: str | None = None
    """What is said of a bad value of a nullable field. Default: :attr:`problem`."""


@dataclass(frozen=True, slots=True)
class Column:
    """The annotation of a field: its value type and the comment of its column."""

    type: ValueType
    comment: str


@dataclass(frozen=True, slots=True)
class TableColumn:
    """A column of the tables that read the JSON lines."""

    name: str
    glue: str
    """Glue/Hive type (Athena's table; Spark's schema is the same in upper case)."""
    duckdb: str
    """DuckDB type."""
    comment: str


@dataclass(frozen=True, slots=True)
class SchemaField:
    """One field of a record's JSON form, and its column."""

    name: str
    type: ValueType
    comment: str
    nullable: bool
    init: bool
    """Whether the record's constructor takes it (a constant field, like a schema version, does not)."""

    @property
    def column(self) -> TableColumn:
        """Its column in the tables."""
        return TableColumn(name=self.name, glue=self.type.glue, duckdb=self.type.duckdb, comment=self.comment)

    def dump(self, value: Any) -> Any:
        """The JSON value of ``value``."""
        return None if value is None and self.nullable else self.type.dump(value)

    def load(self, value: Any) -> Any:
        """The Python value of the JSON ``value``; ``ValueError("<name>: <value> <problem>")`` when it is bad."""
        if value is None and self.nullable:
            return None
        try:
            return self.type.load(value)
        except ValueError:
            problem = self.type.null_problem if self.nullable and self.type.null_problem else self.type.problem
            raise ValueError(f"{self.name}: {value!r} {problem}") from None


def columns_of(record: type) -> tuple[SchemaField, ...]:
    """The fields of the dataclass ``record``, in order; ``TypeError`` unless each is annotated with a
    :class:`Column` whose value type is the field's Python type."""
    hints = get_type_hints(record, include_extras=True)
    result = []
    for item in dataclasses.fields(record):
        hint = hints[item.name]
        columns = [extra for extra in get_args(hint)[1:] if isinstance(extra, Column)]
        if get_origin(hint) is not Annotated or len(columns) != 1:
            raise TypeError(f"{record.__name__}.{item.name}: annotate it Annotated[<type>, Column(...)]")
        [column] = columns
        python = get_args(hint)[0]
        members = get_args(python) if isinstance(python, types.UnionType) else (python,)
        nullable = type(None) in members
        base = [member for member in members if member is not type(None)]
        if base != [column.type.python]:
            raise TypeError(f"{record.__name__}.{item.name}: {python} is not {column.type.python} (or None)")
        result.append(
            SchemaField(name=item.name, type=column.type, comment=column.comment, nullable=nullable, init=item.init)
        )
    return tuple(result)


# --------------------------------------------------------------------------- value types


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(value)
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(value)
    return tuple(value)


def _moment(value: Any) -> datetime:
    try:
        return parse_timestamp(value)
    except TypeError:
        raise ValueError(value) from None


def _scalars(value: Any) -> dict[str, str | int | float | bool]:
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(item, str | int | float | bool) for key, item in value.items()
    ):
        raise ValueError(value)
    return dict(value)


TEXT = ValueType(python=str, glue="string", duckdb="VARCHAR", problem="must be a non-empty string", load=_text)
"""A non-empty string."""
COUNT = ValueType(
    python=int,
    glue="bigint",
    duckdb="BIGINT",
    problem="must be a non-negative integer",
    null_problem="must be a non-negative integer or null",
    load=_count,
)
"""A non-negative integer (bytes, milliseconds)."""
TEXTS = ValueType(
    python=tuple[str, ...],
    glue="array<string>",
    duckdb="VARCHAR[]",
    problem="must be a list of non-empty strings",
    load=_texts,
    dump=list,
)
"""Non-empty strings, a JSON list."""
MOMENT = ValueType(
    python=datetime,
    glue="string",
    duckdb="VARCHAR",
    problem="is not UTC 'YYYY-MM-DDTHH:MM:SS.ffffffZ'",
    load=_moment,
    dump=timestamp,
)
"""A moment, as fixed-width UTC text (``lambdas.domain.records.timestamp``): it sorts as the time does."""
# Glue reads the map's numbers and booleans as strings; DuckDB keeps the JSON as it is.
SCALARS = ValueType(
    python=dict[str, str | int | float | bool],
    glue="map<string,string>",
    duckdb="JSON",
    problem="must map strings to strings, numbers or booleans",
    load=_scalars,
    dump=dict,
)
"""A small JSON object of strings, numbers and booleans."""


def choice(kind: type[StrEnum]) -> ValueType:
    """One of the values of the string enumeration ``kind``."""
    members: Mapping[str, StrEnum] = {member.value: member for member in kind}

    def load(value: Any) -> StrEnum:
        if not isinstance(value, str) or value not in members:
            raise ValueError(value)
        return members[value]

    return ValueType(
        python=kind,
        glue="string",
        duckdb="VARCHAR",
        problem=f"must be one of {', '.join(members)}",
        load=load,
        dump=lambda member: member.value,
    )


def version(number: int) -> ValueType:
    """The integer ``number`` and nothing else (the version of a schema)."""

    def load(value: Any) -> int:
        if isinstance(value, bool) or value != number:
            raise ValueError(value)
        return number

    return ValueType(python=int, glue="int", duckdb="INTEGER", problem=f"is not version {number}", load=load)
