"""Redrive: replays the dead-letter queue by invoking each failed function again with its original event.

The queue holds Lambda on-failure destination records (``requestContext.functionArn``, ``condition``
``"RetriesExhausted"``, ``requestPayload`` = the event that failed). Each is re-invoked asynchronously
(``InvocationType=Event``) on the function that failed (its unqualified ARN: the records name
``$LATEST``, which IAM authorizes apart), so the destination chain continues as usual,
and deleted from the queue once Lambda accepted it. Only functions in this function's own account and
region are invoked; anything else stays in the queue and is reported. The record of an image whose
retries were exhausted is ``failed`` with a retryable code, which the replayed step resumes.

Event (all optional): ``{"max_messages": 100, "dry_run": false}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from lambdas import config
from lambdas.adapters.aws.errors import translate
from lambdas.contract import Env
from lambdas.handlers.common import DestinationEnvelope, Handler

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = Logger()

_BATCH = 10
_VISIBILITY_S = 120


@dataclass
class RedriveReport:
    """What a redrive did: messages replayed, left in the queue (with why), and seen in all."""

    replayed: int = 0
    kept: list[dict[str, str]] = field(default_factory=list)
    seen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "kept": self.kept, "seen": self.seen}


def redrive(
    sqs: Any, lambda_client: Any, queue_url: str, *, function_prefix: str, max_messages: int, dry_run: bool
) -> RedriveReport:
    """Replay up to ``max_messages`` messages of ``queue_url``.

    Only on functions whose ARN starts with ``function_prefix``; other messages stay, with the reason.
    """
    report = RedriveReport()
    handled: set[str] = set()
    while report.seen < max_messages:
        try:
            response = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(_BATCH, max_messages - report.seen),
                VisibilityTimeout=_VISIBILITY_S,
                WaitTimeSeconds=0,
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "sqs:ReceiveMessage") from exc
        messages = [m for m in response.get("Messages", []) if m["MessageId"] not in handled]
        if not messages:
            break
        for message in messages:
            handled.add(message["MessageId"])
            report.seen += 1
            reason = _replay(sqs, lambda_client, queue_url, message, function_prefix=function_prefix, dry_run=dry_run)
            if reason is None:
                report.replayed += 1
            else:
                report.kept.append({"message_id": message["MessageId"], "reason": reason})
    return report


def _replay(
    sqs: Any, lambda_client: Any, queue_url: str, message: dict[str, Any], *, function_prefix: str, dry_run: bool
) -> str | None:
    """Replay one message; the reason it was kept, or ``None`` when it was replayed (and deleted)."""
    try:
        envelope = DestinationEnvelope(json.loads(message["Body"]))
    except ValueError:
        return "not JSON"
    if not isinstance(envelope.raw_event, dict) or envelope.request_payload is None:
        return "not a Lambda destination record"
    arn = unqualified(envelope.function_arn)
    if not arn.startswith(function_prefix):
        return f"function {arn!r} is outside {function_prefix!r}"
    if dry_run:
        return "dry run"
    try:
        lambda_client.invoke(
            FunctionName=arn, InvocationType="Event", Payload=json.dumps(envelope.request_payload).encode()
        )
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, "lambda:Invoke") from exc
    logger.info("replayed", extra={"function": arn, "message_id": message["MessageId"]})
    return None


def unqualified(function_arn: str) -> str:
    """The function's ARN without the ``$LATEST`` qualifier that Lambda puts in destination records.

    Replaying on ``...:function:<name>`` runs the same code as ``...:<name>:$LATEST``, but IAM authorizes
    the ARN as invoked: a role allowed the unqualified ARN is denied the qualified one. Other qualifiers
    (versions, aliases) are kept: they name other code, which the role must be allowed explicitly.
    """
    return function_arn.removesuffix(":$LATEST")


def _function_prefix(context: LambdaContext) -> str:
    """``arn:aws:lambda:<region>:<account>:function:`` of this function: replay only next to it."""
    parts = context.invoked_function_arn.split(":")
    return ":".join(parts[:6]) + ":"


def _sqs() -> SQSClient:
    """The container's SQS client (``config.client``)."""
    return config.client("sqs")


def _lambda_client() -> Any:
    """The container's Lambda client (``config.client``; no stubs are installed for Lambda)."""
    return config.client("lambda")


def make_handler(
    *,
    settings: Callable[[], config.Settings] = config.settings,
    sqs: Callable[[], SQSClient] = _sqs,
    lambda_client: Callable[[], Any] = _lambda_client,
) -> Handler:
    """The redrive function's handler; it calls each factory at every invocation.

    ``settings`` name the dead-letter queue (``dlq_url``). Default: ``config.settings``, read from the
    environment once per container. ``sqs`` and ``lambda_client`` give the boto3 clients that read the
    queue and invoke the failed functions. Default: ``config.client``'s, built once per container.
    """

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        current = settings()
        if not current.dlq_url:
            raise ValueError(f"{Env.DLQ_URL} must be set for the redrive function")
        event = event or {}
        report = redrive(
            sqs(),
            lambda_client(),
            current.dlq_url,
            function_prefix=_function_prefix(context),
            max_messages=int(event.get("max_messages", 100)),
            dry_run=bool(event.get("dry_run", False)),
        )
        logger.info("redrive finished", extra=report.to_dict())
        return report.to_dict()

    return handler


handler = make_handler()
