"""Categorize: invoked by the on-success destination of the previous step, with its result envelope."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas import config, steps
from lambdas.handlers.common import previous_results, run

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_dimension(name="step", value=steps.CATEGORIZE)
    ports = config.aws_ports()
    results = []
    for previous in previous_results(event):
        image_id = previous.get("image_id")
        if not image_id:
            logger.warning("previous result names no image", extra={"previous": previous})
            continue
        results.append(
            run(
                logger,
                metrics,
                steps.CATEGORIZE,
                functools.partial(steps.categorize, ports, image_id),
                image_id=image_id,
            )
        )
    return {"images": [result.to_payload() for result in results]}
