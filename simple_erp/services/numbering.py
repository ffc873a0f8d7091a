"""Document numbers: one counter per (company, kind, year), incremented in the caller's
transaction. A rolled-back transaction gives its number back: no gaps, no duplicates.

Concurrency:
- PostgreSQL: the counter row is created if missing (INSERT … ON CONFLICT DO NOTHING),
  then locked with SELECT … FOR UPDATE until the caller's transaction ends;
- SQLite: the database has a single writer. The first statement is an UPDATE, which
  takes the write lock (pysqlite opens the transaction just before it) and keeps it
  until commit, so reading the value back afterwards is safe. Because the UPDATE comes
  before any read of the counter, a stale read snapshot can never be upgraded.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from simple_erp.domain.documents import (
    DEFAULT_PREFIXES,
    KIND_LABELS,
    DocumentKind,
    check_patterns_disjoint,
    format_number,
    validate_number,
)
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.document import Document
from simple_erp.services import companies
from simple_erp.services.companies import numbering_patterns

_WHERE = "company_id = :company_id AND kind = :kind AND year = :year"


def _next_value_postgresql(session: Session, params: dict) -> int:
    session.execute(
        text(
            "INSERT INTO number_counter (company_id, kind, year, last_value) "
            "VALUES (:company_id, :kind, :year, 0) "
            "ON CONFLICT (company_id, kind, year) DO NOTHING"
        ),
        params,
    )
    row = session.execute(
        text(f"SELECT id, last_value FROM number_counter WHERE {_WHERE} FOR UPDATE"), params
    ).one()
    value = row.last_value + 1
    session.execute(text("UPDATE number_counter SET last_value = :value WHERE id = :id"), {"value": value, "id": row.id})
    return value


def _next_value_single_writer(session: Session, params: dict) -> int:
    updated = session.execute(
        text(f"UPDATE number_counter SET last_value = last_value + 1 WHERE {_WHERE}"), params
    ).rowcount
    if not updated:  # first number of this (company, kind, year): we hold the write lock
        session.execute(
            text(
                "INSERT INTO number_counter (company_id, kind, year, last_value) "
                "VALUES (:company_id, :kind, :year, 1)"
            ),
            params,
        )
    return session.execute(text(f"SELECT last_value FROM number_counter WHERE {_WHERE}"), params).scalar_one()


def next_sequence(session: Session, company_id: int, kind: str, year: int) -> int:
    """Increment and return the counter of (company, kind, year), in the current transaction."""
    params = {"company_id": company_id, "kind": DocumentKind(kind).value, "year": year}
    session.flush()  # pending ORM changes first, so our statements are the ones that lock
    if session.get_bind().dialect.name == "postgresql":
        return _next_value_postgresql(session, params)
    return _next_value_single_writer(session, params)


def next_number(session: Session, company_id: int, kind: str, year: int) -> str:
    """The next document number, e.g. "F-2026-00001", from the company's pattern."""
    document_kind = DocumentKind(kind)
    pattern = numbering_patterns(session, company_id)[document_kind.value]
    seq = next_sequence(session, company_id, document_kind.value, year)
    number = format_number(pattern, year, seq, DEFAULT_PREFIXES[document_kind])
    validate_number(number)
    _ensure_unused(session, company_id, number)
    return number


def _ensure_unused(session: Session, company_id: int, number: str) -> None:
    """Numbers are unique per company across kinds (unique index uq_document_company_number).
    Overlapping patterns are refused when saved; this catches a number already given under
    an earlier pattern, with a French message instead of an integrity error."""
    holder = session.exec(
        select(Document.kind).where(Document.company_id == company_id, Document.number == number)
    ).first()
    if holder is not None:
        raise DomainError(
            f"Le numéro « {number} » est déjà celui d'un document ({KIND_LABELS[DocumentKind(holder)].lower()}) "
            "de cette société : un numéro ne sert qu'une fois. Changez le modèle de numérotation "
            "(Admin ERP → 2. Numérotation)."
        )


def save_patterns(session: Session, company_id: int, patterns: dict[str, str]) -> None:
    """Save several kinds' patterns at once (the « Numérotation » form): each must be valid,
    and no two kinds, saved or not, may be able to produce the same number. Nothing is
    saved when one is refused; ValidationErrors is keyed by kind."""
    errors: dict[str, str] = {}
    for kind, pattern in patterns.items():
        try:
            companies.save_numbering_pattern(session, company_id, kind, pattern, check_overlap=False)
        except DomainError as exc:
            errors[kind] = exc.message
    if not errors:
        errors = check_patterns_disjoint(numbering_patterns(session, company_id))
    if errors:
        raise ValidationErrors(errors)
