"""``EventSink`` that writes each analytics event as one JSON log line, for a CloudWatch Logs subscription.

The line is the event's JSON form (``lambdas.domain.events``) with ``record_type`` set to
``lambdas.contract.RECORD_TYPE``; ``lambdas.contract.SUBSCRIPTION_FILTER_PATTERN`` selects exactly these lines, so the exporter
Lambda receives analytics events and nothing else from the function's log group.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from lambdas.contract import RECORD_TYPE
from lambdas.domain.events import AnalyticsEvent


class LogEventSink:
    """``EventSink`` printing one JSON line per event to ``stream`` (default: standard output)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def emit(self, event: AnalyticsEvent) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        line = json.dumps({"record_type": RECORD_TYPE, **event.to_dict()}, separators=(",", ":"))
        stream.write(line + "\n")
        stream.flush()
