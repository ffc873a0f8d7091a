"""Tests for simple_erp.domain.documents: statuses, conversions, numbering,
due dates and legal mentions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from simple_erp.domain.documents import (
    ALLOWED_CONVERSIONS,
    DEFAULT_ESCOMPTE_TEXT,
    DEFAULT_NUMBER_PATTERN,
    DEFAULT_PREFIXES,
    FRANCHISE_TEXT,
    KIND_LABELS,
    PAYMENT_TERMS_LABELS,
    RECOVERY_INDEMNITY_TEXT,
    STATUS_LABELS,
    DocumentKind,
    DocumentStatus,
    PaymentTerms,
    avoir_reference_text,
    check_conversion,
    due_date,
    ensure_deletable,
    ensure_editable,
    format_number,
    late_penalty_text,
    validate_number,
    validate_number_pattern,
)
from simple_erp.domain.errors import DomainError

K = DocumentKind
S = DocumentStatus

# --- kinds, statuses, labels --------------------------------------------------


def test_kind_values_labels_prefixes():
    assert [k.value for k in K] == ["devis", "bon_de_commande", "facture", "bon_de_livraison", "avoir"]
    assert [KIND_LABELS[k] for k in K] == ["Devis", "Bon de commande", "Facture", "Bon de livraison", "Avoir"]
    assert [DEFAULT_PREFIXES[k] for k in K] == ["D", "BC", "F", "BL", "AV"]
    assert K("facture") is K.FACTURE and K.FACTURE == "facture"


def test_status_values_labels():
    assert (S.DRAFT.value, S.FINAL.value) == ("brouillon", "finalise")
    assert STATUS_LABELS == {S.DRAFT: "Brouillon", S.FINAL: "Finalisé"}


def test_ensure_editable():
    ensure_editable(S.DRAFT)
    ensure_editable("brouillon")
    with pytest.raises(DomainError) as excinfo:
        ensure_editable(S.FINAL)
    assert excinfo.value.message == (
        "Ce document est finalisé : il ne peut plus être modifié. "
        "Créez un avoir pour corriger une facture."
    )
    with pytest.raises(DomainError):
        ensure_editable("finalise")


@pytest.mark.parametrize("kind", list(K))
def test_drafts_deletable_finals_never(kind):
    ensure_deletable(kind, S.DRAFT)
    with pytest.raises(DomainError):
        ensure_deletable(kind, S.FINAL)


def test_final_invoice_message_points_to_avoir():
    with pytest.raises(DomainError) as excinfo:
        ensure_deletable("facture", "finalise")
    assert "avoir" in excinfo.value.message


# --- conversions --------------------------------------------------------------

ALLOWED = [
    (K.DEVIS, K.COMMANDE),
    (K.DEVIS, K.FACTURE),
    (K.COMMANDE, K.FACTURE),
    (K.COMMANDE, K.LIVRAISON),
    (K.FACTURE, K.LIVRAISON),
    (K.FACTURE, K.AVOIR),
]


def test_allowed_conversions_table():
    assert sorted((s.value, t.value) for s, targets in ALLOWED_CONVERSIONS.items() for t in targets) == sorted(
        (s.value, t.value) for s, t in ALLOWED
    )


@pytest.mark.parametrize(("src", "target"), [p for p in ALLOWED if p[1] is not K.AVOIR])
@pytest.mark.parametrize("status", list(S))
def test_allowed_conversions(src, target, status):
    check_conversion(src, status, target)


def test_avoir_only_from_final_invoice():
    check_conversion(K.FACTURE, S.FINAL, K.AVOIR)
    check_conversion("facture", "finalise", "avoir")
    with pytest.raises(DomainError) as excinfo:
        check_conversion(K.FACTURE, S.DRAFT, K.AVOIR)
    assert excinfo.value.message == "Un avoir ne peut être créé qu'à partir d'une facture finalisée."


FORBIDDEN = [(s, t) for s in K for t in K if (s, t) not in ALLOWED]


@pytest.mark.parametrize(("src", "target"), FORBIDDEN)
@pytest.mark.parametrize("status", list(S))
def test_forbidden_conversions(src, target, status):
    with pytest.raises(DomainError):
        check_conversion(src, status, target)


@pytest.mark.parametrize(
    ("src", "target", "message"),
    [
        (K.DEVIS, K.AVOIR, "Impossible de transformer un devis en avoir."),
        (K.LIVRAISON, K.FACTURE, "Impossible de transformer un bon de livraison en facture."),
        (K.FACTURE, K.DEVIS, "Impossible de transformer une facture en devis."),
        (K.AVOIR, K.FACTURE, "Impossible de transformer un avoir en facture."),
        (K.DEVIS, K.LIVRAISON, "Impossible de transformer un devis en bon de livraison."),
    ],
)
def test_forbidden_conversion_messages(src, target, message):
    with pytest.raises(DomainError) as excinfo:
        check_conversion(src, S.FINAL, target)
    assert excinfo.value.message == message


# --- numbering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "year", "seq", "prefix", "expected"),
    [
        (DEFAULT_NUMBER_PATTERN, 2026, 42, "F", "F-2026-00042"),
        ("{prefix}-{year}-{seq:05d}", 2026, 123456, "F", "F-2026-123456"),  # width is a minimum
        ("{prefix}{yy}{seq:04d}", 2026, 7, "AV", "AV260007"),
        ("{prefix}/{year}/{seq}", 2027, 3, "BL", "BL/2027/3"),
        ("FA_{yy}+{seq:03d}", 2009, 12, "X", "FA_09+012"),
        ("{seq}", 2026, 1, "D", "1"),
        ("{prefix}-{seq:01d}", 2026, 0, "BC", "BC-0"),
    ],
)
def test_format_number(pattern, year, seq, prefix, expected):
    assert format_number(pattern, year, seq, prefix) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "{prefix}-{year}-{seq:05d}",
        "{prefix}{yy}{seq:06d}",
        "{year}/{seq}",
        "FAC-{year}-{seq:09d}",
        "{prefix}_{yy}+{seq:03d}",
    ],
)
def test_validate_number_pattern_good(pattern):
    validate_number_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("{prefix}-{year}", "{seq}"),  # no sequence number
        ("", "{seq}"),
        ("{prefix}-{month}-{seq}", "{month}"),  # unknown placeholder
        ("{seq:5d}", "{seq:5d}"),  # only {seq:0Nd}
        ("{seq:05x}", "{seq:05x}"),
        ("{seq!r}", "{seq!r}"),
        ("{0}{seq}", "{0}"),
        ("{seq.__class__}", "{seq.__class__}"),  # no attribute access
        ("{}{seq}", "{}"),
        ("{prefix}-{seq", "accolade"),  # unbalanced brace
        ("{prefix}}-{seq}", "accolade"),
        ("{prefix} {year} {seq}", "caractères autorisés"),  # space not allowed
        ("Facturé-{year}-{seq}", "Facturé-2026-99999"),  # é not allowed, shown in example
        ("{prefix}.{seq}", "caractères autorisés"),
        ("{prefix}" + "-{year}" * 6 + "-{seq}", "35 caractères"),  # 2 + 6×5 + 6 = 38 chars
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ-{year}-{seq}", "35 caractères"),  # 26 + 5 + 6 = 37 chars
    ],
)
def test_validate_number_pattern_bad(pattern, fragment):
    with pytest.raises(DomainError) as excinfo:
        validate_number_pattern(pattern)
    assert excinfo.value.message.startswith("Modèle de numérotation invalide : ")
    assert fragment in excinfo.value.message
    assert excinfo.value.field == "number_pattern"


def test_pattern_length_limit_is_35():
    exactly_35 = "{prefix}-{year}-" + "X" * 22 + "{seq}"  # 3 + 5 + 22 + 5 = 35
    assert len(format_number(exactly_35, 2026, 99999, "AV")) == 35
    validate_number_pattern(exactly_35)
    with pytest.raises(DomainError):
        validate_number_pattern("{prefix}-{year}-" + "X" * 23 + "{seq}")  # 36


def test_format_number_rejects_unknown_placeholder_and_bad_args():
    with pytest.raises(DomainError):
        format_number("{prefix}-{secret}", 2026, 1, "F")
    with pytest.raises(ValueError):
        format_number(DEFAULT_NUMBER_PATTERN, 26, 1, "F")
    with pytest.raises(ValueError):
        format_number(DEFAULT_NUMBER_PATTERN, 2026, -1, "F")


@pytest.mark.parametrize("number", ["F-2026-00042", "AV260007", "BL/2027/3", "A+B_C-1", "X" * 35])
def test_validate_number_good(number):
    validate_number(number)


@pytest.mark.parametrize("number", ["", "X" * 36, "F 2026 1", "F-2026-é", "F.1", "F#1", "F-2026-00042\n"])
def test_validate_number_bad(number):
    with pytest.raises(DomainError) as excinfo:
        validate_number(number)
    assert excinfo.value.message.startswith("Numéro de document invalide : ")


# --- due dates ----------------------------------------------------------------

T = PaymentTerms


def test_terms_values_and_labels():
    assert [t.value for t in T] == [
        "a_reception", "30_jours_net", "45_jours_fin_de_mois", "30_jours_fin_de_mois", "60_jours_net",
    ]
    assert [PAYMENT_TERMS_LABELS[t] for t in T] == [
        "À réception", "30 jours net", "45 jours fin de mois", "30 jours fin de mois", "60 jours net",
    ]


@pytest.mark.parametrize(
    ("issue", "terms", "expected"),
    [
        (date(2026, 11, 28), T.RECEPTION, date(2026, 11, 28)),
        # 28/11 + 30 days: 2 left in Nov, 28 into Dec -> 28/12/2026
        (date(2026, 11, 28), T.NET_30, date(2026, 12, 28)),
        # 31/01/2026 + 30: Feb 2026 has 28 days -> 28/02 is +28, +2 -> 02/03/2026
        (date(2026, 1, 31), T.NET_30, date(2026, 3, 2)),
        # 2028 is leap: 31/01 + 29 = 29/02, +1 -> 01/03/2028
        (date(2028, 1, 31), T.NET_30, date(2028, 3, 1)),
        # 28/11 + 60: 2 (Nov) + 31 (Dec) = 33, +27 -> 27/01/2027
        (date(2026, 11, 28), T.NET_60, date(2027, 1, 27)),
        # 15/01/2026 + 30 = 14/02 -> end of Feb -> 28/02/2026
        (date(2026, 1, 15), T.EOM_30, date(2026, 2, 28)),
        # same in a leap year -> 29/02/2028
        (date(2028, 1, 15), T.EOM_30, date(2028, 2, 29)),
        # 2100 is not leap (century rule): 20/01 + 30 = 19/02 -> 28/02/2100
        (date(2100, 1, 20), T.EOM_30, date(2100, 2, 28)),
        # 2000 is leap (400 rule): 20/01 + 30 = 19/02 -> 29/02/2000
        (date(2000, 1, 20), T.EOM_30, date(2000, 2, 29)),
        # 31/12/2026 + 30 = 30/01/2027 -> 31/01/2027
        (date(2026, 12, 31), T.EOM_30, date(2027, 1, 31)),
        # 31/01/2026 + 30 = 02/03 -> 31/03/2026 (jumps over February)
        (date(2026, 1, 31), T.EOM_30, date(2026, 3, 31)),
        # 10/01/2026 + 45 = 24/02 -> 28/02/2026 ; leap 2024 -> 29/02/2024
        (date(2026, 1, 10), T.NET_45_EOM, date(2026, 2, 28)),
        (date(2024, 1, 10), T.NET_45_EOM, date(2024, 2, 29)),
        # 28/11/2026 + 45: 2 + 31 = 33, +12 -> 12/01/2027 -> 31/01/2027
        (date(2026, 11, 28), T.NET_45_EOM, date(2027, 1, 31)),
        # 16/03/2026 + 45: 15 (Mar) + 30 (Apr) -> 30/04 is already month end
        (date(2026, 3, 16), T.NET_45_EOM, date(2026, 4, 30)),
    ],
)
def test_due_date(issue, terms, expected):
    assert due_date(issue, terms) == expected
    assert due_date(issue, terms.value) == expected  # plain stored string works too


def test_due_date_unknown_terms():
    with pytest.raises(ValueError):
        due_date(date(2026, 1, 1), "90_jours")


# --- legal mentions -----------------------------------------------------------


def test_fixed_legal_texts():
    assert RECOVERY_INDEMNITY_TEXT == (
        "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €"
    )
    assert FRANCHISE_TEXT == "TVA non applicable, art. 293 B du CGI"
    assert DEFAULT_ESCOMPTE_TEXT == "Pas d'escompte pour paiement anticipé."


@pytest.mark.parametrize(("rate", "shown"), [("12.15", "12,15"), ("10", "10"), ("10.50", "10,5"), ("0", "0")])
def test_late_penalty_text(rate, shown):
    assert late_penalty_text(Decimal(rate)) == (
        "En cas de retard de paiement, des pénalités de retard sont exigibles "
        f"au taux annuel de {shown}\u00a0%."
    )


@pytest.mark.parametrize("rate", [Decimal(-1), Decimal("NaN"), 12.15, None])
def test_late_penalty_text_bad_rate(rate):
    with pytest.raises(DomainError):
        late_penalty_text(rate)


def test_avoir_reference_text():
    assert avoir_reference_text("F-2026-00042", date(2026, 11, 28)) == (
        "Avoir relatif à la facture n°\u00a0F-2026-00042 du 28/11/2026."
    )
