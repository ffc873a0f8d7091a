"""The cap on avoirs: the avoirs finalised on an invoice cannot credit more than its total
TTC without an explicit confirmation (``domain.documents.check_credit_note_cap``).

``check_cap`` runs in ``documents.finalize``, with the invoice row locked (PostgreSQL:
SELECT … FOR UPDATE; SQLite: the finalising transaction already holds the write lock), so
two avoirs finalised at once on the same invoice are checked one after the other.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from simple_erp.domain.documents import DocumentKind, DocumentStatus, check_credit_note_cap, credit_note_excess
from simple_erp.domain.money import format_eur
from simple_erp.models.document import Document

FINAL = DocumentStatus.FINAL.value
AVOIR = DocumentKind.AVOIR.value


def _invoice(session: Session, avoir: Document, lock: bool = False) -> Document | None:
    if avoir.kind != AVOIR or avoir.source_id is None:
        return None
    query = select(Document).where(Document.id == avoir.source_id, Document.kind == DocumentKind.FACTURE.value,
                                   Document.status == FINAL)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def credited_total(session: Session, invoice_id: int, excluding: int | None = None) -> Decimal:
    """What the finalised avoirs on the invoice credit (a positive amount)."""
    query = select(func.sum(Document.total_ttc)).where(  # ScaledDecimal: the sum comes back a Decimal
        Document.source_id == invoice_id, Document.kind == AVOIR, Document.status == FINAL
    )
    if excluding is not None:
        query = query.where(Document.id != excluding)
    total = session.exec(query).one()
    return -total if total else Decimal("0.00")


def check_cap(session: Session, avoir: Document, avoir_ttc: Decimal, confirmed: bool) -> None:
    """Refuse (French message) an avoir above what its invoice still carries, unless
    ``confirmed``. Anything else than an avoir on a finalised invoice passes."""
    invoice = _invoice(session, avoir, lock=True)
    if invoice is None:
        return
    check_credit_note_cap(invoice.number or "", invoice.total_ttc, credited_total(session, invoice.id, avoir.id),
                          avoir_ttc, confirmed)


def over_credit_warning(session: Session, avoir: Document, avoir_ttc: Decimal) -> str:
    """For the editor of an avoir draft: a French warning when it goes beyond what the
    invoice still carries ("" otherwise)."""
    if avoir.status == FINAL:
        return ""
    invoice = _invoice(session, avoir)
    if invoice is None:
        return ""
    credited = credited_total(session, invoice.id, avoir.id)
    if credit_note_excess(invoice.total_ttc, credited, avoir_ttc) == 0:
        return ""
    remaining = max(invoice.total_ttc - credited, Decimal("0.00"))
    return (f"Cet avoir ({format_eur(abs(avoir_ttc))}) dépasse le montant restant de la facture "
            f"{invoice.number} ({format_eur(remaining)}).")
