"""Contact validation rules: bank details (IBAN, BIC, SEPA mandate), company ids, e-mail…

Pure Python (stdlib, schwifty, python-stdnum). Every error is a ``DomainError`` whose
French message names the field; ``validate_contact`` and ``validate_sepa_fields``
collect all field errors into one ``ValidationErrors``.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass
from datetime import date

from schwifty import BIC, IBAN
from schwifty import exceptions as sx
from schwifty.registry import get_iban_spec
from stdnum import exceptions as nx
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import tva as fr_tva

from simple_erp.domain.errors import DomainError, ValidationErrors

_WHITESPACE = re.compile(r"\s+")


def compact(value: str) -> str:
    """Strip, remove every whitespace and uppercase."""
    return _WHITESPACE.sub("", value or "").upper()


# --- IBAN / BIC ---------------------------------------------------------------------------


def validate_iban(value: str) -> str:
    """Return the compact IBAN; the national key (French RIB key) is checked too."""
    iban = compact(value)
    if not iban:
        raise DomainError("L'IBAN est vide.", field="iban")
    if not (iban.isascii() and iban.isalnum()):
        raise DomainError(
            "IBAN invalide : seuls les lettres et les chiffres sont autorisés.", field="iban"
        )
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}.*", iban):
        raise DomainError(
            "IBAN invalide : il doit commencer par le code pays (2 lettres) "
            "puis 2 chiffres de contrôle.",
            field="iban",
        )
    country = iban[:2]
    try:
        expected = get_iban_spec(country).iban_length
    except sx.InvalidCountryCode:
        raise DomainError(
            f"IBAN invalide : le code pays « {country} » est inconnu.", field="iban"
        ) from None
    if len(iban) != expected:
        raise DomainError(
            f"IBAN invalide : un IBAN {country} compte {expected} caractères (ici {len(iban)}).",
            field="iban",
        )
    try:
        with warnings.catch_warnings():  # no national algorithm registered -> only a warning
            warnings.simplefilter("ignore", sx.NationalChecksumNotVerified)
            IBAN(iban, validate_bban=True)
    except sx.InvalidChecksumDigits:
        message = "IBAN invalide : la clé de contrôle est incorrecte."
    except sx.InvalidBBANChecksum:
        key = "la clé RIB" if country == "FR" else "la clé de contrôle nationale"
        message = f"IBAN invalide : {key} est incorrecte."
    except sx.InvalidStructure:
        message = f"IBAN invalide : le numéro de compte ne respecte pas le format {country}."
    except sx.SchwiftyException:
        message = "IBAN invalide."
    else:
        return iban
    raise DomainError(message, field="iban")


# Countries whose banks share one area: French overseas territories and Monaco with France,
# Crown dependencies with the United Kingdom, Åland with Finland.
_BANK_AREAS = (
    frozenset({"FR", "MC", "GP", "MQ", "RE", "GF", "YT", "PM", "BL", "MF", "NC", "PF", "WF"}),
    frozenset({"GB", "GG", "JE", "IM"}),
    frozenset({"FI", "AX"}),
)


def _same_bank_area(a: str, b: str) -> bool:
    return a == b or any(a in area and b in area for area in _BANK_AREAS)


def _valid_iban_country(iban: str | None) -> str:
    try:
        return validate_iban(iban)[:2] if iban else ""
    except DomainError:
        return ""


def validate_bic(value: str, iban: str | None = None) -> str:
    """Return the compact BIC (8 or 11 chars). Well-formed BICs missing from schwifty's
    registry are accepted. With a valid ``iban``, both must belong to the same banking
    country (an invalid ``iban`` is reported on its own field, not here)."""
    bic = compact(value)
    if not bic:
        raise DomainError("Le BIC est vide.", field="bic")
    try:
        BIC(bic)  # ISO 9362 length, structure and country; no registry lookup
    except sx.InvalidLength:
        message = f"BIC invalide : il doit compter 8 ou 11 caractères (ici {len(bic)})."
    except sx.InvalidCountryCode:
        message = f"BIC invalide : le code pays « {bic[4:6]} » est inconnu."
    except sx.SchwiftyException:
        message = (
            "BIC invalide : format attendu 4 caractères banque, 2 lettres pays, "
            "2 caractères lieu et 3 caractères agence facultatifs."
        )
    else:
        iban_country = _valid_iban_country(iban)
        if not iban_country or _same_bank_area(bic[4:6], iban_country):
            return bic
        message = (
            f"BIC incohérent avec l'IBAN : BIC du pays « {bic[4:6]} », "
            f"IBAN du pays « {iban_country} »."
        )
    raise DomainError(message, field="bic")


def bic_from_iban(iban: str) -> str:
    """Derive the BIC from the IBAN's bank code (schwifty registry)."""
    bic = IBAN(validate_iban(iban), allow_invalid=True).bic
    if bic is None:
        raise DomainError("Impossible de déduire le BIC de cet IBAN : saisissez-le.", field="bic")
    return str(bic)


def mask_iban(iban: str) -> str:
    """``FR7630006000011234567890189`` -> ``FR76 •••• •••• 0189``."""
    value = compact(iban)
    if len(value) <= 8:
        return format_iban(value)
    return f"{value[:4]} •••• •••• {value[-4:]}"


def format_iban(iban: str) -> str:
    """Groups of 4 characters separated by spaces."""
    value = compact(iban)
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


# --- SEPA mandate ---------------------------------------------------------------------------

_RUM_PATTERN = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")


def validate_rum(value: str) -> str:
    """SEPA unique mandate reference (RUM), EPC rules: 1–35 allowed characters."""
    rum = (value or "").strip()
    if not rum:
        message = "La référence du mandat SEPA (RUM) est vide."
    elif len(rum) > 35:
        message = f"Référence de mandat SEPA (RUM) trop longue : {len(rum)} caractères, 35 maximum."
    elif not _RUM_PATTERN.fullmatch(rum):
        message = (
            "Référence de mandat SEPA (RUM) invalide : seuls les lettres sans accent, "
            "les chiffres, l'espace et / - ? : ( ) . , ' + sont autorisés."
        )
    elif rum.startswith("//"):
        message = "Référence de mandat SEPA (RUM) invalide : elle ne peut pas commencer par « // »."
    else:
        return rum
    raise DomainError(message, field="rum")


def validate_signature_date(value: date, today: date) -> date:
    """The mandate cannot be signed in the future."""
    if value > today:
        raise DomainError(
            "La date de signature du mandat SEPA ne peut pas être dans le futur.",
            field="mandate_signed_on",
        )
    return value


def ics_check_digits(country: str, national_id: str) -> str:
    """ISO 7064 MOD 97-10 check digits of a SEPA creditor id (business code excluded)."""
    digits = "".join(str(int(char, 36)) for char in compact(national_id + country) + "00")
    return f"{98 - int(digits) % 97:02d}"


def validate_ics(value: str) -> str:
    """French SEPA creditor id: FR + 2 check digits + 3-char business code + 6-char id."""
    ics = compact(value)
    if not ics:
        message = "L'identifiant créancier SEPA (ICS) est vide."
    elif not re.fullmatch(r"FR[0-9]{2}[A-Z0-9]{9}", ics):
        message = (
            "Identifiant créancier SEPA (ICS) invalide : format attendu FR, 2 chiffres, "
            "3 caractères puis 6 caractères (13 au total, ex. FR72ZZZ123456)."
        )
    elif ics[2:4] != ics_check_digits("FR", ics[7:]):
        message = "Identifiant créancier SEPA (ICS) invalide : la clé de contrôle est incorrecte."
    else:
        return ics
    raise DomainError(message, field="ics")


@dataclass(frozen=True)
class SepaMandate:
    iban: str
    bic: str
    rum: str  # "" while the mandate is being prepared
    signed_on: date | None  # None: not signed yet


_MANDATE_LABELS = {
    "iban": "IBAN",
    "bic": "BIC",
    "rum": "Réf mandat SEPA",
    "mandate_signed_on": "Date de signature mandat SEPA",
}


def _missing_fields(iban: str, bic: str, rum: str, signed_on: date | None) -> list[str]:
    texts = {"iban": iban, "bic": bic, "rum": rum}
    missing = [field for field, text in texts.items() if not (text or "").strip()]
    return missing + (["mandate_signed_on"] if signed_on is None else [])


def missing_mandate_fields(iban: str, bic: str, rum: str, signed_on: date | None) -> list[str]:
    """French labels of the missing mandate fields, in form order."""
    return [_MANDATE_LABELS[field] for field in _missing_fields(iban, bic, rum, signed_on)]


def mandate_is_complete(iban: str, bic: str, rum: str, signed_on: date | None) -> bool:
    """All four mandate fields are filled (validity is ``validate_sepa_fields``' job)."""
    return not _missing_fields(iban, bic, rum, signed_on)


def _sepa_errors(
    iban: str, bic: str, rum: str, signed_on: date | None, today: date
) -> tuple[SepaMandate | None, dict[str, str]]:
    """(mandate or None, field errors); nothing to check when all four are empty.

    A mandate being prepared (not signed yet: no date) needs its IBAN and BIC only: its
    RUM may come from « Générer le mandat SEPA » (domain.sepa), the form the customer
    signs. Once signed (a date), all four are required."""
    missing = _missing_fields(iban, bic, rum, signed_on)
    if len(missing) == len(_MANDATE_LABELS):
        return None, {}
    required = missing if signed_on is not None else [f for f in missing if f in ("iban", "bic")]
    errors = {f: f"Champ requis pour un mandat SEPA : {_MANDATE_LABELS[f]}." for f in required}
    clean: dict = {}
    checks = {
        "iban": lambda: validate_iban(iban),
        "bic": lambda: validate_bic(bic, clean.get("iban")),
        "rum": lambda: validate_rum(rum),
        "mandate_signed_on": lambda: validate_signature_date(signed_on, today),
    }
    for field, check in checks.items():
        if field not in missing:
            try:
                clean[field] = check()
            except DomainError as error:
                errors[field] = error.message
    if errors:
        return None, errors
    return SepaMandate(clean["iban"], clean["bic"], clean.get("rum", ""), clean.get("mandate_signed_on")), {}


def validate_sepa_fields(
    iban: str, bic: str, rum: str, signed_on: date | None, today: date
) -> SepaMandate | None:
    """None when all four are empty, else a validated mandate: IBAN and BIC go together;
    a signed mandate (a date) needs all four; one not signed yet may lack its RUM (given by
    « Générer le mandat SEPA »). Raises ``ValidationErrors`` listing every missing and
    every invalid field."""
    mandate, errors = _sepa_errors(iban, bic, rum, signed_on, today)
    if errors:
        raise ValidationErrors(errors)
    return mandate


# --- Company identifiers, e-mail, phone -----------------------------------------------------


def validate_siren(value: str) -> str:
    """SIREN: 9 digits with a Luhn key; returns the compact form."""
    number = fr_siren.compact(value or "")
    if not number:
        message = "Le SIREN est vide."
    elif number.isdigit() and len(number) == 14:
        message = "Saisissez le SIREN (9 chiffres) et non le SIRET (14 chiffres)."
    elif not (number.isascii() and number.isdigit()):
        message = "SIREN invalide : il ne doit contenir que des chiffres."
    elif len(number) != 9:
        message = f"SIREN invalide : il doit compter 9 chiffres (ici {len(number)})."
    elif not fr_siren.is_valid(number):
        message = "SIREN invalide : la clé de contrôle est incorrecte."
    else:
        return number
    raise DomainError(message, field="siren")


def validate_vat_number(value: str) -> str:
    """Intra-EU VAT number, compact and uppercase; French keys are checked against the SIREN."""
    number = compact(value).replace(".", "").replace("-", "")
    if not number:
        raise DomainError("Le numéro de TVA est vide.", field="vat_number")
    try:
        if number.startswith("FR"):
            return "FR" + fr_tva.validate(number)
        return eu_vat.validate(number)
    except nx.InvalidComponent:
        message = "Numéro de TVA invalide : il doit commencer par un code pays de l'UE (ex. FR)."
    except nx.InvalidLength:
        message = "Numéro de TVA invalide : la longueur est incorrecte."
    except nx.InvalidFormat:
        message = "Numéro de TVA invalide : le format est incorrect."
    except nx.ValidationError:
        message = "Numéro de TVA invalide : la clé de contrôle est incorrecte."
    raise DomainError(message, field="vat_number")


def validate_email(value: str) -> str:
    """Pragmatic e-mail check; returns the address with a lowercase domain."""
    email = (value or "").strip()
    local, _, domain = email.rpartition("@")
    labels = domain.split(".")
    if not email:
        message = "L'adresse e-mail est vide."
    elif len(email) > 254:
        message = "Adresse e-mail trop longue : 254 caractères maximum."
    elif any(char.isspace() for char in email):
        message = "Adresse e-mail invalide : elle ne doit pas contenir d'espace."
    elif email.count("@") != 1 or not local:
        message = "Adresse e-mail invalide : format attendu nom@domaine.fr."
    elif len(labels) < 2 or not all(labels):
        message = "Adresse e-mail invalide : le domaine doit être du type domaine.fr."
    else:
        return f"{local}@{domain.lower()}"
    raise DomainError(message, field="email")


def _validate_phone(value: str) -> str:
    phone = value.strip()
    if not re.fullmatch(r"[0-9 +.\-()]+", phone):
        message = "Téléphone invalide : seuls les chiffres, l'espace et + . - ( ) sont autorisés."
    elif not 6 <= sum(char.isdigit() for char in phone) <= 20:
        message = "Téléphone invalide : il doit compter de 6 à 20 chiffres."
    else:
        return phone
    raise DomainError(message, field="phone")


# --- Contact ----------------------------------------------------------------------------------

_KINDS = ("particulier", "entreprise")
_MAX_LENGTHS = {
    "company_name": (200, "La raison sociale"),
    "last_name": (200, "Le nom"),
    "first_name": (200, "Le prénom"),
    "address_line1": (200, "L'adresse"),
    "address_line2": (200, "Le complément d'adresse"),
    "postal_code": (20, "Le code postal"),
    "city": (100, "La ville"),
    "notes": (2000, "Le champ notes"),
}
_OPTIONAL_CHECKS = {
    "email": validate_email,
    "phone": _validate_phone,
    "siren": validate_siren,
    "vat_number": validate_vat_number,
}


@dataclass
class ContactInput:
    kind: str = ""  # "particulier" | "entreprise"
    company_name: str = ""
    last_name: str = ""
    first_name: str = ""
    email: str = ""
    phone: str = ""
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"
    siren: str = ""
    vat_number: str = ""
    notes: str = ""
    iban: str = ""
    bic: str = ""
    rum: str = ""
    mandate_signed_on: date | None = None
    mandate_type: str = "recurrent"  # « Récurrent » | « Ponctuel » (domain.sepa)


def validate_contact(data: ContactInput, today: date) -> ContactInput:
    """Return a cleaned copy of ``data`` or raise ``ValidationErrors`` with all field errors."""
    values = {
        f.name: (getattr(data, f.name) or "").strip()
        for f in dataclasses.fields(data)
        if f.name != "mandate_signed_on"
    }
    values["country"] = values["country"].upper() or "FR"
    errors: dict[str, str] = {}

    if values["kind"] not in _KINDS:
        errors["kind"] = "Le type de contact doit être « particulier » ou « entreprise »."
    elif values["kind"] == "entreprise" and not values["company_name"]:
        errors["company_name"] = "La raison sociale est obligatoire."
    elif values["kind"] == "particulier" and not values["last_name"]:
        errors["last_name"] = "Le nom est obligatoire."

    for field, (limit, label) in _MAX_LENGTHS.items():
        if len(values[field]) > limit:
            errors[field] = f"{label} ne doit pas dépasser {limit} caractères."
    if not re.fullmatch(r"[A-Z]{2}", values["country"]):
        errors["country"] = "Le pays doit être un code ISO à 2 lettres (ex. FR)."
    elif values["country"] == "FR" and values["postal_code"]:
        if not re.fullmatch(r"[0-9]{5}", values["postal_code"]):
            errors["postal_code"] = "Le code postal français doit compter 5 chiffres."

    for field, check in _OPTIONAL_CHECKS.items():
        if values[field]:
            try:
                values[field] = check(values[field])
            except DomainError as error:
                errors[field] = error.message
    siren, vat = values["siren"], values["vat_number"]
    if siren and vat.startswith("FR") and {"siren", "vat_number"}.isdisjoint(errors):
        if vat[4:] != siren:
            errors["vat_number"] = "Le numéro de TVA ne correspond pas au SIREN saisi."

    values["mandate_type"] = values["mandate_type"].lower() or "recurrent"
    if values["mandate_type"] not in ("recurrent", "ponctuel"):
        errors["mandate_type"] = "Le type de mandat SEPA doit être « Récurrent » ou « Ponctuel »."

    mandate, sepa_errors = _sepa_errors(
        values["iban"], values["bic"], values["rum"], data.mandate_signed_on, today
    )
    errors.update(sepa_errors)
    if errors:
        raise ValidationErrors(errors)
    if mandate is not None:
        values.update(iban=mandate.iban, bic=mandate.bic, rum=mandate.rum)
    return dataclasses.replace(data, **values)
