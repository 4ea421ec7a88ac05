"""``imgmgr stats`` rendering: one table per saved query."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from imgmgr.stats import render, run_queries
from lambdas.adapters.local.events import JsonlEventSink
from lambdas.domain.events import EventType
from tests.unit.analytics.support import event


def test_renders_a_titled_table_per_query_with_grouped_numbers(tmp_path: Path) -> None:
    # GIVEN one processed image that saved 1,500,000 bytes
    JsonlEventSink(tmp_path).emit(
        event("img-1:processed", EventType.PROCESSED, bytes_in=2_000_000, bytes_out=500_000, categories=("Food",))
    )
    console = Console(record=True, width=120)
    # WHEN the results are rendered
    render(run_queries(tmp_path), console)
    text = console.export_text()
    # THEN each query's description titles its table and the numbers are readable
    assert "Popular categories" in text and "Food" in text
    assert "1,500,000" in text and "0.2500" in text


def test_says_so_when_a_query_has_no_rows(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    render(run_queries(tmp_path), console)
    assert console.export_text().count("no events yet") == 5
