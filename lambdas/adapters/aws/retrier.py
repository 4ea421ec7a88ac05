"""``Retrier`` over Lambda: a failed image's step is invoked again, asynchronously, on its own function.

The invocation is what that function gets when the pipeline runs (``InvocationType=Event``), so its
retries, its destinations (on success the next step, on failure the dead-letter queue) and its
idempotency apply as to any run of it:

- compress gets the S3 ``ObjectCreated`` event of the stored original (the key URL-encoded as S3 sends it);
- thumbnail and categorize get the result the step before them returned, ``{"images": [...]}``, which
  their handlers read from a destination's ``responsePayload`` or, as here, from a direct invocation.

The record is made pending first (``ImageRecord.retrying``), so the step resumes it from the state its
failure happened in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.adapters.aws.errors import translate
from lambdas.contract import COMPRESS, STEPS
from lambdas.domain.records import ImageRecord, timestamp


class LambdaRetrier:
    """``Retrier`` that invokes the failed step's function; ``functions`` names each step's function
    (``{"compress": "imgmgr-compress", ...}``, every one of ``STEPS``), ``bucket`` is the bucket of the
    originals, ``client`` defaults to a new boto3 Lambda client."""

    def __init__(self, functions: Mapping[str, str], *, bucket: str, client: Any = None) -> None:
        missing = [step for step in STEPS if not functions.get(step)]
        if missing:
            raise ValueError(f"functions: no function named for {', '.join(missing)}")
        self.functions = dict(functions)
        self.bucket = bucket
        # No stubs are installed for Lambda (as in lambdas.handlers.redrive).
        self.client = client if client is not None else boto3.client("lambda")

    def retry(self, record: ImageRecord) -> None:
        step = failed_step(record)
        try:
            self.client.invoke(
                FunctionName=self.functions[step],
                InvocationType="Event",
                Payload=json.dumps(step_event(step, record, bucket=self.bucket)).encode(),
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "lambda:InvokeFunction") from exc


def failed_step(record: ImageRecord) -> str:
    """The step a retry of ``record`` starts with: the one that failed (compress when it names none)."""
    step = record.failure.step if record.failure is not None else ""
    return step if step in STEPS else COMPRESS


def step_event(step: str, record: ImageRecord, *, bucket: str) -> dict[str, Any]:
    """The event ``step``'s function runs ``record`` on (see the module's docstring)."""
    if step == COMPRESS:
        return {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "eventTime": timestamp(record.updated_at),
                    "eventName": "ObjectCreated:Post",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": bucket},
                        "object": {
                            "key": quote_plus(record.original_key, safe="/"),
                            "size": record.size or record.declared_bytes or 0,
                        },
                    },
                }
            ]
        }
    previous = STEPS[STEPS.index(step) - 1]
    state = record.failure.state.value if record.failure is not None else record.state.value
    # The shape of ``lambdas.steps.StepResult.to_payload`` (not imported: it would load the image core).
    result = {
        "step": previous,
        "image_id": record.image_id,
        "owner": record.owner,
        "state": state,
        "outcome": "done",
        "code": None,
        "bytes_saved": None,
        "duration_ms": 0.0,
    }
    return {"images": [result]}
