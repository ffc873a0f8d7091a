"""Tableau de bord: what an issuing company is owed and has collected, as of ``today``.

Every figure is one SQL aggregate (the rules are in ``domain.dashboard``); nothing loads
the documents into Python. Built for a million documents on PostgreSQL
(bench/dashboard.py, bench/README.md), through these indexes (migration d4a5b0a4d001):

* ``ix_document_open_invoices``: a partial index of the finalised factures not fully paid
  by their payments, by (company, due date) with their amounts: the receivables and the
  oldest late ones walk only the open invoices, never the paid history;
* ``ix_document_avoir_source``: partial, finalised avoirs by the invoice they correct,
  with their totals, for the amount due of each open invoice;
* ``ix_document_company_kind_status_issue``: the invoiced total per day of the 12 months
  from the index alone;
* ``ix_payment_received_counted``: partial, a company's payments that count as received
  (``payment.company_id``, migration b14f1c0d0002), per day of the 12 months, from the
  index alone.

Per day, not per month: grouping by the date column needs no date function (the same SQL
on both databases) and gives at most 366 rows, summed per month here. A payment carries its
invoice's company: the collected figures read the company's own payments, never joined to
their invoices, however many companies there are. The payment delay walks the company's
newest payments and stops after ``DELAY_SAMPLE``.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Integer, and_, case, cast, func, literal_column, select, text, type_coerce
from sqlmodel import Session

from simple_erp.domain.dashboard import (
    AGE_BUCKETS,
    NOT_DUE,
    PaymentDelay,
    bucket_bounds,
    month_key,
    month_label,
    months_window,
)
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.payment_rules import COUNTS_AS_RECEIVED
from simple_erp.models.document import Document
from simple_erp.models.payment import Payment
from simple_erp.models.types import ScaledDecimal

ZERO = Decimal("0.00")
LATE_SHOWN = 10
DELAY_SAMPLE = 1000  # payments, newest first, behind the Délai moyen de paiement
_D = Document.__table__
_AVOIR = _D.alias("avoir")
_P = Payment.__table__
_MONEY = ScaledDecimal(2)
# Constants written as literals, not bound parameters: SQLite uses a partial index only
# when the query repeats its predicate with the same constants.
_FACTURE = literal_column(f"'{DocumentKind.FACTURE.value}'")
_AVOIR_KIND = literal_column(f"'{DocumentKind.AVOIR.value}'")
_FINAL = literal_column(f"'{DocumentStatus.FINAL.value}'")
# In the order of the partial index's predicate (models.payment.COUNTED_PAYMENT).
_COUNTED_STATUSES = [literal_column(f"'{s}'") for s in sorted(s.value for s in COUNTS_AS_RECEIVED)]


@contextmanager
def _walking_joins(session: Session):
    """PostgreSQL, for one query: join by index look-ups only. It underestimates how many
    invoices are fully paid (``amount_received >= total_ttc``) and otherwise hashes every
    document (18 ms with 100 000 documents, more with more) where walking the newest
    payments and looking their invoices up stops after ``DELAY_SAMPLE`` (~2 ms)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_hashjoin = off"))
        session.execute(text("SET LOCAL enable_mergejoin = off"))
    yield  # on an error the transaction is aborted and its SET LOCAL undone: nothing to reset
    if postgres:
        session.execute(text("SET LOCAL enable_hashjoin TO DEFAULT"))
        session.execute(text("SET LOCAL enable_mergejoin TO DEFAULT"))


def _cents(column):
    """The stored integer (cents) of a money column, for arithmetic inside SQL."""
    return type_coerce(column, BigInteger)


def _from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(ZERO)


def _money(expression):
    """A sum of cents back to Decimal euros."""
    return type_coerce(func.coalesce(expression, literal_column("0")), _MONEY)


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class MonthFigures:
    month: date  # first day of the month
    label: str  # "févr. 2026"
    invoiced: Decimal  # finalised factures + avoirs (negative) issued that month, TTC
    collected: Decimal  # payments received that month, for what they still count


@dataclass(frozen=True)
class LateInvoice:
    document_id: int
    number: str
    contact_name: str
    due_date: date
    amount_due: Decimal
    days_late: int


@dataclass(frozen=True)
class Dashboard:
    company_id: int
    today: date
    has_invoices: bool
    receivable: Decimal  # « À encaisser »
    receivable_count: int
    late: Decimal  # « En retard »
    late_count: int
    collected_this_month: Decimal  # « Encaissé ce mois-ci »
    payment_delay: PaymentDelay  # « Délai moyen de paiement »
    months: list[MonthFigures] = field(default_factory=list)
    ages: list[AgeBucket] = field(default_factory=list)
    oldest_late: list[LateInvoice] = field(default_factory=list)


# --- the open invoices and what they still owe ------------------------------------------------


def _open_invoice_conditions(company_id: int) -> list:
    """The predicate of the partial index ``ix_document_open_invoices`` (models.document
    OPEN_INVOICE: the same terms, so that both databases use it), for one company."""
    return [_D.c.company_id == company_id, _D.c.kind == _FACTURE, _D.c.status == _FINAL,
            _D.c.amount_received < _D.c.total_ttc]


def _avoirs_cents():
    """The (negative) total of the finalised avoirs correcting the outer invoice, in cents."""
    return func.coalesce(
        select(func.sum(_cents(_AVOIR.c.total_ttc)))
        .where(_AVOIR.c.source_id == _D.c.id, _AVOIR.c.kind == _AVOIR_KIND, _AVOIR.c.status == _FINAL)
        .scalar_subquery(),
        literal_column("0"),
    )


def _due_cents():
    return _cents(_D.c.total_ttc) - _cents(_D.c.amount_received) + _avoirs_cents()


def _bucket_of_due_date(today: date):
    bounds = bucket_bounds(today)
    return case(
        (_D.c.due_date.is_(None), literal_column(f"'{NOT_DUE}'")),
        *[(_D.c.due_date >= bound, literal_column(f"'{key}'")) for key, bound in bounds if bound is not None],
        else_=literal_column(f"'{bounds[-1][0]}'"),
    )


def receivables_by_age(session: Session, company_id: int, today: date) -> list[AgeBucket]:
    """The company's amounts due, per age bucket (every bucket, empty ones included).

    Two aggregates: what the open invoices owe net of their payments, per bucket (from the
    partial index alone), then, for the few open invoices that finalised avoirs reduce, the
    correction (one row per such invoice: a join of the open invoices with the avoirs).
    Looking the avoirs up for every open invoice instead costs two to three times more."""
    bucket = _bucket_of_due_date(today).label("bucket")
    unpaid = _cents(_D.c.total_ttc) - _cents(_D.c.amount_received)  # > 0: the index's predicate
    base = (select(bucket, func.count(), func.sum(unpaid))
            .where(*_open_invoice_conditions(company_id)).group_by(literal_column("bucket")))
    found = {key: [count, int(cents)] for key, count, cents in session.execute(base)}
    corrected = (select(bucket, unpaid, func.sum(_cents(_AVOIR.c.total_ttc)))
                 .select_from(_D.join(_AVOIR, and_(_AVOIR.c.source_id == _D.c.id, _AVOIR.c.kind == _AVOIR_KIND,
                                                   _AVOIR.c.status == _FINAL)))
                 .where(*_open_invoice_conditions(company_id))
                 .group_by(_D.c.id, _D.c.due_date, _D.c.total_ttc, _D.c.amount_received))
    for key, unpaid_cents, credit_cents in session.execute(corrected):
        due = max(int(unpaid_cents) + int(credit_cents), 0)
        found[key][1] += due - int(unpaid_cents)
        if due == 0:
            found[key][0] -= 1
    return [AgeBucket(key, label, *(found[key][0], _from_cents(found[key][1])) if key in found else (0, ZERO))
            for key, label, _ in AGE_BUCKETS]


def oldest_late_invoices(session: Session, company_id: int, today: date, limit: int = LATE_SHOWN) -> list[LateInvoice]:
    """The ``limit`` invoices late the longest (earliest due date first) with what they owe."""
    due = _due_cents()
    query = (select(_D.c.id, _D.c.number, _D.c.contact_name, _D.c.due_date, type_coerce(due, _MONEY))
             .where(*_open_invoice_conditions(company_id), _D.c.due_date < today, due > 0)
             .order_by(_D.c.due_date, _D.c.id).limit(limit))
    return [LateInvoice(doc_id, number or "", contact or "", due_date, amount, (today - due_date).days)
            for doc_id, number, contact, due_date, amount in session.execute(query)]


# --- months -------------------------------------------------------------------------------------


def _days_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier


def _by_month(rows) -> dict[str, Decimal]:
    """(day, amount) rows summed per "YYYY-MM" (SQL groups by day: no date function, the
    same on both databases, at most 366 rows)."""
    months: dict[str, Decimal] = {}
    for day, amount in rows:
        key = month_key(day if isinstance(day, date) else date.fromisoformat(str(day)))
        months[key] = months.get(key, ZERO) + amount
    return months


def monthly_invoiced(session: Session, company_id: int, today: date) -> dict[str, Decimal]:
    """"YYYY-MM" -> finalised factures + avoirs issued that month (TTC), over the 12 months."""
    query = (select(_D.c.issue_date, _money(func.sum(_cents(_D.c.total_ttc))))
             .where(_D.c.company_id == company_id, _D.c.kind.in_([_FACTURE, _AVOIR_KIND]),
                    _D.c.status == _FINAL, _D.c.issue_date >= months_window(today)[0], _D.c.issue_date <= today)
             .group_by(_D.c.issue_date))
    return _by_month(session.execute(query))


def _received_payments(session: Session, company_id: int, today: date, join_documents: bool):
    """FROM and WHERE of the company's payments received within the 12 months that still
    count (``ix_payment_received_counted``: the company's own, no join needed)."""
    source = _P.join(_D, _D.c.id == _P.c.document_id) if join_documents else _P
    conditions = [_P.c.company_id == company_id, _P.c.received_on >= months_window(today)[0],
                  _P.c.received_on <= today, _P.c.status.in_(_COUNTED_STATUSES), _P.c.amount > _P.c.amount_refunded]
    return source, conditions


def monthly_collected(session: Session, company_id: int, today: date) -> dict[str, Decimal]:
    """"YYYY-MM" -> what the payments received that month count for now (a partly refunded
    payment for what was kept; refunded or charged back ones not at all)."""
    source, conditions = _received_payments(session, company_id, today, False)
    query = (select(_P.c.received_on, _money(func.sum(_cents(_P.c.amount) - _cents(_P.c.amount_refunded))))
             .select_from(source).where(*conditions).group_by(_P.c.received_on))
    return _by_month(session.execute(query))


def payment_delay(session: Session, company_id: int, today: date) -> PaymentDelay:
    """Délai moyen de paiement (``domain.dashboard``): the invoices fully paid of the
    DELAY_SAMPLE most recent payments received within the 12 months, from issue date to
    their last payment. Walks the payments newest first and stops there: bounded work
    however many invoices were paid."""
    source, conditions = _received_payments(session, company_id, today, True)
    recent = (
        select(_D.c.id.label("doc_id"), _D.c.issue_date.label("issued_on"), _P.c.received_on.label("paid_on"))
        .select_from(source)
        .where(*conditions, _D.c.kind == _FACTURE, _D.c.status == _FINAL, _D.c.total_ttc > 0,
               _D.c.amount_received >= _D.c.total_ttc)
        .order_by(_P.c.received_on.desc(), _P.c.id.desc())
        .limit(DELAY_SAMPLE)
        .subquery()
    )
    per_invoice = (select(recent.c.issued_on, func.max(recent.c.paid_on).label("paid_on"),
                          func.count().label("payments"))
                   .group_by(recent.c.doc_id, recent.c.issued_on).subquery())
    delay = _days_between(session, per_invoice.c.paid_on, per_invoice.c.issued_on)
    query = select(func.count(),
                   func.coalesce(func.sum(case((per_invoice.c.paid_on > per_invoice.c.issued_on, delay), else_=0)), 0),
                   func.coalesce(func.sum(per_invoice.c.payments), 0))
    with _walking_joins(session):
        invoices, days, payments_seen = session.execute(query).one()
    return PaymentDelay(int(invoices), int(days), limited=int(payments_seen) >= DELAY_SAMPLE)


def has_invoices(session: Session, company_id: int) -> bool:
    query = select(_D.c.id).where(_D.c.company_id == company_id, _D.c.kind == _FACTURE, _D.c.status == _FINAL).limit(1)
    return session.execute(query).first() is not None


# --- the whole board ----------------------------------------------------------------------------


def dashboard(session: Session, company_id: int, today: date) -> Dashboard:
    ages = receivables_by_age(session, company_id, today)
    late_buckets = [b for b in ages if b.key != NOT_DUE]
    invoiced = monthly_invoiced(session, company_id, today)
    collected = monthly_collected(session, company_id, today)
    months = [MonthFigures(first, month_label(first), invoiced.get(month_key(first), ZERO),
                           collected.get(month_key(first), ZERO)) for first in months_window(today)]
    return Dashboard(
        company_id=company_id,
        today=today,
        has_invoices=has_invoices(session, company_id),
        receivable=sum((b.amount for b in ages), ZERO),
        receivable_count=sum(b.count for b in ages),
        late=sum((b.amount for b in late_buckets), ZERO),
        late_count=sum(b.count for b in late_buckets),
        collected_this_month=months[-1].collected,
        payment_delay=payment_delay(session, company_id, today),
        months=months,
        ages=ages,
        oldest_late=oldest_late_invoices(session, company_id, today),
    )
