"""Categorize: invoked by the on-success destination of the previous step, with its result envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas import config, steps
from lambdas.handlers.common import Handler, run_after_previous

logger = Logger()
metrics = Metrics()


def make_handler(ports: Callable[[], steps.Ports] = config.aws_ports) -> Handler:
    """The categorize function's handler; it calls ``ports()`` at every invocation.

    Default: ``config.aws_ports``, the ports over AWS that it builds once per container.
    """

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return run_after_previous(logger, metrics, steps.CATEGORIZE, steps.categorize, ports(), event, context)

    return handler


handler = make_handler()
