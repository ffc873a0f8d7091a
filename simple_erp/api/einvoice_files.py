"""The Factur-X XML of a finalised facture or avoir, downloaded alone from « Fichiers »
through a short-lived signed link (purpose "facturx-xml", the document's id), like the PDFs."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.services import signed_urls
from simple_erp.services.einvoice import XML_CONTENT_TYPE, document_xml_file

SIGNED_PURPOSE = "facturx-xml"


def _load(doc_id: int) -> tuple[str, bytes]:
    with session_scope() as session:
        return document_xml_file(session, doc_id)


async def download_facturx_xml(request: Request) -> Response:
    try:
        doc_id = int(request.path_params["doc_id"])
    except ValueError:
        return PlainTextResponse("Introuvable.", status_code=404)
    if not signed_urls.verify(SIGNED_PURPOSE, doc_id, request.query_params.get("t", "")):
        return PlainTextResponse("Lien expiré ou invalide : rouvrez le document.", status_code=403)
    try:
        filename, xml = await asyncio.to_thread(_load, doc_id)
    except DomainError as exc:
        return PlainTextResponse(exc.message, status_code=404)
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(xml, media_type=XML_CONTENT_TYPE,
                    headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"})


routes = [Route("/api/documents/{doc_id}/factur-x.xml", download_facturx_xml, methods=["GET"])]
