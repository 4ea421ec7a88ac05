"""``imgmgr stats``: the usage figures of a period as the API answers them (``GET /v1/analytics``), printed
as tables. It works against the local server or a deployment, from any directory: the figures are the
saved queries of the analytics lake, answered by the host (DuckDB locally, Athena deployed).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Columns shown left-aligned (text); the others are numbers.
_TEXT_COLUMNS = frozenset({"day", "category", "label", "code", "last_seen", "state"})
#: Columns that count bytes, shown in KiB/MiB/GiB.
_BYTE_COLUMNS = frozenset({"bytes_uploaded", "bytes_in", "bytes_out", "bytes_saved"})


def render(document: dict[str, Any], console: Console) -> None:
    """One table per figure of an analytics answer, titled with its description; a figure without rows
    says so."""
    console.print(Text(f"From {document['from']} to {document['to']} (UTC days)", style="bold"))
    for figure in document["figures"].values():
        if not figure["rows"]:
            console.print(Text(figure["description"], style="bold"))
            console.print("  nothing in this period")
            continue
        table = Table(title=Text(figure["description"]), title_justify="left")
        for column in figure["columns"]:
            table.add_column(column.replace("_", " "), justify="left" if column in _TEXT_COLUMNS else "right")
        for row in figure["rows"]:
            table.add_row(*(Text(_cell(column, row[column])) for column in figure["columns"]))
        console.print(table)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column in _BYTE_COLUMNS and isinstance(value, int):
        return size(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def size(count: float) -> str:
    """A byte count in B, KiB, MiB or GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)
