"""Compress: invoked by S3 ``ObjectCreated`` under ``uploads/``; its result goes to thumbnail.

The same function hears the bucket's ``LifecycleExpiration`` events under ``uploads/``: the originals
policy removed an original, which it records (``steps.original_expired``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas import config, steps
from lambdas.handlers.common import Handler, run
from lambdas.imaging import pipeline as _imaging_pipeline  # noqa: F401 - Pillow and numpy load during init

logger = Logger()
metrics = Metrics()


def make_handler(ports: Callable[[], steps.Ports] = config.aws_ports) -> Handler:
    """The compress function's handler; it calls ``ports()`` at every invocation.

    Default: ``config.aws_ports``, the ports over AWS that it builds once per container.
    """

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        metrics.add_dimension(name="step", value=steps.COMPRESS)
        current = ports()
        results = []
        for record in S3Event(event).records:
            # S3 URL-encodes keys in events ("my+cat%281%29.jpg"): decode before use.
            key = unquote_plus(record.s3.get_object.key)
            image_id = _image_id(key)
            if record.event_name.startswith("LifecycleExpiration"):
                removed = functools.partial(steps.original_expired, current, key)
                results.append(run(logger, metrics, steps.COMPRESS, removed, image_id=image_id, context=context))
                continue
            results.append(
                run(
                    logger,
                    metrics,
                    steps.COMPRESS,
                    functools.partial(steps.compress, current, key),
                    image_id=image_id,
                    context=context,
                )
            )
        return {"images": [result.to_payload() for result in results]}

    return handler


handler = make_handler()


def _image_id(key: str) -> str | None:
    """The image id of an upload key, for the log's correlation id (``None`` outside the layout)."""
    parts = key.split("/")
    return parts[2] or None if len(parts) == 4 else None
