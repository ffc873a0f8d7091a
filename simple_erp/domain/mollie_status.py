"""Mollie payment status → our payment status: one explicit table, pure Python.

The table is keyed by (Mollie status, context), the context being ``"directdebit"`` for a
SEPA direct debit (Mollie's "pending" then means the debit was submitted to the bank:
"Prélèvement en cours") and ``"other"`` for everything else (a card payment that is
"pending" is still waiting for the payer: "En attente de paiement").

On a paid payment, money that went back takes precedence over "paid": a chargeback
(``amountChargedBack`` > 0) gives ``CHARGED_BACK``; otherwise a refund of the whole amount
gives ``REFUNDED`` and a refund of part of it ``PARTIALLY_REFUNDED``.

A status missing from the table raises ``UnknownMollieStatus``: a new Mollie status is a
code change, never something to guess (see DESIGN.md, convention 5).
"""

from __future__ import annotations

from decimal import Decimal

from simple_erp.domain.payment_rules import PaymentStatus

DIRECT_DEBIT = "directdebit"
OTHER = "other"
CONTEXTS = (DIRECT_DEBIT, OTHER)
ZERO = Decimal(0)

_S = PaymentStatus

# (Mollie status, context) -> our status. Every known Mollie payment status appears once
# per context, so that nothing is decided by a default.
MOLLIE_STATUS_TABLE: dict[tuple[str, str], PaymentStatus] = {
    ("open", OTHER): _S.PENDING,
    ("open", DIRECT_DEBIT): _S.PENDING,
    ("pending", OTHER): _S.PENDING,
    ("pending", DIRECT_DEBIT): _S.DEBIT_IN_PROGRESS,
    ("authorized", OTHER): _S.AUTHORIZED,
    ("authorized", DIRECT_DEBIT): _S.AUTHORIZED,
    ("paid", OTHER): _S.RECEIVED,
    ("paid", DIRECT_DEBIT): _S.RECEIVED,
    ("canceled", OTHER): _S.CANCELED,
    ("canceled", DIRECT_DEBIT): _S.CANCELED,
    ("expired", OTHER): _S.EXPIRED,
    ("expired", DIRECT_DEBIT): _S.EXPIRED,
    ("failed", OTHER): _S.FAILED,
    ("failed", DIRECT_DEBIT): _S.FAILED,
}

KNOWN_MOLLIE_STATUSES = frozenset(status for status, _context in MOLLIE_STATUS_TABLE)


class UnknownMollieStatus(ValueError):
    """Mollie answered a status this table does not know (the caller logs it as an error)."""

    def __init__(self, status: object) -> None:
        super().__init__(f"unknown Mollie payment status {status!r}")
        self.status = status


def context_of(method: str | None) -> str:
    """``"directdebit"`` for a SEPA direct debit, ``"other"`` otherwise."""
    return DIRECT_DEBIT if method == DIRECT_DEBIT else OTHER


def base_status(mollie_status: str, method: str | None) -> PaymentStatus:
    """The table lookup alone (no refunds or chargebacks)."""
    try:
        return MOLLIE_STATUS_TABLE[(mollie_status, context_of(method))]
    except (KeyError, TypeError):
        raise UnknownMollieStatus(mollie_status) from None


def map_status(mollie_status: str, method: str | None, amount: Decimal,
               amount_refunded: Decimal = ZERO, amount_charged_back: Decimal = ZERO) -> PaymentStatus:
    """Our status for a Mollie payment as fetched from Mollie.

    ``amount``, ``amount_refunded`` and ``amount_charged_back`` are Mollie's ``amount``,
    ``amountRefunded`` and ``amountChargedBack`` (``Decimal``; 0 when absent)."""
    status = base_status(mollie_status, method)
    if status is not _S.RECEIVED:
        return status
    if amount_charged_back > ZERO:
        return _S.CHARGED_BACK
    if amount_refunded >= amount > ZERO:
        return _S.REFUNDED
    if amount_refunded > ZERO:
        return _S.PARTIALLY_REFUNDED
    return _S.RECEIVED


# Our statuses before "paid", and the ones only a paid payment can reach.
_BEFORE_PAID = frozenset({_S.PENDING, _S.DEBIT_IN_PROGRESS, _S.AUTHORIZED})
_AFTER_PAID = frozenset({_S.REFUNDED, _S.PARTIALLY_REFUNDED, _S.CHARGED_BACK})


def catch_up_steps(current: PaymentStatus, target: PaymentStatus) -> list[PaymentStatus]:
    """The statuses to apply, in order, to bring ``current`` to what Mollie says now.

    A webhook can be missed: a payment still "en attente" here may already be paid and
    refunded at Mollie. It must then go through "Paiement reçu" first (the lifecycle has
    no direct move from a pending payment to a refund), so that the reception is dated
    and counted once, then refunded. Any other case is the target alone (the lifecycle
    then accepts or refuses it)."""
    current, target = PaymentStatus(current), PaymentStatus(target)
    if current in _BEFORE_PAID and target in _AFTER_PAID:
        return [_S.RECEIVED, target]
    return [target]
