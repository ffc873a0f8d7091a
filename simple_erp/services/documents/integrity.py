"""Integrity of finalised documents: the logo they were finalised with (``document_logo``)
and the SHA-256 of their frozen content (``domain.content_hash``), set at finalisation and
checked before a PDF is produced.

The database refuses changes to a finalised document's frozen columns and lines (triggers
of migration e12b9d4a0002); the hash catches what gets past them (a dropped trigger, a
restored or hand-edited backup): such a document is never printed again, and the
mismatch is logged.
"""

from __future__ import annotations

import logging

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from simple_erp.domain.content_hash import FrozenDocument, FrozenLine, content_sha256, logo_sha256
from simple_erp.domain.documents import DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.models.company import Company
from simple_erp.models.document import Document, DocumentLine, DocumentLogo
from simple_erp.models.types import utcnow

log = logging.getLogger(__name__)

TAMPERED = (
    "Le contenu de ce document finalisé ne correspond plus à son empreinte enregistrée à la "
    "finalisation (lignes, montants, parties ou logo modifiés hors de l'application) : le PDF "
    "n'est pas produit. Contactez le support ; l'incident est consigné dans le journal."
)


def _lines(session: Session, doc_id: int) -> list[DocumentLine]:
    query = select(DocumentLine).where(DocumentLine.document_id == doc_id)
    return list(session.exec(query.order_by(DocumentLine.position, DocumentLine.id)))


def compute(doc: Document, lines: list[DocumentLine], logo_hash: str) -> str:
    """SHA-256 of the document's frozen content, as it is now."""
    frozen = FrozenDocument(
        document_id=doc.id, company_id=doc.company_id, kind=doc.kind, number=doc.number or "",
        issue_date=doc.issue_date, due_date=doc.due_date, delivery_date=doc.delivery_date,
        payment_terms=doc.payment_terms, notes=doc.notes or "", total_ht=doc.total_ht,
        total_vat=doc.total_vat, total_ttc=doc.total_ttc, snapshot=doc.snapshot or "", logo_sha256=logo_hash,
    )
    return content_sha256(frozen, [
        FrozenLine(position=ln.position, description=ln.description, quantity=ln.quantity, unit=ln.unit,
                   unit_price=ln.unit_price, discount_percent=ln.discount_percent, vat_rate=ln.vat_rate)
        for ln in lines
    ])


def _store_logo(session: Session, logo: bytes) -> str:
    """Keep the logo once by its hash (several finalisations may store it at once)."""
    sha = logo_sha256(logo)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(DocumentLogo).values(sha256=sha, content=logo, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha


def freeze(session: Session, doc: Document, lines: list[DocumentLine], logo: bytes | None) -> None:
    """Set the frozen logo and the content hash on ``doc`` (number, totals and snapshot
    already set). The caller flushes them with the status change, in one UPDATE: the
    triggers refuse any later change of these columns."""
    doc.logo_sha256 = _store_logo(session, logo) if logo else None
    doc.content_sha256 = compute(doc, lines, doc.logo_sha256 or "")


def frozen_logo(session: Session, doc: Document) -> bytes | None:
    """The logo a finalised document prints: the one it was finalised with."""
    if not doc.logo_sha256:
        return None
    row = session.get(DocumentLogo, doc.logo_sha256)
    return bytes(row.content) if row is not None else None


def printed_logo(session: Session, doc: Document) -> bytes | None:
    """Frozen for a finalised document, the company's current logo for a draft."""
    if doc.status == DocumentStatus.FINAL.value and doc.content_sha256:
        return frozen_logo(session, doc)
    company = session.get(Company, doc.company_id)
    return company.logo if company is not None else None


def verify(session: Session, doc: Document) -> None:
    """Refuse (French message, logged) a finalised document whose content no longer
    matches the hash stored at finalisation. Drafts pass."""
    if doc.status != DocumentStatus.FINAL.value:
        return
    logo = frozen_logo(session, doc)
    actual = compute(doc, _lines(session, doc.id), logo_sha256(logo))
    if doc.content_sha256 and actual == doc.content_sha256:
        return
    if doc.logo_sha256 and logo is None:
        reason = "frozen logo missing"
    else:
        reason = "no stored hash" if not doc.content_sha256 else "content hash mismatch"
    log.error("Document %s (%s): %s (stored %s, computed %s); PDF refused",
              doc.id, doc.number, reason, doc.content_sha256, actual)
    raise DomainError(TAMPERED)
