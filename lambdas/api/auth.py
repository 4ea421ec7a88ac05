"""The AWS host's ``Authenticator``: API Gateway checked the key (or the user pool's token); the owner is
the key's id (or the token's ``sub``).

API Gateway (REST API, ``apiKeyRequired``) refuses a request without a valid key before the Lambda runs;
Mangum passes the event in the ASGI scope, whose ``requestContext.identity.apiKeyId`` names the key.
With a user pool (``ImagePipelineProps.cognito``), a Cognito authorizer checked the ``Authorization``
token and put its claims in ``requestContext.authorizer.claims``: the owner is the ``sub`` claim, never
the key (which may be shared by many users, or absent). A request without the identity its deployment
uses (the function invoked some other way) is refused.
"""

from __future__ import annotations

import re

from starlette.requests import Request

from lambdas.api.errors import ApiError

_SAFE_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@=+-]{0,127}$")


class ApiGatewayAuthenticator:
    """Owner = ``requestContext.identity.apiKeyId`` of the API Gateway event (optionally a Cognito subject)."""

    def __init__(self, *, use_cognito_subject: bool = False) -> None:
        self.use_cognito_subject = use_cognito_subject

    def owner(self, request: Request) -> str:
        event = request.scope.get("aws.event") or {}
        context = event.get("requestContext") or {}
        if self.use_cognito_subject:
            claims = (context.get("authorizer") or {}).get("claims") or {}
            owner = claims.get("sub")
            if not owner:
                raise ApiError(401, "Auth.MissingToken", "a token of the user pool is required (header Authorization)")
        else:
            owner = (context.get("identity") or {}).get("apiKeyId")
        if not owner:
            raise ApiError(401, "Auth.MissingKey", "an API key is required (header x-api-key)")
        if not isinstance(owner, str) or not _SAFE_OWNER.match(owner):
            raise ApiError(403, "Auth.InvalidKey", "the caller's identity cannot own images")
        return owner
