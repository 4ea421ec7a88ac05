"""RFC 9457 ``application/problem+json`` errors with a stable, namespaced ``code``.

Every error the API answers with goes through :func:`problem`: routes raise :class:`ApiError`, domain
errors are mapped by class (never by message), framework errors (validation, unknown route, wrong method)
get codes too, and anything unexpected becomes a 500 that says nothing about the internals.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from lambdas.domain.errors import (
    ImgMgrError,
    InvalidEditError,
    InvalidKeyError,
    InvalidQueryError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:imgmgr:problem:"

logger = logging.getLogger("imgmgr.api")


class Problem(BaseModel):
    """The problem document (RFC 9457) with the system's stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str


class ApiError(Exception):
    """An error the API answers with: an HTTP status, a stable code and a human detail."""

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def problem(status: int, code: str, detail: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """The problem+json response."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


#: Domain errors by class, most specific first: (class, HTTP status).
_DOMAIN_STATUS: tuple[tuple[type[ImgMgrError], int], ...] = (
    (NotFoundError, 404),
    (InvalidEditError, 422),
    (InvalidKeyError, 400),
    (InvalidQueryError, 400),
    (ThrottledError, 503),
    (TransientError, 503),
    (PermanentError, 400),
)

_FRAMEWORK_CODES = {
    404: "Route.NotFound",
    405: "Method.NotAllowed",
    413: "Request.TooLarge",
}


@functools.cache
def _problem_schema() -> dict[str, Any]:
    # Generated once, not once per documented response: the routes document nine at import, and each
    # generation took ~4 ms of the API's cold start.
    return Problem.model_json_schema()


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response documented as problem+json (and only that)."""
    schema = copy.deepcopy(_problem_schema())
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}}}


#: Responses every authenticated route may give, for the OpenAPI document.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_response(description)
    for status, description in (
        (400, "Invalid request"),
        (401, "No API key"),
        (403, "API key unknown or revoked"),
        (422, "Request does not match the schema"),
        (500, "Unexpected error"),
        (503, "A dependency is unavailable: retry later"),
    )
}


def allowed_methods(request: Request) -> list[str]:
    """Every method of every route whose path matches the request's, sorted."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods.update(route.methods)
    return sorted(methods)


#: Request fields in words, for validation errors a person reads.
FIELD_WORDS = {
    "size": "file size",
    "filename": "file name",
    "content_type": "file type",
    "sha256": "file checksum (SHA-256)",
    "limit": "page size",
    "cursor": "page cursor",
    "status": "status",
    "category": "category",
    "label": "label",
    "from": "start date",
    "to": "end date",
    "figure": "figure",
    "favorite": "favorite mark",
    "album": "album",
    "add_tags": "list of tags to add",
    "remove_tags": "list of tags to remove",
    "tags": "list of tags",
    "image_ids": "list of image ids",
    "action": "action",
    "album_id": "album id",
    "name": "album name",
    "cover_image_id": "cover image id",
}
#: One item of a list field in words (the list's own words name the whole list).
ITEM_WORDS = {"add_tags": "tag to add", "remove_tags": "tag to remove", "tags": "tag", "image_ids": "image id"}


def plain_validation_error(error: Mapping[str, Any]) -> str:
    """One validation error as a sentence naming the field in words ("The file is empty.")."""
    location = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    field = location[-1] if len(location) > 1 else ""
    words = FIELD_WORDS.get(field, f"field \u201c{field}\u201d" if field else "request body")
    raw = tuple(error.get("loc", ()))
    if raw and isinstance(raw[-1], int) and field in ITEM_WORDS:
        words = ITEM_WORDS[field]
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if field == "size" and kind in ("greater_than_equal", "greater_than"):
        return "The file is empty."
    if kind == "missing":
        return f"The {words} is missing."
    if kind == "extra_forbidden":
        return f"The request has a field it should not have: \u201c{field}\u201d."
    if kind == "string_too_short":
        return f"The {words} is empty."
    if kind == "string_too_long":
        return f"The {words} is too long (at most {context.get('max_length')} characters)."
    if kind == "too_short":
        return f"The {words} needs at least {context.get('min_length')} item(s)."
    if kind == "too_long":
        return f"The {words} has too many items (at most {context.get('max_length')})."
    if field == "sha256" and kind == "string_pattern_mismatch":
        return "The file checksum (SHA-256) must be 64 hexadecimal digits."
    if kind in ("greater_than_equal", "greater_than"):
        return f"The {words} must be at least {context.get('ge', context.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"The {words} must be at most {context.get('le', context.get('lt'))}."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"The {words} must be a whole number."
    if kind == "enum":
        return f"The {words} must be one of: {context.get('expected')}."
    if kind in ("json_invalid", "model_attributes_type", "dict_type"):
        return "The request body is not a valid JSON object."
    return f"The {words} is not valid ({error.get('msg', 'invalid')})."


def _is_filename_pattern(error: Mapping[str, Any]) -> bool:
    return tuple(error.get("loc", ())) == ("body", "filename") and error.get("type") == "string_pattern_mismatch"


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into problem+json."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, headers=exc.headers)

    @app.exception_handler(ImgMgrError)
    async def _domain_error(_request: Request, exc: ImgMgrError) -> JSONResponse:
        status = next((s for cls, s in _DOMAIN_STATUS if isinstance(exc, cls)), 500)
        headers = {"Retry-After": "1"} if status == 503 else None
        if status >= 500:
            logger.warning("dependency error %s: %s", exc.code, exc.message)
        return problem(status, exc.code, exc.message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if errors and all(_is_filename_pattern(error) for error in errors):
            # The schema's pattern refuses what ``naming.display_name`` would: the same code and words.
            return problem(
                422,
                "Upload.FilenameInvalid",
                "filename must not contain control or text-direction characters, nor end in a separator or space",
            )
        # In words a person can act on ("The file is empty."): the page and the CLI show the detail as it is.
        details = dict.fromkeys(plain_validation_error(error) for error in errors[:5])
        return problem(422, "Request.Invalid", " ".join(details) or "The request does not match the schema.")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _FRAMEWORK_CODES.get(exc.status_code, f"Http.{exc.status_code}")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route that matched the path only (GET of
            # /v1/images/{id}, not its DELETE): RFC 9110 asks for every method the resource has.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(exc.status_code, code, str(exc.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=exc)
        return problem(500, "Server.Internal", "an unexpected error occurred")
