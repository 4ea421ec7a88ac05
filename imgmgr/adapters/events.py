"""``EventSink`` that appends JSON lines under a directory, partitioned like the lake in S3.

Each event becomes one line of ``<directory>/dt=YYYY-MM-DD/events.jsonl`` (the day of ``occurred_at``,
UTC), the layout the exporter writes to ``analytics/events/`` in AWS, so the same DuckDB/Athena queries
read both. A line is written with a single ``write`` on a file opened in append mode, so lines from
concurrent processes do not interleave.
"""

from __future__ import annotations

import json
import os
from datetime import UTC
from pathlib import Path

from lambdas.domain.events import AnalyticsEvent


class JsonlEventSink:
    """``EventSink`` writing ``<directory>/dt=YYYY-MM-DD/events.jsonl``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def emit(self, event: AnalyticsEvent) -> None:
        day = event.occurred_at.astimezone(UTC).strftime("%Y-%m-%d")
        path = self.directory / f"dt={day}" / "events.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(event.to_dict(), separators=(",", ":"), sort_keys=False) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
