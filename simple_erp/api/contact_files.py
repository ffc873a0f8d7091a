"""A fiche contact's file (« Fichiers »: the SEPA mandate forms), downloaded through a
short-lived signed link (purpose "contact-file", the file's id), like the documents' PDFs."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.services import sepa_mandates, signed_urls

SIGNED_PURPOSE = "contact-file"


def _load(file_id: int):
    with session_scope() as session:
        return sepa_mandates.get_file_content(session, file_id)


async def download_contact_file(request: Request) -> Response:
    try:
        file_id = int(request.path_params["file_id"])
    except ValueError:
        return PlainTextResponse("Introuvable.", status_code=404)
    if not signed_urls.verify(SIGNED_PURPOSE, file_id, request.query_params.get("t", "")):
        return PlainTextResponse("Lien expiré ou invalide : rouvrez la fiche contact.", status_code=403)
    try:
        meta, content = await asyncio.to_thread(_load, file_id)
    except DomainError:
        return PlainTextResponse("Introuvable.", status_code=404)
    disposition = f"inline; filename*=UTF-8''{quote(meta.filename)}"
    return Response(content, media_type=meta.content_type,
                    headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"})


routes = [Route("/api/contact-files/{file_id}", download_contact_file, methods=["GET"])]
