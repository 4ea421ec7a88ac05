"""API: the FastAPI app behind API Gateway (REST API, API keys), served by Mangum.

The app is built once per container over the same ports as the steps (``config.aws_ports``); API Gateway
has checked the key (and with a user pool the token), so the owner is the key's id (or the token's
``sub``) from the request context. Uploads are presigned S3
POSTs and renditions presigned GETs; a failed image's retry invokes its failed step's function.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from lambdas.handlers.coldstart import loading

with loading():
    from aws_lambda_powertools import Logger
    from fastapi import FastAPI
    from mangum import Mangum

    from lambdas import config
    from lambdas.api import ApiLimits, ApiServices, create_app
    from lambdas.api.auth import ApiGatewayAuthenticator
    from lambdas.api.services import SignIn

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from lambdas.analytics.figures import CachedFigures
    from lambdas.ports import Retrier

logger = Logger()


def cursor_secret(settings: config.Settings) -> bytes:
    """``IMGMGR_CURSOR_SECRET`` when set, else the deployment's random secret kept in its table.

    The first container creates that one (32 random bytes, a conditional put: the first writer wins) and
    every other reads it, so a cursor signed by one container opens in any other.
    """
    if settings.cursor_secret:
        return settings.cursor_secret.encode()
    from lambdas.adapters.aws.shared_secret import CURSOR_SECRET_NAME, DynamoSharedSecret

    return DynamoSharedSecret(settings.table, CURSOR_SECRET_NAME, client=config.client("dynamodb")).get_or_create()


@functools.cache
def app() -> FastAPI:
    """The app of this container."""
    # The boto3 adapters load here, with the clients they wrap (as ``config.aws_ports`` loads its own):
    # boto3, its s3transfer and botocore's client machinery were ~170 of the ~760 ms CPU that importing
    # this module took (2-core test machine under load). The first request pays for them instead.
    from lambdas.adapters.aws.upload_policy import S3Presigner

    settings = config.settings()
    ports = config.aws_ports()
    services = ApiServices(
        metadata=ports.metadata,
        objects=ports.objects,
        events=ports.events,
        clock=ports.clock,
        presigner=S3Presigner(settings.bucket),
        authenticator=ApiGatewayAuthenticator(use_cognito_subject=settings.uses_cognito),
        sign_in=sign_in(settings),
        cursor_secret=cursor_secret(settings),
        limits=ApiLimits(max_upload_bytes=settings.max_upload_bytes),
        analytics=analytics(settings),
        retrier=retrier(settings),
    )
    return create_app(services, cors_origins=settings.cors_origins)


def sign_in(settings: config.Settings) -> SignIn | None:
    """The user pool the page signs in with when the deployment has one, else None."""
    if not settings.uses_cognito:
        return None
    return SignIn(
        login_url=settings.cognito_login_url,
        client_id=settings.cognito_client_id,
        api_key_required=settings.cognito_api_key_required == "true",
    )


def retrier(settings: config.Settings) -> Retrier | None:
    """The retry of failed images over the step functions when the deployment names them, else None."""
    functions = settings.step_functions()
    if not functions:
        return None
    from lambdas.adapters.aws.retrier import LambdaRetrier

    return LambdaRetrier(functions, bucket=settings.bucket, client=config.client("lambda"))


def analytics(settings: config.Settings) -> CachedFigures | None:
    """The usage figures over Athena when the deployment has an analytics lake, else None."""
    if not settings.analytics_workgroup:
        return None
    from lambdas.adapters.aws.athena import AthenaAnalytics
    from lambdas.analytics.figures import CachedFigures
    from lambdas.contract import EVENTS_TABLE

    engine = AthenaAnalytics(
        workgroup=settings.analytics_workgroup,
        database=settings.analytics_database,
        table=EVENTS_TABLE,
        client=config.client("athena"),
        timeout_seconds=settings.analytics_timeout_seconds,
    )
    return CachedFigures(engine)


#: Response types Mangum returns as text. Anything else it base64-encodes, and API Gateway (no binary
#: media types configured) would hand the client base64 text: the page (``text/html``), its script
#: (``text/javascript`` from Python 3.12's mimetypes) and style, and problem+json errors must all be here.
#: Mangum matches by substring of the content type, so ``text/`` covers every text type.
TEXT_MIME_TYPES = ("text/", "application/json", "application/problem+json", "application/javascript")


@functools.cache
def _mangum() -> Mangum:
    # The first request builds the app: boto3, its clients' service models and the app are as long-lived as
    # the imports, and without the pause a full collection over all of them ran in that request.
    with loading():
        return Mangum(app(), lifespan="off", text_mime_types=list(TEXT_MIME_TYPES))


def stage_root_redirect(event: dict[str, Any]) -> dict[str, Any] | None:
    """A redirect of ``GET /<stage>`` to ``/<stage>/``, for a REST proxy event of the stage root without
    its trailing slash; ``None`` for any other request.

    API Gateway routes both to the root resource, but a browser resolves the page's relative links
    (``static/app.js``, ``v1/images``) against ``/<stage>`` as if the stage were a file: outside the stage.
    The ``Location`` is relative (``<stage>/``), so it holds behind any host name.
    """
    request = event.get("requestContext") or {}
    stage = request.get("stage")
    if (
        not stage
        or event.get("resource") != "/"
        or event.get("httpMethod") not in ("GET", "HEAD")
        or request.get("path") != f"/{stage}"
    ):
        return None
    return {"statusCode": 301, "headers": {"Location": f"{stage}/"}, "body": ""}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    redirect = stage_root_redirect(event)
    if redirect is not None:
        return redirect
    # The same context object, typed by two libraries.
    return _mangum()(event, context)  # type: ignore[arg-type]
