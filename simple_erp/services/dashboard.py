"""Tableau de bord: what an issuing company is owed and has collected, as of ``today``.

Every figure is one SQL aggregate (the rules are in ``domain.dashboard``); nothing loads
the documents into Python. Built to stay well under 100 ms with a million documents on
PostgreSQL (bench/dashboard.py), through these indexes (``models.document``/``payment``):

* ``ix_document_open_invoices``: a partial index of the finalised factures not fully paid
  by their payments, by (company, due date): the receivables and the oldest late ones
  walk only the open invoices, never the paid history;
* ``ix_document_avoir_source``: finalised avoirs by the invoice they correct, with their
  totals, for the amount due of each open invoice;
* ``ix_document_company_kind_status_issue``: the invoiced total per month, from the index
  alone;
* ``ix_payment_received_doc``: the payments received per month (and the payment delay),
  from the index alone; the company's documents are joined only when other companies
  have documents too (a single company owns every payment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Integer, and_, case, cast, func, literal_column, select, type_coerce
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
_D = Document.__table__
_AVOIR = _D.alias("avoir")
_P = Payment.__table__
_MONEY = ScaledDecimal(2)
# Constants written as literals, not bound parameters: SQLite uses a partial index only
# when the query repeats its predicate with the same constants.
_FACTURE = literal_column(f"'{DocumentKind.FACTURE.value}'")
_AVOIR_KIND = literal_column(f"'{DocumentKind.AVOIR.value}'")
_FINAL = literal_column(f"'{DocumentStatus.FINAL.value}'")
_COUNTED_STATUSES = sorted(s.value for s in COUNTS_AS_RECEIVED)


def _cents(column):
    """The stored integer (cents) of a money column, for arithmetic inside SQL."""
    return type_coerce(column, BigInteger)


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


def receivables_by_age(session: Session, company_id: int, today: date) -> list[AgeBucket]:
    """The company's amounts due, per age bucket (every bucket, empty ones included)."""
    bounds = bucket_bounds(today)
    bucket = case(
        (_D.c.due_date.is_(None), literal_column(f"'{NOT_DUE}'")),
        *[(_D.c.due_date >= bound, literal_column(f"'{key}'")) for key, bound in bounds if bound is not None],
        else_=literal_column(f"'{bounds[-1][0]}'"),
    )
    per_invoice = (select(bucket.label("bucket"), _due_cents().label("due"))
                   .where(*_open_invoice_conditions(company_id)).subquery())
    query = (select(per_invoice.c.bucket, func.count(), _money(func.sum(per_invoice.c.due)))
             .where(per_invoice.c.due > 0).group_by(per_invoice.c.bucket))
    found = {key: (count, amount) for key, count, amount in session.execute(query)}
    return [AgeBucket(key, label, *found.get(key, (0, ZERO))) for key, label, _ in AGE_BUCKETS]


def oldest_late_invoices(session: Session, company_id: int, today: date, limit: int = LATE_SHOWN) -> list[LateInvoice]:
    """The ``limit`` invoices late the longest (earliest due date first) with what they owe."""
    due = _due_cents()
    query = (select(_D.c.id, _D.c.number, _D.c.contact_name, _D.c.due_date, type_coerce(due, _MONEY))
             .where(*_open_invoice_conditions(company_id), _D.c.due_date < today, due > 0)
             .order_by(_D.c.due_date, _D.c.id).limit(limit))
    return [LateInvoice(doc_id, number or "", contact or "", due_date, amount, (today - due_date).days)
            for doc_id, number, contact, due_date, amount in session.execute(query)]


# --- months -------------------------------------------------------------------------------------


def _month_of(session: Session, column):
    """"YYYY-MM" of a date column (SQLite stores dates as ISO text)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(column, literal_column("'YYYY-MM'"))


def _days_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier


def monthly_invoiced(session: Session, company_id: int, today: date) -> dict[str, Decimal]:
    """"YYYY-MM" -> finalised factures + avoirs issued that month (TTC), over the 12 months."""
    month = _month_of(session, _D.c.issue_date).label("month")
    query = (select(month, _money(func.sum(_cents(_D.c.total_ttc))))
             .where(_D.c.company_id == company_id, _D.c.kind.in_([_FACTURE, _AVOIR_KIND]),
                    _D.c.status == _FINAL, _D.c.issue_date >= months_window(today)[0], _D.c.issue_date <= today)
             .group_by(literal_column("month")))
    return dict(session.execute(query).all())


def _owns_every_document(session: Session, company_id: int) -> bool:
    """No other company has a document (two index look-ups): payments need no join then."""
    low, high = session.execute(select(select(func.min(_D.c.company_id)).scalar_subquery(),
                                       select(func.max(_D.c.company_id)).scalar_subquery())).one()
    return low is None or low == high == company_id


def _received_payments(session: Session, company_id: int, today: date, join_documents: bool):
    """FROM and WHERE of the payments received within the 12 months that still count."""
    source = _P.join(_D, _D.c.id == _P.c.document_id) if join_documents else _P
    conditions = [_P.c.received_on >= months_window(today)[0], _P.c.received_on <= today,
                  _P.c.status.in_(_COUNTED_STATUSES), _P.c.amount > _P.c.amount_refunded]
    if join_documents:
        conditions.append(_D.c.company_id == company_id)
    return source, conditions


def monthly_collected(session: Session, company_id: int, today: date) -> dict[str, Decimal]:
    """"YYYY-MM" -> what the payments received that month count for now (a partly refunded
    payment for what was kept; refunded or charged back ones not at all)."""
    source, conditions = _received_payments(session, company_id, today,
                                            not _owns_every_document(session, company_id))
    month = _month_of(session, _P.c.received_on).label("month")
    query = (select(month, _money(func.sum(_cents(_P.c.amount) - _cents(_P.c.amount_refunded))))
             .select_from(source).where(*conditions).group_by(literal_column("month")))
    return dict(session.execute(query).all())


def payment_delay(session: Session, company_id: int, today: date) -> PaymentDelay:
    """Délai moyen de paiement (``domain.dashboard``): invoices fully paid whose last
    payment was received within the 12 months, issue date to that payment."""
    source, conditions = _received_payments(session, company_id, today, True)
    per_invoice = (
        select(_D.c.issue_date.label("issued_on"), func.max(_P.c.received_on).label("paid_on"))
        .select_from(source)
        .where(*conditions, _D.c.kind == _FACTURE, _D.c.status == _FINAL, _D.c.total_ttc > 0,
               _D.c.amount_received >= _D.c.total_ttc)
        .group_by(_D.c.id, _D.c.issue_date)
        .subquery()
    )
    delay = _days_between(session, per_invoice.c.paid_on, per_invoice.c.issued_on)
    query = select(func.count(), func.coalesce(func.sum(case((per_invoice.c.paid_on > per_invoice.c.issued_on, delay),
                                                             else_=0)), 0))
    invoices, days = session.execute(query).one()
    return PaymentDelay(int(invoices), int(days))


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
