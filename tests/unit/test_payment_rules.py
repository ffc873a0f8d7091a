"""Tests for simple_erp.domain.payment_rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_erp.domain.errors import DomainError
from simple_erp.domain.payment_rules import (
    ALLOWED_TRANSITIONS,
    COUNTS_AS_RECEIVED,
    FINAL_STATUSES,
    INVOICE_STATUS_LABELS,
    STATUS_LABELS,
    InvoicePaymentStatus,
    OverpaymentError,
    PaymentStatus,
    Transition,
    TransitionError,
    _eur,
    amount_due,
    check_new_request,
    check_reception_date,
    counted_amount,
    invoice_payment_status,
    is_final,
    stamp_field,
    transition,
)

S = PaymentStatus
IPS = InvoicePaymentStatus
WHEN = datetime(2024, 3, 15, 10, 30, tzinfo=timezone.utc)
NBSP = "\u00a0"

ALL_PAIRS = [(a, b) for a, b in product(S, S) if a != b]
ALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED_TRANSITIONS[a]]
FORBIDDEN_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED_TRANSITIONS[a]]


def _id(pair):
    return f"{pair[0].name}->{pair[1].name}"


# --- Table shape -------------------------------------------------------------

def test_table_and_labels_cover_every_status():
    assert set(ALLOWED_TRANSITIONS) == set(S)
    assert set(STATUS_LABELS) == set(S)
    assert set(INVOICE_STATUS_LABELS) == set(IPS)
    assert all(isinstance(v, frozenset) for v in ALLOWED_TRANSITIONS.values())
    assert all(s not in ALLOWED_TRANSITIONS[s] for s in S)


def test_enum_values_and_labels():
    assert S.PENDING == "en_attente"
    assert S.CHARGED_BACK.value == "retrofacture"
    assert STATUS_LABELS[S.RECEIVED] == "Paiement reçu"
    assert STATUS_LABELS[S.CHARGED_BACK] == "Prélèvement rejeté"
    assert INVOICE_STATUS_LABELS[IPS.OVERDUE] == "En retard"


def test_final_statuses_hand_written():
    assert FINAL_STATUSES == {S.CANCELED, S.FAILED, S.EXPIRED, S.CHARGED_BACK}
    for s in S:
        assert is_final(s) == (s in FINAL_STATUSES)
    assert not is_final(S.PARTIALLY_REFUNDED)
    assert not is_final(S.REFUNDED)  # a chargeback can still follow a refund


def test_counts_as_received():
    assert COUNTS_AS_RECEIVED == {S.RECEIVED, S.PARTIALLY_REFUNDED}
    assert counted_amount(S.RECEIVED, Decimal(100)) == Decimal(100)
    assert counted_amount(S.PARTIALLY_REFUNDED, Decimal(100), Decimal(30)) == Decimal(70)
    assert counted_amount(S.PARTIALLY_REFUNDED, Decimal(100), Decimal(130)) == 0
    for s in (S.PENDING, S.REFUNDED, S.CHARGED_BACK, S.AUTHORIZED, S.DEBIT_IN_PROGRESS):
        assert counted_amount(s, Decimal(100)) == 0


# --- Every pair --------------------------------------------------------------

@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_id)
def test_allowed_pair_succeeds_and_stamps(pair):
    src, dst = pair
    t = transition(src, dst, WHEN)
    assert t == Transition(src, dst, WHEN)
    assert stamp_field(dst) is not None


@pytest.mark.parametrize("pair", FORBIDDEN_PAIRS, ids=_id)
def test_forbidden_pair_raises(pair):
    src, dst = pair
    with pytest.raises(TransitionError) as exc:
        transition(src, dst, WHEN)
    assert STATUS_LABELS[src] in exc.value.message
    assert STATUS_LABELS[dst] in exc.value.message
    assert isinstance(exc.value, DomainError)


@pytest.mark.parametrize(
    "src, dst, allowed",
    [
        (S.RECEIVED, S.PENDING, False),
        (S.PENDING, S.RECEIVED, True),
        (S.CANCELED, S.RECEIVED, False),
        (S.DEBIT_IN_PROGRESS, S.FAILED, True),
        (S.DEBIT_IN_PROGRESS, S.RECEIVED, True),
        (S.RECEIVED, S.CHARGED_BACK, True),
        (S.RECEIVED, S.REFUNDED, True),
        (S.RECEIVED, S.PARTIALLY_REFUNDED, True),
        (S.PARTIALLY_REFUNDED, S.REFUNDED, True),
        (S.PARTIALLY_REFUNDED, S.RECEIVED, False),
        (S.PENDING, S.REFUNDED, False),
        (S.AUTHORIZED, S.RECEIVED, True),
        (S.EXPIRED, S.PENDING, False),
        (S.FAILED, S.RECEIVED, False),
        (S.REFUNDED, S.RECEIVED, False),
        (S.REFUNDED, S.CHARGED_BACK, True),
        (S.REFUNDED, S.PARTIALLY_REFUNDED, False),
        (S.CHARGED_BACK, S.RECEIVED, False),
    ],
)
def test_key_pairs_hand_written(src, dst, allowed):
    if allowed:
        assert transition(src, dst, WHEN) is not None
    else:
        with pytest.raises(TransitionError):
            transition(src, dst, WHEN)


def test_forbidden_message_exact():
    with pytest.raises(TransitionError) as exc:
        transition(S.RECEIVED, S.PENDING, WHEN)
    assert exc.value.message == (
        "Changement de statut impossible : « Paiement reçu » → « En attente de paiement »."
    )


@pytest.mark.parametrize("status", list(S), ids=lambda s: s.name)
def test_same_status_is_noop(status):
    assert transition(status, status, WHEN) is None


def test_naive_datetime_refused():
    with pytest.raises(ValueError):
        transition(S.PENDING, S.RECEIVED, datetime(2024, 3, 15, 10, 30))
    with pytest.raises(ValueError):
        transition(S.RECEIVED, S.RECEIVED, datetime(2024, 3, 15))


def test_other_timezone_accepted():
    paris = timezone(timedelta(hours=1))
    t = transition(S.PENDING, S.CANCELED, datetime(2024, 1, 1, tzinfo=paris))
    assert t.at.utcoffset() == timedelta(hours=1)


def test_raw_string_values_accepted():
    t = transition("en_attente", "recu", WHEN)
    assert t.from_status is S.PENDING and t.to_status is S.RECEIVED


def test_stamp_fields():
    assert stamp_field(S.RECEIVED) == "received_on"
    assert stamp_field(S.CANCELED) == "canceled_at"
    assert stamp_field(S.FAILED) == "failed_at"
    assert stamp_field(S.EXPIRED) == "expired_at"
    assert stamp_field(S.REFUNDED) == "refunded_at"
    assert stamp_field(S.CHARGED_BACK) == "charged_back_at"
    assert stamp_field(S.PENDING) is None


@given(st.lists(st.sampled_from(list(S)), max_size=30), st.sampled_from(list(S)))
def test_random_sequences_never_leave_final(targets, start):
    current = start
    reached_final = is_final(current)
    for target in targets:
        try:
            t = transition(current, target, WHEN)
        except TransitionError:
            continue
        if t is not None:
            assert not reached_final, f"left final status {current}"
            assert t.to_status in ALLOWED_TRANSITIONS[current]
            current = t.to_status
        reached_final = reached_final or is_final(current)
    if reached_final:
        assert is_final(current)


# --- Invoice payment status --------------------------------------------------

TODAY = date(2024, 3, 15)
PAST = date(2024, 3, 1)
FUTURE = date(2024, 4, 1)


@pytest.mark.parametrize(
    "total, received, due, expected",
    [
        ("100", "0", None, IPS.UNPAID),
        ("100", "0", FUTURE, IPS.UNPAID),
        ("100", "0", TODAY, IPS.UNPAID),  # due today is not yet late
        ("100", "0", PAST, IPS.OVERDUE),
        ("100", "40", None, IPS.PARTIAL),
        ("100", "40", FUTURE, IPS.PARTIAL),
        ("100", "40", PAST, IPS.OVERDUE),  # OVERDUE wins over PARTIAL when past due
        ("100", "99.99", PAST, IPS.OVERDUE),
        ("100", "100", PAST, IPS.PAID),
        ("100", "100", None, IPS.PAID),
        ("100", "120", FUTURE, IPS.PAID),  # overpaid is still paid
        ("0", "0", PAST, IPS.UNPAID),  # nothing to collect: never overdue
    ],
)
def test_invoice_payment_status(total, received, due, expected):
    assert invoice_payment_status(Decimal(total), Decimal(received), due, TODAY) is expected


def test_amount_due_never_negative():
    assert amount_due(Decimal(100), Decimal(40)) == Decimal(60)
    assert amount_due(Decimal(100), Decimal(100)) == 0
    assert amount_due(Decimal(100), Decimal(150)) == 0


# --- New payment request -----------------------------------------------------

def _check(amount="50", total="100", already="0", final=True, invoice=True, overpay=False):
    check_new_request(Decimal(amount), Decimal(total), Decimal(already), final, invoice, overpay)


def test_check_new_request_ok():
    _check()
    _check(amount="100")
    _check(amount="60", already="40")
    _check(amount="50.10")
    _check(amount="50.1000")  # trailing zeros are not extra precision


@pytest.mark.parametrize("amount", ["0", "-10", "0.00"])
def test_amount_must_be_positive(amount):
    with pytest.raises(DomainError) as exc:
        _check(amount=amount)
    assert exc.value.message == "Le montant doit être supérieur à zéro."
    assert exc.value.field == "amount"


@pytest.mark.parametrize("amount", ["10.001", "0.005", "NaN"])
def test_amount_invalid(amount):
    with pytest.raises(DomainError) as exc:
        _check(amount=amount)
    assert exc.value.field == "amount"


def test_more_than_two_decimals_message():
    with pytest.raises(DomainError) as exc:
        _check(amount="10.001")
    assert "deux décimales" in exc.value.message


def test_document_must_be_final():
    with pytest.raises(DomainError) as exc:
        _check(final=False)
    assert exc.value.message == "La facture doit être finalisée avant d'enregistrer un paiement."


def test_avoir_refused():
    with pytest.raises(DomainError) as exc:
        _check(invoice=False)
    assert exc.value.message == "Un paiement ne peut être enregistré que sur une facture."


def test_overpayment_needs_confirmation():
    with pytest.raises(OverpaymentError) as exc:
        _check(amount="1300", total="2000", already="765.44")
    assert exc.value.message == (
        f"Le montant dépasse le reste dû (1{NBSP}234,56{NBSP}€). "
        "Confirmez pour enregistrer un trop-perçu."
    )
    assert exc.value.remaining == Decimal("1234.56")
    assert isinstance(exc.value, DomainError)
    _check(amount="1300", total="2000", already="765.44", overpay=True)


def test_overpayment_when_nothing_remains():
    with pytest.raises(OverpaymentError) as exc:
        _check(amount="1", total="100", already="100")
    assert f"0,00{NBSP}€" in exc.value.message


def test_eur_formatting():
    assert _eur(Decimal("1234.56")) == f"1{NBSP}234,56{NBSP}€"
    assert _eur(Decimal(0)) == f"0,00{NBSP}€"
    assert _eur(Decimal("1234567.5")) == f"1{NBSP}234{NBSP}567,50{NBSP}€"
    assert _eur(Decimal("-12.345")) == f"-12,35{NBSP}€"
    assert _eur(Decimal("999.995")) == f"1{NBSP}000,00{NBSP}€"


# --- Reception date ----------------------------------------------------------

def test_reception_date():
    check_reception_date(TODAY, TODAY)
    check_reception_date(PAST, TODAY)
    with pytest.raises(DomainError) as exc:
        check_reception_date(TODAY + timedelta(days=1), TODAY)
    assert exc.value.message == "La date de réception ne peut pas être dans le futur."
    assert exc.value.field == "received_on"
