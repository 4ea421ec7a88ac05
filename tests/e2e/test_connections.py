"""A running server bounds its connections: idle, slow-header, slow-body and half-sent ones are closed in
time, and no more than ``--max-connections`` are held at once (raw sockets against ``imgmgr serve``)."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.e2e.support import Server

#: Short limits, so that each test takes a few seconds; the defaults are in ``imgmgr serve --help``.
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
IDLE_TIMEOUT = 1.0
MAX_CONNECTIONS = 40
#: How long past a timeout the server may take to act on it (two shared cores, a loaded machine).
SLACK = 3.0


class Guarded(Server):
    """The server of this module, with what it holds at rest."""

    at_rest = 0

    def settle(self, timeout: float = SLACK) -> None:
        """Wait until the connections of earlier tests are gone."""
        deadline = time.monotonic() + timeout
        while self.open_descriptors() > self.at_rest and time.monotonic() < deadline:
            time.sleep(0.05)


def _guarded_server(tmp_path_factory, *, body_timeout: float):
    root = tmp_path_factory.mktemp("connections")
    data_dir = root / "data"
    data_dir.mkdir()
    options = (
        f"--header-timeout={HEADER_TIMEOUT}",
        f"--body-timeout={body_timeout}",
        f"--idle-timeout={IDLE_TIMEOUT}",
        f"--max-connections={MAX_CONNECTIONS}",
    )
    server = Guarded(data_dir, root / "serve.log", workers=1, options=options)
    try:
        server.start()
        time.sleep(0.5)
        server.at_rest = server.open_descriptors()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def server_of_module(tmp_path_factory):
    yield from _guarded_server(tmp_path_factory, body_timeout=BODY_TIMEOUT)


@pytest.fixture(scope="module")
def patient(tmp_path_factory):
    """A server whose body timeout (8 s) is far from the stall after which a body gives way at the cap
    (STALLED_SECONDS, 1 s): on a loaded machine a stalled body must not reach its 408 first."""
    yield from _guarded_server(tmp_path_factory, body_timeout=8.0)


@pytest.fixture
def guarded(server_of_module):
    # One server for the module (starting one takes seconds); each test starts from its state at rest.
    server_of_module.settle()
    return server_of_module


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received, time.monotonic() - started


def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(guarded):
    # GIVEN a connection that sends nothing WHEN waiting THEN the server closes it, silently, in time
    with _connect(guarded) as sock:
        received, waited = _read_until_closed(sock, IDLE_TIMEOUT + SLACK)
    assert received == b""
    assert IDLE_TIMEOUT * 0.8 <= waited < IDLE_TIMEOUT + SLACK


def test_headers_sent_slowly_get_408_after_the_header_timeout(guarded):
    with _connect(guarded) as sock:
        # GIVEN a request line and then one header byte every 0.2 s, which never ends
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n")
        started = time.monotonic()
        sock.setblocking(False)
        closed = False
        while time.monotonic() - started < HEADER_TIMEOUT + SLACK and not closed:
            try:
                sock.send(b"X")
            except OSError:
                closed = True
            time.sleep(0.2)
        sock.setblocking(True)
        # THEN the server answers 408 and closes, although every byte came well within the idle timeout
        received, _ = _read_until_closed(sock, SLACK)
    assert time.monotonic() - started < HEADER_TIMEOUT + 2 * SLACK
    assert received.startswith(b"HTTP/1.1 408 ")
    assert b"Request.Timeout" in received


def test_a_body_that_stops_arriving_gets_408_after_the_body_timeout(guarded):
    with _connect(guarded) as sock:
        # GIVEN a POST declaring 1,000 bytes of which 10 are sent
        sock.sendall(
            b"POST /v1/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"filename"'[:10]
        )
        # WHEN nothing more comes THEN the server answers 408 and closes after the body timeout
        received, waited = _read_until_closed(sock, BODY_TIMEOUT + SLACK)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert BODY_TIMEOUT * 0.8 <= waited < BODY_TIMEOUT + SLACK


def test_a_body_that_keeps_arriving_is_not_cut_by_the_body_timeout(guarded):
    # GIVEN a body sent in pieces over three body timeouts, none of its pauses as long as one
    with _connect(guarded) as sock:
        body = b'{"filename": "a.png", "content_type": "image/png", "size": 1, "sha256": "' + b"0" * 64 + b'"}'
        sock.sendall(
            b"POST /v1/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        pieces = [body[i : i + 10] for i in range(0, len(body), 10)]
        pause = 3 * BODY_TIMEOUT / len(pieces)
        for piece in pieces:
            time.sleep(pause)
            sock.sendall(piece)
        # THEN the request is answered by the app (no key: 401), not timed out
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 401 ")


def test_many_half_sent_requests_hold_a_bounded_number_of_descriptors_and_are_closed(guarded):
    # GIVEN the server's descriptors at rest
    at_rest = guarded.at_rest
    # WHEN five times the connection cap of clients each send half a request and wait
    sockets = []
    try:
        for _ in range(5 * MAX_CONNECTIONS):
            sock = _connect(guarded)
            sock.sendall(b"POST /v1/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Le")
            sockets.append(sock)
        time.sleep(0.3)
        # THEN the server holds at most the cap of them (each newcomer takes the place of the oldest)
        held = guarded.open_descriptors() - at_rest
        assert held <= MAX_CONNECTIONS + 2
        # AND a real request is still served meanwhile
        assert httpx.get(f"{guarded.url}/v1/health", timeout=5).status_code == 200
        # AND after the header timeout it holds none of them
        deadline = time.monotonic() + HEADER_TIMEOUT + SLACK
        while guarded.open_descriptors() > at_rest and time.monotonic() < deadline:
            time.sleep(0.1)
        assert guarded.open_descriptors() <= at_rest
    finally:
        for sock in sockets:
            sock.close()


def test_at_the_cap_a_newcomer_takes_the_place_of_the_longest_idle_connection(guarded):
    sockets = [_connect(guarded) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        # GIVEN the cap reached by idle connections WHEN one more client asks THEN it is served
        assert httpx.get(f"{guarded.url}/v1/health", timeout=5).status_code == 200
        # AND the first idle connection is the one that was closed
        received, waited = _read_until_closed(sockets[0], SLACK)
        assert (received, waited < IDLE_TIMEOUT) == (b"", True)
    finally:
        for sock in sockets:
            sock.close()


def _bodies_arriving(server: Server, count: int) -> list[socket.socket]:
    """``count`` connections whose POST bodies have begun (one byte of 1,000 each)."""
    head = (
        b"POST /v1/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    sockets = []
    for _ in range(count):
        sock = _connect(server)
        sock.sendall(head + b"{")
        sockets.append(sock)
    return sockets


def test_at_the_cap_of_bodies_arriving_a_newcomer_is_answered_503(guarded):
    sockets = _bodies_arriving(guarded, MAX_CONNECTIONS)
    try:
        # GIVEN the cap reached by requests whose bodies are arriving (each has just sent a byte)
        for sock in sockets:
            sock.sendall(b" ")
        # WHEN one more client connects THEN it is told the server is busy and closed; none is cut
        with _connect(guarded) as extra:
            received, _ = _read_until_closed(extra, SLACK)
        assert received.startswith(b"HTTP/1.1 503 ")
        assert b"Server.Busy" in received
    finally:
        for sock in sockets:
            sock.close()


def test_at_the_cap_of_stalled_bodies_a_newcomer_takes_the_place_of_the_longest_stalled(patient):
    from imgmgr.http_guard import STALLED_SECONDS

    sockets = _bodies_arriving(patient, MAX_CONNECTIONS)
    try:
        # GIVEN the cap reached by requests whose bodies are arriving, of which the first then stalls for
        # longer than STALLED_SECONDS while the others keep sending
        time.sleep(STALLED_SECONDS)
        for sock in sockets[1:]:
            sock.sendall(b" ")
        time.sleep(STALLED_SECONDS * 0.6)
        # WHEN one more client asks THEN it is served
        assert httpx.get(f"{patient.url}/v1/health", timeout=5).status_code == 200
        # AND the first stalled request lost its connection (closed at once, not timed out with a 408)
        received, _ = _read_until_closed(sockets[0], SLACK)
        assert received == b""
    finally:
        for sock in sockets:
            sock.close()
