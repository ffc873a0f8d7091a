"""What the customer still has to pay on an invoice: the one computation behind the
payment information of an email, the public payment page and the payment block.

Pure stdlib; money is ``Decimal``; messages are French.

A payment is in one of three situations (see ``payment_rules.PaymentStatus``):

* **received**: counted as ``payment_rules.counted_amount`` says (a partly refunded
  payment for what was kept; refunded or charged back ones for nothing);
* **in flight**: money on its way that needs nothing more from the payer, and that
  the payer must not pay a second time: a SEPA direct debit submitted to the bank
  (``DEBIT_IN_PROGRESS``), a card payment authorised and waiting to be captured
  (``AUTHORIZED``), and a direct debit requested but not yet submitted (``PENDING`` on
  a "Prélèvement SEPA" moyen: the money is taken from the mandate, the payer does
  nothing);
* **awaiting the payer**: any other ``PENDING`` request (a Mollie card checkout still
  open, a cheque or a transfer announced). Nothing has been paid: it stays *to pay*, and
  the payment information offers the way to pay it. Counting it as paid would tell the
  customer that nothing remains while no money is on its way.

Failed, cancelled and expired payments count for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from simple_erp.domain.money import format_eur
from simple_erp.domain.payment_rules import PaymentStatus, counted_amount

ZERO = Decimal("0.00")
_S = PaymentStatus
_ALWAYS_IN_FLIGHT = frozenset({_S.DEBIT_IN_PROGRESS, _S.AUTHORIZED})


@dataclass(frozen=True)
class PaymentLine:
    """One payment of the invoice, as this computation needs it."""

    status: PaymentStatus
    amount: Decimal
    refunded: Decimal = ZERO
    direct_debit: bool = False  # on a "Prélèvement SEPA" moyen


def is_in_flight(line: PaymentLine) -> bool:
    """Money on its way that needs nothing more from the payer."""
    status = PaymentStatus(line.status)
    return status in _ALWAYS_IN_FLIGHT or (status is _S.PENDING and line.direct_debit)


def awaits_payer(line: PaymentLine) -> bool:
    """Requested, and nothing happens until the payer pays it."""
    return PaymentStatus(line.status) is _S.PENDING and not line.direct_debit


@dataclass(frozen=True)
class RemainingDue:
    total: Decimal
    received: Decimal
    in_flight: Decimal  # on its way (debits, card authorisations): not to be paid again
    debits_in_flight: Decimal  # the direct debits among ``in_flight``
    awaiting_payer: Decimal  # requested, waiting for the payer (open checkout, cheque announced…)

    @property
    def due(self) -> Decimal:
        """Total − received, ≥ 0 (what the invoice has not received yet)."""
        return max(self.total - self.received, ZERO)

    @property
    def to_pay(self) -> Decimal:
        """What the payer still has to pay: due net of the money in flight, ≥ 0."""
        return max(self.due - self.in_flight, ZERO)

    @property
    def unrequested(self) -> Decimal:
        """What no request covers yet (to propose for a new request), ≥ 0."""
        return max(self.to_pay - self.awaiting_payer, ZERO)

    @property
    def overpaid(self) -> Decimal:
        return max(self.received - self.total, ZERO)

    @property
    def covered_in_flight(self) -> bool:
        """Something is due, but money in flight covers all of it."""
        return self.due > 0 and self.to_pay <= 0


def remaining_due(total_ttc: Decimal, lines: Iterable[PaymentLine]) -> RemainingDue:
    """Sum the invoice's payments into received / in flight / awaiting the payer."""
    received = in_flight = debits = awaiting = ZERO
    for line in lines:
        status = PaymentStatus(line.status)
        received += counted_amount(status, line.amount, line.refunded)
        if is_in_flight(line):
            in_flight += line.amount
            if line.direct_debit:
                debits += line.amount
        elif awaits_payer(line):
            awaiting += line.amount
    return RemainingDue(total=Decimal(total_ttc), received=received, in_flight=in_flight,
                        debits_in_flight=debits, awaiting_payer=awaiting)


def _in_flight_words(remaining: RemainingDue) -> str:
    """« un prélèvement de 520,00 € est en cours » and the like."""
    amount = format_eur(remaining.in_flight)
    if remaining.debits_in_flight == remaining.in_flight:
        return f"un prélèvement de {amount} est en cours"
    if remaining.debits_in_flight == 0:
        return f"un paiement par carte de {amount} est en cours d'encaissement"
    return f"des paiements de {amount} (prélèvement et carte) sont en cours"


def nothing_to_pay_message(remaining: RemainingDue) -> str:
    """What to tell the payer when ``to_pay`` is 0; "" when something remains to pay."""
    if remaining.to_pay > 0:
        return ""
    if remaining.covered_in_flight:
        return f"Aucun montant restant à régler : {_in_flight_words(remaining)}."
    if remaining.overpaid > 0:
        return f"Aucun montant restant à régler : la facture est réglée (trop-perçu de {format_eur(remaining.overpaid)})."
    return "Aucun montant restant à régler : la facture est réglée."


def in_flight_note(remaining: RemainingDue) -> str:
    """When something remains to pay while money is in flight: say the in-flight part is
    not to be paid again; "" otherwise."""
    if remaining.to_pay <= 0 or remaining.in_flight <= 0 or remaining.due <= 0:
        return ""
    words = _in_flight_words(remaining)
    return f"{words[0].upper()}{words[1:]} : ce montant n'est pas à régler une seconde fois."
