"""Categorize: invoked by the on-success destination of the previous step, with its result envelope."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger, Metrics

from lambdas import config, steps
from lambdas.handlers.common import Handler, chained_handler

logger = Logger()
metrics = Metrics()


def make_handler(ports: Callable[[], steps.Ports] = config.aws_ports) -> Handler:
    """The categorize function's handler; it calls ``ports()`` at every invocation.

    Default: ``config.aws_ports``, the ports over AWS that it builds once per container.
    """
    return chained_handler(logger, metrics, steps.CATEGORIZE, steps.categorize, ports)


handler = make_handler()
