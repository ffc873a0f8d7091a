"""Simple Paiement: payment requests on finalised factures, their receptions and every
status change (manual or from a Mollie webhook), the invoice's payment block and the
Encaissements list.

This package's names here are its API (callers import ``services.payments``): the
requests and receptions are here; settings (preferences, accounts, payment types,
methods) live in ``setup``, the Encaissements list in ``collections``, what remains due
in ``due`` and status changes in ``status``, all re-exported here.

Concurrency: every function that reads a document's payments to decide something (how
much remains due) or changes them first locks the document row, in the caller's
transaction: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite an ``UPDATE`` of
``document.updated_at`` as the first write, which takes the database write lock before the
sums are read (SQLite has one writer; see ``services.numbering``). Two members of staff
requesting or recording the last payment of an invoice at the same moment are thus
serialised: the second one sees the first one's payment and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, select

from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.domain.payment_rules import (
    COUNTS_AS_RECEIVED,
    INVOICE_STATUS_LABELS,
    STATUS_LABELS,
    InvoicePaymentStatus,
    OverpaymentError,
    PaymentStatus,
    amount_due,
    check_new_request,
    check_reception_date,
    counted_amount,
    invoice_payment_status,
)
from simple_erp.models.document import Document
from simple_erp.models.payment import Account, Payment, PaymentEvent, PaymentMethod, PaymentType
from simple_erp.models.types import utcnow
from simple_erp.services.clock import PARIS
from simple_erp.services.payments.collections import (  # noqa: F401 - part of this module's API
    COLLECTION_STATUS_CHOICES,
    CollectionRow,
    CollectionsPage,
    PaymentFilters,
    collections_csv,
    list_collections,
)
from simple_erp.services.payments.setup import (  # noqa: F401 - part of this module's API
    ACCOUNT_TYPES,
    MOLLIE_ACCOUNT,
    MOLLIE_TYPE_CODES,
    MethodRow,
    account_form,
    delete_account,
    delete_method,
    delete_payment_type,
    empty_account_form,
    get_account,
    get_method,
    get_payment_type,
    get_preferences,
    list_accounts,
    list_methods,
    list_payment_types,
    method_form,
    method_label,
    method_row,
    payment_method_choices,
    save_account,
    save_method,
    save_payment_type,
    save_preferences,
)
from simple_erp.services.payments.due import (  # noqa: F401 - part of this module's API
    DIRECT_DEBIT_TYPE_CODE,
    direct_debit_method_ids,
    remaining_of,
    remaining_to_pay,
)
from simple_erp.services.payments.status import (  # noqa: F401 - part of this module's API
    PROVIDER_MANUAL,
    PROVIDER_MOLLIE,
    SOURCE_RESYNC,
    SOURCE_USER,
    SOURCE_WEBHOOK,
    SOURCES,
    READ_RECEIVED,
    STATE_COLUMNS,
    PaymentState,
    announce,
    apply_status,
    apply_status_if_unchanged,
    check_source,
    locked_state,
    payment_state,
    plan_change,
    record_event,
    write_change,
)

# Requested, not yet received nor given up: their amounts are "pending" (en attente).
IN_FLIGHT = frozenset({PaymentStatus.PENDING, PaymentStatus.DEBIT_IN_PROGRESS, PaymentStatus.AUTHORIZED})
ZERO = Decimal("0.00")
NOT_ENABLED = "Simple Paiement n'est pas activé (Admin ERP → 8. Préférences ERP)."
MOLLIE_NOT_ENABLED = "Le module de paiement Mollie n'est pas activé (Admin ERP → 8. Préférences ERP)."


# --- locking and sums ---------------------------------------------------------------------------


def lock_document(session: Session, doc_id: int) -> Document:
    """Lock the document row for the rest of the transaction and return it, fresh."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        query = select(Document).where(Document.id == doc_id).with_for_update()
        doc = session.exec(query.execution_options(populate_existing=True)).first()
    else:
        session.execute(
            update(Document)
            .where(Document.id == doc_id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        doc = session.get(Document, doc_id, populate_existing=True) if doc_id else None
    if doc is None:
        raise DomainError("Ce document n'existe pas.")
    return doc


def _document_payments(session: Session, doc_id: int) -> list[Payment]:
    """The document's payments as stored now (identity map refreshed), oldest first."""
    session.flush()
    query = select(Payment).where(Payment.document_id == doc_id).order_by(Payment.requested_at, Payment.id)
    return list(session.exec(query.execution_options(populate_existing=True)))


def _counted(payment: Payment) -> Decimal:
    return counted_amount(PaymentStatus(payment.status), payment.amount, payment.amount_refunded)


def _received(payments: list[Payment]) -> Decimal:
    return sum((_counted(p) for p in payments), ZERO)


def _in_flight(payments: list[Payment]) -> Decimal:
    return sum((p.amount for p in payments if PaymentStatus(p.status) in IN_FLIGHT), ZERO)


def document_received(session: Session, doc_id: int) -> Decimal:
    """What the document has received, summed by the database as ``document.amount_received``
    is: the counted amounts of its payments (a partly refunded payment counts for what was
    kept; refunded and charged back ones for nothing)."""
    session.flush()
    return session.connection().execute(READ_RECEIVED, {"b_doc": doc_id}).scalar_one()


# --- reading ------------------------------------------------------------------------------------


def get_payment(session: Session, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id) if payment_id else None
    if payment is None:
        raise DomainError("Ce paiement n'existe pas.")
    return payment


def get_payment_by_provider_id(session: Session, provider_payment_id: str) -> Payment | None:
    """The payment a provider knows as ``provider_payment_id`` (e.g. Mollie "tr_…"), or None."""
    if not provider_payment_id:
        return None
    return session.exec(select(Payment).where(Payment.provider_payment_id == provider_payment_id)).first()


def payment_events(session: Session, payment_id: int) -> list[PaymentEvent]:
    """The audit trail of a payment, oldest first (the first event is its creation, from "")."""
    query = select(PaymentEvent).where(PaymentEvent.payment_id == payment_id)
    return list(session.exec(query.order_by(PaymentEvent.at, PaymentEvent.id)))


def _paris_datetime(value: datetime) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[PaymentStatus(status)]
    except ValueError:
        return status


@dataclass(frozen=True)
class PaymentRow:
    id: int
    method_label: str  # "Chèque — Banque Populaire"
    amount: str  # "1 234,56 €"
    status: str  # PaymentStatus value, e.g. for a badge colour
    status_label: str
    requested_at: str  # "28/11/2026 14:05" (Paris)
    received_on: str  # "28/11/2026" or ""
    is_manual: bool
    can_receive: bool  # a manual request still pending, on an invoice that takes payments
    can_cancel: bool  # idem; Mollie requests expire at Mollie, they are not cancelled here
    checkout_url: str


@dataclass(frozen=True)
class PaymentBlock:
    enabled: bool  # Simple Paiement is on
    applicable: bool  # a finalised facture
    reason: str  # why not applicable (French), "" when applicable
    total_ttc: Decimal
    received: Decimal
    pending: Decimal  # requested, not received yet (en attente, prélèvement en cours, autorisé)
    amount_due: Decimal  # total − received, ≥ 0
    default_amount: Decimal  # what to propose for a new request: due − pending, ≥ 0
    invoice_status: InvoicePaymentStatus
    invoice_status_label: str
    rows: list[PaymentRow] = field(default_factory=list)  # newest first
    to_pay: Decimal = ZERO  # what the customer still has to pay: due − money in flight (debits…), ≥ 0
    fully_requested: bool = False  # something is due, but requests already cover all of it


def _not_applicable_reason(doc: Document) -> str:
    if doc.kind != DocumentKind.FACTURE.value:
        if doc.kind == DocumentKind.AVOIR.value:
            return "Un avoir ne reçoit pas de paiement : les paiements s'enregistrent sur les factures."
        return "Les paiements s'enregistrent sur les factures."
    if doc.status != DocumentStatus.FINAL.value:
        return "Finalisez la facture pour enregistrer un paiement."
    return ""


def _method_labels(session: Session, method_ids: set[int]) -> dict[int, str]:
    if not method_ids:
        return {}
    query = (
        select(PaymentMethod.id, PaymentType.name, Account.name)
        .join(PaymentType, PaymentType.id == PaymentMethod.payment_type_id)
        .join(Account, Account.id == PaymentMethod.account_id)
        .where(PaymentMethod.id.in_(method_ids))
    )
    rows = session.exec(query)
    return {method_id: method_label(type_name, account_name) for method_id, type_name, account_name in rows}


def _row(payment: Payment, label: str, applicable: bool) -> PaymentRow:
    manual = payment.provider == PROVIDER_MANUAL
    pending = payment.status == PaymentStatus.PENDING.value
    return PaymentRow(
        id=payment.id,
        method_label=label,
        amount=format_eur(payment.amount),
        status=payment.status,
        status_label=status_label(payment.status),
        requested_at=_paris_datetime(payment.requested_at),
        received_on=format_date_fr(payment.received_on) if payment.received_on else "",
        is_manual=manual,
        can_receive=manual and pending and applicable,
        can_cancel=manual and pending,
        checkout_url=payment.checkout_url or "",
    )


def payment_block(session: Session, doc_id: int, today: date) -> PaymentBlock:
    """Everything the payment block under an invoice's totals shows."""
    doc = session.get(Document, doc_id) if doc_id else None
    if doc is None:
        raise DomainError("Ce document n'existe pas.")
    enabled = get_preferences(session).simple_paiement_enabled
    payments = _document_payments(session, doc_id)
    remaining = remaining_of(session, doc.total_ttc, payments)
    received, pending = remaining.received, remaining.in_flight + remaining.awaiting_payer
    reason = _not_applicable_reason(doc)
    due = remaining.due
    invoice_status = invoice_payment_status(doc.total_ttc, received, doc.due_date, today)
    labels = _method_labels(session, {p.method_id for p in payments})
    newest_first = sorted(payments, key=lambda p: (p.requested_at, p.id), reverse=True)
    return PaymentBlock(
        enabled=enabled,
        applicable=not reason,
        reason=reason,
        total_ttc=doc.total_ttc,
        received=received,
        pending=pending,
        amount_due=due,
        default_amount=remaining.unrequested,
        to_pay=remaining.to_pay,
        fully_requested=due > 0 and remaining.unrequested <= 0,
        invoice_status=invoice_status,
        invoice_status_label=INVOICE_STATUS_LABELS[invoice_status],
        rows=[_row(p, labels.get(p.method_id, ""), enabled and not reason) for p in newest_first],
    )


# --- use cases --------------------------------------------------------------------------------------


def _usable_method(session: Session, method_id: int) -> tuple[PaymentMethod, Account]:
    method = get_method(session, method_id)
    payment_type = session.get(PaymentType, method.payment_type_id)
    account = session.get(Account, method.account_id)
    if not (method.active and payment_type.active and account.active):
        raise DomainError("Ce moyen de paiement est désactivé : choisissez-en un autre.", field="method_id")
    return method, account


def request_payment(session: Session, doc_id: int, method_id: int, amount: Decimal, user_id: int | None,
                    today: date, allow_overpay: bool = False, idempotency_key: str | None = None) -> Payment:
    """A new payment request (status "En attente de paiement") on a finalised facture.

    The amount must fit in total − received − pending requests, so that pending requests
    never add up to more than the invoice; otherwise OverpaymentError (the UI asks for a
    confirmation and calls again with ``allow_overpay=True``). The payment remembers a
    confirmed trop-perçu (``Payment.allow_overpay``) only when the amount exceeds total −
    received itself; a request confirmed only because other requests are pending is checked
    again when it is received (see record_reception). A Mollie method gives a payment with
    provider "mollie" (the Mollie service then creates it at Mollie and calls
    attach_provider_payment). ``idempotency_key``: a second call with the same key returns
    the first payment (double click)."""
    if isinstance(amount, float):
        raise TypeError("float refused for an amount: use Decimal")
    doc = lock_document(session, doc_id)
    if idempotency_key:
        existing = session.exec(select(Payment).where(Payment.idempotency_key == idempotency_key)).first()
        if existing is not None:
            if existing.document_id != doc.id:
                raise DomainError("Cette demande de paiement a déjà été enregistrée sur un autre document.")
            return existing
    prefs = get_preferences(session)
    if not prefs.simple_paiement_enabled:
        raise DomainError(NOT_ENABLED)
    method, account = _usable_method(session, method_id)
    is_mollie = account.account_type == MOLLIE_ACCOUNT
    if is_mollie and not prefs.mollie_enabled:
        raise DomainError(MOLLIE_NOT_ENABLED, field="method_id")
    amount = Decimal(amount)
    payments = _document_payments(session, doc.id)
    received, pending = _received(payments), _in_flight(payments)
    check_new_request(
        amount, doc.total_ttc, received + pending,
        document_is_final=doc.status == DocumentStatus.FINAL.value,
        is_invoice=doc.kind == DocumentKind.FACTURE.value,
        allow_overpay=allow_overpay,
    )
    now = utcnow()
    payment = Payment(
        document_id=doc.id, company_id=doc.company_id, method_id=method.id, amount=amount,
        status=PaymentStatus.PENDING.value,
        allow_overpay=amount > amount_due(doc.total_ttc, received),
        requested_at=now, updated_at=now,
        provider=PROVIDER_MOLLIE if is_mollie else PROVIDER_MANUAL,
        idempotency_key=idempotency_key or None, created_by_id=user_id,
    )
    session.add(payment)
    session.flush()
    note = f"Demande de {format_eur(amount)}" + (" (trop-perçu confirmé)" if payment.allow_overpay else "") + "."
    record_event(session, payment, "", payment.status, now, SOURCE_USER, note)
    session.flush()
    return payment


def attach_provider_payment(session: Session, payment_id: int, provider_payment_id: str, checkout_url: str) -> Payment:
    """Record the provider's id (Mollie "tr_…") and checkout URL of a request just created there."""
    payment = get_payment(session, payment_id)
    payment.provider_payment_id, payment.checkout_url = provider_payment_id or None, checkout_url or ""
    payment.updated_at = utcnow()
    announce(session, payment)
    session.add(payment)
    session.flush()
    return payment


def record_reception(session: Session, payment_id: int, received_on: date, today: date,
                     source: str = SOURCE_USER, allow_overpay: bool = False) -> Payment:
    """The money of a manual request arrived on ``received_on`` (not in the future): the
    payment becomes "Paiement reçu".

    Refused when the invoice would then have received more than its total, unless the
    payment is a confirmed trop-perçu or ``allow_overpay`` confirms it now (OverpaymentError,
    French). The document is locked first: two members of staff recording the last payments
    at the same moment cannot overpay the invoice together."""
    check_source(source)
    check_reception_date(received_on, today)
    state = locked_state(session, payment_id)
    status = PaymentStatus(state.status)
    if status in COUNTS_AS_RECEIVED or state.received_on is not None:
        when = f" le {format_date_fr(state.received_on)}" if state.received_on else ""
        raise DomainError(f"Ce paiement a déjà été reçu{when}.")
    if status not in IN_FLIGHT:
        raise DomainError(f"Ce paiement est « {status_label(state.status)} » : il ne peut plus être reçu.")
    if state.provider != PROVIDER_MANUAL and source == SOURCE_USER:
        raise DomainError("Un paiement Mollie est confirmé par Mollie : sa réception ne se saisit pas à la main.")
    received = document_received(session, state.document_id)
    overpaid = received + state.amount > state.total_ttc
    if overpaid and not (state.allow_overpay or allow_overpay):
        remaining = amount_due(state.total_ttc, received)
        raise OverpaymentError(
            f"Ce paiement de {format_eur(state.amount)} dépasse le reste dû ({format_eur(remaining)}) : "
            "un autre paiement a déjà été reçu. Confirmez pour enregistrer un trop-perçu, "
            "ou annulez cette demande.",
            remaining,
        )
    extra = {"allow_overpay": True} if overpaid and allow_overpay and not state.allow_overpay else None
    when = utcnow()
    write_change(session, state, plan_change(state, PaymentStatus.RECEIVED, when, received_on, extra=extra), when, source)
    return get_payment(session, payment_id)


def cancel_request(session: Session, payment_id: int, when: datetime, source: str = SOURCE_USER) -> Payment:
    """Cancel a pending request (en attente → annulé); cancelling it twice changes nothing.
    A Mollie request is not cancelled by a user here: it expires at Mollie if unpaid."""
    check_source(source)
    state = locked_state(session, payment_id)
    if state.status == PaymentStatus.CANCELED.value:
        return get_payment(session, payment_id)
    if state.status != PaymentStatus.PENDING.value:
        raise DomainError(
            f"Seule une demande en attente de paiement peut être annulée (celle-ci est "
            f"« {status_label(state.status)} »)."
        )
    if state.provider != PROVIDER_MANUAL and source == SOURCE_USER:
        raise DomainError(
            "Une demande de paiement Mollie ne s'annule pas ici : elle expire d'elle-même si elle n'est pas payée."
        )
    write_change(session, state, plan_change(state, PaymentStatus.CANCELED, when), when, source)
    return get_payment(session, payment_id)
