"""Issuing companies (sociétés émettrices): legal details, bank details, logo, numbering."""

from __future__ import annotations

import os
import re
from decimal import Decimal

from sqlmodel import Session, select
from stdnum import exceptions as nx
from stdnum.fr import siret as fr_siret

from simple_erp import crypto
from simple_erp.domain.contact_rules import (
    _validate_phone,
    format_iban,
    mask_iban,
    validate_bic,
    validate_email,
    validate_iban,
    validate_ics,
    validate_siren,
    validate_vat_number,
)
from simple_erp.domain.documents import (
    DEFAULT_ESCOMPTE_TEXT,
    DEFAULT_NUMBER_PATTERN,
    DocumentKind,
    PaymentTerms,
    check_patterns_disjoint,
    validate_number_pattern,
)
from simple_erp.domain.einvoice.mentions import OPERATION_CATEGORIES
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import decimal_places, format_decimal_fr, parse_amount, parse_decimal
from simple_erp.domain.sepa import DEFAULT_RUM_PATTERN, validate_rum_pattern
from simple_erp.models.company import Company
from simple_erp.models.document import NumberingPattern
from simple_erp.models.user import User
from simple_erp.services import company_audit
from simple_erp.services.forms import text as _text

VAT_REGIMES = {"normal": "Régime normal (TVA collectée)", "franchise": "Franchise en base (art. 293 B du CGI)"}
LOGO_MAX_BYTES = 1024 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"

# Plain text columns edited through the form, with their French label (for length errors).
_TEXT_FIELDS = {
    "name": "La raison sociale",
    "legal_form": "La forme juridique",
    "address_line1": "L'adresse",
    "address_line2": "Le complément d'adresse",
    "postal_code": "Le code postal",
    "city": "La ville",
    "country": "Le pays",
    "rcs_city": "La ville du RCS",
    "rm_city": "Le répertoire des métiers",
    "escompte_text": "La mention d'escompte",
    "phone": "Le téléphone",
}
FORM_FIELDS: tuple[str, ...] = (
    "name", "legal_form", "capital", "address_line1", "address_line2", "postal_code", "city",
    "country", "siren", "siret", "rcs_city", "vat_number", "vat_regime", "iban", "bic", "ics",
    "rum_pattern", "payment_terms", "late_penalty_rate", "escompte_text", "contact_email", "phone", "is_default",
    "logo_filename",  # read-only in the form: set_logo() changes it
    "rm_city", "operation_category", "vat_on_debits",  # the 2026 reform's mentions
)


# --- reading -------------------------------------------------------------------------------


def list_companies(session: Session) -> list[Company]:
    """All companies, the default one first, then by name."""
    return list(session.exec(select(Company).order_by(Company.is_default.desc(), Company.name, Company.id)))


def get_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id) if company_id else None
    if company is None:
        raise DomainError("Cette société n'existe pas.")
    return company


def default_company(session: Session) -> Company | None:
    """The default company (the first one created unless changed), or None when there is none."""
    query = select(Company).order_by(Company.is_default.desc(), Company.id).limit(1)
    return session.exec(query).first()


# --- form <-> company ------------------------------------------------------------------------


def _fr(value: Decimal | None, min_places: int = 0) -> str:
    if value is None:
        return ""
    return format_decimal_fr(value, max(min_places, decimal_places(value)))


def empty_company_form() -> dict[str, str]:
    form = {name: "" for name in FORM_FIELDS}
    form.update(
        country="FR",
        vat_regime="normal",
        payment_terms=PaymentTerms.NET_30.value,
        late_penalty_rate="12,15",
        escompte_text=DEFAULT_ESCOMPTE_TEXT,
        operation_category="mixte",
        rum_pattern=DEFAULT_RUM_PATTERN,
    )
    return form


def company_form(company: Company) -> dict[str, str]:
    """Editable values as strings: French decimals, full IBAN (decrypted) in groups of 4."""
    form = {name: str(getattr(company, name) or "") for name in FORM_FIELDS if hasattr(company, name)}
    capital = company.capital
    form["capital"] = "" if capital is None else format_decimal_fr(capital, 2 if decimal_places(capital) else 0)
    form["late_penalty_rate"] = _fr(company.late_penalty_rate)
    form["iban"] = format_iban(crypto.decrypt(company.iban_encrypted))
    form["is_default"] = "1" if company.is_default else ""
    form["vat_on_debits"] = "1" if company.vat_on_debits else ""
    form["operation_category"] = company.operation_category or "mixte"
    return form


def _check(errors: dict[str, str], field: str, check, *args, failed=""):
    """Run one domain check; record its French message under ``field`` on failure."""
    try:
        return check(*args)
    except DomainError as error:
        errors[field] = error.message
        return failed


def _validate_siret(value: str) -> str:
    number = fr_siret.compact(value)
    try:
        return fr_siret.validate(number)
    except nx.InvalidFormat:
        message = "SIRET invalide : il ne doit contenir que des chiffres."
    except nx.InvalidLength:
        message = f"SIRET invalide : il doit compter 14 chiffres (ici {len(number)})."
    except nx.ValidationError:
        message = "SIRET invalide : la clé de contrôle est incorrecte."
    raise DomainError(message, field="siret")


def _validate_rate(value: str) -> Decimal:
    if not value:
        raise DomainError("Le taux des pénalités de retard est obligatoire.")
    rate = parse_decimal(value, 2)
    if not 0 <= rate <= 100:
        raise DomainError("Le taux des pénalités de retard doit être compris entre 0 et 100 %.")
    return rate.quantize(Decimal("0.01"))


def _validate_capital(value: str) -> Decimal | None:
    if not value:
        return None
    capital = parse_amount(value)
    if capital < 0:
        raise DomainError("Le capital social ne peut pas être négatif.")
    return capital


def _clean_company(form: dict[str, str]) -> dict:
    """Validated column values, or ValidationErrors with every field error (French)."""
    errors: dict[str, str] = {}
    values: dict = {name: _text(form, name) for name in _TEXT_FIELDS}
    values["country"] = values["country"].upper() or "FR"
    if not values["name"]:
        errors["name"] = "La raison sociale est obligatoire."
    for name, label in _TEXT_FIELDS.items():
        limit = Company.__table__.columns[name].type.length
        if len(values[name]) > limit:
            errors[name] = f"{label} ne doit pas dépasser {limit} caractères."
    if not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors["country"] = "Le pays doit être un code ISO à 2 lettres (ex. FR)."
    elif values["country"] == "FR" and values["postal_code"] and not re.fullmatch(r"[0-9]{5}", values["postal_code"]):
        errors["postal_code"] = "Le code postal français doit compter 5 chiffres."
    if values["phone"]:
        values["phone"] = _check(errors, "phone", _validate_phone, values["phone"]) or values["phone"]

    siren, siret, vat = _text(form, "siren"), _text(form, "siret"), _text(form, "vat_number")
    values["siren"] = _check(errors, "siren", validate_siren, siren) if siren else ""
    values["siret"] = _check(errors, "siret", _validate_siret, siret) if siret else ""
    if values["siret"] and "siren" not in errors:
        if not values["siren"]:
            values["siren"] = values["siret"][:9]  # the SIREN is the SIRET's first 9 digits
        elif not values["siret"].startswith(values["siren"]):
            errors["siret"] = "Le SIRET doit commencer par le SIREN (ses 9 premiers chiffres)."
    values["vat_number"] = _check(errors, "vat_number", validate_vat_number, vat) if vat else ""
    if values["vat_number"].startswith("FR") and values["siren"] and {"siren", "vat_number"}.isdisjoint(errors):
        if values["vat_number"][4:] != values["siren"]:
            errors["vat_number"] = "Le numéro de TVA ne correspond pas au SIREN saisi."

    iban, bic = _text(form, "iban"), _text(form, "bic")
    values["iban"] = _check(errors, "iban", validate_iban, iban) if iban else ""
    values["bic"] = _check(errors, "bic", validate_bic, bic, values["iban"] or None) if bic else ""
    if iban and not bic:
        errors["bic"] = "Saisissez le BIC de ce compte (IBAN et BIC vont ensemble)."
    elif bic and not iban:
        errors["iban"] = "Saisissez l'IBAN de ce compte (IBAN et BIC vont ensemble)."
    ics = _text(form, "ics")
    values["ics"] = _check(errors, "ics", validate_ics, ics) if ics else ""
    values["rum_pattern"] = _check(errors, "rum_pattern", validate_rum_pattern, _text(form, "rum_pattern"))
    email = _text(form, "contact_email")
    values["contact_email"] = _check(errors, "contact_email", validate_email, email) if email else ""

    values["capital"] = _check(errors, "capital", _validate_capital, _text(form, "capital"), failed=None)
    values["late_penalty_rate"] = _check(
        errors, "late_penalty_rate", _validate_rate, _text(form, "late_penalty_rate"), failed=None
    )
    values["payment_terms"] = _text(form, "payment_terms") or PaymentTerms.NET_30.value
    if values["payment_terms"] not in {t.value for t in PaymentTerms}:
        errors["payment_terms"] = "Conditions de paiement inconnues."
    values["vat_regime"] = _text(form, "vat_regime") or "normal"
    if values["vat_regime"] not in VAT_REGIMES:
        errors["vat_regime"] = "Le régime de TVA doit être « normal » ou « franchise »."
    values["operation_category"] = _text(form, "operation_category") or "mixte"
    if values["operation_category"] not in OPERATION_CATEGORIES:
        errors["operation_category"] = "Catégorie de l'opération inconnue (biens, services ou mixte)."
    values["vat_on_debits"] = _text(form, "vat_on_debits") in {"1", "true", "True", "on"}
    if errors:
        raise ValidationErrors(errors)
    values["is_default"] = _text(form, "is_default") in {"1", "true", "True", "on"}
    return values


def save_company(session: Session, company_id: int | None, form: dict[str, str], changed_by: User | None = None) -> Company:
    """Create (company_id None) or update a company; a key missing from ``form`` keeps its
    current (or default) value. There is always exactly one default company once one
    exists: the first one; saving another with is_default="1" moves it there. An update's
    changes of identity and bank details are kept in the audit trail (company_audit), by
    ``changed_by`` (the signed-in user; None for the system)."""
    company = get_company(session, company_id) if company_id is not None else Company(name="")
    current = company_form(company) if company_id is not None else empty_company_form()
    values = _clean_company(current | {k: v for k, v in form.items() if k in FORM_FIELDS})
    iban = values.pop("iban")
    wants_default = values.pop("is_default")
    for name, value in values.items():
        setattr(company, name, value)
    if iban != crypto.decrypt(company.iban_encrypted):
        company.iban_encrypted = crypto.encrypt(iban)
    company.iban_masked = mask_iban(iban) if iban else ""
    others = select(Company).where(Company.is_default)
    if company.id is not None:
        others = others.where(Company.id != company.id)
    other_defaults = list(session.exec(others))
    if wants_default or not other_defaults:
        for other in other_defaults:
            other.is_default = False
            session.add(other)
        company.is_default = True
    session.add(company)
    session.flush()
    if company_id is not None:
        company_audit.record_changes(session, company.id, current, company_form(company), changed_by)
    return company


# --- logo ----------------------------------------------------------------------------------------


def logo_mime(data: bytes | None) -> str:
    """"image/png" or "image/jpeg" from the magic bytes, "" otherwise."""
    if data and data.startswith(_PNG_MAGIC):
        return "image/png"
    if data and data.startswith(_JPEG_MAGIC):
        return "image/jpeg"
    return ""


def set_logo(session: Session, company_id: int, filename: str, data: bytes, changed_by: User | None = None) -> None:
    """Store a PNG or JPEG logo (recognised by its content, not its name), 1 Mo at most."""
    company = get_company(session, company_id)
    if not data:
        raise DomainError("Le fichier du logo est vide.", field="logo")
    if len(data) > LOGO_MAX_BYTES:
        size = format_decimal_fr(Decimal(len(data)) / LOGO_MAX_BYTES, 1)
        raise DomainError(f"Logo trop lourd : {size} Mo, 1 Mo au maximum.", field="logo")
    if not logo_mime(data):
        raise DomainError("Le logo doit être une image PNG ou JPEG.", field="logo")
    name = os.path.basename((filename or "").replace("\\", "/")).strip() or "logo"
    before = company.logo_filename
    company.logo = data
    company.logo_filename = name[-200:]
    session.add(company)
    session.flush()
    company_audit.record_changes(session, company.id, {"logo_filename": before},
                                 {"logo_filename": company.logo_filename}, changed_by)


def remove_logo(session: Session, company_id: int) -> None:
    company = get_company(session, company_id)
    company.logo, company.logo_filename = None, ""
    session.add(company)
    session.flush()


# --- numbering patterns --------------------------------------------------------------------------


def default_pattern(kind: DocumentKind | str) -> str:
    return DEFAULT_NUMBER_PATTERN


def numbering_patterns(session: Session, company_id: int) -> dict[str, str]:
    """Pattern of every document kind (kind value -> pattern), defaults filled in."""
    patterns = {kind.value: default_pattern(kind) for kind in DocumentKind}
    rows = session.exec(select(NumberingPattern).where(NumberingPattern.company_id == company_id))
    patterns.update({row.kind: row.pattern for row in rows if row.kind in patterns})
    return patterns


def save_numbering_pattern(session: Session, company_id: int, kind: str, pattern: str,
                           check_overlap: bool = True) -> None:
    """Set one kind's pattern; an empty pattern goes back to the default.

    Counters restart every year, so the pattern must contain the year ({year} or {yy}),
    otherwise two years would produce the same numbers. Numbers are unique across kinds:
    a pattern that could produce another kind's numbers is refused (``check_overlap``;
    ``numbering.save_patterns`` checks a whole form at once instead)."""
    get_company(session, company_id)
    if kind not in {k.value for k in DocumentKind}:
        raise DomainError("Type de document inconnu.", field="kind")
    pattern = (pattern or "").strip() or DEFAULT_NUMBER_PATTERN
    if len(pattern) > NumberingPattern.__table__.columns["pattern"].type.length:
        raise DomainError("Modèle de numérotation trop long : 60 caractères au maximum.", "number_pattern")
    validate_number_pattern(pattern)
    if "{year}" not in pattern and "{yy}" not in pattern:
        raise DomainError(
            "Modèle de numérotation invalide : il doit contenir l'année ({year} ou {yy}), "
            "car la numérotation repart à 1 chaque année.",
            "number_pattern",
        )
    if check_overlap:
        overlaps = check_patterns_disjoint({**numbering_patterns(session, company_id), kind: pattern})
        if kind in overlaps:
            raise DomainError(overlaps[kind], "number_pattern")
    row = session.exec(
        select(NumberingPattern).where(NumberingPattern.company_id == company_id, NumberingPattern.kind == kind)
    ).first()
    if row is None:
        row = NumberingPattern(company_id=company_id, kind=kind, pattern=pattern)
    row.pattern = pattern
    session.add(row)
    session.flush()
