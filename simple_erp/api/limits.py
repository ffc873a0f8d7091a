"""Request body caps: read a body up to a limit and stop, never the whole of it first.

* ``read_body`` (the webhook routes): refuses a declared ``Content-Length`` over the cap
  before reading anything, and counts the bytes of a chunked body as they arrive,
  stopping at the cap (``BodyTooLarge``, answered 413 by ``too_large``).
* ``UploadGuard`` (ASGI middleware on the whole backend, see ``simple_erp.api.app``):
  Reflex's upload endpoint (``POST /_upload``) parses the whole multipart body before the
  upload handler runs, so the cap and the session check happen in front of it: a declared
  ``Content-Length`` over ``SIMPLE_ERP_UPLOAD_MAX_BYTES`` is answered 413 and a browser tab
  without a signed-in session 403, both before a byte of the body is read; a chunked body
  is counted as Reflex reads it and cut at the cap (Reflex sees the client disconnect,
  the answer is 413).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simple_erp.config import get_settings

log = logging.getLogger(__name__)

TOO_LARGE = "Requête trop volumineuse."
NO_SESSION = "Session expirée : reconnectez-vous."
UPLOAD_PATH = "/_upload"  # Reflex's constants.Endpoint.UPLOAD (no backend path prefix here)


class BodyTooLarge(Exception):
    """The request body is larger than the route accepts."""


def declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, read up to ``max_bytes``: BodyTooLarge as soon as the declared
    length or the bytes received go over (the rest of the body is never read)."""
    declared = declared_length(request.headers)
    if declared is not None and declared > max_bytes:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def too_large() -> PlainTextResponse:
    return PlainTextResponse(TOO_LARGE, status_code=413, headers={"Connection": "close"})


SessionCheck = Callable[[str], Awaitable[bool]]


async def _reflex_session_check(client_token: str) -> bool:
    from simple_erp.state.auth import client_is_signed_in

    return await client_is_signed_in(client_token)


class UploadGuard:
    """ASGI middleware: caps and guards Reflex's upload endpoint, passes everything else."""

    def __init__(self, app: ASGIApp, *, max_bytes: int | None = None, path: str = UPLOAD_PATH,
                 session_check: SessionCheck | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path = path
        self.session_check = session_check  # None: the tab's Reflex state (looked up at call time)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        max_bytes = self.max_bytes or get_settings().upload_max_bytes
        headers = Headers(scope=scope)
        declared = declared_length(headers)
        if declared is not None and declared > max_bytes:
            log.warning("Upload refused before reading: %s bytes declared (cap %s)", declared, max_bytes)
            await too_large()(scope, receive, send)
            return
        if not await self._signed_in(headers):
            await PlainTextResponse(NO_SESSION, status_code=403, headers={"Connection": "close"})(
                scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    exceeded = True  # the application sees a client that went away
                    log.warning("Upload cut at the cap: more than %s bytes received", max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the application's answer to the "disconnect" is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)
        if exceeded and not started:
            await too_large()(scope, receive, send)

    async def _signed_in(self, headers: Headers) -> bool:
        token = headers.get("reflex-client-token", "")
        if not token or len(token) > 128:
            return False
        try:
            return await (self.session_check or _reflex_session_check)(token)
        except Exception:  # noqa: BLE001 - refuse (fail closed) but say why in the log
            log.exception("Upload session check failed: upload refused")
            return False
