"""Catalogue: VAT rates and products (used to fill document lines)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_
from sqlmodel import Session, select

from simple_erp.domain.einvoice.mentions import PRODUCT_KINDS
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import MAX_AMOUNT, decimal_places, format_decimal_fr, format_eur, parse_decimal
from simple_erp.domain.totals import FRENCH_VAT_RATES
from simple_erp.models.company import Product, VatRate
from simple_erp.services.forms import flag as _flag
from simple_erp.services.forms import flush_unique as _flush_unique
from simple_erp.services.forms import text as _text

RATE_TAKEN = "Ce taux de TVA existe déjà."
REFERENCE_TAKEN = "Cette référence est déjà utilisée par un autre produit."


def _fr(value: Decimal, min_places: int = 0) -> str:
    return format_decimal_fr(value, max(min_places, decimal_places(value)))


def _parse(errors: dict[str, str], field: str, label: str, text: str, places: int) -> Decimal | None:
    """parse_decimal; French messages naming the field ("Taux de TVA invalide : …")."""
    if not text:
        errors[field] = f"{label} : champ obligatoire."
        return None
    try:
        return parse_decimal(text, places)
    except DomainError as error:
        errors[field] = error.message.replace("Nombre invalide", f"{label} invalide", 1)
        return None


# --- VAT rates ----------------------------------------------------------------------------------


def list_vat_rates(session: Session, active_only: bool = False) -> list[VatRate]:
    """VAT rates, highest first."""
    query = select(VatRate).order_by(VatRate.rate.desc())
    if active_only:
        query = query.where(VatRate.active)
    return list(session.exec(query))


def get_vat_rate(session: Session, rate_id: int) -> VatRate:
    rate = session.get(VatRate, rate_id) if rate_id else None
    if rate is None:
        raise DomainError("Ce taux de TVA n'existe pas.")
    return rate


def empty_vat_rate_form() -> dict[str, str]:
    return {"rate": "", "label": "", "exemption_mention": "", "active": "1"}


def vat_rate_form(rate: VatRate) -> dict[str, str]:
    return {
        "rate": _fr(rate.rate),
        "label": rate.label,
        "exemption_mention": rate.exemption_mention,
        "active": "1" if rate.active else "",
    }


def active_rate_values(session: Session) -> set[Decimal]:
    return set(session.exec(select(VatRate.rate).where(VatRate.active)))


def save_vat_rate(session: Session, rate_id: int | None, form: dict[str, str]) -> VatRate:
    """Create or update a VAT rate. Only French rates can be used on document lines,
    so only those are accepted; a 0 % rate needs its exemption mention (legal article)."""
    vat_rate = get_vat_rate(session, rate_id) if rate_id is not None else VatRate(rate=Decimal(0), label="")
    errors: dict[str, str] = {}
    rate = _parse(errors, "rate", "Taux", _text(form, "rate"), 2)
    if rate is not None:
        if not 0 <= rate <= 100:
            errors["rate"] = "Le taux doit être compris entre 0 et 100 %."
        elif rate not in FRENCH_VAT_RATES:
            allowed = ", ".join(f"{_fr(r)} %" for r in FRENCH_VAT_RATES)
            errors["rate"] = f"Taux de TVA non pris en charge. Taux possibles : {allowed}."
        else:
            rate = rate.quantize(Decimal("0.01"))
            query = select(VatRate.id).where(VatRate.rate == rate)
            if rate_id is not None:
                query = query.where(VatRate.id != rate_id)
            if session.exec(query).first() is not None:
                errors["rate"] = RATE_TAKEN
    label, mention = _text(form, "label"), _text(form, "exemption_mention")
    if not label:
        errors["label"] = "Le libellé est obligatoire."
    elif len(label) > 60:
        errors["label"] = "Le libellé ne doit pas dépasser 60 caractères."
    if len(mention) > 300:
        errors["exemption_mention"] = "La mention d'exonération ne doit pas dépasser 300 caractères."
    elif rate is not None and rate == 0 and not mention:
        errors["exemption_mention"] = (
            "Un taux à 0 % exige la mention d'exonération imprimée sur les factures "
            "(ex. « Exonération de TVA, article 262 ter I du CGI »)."
        )
    if errors:
        raise ValidationErrors(errors)
    vat_rate.rate, vat_rate.label, vat_rate.exemption_mention = rate, label, mention
    vat_rate.active = _flag(form, "active")
    _flush_unique(session, vat_rate, "rate", RATE_TAKEN)
    return vat_rate


def exemption_mentions(session: Session) -> dict[Decimal, str]:
    """rate -> exemption mention, for the rates that have one."""
    return {r.rate: r.exemption_mention for r in session.exec(select(VatRate)) if r.exemption_mention}


# --- products -------------------------------------------------------------------------------------


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matching(query: str):
    """Every word must appear in the reference or the name (case-insensitive)."""
    conditions = []
    for term in query.lower().split():
        pattern = f"%{_escape_like(term)}%"
        conditions.append(
            or_(
                func.lower(Product.reference).like(pattern, escape="\\"),
                func.lower(Product.name).like(pattern, escape="\\"),
            )
        )
    return conditions


def list_products(session: Session, query: str = "", include_inactive: bool = True) -> list[Product]:
    """Products sorted by reference, optionally filtered by reference or name."""
    statement = select(Product).where(*_matching(query)).order_by(Product.reference, Product.id)
    if not include_inactive:
        statement = statement.where(Product.active)
    return list(session.exec(statement))


def search_products(session: Session, query: str, limit: int = 10) -> list[Product]:
    """Active products whose reference or name contains every word of ``query``."""
    if not query.strip():
        return []
    statement = (
        select(Product)
        .where(Product.active, *_matching(query))
        .order_by(Product.reference, Product.id)
        .limit(limit)
    )
    return list(session.exec(statement))


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id) if product_id else None
    if product is None:
        raise DomainError("Ce produit n'existe pas.")
    return product


def empty_product_form() -> dict[str, str]:
    return {"reference": "", "name": "", "description": "", "unit": "", "unit_price": "",
            "vat_rate": "20", "active": "1", "kind": ""}


def product_form(product: Product) -> dict[str, str]:
    return {
        "reference": product.reference,
        "name": product.name,
        "description": product.description,
        "unit": product.unit,
        "unit_price": _fr(product.unit_price, 2),
        "vat_rate": _fr(product.vat_rate),
        "active": "1" if product.active else "",
        "kind": product.kind or "",
    }


def save_product(session: Session, product_id: int | None, form: dict[str, str]) -> Product:
    """Create or update a product; ValidationErrors lists every field error (French)."""
    product = get_product(session, product_id) if product_id is not None else None
    errors: dict[str, str] = {}
    reference, name = _text(form, "reference"), _text(form, "name")
    unit, description = _text(form, "unit"), str(form.get("description", "") or "").strip()
    if not reference:
        errors["reference"] = "La référence est obligatoire."
    elif len(reference) > 60:
        errors["reference"] = "La référence ne doit pas dépasser 60 caractères."
    else:
        query = select(Product.id).where(func.lower(Product.reference) == reference.lower())
        if product_id is not None:
            query = query.where(Product.id != product_id)
        if session.exec(query).first() is not None:
            errors["reference"] = REFERENCE_TAKEN
    if not name:
        errors["name"] = "La désignation est obligatoire."
    elif len(name) > 200:
        errors["name"] = "La désignation ne doit pas dépasser 200 caractères."
    if len(unit) > 20:
        errors["unit"] = "L'unité ne doit pas dépasser 20 caractères."
    if len(description) > 5000:
        errors["description"] = "La description ne doit pas dépasser 5000 caractères."

    price = _parse(errors, "unit_price", "Prix unitaire HT", _text(form, "unit_price"), 4)
    if price is not None and price < 0:
        errors["unit_price"] = "Le prix unitaire HT ne peut pas être négatif."
    elif price is not None and price > MAX_AMOUNT:
        errors["unit_price"] = f"Le prix unitaire HT ne peut dépasser {format_eur(MAX_AMOUNT)}."
    rate = _parse(errors, "vat_rate", "Taux de TVA", _text(form, "vat_rate"), 2)
    if rate is not None and rate not in active_rate_values(session):
        allowed = ", ".join(f"{_fr(r.rate)} %" for r in list_vat_rates(session, active_only=True))
        errors["vat_rate"] = f"Ce taux de TVA n'est pas actif. Taux possibles : {allowed}."
    kind = _text(form, "kind")
    if kind and kind not in PRODUCT_KINDS:
        errors["kind"] = "La nature du produit doit être « Bien » ou « Service » (ou non précisée)."
    if errors:
        raise ValidationErrors(errors)

    if product is None:
        product = Product(reference=reference, name=name, unit_price=Decimal(0), vat_rate=Decimal(0))
    product.reference, product.name, product.unit, product.description = reference, name, unit, description
    product.unit_price = price.quantize(Decimal("0.0001"))
    product.vat_rate = rate.quantize(Decimal("0.01"))
    product.active = _flag(form, "active")
    if "kind" in form:
        product.kind = kind
    _flush_unique(session, product, "reference", REFERENCE_TAKEN)
    return product
