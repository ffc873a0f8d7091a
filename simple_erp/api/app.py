"""Custom HTTP routes mounted beside Reflex (api_transformer): health, signed file
downloads, the Mollie and SendGrid webhooks, the customer's public payment page.

Reflex mounts its own backend (websocket, ``/_upload``, in production the built pages)
inside this Starlette app (``App.__call__``: ``api.mount("", reflex_backend)``), so the
middlewares here see every HTTP request: security headers on every answer, and the cap and
session check in front of Reflex's upload endpoint."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from simple_erp.api.headers import SecurityHeaders
from simple_erp.api.limits import UploadGuard
from simple_erp.db import get_engine, session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.services import documents, signed_urls


def _db_ping() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


async def health(_request: Request) -> JSONResponse:
    """Liveness and database reachability, for the load balancer."""
    try:
        await asyncio.to_thread(_db_ping)
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _load_file(file_id: int):
    with session_scope() as session:
        return documents.get_file_content(session, file_id)


async def download_file(request: Request) -> Response:
    """A document's file, through a short-lived signed link made for a signed-in user."""
    try:
        file_id = int(request.path_params["file_id"])
    except ValueError:
        return PlainTextResponse("Introuvable.", status_code=404)
    if not signed_urls.verify("file", file_id, request.query_params.get("t", "")):
        return PlainTextResponse("Lien expiré ou invalide : rouvrez le document.", status_code=403)
    try:
        meta, content = await asyncio.to_thread(_load_file, file_id)
    except DomainError:
        return PlainTextResponse("Introuvable.", status_code=404)
    disposition = f"inline; filename*=UTF-8''{quote(meta.filename)}"
    return Response(content, media_type=meta.content_type,
                    headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"})


def _routes() -> list:
    from simple_erp.api import contact_files, einvoice_files, email_events, public_pay, webhooks

    return [
        Route("/api/health", health, methods=["GET"]),
        Route("/api/files/{file_id}", download_file, methods=["GET"]),
        *webhooks.routes,
        *email_events.routes,
        *public_pay.routes,
        *einvoice_files.routes,
        *contact_files.routes,
    ]


def build_api() -> Starlette:
    """The API app: its routes, behind the security headers and the upload guard (the
    headers outermost, so the guard's 413 and 403 carry them too)."""
    return Starlette(routes=_routes(), middleware=[Middleware(SecurityHeaders), Middleware(UploadGuard)])


api = build_api()
