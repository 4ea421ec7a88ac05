"""``BodyLimit``: an ASGI middleware that refuses a request body over a cap before anything buffers it.

FastAPI reads a route's whole body before it runs the dependencies, so without a cap an unauthenticated
client could make the server hold any number of bytes before the key is even looked at. A declared
``Content-Length`` over the cap is refused at once, without reading the body; a body without one (chunked)
is counted as it arrives and refused as soon as the count passes the cap. Either way the answer is a 413
problem+json with the code ``Request.TooLarge``.

Starlette's own ``RequestBodyLimitMiddleware`` only refuses when the app reads the body and answers in
plain text when the app responds first; this one refuses up front and always with a problem document.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lambdas.api.errors import problem

#: What every route accepts unless the host says otherwise: the API's JSON bodies are a few hundred bytes.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
TOO_LARGE_CODE = "Request.TooLarge"


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once the body passes the cap (an ``HTTPException`` so that FastAPI's body
    parsing lets it through to the problem+json handler instead of answering 400)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class BodyLimit:
    """Refuse bodies over ``max_bytes`` (default ``DEFAULT_MAX_BODY_BYTES``) on every path.

    ``streamed`` maps exact paths that check their own ``Content-Length`` and read their body as a stream
    (the local upload endpoint) to the most bytes they may receive: on those only the bytes received are
    counted, so the route keeps answering a declared size with its own code. Default: none.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES, streamed: Mapping[str, int] | None = None
    ) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        cap = self.streamed.get(path, self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if path not in self.streamed and declared.isdigit() and int(declared) > cap:
            await _refuse(cap, scope, receive, send)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLargeError(cap)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLargeError:
            # The app let it through without answering (no exception handler): answer here if still possible.
            if started:
                raise
            await _refuse(cap, scope, receive, send)


async def _refuse(max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(413, TOO_LARGE_CODE, f"the request body is larger than {max_bytes} bytes")
    await response(scope, receive, send)
