"""The Mollie status table: every row, refunds and chargebacks on a paid payment, unknown
statuses, and the catch-up steps after a missed webhook."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simple_erp.domain.mollie_status import (
    DIRECT_DEBIT,
    KNOWN_MOLLIE_STATUSES,
    MOLLIE_STATUS_TABLE,
    OTHER,
    UnknownMollieStatus,
    base_status,
    catch_up_steps,
    context_of,
    map_status,
)
from simple_erp.domain.payment_rules import ALLOWED_TRANSITIONS, PaymentStatus

S = PaymentStatus
D = Decimal

EXPECTED = {
    ("open", "creditcard"): S.PENDING,
    ("open", "directdebit"): S.PENDING,
    ("open", None): S.PENDING,
    ("pending", "creditcard"): S.PENDING,
    ("pending", None): S.PENDING,
    ("pending", "directdebit"): S.DEBIT_IN_PROGRESS,
    ("authorized", "creditcard"): S.AUTHORIZED,
    ("authorized", "directdebit"): S.AUTHORIZED,
    ("paid", "creditcard"): S.RECEIVED,
    ("paid", "directdebit"): S.RECEIVED,
    ("paid", "bancontact"): S.RECEIVED,
    ("canceled", "creditcard"): S.CANCELED,
    ("canceled", "directdebit"): S.CANCELED,
    ("expired", "creditcard"): S.EXPIRED,
    ("expired", "directdebit"): S.EXPIRED,
    ("failed", "creditcard"): S.FAILED,
    ("failed", "directdebit"): S.FAILED,
}


@pytest.mark.parametrize(("mollie", "method"), list(EXPECTED), ids=[f"{s}-{m}" for s, m in EXPECTED])
def test_each_status_and_method(mollie, method):
    assert map_status(mollie, method, D("10.00")) is EXPECTED[(mollie, method)]


@pytest.mark.parametrize("row", sorted(MOLLIE_STATUS_TABLE), ids=lambda row: f"{row[0]}-{row[1]}")
def test_every_table_row_is_reached_through_map_status(row):
    mollie, context = row
    method = "directdebit" if context == DIRECT_DEBIT else "creditcard"
    assert map_status(mollie, method, D("10.00")) is MOLLIE_STATUS_TABLE[row]


def test_the_table_covers_every_known_status_in_both_contexts():
    assert KNOWN_MOLLIE_STATUSES == {"open", "pending", "authorized", "paid", "canceled", "expired", "failed"}
    assert set(MOLLIE_STATUS_TABLE) == {(s, c) for s in KNOWN_MOLLIE_STATUSES for c in (DIRECT_DEBIT, OTHER)}


def test_context():
    assert context_of("directdebit") == DIRECT_DEBIT
    assert context_of("creditcard") == context_of(None) == context_of("ideal") == OTHER


@pytest.mark.parametrize("status", ["", "refunded", "PAID", "charged_back", None, 3])
def test_unknown_status_raises(status):
    with pytest.raises(UnknownMollieStatus) as caught:
        map_status(status, "creditcard", D("10.00"))
    assert caught.value.status == status
    with pytest.raises(UnknownMollieStatus):
        base_status(status, "directdebit")


@pytest.mark.parametrize(
    ("refunded", "charged_back", "expected"),
    [
        (D("0.00"), D("0.00"), S.RECEIVED),
        (D("0.01"), D("0.00"), S.PARTIALLY_REFUNDED),
        (D("9.99"), D("0.00"), S.PARTIALLY_REFUNDED),
        (D("10.00"), D("0.00"), S.REFUNDED),
        (D("0.00"), D("10.00"), S.CHARGED_BACK),
        (D("0.00"), D("0.01"), S.CHARGED_BACK),
        (D("4.00"), D("10.00"), S.CHARGED_BACK),  # the chargeback wins over a partial refund
        (D("10.00"), D("10.00"), S.CHARGED_BACK),
    ],
)
def test_refunds_and_chargebacks_take_precedence_on_a_paid_payment(refunded, charged_back, expected):
    for method in ("creditcard", "directdebit"):
        assert map_status("paid", method, D("10.00"), refunded, charged_back) is expected


@pytest.mark.parametrize("mollie", ["open", "pending", "authorized", "canceled", "expired", "failed"])
def test_refund_amounts_only_matter_on_a_paid_payment(mollie):
    assert map_status(mollie, "creditcard", D("10.00"), D("10.00"), D("10.00")) is EXPECTED[(mollie, "creditcard")]


def test_every_mapped_status_is_a_reachable_lifecycle_status():
    reachable = {S.PENDING} | {t for targets in ALLOWED_TRANSITIONS.values() for t in targets}
    assert set(MOLLIE_STATUS_TABLE.values()) <= reachable


@pytest.mark.parametrize(
    ("current", "target", "steps"),
    [
        (S.PENDING, S.RECEIVED, [S.RECEIVED]),
        (S.PENDING, S.REFUNDED, [S.RECEIVED, S.REFUNDED]),
        (S.PENDING, S.PARTIALLY_REFUNDED, [S.RECEIVED, S.PARTIALLY_REFUNDED]),
        (S.PENDING, S.CHARGED_BACK, [S.RECEIVED, S.CHARGED_BACK]),
        (S.DEBIT_IN_PROGRESS, S.CHARGED_BACK, [S.RECEIVED, S.CHARGED_BACK]),
        (S.AUTHORIZED, S.REFUNDED, [S.RECEIVED, S.REFUNDED]),
        (S.RECEIVED, S.REFUNDED, [S.REFUNDED]),
        (S.PARTIALLY_REFUNDED, S.REFUNDED, [S.REFUNDED]),
        (S.PENDING, S.FAILED, [S.FAILED]),
        (S.FAILED, S.RECEIVED, [S.RECEIVED]),  # refused later by the lifecycle, not hidden here
        (S.RECEIVED, S.RECEIVED, [S.RECEIVED]),
    ],
)
def test_catch_up_steps(current, target, steps):
    assert catch_up_steps(current, target) == steps


def test_catch_up_steps_are_allowed_moves_from_any_status_before_paid():
    for current in (S.PENDING, S.DEBIT_IN_PROGRESS, S.AUTHORIZED):
        for target in (S.REFUNDED, S.PARTIALLY_REFUNDED, S.CHARGED_BACK):
            status = current
            for step in catch_up_steps(current, target):
                assert step in ALLOWED_TRANSITIONS[status]
                status = step
