"""Simple Paiement: every change of a payment's status, the one place (manual or from
a Mollie webhook), and the constants of providers and sources. Part of
``services.payments`` (use it from there).

``apply_status`` locks the invoice, reads the payment again and writes the change (the
payment, its ``payment_event`` audit row, the invoice's received amount).
``apply_status_if_unchanged`` is its fast form for the Mollie webhook: one prepared
statement on PostgreSQL when the payment is still as read before the fetch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, func, insert, literal_column, type_coerce, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from simple_erp import db
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_eur
from simple_erp.domain.payment_rules import (
    COUNTS_AS_RECEIVED,
    PaymentStatus,
    counted_amount,
    stamp_field,
    transition,
)
from simple_erp.models.document import Document
from simple_erp.models.payment import Payment, PaymentEvent
from simple_erp.models.types import utcnow
from simple_erp.services import changes
from simple_erp.services.clock import PARIS

PROVIDER_MANUAL, PROVIDER_MOLLIE = "manuel", "mollie"
SOURCE_USER, SOURCE_WEBHOOK, SOURCE_RESYNC = "utilisateur", "webhook", "resynchronisation"
SOURCES = frozenset({SOURCE_USER, SOURCE_WEBHOOK, SOURCE_RESYNC})


# --- status changes: the one place ----------------------------------------------------------------


def record_event(session: Session, payment: Payment, from_status: str, to_status: str, when: datetime,
           source: str, note: str = "") -> None:
    session.add(PaymentEvent(payment_id=payment.id, from_status=from_status, to_status=to_status,
                             at=when, source=source, note=note))
    announce(session, payment)


def announce(session: Session, payment: Payment) -> None:
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
READ_RECEIVED = select(_RECEIVED_SUM).where(_PAY.c.document_id == bindparam("b_doc"))
_SET_RECEIVED = (update(_DOC).where(_DOC.c.id == bindparam("b_doc"))
                 .values(amount_received=READ_RECEIVED.scalar_subquery()))
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


def locked_state(session: Session, payment_id: int) -> PaymentState:
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


def plan_change(state: PaymentState, target: PaymentStatus, when: datetime, received_on: date | None = None,
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


def write_change(session: Session, state: PaymentState, change: _Change, when: datetime, source: str) -> None:
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
    check_source(source)
    session.flush()  # pending ORM changes first: the statement may commit at once
    extra = {"last_synced_at": synced_at, "provider_error": ""} if synced_at is not None else None
    try:
        change = plan_change(expected, PaymentStatus(target), when, received_on, amount_refunded, amount_charged_back,
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


def check_source(source: str) -> None:
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
    check_source(source)
    target = PaymentStatus(target)
    state = locked_state(session, payment_id)
    extra = {"last_synced_at": synced_at, "provider_error": ""} if synced_at is not None else None
    change = plan_change(state, target, when, received_on, amount_refunded, amount_charged_back, note, extra)
    if change is None:
        return False
    write_change(session, state, change, when, source)
    return True
