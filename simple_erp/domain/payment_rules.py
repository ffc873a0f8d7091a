"""Payment rules: payment lifecycle, invoice payment status, new-request checks.

Pure stdlib. Money is ``Decimal``; user-facing messages are French.

The lifecycle follows Mollie's: a payment is created ``PENDING`` ("open"), may
become ``DEBIT_IN_PROGRESS`` (SEPA direct debit submitted, Mollie "pending") or
``AUTHORIZED`` (card authorisation, captured later), then ``RECEIVED`` ("paid")
or one of the final failures. A received payment may then be refunded (in part
or in full) or charged back (SEPA direct debit rejected by the payer's bank).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

from simple_erp.domain.errors import DomainError


class PaymentStatus(str, Enum):
    PENDING = "en_attente"
    DEBIT_IN_PROGRESS = "prelevement_en_cours"
    AUTHORIZED = "autorise"
    RECEIVED = "recu"
    CANCELED = "annule"
    FAILED = "echoue"
    EXPIRED = "expire"
    REFUNDED = "rembourse"
    PARTIALLY_REFUNDED = "partiellement_rembourse"
    CHARGED_BACK = "retrofacture"


_S = PaymentStatus

STATUS_LABELS: dict[PaymentStatus, str] = {
    _S.PENDING: "En attente de paiement",
    _S.DEBIT_IN_PROGRESS: "Prélèvement en cours",
    _S.AUTHORIZED: "Autorisé",
    _S.RECEIVED: "Paiement reçu",
    _S.CANCELED: "Annulé",
    _S.FAILED: "Échoué",
    _S.EXPIRED: "Expiré",
    _S.REFUNDED: "Remboursé",
    _S.PARTIALLY_REFUNDED: "Partiellement remboursé",
    _S.CHARGED_BACK: "Prélèvement rejeté",
}

# The single source of truth for the lifecycle. A status with no exit is final.
ALLOWED_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    _S.PENDING: frozenset({_S.DEBIT_IN_PROGRESS, _S.AUTHORIZED, _S.RECEIVED,
                          _S.CANCELED, _S.FAILED, _S.EXPIRED}),
    _S.DEBIT_IN_PROGRESS: frozenset({_S.RECEIVED, _S.FAILED}),
    _S.AUTHORIZED: frozenset({_S.RECEIVED, _S.CANCELED, _S.EXPIRED}),
    _S.RECEIVED: frozenset({_S.REFUNDED, _S.PARTIALLY_REFUNDED, _S.CHARGED_BACK}),
    _S.PARTIALLY_REFUNDED: frozenset({_S.REFUNDED, _S.CHARGED_BACK}),
    _S.CANCELED: frozenset(),
    _S.FAILED: frozenset(),
    _S.EXPIRED: frozenset(),
    # The payer's bank can still charge back a payment the merchant refunded: recorded.
    _S.REFUNDED: frozenset({_S.CHARGED_BACK}),
    _S.CHARGED_BACK: frozenset(),
}

FINAL_STATUSES: frozenset[PaymentStatus] = frozenset(
    s for s, targets in ALLOWED_TRANSITIONS.items() if not targets
)

# Statuses whose amount counts towards what the invoice has received.
# A RECEIVED payment counts in full. A PARTIALLY_REFUNDED one counts for its
# amount minus the amount refunded (see ``counted_amount``). REFUNDED and
# CHARGED_BACK count for nothing: the money went back, the invoice is due again.
COUNTS_AS_RECEIVED: frozenset[PaymentStatus] = frozenset({_S.RECEIVED, _S.PARTIALLY_REFUNDED})

# Which column a move *into* a status stamps. ``received_on`` is a date column:
# store ``transition.at.date()``; the others are timezone-aware datetimes.
_STAMP_FIELDS: dict[PaymentStatus, str] = {
    _S.DEBIT_IN_PROGRESS: "debit_submitted_at",
    _S.AUTHORIZED: "authorized_at",
    _S.RECEIVED: "received_on",
    _S.CANCELED: "canceled_at",
    _S.FAILED: "failed_at",
    _S.EXPIRED: "expired_at",
    _S.REFUNDED: "refunded_at",
    _S.PARTIALLY_REFUNDED: "refunded_at",
    _S.CHARGED_BACK: "charged_back_at",
}


def is_final(status: PaymentStatus) -> bool:
    return status in FINAL_STATUSES


def stamp_field(status: PaymentStatus) -> str | None:
    """Name of the date column stamped on entering ``status`` (None for PENDING)."""
    return _STAMP_FIELDS.get(status)


def counted_amount(status: PaymentStatus, amount: Decimal,
                   refunded: Decimal = Decimal(0)) -> Decimal:
    """Part of a payment's ``amount`` that counts as received by the invoice."""
    if status not in COUNTS_AS_RECEIVED:
        return Decimal(0)
    return max(amount - refunded, Decimal(0))


class TransitionError(DomainError):
    """A payment status change that the lifecycle forbids."""


@dataclass(frozen=True)
class Transition:
    from_status: PaymentStatus
    to_status: PaymentStatus
    at: datetime


def transition(current: PaymentStatus, target: PaymentStatus,
               when: datetime) -> Transition | None:
    """Validate ``current`` → ``target``; None when unchanged (duplicate webhook)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("`when` must be timezone-aware")
    current, target = PaymentStatus(current), PaymentStatus(target)
    if current == target:
        return None
    if target not in ALLOWED_TRANSITIONS[current]:
        raise TransitionError(
            "Changement de statut impossible : "
            f"« {STATUS_LABELS[current]} » → « {STATUS_LABELS[target]} ».",
            field="status",
        )
    return Transition(current, target, when)


class InvoicePaymentStatus(str, Enum):
    UNPAID = "non_payee"
    PARTIAL = "partiellement_payee"
    PAID = "payee"
    OVERDUE = "en_retard"


INVOICE_STATUS_LABELS: dict[InvoicePaymentStatus, str] = {
    InvoicePaymentStatus.UNPAID: "Non payée",
    InvoicePaymentStatus.PARTIAL: "Partiellement payée",
    InvoicePaymentStatus.PAID: "Payée",
    InvoicePaymentStatus.OVERDUE: "En retard",
}


def amount_due(total_ttc: Decimal, received: Decimal) -> Decimal:
    """What remains to be paid; never negative (an overpayment leaves 0 due)."""
    return max(total_ttc - received, Decimal(0))


def invoice_payment_status(total_ttc: Decimal, received: Decimal,
                           due_date: date | None, today: date) -> InvoicePaymentStatus:
    """Derive the invoice's payment status.

    OVERDUE takes precedence over PARTIAL: a partly paid invoice past its due
    date is shown "En retard" (what matters is that money is late). An invoice
    with a total ≤ 0 has nothing to collect: UNPAID, never overdue.
    """
    if total_ttc <= 0:
        return InvoicePaymentStatus.UNPAID
    if received >= total_ttc:
        return InvoicePaymentStatus.PAID
    if due_date is not None and due_date < today:
        return InvoicePaymentStatus.OVERDUE
    if received > 0:
        return InvoicePaymentStatus.PARTIAL
    return InvoicePaymentStatus.UNPAID


class OverpaymentError(DomainError):
    """The amount exceeds what remains due; the UI may ask to confirm a trop-perçu."""

    def __init__(self, message: str, remaining: Decimal) -> None:
        super().__init__(message, field="amount")
        self.remaining = remaining


_NBSP = "\u00a0"  # no-break space: "1 234,56 €" never wraps before the symbol


def _eur(amount: Decimal) -> str:
    """French formatting: Decimal('-1234.5') -> '-1 234,50 €' (no-break spaces)."""
    q = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    units, cents = f"{abs(q):.2f}".split(".")
    groups = f"{int(units):,}".replace(",", _NBSP)
    return f"{sign}{groups},{cents}{_NBSP}€"


def check_new_request(amount: Decimal, total_ttc: Decimal,
                      already_requested_or_received: Decimal, document_is_final: bool,
                      is_invoice: bool, allow_overpay: bool) -> None:
    """Refuse a new payment (request or reception) that breaks a rule."""
    if not is_invoice:
        raise DomainError("Un paiement ne peut être enregistré que sur une facture.")
    if not document_is_final:
        raise DomainError("La facture doit être finalisée avant d'enregistrer un paiement.")
    if not amount.is_finite() or amount <= 0:
        raise DomainError("Le montant doit être supérieur à zéro.", field="amount")
    try:
        too_precise = amount != amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        too_precise = True
    if too_precise:
        raise DomainError("Le montant ne peut pas avoir plus de deux décimales.",
                          field="amount")
    remaining = amount_due(total_ttc, already_requested_or_received)
    if amount > remaining and not allow_overpay:
        raise OverpaymentError(
            f"Le montant dépasse le reste dû ({_eur(remaining)}). "
            "Confirmez pour enregistrer un trop-perçu.",
            remaining,
        )


def check_reception_date(received_on: date, today: date) -> None:
    if received_on > today:
        raise DomainError("La date de réception ne peut pas être dans le futur.",
                          field="received_on")
