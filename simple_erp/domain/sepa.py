"""SEPA direct-debit mandates: the rules, without a database.

* **RUM** (référence unique de mandat) generated from a pattern set per company. The
  default, ``RUM-{year}-{seq:06d}`` (``RUM-2026-000001``), reads like the invoice numbers a
  French SME already knows. Placeholders: ``{year}`` (2026), ``{yy}`` (26), ``{contact}``
  (the contact's number, e.g. ``{contact:06d}`` → ``000042``) and ``{seq}`` (required: the
  next free number for what the rest of the pattern gives, ``{seq:06d}`` → ``000001``).
  A RUM uses only the SEPA character set (a-z A-Z 0-9 / - ? : ( ) . , ' + space), never
  starts or ends with « / » nor holds « // », and has 35 characters at most; it is unique
  (the database's unique constraint on ``contact.rum``).
* **ICS** (identifiant créancier SEPA): ``FRkk ZZZ nnnnnn``; the check digits ``kk`` are
  ISO 7064 MOD 97-10 computed like an IBAN's over the national identifier and the country
  code, the 3-character business code left out (``contact_rules.ics_check_digits``).
* **IBAN** of the debtor: valid (python-stdnum) and from a country of the SEPA schemes.
* **Mandate type**: « Récurrent » (``recurrent``) or « Ponctuel » (``ponctuel``).

Messages are French; every refusal is a ``DomainError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum import iban as std_iban

from simple_erp.domain.contact_rules import compact, ics_check_digits, validate_ics
from simple_erp.domain.errors import DomainError

__all__ = [
    "DEFAULT_RUM_PATTERN", "MANDATE_ONE_OFF", "MANDATE_RECURRENT", "MANDATE_TYPES", "RUM_MAX_LENGTH",
    "SEPA_COUNTRIES", "check_rum_text", "check_sepa_iban", "ics_check_digits", "is_sepa_rum",
    "mandate_type_label", "next_rum", "render_rum", "rum_prefix", "rum_seq", "validate_creditor_id",
    "validate_ics", "validate_mandate_type", "validate_rum_pattern",
]

RUM_MAX_LENGTH = 35
DEFAULT_RUM_PATTERN = "RUM-{year}-{seq:06d}"
RUM_PATTERN_MAX_LENGTH = 60

MANDATE_RECURRENT, MANDATE_ONE_OFF = "recurrent", "ponctuel"
MANDATE_TYPES = {MANDATE_RECURRENT: "Récurrent", MANDATE_ONE_OFF: "Ponctuel"}

# Countries and territories of the SEPA schemes (EPC409-09, « EPC list of countries and
# territories included in the SEPA schemes' geographical scope »), by IBAN prefix.
SEPA_COUNTRIES = frozenset({
    # European Union
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    # EEA, Switzerland, the United Kingdom and the other participating countries
    "IS", "LI", "NO", "CH", "GB", "MC", "SM", "VA", "AD", "AL", "MD", "ME", "MK",
    # territories with their own IBAN prefix
    "GI", "GG", "JE", "IM", "AX", "GF", "GP", "MQ", "RE", "YT", "BL", "MF", "PM",
})

_SEPA_TEXT = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
_PLACEHOLDER = re.compile(r"\{(year|yy|contact|seq)(?::(0?[1-9]|0?1[0-2])?d)?\}")
_ANY_BRACE = re.compile(r"[{}]")
_ALLOWED = "lettres sans accent, chiffres, espace et / - ? : ( ) . , ' +"


# --- RUM ----------------------------------------------------------------------------------


def check_rum_text(rum: str) -> str:
    """A generated RUM as the EPC rulebook wants it, or a French refusal."""
    if not rum or not rum.strip():
        message = "La référence du mandat SEPA (RUM) est vide."
    elif len(rum) > RUM_MAX_LENGTH:
        message = (f"Référence de mandat SEPA (RUM) trop longue : {len(rum)} caractères, "
                   f"{RUM_MAX_LENGTH} maximum (raccourcissez le modèle de RUM).")
    elif not _SEPA_TEXT.fullmatch(rum):
        message = f"Référence de mandat SEPA (RUM) invalide : seuls les {_ALLOWED} sont autorisés."
    elif rum != rum.strip():
        message = "Référence de mandat SEPA (RUM) invalide : pas d'espace au début ni à la fin."
    elif rum.startswith("/") or rum.endswith("/") or "//" in rum:
        message = ("Référence de mandat SEPA (RUM) invalide : elle ne peut ni commencer ni finir "
                   "par « / », ni contenir « // ».")
    else:
        return rum
    raise DomainError(message, field="rum")


def is_sepa_rum(rum: str) -> bool:
    try:
        check_rum_text(rum)
    except DomainError:
        return False
    return True


def _parts(pattern: str) -> list[tuple[str, str, int]]:
    """The pattern as (literal, "", 0) and (placeholder name, "", width) pieces."""
    pieces, position = [], 0
    for match in _PLACEHOLDER.finditer(pattern):
        if match.start() > position:
            pieces.append((pattern[position:match.start()], "", 0))
        spec = match.group(0)
        width = int(re.search(r":0?(\d+)d", spec).group(1)) if re.search(r":0?(\d+)d", spec) else 0
        pieces.append(("", match.group(1), width))
        position = match.end()
    if position < len(pattern):
        pieces.append((pattern[position:], "", 0))
    return pieces


def _value(name: str, width: int, year: int, contact_id: int, seq: int) -> str:
    number = {"year": year, "yy": year % 100, "contact": contact_id, "seq": seq}[name]
    if name == "yy":
        width = max(width, 2)
    return f"{number:0{width}d}" if width else str(number)


def validate_rum_pattern(pattern: str) -> str:
    """The company's RUM pattern (empty → the default), or a French refusal naming the fault."""
    text = (pattern or "").strip() or DEFAULT_RUM_PATTERN
    field = "rum_pattern"
    if len(text) > RUM_PATTERN_MAX_LENGTH:
        raise DomainError(f"Le modèle de RUM ne doit pas dépasser {RUM_PATTERN_MAX_LENGTH} caractères.", field)
    literal = _PLACEHOLDER.sub("", text)
    if _ANY_BRACE.search(literal):
        raise DomainError("Modèle de RUM invalide : seuls {year}, {yy}, {contact} et {seq} sont reconnus "
                          "(avec une largeur facultative, ex. {seq:06d}).", field)
    if not _SEPA_TEXT.fullmatch(literal):
        raise DomainError(f"Modèle de RUM invalide : en dehors des repères, seuls les {_ALLOWED} sont "
                          "autorisés.", field)
    names = [name for _lit, name, _w in _parts(text) if name]
    if names.count("seq") != 1:
        raise DomainError("Le modèle de RUM doit contenir {seq} une fois (le numéro qui rend chaque RUM unique).",
                          field)
    try:  # the longest RUM it can give for a realistic contact number and counter
        check_rum_text(render_rum(text, 2099, 9_999_999, 999_999))
    except DomainError as exc:
        raise DomainError(f"Modèle de RUM invalide : {exc.message[0].lower()}{exc.message[1:]}", field) from None
    return text


def render_rum(pattern: str, year: int, contact_id: int, seq: int) -> str:
    """The pattern with its placeholders filled (not checked: see ``next_rum``)."""
    return "".join(literal or _value(name, width, year, contact_id, seq)
                   for literal, name, width in _parts(pattern))


def rum_prefix(pattern: str, year: int, contact_id: int) -> str:
    """What every RUM of this pattern, year and contact starts with (up to {seq})."""
    out = []
    for literal, name, width in _parts(pattern):
        if name == "seq":
            break
        out.append(literal or _value(name, width, year, contact_id, 0))
    return "".join(out)


def rum_seq(pattern: str, year: int, contact_id: int, rum: str) -> int | None:
    """The {seq} number of ``rum`` when this pattern, year and contact gave it, else None."""
    regex = []
    for literal, name, width in _parts(pattern):
        if name == "seq":
            regex.append(r"(\d+)")
        else:
            regex.append(re.escape(literal or _value(name, width, year, contact_id, 0)))
    match = re.fullmatch("".join(regex), rum or "")
    return int(match.group(1)) if match else None


def next_rum(pattern: str, year: int, contact_id: int, taken, start: int = 1, attempts: int = 1000) -> str:
    """The first RUM from ``start`` on that ``taken(rum)`` says is free; checked (character
    set, 35 characters). ``taken`` is any callable (a set's ``__contains__``…)."""
    text = validate_rum_pattern(pattern)
    seq = max(1, start)
    for _ in range(attempts):
        rum = check_rum_text(render_rum(text, year, contact_id, seq))
        if not taken(rum):
            return rum
        seq += 1
    raise DomainError("Impossible de trouver une référence de mandat (RUM) libre : vérifiez le modèle de RUM.",
                      field="rum")


# --- ICS, IBAN, mandate type ------------------------------------------------------------------


def validate_creditor_id(value: str) -> str:
    """A SEPA creditor identifier of any SEPA country (8 to 35 characters: country, check
    digits, business code, national id); a French one must be a well-formed ICS."""
    ics = compact(value)
    if ics.startswith("FR"):
        return validate_ics(ics)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", ics) or ics[:2] not in SEPA_COUNTRIES:
        raise DomainError("Identifiant créancier SEPA invalide : format attendu code pays, 2 chiffres, "
                          "3 caractères puis l'identifiant national.", field="ics")
    if ics[2:4] != ics_check_digits(ics[:2], ics[7:]):
        raise DomainError("Identifiant créancier SEPA invalide : la clé de contrôle est incorrecte.", field="ics")
    return ics


def check_sepa_iban(value: str) -> str:
    """The compact IBAN when it is valid (python-stdnum) and in the SEPA zone."""
    iban = compact(value)
    if not iban:
        raise DomainError("Aucun IBAN n'est enregistré pour ce débiteur.", field="iban")
    if not std_iban.is_valid(iban):
        raise DomainError("L'IBAN du débiteur est invalide.", field="iban")
    if iban[:2] not in SEPA_COUNTRIES:
        raise DomainError(f"L'IBAN du débiteur ({iban[:2]}) n'appartient pas à la zone SEPA : "
                          "il ne peut pas être prélevé.", field="iban")
    return iban


def validate_mandate_type(value: str) -> str:
    kind = (value or "").strip().lower() or MANDATE_RECURRENT
    if kind not in MANDATE_TYPES:
        raise DomainError("Le type de mandat SEPA doit être « Récurrent » ou « Ponctuel ».", field="mandate_type")
    return kind


def mandate_type_label(value: str) -> str:
    return MANDATE_TYPES.get((value or "").strip().lower() or MANDATE_RECURRENT, "Récurrent")


# --- the form -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MandateParty:
    name: str
    address_lines: tuple[str, ...]


@dataclass(frozen=True)
class MandateForm:
    """What the printed mandate shows: checked by ``mandate_form``."""

    rum: str
    creditor: MandateParty
    ics: str
    debtor: MandateParty
    iban: str  # compact, full: printed on the form the debtor signs
    bic: str
    mandate_type: str  # recurrent | ponctuel
    place: str  # « Fait à »: the debtor's city (the debtor may change it)
    signed_on: date | None


def _address(line1: str, line2: str, postal_code: str, city: str, country: str) -> tuple[str, ...]:
    town = " ".join(x for x in ((postal_code or "").strip(), (city or "").strip()) if x)
    lines = [(line1 or "").strip(), (line2 or "").strip(), town]
    if (country or "FR").upper() != "FR":
        lines.append(country.upper())
    return tuple(x for x in lines if x)


def mandate_form(*, rum: str, creditor_name: str, creditor_address: tuple[str, str, str, str, str], ics: str,
                 debtor_name: str, debtor_address: tuple[str, str, str, str, str], iban: str, bic: str,
                 mandate_type: str, signed_on: date | None) -> MandateForm:
    """Check everything the form needs, with one French message for the first gap."""
    if not (creditor_name or "").strip():
        raise DomainError("La société émettrice n'a pas de raison sociale : complétez Admin ERP → "
                          "« 1. Société émettrice ».")
    line1, _line2, postal_code, city, _country = creditor_address
    if not ((line1 or "").strip() and (postal_code or "").strip() and (city or "").strip()):
        raise DomainError("L'adresse de la société émettrice est incomplète (adresse, code postal, ville) : "
                          "complétez Admin ERP → « 1. Société émettrice ».", field="address_line1")
    if not compact(ics):
        raise DomainError("La société émettrice n'a pas d'identifiant créancier SEPA (ICS) : saisissez-le dans "
                          "Admin ERP → « 1. Société émettrice ».", field="ics")
    try:
        clean_ics = validate_ics(ics)
    except DomainError as exc:
        raise DomainError(f"{exc.message} Corrigez-le dans Admin ERP → « 1. Société émettrice ».",
                          field="ics") from None
    clean_iban = check_sepa_iban(iban)
    if not (bic or "").strip():
        raise DomainError("Le BIC du débiteur est manquant : complétez le mandat SEPA de la fiche contact.",
                          field="bic")
    if not (debtor_name or "").strip():
        raise DomainError("Le nom du débiteur est manquant.", field="last_name")
    return MandateForm(
        rum=check_rum_text(rum), creditor=MandateParty(creditor_name.strip(), _address(*creditor_address)),
        ics=clean_ics, debtor=MandateParty(debtor_name.strip(), _address(*debtor_address)), iban=clean_iban,
        bic=compact(bic), mandate_type=validate_mandate_type(mandate_type),
        place=(debtor_address[3] or "").strip(), signed_on=signed_on,
    )


# The debtor's rights, as the French banks' standard mandate words them (EPC rulebook,
# ordonnance 2009-866 / Code monétaire et financier L133-25 and L133-24).
MANDATE_AUTHORISATION = (
    "En signant ce formulaire de mandat, vous autorisez {creditor} à envoyer des instructions à votre "
    "banque pour débiter votre compte, et votre banque à débiter votre compte conformément aux "
    "instructions de {creditor}."
)
MANDATE_RIGHTS = (
    "Vous bénéficiez du droit d'être remboursé par votre banque selon les conditions décrites dans la "
    "convention que vous avez passée avec elle. Une demande de remboursement doit être présentée dans "
    "les 8 semaines suivant la date de débit de votre compte pour un prélèvement autorisé, et au plus "
    "tard dans les 13 mois en cas de prélèvement non autorisé."
)
MANDATE_INFO = (
    "Vos droits concernant le présent mandat sont expliqués dans un document que vous pouvez obtenir "
    "auprès de votre banque. Les informations contenues dans le présent mandat, qui doit être complété, "
    "sont destinées à n'être utilisées par le créancier que pour la gestion de sa relation avec son "
    "client. Elles pourront donner lieu à l'exercice, par ce dernier, de ses droits d'accès, de "
    "rectification et d'opposition dans les conditions prévues par la réglementation relative à la "
    "protection des données personnelles."
)
