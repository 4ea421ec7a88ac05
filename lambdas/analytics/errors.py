"""Errors of the exporter: both are permanent (the same payload can never succeed when retried)."""

from __future__ import annotations

from lambdas.domain.errors import PermanentError


class PayloadError(PermanentError):
    """The Lambda event is not a CloudWatch Logs subscription payload (bad base64, gzip or JSON)."""

    code = "Analytics.BadPayload"


class EventSchemaError(PermanentError):
    """An analytics event line does not match the event schema; the message names the field."""

    code = "Analytics.InvalidEvent"
