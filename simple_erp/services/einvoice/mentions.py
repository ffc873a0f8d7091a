"""The 2026 reform's mentions of a draft, from the database: its operation category (chosen,
or derived from its lines' catalogue products and the company's default), its delivery
address, and the header form fields that edit them (``services.documents.update_header``)."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from simple_erp.domain.einvoice import PostalAddress
from simple_erp.domain.einvoice.mentions import OPERATION_CATEGORIES, document_category
from simple_erp.models.company import Company, Product
from simple_erp.models.document import Document, DocumentLine

#: header form keys -> (column, French label, max length)
DELIVERY_FIELDS = {
    "delivery_line1": ("delivery_line1", "L'adresse de livraison", 200),
    "delivery_line2": ("delivery_line2", "Le complément d'adresse de livraison", 200),
    "delivery_postal_code": ("delivery_postal_code", "Le code postal de livraison", 20),
    "delivery_city": ("delivery_city", "La ville de livraison", 120),
    "delivery_country": ("delivery_country", "Le pays de livraison", 2),
}


def line_kinds(session: Session, lines: list[DocumentLine]) -> list[str]:
    """Each line's product kind ("bien", "service"; "" for a free line or a product that
    does not say)."""
    ids = {ln.product_id for ln in lines if ln.product_id}
    rows = session.exec(select(Product.id, Product.kind).where(Product.id.in_(ids))).all() if ids else []
    kinds = {product_id: kind for product_id, kind in rows}
    return [kinds.get(ln.product_id, "") or "" for ln in lines]


def category_of(session: Session, doc: Document, company: Company, lines: list[DocumentLine]) -> str:
    return document_category(doc.operation_category, line_kinds(session, lines), company.operation_category)


def delivery_address(doc: Document) -> PostalAddress | None:
    """The delivery address typed on the document (maybe incomplete: finalisation says so),
    or None when none was typed."""
    if not any((getattr(doc, column) or "").strip() for column in
               ("delivery_line1", "delivery_line2", "delivery_postal_code", "delivery_city")):
        return None
    return PostalAddress(doc.delivery_line1.strip(), (doc.delivery_line2 or "").strip(),
                         (doc.delivery_postal_code or "").strip(), (doc.delivery_city or "").strip(),
                         ((doc.delivery_country or "").strip().upper() or "FR"))


def header_form(doc: Document) -> dict[str, str]:
    return {"operation_category": doc.operation_category or "",
            **{key: getattr(doc, column) or "" for key, (column, _, _) in DELIVERY_FIELDS.items()}}


def parse_header(form: dict[str, str], doc: Document, errors: dict[str, str]) -> dict[str, str]:
    """Column values for the mention fields present in ``form`` (French messages in ``errors``)."""
    values: dict[str, str] = {}
    if "operation_category" in form:
        category = str(form.get("operation_category") or "").strip()
        if category and category not in OPERATION_CATEGORIES:
            errors["operation_category"] = "Catégorie de l'opération inconnue."
        values["operation_category"] = category
    for key, (column, label, limit) in DELIVERY_FIELDS.items():
        if key in form:
            text = str(form.get(key) or "").strip()
            if len(text) > limit:
                errors[key] = f"{label} ne doit pas dépasser {limit} caractères."
            values[column] = text
    if "delivery_country" in values:
        values["delivery_country"] = values["delivery_country"].upper()
    merged = {column: values.get(column, getattr(doc, column) or "") for column, _, _ in DELIVERY_FIELDS.values()}
    if any(merged[c] for c in merged if c != "delivery_country"):  # its completeness: at finalisation
        country = merged["delivery_country"] or "FR"
        if not re.fullmatch(r"[A-Z]{2}", country):
            errors["delivery_country"] = "Le pays de livraison doit être un code ISO à 2 lettres (ex. FR)."
        elif country == "FR" and merged["delivery_postal_code"] and \
                not re.fullmatch(r"[0-9]{5}", merged["delivery_postal_code"]):
            errors["delivery_postal_code"] = "Le code postal français doit compter 5 chiffres."
    return values
