"""Contacts: search, create, update, with their SEPA mandate."""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import column, table
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from simple_erp import crypto
from simple_erp.db import planner
from simple_erp.domain.contact_rules import ContactInput, mask_iban, validate_contact
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.contact import Contact
from simple_erp.models.types import utcnow

PAGE_SIZE = 25
# Counting stops here ("plus de 1 000 contacts"): an exact count of a common word over a
# million contacts costs more than the page (see search_contacts).
COUNT_CAP = 1_000
NAME_WALK = 20_000  # contacts checked in name order before the trigram index is used
SQLITE_NAME_WALK = 5_000
# PostgreSQL, a word with more than COUNT_CAP matches but too few among the first NAME_WALK
# names: the walk goes on over so many more before every match is sorted.
NAME_WALK_MORE = 60_000
RUM_TAKEN = "Cette référence de mandat (RUM) est déjà utilisée par un autre contact."
KIND_LABELS = {"particulier": "Particulier", "entreprise": "Entreprise"}


def normalize(text: str) -> str:
    """Lower-case, accent-free text for search and sorting."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


@dataclass(frozen=True)
class ContactRow:
    id: int
    display_name: str
    kind: str
    email: str
    phone: str
    city: str
    iban_masked: str
    mandate_complete: bool


@dataclass(frozen=True)
class ContactPage:
    rows: list[ContactRow]
    total: int
    page: int
    page_count: int
    total_capped: bool = False  # True: more than COUNT_CAP matches, ``total`` is the cap


def display_name(data: ContactInput) -> str:
    if data.kind == "entreprise":
        return data.company_name
    return " ".join(p for p in (data.last_name.upper(), data.first_name) if p)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# SQLite: the FTS5 trigram index of contact.search_text (alembic b3a9f2c41d07).
_SQLITE_SEARCH = table("contact_search", column("rowid"), column("contact_search"))
_TRIGRAM = 3  # words this long or longer are looked up in it


def search_terms(query: str) -> list[str]:
    """The words of a search, lower-case and accent-free (as in ``search_text``)."""
    return normalize(query).split()


def contains(column, term: str):
    """``column`` holds ``term`` (LIKE '%term%', its wildcards escaped)."""
    return column.like(f"%{_escape_like(term)}%", escape="\\")


def like_conditions(terms: list[str]) -> list:
    """Each word in search_text, with LIKE: to check the contacts of rows already found."""
    return [contains(Contact.search_text, term) for term in terms]


def word_conditions(session: Session, terms: list[str]) -> list:
    """Each word must appear in search_text. PostgreSQL: LIKE, served by its pg_trgm
    index. SQLite: the words of 3 characters or more through the FTS5 trigram index (a
    quoted FTS string matches as a literal substring), shorter ones with LIKE."""
    like = [contains(Contact.search_text, term) for term in terms]
    long_terms = [term for term in terms if len(term) >= _TRIGRAM]
    if session.get_bind().dialect.name != "sqlite" or not long_terms:
        return like
    match = " AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms)
    found = select(_SQLITE_SEARCH.c.rowid).where(_SQLITE_SEARCH.c.contact_search.op("MATCH")(match))
    short = [condition for term, condition in zip(terms, like, strict=True) if len(term) < _TRIGRAM]
    return [Contact.id.in_(found), *short]


def _trigram_first(terms: list[str]) -> dict[str, bool]:
    """Planner switches that make PostgreSQL find the matches through the trigram index
    (a bitmap scan, whose heap part stops at the LIMIT): left alone, it chose a sequential
    scan for a 1 % word (61-72 ms at 100 000 contacts) or walked the name index. Words all
    shorter than 3 characters have no trigram: the scan, stopped by the LIMIT, is right."""
    return {"seqscan": False, "indexscan": False, "indexonlyscan": False} if any(len(t) >= _TRIGRAM for t in terms) else {}


def _matches(session: Session, terms: list[str], *columns):
    """SELECT ``columns`` of the contacts that have every word. SQLite: driven by the FTS5
    table in a join (its MATCH makes it the outer loop), so a LIMIT stops it early and a
    sort reads only the matches; PostgreSQL: the LIKE conditions (see ``_trigram_first``)."""
    long_terms = [term for term in terms if len(term) >= _TRIGRAM]
    if session.get_bind().dialect.name != "sqlite" or not long_terms:
        return select(*columns).where(*word_conditions(session, terms))
    match = " AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms)
    short = [contains(Contact.search_text, t) for t in terms if len(t) < _TRIGRAM]
    joined = _SQLITE_SEARCH.join(Contact, Contact.id == _SQLITE_SEARCH.c.rowid)
    return (select(*columns).select_from(joined)
            .where(_SQLITE_SEARCH.c.contact_search.op("MATCH")(match), *short))


def matching_ids(session: Session, terms: list[str], limit: int) -> list[int]:
    """Ids of up to ``limit`` contacts whose search text has every word, in no order."""
    with planner(session, **_trigram_first(terms)):
        return list(session.exec(_matches(session, terms, Contact.id).limit(limit)).all())


def walks_names(session: Session) -> bool:
    """PostgreSQL walks names first (index-only). SQLite's name index has no search_text
    (no INCLUDE), so its walk reads the table: there the FTS5 table comes first, and the
    walk (SQLITE_NAME_WALK contacts) only serves a page of a common word."""
    return session.get_bind().dialect.name == "postgresql"


def name_walk(session: Session, terms: list[str], walk: int | None = None, skip: int = 0,
              limit: int | None = None) -> list[int]:
    """Up to COUNT_CAP + 1 (or ``limit``) ids, in name order, of the matches among the first
    NAME_WALK (or ``walk``) contacts in name order after the first ``skip``: the start of
    the sorted matches. PostgreSQL reads them from the name index alone (it includes
    search_text): 20 000 entries in a few ms."""
    window = (select(Contact.id, Contact.sort_name, Contact.search_text)
              .order_by(Contact.sort_name, Contact.id).offset(skip).limit(walk or NAME_WALK).subquery())
    likes = [contains(window.c.search_text, term) for term in terms]
    hits = (select(window.c.id, window.c.sort_name).where(*likes).limit(limit or COUNT_CAP + 1)
            .cte("walked").prefix_with("MATERIALIZED"))
    with planner(session, seqscan=False, bitmapscan=False):
        return list(session.exec(select(hits.c.id).order_by(hits.c.sort_name, hits.c.id)).all())


def _trigram_matches(session: Session, terms: list[str]) -> list[int]:
    """Up to COUNT_CAP + 1 ids of the matches, found through the trigram index, in name order."""
    matched = (_matches(session, terms, Contact.id, Contact.sort_name)
               .limit(COUNT_CAP + 1).cte("matched").prefix_with("MATERIALIZED"))
    with planner(session, **_trigram_first(terms)):
        return list(session.exec(select(matched.c.id).order_by(matched.c.sort_name, matched.c.id)).all())


def _sorted_matches(session: Session, terms: list[str], offset: int, limit: int) -> list[int]:
    """The page's ids among every match, sorted (PostgreSQL: all of them found through the
    trigram index, then a top-N sort). Only for a word common in one part of the alphabet."""
    with planner(session, **_trigram_first(terms)):
        return list(session.exec(_matches(session, terms, Contact.id)
                                 .order_by(Contact.sort_name, Contact.id).offset(offset).limit(limit)).all())


def search_contacts(session: Session, query: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> ContactPage:
    """Server-side search (every word must match) with pagination, sorted by name.

    1. The first NAME_WALK contacts in name order are checked (``name_walk``): more than
       COUNT_CAP matches there, the word is common (5 % or more): "plus de 1 000
       contacts", and the page is the start of those matches.
    2. Else the matches are found through the trigram index (the FTS5 table on SQLite), up
       to COUNT_CAP + 1 (``_trigram_matches``): up to COUNT_CAP, that is the exact count
       and the sorted list the page comes from. More: the page comes from the walk of
       step 1 when it holds it, or from that walk continued over NAME_WALK_MORE names
       (PostgreSQL), else from every match sorted (``_sorted_matches``: a word common in
       one part of the alphabet only, such as a surname, on a far page).
    Only the page's rows are then read in full. PostgreSQL, left to itself, counted a
    1 % word with a sequential scan and walked the whole name index for two words (up to
    1 s at 1 000 000 contacts)."""
    terms = search_terms(query)
    page_size = max(1, page_size)
    walked: list[int] | None = None
    ordered: list[int] = []
    if terms:
        walked = name_walk(session, terms) if walks_names(session) else None
        ordered = walked if walked and len(walked) > COUNT_CAP else _trigram_matches(session, terms)
        total = len(ordered)
    else:
        capped_rows = select(Contact.id).limit(COUNT_CAP + 1).subquery()
        total = session.exec(select(func.count()).select_from(capped_rows)).one()
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    page_count = max(1, math.ceil(total / page_size))
    page = max(1, page) if capped else min(max(1, page), page_count)
    page_count = max(page_count, page + 1) if capped else page_count
    offset = (page - 1) * page_size
    if not terms:
        with planner(session):
            ids = list(session.exec(select(Contact.id).order_by(Contact.sort_name, Contact.id)
                                    .offset(offset).limit(page_size)).all())
    elif not capped:
        ids = ordered[offset:offset + page_size]
    else:
        if walked is None:  # SQLite: a shorter walk, each contact read from the table
            walked = name_walk(session, terms, SQLITE_NAME_WALK)
        wanted = offset + page_size - len(walked)
        if (wanted > 0 and walks_names(session) and len(walked) <= COUNT_CAP
                and (not walked or len(walked) * NAME_WALK_MORE >= wanted * NAME_WALK)):
            # the first NAME_WALK names hold every match among them, too few: the walk goes on
            # (« martin lyon »: « atelier martin » comes after 20 000 « andre… » and « atelier a… »),
            # unless, at the rate seen so far, it cannot reach a far page
            walked = walked + name_walk(session, terms, NAME_WALK_MORE, NAME_WALK, wanted)
        if len(walked) >= offset + page_size:
            ids = walked[offset:offset + page_size]
        else:
            ids = _sorted_matches(session, terms, offset, page_size)
    found = {c.id: c for c in session.exec(select(Contact).where(Contact.id.in_(ids))).all()} if ids else {}
    rows = [
        ContactRow(
            id=c.id,
            display_name=c.display_name,
            kind=KIND_LABELS.get(c.kind, c.kind),
            email=c.email,
            phone=c.phone,
            city=c.city,
            iban_masked=c.iban_masked,
            mandate_complete=c.mandate_complete,
        )
        for c in (found[i] for i in ids if i in found)
    ]
    return ContactPage(rows=rows, total=total, page=page, page_count=page_count, total_capped=capped)


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise DomainError("Ce contact n'existe pas.")
    return contact


def contact_input(contact: Contact) -> ContactInput:
    """The editable values of a contact, full IBAN included (for the edit form only)."""
    names = {f.name for f in dataclasses.fields(ContactInput)} - {"iban"}
    values = {name: getattr(contact, name) for name in names}
    values["rum"] = contact.rum or ""
    return ContactInput(iban=crypto.decrypt(contact.iban_encrypted), **values)


def _apply(contact: Contact, data: ContactInput) -> None:
    for field in dataclasses.fields(ContactInput):
        if field.name not in {"iban", "rum"}:
            setattr(contact, field.name, getattr(data, field.name))
    contact.rum = data.rum or None
    contact.iban_encrypted = crypto.encrypt(data.iban)
    contact.iban_masked = mask_iban(data.iban)
    contact.display_name = display_name(data)
    contact.sort_name = normalize(contact.display_name)
    contact.search_text = normalize(
        " ".join(
            (data.company_name, data.last_name, data.first_name, data.email, data.city,
             data.postal_code, data.phone, data.siren, data.rum)
        )
    )
    contact.updated_at = utcnow()


def _check_rum_free(session: Session, rum: str, contact_id: int | None) -> None:
    if not rum:
        return
    query = select(Contact.id).where(Contact.rum == rum)
    if contact_id is not None:
        query = query.where(Contact.id != contact_id)
    if session.exec(query).first() is not None:
        raise ValidationErrors({"rum": RUM_TAKEN})


def _save(session: Session, contact: Contact) -> Contact:
    """Flushes; on a RUM clash the caller's transaction must be rolled back (session_scope does)."""
    session.add(contact)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent save took the same RUM
        raise ValidationErrors({"rum": RUM_TAKEN}) from exc
    return contact


def create_contact(session: Session, data: ContactInput, today: date) -> Contact:
    clean = validate_contact(data, today)
    _check_rum_free(session, clean.rum, None)
    contact = Contact()
    _apply(contact, clean)
    return _save(session, contact)


def update_contact(session: Session, contact_id: int, data: ContactInput, today: date) -> Contact:
    contact = get_contact(session, contact_id)
    clean = validate_contact(data, today)
    _check_rum_free(session, clean.rum, contact_id)
    _apply(contact, clean)
    return _save(session, contact)


# --- form values (strings) <-> ContactInput -------------------------------------------

FORM_FIELDS = tuple(f.name for f in dataclasses.fields(ContactInput))


def empty_form() -> dict[str, str]:
    return form_from_input(ContactInput(kind="entreprise"))


def form_from_input(data: ContactInput) -> dict[str, str]:
    values = {name: getattr(data, name) for name in FORM_FIELDS}
    signed_on = values.pop("mandate_signed_on")
    values["mandate_signed_on"] = signed_on.isoformat() if signed_on else ""
    return {k: v or "" for k, v in values.items()}


def _french_date(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def input_from_form(form: dict[str, str]) -> ContactInput:
    values = {name: str(form.get(name, "") or "") for name in FORM_FIELDS}
    raw_date = values.pop("mandate_signed_on").strip()
    signed_on = None
    if raw_date:
        try:
            signed_on = date.fromisoformat(raw_date)
        except ValueError:
            signed_on = _french_date(raw_date)
        if signed_on is None:
            raise ValidationErrors(
                {"mandate_signed_on": "Date de signature invalide (format attendu : jj/mm/aaaa)."}
            ) from None
    return ContactInput(mandate_signed_on=signed_on, **values)
