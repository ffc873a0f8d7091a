"""Received e-invoices (« Importer une facture électronique »), the first step of the
reception obligation: a supplier's Factur-X / ZUGFeRD PDF, CII XML or UBL 2.1 XML is read
(its embedded XML for a PDF), validated offline (XSD, EN 16931, BR-FR) and stored with what
it says, per issuing company. A file that is not an invoice is refused with a French
message and nothing is stored; the same file is imported once per company."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass

import facturx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from simple_erp.domain.einvoice import received as einvoice_import
from simple_erp.domain.einvoice.received import ReceivedInvoiceData
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import round_cents
from simple_erp.models.company import Company
from simple_erp.models.received_invoice import ReceivedInvoice
from simple_erp.services.einvoice.validation import ValidationReport, validate

# Reflex's upload endpoint caps a whole request at SIMPLE_ERP_UPLOAD_MAX_BYTES (2 Mo by
# default, api.limits.UploadGuard); this is the file's own cap, checked again here.
IMPORT_MAX_BYTES = 2 * 1024 * 1024 - 64 * 1024
PDF_WITHOUT_XML = ("Ce PDF ne contient pas de facture électronique (aucun XML Factur-X ou ZUGFeRD joint) : "
                   "c'est une facture « papier » au format PDF, à demander au fournisseur en Factur-X.")
PDF_UNREADABLE = "Ce PDF est illisible (fichier endommagé ou chiffré) : aucune facture électronique n'a pu y être lue."
SOURCE_LABELS = {"factur-x-pdf": "PDF Factur-X", "cii-xml": "XML CII", "ubl-xml": "XML UBL 2.1"}
CONTENT_TYPES = {"factur-x-pdf": "application/pdf", "cii-xml": "application/xml", "ubl-xml": "application/xml"}
log = logging.getLogger(__name__)
logging.getLogger("factur-x").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ReadInvoice:
    """A received file read back: where the XML came from, what it says, its validation."""

    source_format: str
    data: ReceivedInvoiceData
    report: ValidationReport


def embedded_xml(pdf: bytes) -> bytes:
    """The Factur-X / ZUGFeRD XML embedded in a PDF (not checked here: validation says what
    is wrong with it); DomainError when the PDF is unreadable or carries none."""
    try:
        _name, xml = facturx.get_facturx_xml_from_pdf(io.BytesIO(pdf), check_xsd=False)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on a broken PDF
        log.info("Unreadable PDF at import: %s", exc)
        raise DomainError(PDF_UNREADABLE) from exc
    if not xml:
        raise DomainError(PDF_WITHOUT_XML)
    return xml


def read_received_file(content: bytes) -> ReadInvoice:
    """Read a received file (PDF or XML, recognised by its content, not its name)."""
    if not content or not content.strip():
        raise DomainError("Le fichier est vide.")
    if len(content) > IMPORT_MAX_BYTES:
        raise DomainError(f"Fichier trop lourd : {IMPORT_MAX_BYTES // 1024} Ko au maximum.")
    if b"%PDF-" in content[:1024]:  # PDF readers accept a header anywhere in the first 1024 bytes
        source, xml = "factur-x-pdf", embedded_xml(content)
    else:
        source, xml = "", content
    root = einvoice_import.read_xml(xml)
    data = einvoice_import.parse_invoice(root)
    if not source:
        source = "cii-xml" if data.syntax == einvoice_import.SYNTAX_CII else "ubl-xml"
    return ReadInvoice(source, data, validate(root))


def _clean_name(filename: str, source: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    return (name or ("facture.pdf" if source == "factur-x-pdf" else "facture.xml"))[-200:]


def _what(row: ReceivedInvoice) -> str:
    return f"{einvoice_import.KIND_LABELS[row.kind].lower()} {row.number} de {row.seller_name or 'fournisseur inconnu'}"


def import_received_invoice(session: Session, company_id: int, filename: str, content: bytes,
                            user_id: int | None = None) -> ReceivedInvoice:
    """Read, validate and store a received e-invoice for ``company_id``. Nothing is stored
    when the file is not an invoice (DomainError) or was already imported: the same file, or
    the same invoice (seller, number, type) in another file."""
    if session.get(Company, company_id) is None:
        raise DomainError("Choisissez la société qui a reçu la facture.")
    read = read_received_file(content)
    digest = hashlib.sha256(content).hexdigest()
    already = session.exec(select(ReceivedInvoice).options(defer(ReceivedInvoice.content)).where(
        ReceivedInvoice.company_id == company_id, ReceivedInvoice.sha256 == digest)).first()
    if already is not None:
        raise DomainError(f"Ce fichier a déjà été importé : {_what(already)}.")
    data = read.data
    same = select(ReceivedInvoice).options(defer(ReceivedInvoice.content)).where(
        ReceivedInvoice.company_id == company_id, ReceivedInvoice.number == data.number[:200],
        ReceivedInvoice.kind == data.kind)
    same = same.where(ReceivedInvoice.seller_siren == data.seller.siren) if data.seller.siren else same.where(
        ReceivedInvoice.seller_name == data.seller.name[:200])
    twin = session.exec(same).first()
    if twin is not None:  # another file of the same invoice (a PDF made again): paying it twice is the risk
        raise DomainError(f"Cette facture est déjà importée : {_what(twin)} (fichier « {twin.filename} »).")
    row = ReceivedInvoice(
        company_id=company_id, filename=_clean_name(filename, read.source_format),
        content_type=CONTENT_TYPES[read.source_format], size=len(content), sha256=digest, content=content,
        source_format=read.source_format, syntax=data.syntax, number=data.number[:200], kind=data.kind,
        type_code=data.type_code[:10], issue_date=data.issue_date, due_date=data.due_date,
        currency=data.currency[:3], seller_name=data.seller.name[:200], seller_siren=data.seller.siren[:20],
        seller_vat=data.seller.vat_number[:30], buyer_name=data.buyer.name[:200],
        # exact in the summary; the columns (for lists and sums) at the cent, half-up
        total_ht=round_cents(data.total_ht), total_vat=round_cents(data.total_vat),
        total_ttc=round_cents(data.total_ttc), amount_due=round_cents(data.amount_due),
        valid=read.report.valid, summary=einvoice_import.to_json(data),
        validation=json.dumps(read.report.to_dict(), ensure_ascii=False), imported_by_id=user_id,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # the same file imported at the same moment by another user
        raise DomainError("Ce fichier vient d'être importé par ailleurs : rechargez la liste.") from exc
    return row


def list_received(session: Session, company_id: int, limit: int = 200) -> list[ReceivedInvoice]:
    """The company's received invoices, newest import first (without their files)."""
    return list(session.exec(
        select(ReceivedInvoice).options(defer(ReceivedInvoice.content))
        .where(ReceivedInvoice.company_id == company_id)
        .order_by(ReceivedInvoice.created_at.desc(), ReceivedInvoice.id.desc()).limit(limit)
    ))


def received_detail(session: Session, received_id: int, company_id: int) -> tuple[ReceivedInvoice, ReadInvoice]:
    """One stored received invoice with what it said and its validation, as at import."""
    row = session.exec(select(ReceivedInvoice).options(defer(ReceivedInvoice.content)).where(
        ReceivedInvoice.id == received_id, ReceivedInvoice.company_id == company_id)).first()
    if row is None:
        raise DomainError("Cette facture reçue n'existe pas.")
    read = ReadInvoice(row.source_format, einvoice_import.from_json(row.summary),
                       ValidationReport.from_dict(json.loads(row.validation)))
    return row, read
