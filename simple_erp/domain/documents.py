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
from simple_erp.domain.money import format_date_fr, format_decimal_fr, format_eur

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


# --- overlapping numbering patterns --------------------------------------------
#
# Numbers are unique per company across kinds, so two kinds' patterns must never be able
# to produce the same number. Each pattern (its {prefix} replaced by the kind's prefix)
# is read as the regular language of the numbers it can produce, for any year (1000-9999)
# and any sequence number >= 1:
#   {year} -> [1-9][0-9]{3}, {yy} -> [0-9]{2}, {seq} -> [1-9][0-9]*,
#   {seq:0Nd} -> N digits not all 0, or [1-9] followed by N digits or more;
# two patterns overlap when the intersection of their languages is not empty (checked
# exactly on the product of their automata). The year of two documents may differ, and
# a field repeated in one pattern is read as independent: this can only find more
# overlaps, never fewer, so an accepted pair can never produce the same number.

_DIGITS = frozenset("0123456789")
_NONZERO = frozenset("123456789")
_ZERO = frozenset("0")


class _Automaton:
    """A small NFA: transitions labelled by a set of characters, or None (epsilon)."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[frozenset[str] | None, int]]] = [[]]
        self.end = 0

    def state(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def edge(self, src: int, label: frozenset[str] | None, dst: int) -> None:
        self.edges[src].append((label, dst))

    def chain(self, src: int, labels: list[frozenset[str]]) -> int:
        for label in labels:
            nxt = self.state()
            self.edge(src, label, nxt)
            src = nxt
        return src

    def padded_seq(self, src: int, width: int) -> int:
        """str(seq).zfill(width) for seq >= 1."""
        end = self.state()
        # exactly ``width`` digits, not all zeros: states (position, seen a non-zero digit)
        layer = {False: src, True: None}
        for _ in range(width):
            nxt = {False: self.state(), True: self.state()}
            for seen, state in layer.items():
                if state is None:
                    continue
                self.edge(state, _ZERO, nxt[seen])
                self.edge(state, _NONZERO, nxt[True])
            layer = nxt
        self.edge(layer[True], None, end)
        # more than ``width`` digits: no leading zero
        longer = self.chain(src, [_NONZERO] + [_DIGITS] * width)
        self.edge(longer, _DIGITS, longer)
        self.edge(longer, None, end)
        return end


def _automaton(pattern: str, prefix: str) -> _Automaton:
    nfa = _Automaton()
    current = 0
    for m in _TOKEN.finditer(pattern):
        name, stray, literal = m.groups()
        if literal is not None or name == "prefix":
            text = literal if literal is not None else prefix
            current = nfa.chain(current, [frozenset(c) for c in text])
        elif name == "year":
            current = nfa.chain(current, [_NONZERO, _DIGITS, _DIGITS, _DIGITS])
        elif name == "yy":
            current = nfa.chain(current, [_DIGITS, _DIGITS])
        elif name == "seq":
            current = nfa.padded_seq(current, 1)
        elif name is not None and (width := _SEQ_WIDTH.fullmatch(name)) is not None:
            current = nfa.padded_seq(current, int(width.group(1)))
        else:  # a pattern that validate_number_pattern refuses
            _render(pattern, 2026, 1, prefix)
            raise DomainError(f"{_BAD_PATTERN}{pattern}", "number_pattern")
    nfa.end = current
    return nfa


def _closure(nfa: _Automaton, states: set[int]) -> frozenset[int]:
    todo, seen = list(states), set(states)
    while todo:
        for label, dst in nfa.edges[todo.pop()]:
            if label is None and dst not in seen:
                seen.add(dst)
                todo.append(dst)
    return frozenset(seen)


def patterns_overlap(pattern_a: str, prefix_a: str, pattern_b: str, prefix_b: str) -> bool:
    """Can the two patterns (with their kinds' prefixes) ever produce the same number?"""
    a, b = _automaton(pattern_a, prefix_a), _automaton(pattern_b, prefix_b)
    start = (_closure(a, {0}), _closure(b, {0}))
    todo, seen = [start], {start}
    while todo:
        states_a, states_b = todo.pop()
        if a.end in states_a and b.end in states_b:
            return True
        moves: dict[frozenset[str], tuple[set[int], set[int]]] = {}
        for sa in states_a:
            for label_a, dst_a in a.edges[sa]:
                if label_a is None:
                    continue
                for sb in states_b:
                    for label_b, dst_b in b.edges[sb]:
                        if label_b is None:
                            continue
                        for char in label_a & label_b:
                            key = frozenset(char)
                            pair = moves.setdefault(key, (set(), set()))
                            pair[0].add(dst_a)
                            pair[1].add(dst_b)
        for targets_a, targets_b in moves.values():
            nxt = (_closure(a, targets_a), _closure(b, targets_b))
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def check_patterns_disjoint(patterns: dict[str, str]) -> dict[str, str]:
    """``patterns``: kind value -> pattern, for every kind of one company. Returns the kinds
    whose pattern can produce a number of another kind, each with a French message
    (empty: all disjoint)."""
    errors: dict[str, str] = {}
    kinds = [DocumentKind(k) for k in patterns]
    for i, kind in enumerate(kinds):
        for other in kinds[i + 1:]:
            if patterns_overlap(patterns[kind.value], DEFAULT_PREFIXES[kind],
                                patterns[other.value], DEFAULT_PREFIXES[other]):
                for this, that in ((kind, other), (other, kind)):
                    errors.setdefault(this.value, (
                        f"{_BAD_PATTERN}il peut produire les mêmes numéros que celui des "
                        f"{KIND_PLURALS[that]} (« {patterns[that.value]} »). Un numéro ne doit "
                        "servir qu'une fois, tous types confondus : changez le préfixe de l'un des deux."
                    ))
    return errors


KIND_PLURALS: dict[DocumentKind, str] = {
    DocumentKind.DEVIS: "devis",
    DocumentKind.COMMANDE: "bons de commande",
    DocumentKind.FACTURE: "factures",
    DocumentKind.LIVRAISON: "bons de livraison",
    DocumentKind.AVOIR: "avoirs",
}


# --- finalisation: issue date, avoir cap -----------------------------------------


def check_issue_date_not_future(issue: date, today: date) -> None:
    """A document cannot be finalised with an issue date after today: the chronology
    check of the following invoices would be poisoned by it."""
    if issue > today:
        raise DomainError(
            f"La date d'émission ({format_date_fr(issue)}) est dans le futur : un document ne peut "
            f"pas être finalisé avec une date postérieure à aujourd'hui ({format_date_fr(today)}). "
            "Changez la date d'émission.",
            "issue_date",
        )


CREDIT_OVER_REMAINING_CONFIRMATION = "Je confirme un avoir supérieur au montant restant de la facture"


def credit_note_excess(invoice_ttc: Decimal, credited_ttc: Decimal, avoir_ttc: Decimal) -> Decimal:
    """How much an avoir of ``avoir_ttc`` (positive) goes beyond what the invoice still
    carries: its total TTC minus ``credited_ttc`` (positive sum of the avoirs already
    finalised on it). 0 when within."""
    remaining = max(invoice_ttc - credited_ttc, Decimal("0.00"))
    return max(abs(avoir_ttc) - remaining, Decimal("0.00"))


def check_credit_note_cap(
    invoice_number: str, invoice_ttc: Decimal, credited_ttc: Decimal, avoir_ttc: Decimal, confirmed: bool
) -> None:
    """Refuse an avoir above what the invoice still carries, unless explicitly confirmed."""
    if confirmed or credit_note_excess(invoice_ttc, credited_ttc, avoir_ttc) == 0:
        return
    remaining = max(invoice_ttc - credited_ttc, Decimal("0.00"))
    raise DomainError(
        f"Cet avoir ({format_eur(abs(avoir_ttc))}) dépasse le montant restant de la facture "
        f"{invoice_number} ({format_eur(remaining)} : {format_eur(invoice_ttc)} moins "
        f"{format_eur(credited_ttc)} d'avoirs déjà finalisés). Pour le finaliser quand même, cochez "
        f"« {CREDIT_OVER_REMAINING_CONFIRMATION} ».",
        "confirm_over_credit",
    )


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
