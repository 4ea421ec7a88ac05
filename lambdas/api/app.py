"""``create_app``: the FastAPI app over ``ApiServices``, with the web page at ``/``, the API reference at
``/docs`` (drawn from ``/openapi.json``) and their files under ``/static``.

API Gateway routes these without a key (``constructs_lib/pipeline_api.py``); they hold no data.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response

from lambdas.api import errors
from lambdas.api.body_limit import BodyLimit
from lambdas.api.organize import router as organize_router
from lambdas.api.routes import router
from lambdas.api.services import ApiServices, SignIn

WEB_DIR = files("lambdas.api") / "web"

#: The page loads only its own script and style; images and uploads may go to S3 (https) in AWS.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: blob: data:; "
    "connect-src 'self' https:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def content_security_policy(sign_in: SignIn | None) -> str:
    """``CONTENT_SECURITY_POLICY``, letting the page reach the managed login's token endpoint by name when
    the deployment has a user pool (``https:`` covers it in AWS; the name keeps it exact anywhere)."""
    if sign_in is None:
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(sign_in.login_url)
    return CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self' https:", f"connect-src 'self' https: {parts.scheme}://{parts.netloc}"
    )


#: What another origin's page may send: the API's methods and the headers its client sets.
CORS_METHODS = ("GET", "POST", "PATCH", "DELETE")
CORS_HEADERS = ("x-api-key", "content-type", "authorization")
#: Seconds a browser may reuse a preflight's answer.
CORS_MAX_AGE = 600


def _document_limits(app: FastAPI, services: ApiServices) -> None:
    """Put the deployment's limits into its OpenAPI document: a declared size above ``max_upload_bytes`` is
    a 413, so the schema says ``maximum`` (the models cannot: the limit is the host's setting)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            size = schema["components"]["schemas"]["UploadRequest"]["properties"]["size"]
            size["maximum"] = services.limits.max_upload_bytes
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    services: ApiServices,
    *,
    routers: tuple[APIRouter, ...] = (),
    streamed_bodies: Mapping[str, int] | None = None,
    cors_origins: tuple[str, ...] = (),
    title: str = "imgmgr",
) -> FastAPI:
    """The API; ``routers`` are the host's own routes (the local host's upload endpoint).

    ``cors_origins`` are other web origins whose pages may call the API (preflights answered, responses
    marked for them; credentials are the API key header, never cookies). Default: none.

    Request bodies are capped at ``services.limits.max_body_bytes`` except on the paths of
    ``streamed_bodies``, which bound their own (see ``BodyLimit``). Default: no such path.
    """
    app = FastAPI(
        title=title,
        version="1",
        summary="Upload images; find them by category and label.",
        openapi_url="/openapi.json",
        # The reference page is the app's own (web/docs.html): no CDN, relative links that work at a stage.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    _document_limits(app, services)
    errors.install(app)
    app.include_router(router)
    app.include_router(organize_router)
    for extra in routers:
        app.include_router(extra)
    # Added before the security headers so that its refusals carry them too (the last added runs first).
    app.add_middleware(BodyLimit, max_bytes=services.limits.max_body_bytes, streamed=streamed_bodies)
    if cors_origins:
        # Outside the body limit, so that its refusals reach the other page readable too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_HEADERS),
            allow_credentials=False,
            max_age=CORS_MAX_AGE,
        )

    @app.middleware("http")
    async def _security_headers(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path in ("/", "/docs") or request.url.path.startswith("/static/"):
            policy = content_security_policy(request.app.state.services.sign_in)
            response.headers.setdefault("Content-Security-Policy", policy)
        return response

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((WEB_DIR / "index.html").read_text(encoding="utf-8"))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse((WEB_DIR / "docs.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=str(WEB_DIR)), name="static")
    return app
