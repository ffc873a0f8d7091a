"""What the document editor shows, from one call: ``editor_view(session, doc_id, api_base)``
gathers the document, its choices, lines, totals, mentions, files and actions, formatted
for French display (the page's state only copies it)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlmodel import Session

from simple_erp.domain.documents import ALLOWED_CONVERSIONS, KIND_LABELS, STATUS_LABELS, DocumentKind
from simple_erp.domain.einvoice.mentions import (
    OPERATION_CATEGORIES,
    VAT_ON_DEBITS_TEXT,
    category_label,
    vat_on_debits_applies,
)
from simple_erp.domain.money import format_date_fr, format_decimal_fr, format_eur, format_size_fr
from simple_erp.services import catalog, clock, companies, credit_notes, documents, einvoice, signed_urls

CONVERT_LABELS = {"bon_de_commande": "Transformer en bon de commande", "facture": "Transformer en facture",
                  "bon_de_livraison": "Transformer en bon de livraison"}


@dataclass(frozen=True)
class EditorView:
    """The editor's fields; the names are the page state's."""

    kind: str
    editable: bool
    title: str
    status_label: str
    header: dict[str, str]
    due_date_label: str
    company_choices: list[list[str]]
    vat_choices: list[str]
    linked: list[dict[str, str]]
    lines: list[dict[str, str]]
    total_ht: str
    total_vat: str
    total_ttc: str
    vat_rows: list[dict[str, str]]
    vat_exempt: bool
    category_shown: str  # the category the document gets (chosen, or derived)
    category_choices: list[list[str]]
    vat_on_debits_text: str
    files: list[dict[str, str]]
    xml_file: dict[str, str]  # the Factur-X XML alone of a finalised facture or avoir
    conversions: list[list[str]]
    can_credit: bool
    over_credit_warning: str  # an avoir draft above what its invoice still carries
    source_label: str


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(EditorView))


def editor_view(session: Session, doc_id: int, api_base: str) -> EditorView:
    """The editor of document ``doc_id``; ``api_base`` is the backend's address (file links
    are signed). Raises DomainError when the document does not exist."""
    doc = documents.get_document(session, doc_id)
    kind = DocumentKind(doc.kind)
    editable = doc.status == "brouillon"
    view = documents.document_view(session, doc.id)
    totals = view.totals
    lines = [
        {"id": str(line.id), "description": line.description, "quantity": format_decimal_fr(line.quantity, None),
         "unit": line.unit, "unit_price": format_decimal_fr(line.unit_price, None),
         "discount_percent": format_decimal_fr(line.discount_percent, None),
         "vat_rate": format_decimal_fr(line.vat_rate, None), "total_ht": format_eur(shown.total_ht)}
        for line, shown in zip(documents.document_lines(session, doc.id), view.lines)
    ]
    derived = category_label(view.operation_category)
    api = api_base.rstrip("/")
    source_label = ""
    if doc.source_id:
        source = documents.get_document(session, doc.source_id)
        source_label = f"Issu de : {KIND_LABELS[DocumentKind(source.kind)]} {source.number or '(brouillon)'}"
    return EditorView(
        kind=doc.kind,
        editable=editable,
        title=f"{KIND_LABELS[kind]} {doc.number}" if doc.number else f"{KIND_LABELS[kind]} (brouillon)",
        status_label=STATUS_LABELS[doc.status] if doc.status in STATUS_LABELS else doc.status,
        header=documents.header_form(doc),  # with the category and the delivery address
        due_date_label=format_date_fr(doc.due_date) if doc.due_date else "",
        company_choices=[[str(c.id), c.name] for c in companies.list_companies(session)],
        vat_choices=[format_decimal_fr(v.rate, None) for v in catalog.list_vat_rates(session, active_only=True)],
        linked=[{"id": str(c.id), "name": c.display_name} for c in documents.document_contacts(session, doc.id)],
        lines=lines,
        total_ht=format_eur(totals.total_ht),
        total_vat=format_eur(totals.total_vat),
        total_ttc=format_eur(totals.total_ttc),
        vat_rows=[{"label": f"TVA {format_decimal_fr(b.rate, None)} % sur {format_eur(b.base_ht)}",
                   "vat": format_eur(b.vat)} for b in totals.vat_buckets],
        vat_exempt=view.vat_exempt,
        category_shown=derived,
        category_choices=[["", f"Automatique ({derived})" if derived and not doc.operation_category
                           else "Automatique (selon les produits et la société)"],
                          *([k, v] for k, v in OPERATION_CATEGORIES.items())],
        vat_on_debits_text=VAT_ON_DEBITS_TEXT if vat_on_debits_applies(
            view.vat_on_debits, view.operation_category, view.vat_exempt) else "",
        files=[{"id": str(f.id), "name": f.filename,
                "date": f.created_at.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M"),
                "size": format_size_fr(f.size), "url": f"{api}/api/files/{f.id}?t={signed_urls.sign('file', f.id)}"}
               for f in documents.list_files(session, doc.id)],
        xml_file=({"name": einvoice.xml_filename(doc), "url": f"{api}/api/documents/{doc.id}/factur-x.xml"
                   f"?t={signed_urls.sign('facturx-xml', doc.id)}"} if einvoice.xml_available(doc, view) else {}),
        conversions=[[t.value, CONVERT_LABELS[t.value]] for t in ALLOWED_CONVERSIONS.get(kind, ())
                     if t.value in CONVERT_LABELS],
        can_credit=not editable and kind == DocumentKind.FACTURE,
        over_credit_warning=credit_notes.over_credit_warning(session, doc, totals.total_ttc),
        source_label=source_label,
    )
