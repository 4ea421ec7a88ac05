"""Errors of the analytics: the exporter's are permanent (the same payload can never succeed when retried)."""

from __future__ import annotations

from lambdas.domain.errors import PermanentError, TransientError


class PayloadError(PermanentError):
    """The Lambda event is not a CloudWatch Logs subscription payload (bad base64, gzip or JSON)."""

    code = "Analytics.BadPayload"


class EventSchemaError(PermanentError):
    """An analytics event line does not match the event schema; the message names the field."""

    code = "Analytics.InvalidEvent"


class EventsUnreadableError(TransientError):
    """The events cannot be read (a file edited by hand, a disk that filled up, a query engine that
    failed); the figures may answer again once that is fixed."""

    code = "Analytics.Unreadable"
