"""Commercial documents: kinds, statuses, conversions, numbering, due dates
and the legal mentions printed on them (French rules).

Stdlib only.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_decimal_fr

# --- kinds and statuses -------------------------------------------------------


class DocumentKind(str, Enum):
    DEVIS = "devis"
    COMMANDE = "bon_de_commande"
    FACTURE = "facture"
    LIVRAISON = "bon_de_livraison"
    AVOIR = "avoir"


KIND_LABELS: dict[DocumentKind, str] = {
    DocumentKind.DEVIS: "Devis",
    DocumentKind.COMMANDE: "Bon de commande",
    DocumentKind.FACTURE: "Facture",
    DocumentKind.LIVRAISON: "Bon de livraison",
    DocumentKind.AVOIR: "Avoir",
}

DEFAULT_PREFIXES: dict[DocumentKind, str] = {
    DocumentKind.DEVIS: "D",
    DocumentKind.COMMANDE: "BC",
    DocumentKind.FACTURE: "F",
    DocumentKind.LIVRAISON: "BL",
    DocumentKind.AVOIR: "AV",
}

# "un devis", "une facture"... for messages.
_WITH_ARTICLE: dict[DocumentKind, str] = {
    DocumentKind.DEVIS: "un devis",
    DocumentKind.COMMANDE: "un bon de commande",
    DocumentKind.FACTURE: "une facture",
    DocumentKind.LIVRAISON: "un bon de livraison",
    DocumentKind.AVOIR: "un avoir",
}


class DocumentStatus(str, Enum):
    DRAFT = "brouillon"
    FINAL = "finalise"


STATUS_LABELS: dict[DocumentStatus, str] = {
    DocumentStatus.DRAFT: "Brouillon",
    DocumentStatus.FINAL: "Finalisé",
}


def ensure_editable(status: DocumentStatus | str) -> None:
    """Only drafts can be changed."""
    if DocumentStatus(status) is DocumentStatus.FINAL:
        raise DomainError(
            "Ce document est finalisé : il ne peut plus être modifié. "
            "Créez un avoir pour corriger une facture."
        )


def ensure_deletable(kind: DocumentKind | str, status: DocumentStatus | str) -> None:
    """Drafts of any kind can be deleted; a finalised document never can
    (an invoice in particular: its number must stay in the sequence)."""
    if DocumentStatus(status) is not DocumentStatus.FINAL:
        return
    if DocumentKind(kind) is DocumentKind.FACTURE:
        raise DomainError(
            "Une facture finalisée ne peut pas être supprimée. Créez un avoir pour l'annuler."
        )
    raise DomainError("Ce document est finalisé : il ne peut pas être supprimé.")


# --- conversions --------------------------------------------------------------

ALLOWED_CONVERSIONS: dict[DocumentKind, tuple[DocumentKind, ...]] = {
    DocumentKind.DEVIS: (DocumentKind.COMMANDE, DocumentKind.FACTURE),
    DocumentKind.COMMANDE: (DocumentKind.FACTURE, DocumentKind.LIVRAISON),
    DocumentKind.FACTURE: (DocumentKind.LIVRAISON, DocumentKind.AVOIR),
}


def check_conversion(
    src_kind: DocumentKind | str,
    src_status: DocumentStatus | str,
    target_kind: DocumentKind | str,
) -> None:
    """Raise a French DomainError unless ``src`` may be turned into ``target``.
    An avoir can only be created from a finalised facture."""
    src, target = DocumentKind(src_kind), DocumentKind(target_kind)
    status = DocumentStatus(src_status)
    if target not in ALLOWED_CONVERSIONS.get(src, ()):
        raise DomainError(
            f"Impossible de transformer {_WITH_ARTICLE[src]} en "
            f"{KIND_LABELS[target].lower()}."
        )
    if target is DocumentKind.AVOIR and status is not DocumentStatus.FINAL:
        raise DomainError("Un avoir ne peut être créé qu'à partir d'une facture finalisée.")


# --- numbering ----------------------------------------------------------------

DEFAULT_NUMBER_PATTERN = "{prefix}-{year}-{seq:05d}"
NUMBER_MAX_LENGTH = 35
_NUMBER_CHARS = re.compile(r"[A-Za-z0-9+\-_/]+")
_TOKEN = re.compile(r"\{([^{}]*)\}|([{}])|([^{}]+)")
_SEQ_WIDTH = re.compile(r"seq:0([1-9])d")
_PLACEHOLDERS_HELP = "{prefix}, {year}, {yy}, {seq}, {seq:05d}"
_BAD_PATTERN = "Modèle de numérotation invalide : "


def _render(pattern: str, year: int, seq: int, prefix: str) -> str:
    """Tiny safe formatter: only {prefix} {year} {yy} {seq} {seq:0Nd} (N 1-9)."""
    out: list[str] = []
    for m in _TOKEN.finditer(pattern):
        name, stray, literal = m.groups()
        if literal is not None:
            out.append(literal)
        elif stray is not None:
            raise DomainError(f"{_BAD_PATTERN}accolade « {stray} » isolée.", "number_pattern")
        elif name == "prefix":
            out.append(prefix)
        elif name == "year":
            out.append(f"{year:04d}")
        elif name == "yy":
            out.append(f"{year % 100:02d}")
        elif name == "seq":
            out.append(str(seq))
        elif (width := _SEQ_WIDTH.fullmatch(name)) is not None:
            out.append(str(seq).zfill(int(width.group(1))))
        else:
            raise DomainError(
                f"{_BAD_PATTERN}le champ « {{{name}}} » est inconnu "
                f"(champs possibles : {_PLACEHOLDERS_HELP}).",
                "number_pattern",
            )
    return "".join(out)


def format_number(pattern: str, year: int, seq: int, prefix: str) -> str:
    """format_number("{prefix}-{year}-{seq:05d}", 2026, 42, "F") -> "F-2026-00042"."""
    if not 1000 <= year <= 9999:
        raise ValueError("year must have 4 digits")
    if seq < 0:
        raise ValueError("seq must be >= 0")
    return _render(pattern, year, seq, prefix)


def _number_problem(number: str) -> str | None:
    if not number:
        return "il est vide"
    if len(number) > NUMBER_MAX_LENGTH:
        return f"{NUMBER_MAX_LENGTH} caractères au maximum"
    if not _NUMBER_CHARS.fullmatch(number):
        return "caractères autorisés : lettres sans accent, chiffres et + - _ /"
    return None


def validate_number(number: str) -> None:
    """A document number: 1 to 35 characters among A-Z a-z 0-9 + - _ /
    (the e-invoicing rule for invoice numbers)."""
    problem = _number_problem(number)
    if problem is not None:
        raise DomainError(f"Numéro de document invalide : {problem}.", "number")


def validate_number_pattern(pattern: str) -> None:
    """Refuse unknown placeholders, a pattern without {seq}, and patterns whose
    sample number (year 2026, seq 99999, prefix "AV") breaks ``validate_number``."""
    names = [m.group(1) for m in _TOKEN.finditer(pattern) if m.group(1) is not None]
    sample = _render(pattern, 2026, 99999, "AV")  # raises on unknown placeholders
    if not any(n == "seq" or _SEQ_WIDTH.fullmatch(n) for n in names):
        message = f"{_BAD_PATTERN}il doit contenir {{seq}} (numéro d'ordre)."
        raise DomainError(message, "number_pattern")
    problem = _number_problem(sample)
    if problem is not None:
        raise DomainError(f"{_BAD_PATTERN}{problem} (exemple : « {sample} »).", "number_pattern")


# --- payment terms and due dates ---------------------------------------------


class PaymentTerms(str, Enum):
    RECEPTION = "a_reception"
    NET_30 = "30_jours_net"
    NET_45_EOM = "45_jours_fin_de_mois"
    EOM_30 = "30_jours_fin_de_mois"
    NET_60 = "60_jours_net"


PAYMENT_TERMS_LABELS: dict[PaymentTerms, str] = {
    PaymentTerms.RECEPTION: "À réception",
    PaymentTerms.NET_30: "30 jours net",
    PaymentTerms.NET_45_EOM: "45 jours fin de mois",
    PaymentTerms.EOM_30: "30 jours fin de mois",
    PaymentTerms.NET_60: "60 jours net",
}

# terms -> (days to add, then go to the end of that month?)
_TERMS_RULES: dict[PaymentTerms, tuple[int, bool]] = {
    PaymentTerms.RECEPTION: (0, False),
    PaymentTerms.NET_30: (30, False),
    PaymentTerms.NET_45_EOM: (45, True),
    PaymentTerms.EOM_30: (30, True),
    PaymentTerms.NET_60: (60, False),
}


def _end_of_month(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def due_date(issue: date, terms: PaymentTerms | str) -> date:
    """Payment due date.

    "N jours net": issue date + N days.
    "N jours fin de mois": issue date + N days, then the last day of that month
    (the common French reading: 15/01/2026 + 30 j = 14/02 -> 28/02/2026). The
    other reading ("end of the issue month, then + N days") is not used.
    """
    days, end_of_month = _TERMS_RULES[PaymentTerms(terms)]
    result = issue + timedelta(days=days)
    return _end_of_month(result) if end_of_month else result


# --- legal mentions -----------------------------------------------------------

RECOVERY_INDEMNITY_TEXT = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €"
)
FRANCHISE_TEXT = "TVA non applicable, art. 293 B du CGI"
DEFAULT_ESCOMPTE_TEXT = "Pas d'escompte pour paiement anticipé."


def late_penalty_text(rate: Decimal) -> str:
    """Late-payment penalty mention (art. L441-10 du Code de commerce);
    ``rate`` is an annual percentage, e.g. Decimal("12.15")."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
        raise DomainError("Taux des pénalités de retard invalide.", "late_penalty_rate")
    return (
        "En cas de retard de paiement, des pénalités de retard sont exigibles "
        f"au taux annuel de {format_decimal_fr(rate, None)}\u00a0%."
    )


def avoir_reference_text(invoice_number: str, invoice_date: date) -> str:
    """Mention printed on an avoir: the invoice it corrects."""
    return (
        f"Avoir relatif à la facture n°\u00a0{invoice_number} "
        f"du {format_date_fr(invoice_date)}."
    )
