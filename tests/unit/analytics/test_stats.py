"""``imgmgr stats``: one table (or JSON list) per saved query over the local events."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from imgmgr import cli
from imgmgr.adapters.events import JsonlEventSink
from imgmgr.stats import render, run_queries, show
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


def test_json_output_has_one_list_of_rows_per_query(tmp_path: Path) -> None:
    # GIVEN one upload
    JsonlEventSink(tmp_path).emit(event("img-1:upload", bytes_in=1234))
    console = Console(record=True, width=200)
    # WHEN only uploads per day are asked for, as JSON
    status = show(tmp_path, names=("uploads_per_day",), as_json=True, console=console)
    # THEN the rows come keyed by column
    assert status == 0
    assert json.loads(console.export_text()) == {
        "uploads_per_day": [{"day": "2026-01-31", "uploads": 1, "uploaders": 1, "bytes_uploaded": 1234}]
    }


def test_an_unknown_query_name_is_an_error(tmp_path: Path) -> None:
    errors = Console(record=True, width=200)
    status = show(tmp_path, names=("revenue",), console=Console(record=True), errors=errors)
    assert status == 2
    assert "unknown query revenue; saved queries: uploads_per_day" in errors.export_text()


def test_a_broken_events_file_is_reported_not_counted(tmp_path: Path) -> None:
    # GIVEN an events file whose last line was cut short
    JsonlEventSink(tmp_path).emit(event("img-1:upload"))
    path = tmp_path / "dt=2026-01-31" / "events.jsonl"
    path.write_text(path.read_text() + '{"schema":1,"event_id":"img-2:up\n')
    errors = Console(record=True, width=300)
    # WHEN the stats are shown
    status = show(tmp_path, console=Console(record=True), errors=errors)
    # THEN the command fails and names the file
    said = errors.export_text()
    assert status == 1
    assert said.startswith("cannot read the events") and "dt=2026-01-31/events.jsonl" in said


def test_the_stats_command_reads_the_data_directorys_events(tmp_path: Path) -> None:
    # GIVEN a data directory where the local server recorded one upload
    JsonlEventSink(tmp_path / "events").emit(event("img-1:upload", bytes_in=4096))
    # WHEN `imgmgr stats --json -q uploads_per_day` runs on it
    result = CliRunner().invoke(
        cli.app, ["stats", "--data-dir", str(tmp_path), "--json", "-q", "uploads_per_day"], catch_exceptions=False
    )
    # THEN it prints that day's upload
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["uploads_per_day"][0]["bytes_uploaded"] == 4096


def test_the_stats_command_exits_2_for_an_unknown_query(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, ["stats", "--data-dir", str(tmp_path), "-q", "revenue"])
    assert result.exit_code == 2
