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
from simple_erp.domain.contact_rules import ContactInput, mask_iban, validate_contact
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.contact import Contact
from simple_erp.models.types import utcnow

PAGE_SIZE = 25
# Counting stops here: an exact COUNT(*) over 100 000 rows costs more than the page.
COUNT_CAP = 10_000
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


def _word_conditions(session: Session, terms: list[str]) -> list:
    """Each word must appear in search_text. PostgreSQL: LIKE, served by its pg_trgm
    index. SQLite: the words of 3 characters or more through the FTS5 trigram index (a
    quoted FTS string matches as a literal substring), shorter ones with LIKE."""
    like = [Contact.search_text.like(f"%{_escape_like(term)}%", escape="\\") for term in terms]
    long_terms = [term for term in terms if len(term) >= _TRIGRAM]
    if session.get_bind().dialect.name != "sqlite" or not long_terms:
        return like
    match = " AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms)
    found = select(_SQLITE_SEARCH.c.rowid).where(_SQLITE_SEARCH.c.contact_search.op("MATCH")(match))
    short = [condition for term, condition in zip(terms, like, strict=True) if len(term) < _TRIGRAM]
    return [Contact.id.in_(found), *short]


def search_contacts(session: Session, query: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> ContactPage:
    """Server-side search (every word must match) with pagination, sorted by name."""
    conditions = _word_conditions(session, normalize(query).split())
    capped_rows = select(Contact.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    total = session.exec(select(func.count()).select_from(capped_rows)).one()
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    page_count = max(1, math.ceil(total / page_size))
    page = max(1, page) if capped else min(max(1, page), page_count)
    page_count = max(page_count, page + 1) if capped else page_count
    contacts = session.exec(
        select(Contact)
        .where(*conditions)
        .order_by(Contact.sort_name, Contact.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
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
        for c in contacts
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
