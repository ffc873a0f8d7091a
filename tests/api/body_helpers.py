"""Helpers for the body-size tests: an app served by uvicorn over real HTTP, a raw-socket
chunked POST that stops sending as soon as the server answers, and an in-process ASGI POST
that counts how many body chunks the application pulled."""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

CHUNK = 64 * 1024


@contextlib.contextmanager
def served(app) -> Iterator[int]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def _status(sock: socket.socket) -> int:
    sock.settimeout(10)
    data = b""
    while b"\r\n" not in data:
        part = sock.recv(4096)
        if not part:
            break
        data += part
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


def post_raw(port: int, path: str, headers: dict[str, str], total: int, chunked: bool,
             prefix: bytes = b"") -> tuple[int, int]:
    """POST ``total`` bytes (declared with Content-Length, or chunked without it), the first
    ones ``prefix``, stopping as soon as the server answers or closes: (status, body bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(total)}
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in (headers | framing).items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    payload = b"x" * CHUNK
    try:
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered (or closed) before the body's end
            data = (prefix if sent == 0 and prefix else payload)[: min(CHUNK, total - sent)]
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            sent += len(data)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        return _status(sock), sent
    except (BrokenPipeError, ConnectionResetError):
        try:
            return _status(sock), sent
        except OSError:
            return 0, sent
    finally:
        sock.close()


def asgi_post(app, path: str, headers: dict[str, str], chunks: int, chunk_size: int = 1024,
              prefix: bytes = b"") -> tuple[int, int]:
    """POST a body of ``chunks`` chunks (no Content-Length; the first one ``prefix`` when
    given) straight to the ASGI app: (status, number of chunks the application pulled)."""
    pulled = 0
    status = 0

    async def receive():
        nonlocal pulled
        if pulled < chunks:
            pulled += 1
            body = prefix if pulled == 1 and prefix else b"x" * chunk_size
            return {"type": "http.request", "body": body, "more_body": pulled < chunks}
        await asyncio.sleep(3600)  # a client that sent everything waits for the answer
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    return status, pulled
