"""Lists of documents of one kind: filters, newest first, pagination with a capped count.

Built to stay fast with millions of documents on PostgreSQL: rows come from the
(kind, issue_date, id) or (kind, status, issue_date, id) indexes walked backwards, and
the total counts at most COUNT_CAP + 1 rows (shown as "10 000+" beyond).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy import exists, func, literal, select
from sqlmodel import Session

from simple_erp.domain.documents import STATUS_LABELS, DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import CENT, format_date_fr, format_decimal_fr, format_eur
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact
from simple_erp.domain.payment_rules import INVOICE_STATUS_LABELS, invoice_payment_status
from simple_erp.services import clock
from simple_erp.services.contacts import normalize

PAGE_SIZE = 25
COUNT_CAP = 10_000
CONTACT_IDS_MAX = 500  # beyond, a contact search is treated as a broad one
DRAFT_NUMBER = "Brouillon"


@dataclass
class DocumentFilters:
    status: str = ""  # "" (all), "brouillon" or "finalise"
    contact_query: str = ""  # words found in a linked contact (name, e-mail, city…)
    date_from: date | None = None  # issue date, inclusive
    date_to: date | None = None
    amount_min: Decimal | None = None  # total TTC, inclusive
    amount_max: Decimal | None = None


@dataclass(frozen=True)
class DocumentRow:
    id: int
    number: str  # "Brouillon" for a draft
    status_label: str
    contact_name: str
    issue_date: str  # "28/11/2026"
    due_date: str  # "" when none
    total_ttc: str  # "1 234,56 €"
    status: str = ""  # raw status, e.g. for a badge colour
    payment_status: str = ""  # finalised factures: InvoicePaymentStatus value
    payment_status_label: str = ""  # "Non payée", "Partiellement payée", "Payée", "En retard"


@dataclass(frozen=True)
class DocumentPage:
    rows: list[DocumentRow]
    total: int  # matching documents, counted up to COUNT_CAP + 1
    page: int
    page_count: int
    total_capped: bool = False  # True: more than COUNT_CAP documents match
    total_label: str = ""  # "42 documents", "10 000+ documents"


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contact_condition(session: Session, query: str):
    """Documents linked to a contact whose search text has every word of ``query``.

    The matching contacts are looked up first: when there are few (a client's name), the
    documents come from their links (exact ids, so PostgreSQL plans it well); when there
    are many (a common word), documents are filtered while walking the date index.
    Returns None when no contact matches."""
    likes = [Contact.search_text.like(f"%{_escape_like(t)}%", escape="\\") for t in normalize(query).split()]
    ids = session.execute(select(Contact.id).where(*likes).limit(CONTACT_IDS_MAX + 1)).scalars().all()
    if not ids:
        return None
    if len(ids) <= CONTACT_IDS_MAX:
        linked = select(DocumentContact.document_id).where(DocumentContact.contact_id.in_(ids))
        return Document.id.in_(linked)
    return exists().where(DocumentContact.document_id == Document.id, Contact.id == DocumentContact.contact_id, *likes)


def _conditions(session: Session, kind: str, filters: DocumentFilters) -> list | None:
    """WHERE conditions, or None when nothing can match."""
    try:
        kind = DocumentKind(kind).value
    except ValueError:
        raise DomainError("Type de document inconnu.") from None
    conditions = [Document.kind == kind]
    if filters.status:
        try:
            conditions.append(Document.status == DocumentStatus(filters.status).value)
        except ValueError:
            raise DomainError("Statut inconnu.", field="status") from None
    if filters.date_from is not None:
        conditions.append(Document.issue_date >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Document.issue_date <= filters.date_to)
    if filters.amount_min is not None:
        conditions.append(Document.total_ttc >= Decimal(filters.amount_min).quantize(CENT, ROUND_CEILING))
    if filters.amount_max is not None:
        conditions.append(Document.total_ttc <= Decimal(filters.amount_max).quantize(CENT, ROUND_FLOOR))
    if (filters.contact_query or "").strip():
        linked = _contact_condition(session, filters.contact_query)
        if linked is None:
            return None
        conditions.append(linked)
    return conditions


def _status_label(status: str) -> str:
    try:
        return STATUS_LABELS[DocumentStatus(status)]
    except ValueError:
        return status


def _total_label(total: int, capped: bool) -> str:
    if capped:
        return f"{format_decimal_fr(Decimal(COUNT_CAP), 0)}+ documents"
    return f"{format_decimal_fr(Decimal(total), 0)} document{'s' if total > 1 else ''}"


def _payment_status(row, today: date) -> dict[str, str]:
    """The derived payment status of a finalised invoice (empty for anything else)."""
    if row.kind != DocumentKind.FACTURE.value or row.status != DocumentStatus.FINAL.value:
        return {}
    status = invoice_payment_status(row.total_ttc, row.amount_received, row.due_date, today)
    return {"payment_status": status.value, "payment_status_label": INVOICE_STATUS_LABELS[status]}


def list_documents(
    session: Session, kind: str, filters: DocumentFilters, page: int = 1, page_size: int = PAGE_SIZE,
    today: date | None = None,
) -> DocumentPage:
    """One page of documents of ``kind``, newest first (issue date, then id)."""
    conditions = _conditions(session, kind, filters or DocumentFilters())
    page_size = max(1, page_size)
    if conditions is None:
        return DocumentPage(rows=[], total=0, page=1, page_count=1, total_label=_total_label(0, False))
    limited = select(literal(1)).select_from(Document).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = session.execute(select(func.count()).select_from(limited)).scalar_one()
    capped = total > COUNT_CAP
    page_count = max(1, math.ceil(total / page_size))
    page = min(max(1, page), page_count)
    result = session.execute(
        select(
            Document.id, Document.number, Document.status, Document.contact_name,
            Document.issue_date, Document.due_date, Document.total_ttc, Document.amount_received, Document.kind,
        )
        .where(*conditions)
        .order_by(Document.issue_date.desc(), Document.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    rows = [
        DocumentRow(
            id=r.id,
            number=r.number or DRAFT_NUMBER,
            status_label=_status_label(r.status),
            contact_name=r.contact_name,
            issue_date=format_date_fr(r.issue_date),
            due_date=format_date_fr(r.due_date) if r.due_date else "",
            total_ttc=format_eur(r.total_ttc),
            status=r.status,
            **_payment_status(r, today or clock.today()),
        )
        for r in result
    ]
    return DocumentPage(
        rows=rows, total=total, page=page, page_count=page_count,
        total_capped=capped, total_label=_total_label(total, capped),
    )
