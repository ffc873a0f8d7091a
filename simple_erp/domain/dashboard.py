"""Tableau de bord: the rules behind its figures (pure stdlib, money is ``Decimal``).

* **Amount due of an invoice**: ``total TTC − received + finalised avoirs`` (an avoir's total
  is negative: it reduces what the customer owes), never below 0. "Received" is what the
  invoice's payments count for (``payment_rules.counted_amount``).
* **Age of a receivable**: from the invoice's due date to ``today``. Not yet due (due date
  today or later, or none): « Non échu »; then 1–30, 31–60, 61–90 and more than 90 days
  late. « En retard » is every bucket but « Non échu ».
* **The 12 months**: the calendar month of ``today`` and the 11 before it.
* **Délai moyen de paiement**: over the finalised factures fully paid by their payments
  (received ≥ total TTC > 0; an invoice settled by an avoir is not "paid") whose last
  received payment is dated within the 12 months: the mean of (date of that last payment −
  issue date) in days (0 when paid before the issue date), rounded half up to a whole day.
  When more than ``DELAY_SAMPLE`` (1 000, services.dashboard) payments of such invoices
  were received in the 12 months, only the invoices of the 1 000 most recent ones count
  (``limited``): a recent average, at a bounded cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

NOT_DUE = "non_echu"
AGE_BUCKETS: tuple[tuple[str, str, int | None], ...] = (
    # (key, label, largest number of days late in the bucket; None: no limit)
    (NOT_DUE, "Non échu", 0),
    ("1_30", "1–30 jours", 30),
    ("31_60", "31–60 jours", 60),
    ("61_90", "61–90 jours", 90),
    ("plus_90", "> 90 jours", None),
)
AGE_LABELS = {key: label for key, label, _ in AGE_BUCKETS}
MONTH_NAMES = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
MONTHS_SHOWN = 12


def age_bucket(due_date: date | None, today: date) -> str:
    """The bucket key of a receivable due on ``due_date``."""
    if due_date is None:
        return NOT_DUE
    days_late = (today - due_date).days
    for key, _, limit in AGE_BUCKETS:
        if limit is None or days_late <= limit:
            return key
    raise AssertionError("unreachable")  # pragma: no cover


def bucket_bounds(today: date) -> list[tuple[str, date | None]]:
    """For SQL, in bucket order: (key, earliest due date of the bucket; None: any date).
    A due date falls in the first bucket whose bound it reaches (``due_date >= bound``)."""
    bounds: list[tuple[str, date | None]] = []
    for key, _, limit in AGE_BUCKETS:
        bounds.append((key, None if limit is None else today - timedelta(days=limit)))
    return bounds


def days_late(due_date: date | None, today: date) -> int:
    return max((today - due_date).days, 0) if due_date else 0


def amount_due(total_ttc: Decimal, received: Decimal, avoirs: Decimal = Decimal(0)) -> Decimal:
    """What the customer still owes; ``avoirs`` is the (negative) sum of the finalised avoirs."""
    return max(Decimal(total_ttc) - Decimal(received) + Decimal(avoirs), Decimal("0.00"))


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_window(today: date, count: int = MONTHS_SHOWN) -> list[date]:
    """First days of the ``count`` calendar months ending with today's, oldest first."""
    current = month_start(today)
    return [add_months(current, offset) for offset in range(1 - count, 1)]


def month_label(first_of_month: date) -> str:
    """date(2026, 2, 1) -> "févr. 2026"."""
    return f"{MONTH_NAMES[first_of_month.month - 1]} {first_of_month.year}"


def month_key(day: date) -> str:
    """"2026-02": how SQL groups a date by month."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class PaymentDelay:
    invoices: int  # fully paid invoices counted
    total_days: int
    limited: bool = False  # only the invoices of the most recent payments were counted

    @property
    def average_days(self) -> int | None:
        """Rounded half up to a whole day; None when no invoice was paid in the window."""
        if self.invoices <= 0:
            return None
        return int((Decimal(self.total_days) / Decimal(self.invoices)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def days_label(days: int | None) -> str:
    if days is None:
        return "—"
    return f"{days} jour{'s' if days > 1 else ''}"
