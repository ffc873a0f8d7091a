"""Bring our Mollie payments to what Mollie says: the one sync used by the webhook, the
reconciliation (command and background task) and the "Resynchroniser" button. Part of
``services.mollie.payments`` (use it from there).

Never trust a webhook: only the id is used; the payment is fetched with its company's
key; its metadata must name our payment and its amount be ours; its status goes through
the explicit table of ``domain.mollie_status``, then the status-change service the UI
uses (``payments.apply_status_if_unchanged``, one statement when the payment is still as
read before the fetch, else ``payments.apply_status``), which is idempotent. A missed
webhook is caught up in order ("Paiement reçu" before its refund), so a reception is dated
and counted exactly once.
"""

from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, select

from simple_erp import db
from simple_erp.domain.errors import DomainError
from simple_erp.domain.mollie_status import UnknownMollieStatus, catch_up_steps, map_status
from simple_erp.domain.payment_rules import PaymentStatus, TransitionError
from simple_erp.models.company import Company
from simple_erp.models.document import Document
from simple_erp.models.payment import Payment
from simple_erp.models.types import utcnow
from simple_erp.providers.mollie import MollieError, PaymentInfo
from simple_erp.services.advisory_lock import exclusive
from simple_erp.services import clock, payments
from simple_erp.services.mollie.gateway import SessionFactory, api_key_for, gateway_for_key, record_error

logger = logging.getLogger(__name__)

_S = PaymentStatus
IN_FLIGHT = (_S.PENDING.value, _S.DEBIT_IN_PROGRESS.value, _S.AUTHORIZED.value)
OUTCOMES = ("applied", "unchanged", "ignored", "unknown")
OUTCOME_MESSAGES = {
    "applied": "Statut mis à jour depuis Mollie.",
    "unchanged": "Déjà à jour : rien n'a changé chez Mollie.",
    "ignored": "Mollie a répondu, mais sa réponse n'a pas pu être appliquée à ce paiement (voir le journal).",
    "unknown": "Ce paiement est inconnu de Simple ERP.",
}
_SOURCES = {"webhook": payments.SOURCE_WEBHOOK, "resynchronisation": payments.SOURCE_RESYNC,
            "resync": payments.SOURCE_RESYNC, "reconcile": payments.SOURCE_RESYNC,
            "utilisateur": payments.SOURCE_USER, "user": payments.SOURCE_USER}
_RECONCILE_LOCK_ID = 7_214_302  # PostgreSQL advisory lock: one reconciliation at a time


# The statements every webhook runs, built once (building them costs more CPU than running
# them): Core statements, so no ORM bookkeeping either.
_PAYMENT, _DOCUMENT, _COMPANY = Payment.__table__, Document.__table__, Company.__table__
_KNOWN = (  # the payment as stored and its company's key only: never the company's logo
    select(*payments.STATE_COLUMNS, _COMPANY.c.id, _COMPANY.c.mollie_api_key_encrypted)
    .select_from(_PAYMENT.join(_DOCUMENT, _DOCUMENT.c.id == _PAYMENT.c.document_id)
                 .join(_COMPANY, _COMPANY.c.id == _DOCUMENT.c.company_id))
    .where(_PAYMENT.c.provider_payment_id == bindparam("b_provider_id"))
)
_KNOWN_PREPARED = db.Prepared("simple_erp_webhook_known", _KNOWN)
_SAME_STATUS = (_PAYMENT.c.id == bindparam("b_id"), _PAYMENT.c.status == bindparam("b_status"))
_MARK_SYNCED = {"last_synced_at": bindparam("b_now"), "provider_error": ""}
_STAMP = update(_PAYMENT).where(_PAYMENT.c.id == bindparam("b_id")).values(**_MARK_SYNCED)
_UNCHANGED = {  # conditional UPDATE per kind of target: nothing to compare, refunded, charged back
    "status": update(_PAYMENT).where(*_SAME_STATUS).values(**_MARK_SYNCED),
    "refunded": update(_PAYMENT).where(*_SAME_STATUS, _PAYMENT.c.amount_refunded == bindparam("b_amount"))
    .values(**_MARK_SYNCED),
    "charged_back": update(_PAYMENT).where(*_SAME_STATUS, _PAYMENT.c.amount_charged_back == bindparam("b_amount"))
    .values(**_MARK_SYNCED),
}
_UNCHANGED_PREPARED = {statement: db.Prepared(f"simple_erp_webhook_unchanged_{kind}", statement)
                       for kind, statement in _UNCHANGED.items()}


# SQLite has one writer at a time, and a writer that finds the database locked sleeps
# (1, 2, 5, 10… ms) before it tries again: concurrent webhooks of this process queue here
# instead, and each one starts as soon as the previous one has committed.
_SQLITE_WRITER = threading.Lock()


def _one_writer(session: Session):
    return _SQLITE_WRITER if session.get_bind().dialect.name == "sqlite" else nullcontext()


@dataclass(frozen=True)
class SyncResult:
    outcome: str  # applied | unchanged | ignored | unknown
    error: str = ""  # French, when Mollie refused or answered something unusable


@dataclass(frozen=True)
class _Known:
    payment_id: int
    amount: Decimal
    api_key: str | None
    key_error: str
    state: payments.PaymentState | None = None  # as read before calling Mollie (no lock)


def outcome_message(outcome: str) -> str:
    """French text of an outcome, for a toast."""
    return OUTCOME_MESSAGES.get(outcome, outcome)


def _source(source: str) -> str:
    try:
        return _SOURCES[source]
    except KeyError:
        raise ValueError(f"unknown source {source!r}: one of {sorted(_SOURCES)}") from None


def _load_known(session: Session, provider_payment_id: str) -> _Known | None:
    row = db.execute_alone(session, _KNOWN, {"b_provider_id": provider_payment_id}, _KNOWN_PREPARED).first()
    if row is None:
        return None
    state, (company_id, encrypted_key) = payments.PaymentState(*row[:-2]), row[-2:]
    try:
        return _Known(state.id, state.amount, api_key_for(company_id, encrypted_key), "", state)
    except DomainError as err:
        return _Known(state.id, state.amount, None, err.message)


def _mismatch(info: PaymentInfo, known: _Known, provider_payment_id: str) -> str:
    """Why the fetched payment is not the one we know under this id ("" when it is)."""
    metadata = info.metadata if isinstance(info.metadata, dict) else {}
    if info.id != provider_payment_id:
        return f"Mollie answered payment {info.id!r}"
    if str(metadata.get("payment_id", "")) != str(known.payment_id):
        return f"metadata payment_id {metadata.get('payment_id')!r} is not ours"
    if info.amount != known.amount:
        return f"amount {info.amount} differs from ours ({known.amount})"
    return ""


def _mark_if_unchanged(session: Session, payment_id: int, target: PaymentStatus, info: PaymentInfo,
                       now) -> bool:
    """One conditional UPDATE: stamps last_synced_at when the payment already is ``target``
    (with the same refunded / charged back amount where it matters). True when it was."""
    params = {"b_id": payment_id, "b_status": target.value, "b_now": now}
    if target in (_S.REFUNDED, _S.PARTIALLY_REFUNDED):
        statement, params["b_amount"] = _UNCHANGED["refunded"], info.amount_refunded
    elif target is _S.CHARGED_BACK:
        statement, params["b_amount"] = _UNCHANGED["charged_back"], info.amount_charged_back
    else:
        statement = _UNCHANGED["status"]
    return db.execute_alone(session, statement, params, _UNCHANGED_PREPARED[statement]).rowcount == 1


def _looks_unchanged(state: payments.PaymentState | None, target: PaymentStatus, info: PaymentInfo) -> bool:
    """From a state read earlier: worth trying the one-UPDATE path (None: do not know)."""
    if state is None:
        return True
    if state.status != target.value:
        return False
    if target in (_S.REFUNDED, _S.PARTIALLY_REFUNDED):
        return state.amount_refunded == info.amount_refunded
    return target is not _S.CHARGED_BACK or state.amount_charged_back == info.amount_charged_back


def _step_arguments(step: PaymentStatus, info: PaymentInfo, now) -> dict:
    paid_on = info.paid_at.astimezone(clock.PARIS).date() if step is _S.RECEIVED and info.paid_at else None
    return {
        "received_on": paid_on,
        "amount_refunded": info.amount_refunded if step in (_S.REFUNDED, _S.PARTIALLY_REFUNDED) else None,
        "amount_charged_back": info.amount_charged_back if step is _S.CHARGED_BACK else None,
        "note": f"Mollie : {info.status}",
        "synced_at": now,
    }


def apply_info(session: Session, payment_id: int, info: PaymentInfo, source: str,
               known_state: payments.PaymentState | None = None) -> str:
    """Bring the payment to the status of ``info`` (fetched from Mollie): "applied" or
    "unchanged". UnknownMollieStatus and TransitionError propagate (the caller rolls back).
    ``known_state``, read before the fetch without a lock, chooses the path: the usual
    duplicate costs one conditional UPDATE, the usual status change one statement on
    PostgreSQL (``payments.apply_status_if_unchanged``); otherwise, or when the payment
    changed meanwhile, ``payments.apply_status`` locks the invoice and reads it again."""
    target = map_status(info.status, info.method, info.amount, info.amount_refunded, info.amount_charged_back)
    now = utcnow()
    if _looks_unchanged(known_state, target, info) and _mark_if_unchanged(session, payment_id, target, info, now):
        return "unchanged"  # a repeat: one UPDATE, no lock on the invoice
    current = known_state.status if known_state else payments.get_payment(session, payment_id).status
    steps = catch_up_steps(PaymentStatus(current), target)
    if known_state is not None and len(steps) == 1 and payments.apply_status_if_unchanged(
            session, known_state, steps[0], now, source, **_step_arguments(steps[0], info, now)):
        return "applied"
    # The steps come from a read made without the invoice's lock; apply_status takes it,
    # reads the payment again and refuses a step that no longer fits. Statuses only move
    # forward, so a step refused before the last one means that a concurrent delivery got
    # past it already: skip it. A refused last step propagates (TransitionError).
    changed = False
    for position, step in enumerate(steps, start=1):
        try:
            changed |= payments.apply_status(session, payment_id, step, now, source,
                                             **_step_arguments(step, info, now))
        except TransitionError:
            if position == len(steps):
                raise
    if not changed:
        session.connection().execute(_STAMP, {"b_id": payment_id, "b_now": now})
    return "applied" if changed else "unchanged"


def sync(session_factory: SessionFactory, provider_payment_id: str, source: str) -> SyncResult:
    """``sync_from_provider`` with the French error kept (for the button)."""
    source = _source(source)
    with session_factory() as session:
        known = _load_known(session, provider_payment_id)
    if known is None:
        logger.info("Mollie payment %s is unknown here: nothing to do", provider_payment_id)
        return SyncResult("unknown")
    if known.api_key is None:
        record_error(session_factory, known.payment_id, known.key_error)
        return SyncResult("ignored", known.key_error)
    try:
        info = gateway_for_key(known.api_key).get_payment(provider_payment_id)
    except DomainError as err:
        record_error(session_factory, known.payment_id, err.message)
        return SyncResult("ignored", err.message)
    except MollieError as err:
        if err.retryable:
            raise
        logger.warning("Mollie payment %s (payment %s) cannot be fetched: %s",
                       provider_payment_id, known.payment_id, err.message)
        record_error(session_factory, known.payment_id, err.message)
        return SyncResult("ignored", err.message)
    problem = _mismatch(info, known, provider_payment_id)
    if problem:
        logger.warning("Mollie payment %s ignored for payment %s: %s", provider_payment_id, known.payment_id, problem)
        return SyncResult("ignored", "La réponse de Mollie ne correspond pas à ce paiement.")
    try:
        with session_factory() as session, _one_writer(session):
            outcome = apply_info(session, known.payment_id, info, source, known.state)
            session.commit()  # inside the lock
            return SyncResult(outcome)
    except UnknownMollieStatus as err:
        logger.error("Mollie payment %s (payment %s) has an unknown status %r: not applied",
                     provider_payment_id, known.payment_id, err.status)
        message = f"Statut Mollie inconnu : « {err.status} »."
        record_error(session_factory, known.payment_id, message)
        return SyncResult("ignored", message)
    except TransitionError as err:
        logger.warning("Mollie payment %s (payment %s, Mollie status %s) not applied: %s",
                       provider_payment_id, known.payment_id, info.status, err.message)
        return SyncResult("ignored", err.message)


def sync_from_provider(session_factory: SessionFactory, provider_payment_id: str, source: str = "webhook") -> str:
    """Fetch the Mollie payment and apply its status to ours. Returns "applied",
    "unchanged", "ignored" (a refused move, a foreign or unusable answer, an unknown Mollie
    status: logged) or "unknown" (no payment of ours has this id). Raises MollieError when
    retrying later may help (Mollie unreachable, 5xx, 429): the webhook answers 503."""
    return sync(session_factory, provider_payment_id, source).outcome


def resync_payment(session_factory: SessionFactory, payment_id: int) -> str:
    """The "Resynchroniser" button: the outcome of ``sync_from_provider`` (French text:
    ``outcome_message``); DomainError (French) when Mollie cannot answer usefully."""
    with session_factory() as session:
        payment = payments.get_payment(session, payment_id)
        if payment.provider != payments.PROVIDER_MOLLIE:
            raise DomainError("Seul un paiement Mollie se resynchronise.")
        provider_id = payment.provider_payment_id
    if not provider_id:
        raise DomainError("Ce paiement n'a pas encore été créé chez Mollie : enregistrez-le à nouveau.")
    try:
        result = sync(session_factory, provider_id, payments.SOURCE_RESYNC)
    except MollieError as err:
        raise DomainError(err.message) from err
    if result.outcome == "ignored" and result.error:
        raise DomainError(result.error)
    return result.outcome


def reconcile(session_factory: SessionFactory, older_than: timedelta = timedelta(minutes=5),
              limit: int = 500) -> dict[str, int]:
    """Fetch again every Mollie payment still in flight (en attente, prélèvement en cours,
    autorisé) requested more than ``older_than`` ago and not synced since, so that a missed
    webhook never leaves an invoice unpaid. Counts: checked, one per outcome, errors
    (Mollie unreachable…), and skipped=1 when another worker is already reconciling."""
    counts = {"checked": 0, **{outcome: 0 for outcome in OUTCOMES}, "errors": 0}
    with exclusive(session_factory, _RECONCILE_LOCK_ID) as mine:
        if not mine:
            return counts | {"skipped": 1}
        cutoff = utcnow() - older_than
        with session_factory() as session:
            rows = list(session.exec(
                select(Payment.id, Payment.provider_payment_id)
                .where(Payment.provider == payments.PROVIDER_MOLLIE, Payment.status.in_(IN_FLIGHT),
                       Payment.provider_payment_id.is_not(None), Payment.requested_at <= cutoff,
                       or_(Payment.last_synced_at.is_(None), Payment.last_synced_at <= cutoff))
                .order_by(Payment.requested_at, Payment.id).limit(limit)
            ))
        for payment_id, provider_id in rows:
            counts["checked"] += 1
            try:
                counts[sync_from_provider(session_factory, provider_id, "resynchronisation")] += 1
            except MollieError as err:
                counts["errors"] += 1
                logger.warning("reconcile: payment %s not fetched: %s", payment_id, err.message)
            except Exception:  # logged: one bad payment must not stop the others
                counts["errors"] += 1
                logger.exception("reconcile: payment %s failed", payment_id)
    return counts
