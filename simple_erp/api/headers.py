"""Security headers on every HTTP answer of the backend (ASGI middleware, see
``simple_erp.api.app``): the API, the public payment page, Reflex's own endpoints and, in
production mode (one port serves the built pages), the app's pages.

Three policies, by path:

* ``/payer/…`` (the customer's payment page, server-rendered, no script at all): nothing
  may load but its inline ``<style>`` and the logo (a ``data:`` image); no referrer, the
  token is in the address. No ``form-action``: the « Payer » form answers with a redirect
  to Mollie's checkout, and browsers apply ``form-action`` to that redirect too.
* ``/api/…`` (JSON, text, files): nothing may load (``default-src 'none'``), except for the
  files (``/api/files/…``, PDFs opened in the browser's viewer) which get only the framing
  rules.
* everything else (the Reflex pages, ``/_upload``…): no framing, no plugins, no foreign
  ``<base>``; the pages' scripts and styles are Reflex's (inline ones included), so no
  ``script-src`` here.

Every answer: ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (nothing can be
framed, the payment button included), ``X-Content-Type-Options: nosniff`` and a
``Referrer-Policy``. A header the route set itself is kept.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
PAY_PAGE = {
    **COMMON,
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                "base-uri 'none'; frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",
}
API = {
    **COMMON,
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
FILES = {
    **COMMON,
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
PAGES = {
    **COMMON,
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def headers_for(path: str) -> dict[str, str]:
    if path == "/payer" or path.startswith("/payer/"):
        return PAY_PAGE
    if path.startswith("/api/files/"):
        return FILES
    if path == "/api" or path.startswith("/api/"):
        return API
    return PAGES


class SecurityHeaders:
    """ASGI middleware adding the headers of ``headers_for(path)`` to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
