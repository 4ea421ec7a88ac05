"""API: the FastAPI app behind API Gateway (REST API, API keys), served by Mangum.

The app is built once per container over the same ports as the steps (``config.aws_ports``); API Gateway
has checked the key, so the owner is the key's id from the request context. Uploads are presigned S3
POSTs and renditions presigned GETs.
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import FastAPI
from mangum import Mangum

from lambdas import config
from lambdas.adapters.aws.upload_policy import S3Presigner
from lambdas.api import ApiLimits, ApiServices, create_app
from lambdas.api.auth import ApiGatewayAuthenticator

logger = Logger()

CURSOR_SECRET_ENV = "IMGMGR_CURSOR_SECRET"  # noqa: S105 - the name of the variable, not a secret


def cursor_secret(settings: config.Settings, environ: dict[str, str] | None = None) -> bytes:
    """``IMGMGR_CURSOR_SECRET``, else one derived from the deployment's names.

    The derived one is not secret, which costs little: every query is scoped to the caller's own images,
    so a forged cursor can only skip within them; the signature just keeps cursors opaque.
    """
    env = os.environ if environ is None else environ
    configured = env.get(CURSOR_SECRET_ENV, "")
    if configured:
        return configured.encode()
    logger.warning(f"{CURSOR_SECRET_ENV} is not set: cursors are signed with a key derived from resource names")
    return hashlib.sha256(f"imgmgr-cursor|{settings.bucket}|{settings.table}".encode()).digest()


@functools.cache
def app() -> FastAPI:
    """The app of this container."""
    settings = config.settings()
    ports = config.aws_ports()
    services = ApiServices(
        metadata=ports.metadata,
        objects=ports.objects,
        events=ports.events,
        clock=ports.clock,
        presigner=S3Presigner(settings.bucket),
        authenticator=ApiGatewayAuthenticator(),
        cursor_secret=cursor_secret(settings),
        limits=ApiLimits(max_upload_bytes=settings.max_upload_bytes),
    )
    return create_app(services)


@functools.cache
def _mangum() -> Mangum:
    # problem+json is text: without it Mangum would base64 the errors, and API Gateway (no binary media
    # types configured) would hand the client base64 text.
    return Mangum(
        app(),
        lifespan="off",
        text_mime_types=["application/json", "application/problem+json", "application/javascript", "text/css"],
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The same context object, typed by two libraries.
    return _mangum()(event, context)  # type: ignore[arg-type]
