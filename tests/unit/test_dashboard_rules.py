"""Tableau de bord rules: age buckets and their boundaries, the 12 months, amounts due,
the average payment delay and its rounding."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from simple_erp.domain.dashboard import (
    PaymentDelay,
    age_bucket,
    amount_due,
    bucket_bounds,
    days_label,
    days_late,
    month_label,
    months_window,
)

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(("days", "bucket"), [
    (-30, "non_echu"), (0, "non_echu"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"),
    (61, "61_90"), (90, "61_90"), (91, "plus_90"), (900, "plus_90"),
])
def test_age_buckets_and_their_boundaries(days, bucket):
    due = TODAY - timedelta(days=days)
    assert age_bucket(due, TODAY) == bucket
    # What the SQL CASE does with the bounds: the first bucket whose bound the due date reaches.
    assert next(key for key, bound in bucket_bounds(TODAY) if bound is None or due >= bound) == bucket
    assert days_late(due, TODAY) == max(days, 0)


def test_no_due_date_is_not_due():
    assert age_bucket(None, TODAY) == "non_echu" and days_late(None, TODAY) == 0


def test_the_twelve_months_cross_the_year():
    months = months_window(date(2026, 2, 28))
    assert months[0] == date(2025, 3, 1) and months[-1] == date(2026, 2, 1) and len(months) == 12
    assert months_window(date(2026, 12, 31))[0] == date(2026, 1, 1)
    assert [month_label(m) for m in months[-2:]] == ["janv. 2026", "févr. 2026"]


def test_amount_due_with_avoirs_never_below_zero():
    assert amount_due(Decimal("200.00"), Decimal("0"), Decimal("-50.00")) == Decimal("150.00")
    assert amount_due(Decimal("100.00"), Decimal("60.00"), Decimal("-70.00")) == Decimal("0.00")


def test_average_delay_rounds_half_up():
    assert PaymentDelay(2, 11).average_days == 6
    assert PaymentDelay(3, 10).average_days == 3
    assert PaymentDelay(0, 0).average_days is None
    assert [days_label(d) for d in (None, 0, 1, 6)] == ["—", "0 jour", "1 jour", "6 jours"]
