"""The Factur-X XML alone (CII, EN 16931) of a finalised facture or avoir, for « Fichiers »:
the very XML its PDF embeds, built from the frozen document (``facturx_xml``)."""

from __future__ import annotations

import re

from sqlmodel import Session

from simple_erp.domain.document_view import DocumentView
from simple_erp.domain.einvoice import missing_for_einvoice
from simple_erp.domain.errors import DomainError
from simple_erp.models.document import Document
from simple_erp.services.einvoice.document_xml import facturx_xml, needs_facturx

XML_CONTENT_TYPE = "application/xml"


def xml_filename(doc: Document) -> str:
    """« F-2026-00001_factur-x.xml »: the document number, then what the file is."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", doc.number or "document") + "_factur-x.xml"


def xml_available(doc: Document, view: DocumentView) -> bool:
    """Whether « Fichiers » offers the XML: a finalised facture or avoir whose frozen data
    makes a valid one (the same rule as the XML embedded in its PDF)."""
    return needs_facturx(doc) and not missing_for_einvoice(view)


def document_xml_file(session: Session, doc_id: int) -> tuple[str, bytes]:
    """(file name, CII XML) of a finalised facture or avoir; DomainError otherwise."""
    from simple_erp.services import documents  # documents imports this package
    from simple_erp.services.documents import integrity as document_integrity

    doc = session.get(Document, doc_id)
    if doc is None:
        raise DomainError("Ce document n'existe pas.")
    if not needs_facturx(doc):
        raise DomainError("Seules les factures et les avoirs finalisés ont un XML Factur-X.")
    document_integrity.verify(session, doc)  # as for its PDF: a document tampered with is never given out
    view = documents.document_view(session, doc_id)
    missing = missing_for_einvoice(view)
    if missing:
        raise DomainError("Ce document a été finalisé sans " + ", ".join(missing) + " : pas de XML Factur-X.")
    return xml_filename(doc), facturx_xml(session, doc, view)
