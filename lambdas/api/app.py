"""``create_app``: the FastAPI app over ``ApiServices``, with the web page at ``/`` and its files under ``/static``.

API Gateway routes ``/`` and ``/static/{proxy+}`` without a key (``constructs_lib/pipeline_api.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import Response

from lambdas.api import errors
from lambdas.api.body_limit import BodyLimit
from lambdas.api.routes import router
from lambdas.api.services import ApiServices

WEB_DIR = files("lambdas.api") / "web"

#: The page loads only its own script and style; images and uploads may go to S3 (https) in AWS.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: blob: data:; "
    "connect-src 'self' https:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    services: ApiServices,
    *,
    routers: tuple[APIRouter, ...] = (),
    streamed_bodies: Mapping[str, int] | None = None,
    title: str = "imgmgr",
) -> FastAPI:
    """The API; ``routers`` are the host's own routes (the local host's upload endpoint).

    Request bodies are capped at ``services.limits.max_body_bytes`` except on the paths of
    ``streamed_bodies``, which bound their own (see ``BodyLimit``). Default: no such path.
    """
    app = FastAPI(
        title=title,
        version="1",
        summary="Upload images; find them by category and label.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    app.include_router(router)
    for extra in routers:
        app.include_router(extra)
    # Added before the security headers so that its refusals carry them too (the last added runs first).
    app.add_middleware(BodyLimit, max_bytes=services.limits.max_body_bytes, streamed=streamed_bodies)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next) -> Response:  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path == "/" or request.url.path.startswith("/static/"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((WEB_DIR / "index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=str(WEB_DIR)), name="static")
    return app
