"""What the customer still has to pay: net of received and in-flight payments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simple_erp.domain.money import format_eur
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.domain.remaining_due import (
    PaymentLine,
    awaits_payer,
    in_flight_note,
    is_in_flight,
    nothing_to_pay_message,
    remaining_due,
)

S = PaymentStatus
D = Decimal


def line(status: S, amount: str, refunded: str = "0", debit: bool = False) -> PaymentLine:
    return PaymentLine(status, D(amount), D(refunded), debit)


def test_partial_payment_and_a_running_debit_leave_nothing_to_pay():
    r = remaining_due(D("1620.00"), [line(S.RECEIVED, "1100"), line(S.DEBIT_IN_PROGRESS, "520", debit=True)])
    assert (r.received, r.in_flight, r.debits_in_flight, r.awaiting_payer) == (D(1100), D(520), D(520), D(0))
    assert (r.due, r.to_pay, r.unrequested, r.overpaid) == (D(520), D(0), D(0), D(0))
    assert r.covered_in_flight
    assert nothing_to_pay_message(r) == (
        f"Aucun montant restant à régler : un prélèvement de {format_eur(D(520))} est en cours.")
    assert in_flight_note(r) == ""


def test_a_debit_covering_part_of_the_rest_leaves_the_difference():
    r = remaining_due(D("1620.00"), [line(S.RECEIVED, "1100"), line(S.DEBIT_IN_PROGRESS, "300", debit=True)])
    assert (r.due, r.to_pay) == (D(520), D(220))
    assert not r.covered_in_flight and nothing_to_pay_message(r) == ""
    assert in_flight_note(r) == (f"Un prélèvement de {format_eur(D(300))} est en cours : "
                                 "ce montant n'est pas à régler une seconde fois.")


def test_several_in_flight_payments_add_up():
    lines = [line(S.RECEIVED, "100"), line(S.DEBIT_IN_PROGRESS, "200", debit=True),
             line(S.PENDING, "150", debit=True),  # requested from the mandate, not yet submitted
             line(S.AUTHORIZED, "50"),  # card authorised, to be captured
             line(S.PENDING, "80"),  # a card checkout still open: nothing paid yet
             line(S.FAILED, "999", debit=True), line(S.EXPIRED, "999"), line(S.CANCELED, "999")]
    r = remaining_due(D("600"), lines)
    assert (r.received, r.in_flight, r.debits_in_flight, r.awaiting_payer) == (D(100), D(400), D(350), D(80))
    assert (r.due, r.to_pay, r.unrequested) == (D(500), D(100), D(20))
    assert in_flight_note(r).startswith("Des paiements de ")
    covered = remaining_due(D("500"), lines)
    assert covered.to_pay == 0 and covered.covered_in_flight
    assert nothing_to_pay_message(covered) == (
        f"Aucun montant restant à régler : des paiements de {format_eur(D(400))} (prélèvement et carte) sont en cours.")


def test_an_open_card_checkout_is_still_to_pay():
    r = remaining_due(D("120"), [line(S.PENDING, "120")])
    assert (r.in_flight, r.awaiting_payer, r.to_pay, r.unrequested) == (D(0), D(120), D(120), D(0))
    assert nothing_to_pay_message(r) == ""


def test_an_authorised_card_payment_is_in_flight():
    r = remaining_due(D("120"), [line(S.AUTHORIZED, "120")])
    assert r.to_pay == 0
    assert nothing_to_pay_message(r) == (
        f"Aucun montant restant à régler : un paiement par carte de {format_eur(D(120))} est en cours d'encaissement.")


def test_nothing_remaining_once_received():
    r = remaining_due(D("1620"), [line(S.RECEIVED, "1100"), line(S.RECEIVED, "520", debit=True)])
    assert (r.due, r.to_pay, r.overpaid, r.covered_in_flight) == (D(0), D(0), D(0), False)
    assert nothing_to_pay_message(r) == "Aucun montant restant à régler : la facture est réglée."


def test_overpaid_leaves_nothing_to_pay_and_says_so():
    r = remaining_due(D("100"), [line(S.RECEIVED, "80"), line(S.RECEIVED, "50"), line(S.DEBIT_IN_PROGRESS, "10", debit=True)])
    assert (r.due, r.to_pay, r.unrequested, r.overpaid) == (D(0), D(0), D(0), D(30))
    assert nothing_to_pay_message(r) == (
        f"Aucun montant restant à régler : la facture est réglée (trop-perçu de {format_eur(D(30))}).")


def test_refunds_and_chargebacks_make_money_due_again():
    r = remaining_due(D("100"), [line(S.PARTIALLY_REFUNDED, "100", refunded="30"), line(S.CHARGED_BACK, "50")])
    assert (r.received, r.to_pay) == (D(70), D(30))


@pytest.mark.parametrize("status", list(S))
def test_each_status_is_exactly_one_of_received_in_flight_awaiting_or_nothing(status):
    for debit in (False, True):
        item = line(status, "10", debit=debit)
        assert not (is_in_flight(item) and awaits_payer(item))
        expected_in_flight = status in (S.DEBIT_IN_PROGRESS, S.AUTHORIZED) or (status is S.PENDING and debit)
        assert is_in_flight(item) == expected_in_flight
        assert awaits_payer(item) == (status is S.PENDING and not debit)
