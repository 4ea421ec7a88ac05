"""Exporter: invoked by the CloudWatch Logs subscriptions of the pipeline's log groups.

Writes the analytics events of each payload to ``analytics/events/`` (``lambdas.analytics.exporter``).
A payload that is not a subscription payload is refused loudly and not retried; a transient S3 fault is
raised so that Lambda retries (and, after the retries, sends the payload to the dead-letter queue that
``imgmgr redrive`` replays: exporting again is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas import config
from lambdas.adapters.aws.s3 import S3ObjectStore
from lambdas.analytics.errors import PayloadError
from lambdas.analytics.exporter import export_event
from lambdas.handlers.common import Handler

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = Logger()


def _s3() -> S3Client:
    """The container's S3 client (``config.client``)."""
    return config.client("s3")


def make_handler(
    *,
    settings: Callable[[], config.Settings] = config.settings,
    s3: Callable[[], S3Client] = _s3,
) -> Handler:
    """The exporter function's handler; it calls each factory at every invocation.

    ``settings`` name the bucket. Default: ``config.settings``, read from the environment once per
    container. ``s3`` gives the boto3 client that writes the events. Default: ``config.client``'s, built
    once per container.
    """

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        store = S3ObjectStore(settings().bucket, client=s3())
        try:
            result = export_event(event, store)
        except PayloadError as exc:
            logger.error("payload refused", extra={"code": exc.code, "reason": exc.message})
            return {"refused": exc.code, "reason": exc.message}
        if result.rejected:
            logger.warning("event lines refused", extra={"rejected": result.rejected, "reasons": list(result.reasons)})
        logger.info("payload exported", extra=result.to_dict())
        return result.to_dict()

    return handler


handler = make_handler()
