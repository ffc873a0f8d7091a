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

from sqlalchemy import func, literal, select
from sqlmodel import Session

from simple_erp.domain.documents import STATUS_LABELS, DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import CENT, format_date_fr, format_decimal_fr, format_eur
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact
from simple_erp.domain.payment_rules import INVOICE_STATUS_LABELS, invoice_payment_status
from simple_erp.services import clock
from simple_erp.services import contacts

PAGE_SIZE = 25
COUNT_CAP = 10_000
# A search by client: up to CONTACT_IDS_MAX matching contacts and LINKED_MAX of their
# documents are read by id; beyond, it is a broad search (see list_documents).
CONTACT_IDS_MAX = 5_000
LINKED_MAX = 5_000
BROAD_COUNT_CAP = 1_000  # a broad search counts up to here ("1 000+ documents")
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


def _conditions(session: Session, kind: str, filters: DocumentFilters) -> list:
    """WHERE conditions of every filter but the client's (``_client_ids``, ``_client_exists``)."""
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
    return conditions


def _status_label(status: str) -> str:
    try:
        return STATUS_LABELS[DocumentStatus(status)]
    except ValueError:
        return status


def _total_label(total: int, capped: bool, cap: int | None = None) -> str:
    if capped:
        return f"{format_decimal_fr(Decimal(COUNT_CAP if cap is None else cap), 0)}+ documents"
    return f"{format_decimal_fr(Decimal(total), 0)} document{'s' if total > 1 else ''}"


def _payment_status(row, today: date) -> dict[str, str]:
    """The derived payment status of a finalised invoice (empty for anything else)."""
    if row.kind != DocumentKind.FACTURE.value or row.status != DocumentStatus.FINAL.value:
        return {}
    status = invoice_payment_status(row.total_ttc, row.amount_received, row.due_date, today)
    return {"payment_status": status.value, "payment_status_label": INVOICE_STATUS_LABELS[status]}


def _client_document_ids(session: Session, terms: list[str]) -> list[int] | None:
    """The documents linked to the contacts whose search text has every word: their ids
    (any order) when the contacts and their links are few enough to read by id, [] when no
    contact matches, None when they are too many (a broad search)."""
    if contacts.walks_names(session) and len(contacts.name_walk(session, terms)) > contacts.COUNT_CAP:
        return None  # a common word (its trigram bitmap alone would cost more than the page)
    contact_ids = contacts.matching_ids(session, terms, CONTACT_IDS_MAX + 1)
    if not contact_ids:
        return []
    if len(contact_ids) > CONTACT_IDS_MAX:
        return None
    linked = session.execute(
        select(DocumentContact.document_id).where(DocumentContact.contact_id.in_(contact_ids)).limit(LINKED_MAX + 1)
    ).scalars().all()
    return None if len(linked) > LINKED_MAX else list(set(linked))


def _client_exists(session: Session, terms: list[str]):
    """EXISTS: a contact of the document has every word (the broad search's condition),
    checked per document while the date index is walked. Its OFFSET 0 keeps PostgreSQL
    from turning it into a join driven by the contacts (it misjudged how few match: 590 ms
    for a 1 % word at 1 000 000 contacts). LIKE on the document's own contacts, never the
    FTS5 table on SQLite (600 ms for a word in a third of 100 000 contacts)."""
    linked = (select(literal(1)).select_from(DocumentContact).join(Contact, Contact.id == DocumentContact.contact_id)
              .where(DocumentContact.document_id == Document.id, *contacts.like_conditions(terms)))
    return (linked.offset(0) if contacts.walks_names(session) else linked).exists()


def _page_rows(session: Session, query, page_ids: list[int] | None = None):
    columns = select(
        Document.id, Document.number, Document.status, Document.contact_name,
        Document.issue_date, Document.due_date, Document.total_ttc, Document.amount_received, Document.kind,
    )
    if page_ids is None:
        return list(session.execute(query(columns)))
    if not page_ids:
        return []
    found = {r.id: r for r in session.execute(columns.where(Document.id.in_(page_ids)))}
    return [found[i] for i in page_ids if i in found]


def _row(r, today: date) -> DocumentRow:
    return DocumentRow(
        id=r.id,
        number=r.number or DRAFT_NUMBER,
        status_label=_status_label(r.status),
        contact_name=r.contact_name,
        issue_date=format_date_fr(r.issue_date),
        due_date=format_date_fr(r.due_date) if r.due_date else "",
        total_ttc=format_eur(r.total_ttc),
        status=r.status,
        **_payment_status(r, today),
    )


def list_documents(
    session: Session, kind: str, filters: DocumentFilters, page: int = 1, page_size: int = PAGE_SIZE,
    today: date | None = None,
) -> DocumentPage:
    """One page of documents of ``kind``, newest first (issue date, then id).

    Searched by client, three paths (PostgreSQL's own choice misjudged them: 415 ms for a
    word of many contacts at 1 000 000 contacts):
    * the matching contacts (through the trigram index) and their links are few
      (CONTACT_IDS_MAX, LINKED_MAX): their documents are read by id with the other filters
      and sorted here; the count is exact;
    * else the page walks the date index, keeping the documents one of whose contacts
      matches (at least LINKED_MAX documents match, so a page comes soon), and the count
      goes from the matching contacts to their documents, up to BROAD_COUNT_CAP
      ("1 000+ documents")."""
    filters = filters or DocumentFilters()
    conditions = _conditions(session, kind, filters)
    page_size = max(1, page_size)
    today = today or clock.today()
    terms = contacts.search_terms(filters.contact_query or "")
    order = (Document.issue_date.desc(), Document.id.desc())
    if terms:
        doc_ids = _client_document_ids(session, terms)
        if doc_ids is not None:
            found = session.execute(
                select(Document.id, Document.issue_date).where(Document.id.in_(doc_ids), *conditions)
            ).all() if doc_ids else []
            ordered = [r.id for r in sorted(found, key=lambda r: (r.issue_date, r.id), reverse=True)]
            total, capped = len(ordered), False
            page_count = max(1, math.ceil(total / page_size))
            page = min(max(1, page), page_count)
            rows = _page_rows(session, None, ordered[(page - 1) * page_size:page * page_size])
            return DocumentPage(
                rows=[_row(r, today) for r in rows], total=total, page=page, page_count=page_count,
                total_capped=False, total_label=_total_label(total, False),
            )
        likes = contacts.word_conditions(session, terms)
        with contacts.planner(session, seqscan=False, hashjoin=False, mergejoin=False):
            limited = (select(literal(1)).select_from(Contact)
                       .join(DocumentContact, DocumentContact.contact_id == Contact.id)
                       .join(Document, Document.id == DocumentContact.document_id)
                       .where(*likes, *conditions).limit(BROAD_COUNT_CAP + 1).subquery())
            total = session.execute(select(func.count()).select_from(limited)).scalar_one()
        capped = total > BROAD_COUNT_CAP
        cap = BROAD_COUNT_CAP
        conditions = [*conditions, _client_exists(session, terms)]
        walk = {"seqscan": False, "bitmapscan": False, "hashjoin": False, "mergejoin": False}
    else:
        limited = select(literal(1)).select_from(Document).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = session.execute(select(func.count()).select_from(limited)).scalar_one()
        capped, cap, walk = total > COUNT_CAP, COUNT_CAP, {}
    page_count = max(1, math.ceil(total / page_size))
    page = min(max(1, page), page_count)
    with contacts.planner(session, **walk):
        rows = _page_rows(session, lambda columns: columns.where(*conditions).order_by(*order)
                          .offset((page - 1) * page_size).limit(page_size))
    return DocumentPage(
        rows=[_row(r, today) for r in rows], total=total, page=page, page_count=page_count,
        total_capped=capped, total_label=_total_label(total, capped, cap),
    )
