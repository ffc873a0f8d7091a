"""Lists of documents of one kind: filters, newest first, pagination with a capped count.

Built to stay fast with millions of documents on PostgreSQL: rows come from the
(kind, issue_date, id) or (kind, status, issue_date, id) indexes walked backwards, and
the total counts at most COUNT_CAP + 1 rows (shown as "10 000+" beyond). A search by
client reads the document_search table (its contacts' text, kept by triggers) instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy import column, func, literal, or_, select, table
from sqlmodel import Session

from simple_erp.db import planner
from simple_erp.domain.documents import STATUS_LABELS, DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import CENT, format_date_fr, format_decimal_fr, format_eur
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact, DocumentSearch
from simple_erp.domain.payment_rules import INVOICE_STATUS_LABELS, invoice_payment_status
from simple_erp.services import clock
from simple_erp.services import contacts

PAGE_SIZE = 25
COUNT_CAP = 10_000
# A search by client (document_search, migration f15b3c7d0002) counts up to here
# ("1 000+ documents"); PostgreSQL first checks the CLIENT_WALK newest documents from the
# index alone (SQLite: SQLITE_CLIENT_WALK, read from the table, only for a common word's page).
BROAD_COUNT_CAP = 1_000
CLIENT_WALK = 10_000
SQLITE_CLIENT_WALK = 5_000
DRAFT_NUMBER = "Brouillon"
# A client search with a date range this short or shorter lets PostgreSQL AND the text
# bitmap with the range (``_matched``): at 1 000 000 documents, « martin » over two months
# 34 ms p95 (46 fenced), but over a year 46 ms (33 fenced).
SHORT_RANGE_DAYS = 92


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


def _conditions(session: Session, kind: str, filters: DocumentFilters, on=Document) -> list:
    """WHERE conditions of every filter but the client's, on ``on``: Document, or
    DocumentSearch (which has the same listed columns) for a search by client."""
    try:
        kind = DocumentKind(kind).value
    except ValueError:
        raise DomainError("Type de document inconnu.") from None
    conditions = [on.kind == kind]
    if filters.status:
        try:
            conditions.append(on.status == DocumentStatus(filters.status).value)
        except ValueError:
            raise DomainError("Statut inconnu.", field="status") from None
    if filters.date_from is not None:
        conditions.append(on.issue_date >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(on.issue_date <= filters.date_to)
    if filters.amount_min is not None:
        conditions.append(on.total_ttc >= Decimal(filters.amount_min).quantize(CENT, ROUND_CEILING))
    if filters.amount_max is not None:
        conditions.append(on.total_ttc <= Decimal(filters.amount_max).quantize(CENT, ROUND_FLOOR))
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


# SQLite: the FTS5 trigram index of document_search.search_text (migration f15b3c7d0002).
_SQLITE_FTS = table("document_search_fts", column("rowid"), column("document_search_fts"))
_TRIGRAM = 3
_NEWEST = (DocumentSearch.issue_date.desc(), DocumentSearch.document_id.desc())


def _client_match(terms: list[str], text_column, id_column, long_words: bool = True) -> list:
    """Conditions on document_search rows (or a subquery of them): every word in the text
    of one contact of the document. The text joins the contacts' texts by a newline, which
    no word holds, so one word matches within one contact; several words on a document
    with several contacts (a newline in its text) are checked contact by contact.
    ``long_words`` False: the words of 3 characters or more are matched elsewhere (FTS5)."""
    conditions = [contacts.contains(text_column, t) for t in terms if long_words or len(t) < _TRIGRAM]
    if len(terms) > 1:
        one_contact = (select(literal(1)).select_from(DocumentContact)
                       .join(Contact, Contact.id == DocumentContact.contact_id)
                       .where(DocumentContact.document_id == id_column, *contacts.like_conditions(terms)))
        conditions.append(or_(text_column.notlike("%\n%"), one_contact.exists()))
    return conditions


def _walk(session: Session, conditions: list, terms: list[str], walk: int | None, limit: int,
          offset: int = 0) -> list[int]:
    """Ids, newest first, of up to ``limit`` matching documents (after ``offset``) among
    the ``walk`` newest documents that pass the filters (None: all of them). PostgreSQL
    walks ix_document_search_walk backwards from the index alone (status, amount and text
    are included in it): 10 000 entries in a few ms, stopped at the LIMIT."""
    S = DocumentSearch
    window = select(S.document_id, S.issue_date, S.search_text).where(*conditions).order_by(*_NEWEST)
    window = (window.limit(walk) if walk is not None else window).subquery()
    hits = (select(window.c.document_id, window.c.issue_date)
            .where(*_client_match(terms, window.c.search_text, window.c.document_id))
            .order_by(window.c.issue_date.desc(), window.c.document_id.desc()).offset(offset).limit(limit)
            .cte("walked").prefix_with("MATERIALIZED"))
    with planner(session, seqscan=False, bitmapscan=False):
        return list(session.execute(select(hits.c.document_id)
                                    .order_by(hits.c.issue_date.desc(), hits.c.document_id.desc())).scalars())


def _all_walked(session: Session, conditions: list) -> bool:
    """Fewer than CLIENT_WALK documents pass the filters: the walk of ``_client_page`` saw
    them all, and its matches are exact (counted from the index alone, a few ms)."""
    within = select(literal(1)).select_from(DocumentSearch).where(*conditions).limit(CLIENT_WALK).subquery()
    with planner(session, seqscan=False, bitmapscan=False):
        return session.execute(select(func.count()).select_from(within)).scalar_one() < CLIENT_WALK


def _matched(session: Session, filtered, terms: list[str], limit: int, fence: bool = True) -> list[int]:
    """Ids, newest first, of up to ``limit`` matching documents, found through the text
    index: PostgreSQL's trigram index (planner switched to its bitmap scan, whose table part
    stops at the LIMIT), SQLite's FTS5 table in a join (its MATCH drives the loop).
    ``filtered(columns)``: the list's other filters, on those columns. ``fence`` False
    (a date range of SHORT_RANGE_DAYS or less): PostgreSQL may AND the text bitmap with that range
    of ix_document_search_walk, which then holds few entries, instead of reading every
    document that has the words."""
    S = DocumentSearch
    long_terms = [t for t in terms if len(t) >= _TRIGRAM]
    if session.get_bind().dialect.name == "sqlite" and long_terms:
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
        query = (select(S.document_id, S.issue_date)
                 .select_from(_SQLITE_FTS.join(S, S.document_id == _SQLITE_FTS.c.rowid))
                 .where(_SQLITE_FTS.c.document_search_fts.op("MATCH")(match), *filtered(S),
                        *_client_match(terms, S.search_text, S.document_id, long_words=False)))
    elif long_terms and fence:
        # The trigram index alone, fenced off from the filters by OFFSET 0 (a subquery with
        # an OFFSET takes no condition from outside): left to itself, PostgreSQL ANDed its
        # bitmap with the 650 000 entries of kind = 'facture' in ix_document_search_walk,
        # 47 of the 54 ms of « martin lyon » at 1 000 000 documents.
        found = (select(*S.__table__.c)  # every column a filter may name
                 .where(*[contacts.contains(S.search_text, t) for t in terms]).offset(0).subquery())
        query = select(found.c.document_id, found.c.issue_date).where(
            *filtered(found.c), *_client_match(terms, found.c.search_text, found.c.document_id))
    else:
        query = select(S.document_id, S.issue_date).where(
            *filtered(S), *_client_match(terms, S.search_text, S.document_id))
    matched = query.limit(limit).cte("matched").prefix_with("MATERIALIZED")
    switches = {"seqscan": False, "indexscan": False, "indexonlyscan": False} if long_terms else {}
    with planner(session, **switches):
        return list(session.execute(select(matched.c.document_id)
                                    .order_by(matched.c.issue_date.desc(), matched.c.document_id.desc())).scalars())


def _client_page(session: Session, kind: str, filters: DocumentFilters, terms: list[str], page: int,
                 page_size: int) -> tuple[list[int], int, int, bool]:
    """(the page's ids, total, page, capped) of a search by client, from document_search.

    1. PostgreSQL: the CLIENT_WALK newest documents that pass the filters are checked
       (``_walk``): more than BROAD_COUNT_CAP matches there, the word is common ("1 000+").
    2. Else the matches come from the text index, up to BROAD_COUNT_CAP + 1
       (``_matched``): up to the cap, that is the exact count and the sorted list the page
       comes from. More: the page comes from the walk of step 1 when it holds it, else
       from the walk continued as far as the page needs (at least BROAD_COUNT_CAP
       documents match, so it comes soon unless the page is far)."""
    conditions = _conditions(session, kind, filters, DocumentSearch)
    cap = BROAD_COUNT_CAP
    walked = _walk(session, conditions, terms, CLIENT_WALK, cap + 1) if contacts.walks_names(session) else None
    narrowed = bool(filters.status or filters.date_from or filters.date_to
                    or filters.amount_min is not None or filters.amount_max is not None)
    if walked is not None and (len(walked) > cap or (narrowed and _all_walked(session, conditions))):
        ordered = walked  # « 1 000+ », or every match: the walk saw every document that passes the filters
    else:
        short_range = (filters.date_from is not None and filters.date_to is not None
                       and (filters.date_to - filters.date_from).days <= SHORT_RANGE_DAYS)
        ordered = _matched(session, lambda on: _conditions(session, kind, filters, on), terms, cap + 1,
                           fence=not short_range)
    total = len(ordered)
    capped = total > cap
    page_count = max(1, math.ceil(total / page_size))
    page = min(max(1, page), page_count)
    offset = (page - 1) * page_size
    if not capped:
        return ordered[offset:offset + page_size], total, page, False
    if walked is None:  # SQLite: a shorter walk
        walked = _walk(session, conditions, terms, SQLITE_CLIENT_WALK, cap + 1)
    if len(walked) >= offset + page_size:
        return walked[offset:offset + page_size], total, page, True
    return _walk(session, conditions, terms, None, page_size, offset), total, page, True


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

    Searched by client, the rows come from document_search (``_client_page``): the
    contacts' text of each document with the listed columns, in one table whose indexes
    give a page without reading the contacts (PostgreSQL, left to itself or joining
    documents to contacts, took 105-703 ms at 1 000 000 documents). The count is exact up
    to BROAD_COUNT_CAP, else "1 000+ documents"."""
    filters = filters or DocumentFilters()
    page_size = max(1, page_size)
    today = today or clock.today()
    terms = contacts.search_terms(filters.contact_query or "")
    if terms:
        ids, total, page, capped = _client_page(session, kind, filters, terms, page, page_size)
        rows = _page_rows(session, None, ids)
        return DocumentPage(
            rows=[_row(r, today) for r in rows], total=total, page=page,
            page_count=max(1, math.ceil(total / page_size)), total_capped=capped,
            total_label=_total_label(total, capped, BROAD_COUNT_CAP),
        )
    conditions = _conditions(session, kind, filters)
    order = (Document.issue_date.desc(), Document.id.desc())
    limited = select(literal(1)).select_from(Document).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = session.execute(select(func.count()).select_from(limited)).scalar_one()
    capped = total > COUNT_CAP
    page_count = max(1, math.ceil(total / page_size))
    page = min(max(1, page), page_count)
    with planner(session):
        rows = _page_rows(session, lambda columns: columns.where(*conditions).order_by(*order)
                          .offset((page - 1) * page_size).limit(page_size))
    return DocumentPage(
        rows=[_row(r, today) for r in rows], total=total, page=page, page_count=page_count,
        total_capped=capped, total_label=_total_label(total, capped),
    )
