"""Encaissements: the payments of every invoice, filtered, paginated, totalled per account,
and exported as CSV. Re-exported by ``services.payments``.

The period (date_from, date_to, both inclusive) filters a payment on the day it was
received (``received_on``) when it has been received — also when it was refunded or
charged back later — and otherwise on the day it was requested (``requested_at`` as a
date in Europe/Paris). So "November" lists what came in in November plus the requests
made in November that are still pending, cancelled, failed or expired.

Rows are ordered by reception date (newest first), then the payments not received, by
request date (newest first).

The totals per account come from ``payment_total`` (per method, status and day, kept by
database triggers, migration b14f1c0d0002): a few thousand rows instead of every matching
payment (190 ms over 585 000 payments on PostgreSQL).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlmodel import Session

from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_eur, from_cents
from simple_erp.domain.payment_rules import STATUS_LABELS, PaymentStatus
from simple_erp.models.document import Document
from simple_erp.models.payment import Account, Payment, PaymentMethod, PaymentTotal, PaymentType
from simple_erp.services.clock import PARIS

PAGE_SIZE = 50
COUNT_CAP = 10_000  # the count stops here ("plus de 10 000 paiements")
COLLECTION_STATUS_CHOICES: list[tuple[str, str]] = [("", "Tous les statuts")] + [
    (status.value, label) for status, label in STATUS_LABELS.items()
]
CSV_HEADER = (
    "N° de facture", "Client", "Moyen de paiement", "Compte", "Montant", "Statut",
    "Date de demande", "Date de réception",
)


@dataclass
class PaymentFilters:
    date_from: date | None = None  # inclusive; see the module docstring for which date
    date_to: date | None = None
    account_id: int | None = None
    method_id: int | None = None
    status: str = ""  # "" (all) or a PaymentStatus value


@dataclass(frozen=True)
class CollectionRow:
    payment_id: int
    document_id: int
    document_number: str
    contact_name: str
    method_label: str
    account_name: str
    amount: str  # "1 234,56 €"
    status_label: str
    requested_on: str  # "28/11/2026" (Paris)
    received_on: str  # "28/11/2026" or ""
    status: str = ""  # raw PaymentStatus value


@dataclass(frozen=True)
class CollectionsPage:
    rows: list[CollectionRow]
    total: int  # matching payments
    page: int
    page_count: int
    totals_by_account: list[tuple[str, str]]  # (account name, received sum "1 234,56 €"), by name
    total_capped: bool = False  # more than COUNT_CAP payments match: ``total`` is COUNT_CAP


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def _conditions(filters: PaymentFilters, received: bool | None = None) -> list:
    """WHERE conditions; ``received`` True or False: those of the received payments only
    (received_on set), or of the others (see ``_page_ids``)."""
    conditions = []
    if filters.status:
        try:
            conditions.append(Payment.status == PaymentStatus(filters.status).value)
        except ValueError:
            raise DomainError("Statut de paiement inconnu.", field="status") from None
    if filters.account_id:  # its methods: every query then reads the payment table alone
        conditions.append(Payment.method_id.in_(
            select(PaymentMethod.id).where(PaymentMethod.account_id == filters.account_id).scalar_subquery()))
    if filters.method_id:
        conditions.append(Payment.method_id == filters.method_id)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise DomainError("La date de début doit précéder la date de fin.", field="date_from")
    received_only, requested = [Payment.received_on.is_not(None)], [Payment.received_on.is_(None)]
    if filters.date_from is not None:
        received_only.append(Payment.received_on >= filters.date_from)
        requested.append(Payment.requested_at >= _paris_midnight(filters.date_from))
    if filters.date_to is not None:
        received_only.append(Payment.received_on <= filters.date_to)
        requested.append(Payment.requested_at < _paris_midnight(filters.date_to + timedelta(days=1)))
    if received is True:
        return conditions + received_only
    if received is False:
        return conditions + requested
    if filters.date_from is not None or filters.date_to is not None:
        conditions.append(or_(and_(*received_only), and_(*requested)))
    return conditions


def _page_ids(session: Session, filters: PaymentFilters, offset: int, limit: int) -> list[int]:
    """The page's payment ids, from the payment table alone, in two parts that each walk
    ix_payment_collections (or ix_payment_status_collections) backwards: the received
    payments, then, when the page goes past them, those not received."""
    received = (select(Payment.id).where(*_conditions(filters, True))
                .order_by(Payment.received_on.desc(), Payment.requested_at.desc(), Payment.id.desc()))
    ids = list(session.execute(received.offset(offset).limit(limit)).scalars())
    if len(ids) == limit:
        return ids
    if ids:
        before = offset + len(ids)
    else:  # every received payment is on an earlier page: how many (at most offset)
        before = session.execute(select(func.count()).select_from(received.limit(offset).subquery())).scalar_one()
    pending = (select(Payment.id).where(*_conditions(filters, False))
               .order_by(Payment.requested_at.desc(), Payment.id.desc())
               .offset(max(0, offset - before)).limit(limit - len(ids)))
    return ids + list(session.execute(pending).scalars())


def _joined(query):
    return (
        query.join(Document, Document.id == Payment.document_id)
        .join(PaymentMethod, PaymentMethod.id == Payment.method_id)
        .join(PaymentType, PaymentType.id == PaymentMethod.payment_type_id)
        .join(Account, Account.id == PaymentMethod.account_id)
    )


# Newest reception first, then the payments not received by request date.
_ORDER = (Payment.received_on.is_(None), Payment.received_on.desc(), Payment.requested_at.desc(), Payment.id.desc())


def _rows_query(conditions: list):
    return _joined(
        select(
            Payment.id, Payment.document_id, Document.number, Document.contact_name,
            PaymentType.name.label("type_name"), Account.name.label("account_name"),
            Payment.amount, Payment.status, Payment.requested_at, Payment.received_on,
        )
    ).where(*conditions).order_by(*_ORDER)


def _row(r) -> CollectionRow:
    return CollectionRow(
        payment_id=r.id,
        document_id=r.document_id,
        document_number=r.number or "",
        contact_name=r.contact_name,
        method_label=f"{r.type_name} — {r.account_name}",
        account_name=r.account_name,
        amount=format_eur(r.amount),
        status_label=STATUS_LABELS.get(PaymentStatus(r.status), r.status),
        requested_on=format_date_fr(r.requested_at.astimezone(PARIS).date()),
        received_on=format_date_fr(r.received_on) if r.received_on else "",
        status=r.status,
    )


def _counted(status, cents, refunded):
    """What a payment (or a summary row) counts for as received, in cents: refunds deducted."""
    return case(
        (status == PaymentStatus.RECEIVED.value, cents),
        (status == PaymentStatus.PARTIALLY_REFUNDED.value, cents - refunded),
        else_=0,
    )


def _totals_by_method(session: Session, filters: PaymentFilters) -> dict[int, int]:
    """method id -> counted cents, from ``payment_total`` (kept by triggers; a few thousand
    rows): every filter of the page is a column of it (the period is its ``day``: reception
    date, or request date in Paris, as ``_conditions``). A method appears when at least one
    payment matches (tests/services/payments/test_totals.py compares it with a SUM over
    every matching payment)."""
    t = PaymentTotal.__table__.c
    conditions = []
    if filters.status:
        conditions.append(t.status == PaymentStatus(filters.status).value)
    if filters.account_id:
        conditions.append(t.method_id.in_(
            select(PaymentMethod.id).where(PaymentMethod.account_id == filters.account_id).scalar_subquery()))
    if filters.method_id:
        conditions.append(t.method_id == filters.method_id)
    if filters.date_from is not None:
        conditions.append(t.day >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(t.day <= filters.date_to)
    query = (select(t.method_id, func.sum(_counted(t.status, t.amount, t.amount_refunded)))
             .where(*conditions).group_by(t.method_id).having(func.sum(t.payment_count) > 0))
    return {method_id: int(cents) for method_id, cents in session.execute(query)}


def rebuild_payment_totals(connection) -> None:
    """Recompute ``payment_total`` from ``payment`` in one set-based statement: only after
    writing payments with the triggers off (a bulk load with session_replication_role =
    replica, bench/search_data.py); the triggers keep it in sync otherwise."""
    day = _PG_DAY if connection.dialect.name == "postgresql" else _SQLITE_DAY
    connection.execute(text("DELETE FROM payment_total"))
    connection.execute(text(
        "INSERT INTO payment_total (method_id, status, day, payment_count, amount, amount_refunded) "
        f"SELECT p.method_id, p.status, {day}, count(*), sum(p.amount), sum(p.amount_refunded) "
        f"FROM payment p GROUP BY p.method_id, p.status, {day}"))


# The summary's day of a payment p, as the triggers of migration b14f1c0d0002 compute it.
_PG_DAY = "COALESCE(p.received_on, (p.requested_at AT TIME ZONE 'Europe/Paris')::date)"
_SQLITE_DAY = (
    "COALESCE(p.received_on, CASE WHEN p.requested_at >= date(strftime('%Y', p.requested_at) || '-03-25', "
    "'weekday 0') || ' 01:00:00' AND p.requested_at < date(strftime('%Y', p.requested_at) || '-10-25', "
    "'weekday 0') || ' 01:00:00' THEN date(p.requested_at, '+2 hours') ELSE date(p.requested_at, '+1 hours') END)"
)


def _totals_by_account(session: Session, by_method: dict[int, int]) -> list[tuple[str, str]]:
    """Received sum per account (what counts as received: refunds deducted) from the sums
    per payment method."""
    if not by_method:
        return []
    sums: dict[tuple[str, int], int] = {}
    for method_id, account_id, name in session.execute(
        select(PaymentMethod.id, Account.id, Account.name).join(Account, Account.id == PaymentMethod.account_id)
        .where(PaymentMethod.id.in_(by_method))
    ):
        key = (name, account_id)
        sums[key] = sums.get(key, 0) + int(by_method[method_id] or 0)
    return [(name, format_eur(from_cents(total))) for (name, _id), total in sorted(sums.items())]


def list_collections(session: Session, filters: PaymentFilters, page: int = 1,
                     page_size: int = PAGE_SIZE) -> CollectionsPage:
    """One page of payments matching ``filters``, with the received totals per account over
    every matching payment (not only this page; from ``payment_total``). The count stops at COUNT_CAP + 1
    (``total_capped``: "plus de 10 000 paiements"); the page's ids come from the payment
    table alone (``_page_ids``), then only those rows are joined to their invoice,
    method and account."""
    conditions = _conditions(filters or PaymentFilters())
    page_size = max(1, page_size)
    limited = select(literal(1)).select_from(Payment).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = session.execute(select(func.count()).select_from(limited)).scalar_one()
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    page_count = max(1, math.ceil(total / page_size))
    page = max(1, page) if capped else min(max(1, page), page_count)
    page_count = max(page_count, page + 1) if capped else page_count
    ids = _page_ids(session, filters or PaymentFilters(), (page - 1) * page_size, page_size)
    found = {r.id: r for r in session.execute(_rows_query([Payment.id.in_(ids)]))} if ids else {}
    return CollectionsPage(
        rows=[_row(found[i]) for i in ids if i in found],
        total=total,
        page=page,
        page_count=page_count,
        totals_by_account=_totals_by_account(session, _totals_by_method(session, filters or PaymentFilters())),
        total_capped=capped,
    )


def _csv_cell(value: str) -> str:
    """Keep spreadsheets from running a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def collections_csv(session: Session, filters: PaymentFilters) -> str:
    """Every matching payment as CSV for a French spreadsheet: ";" separated, decimal comma
    ("1234,56", no thousands separator), dates dd/mm/yyyy, header in French, UTF-8 BOM
    first (encode the result with "utf-8")."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in session.execute(_rows_query(_conditions(filters or PaymentFilters()))):
        row = _row(r)
        writer.writerow([
            _csv_cell(row.document_number), _csv_cell(row.contact_name), _csv_cell(row.method_label),
            _csv_cell(row.account_name), f"{r.amount:.2f}".replace(".", ","), row.status_label,
            row.requested_on, row.received_on,
        ])
    return "\ufeff" + out.getvalue()
