"""What every pipeline handler shares: the destination envelope, running a step, logging and metrics.

Metrics (namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimension ``step``; 8 custom metrics in all):
``ProcessingMs`` (every step), ``StepFailures`` (every step), ``BytesSaved`` (compress),
``ImagesProcessed`` (categorize).
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.common import DictWrapper
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.domain.errors import PermanentError, TransientError
from lambdas.steps import CATEGORIZE, COMPRESS, Outcome, Ports, StepResult

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
"""A Lambda handler as ``make_handler`` of each handler module returns it: ``(event, context) -> result``."""

DEADLINE_MARGIN_MS = 5_000
"""Time kept back from the function's timeout: the step that runs out records its failure in it."""


class DeadlineExceededError(TransientError):
    """The step ran out of its function's time; the retry (or, after the last, the redrive) runs it again."""

    code = "Pipeline.DeadlineExceeded"


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@contextmanager
def deadline(context: RemainingTime | None, *, margin_ms: int = DEADLINE_MARGIN_MS) -> Iterator[None]:
    """Raise ``DeadlineExceededError`` inside the block ``margin_ms`` before the function's timeout.

    Lambda ends a function that reaches its timeout without a word: the record would stay in the state
    before the step and nothing would say why. The alarm (``SIGALRM``, main thread only; a C call such as
    a decode finishes first, and the image limits bound those to seconds) turns that into a recorded,
    retryable failure with a code.
    """
    if context is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    remaining = context.get_remaining_time_in_millis()
    # A short timeout keeps a quarter back instead of the whole margin (a 5 s function still runs 3.75 s).
    seconds = max(0.001, (remaining - min(margin_ms, remaining // 4)) / 1000)

    def expired(signum: int, frame: object) -> None:
        raise DeadlineExceededError(f"the step ran out of time ({seconds:.1f} s of the function's timeout)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class DestinationEnvelope(DictWrapper):
    """The event a Lambda destination delivers: the previous invocation's request and response.

    ``{"version": "1.0", "timestamp": ..., "requestContext": {"requestId", "functionArn", "condition",
    "approximateInvokeCount"}, "requestPayload": ..., "responseContext": {"statusCode", "executedVersion",
    "functionError"?}, "responsePayload": ...}``
    """

    @property
    def condition(self) -> str:
        """``"Success"`` for an on-success destination, ``"RetriesExhausted"``/``"EventAgeExceeded"`` else."""
        return str((self.get("requestContext") or {}).get("condition", ""))

    @property
    def function_arn(self) -> str:
        return str((self.get("requestContext") or {}).get("functionArn", ""))

    @property
    def request_payload(self) -> Any:
        return self.get("requestPayload")

    @property
    def response_payload(self) -> Any:
        return self.get("responsePayload")

    def previous_results(self) -> Iterator[dict[str, Any]]:
        """The step results in the response payload (``{"images": [...]}``), one per image."""
        payload = self.response_payload
        if isinstance(payload, dict):
            for item in payload.get("images", []):
                if isinstance(item, dict) and "step" in item and "outcome" in item:
                    yield item


def previous_results(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Step results from a destination envelope, or from a direct ``{"images": [...]}`` invocation."""
    if "responsePayload" in event:
        envelope = DestinationEnvelope(event)
        if envelope.condition and envelope.condition != "Success":
            return iter(())
        return envelope.previous_results()
    return DestinationEnvelope({"responsePayload": event}).previous_results()


def run(
    logger: Logger,
    metrics: Metrics,
    step: str,
    call: Callable[[], StepResult],
    *,
    image_id: str | None,
    context: RemainingTime | None = None,
) -> StepResult:
    """Run one step for one image within the function's time: correlation id, a log line, metrics;
    permanent errors become results."""
    if image_id:
        logger.set_correlation_id(image_id)
    try:
        with deadline(context):
            result = call()
    except TransientError as exc:
        metrics.add_metric(name="StepFailures", unit=MetricUnit.Count, value=1)
        logger.warning("step failed transiently; retrying", extra={"step": step, "code": exc.code})
        raise
    except PermanentError as exc:
        # Before the step could load a record (a key outside the layout...): nothing to mark, say it loudly.
        metrics.add_metric(name="StepFailures", unit=MetricUnit.Count, value=1)
        logger.error("event refused", extra={"step": step, "code": exc.code, "reason": exc.message})
        return StepResult(step=step, image_id=image_id, owner=None, state=None, outcome=Outcome.FAILED, code=exc.code)
    except Exception:
        metrics.add_metric(name="StepFailures", unit=MetricUnit.Count, value=1)
        logger.exception("step failed unexpectedly", extra={"step": step})
        raise
    if result.image_id:
        logger.set_correlation_id(result.image_id)
    metrics.add_metric(name="ProcessingMs", unit=MetricUnit.Milliseconds, value=result.duration_ms)
    if result.outcome is Outcome.FAILED:
        metrics.add_metric(name="StepFailures", unit=MetricUnit.Count, value=1)
        logger.warning("image failed", extra={"step": step, "result": result.to_payload()})
    else:
        logger.info("step finished", extra={"step": step, "result": result.to_payload()})
    if step == COMPRESS and result.bytes_saved is not None:
        metrics.add_metric(name="BytesSaved", unit=MetricUnit.Bytes, value=result.bytes_saved)
    if step == CATEGORIZE and result.outcome is Outcome.DONE:
        metrics.add_metric(name="ImagesProcessed", unit=MetricUnit.Count, value=1)
    return result


def run_after_previous(
    logger: Logger,
    metrics: Metrics,
    step: str,
    step_function: Callable[[Ports, str], StepResult],
    ports: Ports,
    event: dict[str, Any],
    context: RemainingTime | None = None,
) -> dict[str, Any]:
    """Runs ``step_function`` for every image the previous step's result envelope names (thumbnail, categorize)."""
    metrics.add_dimension(name="step", value=step)
    results = []
    for previous in previous_results(event):
        image_id = previous.get("image_id")
        if not image_id:
            logger.warning("previous result names no image", extra={"previous": previous})
            continue
        call = functools.partial(step_function, ports, image_id)
        results.append(run(logger, metrics, step, call, image_id=image_id, context=context))
    return {"images": [result.to_payload() for result in results]}


def chained_handler(
    logger: Logger,
    metrics: Metrics,
    step: str,
    step_function: Callable[[Ports, str], StepResult],
    ports: Callable[[], Ports],
) -> Handler:
    """The Lambda handler of a step invoked by the previous step's on-success destination (thumbnail,
    categorize): ``run_after_previous`` over ``ports()``, called at every invocation."""

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return run_after_previous(logger, metrics, step, step_function, ports(), event, context)

    return handler
