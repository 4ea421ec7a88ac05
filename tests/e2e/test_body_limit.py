"""A running server refuses an unauthenticated big body while it arrives, over a real socket."""

from __future__ import annotations

import select
import socket

#: How much the client is prepared to send; the server must answer long before.
OFFERED_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 16 * 1024


def _status_line(sock: socket.socket) -> str:
    sock.settimeout(10)
    return sock.recv(4096).split(b"\r\n", 1)[0].decode()


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def test_a_chunked_body_without_key_is_refused_while_it_arrives(server):
    server.start()
    with _connect(server) as sock:
        # GIVEN a chunked POST (no Content-Length) of up to 64 MiB without a key
        sock.sendall(
            b"POST /v1/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = f"{CHUNK_BYTES:x}\r\n".encode() + b"x" * CHUNK_BYTES + b"\r\n"
        sent = 0
        # WHEN sending it chunk by chunk until the server answers
        while sent < OFFERED_BYTES:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += CHUNK_BYTES
        # THEN the answer is 413, and it came after a small part of the body
        assert _status_line(sock).startswith("HTTP/1.1 413 ")
        assert sent < 8 * 1024 * 1024


def test_a_declared_big_body_without_key_is_refused_before_it_is_sent(server):
    server.start()
    with _connect(server) as sock:
        # GIVEN a POST declaring 300 MiB WHEN only its headers are sent THEN the server answers 413 at once
        sock.sendall(
            b"POST /v1/uploads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 314572800\r\n\r\n"
        )
        assert _status_line(sock).startswith("HTTP/1.1 413 ")
