"""The real clock, shared by the AWS and the local runtime."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """``Clock`` port over the system time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
