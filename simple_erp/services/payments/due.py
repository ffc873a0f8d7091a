"""What the customer still has to pay on an invoice, net of what was received and of the
money in flight (``domain.remaining_due``), read from the database: the one function the
email's payment information, the public payment page and the payment block use. Part of
``services.payments`` (use it from there)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from simple_erp.domain.errors import DomainError
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.domain.remaining_due import PaymentLine, RemainingDue, remaining_due
from simple_erp.models.document import Document
from simple_erp.models.payment import Payment, PaymentMethod, PaymentType

DIRECT_DEBIT_TYPE_CODE = "prelevement_sepa"  # "Prélèvement SEPA": taken from the payer's mandate


def direct_debit_method_ids(session: Session, method_ids: Iterable[int]) -> set[int]:
    """Those of ``method_ids`` whose payment type is "Prélèvement SEPA"."""
    wanted = set(method_ids)
    if not wanted:
        return set()
    query = (select(PaymentMethod.id).join(PaymentType, PaymentType.id == PaymentMethod.payment_type_id)
             .where(PaymentMethod.id.in_(wanted), PaymentType.code == DIRECT_DEBIT_TYPE_CODE))
    return set(session.exec(query))


def remaining_of(session: Session, total_ttc, payments: list[Payment]) -> RemainingDue:
    """``remaining_due`` of an invoice whose payments were already read."""
    debits = direct_debit_method_ids(session, {p.method_id for p in payments})
    return remaining_due(total_ttc, (
        PaymentLine(PaymentStatus(p.status), p.amount, p.amount_refunded, p.method_id in debits) for p in payments))


def remaining_to_pay(session: Session, doc_id: int) -> RemainingDue:
    """The invoice's total, received, in flight and awaiting the payer, as stored now;
    ``.to_pay`` is what the customer still has to pay (never what a running debit covers)."""
    doc = session.get(Document, doc_id) if doc_id else None
    if doc is None:
        raise DomainError("Ce document n'existe pas.")
    session.flush()
    query = select(Payment).where(Payment.document_id == doc_id).order_by(Payment.requested_at, Payment.id)
    return remaining_of(session, doc.total_ttc, list(session.exec(query.execution_options(populate_existing=True))))
