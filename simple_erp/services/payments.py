"""Simple Paiement: payment requests on finalised factures, their receptions and every
status change (manual or from a Mollie webhook), the invoice's payment block and the
Encaissements list.

Settings (preferences, accounts, payment types, methods) live in ``payment_setup`` and the
Encaissements list in ``payment_collections``; both are re-exported here, so callers only
import ``services.payments``.

Concurrency: every function that reads a document's payments to decide something (how
much remains due) or changes them first locks the document row, in the caller's
transaction: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite an ``UPDATE`` of
``document.updated_at`` as the first write, which takes the database write lock before the
sums are read (SQLite has one writer; see ``services.numbering``). Two members of staff
requesting or recording the last payment of an invoice at the same moment are thus
serialised: the second one sees the first one's payment and is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, func, insert, literal_column, type_coerce, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from simple_erp import db
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
    stamp_field,
    transition,
)
from simple_erp.models.document import Document
from simple_erp.models.payment import Account, Payment, PaymentEvent, PaymentMethod, PaymentType
from simple_erp.models.types import utcnow
from simple_erp.services import changes
from simple_erp.services.clock import PARIS
from simple_erp.services.payment_collections import (  # noqa: F401 - part of this module's API
    COLLECTION_STATUS_CHOICES,
    CollectionRow,
    CollectionsPage,
    PaymentFilters,
    collections_csv,
    list_collections,
)
from simple_erp.services.payment_setup import (  # noqa: F401 - part of this module's API
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

PROVIDER_MANUAL, PROVIDER_MOLLIE = "manuel", "mollie"
SOURCE_USER, SOURCE_WEBHOOK, SOURCE_RESYNC = "utilisateur", "webhook", "resynchronisation"
SOURCES = frozenset({SOURCE_USER, SOURCE_WEBHOOK, SOURCE_RESYNC})
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
    return session.connection().execute(_READ_RECEIVED, {"b_doc": doc_id}).scalar_one()


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
    received, pending = _received(payments), _in_flight(payments)
    reason = _not_applicable_reason(doc)
    due = amount_due(doc.total_ttc, received)
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
        default_amount=max(due - pending, ZERO),
        invoice_status=invoice_status,
        invoice_status_label=INVOICE_STATUS_LABELS[invoice_status],
        rows=[_row(p, labels.get(p.method_id, ""), enabled and not reason) for p in newest_first],
    )


# --- status changes: the one place ----------------------------------------------------------------


def _event(session: Session, payment: Payment, from_status: str, to_status: str, when: datetime,
           source: str, note: str = "") -> None:
    session.add(PaymentEvent(payment_id=payment.id, from_status=from_status, to_status=to_status,
                             at=when, source=source, note=note))
    _announce(session, payment)


def _announce(session: Session, payment: Payment) -> None:
    """Open screens showing this invoice, the lists and Encaissements refresh after commit."""
    changes.touch(session, *changes.document_topics(payment.document_id), "payments")


def _amount_in_range(value: Decimal, amount: Decimal, label: str) -> Decimal:
    value = Decimal(value)
    if not value.is_finite() or value < 0 or value > amount or value != value.quantize(Decimal("0.01")):
        raise DomainError(f"{label} invalide : entre 0 et {format_eur(amount)}, au centime près.")
    return value


# A status change is a handful of Core statements built once (building a statement costs
# more CPU than running it): the Mollie webhook runs them for every status change.
_PAY, _DOC, _EVT = Payment.__table__, Document.__table__, PaymentEvent.__table__
STATE_COLUMNS = (_PAY.c.id, _PAY.c.document_id, _PAY.c.status, _PAY.c.amount, _PAY.c.amount_refunded,
                 _PAY.c.amount_charged_back, _PAY.c.received_on, _PAY.c.allow_overpay, _PAY.c.provider,
                 _DOC.c.total_ttc)
_READ_STATE = (select(*STATE_COLUMNS)
               .select_from(_DOC.join(_PAY, _PAY.c.document_id == _DOC.c.id))
               .where(_PAY.c.id == bindparam("b_id")))
# Lock the payment's document (always before any payment row: no deadlock between changes):
# PostgreSQL ``SELECT … FOR UPDATE``; SQLite: a first write takes the database's write lock.
_DOCUMENT_OF_PAYMENT = select(_PAY.c.document_id).where(_PAY.c.id == bindparam("b_id")).scalar_subquery()
_LOCK_DOCUMENT_OF_PAYMENT = {
    "postgresql": select(_DOC.c.id).where(_DOC.c.id == _DOCUMENT_OF_PAYMENT).with_for_update(),
    "sqlite": update(_DOC).where(_DOC.c.id == _DOCUMENT_OF_PAYMENT).values(updated_at=bindparam("b_now")),
}
# The part of a payment that counts as received (domain.payment_rules.counted_amount).
_COUNTED = case(
    (and_(_PAY.c.status.in_([literal_column(f"'{s.value}'") for s in sorted(COUNTS_AS_RECEIVED)]),
          _PAY.c.amount > _PAY.c.amount_refunded), _PAY.c.amount - _PAY.c.amount_refunded),
    else_=literal_column("0"),
)
_RECEIVED_SUM = type_coerce(func.coalesce(func.sum(_COUNTED), literal_column("0")), _PAY.c.amount.type)
_READ_RECEIVED = select(_RECEIVED_SUM).where(_PAY.c.document_id == bindparam("b_doc"))
_SET_RECEIVED = (update(_DOC).where(_DOC.c.id == bindparam("b_doc"))
                 .values(amount_received=_READ_RECEIVED.scalar_subquery()))
_INSERT_EVENT = insert(_EVT).values(
    payment_id=bindparam("b_payment"), from_status=bindparam("b_from"), to_status=bindparam("b_to"),
    at=bindparam("b_at", type_=_EVT.c.at.type), source=bindparam("b_source"), note=bindparam("b_note"),
)
_INSERT_EVENT_PREPARED = db.Prepared("simple_erp_insert_payment_event", _INSERT_EVENT)
_SET_RECEIVED_PREPARED = db.Prepared("simple_erp_set_received", _SET_RECEIVED)
_UPDATES: dict[tuple[str, ...], object] = {}  # one UPDATE payment per set of columns


def _update_payment(columns: tuple[str, ...]):
    statement = _UPDATES.get(columns)
    if statement is None:
        values = {name: bindparam(f"v_{name}", type_=_PAY.c[name].type) for name in columns}
        statement = _UPDATES[columns] = update(_PAY).where(_PAY.c.id == bindparam("b_id")).values(values)
    return statement


@dataclass(frozen=True)
class PaymentState:
    """A payment as stored (the columns of ``STATE_COLUMNS``, in this order)."""

    id: int
    document_id: int
    status: str
    amount: Decimal
    amount_refunded: Decimal
    amount_charged_back: Decimal
    received_on: date | None
    allow_overpay: bool
    provider: str
    total_ttc: Decimal  # of its document


def payment_state(session: Session, payment_id: int) -> PaymentState:
    """The payment as stored now, read without a lock (what ``apply_status_if_unchanged``
    takes as ``expected``)."""
    row = session.connection().execute(_READ_STATE, {"b_id": payment_id}).first() if payment_id else None
    if row is None:
        raise DomainError("Ce paiement n'existe pas.")
    return PaymentState(*row)


def _locked_state(session: Session, payment_id: int) -> PaymentState:
    """Lock the payment's document for the rest of the transaction, then read the payment
    (another transaction may have changed it meanwhile)."""
    session.flush()
    conn = session.connection()
    lock = _LOCK_DOCUMENT_OF_PAYMENT["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    conn.execute(lock, {"b_id": payment_id, "b_now": utcnow()})
    row = conn.execute(_READ_STATE, {"b_id": payment_id}).first() if payment_id else None  # a new snapshot
    if row is None:
        raise DomainError("Ce paiement n'existe pas.")
    return PaymentState(*row)


def _new_amounts(state: PaymentState, target: PaymentStatus, refunded: Decimal | None,
                 charged_back: Decimal | None) -> tuple[Decimal, Decimal]:
    """Refund / chargeback amounts after a move into (or a repeat of) ``target``."""
    new_refunded, new_charged_back = state.amount_refunded, state.amount_charged_back
    if target is PaymentStatus.REFUNDED:
        new_refunded = state.amount if refunded is None else refunded
    elif target is PaymentStatus.PARTIALLY_REFUNDED and refunded is not None:
        new_refunded = refunded
    elif target is PaymentStatus.CHARGED_BACK:
        new_charged_back = state.amount if charged_back is None else charged_back
    return (_amount_in_range(new_refunded, state.amount, "Montant remboursé"),
            _amount_in_range(new_charged_back, state.amount, "Montant rejeté"))


@dataclass(frozen=True)
class _Change:
    """What a status change writes: payment columns, its event, the invoice's received delta."""

    values: dict
    from_status: str
    to_status: str
    note: str
    delta: Decimal


def _plan(state: PaymentState, target: PaymentStatus, when: datetime, received_on: date | None = None,
          amount_refunded: Decimal | None = None, amount_charged_back: Decimal | None = None, note: str = "",
          extra: dict | None = None) -> _Change | None:
    """The change that brings ``state`` to ``target`` (None: nothing changes). Raises
    TransitionError for a forbidden move, DomainError for an amount out of range.
    ``extra``: more payment columns to set, only when something changes."""
    current = PaymentStatus(state.status)
    step = transition(current, target, when)
    new_refunded, new_charged_back = _new_amounts(state, target, amount_refunded, amount_charged_back)
    values = {"amount_refunded": new_refunded, "amount_charged_back": new_charged_back, "updated_at": utcnow()}
    if step is None:  # the same status again (duplicate webhook): only amounts may move
        if (new_refunded, new_charged_back) == (state.amount_refunded, state.amount_charged_back):
            return None
        note = note or f"Montant remboursé : {format_eur(new_refunded)}."
    else:
        stamped = stamp_field(target)
        if stamped == "received_on":
            values["received_on"] = received_on or when.astimezone(PARIS).date()
        elif stamped is not None:
            values[stamped] = when
        values["status"] = target.value
    if extra:
        values.update(extra)
    delta = (counted_amount(target, state.amount, new_refunded)
             - counted_amount(current, state.amount, state.amount_refunded))
    return _Change(values, current.value, target.value, note, delta)


def _columns(change: _Change) -> tuple[tuple[str, ...], dict]:
    columns = tuple(sorted(change.values))
    return columns, {f"v_{name}": change.values[name] for name in columns}


def _event_params(state: PaymentState, change: _Change, when: datetime, source: str) -> dict:
    return {"b_payment": state.id, "b_from": change.from_status, "b_to": change.to_status, "b_at": when,
            "b_source": source, "b_note": change.note}


def _changed(session: Session, state: PaymentState) -> None:
    """After a Core change: ORM objects loaded earlier reload on their next use; open
    screens showing this invoice, the lists and Encaissements refresh after commit."""
    for model, ident in ((Payment, state.id), (Document, state.document_id)):
        obj = session.identity_map.get(identity_key(model, ident))
        if obj is not None:
            session.expire(obj)
    changes.touch(session, *changes.document_topics(state.document_id), "payments")


def _write_change(session: Session, state: PaymentState, change: _Change, when: datetime, source: str) -> None:
    """Write ``change`` of the payment ``state`` (its document locked by this transaction)."""
    conn = session.connection()
    columns, values = _columns(change)
    conn.execute(_update_payment(columns), {"b_id": state.id, **values})
    conn.execute(_INSERT_EVENT, _event_params(state, change, when, source))
    conn.execute(_SET_RECEIVED, {"b_doc": state.document_id})
    _changed(session, state)


# Changes on condition that the payment is still as read earlier (without a lock).
_MONEY = _PAY.c.amount.type
_AS_EXPECTED = (_PAY.c.id == bindparam("b_id"), _PAY.c.status == bindparam("b_old_status"),
                _PAY.c.amount_refunded == bindparam("b_old_refunded", type_=_MONEY),
                _PAY.c.amount_charged_back == bindparam("b_old_charged_back", type_=_MONEY))
_ONE_STATEMENT: dict[tuple[str, ...], db.Prepared] = {}
_UPDATE_IF_EXPECTED: dict[tuple[str, ...], object] = {}


def _update_if_expected(columns: tuple[str, ...]) -> db.Prepared:
    """SQLite: UPDATE payment on condition (its first write takes the database's lock)."""
    prepared = _UPDATE_IF_EXPECTED.get(columns)
    if prepared is None:
        values = {name: bindparam(f"v_{name}", type_=_PAY.c[name].type) for name in columns}
        prepared = _UPDATE_IF_EXPECTED[columns] = db.Prepared(
            _statement_name("simple_erp_update_if_expected_", columns), update(_PAY).where(*_AS_EXPECTED).values(values))
    return prepared


def _statement_name(prefix: str, columns: tuple[str, ...]) -> str:
    return prefix + hashlib.sha1(",".join(columns).encode()).hexdigest()[:16]


def _one_statement(columns: tuple[str, ...]) -> db.Prepared:
    """PostgreSQL: the whole change in one statement. The document is locked first (the
    payment's UPDATE joins it), as in every other change; the payment's UPDATE then checks
    its condition on the row as committed now; the event and the invoice's received amount
    (plus the change: the row is locked, so this is exact) follow only if it matched."""
    prepared = _ONE_STATEMENT.get(columns)
    if prepared is not None:
        return prepared
    locked = (select(_DOC.c.id).where(_DOC.c.id == bindparam("b_doc")).with_for_update().cte("locked_document"))
    changed = (
        update(_PAY)
        .where(*_AS_EXPECTED, _PAY.c.document_id == locked.c.id)
        .values({name: bindparam(f"v_{name}", type_=_PAY.c[name].type) for name in columns})
        .returning(_PAY.c.id, _PAY.c.document_id)
        .cte("changed_payment")
    )
    event_columns = ("payment_id", "from_status", "to_status", "at", "source", "note")
    event = insert(_EVT).from_select(event_columns, select(
        changed.c.id, bindparam("b_from", type_=_EVT.c.from_status.type), bindparam("b_to", type_=_EVT.c.to_status.type),
        bindparam("b_at", type_=_EVT.c.at.type), bindparam("b_source", type_=_EVT.c.source.type),
        bindparam("b_note", type_=_EVT.c.note.type),
    )).cte("payment_event_row")
    statement = (
        update(_DOC)
        .where(_DOC.c.id == changed.c.document_id)
        .values(amount_received=_DOC.c.amount_received + bindparam("b_delta", type_=_MONEY))
        .returning(_DOC.c.id)
        .add_cte(event)
    )
    prepared = _ONE_STATEMENT[columns] = db.Prepared(_statement_name("simple_erp_status_change_", columns), statement)
    return prepared


def apply_status_if_unchanged(session: Session, expected: PaymentState, target: PaymentStatus, when: datetime,
                              source: str, received_on: date | None = None, amount_refunded: Decimal | None = None,
                              amount_charged_back: Decimal | None = None, note: str = "",
                              synced_at: datetime | None = None) -> bool | None:
    """``apply_status`` on condition that the payment still is ``expected`` (read earlier,
    without a lock: status and amounts), without reading it again: on PostgreSQL one
    statement (one round trip, committed at once when the session has no transaction
    yet); on SQLite three, in the session's transaction. True when applied; None when it
    could not be decided so (the payment changed meanwhile, nothing to change, a refused
    move): then call ``apply_status``, which locks and reads again."""
    _check_source(source)
    session.flush()  # pending ORM changes first: the statement may commit at once
    extra = {"last_synced_at": synced_at, "provider_error": ""} if synced_at is not None else None
    try:
        change = _plan(expected, PaymentStatus(target), when, received_on, amount_refunded, amount_charged_back,
                       note, extra)
    except DomainError:  # perhaps only from a stale read: apply_status decides
        return None
    if change is None:
        return None
    columns, values = _columns(change)
    params = {"b_id": expected.id, "b_doc": expected.document_id, "b_old_status": expected.status,
              "b_old_refunded": expected.amount_refunded, "b_old_charged_back": expected.amount_charged_back,
              "b_delta": change.delta, **values, **_event_params(expected, change, when, source)}
    if session.get_bind().dialect.name == "postgresql":
        prepared = _one_statement(columns)
        if db.execute_alone(session, prepared.statement, params, prepared).first() is None:
            return None
    else:  # SQLite: in the session's transaction
        conn = session.connection()
        if _update_if_expected(columns).execute(conn, params).rowcount != 1:
            return None
        _INSERT_EVENT_PREPARED.execute(conn, params)
        _SET_RECEIVED_PREPARED.execute(conn, params)
    _changed(session, expected)
    return True


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: one of {sorted(SOURCES)}")


def apply_status(session: Session, payment_id: int, target: PaymentStatus, when: datetime, source: str,
                 received_on: date | None = None, amount_refunded: Decimal | None = None,
                 amount_charged_back: Decimal | None = None, note: str = "",
                 synced_at: datetime | None = None) -> bool:
    """The one place that changes a payment's status, for the UI and the Mollie webhook.

    Idempotent: the same status again changes nothing and returns False (except a new
    ``amount_refunded`` on a partly refunded payment: a second partial refund). A forbidden
    move raises ``TransitionError`` (French message; the webhook logs it). Entering a status
    stamps its date with ``when`` (aware datetime); RECEIVED stamps ``received_on`` (given,
    else ``when``'s date in Paris). REFUNDED sets ``amount_refunded`` to the amount unless
    given, CHARGED_BACK ``amount_charged_back`` likewise. Each change writes a PaymentEvent
    and recomputes ``document.amount_received``. ``synced_at`` (a fetch from the provider):
    also stamps ``last_synced_at`` and clears ``provider_error`` when something changes.
    Returns True when something changed. Five statements: lock the invoice, read the
    payment, UPDATE payment, INSERT payment_event, UPDATE document (its received amount
    summed again). The Mollie webhook first tries ``apply_status_if_unchanged``."""
    _check_source(source)
    target = PaymentStatus(target)
    state = _locked_state(session, payment_id)
    extra = {"last_synced_at": synced_at, "provider_error": ""} if synced_at is not None else None
    change = _plan(state, target, when, received_on, amount_refunded, amount_charged_back, note, extra)
    if change is None:
        return False
    _write_change(session, state, change, when, source)
    return True


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
        document_id=doc.id, method_id=method.id, amount=amount, status=PaymentStatus.PENDING.value,
        allow_overpay=amount > amount_due(doc.total_ttc, received),
        requested_at=now, updated_at=now,
        provider=PROVIDER_MOLLIE if is_mollie else PROVIDER_MANUAL,
        idempotency_key=idempotency_key or None, created_by_id=user_id,
    )
    session.add(payment)
    session.flush()
    note = f"Demande de {format_eur(amount)}" + (" (trop-perçu confirmé)" if payment.allow_overpay else "") + "."
    _event(session, payment, "", payment.status, now, SOURCE_USER, note)
    session.flush()
    return payment


def attach_provider_payment(session: Session, payment_id: int, provider_payment_id: str, checkout_url: str) -> Payment:
    """Record the provider's id (Mollie "tr_…") and checkout URL of a request just created there."""
    payment = get_payment(session, payment_id)
    payment.provider_payment_id, payment.checkout_url = provider_payment_id or None, checkout_url or ""
    payment.updated_at = utcnow()
    _announce(session, payment)
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
    _check_source(source)
    check_reception_date(received_on, today)
    state = _locked_state(session, payment_id)
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
    _write_change(session, state, _plan(state, PaymentStatus.RECEIVED, when, received_on, extra=extra), when, source)
    return get_payment(session, payment_id)


def cancel_request(session: Session, payment_id: int, when: datetime, source: str = SOURCE_USER) -> Payment:
    """Cancel a pending request (en attente → annulé); cancelling it twice changes nothing.
    A Mollie request is not cancelled by a user here: it expires at Mollie if unpaid."""
    _check_source(source)
    state = _locked_state(session, payment_id)
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
    _write_change(session, state, _plan(state, PaymentStatus.CANCELED, when), when, source)
    return get_payment(session, payment_id)
