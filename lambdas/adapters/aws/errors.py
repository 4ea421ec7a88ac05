"""Translation of botocore faults into the domain's errors, by error code (never by message text)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from lambdas.domain.errors import DependencyError, ImgMgrError, PermanentError, ThrottledError, TransientError

#: Error codes that mean "slow down": retry later.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TooManyRequestsException",
        "LimitExceededException",
        "SlowDown",
    }
)

#: Error codes of faults on the service's side, or contention: retry later.
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)

#: Access denied is transient here: the cost brake denies the pipeline roles until the operator lifts
#: it, and the events wait in the dead-letter queue for a redrive. ``"403"``/``"Forbidden"`` are what
#: botocore reports for a ``HeadObject`` refusal (a HEAD response has no body; S3 also answers a HEAD of a
#: missing key with 403 when the caller may not list the bucket).
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"})


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ``ClientError`` (``""`` when absent)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: ClientError | BotoCoreError, action: str) -> ImgMgrError:
    """The domain error for a botocore fault raised while doing ``action`` (``"s3:GetObject"``)."""
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return DependencyError(f"{action}: {type(exc).__name__}")
    if isinstance(exc, BotoCoreError):
        return DependencyError(f"{action}: {type(exc).__name__}")
    code = error_code(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in THROTTLING_CODES or status == 429:
        return ThrottledError(f"{action} throttled ({code})")
    if code in TRANSIENT_CODES or status >= 500:
        return DependencyError(f"{action} failed on the service side ({code or status})")
    if code in DENIED_CODES:
        return TransientError(f"{action} denied ({code})", code="Dependency.AccessDenied")
    return PermanentError(f"{action} refused ({code or status})", code=f"AWS.{code or status}")
