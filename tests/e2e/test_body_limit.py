"""A running server refuses an unauthenticated big body while it arrives, over a real socket."""

from __future__ import annotations

import select
import socket

#: How much the client is prepared to send; the server must answer long before.
OFFERED_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 16 * 1024


def _readable(sock: socket.socket) -> bool:
    """Whether the server has sent something (poll: no limit on the descriptor's number, unlike select)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


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
            if _readable(sock):
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


def test_a_big_upload_with_a_bogus_policy_is_refused_before_its_file_is_read(server):
    server.start()
    # GIVEN a POST to the upload endpoint declaring 100 MiB: forged policy and signature, then the file part
    boundary = "imgmgr-e2e-boundary"
    fields = {"key": "uploads/e2e/abc/a.png", "Content-Type": "image/png", "policy": "e30=", "x-imgmgr-signature": "0"}
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n' for n, v in fields.items()
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    declared = 100 * 1024 * 1024
    with _connect(server) as sock:
        sock.sendall(
            b"POST /local/uploads HTTP/1.1\r\nHost: localhost\r\n"
            + f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n".encode()
            + head.encode()
        )
        chunk = b"\x00" * CHUNK_BYTES
        sent = 0
        # WHEN the file is sent chunk by chunk until the server answers
        while sent < declared - len(head) - CHUNK_BYTES:
            if _readable(sock):
                break
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += CHUNK_BYTES
        # THEN the answer is 403 for the signature, and it came after a small part of the file
        answer = _status_line(sock)
    assert answer.startswith("HTTP/1.1 403 "), answer
    assert sent < 8 * 1024 * 1024
