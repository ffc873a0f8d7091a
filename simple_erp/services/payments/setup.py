"""Simple Paiement settings: ERP preferences, accounts (comptes), payment types and payment
methods (moyens de paiement). Re-exported by ``services.payments``; use it from there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain.contact_rules import format_iban, mask_iban, validate_bic, validate_iban
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.payment import Account, ErpPreferences, Payment, PaymentMethod, PaymentType
from simple_erp.services.forms import flag as _flag
from simple_erp.services.forms import flush_unique as _flush_unique
from simple_erp.services.forms import text as _text

PREFERENCES_ID = 1
ACCOUNT_TYPES: dict[str, str] = {
    "compte_bancaire": "Compte bancaire",
    "mollie": "Mollie",
    "caisse": "Caisse",
    "autre": "Autre",
}
MOLLIE_ACCOUNT = "mollie"
# The only payment types a Mollie account takes (Mollie collects cards and SEPA direct debits).
MOLLIE_TYPE_CODES = frozenset({"carte_bancaire", "prelevement_sepa"})
MOLLIE_TYPES_ONLY = "Un compte Mollie n'accepte que « Carte bancaire » et « Prélèvement SEPA »."
METHOD_TAKEN = "Ce moyen de paiement existe déjà (même type de paiement et même compte)."
TYPE_NAME_TAKEN = "Ce type de paiement existe déjà."
ACCOUNT_FIELDS = ("account_type", "name", "identifier", "bank_name", "iban", "bic", "notes", "active")
_ACCOUNT_TEXTS = {  # field -> (max length, French label for messages)
    "name": (200, "La désignation du compte"),
    "identifier": (100, "Le numéro de compte ou l'identifiant"),
    "bank_name": (200, "Le nom de la banque"),
    "notes": (2000, "Le champ notes"),
}
_CUSTOM_CODE = re.compile(r"custom_([0-9]+)")


def _int(form: dict[str, str], name: str) -> int | None:
    try:
        return int(_text(form, name))
    except ValueError:
        return None


# --- preferences ------------------------------------------------------------------------------


def get_preferences(session: Session) -> ErpPreferences:
    """The single preferences row (seeded by the migration; created here when missing)."""
    prefs = session.get(ErpPreferences, PREFERENCES_ID)
    if prefs is not None:
        return prefs
    prefs = ErpPreferences(id=PREFERENCES_ID)
    try:
        with session.begin_nested():
            session.add(prefs)
            session.flush()
    except IntegrityError:  # created concurrently
        prefs = session.get(ErpPreferences, PREFERENCES_ID, populate_existing=True)
    return prefs


def save_preferences(session: Session, simple_paiement: bool, mollie: bool) -> ErpPreferences:
    """Mollie needs Simple Paiement: switching Simple Paiement off switches Mollie off too."""
    prefs = get_preferences(session)
    prefs.simple_paiement_enabled = bool(simple_paiement)
    prefs.mollie_enabled = bool(mollie) and bool(simple_paiement)
    session.add(prefs)
    session.flush()
    return prefs


# --- accounts ---------------------------------------------------------------------------------


def list_accounts(session: Session, active_only: bool = False) -> list[Account]:
    """Accounts by name."""
    query = select(Account).order_by(Account.name, Account.id)
    if active_only:
        query = query.where(Account.active)
    return list(session.exec(query))


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id) if account_id else None
    if account is None:
        raise DomainError("Ce compte n'existe pas.")
    return account


def empty_account_form() -> dict[str, str]:
    form = {name: "" for name in ACCOUNT_FIELDS}
    form.update(account_type="compte_bancaire", active="1")
    return form


def account_form(account: Account) -> dict[str, str]:
    """Editable values as strings; the IBAN decrypted, in groups of 4 (like the company form)."""
    return {
        "account_type": account.account_type,
        "name": account.name,
        "identifier": account.identifier,
        "bank_name": account.bank_name,
        "iban": format_iban(crypto.decrypt(account.iban_encrypted)),
        "bic": account.bic,
        "notes": account.notes,
        "active": "1" if account.active else "",
    }


def _check(errors: dict[str, str], field: str, check, *args) -> str:
    try:
        return check(*args)
    except DomainError as error:
        errors[field] = error.message
        return ""


def _account_values(form: dict[str, str]) -> dict:
    errors: dict[str, str] = {}
    values = {name: _text(form, name) for name in ("account_type", *_ACCOUNT_TEXTS)}
    values["notes"] = str(form.get("notes", "") or "").strip()
    if values["account_type"] not in ACCOUNT_TYPES:
        errors["account_type"] = "Type de compte inconnu."
    if not values["name"]:
        errors["name"] = "La désignation du compte est obligatoire."
    if not values["identifier"]:
        errors["identifier"] = "Le numéro de compte ou l'identifiant est obligatoire."
    for name, (limit, label) in _ACCOUNT_TEXTS.items():
        if name not in errors and len(values[name]) > limit:
            errors[name] = f"{label} ne doit pas dépasser {limit} caractères."
    iban, bic = _text(form, "iban"), _text(form, "bic")
    values["iban"] = _check(errors, "iban", validate_iban, iban) if iban else ""
    values["bic"] = _check(errors, "bic", validate_bic, bic, values["iban"] or None) if bic else ""
    if errors:
        raise ValidationErrors(errors)
    values["active"] = _flag(form, "active")
    return values


def _check_mollie_methods(session: Session, account_id: int | None, account_type: str) -> None:
    """An account turned into a Mollie account must not keep other payment types."""
    if account_id is None or account_type != MOLLIE_ACCOUNT:
        return
    codes = session.exec(
        select(PaymentType.code)
        .join(PaymentMethod, PaymentMethod.payment_type_id == PaymentType.id)
        .where(PaymentMethod.account_id == account_id)
    )
    if any(code not in MOLLIE_TYPE_CODES for code in codes):
        raise ValidationErrors({
            "account_type": MOLLIE_TYPES_ONLY + " Ce compte a d'autres moyens de paiement : changez-les d'abord."
        })


def save_account(session: Session, account_id: int | None, form: dict[str, str]) -> Account:
    """Create (account_id None) or update an account. Keys: account_type, name, identifier,
    bank_name, iban, bic, notes, active ("1"/""); a key missing from ``form`` keeps its value.
    IBAN and BIC are optional but validated; the IBAN is stored encrypted and masked."""
    account = get_account(session, account_id) if account_id is not None else None
    current = account_form(account) if account is not None else empty_account_form()
    values = _account_values(current | {k: v for k, v in form.items() if k in ACCOUNT_FIELDS})
    _check_mollie_methods(session, account_id, values["account_type"])
    if account is None:
        account = Account(account_type=values["account_type"], name="", identifier="")
    iban = values.pop("iban")
    for name, value in values.items():
        setattr(account, name, value)
    if iban != crypto.decrypt(account.iban_encrypted):
        account.iban_encrypted = crypto.encrypt(iban)
    account.iban_masked = mask_iban(iban) if iban else ""
    session.add(account)
    session.flush()
    return account


def delete_account(session: Session, account_id: int) -> None:
    """Only an account without any payment method; otherwise deactivate it."""
    account = get_account(session, account_id)
    used = session.exec(select(PaymentMethod.id).where(PaymentMethod.account_id == account.id).limit(1)).first()
    if used is not None:
        raise DomainError("Ce compte est utilisé par un moyen de paiement : désactivez-le plutôt.")
    session.delete(account)
    session.flush()


# --- payment types ----------------------------------------------------------------------------


def list_payment_types(session: Session, active_only: bool = False) -> list[PaymentType]:
    """System types first (in their seeded order), then the added ones in creation order."""
    query = select(PaymentType).order_by(PaymentType.is_system.desc(), PaymentType.id)
    if active_only:
        query = query.where(PaymentType.active)
    return list(session.exec(query))


def get_payment_type(session: Session, type_id: int) -> PaymentType:
    payment_type = session.get(PaymentType, type_id) if type_id else None
    if payment_type is None:
        raise DomainError("Ce type de paiement n'existe pas.")
    return payment_type


def _next_custom_code(session: Session) -> str:
    codes = session.exec(select(PaymentType.code).where(PaymentType.code.like("custom\\_%", escape="\\")))
    numbers = [int(m.group(1)) for code in codes if (m := _CUSTOM_CODE.fullmatch(code))]
    return f"custom_{max(numbers, default=0) + 1}"


def save_payment_type(session: Session, type_id: int | None, form: dict[str, str]) -> PaymentType:
    """Create (type_id None, code custom_<n>) or rename/(de)activate a type. Keys: name,
    active. Names are unique, ignoring case. System types can be renamed and deactivated."""
    payment_type = get_payment_type(session, type_id) if type_id is not None else None
    name = _text(form, "name") if "name" in form or payment_type is None else payment_type.name
    if not name:
        raise ValidationErrors({"name": "Le nom du type de paiement est obligatoire."})
    if len(name) > 100:
        raise ValidationErrors({"name": "Le nom du type de paiement ne doit pas dépasser 100 caractères."})
    others = session.exec(select(PaymentType.id, PaymentType.name))
    if any(other_name.casefold() == name.casefold() for other_id, other_name in others if other_id != type_id):
        raise ValidationErrors({"name": TYPE_NAME_TAKEN})
    if payment_type is None:
        payment_type = PaymentType(code=_next_custom_code(session), name=name, is_system=False)
    payment_type.name = name
    payment_type.active = _flag(form, "active", payment_type.active if type_id is not None else True)
    _flush_unique(session, payment_type, "name", "Ce type de paiement vient d'être créé par ailleurs : réessayez.")
    return payment_type


def delete_payment_type(session: Session, type_id: int) -> None:
    """Only an added type that no payment method uses; system types are never deleted."""
    payment_type = get_payment_type(session, type_id)
    if payment_type.is_system:
        raise DomainError("Un type de paiement du système ne peut pas être supprimé : désactivez-le.")
    used = session.exec(select(PaymentMethod.id).where(PaymentMethod.payment_type_id == type_id).limit(1)).first()
    if used is not None:
        raise DomainError("Ce type de paiement est utilisé par un moyen de paiement : désactivez-le plutôt.")
    session.delete(payment_type)
    session.flush()


# --- payment methods --------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodRow:
    id: int
    label: str  # "Chèque — Banque Populaire"
    type_name: str
    type_code: str
    account_name: str
    account_type: str
    active: bool  # the method's own switch
    is_mollie: bool
    usable: bool = True  # method, type and account all active
    type_id: int = 0
    account_id: int = 0


def method_label(type_name: str, account_name: str) -> str:
    return f"{type_name} — {account_name}"


def _method_rows(session: Session, *conditions) -> list[MethodRow]:
    query = (
        select(PaymentMethod, PaymentType, Account)
        .join(PaymentType, PaymentType.id == PaymentMethod.payment_type_id)
        .join(Account, Account.id == PaymentMethod.account_id)
        .where(*conditions)
        .order_by(func.lower(PaymentType.name), func.lower(Account.name), PaymentMethod.id)
    )
    return [
        MethodRow(
            id=method.id,
            label=method_label(ptype.name, account.name),
            type_name=ptype.name,
            type_code=ptype.code,
            account_name=account.name,
            account_type=account.account_type,
            active=method.active,
            is_mollie=account.account_type == MOLLIE_ACCOUNT,
            usable=method.active and ptype.active and account.active,
            type_id=ptype.id,
            account_id=account.id,
        )
        for method, ptype, account in session.exec(query)
    ]


def list_methods(session: Session, active_only: bool = False) -> list[MethodRow]:
    """Payment methods by type then account name. ``active_only``: the method, its type and
    its account are all active (what can be used for a new payment)."""
    if active_only:
        return _method_rows(session, PaymentMethod.active, PaymentType.active, Account.active)
    return _method_rows(session)


def payment_method_choices(session: Session) -> list[MethodRow]:
    """Methods offered for a new payment request: the usable ones, Mollie ones only when
    the Mollie module is on."""
    mollie = get_preferences(session).mollie_enabled
    return [row for row in list_methods(session, active_only=True) if mollie or not row.is_mollie]


def get_method(session: Session, method_id: int) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id) if method_id else None
    if method is None:
        raise DomainError("Ce moyen de paiement n'existe pas.")
    return method


def method_row(session: Session, method_id: int) -> MethodRow:
    rows = _method_rows(session, PaymentMethod.id == method_id)
    if not rows:
        raise DomainError("Ce moyen de paiement n'existe pas.")
    return rows[0]


def method_form(method: PaymentMethod) -> dict[str, str]:
    return {
        "payment_type_id": str(method.payment_type_id),
        "account_id": str(method.account_id),
        "active": "1" if method.active else "",
    }


def save_method(session: Session, method_id: int | None, form: dict[str, str]) -> PaymentMethod:
    """Create or update a payment method. Keys: payment_type_id, account_id, active.
    A Mollie account takes only Carte bancaire and Prélèvement SEPA; a (type, account) pair
    exists once; a method that has been used keeps its type and account."""
    method = get_method(session, method_id) if method_id is not None else None
    current = method_form(method) if method is not None else {"active": "1"}
    form = current | {k: v for k, v in form.items() if k in ("payment_type_id", "account_id", "active")}
    errors: dict[str, str] = {}
    type_id, account_id = _int(form, "payment_type_id"), _int(form, "account_id")
    payment_type = session.get(PaymentType, type_id) if type_id else None
    account = session.get(Account, account_id) if account_id else None
    if payment_type is None:
        errors["payment_type_id"] = "Choisissez un type de paiement."
    if account is None:
        errors["account_id"] = "Choisissez un compte."
    if payment_type is not None and account is not None:
        if account.account_type == MOLLIE_ACCOUNT and payment_type.code not in MOLLIE_TYPE_CODES:
            errors["payment_type_id"] = MOLLIE_TYPES_ONLY
        else:
            query = select(PaymentMethod.id).where(
                PaymentMethod.payment_type_id == type_id, PaymentMethod.account_id == account_id
            )
            if method_id is not None:
                query = query.where(PaymentMethod.id != method_id)
            if session.exec(query).first() is not None:
                errors["payment_type_id"] = METHOD_TAKEN
    if errors:
        raise ValidationErrors(errors)
    if method is not None and (method.payment_type_id, method.account_id) != (type_id, account_id):
        used = session.exec(select(Payment.id).where(Payment.method_id == method.id).limit(1)).first()
        if used is not None:
            raise ValidationErrors({
                "payment_type_id": "Ce moyen de paiement a déjà servi : son type et son compte ne changent plus. "
                "Désactivez-le et créez-en un autre."
            })
    if method is None:
        method = PaymentMethod(payment_type_id=type_id, account_id=account_id)
    method.payment_type_id, method.account_id = type_id, account_id
    method.active = _flag(form, "active")
    _flush_unique(session, method, "payment_type_id", METHOD_TAKEN)
    return method


def delete_method(session: Session, method_id: int) -> None:
    """Only a method never used by a payment; otherwise deactivate it."""
    method = get_method(session, method_id)
    used = session.exec(select(Payment.id).where(Payment.method_id == method.id).limit(1)).first()
    if used is not None:
        raise DomainError("Ce moyen de paiement a déjà servi : désactivez-le plutôt.")
    session.delete(method)
    session.flush()
