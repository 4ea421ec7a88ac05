"""Connection limits and timeouts for ``imgmgr serve``, which uvicorn does not have.

uvicorn closes a connection that stays idle *after* a response (``timeout_keep_alive``), and nothing else:
a client that connects and sends nothing, sends its headers a byte at a time, or stops half way through a
body keeps its connection (and a file descriptor) for as long as it likes, and ``limit_concurrency`` only
answers 503 once a request's headers are complete, so half-sent requests are never counted. With the
server bound beyond localhost, a few thousand of them exhaust its descriptors.

``GuardedHttpToolsProtocol`` is uvicorn's httptools protocol with what is missing:

- a new connection must start a request within ``idle_timeout`` (uvicorn's keep-alive timer, armed on
  connect too);
- a request's line and headers must be complete within ``header_timeout`` of its first byte (408);
- while the app waits for the body, a pause longer than ``body_timeout`` ends the request (408, or a
  plain close once a response has started); time the server itself stops reading (flow control) does not
  count against the client;
- at most ``max_connections`` are open at once: one more takes the place of the connection that has waited
  longest for a request (idle, or still sending its head), else of the one whose body has stalled longest
  (for a second or more), or, when every one is being served, is answered 503 and closed;
- a response sent before its request's body has arrived (a refusal) closes the connection after a short
  linger, instead of uvicorn's reading and discarding the rest of the body, however long it is.

Each of these is logged at debug level only: under a flood, a line per connection would cost more than
the connection.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Seconds without a body byte (at most half the body timeout) after which, at the connection cap, a request
#: may lose its connection to a newcomer (a client that is sending has sent something much more recently).
STALLED_SECONDS = 1.0
#: Seconds a refused request's connection still reads (and drops) what the client is sending, so that the
#: client sees the answer rather than a reset, before it is closed.
LINGER_SECONDS = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLimits:
    """Timeouts and the connection cap of the local HTTP server."""

    header_timeout: float = 10.0
    """Seconds a client has to send a request's line and headers, from their first byte. Default: 10."""

    body_timeout: float = 30.0
    """Longest pause in a request's body while the server waits for it, in seconds. Default: 30."""

    idle_timeout: float = 5.0
    """Seconds a connection may stay open without a request, before the first one and between them.
    Default: 5 (uvicorn's keep-alive timeout)."""

    max_connections: int = 256
    """Connections open at once; one more closes the one that has waited longest for a request (or whose
    body has stalled longest), or is answered 503 when all are being served. Default: 256."""

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "idle_timeout"):
            if not 0 < getattr(self, name) <= 3600:
                raise ValueError(f"{name} must be more than 0 and at most 3600 seconds")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")


def _problem(status: int, title: str, code: str, detail: str) -> bytes:
    """A complete ``Connection: close`` response carrying a problem document (as the API's errors do)."""
    body = json.dumps(
        {"type": f"urn:imgmgr:problem:{code}", "title": title, "status": status, "detail": detail, "code": code}
    )
    return (
        f"HTTP/1.1 {status} {title}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n{body}"
    ).encode()


class _WatchedFlow(FlowControl):
    """uvicorn's flow control, telling its connection when the server resumes reading."""

    def __init__(self, transport: asyncio.Transport, on_resume: Any) -> None:
        super().__init__(transport)
        self._on_resume = on_resume

    def resume_reading(self) -> None:
        if self.read_paused:
            self._on_resume()
        super().resume_reading()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of ``limits`` (set by :func:`protocol_for`)."""

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.idle_timeout  # type: ignore[assignment]  # uvicorn types it int
        self._guard: asyncio.TimerHandle | None = None
        self._in_head = False
        self._awaiting_body = False
        self._lingering = False
        self._waiting_since = 0.0

    # --- timers ---------------------------------------------------------------------------------------
    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._guard = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def _header_timed_out(self) -> None:
        self._guard = None
        self.logger.debug("closing a connection whose request headers took over %s s", self.limits.header_timeout)
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request's head: an answer now would cut into the response being sent.
            self.transport.close()
            return
        self._refuse(_problem(408, "Request Timeout", "Request.Timeout", "the request headers came too slowly"))

    def _body_timed_out(self) -> None:
        self._guard = None
        if self.flow.read_paused:
            # The server is not reading: the client cannot send, so its time has not started.
            self._arm(self.limits.body_timeout, self._body_timed_out)
            return
        self.logger.debug("closing a connection whose request body paused for over %s s", self.limits.body_timeout)
        if self.cycle is not None and not self.cycle.response_started:
            self._refuse(_problem(408, "Request Timeout", "Request.Timeout", "the request body stopped arriving"))
        elif not self.transport.is_closing():
            self.transport.close()

    def _body_progress(self) -> None:
        if self._awaiting_body:
            self._waiting_since = self.loop.time()
            self._arm(self.limits.body_timeout, self._body_timed_out)

    # --- connection -----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _WatchedFlow(transport, self._body_progress)
        self._waiting_since = self.loop.time()
        if len(self.connections) > self.limits.max_connections and not self._evict_one():
            self.logger.debug("refusing a connection: %d are open", len(self.connections) - 1)
            self._refuse(_problem(503, "Service Unavailable", "Server.Busy", "too many connections are open"))
            return
        # uvicorn arms its keep-alive timer only after a response: a connection that never sends is idle too.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def _waiting_for_request(self) -> bool:
        """Idle, or part way through a request's head: no request of this connection is being served."""
        return not self._awaiting_body and (self.cycle is None or self.cycle.response_complete)

    def _stalled_body(self, now: float) -> bool:
        """Waiting for a body that has sent nothing for ``STALLED_SECONDS`` (or half the body timeout) while the
        server was reading."""
        stalled = min(STALLED_SECONDS, self.limits.body_timeout / 2)
        return self._awaiting_body and not self.flow.read_paused and now - self._waiting_since >= stalled

    def _evict_one(self) -> bool:
        """Make room for this connection by closing another: the one that has waited longest for a request
        (idle or sending its head), else the one whose body has been stalled longest; whether there was one.
        A request whose body is arriving, or that is being answered, keeps its connection."""
        now = self.loop.time()
        others = [
            other
            for other in self.connections
            if other is not self and isinstance(other, GuardedHttpToolsProtocol) and not other.transport.is_closing()
        ]
        candidates = [other for other in others if other._waiting_for_request()]
        candidates = candidates or [other for other in others if other._stalled_body(now)]
        if not candidates:
            return False
        oldest = min(candidates, key=lambda other: other._waiting_since)
        self.logger.debug("closing the connection that waited longest to make room for a new one")
        oldest._disarm()
        oldest.transport.close()
        # Closed now, but it leaves ``connections`` only when the loop reports the loss.
        self.connections.discard(oldest)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        if not self._in_head and not self._awaiting_body and (self.cycle is None or self.cycle.response_complete):
            # Bytes that start no request yet (blank lines) still start the clock of one.
            self._arm(self.limits.header_timeout, self._header_timed_out)
        super().data_received(data)

    # --- parser callbacks -----------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._arm(self.limits.header_timeout, self._header_timed_out)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._awaiting_body = True
            self._body_progress()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_progress()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_body = False
        self._disarm()

    def on_response_complete(self) -> None:
        if self._awaiting_body and not self.transport.is_closing():
            # Answered before the body arrived (a refusal): stop reading it rather than drain it to the end.
            self._awaiting_body = False
            self._lingering = True
            self.server_state.total_requests += 1
            self.flow.resume_reading()
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self._arm(LINGER_SECONDS, self.transport.close)
            return
        self._waiting_since = self.loop.time()
        super().on_response_complete()


def protocol_for(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to give uvicorn (``Config(http=...)``) for ``limits``."""
    return type("ConfiguredHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
