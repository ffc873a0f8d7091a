"""The Factur-X XML of a finalised facture or avoir, from the database: the snapshot frozen
at finalisation (parties, addresses, bank details, mentions) and, for a facture, its SEPA
direct-debit request (mandate of the contact, ICS of the company)."""

from __future__ import annotations

import dataclasses
import logging

from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain.document_view import DocumentView
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.einvoice import DirectDebit, einvoice_from_view, missing_for_einvoice
from simple_erp.domain.einvoice.cii import cii_xml
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact
from simple_erp.models.payment import Payment, PaymentMethod, PaymentType
from simple_erp.services.documents import snapshot as document_snapshot

DIRECT_DEBIT_TYPE_CODE = "prelevement_sepa"
_OVER = (PaymentStatus.CANCELED.value, PaymentStatus.FAILED.value, PaymentStatus.EXPIRED.value)
_KINDS = (DocumentKind.FACTURE.value, DocumentKind.AVOIR.value)
log = logging.getLogger(__name__)


def needs_facturx(doc: Document) -> bool:
    """Finalised factures and avoirs are Factur-X; drafts and other kinds are plain PDF/A."""
    return doc.kind in _KINDS and doc.status == DocumentStatus.FINAL.value and bool(doc.number)


def direct_debit_of(session: Session, doc: Document) -> DirectDebit | None:
    """The SEPA direct debit requested on this facture (the latest one not cancelled, failed
    or expired), with the RUM and IBAN of the first linked contact whose mandate is complete
    and the company's ICS; None when there is none."""
    if doc.kind != DocumentKind.FACTURE.value:
        return None
    requested = session.exec(
        select(Payment.id)
        .join(PaymentMethod, PaymentMethod.id == Payment.method_id)
        .join(PaymentType, PaymentType.id == PaymentMethod.payment_type_id)
        .where(Payment.document_id == doc.id, PaymentType.code == DIRECT_DEBIT_TYPE_CODE,
               Payment.status.not_in(_OVER))
        .limit(1)
    ).first()
    if requested is None:
        return None
    contacts = session.exec(
        select(Contact).join(DocumentContact, DocumentContact.contact_id == Contact.id)
        .where(DocumentContact.document_id == doc.id)
        .order_by(DocumentContact.position, DocumentContact.id)
    )
    payer = next((c for c in contacts if c.mandate_complete), None)
    company = session.get(Company, doc.company_id)
    if payer is None or company is None:
        return None
    return DirectDebit(mandate_reference=payer.rum or "", creditor_id=company.ics,
                       debited_iban=crypto.decrypt(payer.iban_encrypted))


def card_requested(session: Session, doc: Document) -> bool:
    """Whether a Mollie card payment request (not cancelled, failed or expired) exists for
    this facture: its XML then says card (54) rather than transfer (58)."""
    if doc.kind != DocumentKind.FACTURE.value:
        return False
    return session.exec(
        select(Payment.id)
        .join(PaymentMethod, PaymentMethod.id == Payment.method_id)
        .join(PaymentType, PaymentType.id == PaymentMethod.payment_type_id)
        .where(Payment.document_id == doc.id, Payment.provider == "mollie",
               PaymentType.code != DIRECT_DEBIT_TYPE_CODE, Payment.status.not_in(_OVER))
        .limit(1)
    ).first() is not None


def facturx_xml(session: Session, doc: Document, view: DocumentView) -> bytes:
    """The CII XML (Factur-X EN 16931) of a finalised facture or avoir; a DomainError in
    French names what is missing when the frozen data cannot make a valid one."""
    details = document_snapshot.from_json(doc.snapshot) if doc.snapshot else document_snapshot.PrintedDetails(
        view.seller, view.buyers, view.vat_exempt, view.payment_terms_label, view.late_penalty_rate,
        view.escompte_text)
    invoice = einvoice_from_view(
        view,
        seller_address=details.seller_address,
        buyer_address=details.buyer_addresses[0] if details.buyer_addresses else None,
        direct_debit=direct_debit_of(session, doc),
        seller_iban=crypto.decrypt(details.bank_iban_encrypted),
        delivery_address=details.delivery_address,
        card_payment=card_requested(session, doc),
    )
    return cii_xml(invoice)


def with_facturx(session: Session, doc: Document, view: DocumentView) -> DocumentView:
    """The view to render: with its Factur-X XML for a finalised facture or avoir whose frozen
    data makes a valid one. A document frozen without what the XML needs (the seller's SIREN…)
    still gets its PDF (PDF/A, no XML): it was issued that way and can never change; the gap
    is logged. Finalisation is where it must be refused (issue 12)."""
    if not needs_facturx(doc):
        return view
    missing = missing_for_einvoice(view)
    if missing:
        log.warning("Document %s (%s) has no Factur-X: missing %s", doc.id, doc.number, ", ".join(missing))
        return view
    return dataclasses.replace(view, einvoice_xml=facturx_xml(session, doc, view))
