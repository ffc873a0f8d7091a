"""The public payment page /payer/<token> (no sign-in): what it shows, and its live
status on the return page. Part of ``services.mollie.payments`` (use it from there).

The token is random (``secrets.token_urlsafe(24)``, 192 bits) and only finalised factures
are shown; anything else is "unknown" (the page answers a plain 404)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.domain.remaining_due import in_flight_note, nothing_to_pay_message
from simple_erp.models.company import Company
from simple_erp.models.document import Document, DocumentFile
from simple_erp.models.payment import Payment
from simple_erp.models.types import utcnow
from simple_erp.providers.mollie import MollieError
from simple_erp.services import documents, payments
from simple_erp.services.mollie.gateway import SessionFactory, api_key_for
from simple_erp.services.mollie.sync import IN_FLIGHT, sync_from_provider

CARD, SEPA = "carte_bancaire", "prelevement_sepa"
INVOICE_NOT_FOUND = "Cette facture est introuvable."
_S = PaymentStatus


class PublicInvoiceNotFound(DomainError):
    """No finalised facture has this public token: the public page answers 404."""


@dataclass(frozen=True)
class PublicInvoice:
    doc_id: int
    company_name: str
    logo_data_uri: str  # "data:image/png;base64,…" or ""
    number: str
    issue_date: str  # "28/11/2026"
    due_date: str  # "28/12/2026" or ""
    total_ttc: str  # "1 234,56 €"
    amount_due: str  # what remains to pay, net of received and in-flight payments
    paid: bool  # the invoice has received its total: "Facture réglée"
    online_payment: bool  # "Payer par carte bancaire" can be offered (for ``amount_due``)
    last_status: str  # "paye" | "en_cours" | "echoue" | "" (the newest Mollie card payment)
    nothing_to_pay: str = ""  # e.g. « Aucun montant restant à régler : un prélèvement … est en cours. »
    in_flight_note: str = ""  # money on its way that is not to be paid again
    last_amount: str = ""  # the newest card payment's amount ("" when none)
    pdf_url_path: str = ""  # filled by the page (signed download link)
    has_pdf: bool = False
    latest_pdf_id: int | None = None


def ensure_public_token(session: Session, doc_id: int) -> str:
    """The document's public payment token, made (random, unguessable) on first need."""
    doc = documents.get_document(session, doc_id)
    if doc.public_token:
        return doc.public_token
    session.execute(
        update(Document)
        .where(Document.id == doc_id, Document.public_token.is_(None))
        .values(public_token=secrets.token_urlsafe(24))
        .execution_options(synchronize_session=False)
    )
    doc.public_token = session.exec(select(Document.public_token).where(Document.id == doc_id)).one()
    return doc.public_token


def document_by_token(session: Session, token: str) -> Document | None:
    """The finalised facture with this public token, or None."""
    if not token or len(token) > 64:
        return None
    query = select(Document).where(Document.public_token == token,
                                   Document.kind == DocumentKind.FACTURE.value,
                                   Document.status == DocumentStatus.FINAL.value)
    return session.exec(query).first()


def card_method_id(session: Session, company_id: int | None = None) -> int | None:
    """An active Mollie "Carte bancaire" moyen (Mollie module on), or None; also None when
    ``company_id`` is given and that company cannot reach Mollie (no key, no sandbox)."""
    rows = [r for r in payments.payment_method_choices(session) if r.is_mollie and r.type_code == CARD]
    if not rows:
        return None
    if company_id is not None:
        company = session.get(Company, company_id)
        try:
            api_key_for(company.id, company.mollie_api_key_encrypted)
        except DomainError:
            return None
    return rows[0].id


def mollie_payments_of(session: Session, doc_id: int, card_only: bool = False) -> list[Payment]:
    """The document's Mollie payments, newest first."""
    query = select(Payment).where(Payment.document_id == doc_id, Payment.provider == payments.PROVIDER_MOLLIE)
    if card_only:
        card_ids = [r.id for r in payments.list_methods(session) if r.is_mollie and r.type_code == CARD]
        query = query.where(Payment.method_id.in_(card_ids or [-1]))
    return list(session.exec(query.order_by(Payment.requested_at.desc(), Payment.id.desc())))


def _bucket(status: str) -> str:
    if status in (_S.RECEIVED.value, _S.PARTIALLY_REFUNDED.value):
        return "paye"
    if status in IN_FLIGHT:
        return "en_cours"
    if status in (_S.FAILED.value, _S.CANCELED.value, _S.EXPIRED.value):
        return "echoue"
    return ""


def public_invoice(session: Session, token: str) -> PublicInvoice | None:
    """What the public page shows; None for an unknown token (plain 404)."""
    doc = document_by_token(session, token)
    if doc is None:
        return None
    view = documents.document_view(session, doc.id)  # seller and logo as printed (snapshot)
    logo = ""
    if view.logo_png_or_jpeg and view.logo_mime:
        logo = f"data:{view.logo_mime};base64,{base64.b64encode(view.logo_png_or_jpeg).decode()}"
    # The newest card payment is read before the amounts: under READ COMMITTED each statement
    # sees the latest commit, and the webhook updates both in one transaction, so a payment
    # seen as paid here is always counted below (read the other way round, the return page
    # could say « Paiement reçu » with the whole amount still due, and stop refreshing).
    latest = next(iter(mollie_payments_of(session, doc.id, card_only=True)), None)
    remaining = payments.remaining_to_pay(session, doc.id)
    paid = doc.total_ttc > 0 and remaining.due <= 0
    pdf_id = session.exec(
        select(DocumentFile.id).where(DocumentFile.document_id == doc.id, DocumentFile.origin == "pdf")
        .order_by(DocumentFile.created_at.desc(), DocumentFile.id.desc()).limit(1)
    ).first()
    return PublicInvoice(
        doc_id=doc.id, company_name=view.seller.name, logo_data_uri=logo, number=doc.number or "",
        issue_date=format_date_fr(doc.issue_date), due_date=format_date_fr(doc.due_date) if doc.due_date else "",
        total_ttc=format_eur(doc.total_ttc), amount_due=format_eur(remaining.to_pay), paid=paid,
        online_payment=remaining.to_pay > 0 and card_method_id(session, doc.company_id) is not None,
        last_status=_bucket(latest.status) if latest else ("paye" if paid else ""),
        nothing_to_pay=nothing_to_pay_message(remaining) if doc.total_ttc > 0 else "",
        in_flight_note=in_flight_note(remaining),
        last_amount=format_eur(latest.amount) if latest else "",
        has_pdf=pdf_id is not None, latest_pdf_id=pdf_id,
    )


def refresh_public_status(session_factory: SessionFactory, token: str,
                          min_interval: timedelta = timedelta(seconds=5)) -> str:
    """For the return page: fetch the invoice's newest Mollie card payment again when in flight (at
    most every ``min_interval``) in case its webhook is late or cannot reach us, and
    return the new ``last_status``. Mollie unreachable is not an error here."""
    with session_factory() as session:
        doc = document_by_token(session, token)
        if doc is None:
            raise PublicInvoiceNotFound(INVOICE_NOT_FOUND)
        latest = next(iter(mollie_payments_of(session, doc.id, card_only=True)), None)
        provider_id = None
        if latest is not None and latest.provider_payment_id and latest.status in IN_FLIGHT:
            if latest.last_synced_at is None or latest.last_synced_at <= utcnow() - min_interval:
                provider_id = latest.provider_payment_id
    if provider_id:
        try:
            sync_from_provider(session_factory, provider_id, source="resynchronisation")
        except MollieError:
            pass
    with session_factory() as session:
        info = public_invoice(session, token)
        return info.last_status if info else ""
