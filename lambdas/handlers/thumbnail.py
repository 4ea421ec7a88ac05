"""Thumbnail: invoked by the on-success destination of the previous step, with its result envelope."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas import config, steps
from lambdas.handlers.common import run_after_previous
from lambdas.imaging import pipeline as _imaging_pipeline  # noqa: F401 - Pillow and numpy load during init

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_after_previous(logger, metrics, steps.THUMBNAIL, steps.thumbnail, config.aws_ports(), event, context)
