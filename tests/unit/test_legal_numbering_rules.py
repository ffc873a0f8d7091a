"""Rules of legal numbering: overlapping numbering patterns, no issue date in the future,
the cap on avoirs, the canonical content hash."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal

import pytest

from simple_erp.domain.content_hash import FrozenDocument, FrozenLine, content_sha256, logo_sha256
from simple_erp.domain.documents import (
    DEFAULT_NUMBER_PATTERN,
    DocumentKind,
    check_credit_note_cap,
    check_issue_date_not_future,
    check_patterns_disjoint,
    credit_note_excess,
    format_number,
    patterns_overlap,
)
from simple_erp.domain.errors import DomainError

D = DEFAULT_NUMBER_PATTERN


# --- overlapping patterns -----------------------------------------------------------------------


@pytest.mark.parametrize("a, prefix_a, b, prefix_b, overlap", [
    ("AV-{year}-{seq:05d}", "F", D, "AV", True),  # the audit's case: an invoice numbered like the avoirs
    (D, "F", D, "AV", False),  # the defaults: different prefixes
    (D, "F", D, "D", False),
    ("F-{year}-{seq:05d}", "F", "F-{year}-{seq:06d}", "D", True),  # 123456 fits both widths
    ("F-{year}-{seq:05d}", "F", "F-{year}-1{seq:05d}", "D", True),  # F-2026-100001 from both
    ("F-{year}-{seq:05d}", "F", "F-{year}-0{seq:04d}", "D", True),  # F-2026-00001 from both
    ("F-{year}-{seq:05d}", "F", "F-{yy}-{seq:05d}", "D", False),  # 4 digits then '-' vs 2 digits then '-'
    ("F{year}{seq}", "F", "F{yy}{seq}", "D", True),  # F20261 (2026, 1) = F + 20 + 261
    ("F{seq}-{year}", "F", "F0{seq}-{year}", "D", False),  # {seq} never starts with 0
    ("F{yy}-{seq:03d}", "F", "F{yy}-0{seq:02d}", "D", True),  # F26-001
    ("F{yy}-{seq:03d}", "F", "F{yy}-00{seq:02d}", "D", False),  # 0001..0099 vs 001..999, 1000..: lengths differ
    ("{prefix}{yy}{seq:04d}", "F", "{prefix}{yy}{seq:04d}", "FA", False),  # a digit after F, a letter after FA
    ("{prefix}{seq}-{yy}", "A", "{prefix}{seq}-{yy}", "AV", False),
    ("{prefix}-{seq}-{yy}", "F", "F-{seq}-{yy}", "D", True),
])
def test_patterns_overlap(a, prefix_a, b, prefix_b, overlap):
    assert patterns_overlap(a, prefix_a, b, prefix_b) is overlap
    assert patterns_overlap(b, prefix_b, a, prefix_a) is overlap


def _numbers(pattern: str, prefix: str) -> set[str]:
    return {format_number(pattern, year, seq, prefix)
            for year in (1999, 2000, 2026, 2099, 2100) for seq in itertools.chain(range(1, 130), (999, 1000, 10001, 123456))}


@pytest.mark.parametrize("a, b", list(itertools.combinations([
    "F-{year}-{seq:05d}", "F-{year}-{seq}", "F{yy}{seq:03d}", "F{year}{seq}", "F{yy}-{seq:02d}", "F-{yy}-{seq}",
    "F{yy}{seq:04d}", "F1{yy}{seq:02d}", "F{seq}{yy}", "F{year}-0{seq:02d}",
], 2)))
def test_disjoint_patterns_never_share_a_sample_number(a, b):
    """Soundness against brute force: when the check says « disjoint », no sample clashes."""
    if not patterns_overlap(a, "F", b, "F"):
        assert not _numbers(a, "F") & _numbers(b, "F")


def test_a_found_overlap_is_real_for_the_simple_cases():
    assert _numbers("F-{year}-{seq:05d}", "F") & _numbers("F-{year}-0{seq:04d}", "F")
    assert format_number("F{year}{seq}", 2026, 1, "F") == format_number("F{yy}{seq}", 2020, 261, "F") == "F20261"


def test_check_patterns_disjoint_names_both_kinds_in_french():
    patterns = {k.value: D for k in DocumentKind} | {"facture": "AV-{year}-{seq:05d}"}
    errors = check_patterns_disjoint(patterns)
    assert set(errors) == {"facture", "avoir"}
    assert errors["facture"] == (
        "Modèle de numérotation invalide : il peut produire les mêmes numéros que celui des avoirs "
        "(« {prefix}-{year}-{seq:05d} »). Un numéro ne doit servir qu'une fois, tous types confondus : "
        "changez le préfixe de l'un des deux.")
    assert "celui des factures (« AV-{year}-{seq:05d} »)" in errors["avoir"]
    assert check_patterns_disjoint({k.value: D for k in DocumentKind}) == {}


# --- issue date ----------------------------------------------------------------------------------


def test_an_issue_date_after_today_is_refused():
    check_issue_date_not_future(date(2027, 1, 5), date(2027, 1, 5))
    check_issue_date_not_future(date(2027, 1, 4), date(2027, 1, 5))
    with pytest.raises(DomainError) as caught:
        check_issue_date_not_future(date(2027, 6, 30), date(2027, 1, 5))
    assert caught.value.message == (
        "La date d'émission (30/06/2027) est dans le futur : un document ne peut pas être finalisé avec une "
        "date postérieure à aujourd'hui (05/01/2027). Changez la date d'émission.")
    assert caught.value.field == "issue_date"


# --- the cap on avoirs ---------------------------------------------------------------------------

E = Decimal


@pytest.mark.parametrize("invoice, credited, avoir, excess", [
    (E("120.00"), E("0.00"), E("-120.00"), E("0.00")),
    (E("120.00"), E("120.00"), E("-120.00"), E("120.00")),
    (E("120.00"), E("100.00"), E("-20.00"), E("0.00")),
    (E("120.00"), E("100.00"), E("-20.01"), E("0.01")),
    (E("120.00"), E("150.00"), E("-1.00"), E("1.00")),  # already over-credited: nothing remains
])
def test_credit_note_excess(invoice, credited, avoir, excess):
    assert credit_note_excess(invoice, credited, avoir) == excess


def test_an_avoir_above_the_remaining_amount_needs_a_confirmation():
    check_credit_note_cap("F-2026-00001", E("120.00"), E("0.00"), E("-120.00"), confirmed=False)
    with pytest.raises(DomainError) as caught:
        check_credit_note_cap("F-2026-00001", E("120.00"), E("120.00"), E("-120.00"), confirmed=False)
    assert caught.value.message == (
        "Cet avoir (120,00\u00a0€) dépasse le montant restant de la facture F-2026-00001 (0,00\u00a0€ : "
        "120,00\u00a0€ moins 120,00\u00a0€ d'avoirs déjà finalisés). Pour le finaliser quand même, cochez "
        "« Je confirme un avoir supérieur au montant restant de la facture ».")
    check_credit_note_cap("F-2026-00001", E("120.00"), E("120.00"), E("-120.00"), confirmed=True)


# --- content hash --------------------------------------------------------------------------------


def _doc(**changes) -> FrozenDocument:
    values = dict(document_id=1, company_id=1, kind="facture", number="F-2026-00001", issue_date=date(2026, 11, 28),
                  due_date=date(2026, 12, 28), delivery_date=None, payment_terms="30_jours_net", notes="",
                  total_ht=E("100.00"), total_vat=E("20.00"), total_ttc=E("120.00"), snapshot='{"seller": {}}',
                  logo_sha256="")
    return FrozenDocument(**(values | changes))


LINE = FrozenLine(0, "Prestation", E("1.000"), "", E("100.0000"), E("0.00"), E("20.00"))


def test_the_hash_ignores_how_a_decimal_is_written():
    same = FrozenLine(0, "Prestation", E("1"), "", E("100"), E("0"), E("20.0"))
    assert content_sha256(_doc(), [LINE]) == content_sha256(_doc(total_ht=E("100")), [same])
    assert content_sha256(_doc(total_vat=E("-0.00")), [LINE]) == content_sha256(_doc(total_vat=E("0")), [LINE])
    assert re.fullmatch(r"[0-9a-f]{64}", content_sha256(_doc(), [LINE]))


@pytest.mark.parametrize("change", [
    {"number": "F-2026-00002"}, {"issue_date": date(2026, 11, 27)}, {"total_ttc": E("120.01")},
    {"snapshot": '{"seller": {"name": "X"}}'}, {"logo_sha256": logo_sha256(b"png")}, {"notes": "x"},
])
def test_the_hash_covers_the_frozen_content(change):
    assert content_sha256(_doc(**change), [LINE]) != content_sha256(_doc(), [LINE])


def test_the_hash_covers_the_lines_and_their_order():
    other = FrozenLine(1, "Déplacement", E("1"), "", E("30"), E("0"), E("20"))
    base = content_sha256(_doc(), [LINE, other])
    assert content_sha256(_doc(), [other, LINE]) != base
    assert content_sha256(_doc(), [LINE]) != base
    assert content_sha256(_doc(), [LINE, FrozenLine(1, "Déplacement", E("2"), "", E("30"), E("0"), E("20"))]) != base
    assert logo_sha256(None) == logo_sha256(b"") == ""
