"""botocore faults become domain errors by code."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from lambdas.adapters.aws.errors import translate
from lambdas.domain.errors import DependencyError, PermanentError, ThrottledError, TransientError


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ProvisionedThroughputExceededException", 400, ThrottledError),
        ("SlowDown", 503, ThrottledError),
        ("InternalServerError", 500, DependencyError),
        ("AccessDeniedException", 400, TransientError),
        ("403", 403, TransientError),
        ("ValidationException", 400, PermanentError),
    ],
)
def test_client_errors_map_by_code(code, status, kind):
    assert isinstance(translate(_client_error(code, status), "x:Y"), kind)


def test_a_read_timeout_is_transient():
    error = translate(ReadTimeoutError(endpoint_url="https://s3"), "s3:GetObject")
    assert isinstance(error, DependencyError)
    assert error.code == "Dependency.Unavailable"
