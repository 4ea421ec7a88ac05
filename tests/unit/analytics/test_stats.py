"""``imgmgr stats`` prints the API's figures: a titled table per figure, readable numbers, a word for none."""

from __future__ import annotations

from rich.console import Console

from imgmgr.stats import render

DOCUMENT = {
    "from": "2026-01-01",
    "to": "2026-01-31",
    "figures": {
        "bytes_saved": {
            "description": "Bytes saved per day",
            "columns": ["day", "images", "bytes_in", "bytes_out", "bytes_saved", "size_ratio"],
            "rows": [
                {
                    "day": "2026-01-31",
                    "images": 1200,
                    "bytes_in": 2_000_000,
                    "bytes_out": 500_000,
                    "bytes_saved": 1_500_000,
                    "size_ratio": 0.25,
                }
            ],
        },
        "popular_categories": {
            "description": "Popular categories",
            "columns": ["category", "images", "owners"],
            "rows": [{"category": "[red]Food", "images": 1, "owners": 1}],
        },
        "failures_by_code": {"description": "Failures by code", "columns": ["code", "failures"], "rows": []},
    },
}


def test_renders_a_titled_table_per_figure_with_readable_numbers() -> None:
    console = Console(record=True, width=160)
    render(DOCUMENT, console)
    text = console.export_text()
    assert "From 2026-01-01 to 2026-01-31" in text
    assert "Bytes saved per day" in text and "1.4 MiB" in text and "1,200" in text and "0.2500" in text
    # A value from the API is printed as it is, never read as markup.
    assert "[red]Food" in text


def test_says_so_when_a_figure_has_no_rows() -> None:
    console = Console(record=True, width=160)
    render(DOCUMENT, console)
    assert "Failures by code\n  nothing in this period" in console.export_text()
