"""Documents (devis, bons de commande, factures, bons de livraison, avoirs): drafts, header,
contacts, lines and totals, finalisation (number + frozen snapshot), conversions, avoirs,
views and PDF files. This package's names here are its API; its other modules: ``lists``
(the lists and the search by client, re-exported here), ``snapshot`` (what finalisation
freezes), ``integrity`` (the frozen content's hash) and ``editor`` (the editor's view).

Only drafts can change. Every editing function first runs
``UPDATE document SET updated_at = … WHERE id = … AND status = 'brouillon'``: this checks the
status and locks the document in the same statement (a row lock on PostgreSQL, the write
lock on SQLite), so a document finalised by someone else meanwhile is never modified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, update
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain.contact_rules import format_iban
from simple_erp.domain.document_view import DocumentView, LineView
from simple_erp.domain.documents import (
    KIND_LABELS,
    DocumentKind,
    DocumentStatus,
    PaymentTerms,
    check_conversion,
    check_issue_date_not_future,
    due_date,
    ensure_deletable,
    ensure_editable,
)
from simple_erp.domain.einvoice import check_einvoice_complete
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import decimal_places, format_date_fr, format_decimal_fr, parse_decimal
from simple_erp.domain.totals import Line, Totals, compute_totals, line_total_ht, validate_line
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact, DocumentFile, DocumentLine
from simple_erp.models.types import utcnow
from simple_erp.services import catalog, changes, companies, credit_notes, einvoice
from simple_erp.services.documents import integrity as document_integrity
from simple_erp.services.documents import snapshot as document_snapshot
from simple_erp.services.documents.lists import (  # noqa: F401 - part of this module's API
    COUNT_CAP,
    DocumentFilters,
    DocumentPage,
    DocumentRow,
    list_documents,
)
from simple_erp.services.einvoice import mentions
from simple_erp.services.numbering import next_number

DRAFT, FINAL = DocumentStatus.DRAFT.value, DocumentStatus.FINAL.value
NO_COMPANY = "Créez d'abord une société émettrice (Admin ERP → 1. Société émettrice)."
LINE_FIELDS = ("description", "quantity", "unit", "unit_price", "discount_percent", "vat_rate")
# number fields of a line: (label in messages, decimals accepted, stored scale)
_LINE_NUMBERS = {
    "quantity": ("Quantité", 3, Decimal("0.001")),
    "unit_price": ("Prix unitaire HT", 4, Decimal("0.0001")),
    "discount_percent": ("Remise", 2, Decimal("0.01")),
    "vat_rate": ("Taux de TVA", 2, Decimal("0.01")),
}
NOTES_MAX = 5000
DESCRIPTION_MAX = 5000


# --- reading ------------------------------------------------------------------------------------


def _kind(value: str) -> DocumentKind:
    try:
        return DocumentKind(value)
    except ValueError:
        raise DomainError("Type de document inconnu.") from None


def get_document(session: Session, doc_id: int) -> Document:
    doc = session.get(Document, doc_id) if doc_id else None
    if doc is None:
        raise DomainError("Ce document n'existe pas.")
    return doc


def document_lines(session: Session, doc_id: int) -> list[DocumentLine]:
    query = select(DocumentLine).where(DocumentLine.document_id == doc_id)
    return list(session.exec(query.order_by(DocumentLine.position, DocumentLine.id)))


def document_contacts(session: Session, doc_id: int) -> list[Contact]:
    query = (
        select(Contact)
        .join(DocumentContact, DocumentContact.contact_id == Contact.id)
        .where(DocumentContact.document_id == doc_id)
        .order_by(DocumentContact.position, DocumentContact.id)
    )
    return list(session.exec(query))


def header_form(doc: Document) -> dict[str, str]:
    """The header as the form of update_header expects it."""
    return {
        "company_id": str(doc.company_id),
        "issue_date": doc.issue_date.isoformat(),
        "delivery_date": doc.delivery_date.isoformat() if doc.delivery_date else "",
        "payment_terms": doc.payment_terms,
        "notes": doc.notes,
        **mentions.header_form(doc),  # operation category, delivery address
    }


def line_form(line: DocumentLine) -> dict[str, str]:
    """A line as the form of update_line expects it (French decimals)."""
    def fr(value: Decimal) -> str:
        return format_decimal_fr(value, decimal_places(value))

    return {
        "description": line.description,
        "quantity": fr(line.quantity),
        "unit": line.unit,
        "unit_price": format_decimal_fr(line.unit_price, max(2, decimal_places(line.unit_price))),
        "discount_percent": fr(line.discount_percent),
        "vat_rate": fr(line.vat_rate),
    }


# --- locking and totals --------------------------------------------------------------------------


def _lock_draft(session: Session, doc_id: int, refuse=None) -> Document:
    """Lock the document and return it, or raise when it is missing or not a draft."""
    session.flush()
    result = session.execute(
        update(Document)
        .where(Document.id == doc_id, Document.status == DRAFT)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    doc = session.get(Document, doc_id, populate_existing=True) if doc_id else None
    if doc is None:
        raise DomainError("Ce document n'existe pas.")
    if result.rowcount == 0:
        (refuse or (lambda d: ensure_editable(d.status)))(doc)
        ensure_editable(doc.status)  # defensive: never let a non-draft through
    changes.touch(session, *changes.document_topics(doc_id))  # screens refresh after commit
    return doc


def _company(session: Session, doc: Document) -> Company:
    return companies.get_company(session, doc.company_id)


def _sign(doc: Document) -> int:
    return -1 if doc.kind == DocumentKind.AVOIR.value else 1


def _source_details(session: Session, doc: Document) -> document_snapshot.PrintedDetails | None:
    if doc.source_id is None:
        return None
    source = session.get(Document, doc.source_id)
    if source is None or source.status != FINAL or not source.snapshot:
        return None
    return document_snapshot.from_json(source.snapshot)


def _vat_exempt(session: Session, doc: Document) -> bool:
    """Franchise en base? Frozen at finalisation; an avoir follows the invoice it corrects."""
    if doc.status == FINAL and doc.snapshot:
        return document_snapshot.from_json(doc.snapshot).vat_exempt
    if doc.kind == DocumentKind.AVOIR.value and (source := _source_details(session, doc)) is not None:
        return source.vat_exempt
    return _company(session, doc).vat_regime == "franchise"


def _domain_lines(lines: list[DocumentLine]) -> list[Line]:
    return [Line(ln.quantity, ln.unit_price, ln.vat_rate, ln.discount_percent) for ln in lines]


def _totals(session: Session, doc: Document, lines: list[DocumentLine] | None = None) -> Totals:
    if lines is None:
        lines = document_lines(session, doc.id)
    return compute_totals(_domain_lines(lines), vat_exempt=_vat_exempt(session, doc), sign=_sign(doc))


def _store_totals(session: Session, doc: Document) -> Totals:
    session.flush()
    totals = _totals(session, doc)
    doc.total_ht, doc.total_vat, doc.total_ttc = totals.total_ht, totals.total_vat, totals.total_ttc
    doc.updated_at = utcnow()
    session.add(doc)
    session.flush()
    return totals


def document_totals(session: Session, doc_id: int) -> Totals:
    """Totals with the VAT breakdown (the stored totals are kept equal to these)."""
    return _totals(session, get_document(session, doc_id))


# --- create, header ------------------------------------------------------------------------------


def _due_date(kind: str, issue: date, terms: str) -> date | None:
    return due_date(issue, terms) if kind == DocumentKind.FACTURE.value else None


def create_document(session: Session, kind: str, today: date, company_id: int | None = None) -> Document:
    """A new draft for the given (or the default) company, dated ``today``."""
    document_kind = _kind(kind)
    if document_kind is DocumentKind.AVOIR:
        raise DomainError(
            "Un avoir se crée à partir d'une facture finalisée : ouvrez la facture puis « Créer un avoir »."
        )
    company = companies.get_company(session, company_id) if company_id else companies.default_company(session)
    if company is None:
        raise DomainError(NO_COMPANY)
    doc = Document(
        kind=document_kind.value,
        status=DRAFT,
        company_id=company.id,
        issue_date=today,
        payment_terms=company.payment_terms,
        due_date=_due_date(document_kind.value, today, company.payment_terms),
        # the date of the sale or service, required on an invoice: the issue date until changed
        delivery_date=today if document_kind is DocumentKind.FACTURE else None,
    )
    session.add(doc)
    session.flush()
    changes.touch(session, *changes.document_topics(doc.id))
    return doc


def _parse_date(errors: dict[str, str], form: dict[str, str], key: str, label: str, current, required: bool):
    if key not in form:
        return current
    raw = str(form.get(key) or "").strip()
    if not raw:
        if required:
            errors[key] = f"La {label} est obligatoire."
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = f"{label[0].upper()}{label[1:]} invalide (format attendu : AAAA-MM-JJ)."
        return current


def update_header(session: Session, doc_id: int, form: dict[str, str]) -> Document:
    """Keys company_id, issue_date, delivery_date (ISO or ""), payment_terms, notes; a missing
    key leaves its value unchanged. The due date follows the terms and the issue date."""
    doc = _lock_draft(session, doc_id)
    errors: dict[str, str] = {}
    company_id = doc.company_id
    if "company_id" in form:
        try:
            company_id = int(str(form["company_id"]).strip())
            companies.get_company(session, company_id)
        except (ValueError, DomainError):
            errors["company_id"] = "Cette société n'existe pas."
    issue = _parse_date(errors, form, "issue_date", "date d'émission", doc.issue_date, True)
    delivery = _parse_date(errors, form, "delivery_date", "date de livraison", doc.delivery_date, False)
    terms = str(form.get("payment_terms", doc.payment_terms) or "").strip()
    if terms not in {t.value for t in PaymentTerms}:
        errors["payment_terms"] = "Conditions de paiement inconnues."
    notes = str(form.get("notes", doc.notes) or "")
    if len(notes) > NOTES_MAX:
        errors["notes"] = f"Les notes ne doivent pas dépasser {NOTES_MAX} caractères."
    mention_values = mentions.parse_header(form, doc, errors)  # operation category, delivery address
    if errors:
        raise ValidationErrors(errors)
    for column, value in mention_values.items():
        setattr(doc, column, value)
    doc.company_id, doc.issue_date, doc.delivery_date = company_id, issue, delivery
    doc.payment_terms, doc.notes = terms, notes
    doc.due_date = _due_date(doc.kind, issue, terms)
    _store_totals(session, doc)  # the company (and so the VAT regime) may have changed
    return doc


# --- contacts ------------------------------------------------------------------------------------


def _links(session: Session, doc_id: int) -> list[DocumentContact]:
    query = select(DocumentContact).where(DocumentContact.document_id == doc_id)
    return list(session.exec(query.order_by(DocumentContact.position, DocumentContact.id)))


def _sync_contacts(session: Session, doc: Document) -> None:
    """Positions 0..n-1 and the denormalised name of the first contact."""
    session.flush()
    for position, link in enumerate(_links(session, doc.id)):
        if link.position != position:
            link.position = position
            session.add(link)
    session.flush()
    first = document_contacts(session, doc.id)[:1]
    doc.contact_name = first[0].display_name if first else ""
    session.add(doc)
    session.flush()


def link_contact(session: Session, doc_id: int, contact_id: int) -> None:
    """Link a contact (a client) to the document; linking it twice changes nothing."""
    doc = _lock_draft(session, doc_id)
    if session.get(Contact, contact_id) is None:
        raise DomainError("Ce contact n'existe pas.")
    links = _links(session, doc_id)
    if any(link.contact_id == contact_id for link in links):
        return
    position = max((link.position for link in links), default=-1) + 1
    session.add(DocumentContact(document_id=doc_id, contact_id=contact_id, position=position))
    _sync_contacts(session, doc)


def unlink_contact(session: Session, doc_id: int, contact_id: int) -> None:
    doc = _lock_draft(session, doc_id)
    session.execute(
        delete(DocumentContact).where(
            DocumentContact.document_id == doc_id, DocumentContact.contact_id == contact_id
        )
    )
    _sync_contacts(session, doc)


# --- lines ---------------------------------------------------------------------------------------


def _next_position(session: Session, doc_id: int) -> int:
    query = select(func.max(DocumentLine.position)).where(DocumentLine.document_id == doc_id)
    last = session.exec(query).one()
    return 0 if last is None else last + 1


def add_line(session: Session, doc_id: int, product_id: int | None = None) -> DocumentLine:
    """A line from a product (name, description, unit, price, VAT rate), or an empty one
    (quantity 1, price 0, VAT 20 %, or 0 % under the franchise regime)."""
    doc = _lock_draft(session, doc_id)
    franchise = _company(session, doc).vat_regime == "franchise"
    line = DocumentLine(
        document_id=doc_id,
        position=_next_position(session, doc_id),
        quantity=Decimal("1.000"),
        unit_price=Decimal("0.0000"),
        vat_rate=Decimal("0.00") if franchise else Decimal("20.00"),
        discount_percent=Decimal("0.00"),
    )
    if product_id is not None:
        product = catalog.get_product(session, product_id)
        if not product.active:
            raise DomainError("Ce produit est désactivé : il ne peut plus être ajouté à un document.")
        line.product_id = product.id
        line.description = product.name + (f"\n{product.description}" if product.description else "")
        line.unit, line.unit_price = product.unit, product.unit_price
        if not franchise:
            line.vat_rate = product.vat_rate
    session.add(line)
    _store_totals(session, doc)
    return line


def _line_for_edit(session: Session, line_id: int) -> tuple[DocumentLine, Document]:
    line = session.get(DocumentLine, line_id) if line_id else None
    if line is None:
        raise DomainError("Cette ligne n'existe pas.")
    doc = _lock_draft(session, line.document_id)
    line = session.get(DocumentLine, line_id, populate_existing=True)
    if line is None:  # deleted meanwhile
        raise DomainError("Cette ligne n'existe pas.")
    return line, doc


def _line_values(session: Session, line: DocumentLine, form: dict[str, str]) -> dict:
    errors: dict[str, str] = {}
    values: dict = {}
    for key, (label, places, _scale) in _LINE_NUMBERS.items():
        if key not in form:
            values[key] = getattr(line, key)
            continue
        raw = str(form.get(key) or "").strip()
        if not raw and key == "discount_percent":
            values[key] = Decimal(0)
        elif not raw:
            errors[key] = f"{label} : champ obligatoire."
        else:
            try:
                values[key] = parse_decimal(raw, places)
            except DomainError as error:
                errors[key] = error.message.replace("Nombre invalide", f"{label} invalide", 1)
    try:
        validate_line(values.get("quantity"), values.get("unit_price"), values.get("vat_rate"),
                      values.get("discount_percent"))
    except ValidationErrors as error:
        errors = {**error.errors, **errors}  # parse errors are more precise
    rate = values.get("vat_rate")
    if "vat_rate" not in errors and rate != line.vat_rate and rate not in catalog.active_rate_values(session):
        errors["vat_rate"] = "Ce taux de TVA n'est pas actif (Admin ERP → Taux de TVA)."
    values["description"] = str(form.get("description", line.description) or "").strip()
    values["unit"] = str(form.get("unit", line.unit) or "").strip()
    if len(values["description"]) > DESCRIPTION_MAX:
        errors["description"] = f"La désignation ne doit pas dépasser {DESCRIPTION_MAX} caractères."
    if len(values["unit"]) > 20:
        errors["unit"] = "L'unité ne doit pas dépasser 20 caractères."
    if errors:
        raise ValidationErrors(errors)
    return values


def update_line(session: Session, line_id: int, form: dict[str, str]) -> DocumentLine:
    """Keys description, quantity, unit, unit_price, discount_percent, vat_rate (French
    decimals); a missing key keeps its value. ValidationErrors is keyed by those names."""
    line, doc = _line_for_edit(session, line_id)
    values = _line_values(session, line, form)
    for key, (_label, _places, scale) in _LINE_NUMBERS.items():
        setattr(line, key, values[key].quantize(scale))
    line.description, line.unit = values["description"], values["unit"]
    session.add(line)
    _store_totals(session, doc)
    return line


def _renumber(session: Session, lines: list[DocumentLine]) -> None:
    for position, line in enumerate(lines):
        if line.position != position:
            line.position = position
            session.add(line)


def delete_line(session: Session, line_id: int) -> None:
    line, doc = _line_for_edit(session, line_id)
    session.delete(line)
    session.flush()
    _renumber(session, document_lines(session, doc.id))
    _store_totals(session, doc)


def move_line(session: Session, line_id: int, delta: int) -> None:
    """Move a line up (delta < 0) or down (delta > 0); -1/+1 swaps it with its neighbour."""
    line, doc = _line_for_edit(session, line_id)
    lines = document_lines(session, doc.id)
    index = next(i for i, ln in enumerate(lines) if ln.id == line.id)
    lines.insert(max(0, min(len(lines) - 1, index + delta)), lines.pop(index))
    _renumber(session, lines)
    _store_totals(session, doc)


# --- finalisation ---------------------------------------------------------------------------------


def _exemption_mentions(session: Session, lines: list[DocumentLine], vat_exempt: bool) -> tuple[str, ...]:
    if vat_exempt:
        return ()  # the franchise mention is printed from DocumentView.vat_exempt
    mentions = catalog.exemption_mentions(session)
    rates = sorted({ln.vat_rate for ln in lines}, reverse=True)
    return tuple(dict.fromkeys(mentions[r] for r in rates if r in mentions))


def _corrected(session: Session, doc: Document) -> tuple[str, date | None]:
    if doc.kind != DocumentKind.AVOIR.value or doc.source_id is None:
        return "", None
    source = session.get(Document, doc.source_id)
    return (source.number or "", source.issue_date) if source is not None else ("", None)


def _printed_details(session: Session, doc: Document, lines: list[DocumentLine]):
    """Seller, buyers and legal details: frozen for a finalised document, live for a draft."""
    if doc.status == FINAL and doc.snapshot:
        return document_snapshot.from_json(doc.snapshot)
    vat_exempt = _vat_exempt(session, doc)
    number, corrected_on = _corrected(session, doc)
    company = _company(session, doc)
    return document_snapshot.printed_details(
        company,
        document_contacts(session, doc.id),
        doc.payment_terms,
        vat_exempt,
        _exemption_mentions(session, lines, vat_exempt),
        number,
        corrected_on,
        operation_category=mentions.category_of(session, doc, company, lines),
        delivery_address=mentions.delivery_address(doc),
    )


def _check_lines(lines: list[DocumentLine]) -> None:
    for number, line in enumerate(lines, start=1):
        if not line.description.strip():
            raise DomainError(f"Ligne {number} : la désignation est obligatoire.")
        try:
            validate_line(line.quantity, line.unit_price, line.vat_rate, line.discount_percent)
        except ValidationErrors as error:
            raise DomainError(f"Ligne {number} : {error.message}") from None


def _check_chronology(session: Session, doc: Document) -> None:
    """Invoices and avoirs are numbered in date order: no date before the last finalised one."""
    if doc.kind not in (DocumentKind.FACTURE.value, DocumentKind.AVOIR.value):
        return
    last = session.exec(
        select(func.max(Document.issue_date)).where(
            Document.company_id == doc.company_id, Document.kind == doc.kind, Document.status == FINAL
        )
    ).one()
    if last is not None and doc.issue_date < last:
        label = KIND_LABELS[DocumentKind(doc.kind)].lower()
        raise DomainError(
            f"Date d'émission antérieure à celle de la dernière {label} finalisée ({format_date_fr(last)}) : "
            "la numérotation doit suivre l'ordre chronologique. Changez la date d'émission."
        )


def _freeze(session: Session, doc: Document, lines: list[DocumentLine]) -> None:
    """Totals, frozen logo and content hash, flushed with the status change in one UPDATE
    (the database triggers refuse any later change of a finalised document's content)."""
    with session.no_autoflush:
        totals = _totals(session, doc, lines)
        doc.total_ht, doc.total_vat, doc.total_ttc = totals.total_ht, totals.total_vat, totals.total_ttc
        document_integrity.freeze(session, doc, lines, _company(session, doc).logo)
    _store_totals(session, doc)


def finalize(session: Session, doc_id: int, today: date, confirm_over_credit: bool = False) -> Document:
    """Give the document its number (in this transaction) and freeze what it prints.
    Needs at least one contact and one line, an issue date not after ``today``, and for
    an avoir above what its invoice still carries, ``confirm_over_credit``; the document
    can then never change."""
    doc = _lock_draft(session, doc_id)
    check_issue_date_not_future(doc.issue_date, today)
    lines = document_lines(session, doc_id)
    if not document_contacts(session, doc_id):
        raise DomainError("Liez au moins un contact.")
    if not lines:
        raise DomainError("Ajoutez au moins une ligne.")
    _check_lines(lines)
    details = _printed_details(session, doc, lines)
    # what the law and the Factur-X need, every missing item named (factures and avoirs)
    check_einvoice_complete(document_view(session, doc_id), details.seller_address, details.buyer_addresses,
                            details.delivery_address)
    number = next_number(session, doc.company_id, doc.kind, doc.issue_date.year)
    _check_chronology(session, doc)  # under the counter lock; the caller's rollback frees the number
    credit_notes.check_cap(session, doc, _totals(session, doc, lines).total_ttc, confirm_over_credit)
    doc.number, doc.status, doc.finalized_at = number, FINAL, utcnow()
    doc.snapshot = document_snapshot.to_json(details)
    _freeze(session, doc, lines)
    return doc


# --- conversions, avoirs, deletion ----------------------------------------------------------------


def _copy(session: Session, source: Document, kind: DocumentKind, today: date) -> Document:
    doc = Document(
        kind=kind.value,
        status=DRAFT,
        company_id=source.company_id,
        issue_date=today,
        delivery_date=source.delivery_date or (source.issue_date if kind is DocumentKind.AVOIR else
                                               today if kind is DocumentKind.FACTURE else None),
        payment_terms=source.payment_terms,
        due_date=_due_date(kind.value, today, source.payment_terms),
        notes=source.notes,
        source_id=source.id,
        operation_category=source.operation_category,
        **{column: getattr(source, column) for column, _, _ in mentions.DELIVERY_FIELDS.values()},
    )
    session.add(doc)
    session.flush()
    for line in document_lines(session, source.id):
        session.add(DocumentLine(
            document_id=doc.id, position=line.position, product_id=line.product_id,
            description=line.description, quantity=line.quantity, unit=line.unit,
            unit_price=line.unit_price, discount_percent=line.discount_percent, vat_rate=line.vat_rate,
        ))
    for link in _links(session, source.id):
        session.add(DocumentContact(document_id=doc.id, contact_id=link.contact_id, position=link.position))
    _sync_contacts(session, doc)
    _store_totals(session, doc)
    changes.touch(session, *changes.document_topics(doc.id))
    return doc


def convert(session: Session, doc_id: int, target_kind: str, today: date) -> Document:
    """A new draft of ``target_kind`` (devis → commande/facture, commande → facture/livraison,
    facture → livraison/avoir) with the same lines and contacts; ``source_id`` = doc_id."""
    source = get_document(session, doc_id)
    target = _kind(target_kind)
    check_conversion(source.kind, source.status, target)
    return _copy(session, source, target, today)


def create_credit_note(session: Session, invoice_id: int, today: date) -> Document:
    """An avoir draft correcting a finalised facture: same lines (amounts negated in the
    totals) and contacts."""
    invoice = get_document(session, invoice_id)
    if invoice.kind != DocumentKind.FACTURE.value:
        raise DomainError("Un avoir ne peut être créé qu'à partir d'une facture finalisée.")
    check_conversion(invoice.kind, invoice.status, DocumentKind.AVOIR)
    return _copy(session, invoice, DocumentKind.AVOIR, today)


def delete_draft(session: Session, doc_id: int) -> None:
    """Delete a draft with its lines, contacts and files. Documents converted from it
    stay, without their link to it."""
    doc = _lock_draft(session, doc_id, refuse=lambda d: ensure_deletable(d.kind, d.status))
    for child in session.exec(select(Document).where(Document.source_id == doc_id)):
        child.source_id = None
        session.add(child)
    for model in (DocumentLine, DocumentContact, DocumentFile):
        session.execute(delete(model).where(model.document_id == doc_id))
    session.delete(doc)
    session.flush()


# --- view, PDF files -----------------------------------------------------------------------------------


def document_view(session: Session, doc_id: int) -> DocumentView:
    """Everything the preview and the PDF show; from the frozen snapshot once finalised."""
    doc = get_document(session, doc_id)
    lines = document_lines(session, doc_id)
    details = _printed_details(session, doc, lines)
    sign = _sign(doc)
    logo = document_integrity.printed_logo(session, doc)  # frozen once finalised
    iban = crypto.decrypt(details.bank_iban_encrypted)
    return DocumentView(
        kind=doc.kind,
        kind_label=KIND_LABELS[DocumentKind(doc.kind)],
        number=doc.number if doc.status == FINAL else None,
        is_draft=doc.status != FINAL,
        issue_date=doc.issue_date,
        due_date=doc.due_date,
        delivery_date=doc.delivery_date,
        seller=details.seller,
        buyers=details.buyers,
        lines=tuple(
            LineView(
                description=ln.description, quantity=ln.quantity, unit=ln.unit, unit_price=ln.unit_price,
                discount_percent=ln.discount_percent, vat_rate=ln.vat_rate,
                total_ht=sign * line_total_ht(Line(ln.quantity, ln.unit_price, ln.vat_rate, ln.discount_percent))
                or Decimal("0.00"),
            )
            for ln in lines
        ),
        totals=compute_totals(_domain_lines(lines), vat_exempt=details.vat_exempt, sign=sign),
        vat_exempt=details.vat_exempt,
        payment_terms_label=details.payment_terms_label,
        late_penalty_rate=details.late_penalty_rate,
        escompte_text=details.escompte_text,
        bank_iban=format_iban(iban) if iban else "",
        bank_bic=details.bank_bic,
        notes=doc.notes,
        logo_png_or_jpeg=logo if companies.logo_mime(logo) else None,
        logo_mime=companies.logo_mime(logo),
        corrected_number=details.corrected_number,
        corrected_date=details.corrected_date,
        vat_exemption_mentions=details.vat_exemption_mentions,
        operation_category=details.operation_category,
        vat_on_debits=details.vat_on_debits,
        delivery_address_lines=document_snapshot.address_lines(details.delivery_address),
    )


def pdf_basename(doc: Document) -> str:
    """"F-2026-00001", or "brouillon-facture-12" for a draft (no "/" in file names)."""
    if doc.status == FINAL and doc.number:
        return doc.number.replace("/", "-")
    return f"brouillon-{doc.kind}-{doc.id}"


def generate_pdf(session: Session, doc_id: int, render: Callable[[DocumentView], bytes]) -> DocumentFile:
    """Render the document and keep the PDF as a new file (files are never overwritten:
    a second generation is "<name>-2.pdf", then "-3"…). A finalised facture or avoir is
    rendered with its Factur-X XML (``services.einvoice``), which the renderer embeds."""
    doc = get_document(session, doc_id)
    document_integrity.verify(session, doc)  # a finalised document tampered with is never printed
    content = render(einvoice.with_facturx(session, doc, document_view(session, doc_id)))
    if not isinstance(content, (bytes, bytearray)) or not content:
        raise DomainError("La génération du PDF n'a produit aucun contenu.")
    content = bytes(content)
    taken = set(session.exec(select(DocumentFile.filename).where(DocumentFile.document_id == doc_id)))
    base = pdf_basename(doc)
    filename, suffix = f"{base}.pdf", 2
    while filename in taken:
        filename, suffix = f"{base}-{suffix}.pdf", suffix + 1
    file = DocumentFile(
        document_id=doc_id, filename=filename, content_type="application/pdf", size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), origin="pdf", content=content,
    )
    session.add(file)
    changes.touch(session, f"document:{doc_id}")
    session.flush()
    return file


def list_files(session: Session, doc_id: int) -> list[DocumentFile]:
    """The document's files, newest first, without their content (not loaded)."""
    query = (
        select(DocumentFile)
        .options(defer(DocumentFile.content))
        .where(DocumentFile.document_id == doc_id)
        .order_by(DocumentFile.created_at.desc(), DocumentFile.id.desc())
    )
    return list(session.exec(query))


def get_file_content(session: Session, file_id: int) -> tuple[DocumentFile, bytes]:
    file = session.get(DocumentFile, file_id) if file_id else None
    if file is None:
        raise DomainError("Ce fichier n'existe pas.")
    return file, file.content
