"""Tests for simple_erp.domain.totals.

Every expected value is computed by hand in the comment next to it
(ROUND_HALF_UP: a 5 at the third decimal rounds away from zero).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simple_erp.domain.errors import ValidationErrors
from simple_erp.domain.money import round_cents
from simple_erp.domain.totals import (
    FRENCH_VAT_RATES,
    Line,
    Totals,
    VatBucket,
    compute_totals,
    line_total_ht,
    validate_line,
)


def L(q: str, p: str, rate: str = "20", discount: str = "0") -> Line:
    return Line(D(q), D(p), D(rate), D(discount))


def assert_totals(totals: Totals, ht: str, buckets: list[tuple[str, str, str]], vat: str, ttc: str):
    assert totals.total_ht == D(ht)
    assert [(b.rate, b.base_ht, b.vat) for b in totals.vat_buckets] == [
        (D(r), D(b), D(v)) for r, b, v in buckets
    ]
    assert totals.total_vat == D(vat)
    assert totals.total_ttc == D(ttc)


# --- line totals (rounding point 1) -------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (L("1", "0.333"), "0.33"),  # 0.333 -> 0.33
        (L("3", "0.333"), "1.00"),  # 0.999 -> 1.00
        (L("1", "0.125"), "0.13"),  # exact half -> up (banker's would give 0.12)
        (L("2.5", "3.333"), "8.33"),  # 8.3325 -> 8.33
        (L("3", "19.99", discount="15"), "50.97"),  # 59.97 × 0.85 = 50.9745 -> 50.97
        (L("1", "99.99", discount="33.33"), "66.66"),  # 99.99 × 0.6667 = 66.663333 -> 66.66
        (L("1", "0.25", discount="50"), "0.13"),  # 0.125 -> 0.13
        (L("4", "80", discount="100"), "0.00"),  # fully discounted
        (L("0.333", "10"), "3.33"),  # 3.33 exact
        (L("12", "0.0125"), "0.15"),  # 0.15 exact
        (L("1", "0"), "0.00"),
    ],
)
def test_line_total_ht(line, expected):
    result = line_total_ht(line)
    assert result == D(expected)
    assert str(result) == expected  # always exactly two decimals


def test_line_refuses_float_and_converts_int():
    with pytest.raises(TypeError):
        Line(1.5, D(2), D(20))  # type: ignore[arg-type]
    line = Line(2, 3, 20)  # type: ignore[arg-type]
    assert line == Line(D(2), D(3), D(20), D(0))
    assert isinstance(line.quantity, D)


# --- document totals ----------------------------------------------------------


def test_three_lines_of_0_333_show_per_line_rounding():
    # each line: 1 × 0.333 = 0.333 -> 0.33 ; base 3 × 0.33 = 0.99
    # VAT 20 %: 0.99 × 0.20 = 0.198 -> 0.20 ; TTC 0.99 + 0.20 = 1.19
    totals = compute_totals([L("1", "0.333")] * 3)
    assert_totals(totals, "0.99", [("20", "0.99", "0.20")], "0.20", "1.19")
    # the same goods on one line: 3 × 0.333 = 0.999 -> 1.00 ; VAT 0.20 ; TTC 1.20
    assert compute_totals([L("3", "0.333")]).total_ttc == D("1.20")


def test_vat_is_rounded_per_rate_not_per_line():
    # 3 lines of 10.15 at 5.5 %: base 30.45
    # per rate: 30.45 × 0.055 = 1.67475 -> 1.67  (what we must get)
    # per line: 10.15 × 0.055 = 0.55825 -> 0.56, × 3 = 1.68 (NOT what we want)
    totals = compute_totals([L("1", "10.15", "5.5")] * 3)
    assert_totals(totals, "30.45", [("5.5", "30.45", "1.67")], "1.67", "32.12")
    per_line_sum = sum(round_cents(D("10.15") * D("0.055")) for _ in range(3))
    assert per_line_sum == D("1.68") != totals.total_vat


def test_many_lines_one_rate():
    lines = [
        L("3", "1.995"),  # 5.985 -> 5.99   (line VAT alone 1.198 -> 1.20)
        L("2.5", "3.333"),  # 8.3325 -> 8.33 (1.666 -> 1.67)
        L("0.333", "10"),  # 3.33            (0.666 -> 0.67)
        L("7", "0.1429"),  # 1.0003 -> 1.00  (0.20)
        L("1", "19.999"),  # 19.999 -> 20.00 (4.00)
        L("12", "0.0125"),  # 0.15           (0.03)
        L("1.125", "4"),  # 4.50             (0.90)
    ]
    # HT: 5.99 + 8.33 + 3.33 + 1.00 + 20.00 + 0.15 + 4.50 = 43.30
    # VAT: 43.30 × 0.20 = 8.66 (per-line VAT would sum to 8.67) ; TTC 51.96
    assert_totals(compute_totals(lines), "43.30", [("20", "43.30", "8.66")], "8.66", "51.96")


def test_ten_half_cent_lines():
    # 10 × (1 × 0.005 -> 0.01): base 0.10 ; VAT 0.10 × 0.20 = 0.02 ; TTC 0.12
    totals = compute_totals([L("1", "0.005")] * 10)
    assert_totals(totals, "0.10", [("20", "0.10", "0.02")], "0.02", "0.12")


def test_discounts():
    lines = [
        L("3", "19.99", "20", "15"),  # 59.97 × 0.85 = 50.9745 -> 50.97
        L("1", "99.99", "10", "33.33"),  # 99.99 × 0.6667 = 66.663333 -> 66.66
        L("5", "40", "20", "100"),  # 0.00
    ]
    # 20 %: base 50.97, VAT 10.194 -> 10.19 ; 10 %: base 66.66, VAT 6.666 -> 6.67
    # HT 117.63 ; VAT 16.86 ; TTC 134.49
    assert_totals(
        compute_totals(lines),
        "117.63",
        [("20", "50.97", "10.19"), ("10", "66.66", "6.67")],
        "16.86",
        "134.49",
    )


MIXED = [
    L("2", "12.50", "20"),  # 25.00
    L("1", "7.99", "5.5"),  # 7.99
    L("4", "3.335", "5.5"),  # 13.34
    L("1.5", "45.00", "10"),  # 67.50
    L("0.25", "9.99", "20"),  # 2.4975 -> 2.50
    L("1", "100", "2.1"),  # 100.00
    L("2", "15", "0"),  # 30.00
]


def test_mixed_rates_sorted_desc():
    # 20 %: 25.00 + 2.50 = 27.50 -> VAT 5.50
    # 10 %: 67.50 -> VAT 6.75
    # 5.5 %: 7.99 + 13.34 = 21.33 -> 21.33 × 0.055 = 1.17315 -> 1.17
    # 2.1 %: 100.00 -> VAT 2.10
    # 0 %: 30.00 -> VAT 0.00
    # HT 27.50 + 67.50 + 21.33 + 100.00 + 30.00 = 246.33
    # VAT 5.50 + 6.75 + 1.17 + 2.10 = 15.52 ; TTC 261.85
    assert_totals(
        compute_totals(MIXED),
        "246.33",
        [
            ("20", "27.50", "5.50"),
            ("10", "67.50", "6.75"),
            ("5.5", "21.33", "1.17"),
            ("2.1", "100.00", "2.10"),
            ("0", "30.00", "0.00"),
        ],
        "15.52",
        "261.85",
    )


def test_same_rate_written_differently_is_one_bucket():
    # 10.00 + 5.00 = 15.00 at 20 % -> VAT 3.00
    totals = compute_totals([L("1", "10", "20"), L("1", "5", "20.0")])
    assert len(totals.vat_buckets) == 1
    assert totals.total_vat == D("3.00")


def test_half_up_on_vat():
    # base 0.25 at 10 %: 0.025 -> 0.03 (half-even would give 0.02) ; TTC 0.28
    assert_totals(
        compute_totals([L("1", "0.25", "10")]), "0.25", [("10", "0.25", "0.03")], "0.03", "0.28"
    )


def test_franchise_en_base():
    # same lines as MIXED: HT 246.33, no VAT, one bucket at 0 %, TTC = HT
    totals = compute_totals(MIXED, vat_exempt=True)
    assert_totals(totals, "246.33", [("0", "246.33", "0")], "0.00", "246.33")


def test_avoir_is_negated():
    # MIXED negated: HT -246.33, VAT -15.52, TTC -261.85
    avoir = compute_totals(MIXED, sign=-1)
    assert_totals(
        avoir,
        "-246.33",
        [
            ("20", "-27.50", "-5.50"),
            ("10", "-67.50", "-6.75"),
            ("5.5", "-21.33", "-1.17"),
            ("2.1", "-100.00", "-2.10"),
            ("0", "-30.00", "0.00"),
        ],
        "-15.52",
        "-261.85",
    )
    assert str(avoir.vat_buckets[-1].vat) == "0.00"  # no "-0.00"


def test_avoir_rounding_is_symmetric():
    # 1 × 0.125 -> 0.13 ; VAT 10 %: 0.013 -> 0.01 ; TTC 0.14 ; avoir: all negated
    # base 0.25 at 10 %: 0.025 -> 0.03, avoir -0.03 (not -0.02)
    assert_totals(
        compute_totals([L("1", "0.125", "10")], sign=-1),
        "-0.13", [("10", "-0.13", "-0.01")], "-0.01", "-0.14",
    )
    assert compute_totals([L("1", "0.25", "10")], sign=-1).total_vat == D("-0.03")


def test_franchise_avoir():
    assert_totals(
        compute_totals([L("2", "10.005")], vat_exempt=True, sign=-1),  # 20.01
        "-20.01", [("0", "-20.01", "0")], "0.00", "-20.01",
    )


@pytest.mark.parametrize("kwargs", [{}, {"sign": -1}, {"vat_exempt": True}, {"vat_exempt": True, "sign": -1}])
def test_no_lines_all_zero(kwargs):
    totals = compute_totals([], **kwargs)
    assert totals == Totals(D("0.00"), (), D("0.00"), D("0.00"))
    assert str(totals.total_ttc) == "0.00"


def test_bad_sign():
    with pytest.raises(ValueError):
        compute_totals([], sign=2)


def test_accepts_generator_and_returns_frozen():
    totals = compute_totals(L("1", "1") for _ in range(2))
    assert totals.total_ht == D("2.00")
    with pytest.raises(AttributeError):
        totals.total_ht = D(0)  # type: ignore[misc]
    assert isinstance(totals.vat_buckets[0], VatBucket)


# --- property tests -----------------------------------------------------------

lines_strategy = st.lists(
    st.builds(
        Line,
        quantity=st.decimals(min_value=D("0.001"), max_value=D(1000), places=3),
        unit_price=st.decimals(min_value=D(0), max_value=D(10000), places=4),
        vat_rate=st.sampled_from(FRENCH_VAT_RATES),
        discount_percent=st.decimals(min_value=D(0), max_value=D(100), places=2),
    ),
    max_size=25,
)


@settings(max_examples=300)
@given(lines_strategy, st.booleans())
def test_properties(lines, exempt):
    facture = compute_totals(lines, vat_exempt=exempt)
    avoir = compute_totals(lines, vat_exempt=exempt, sign=-1)

    assert facture.total_ttc == facture.total_ht + facture.total_vat
    assert avoir.total_ttc == avoir.total_ht + avoir.total_vat
    assert avoir.total_ht == -facture.total_ht
    assert avoir.total_vat == -facture.total_vat
    assert avoir.total_ttc == -facture.total_ttc
    assert [(b.rate, -b.base_ht, -b.vat) for b in avoir.vat_buckets] == [
        (b.rate, b.base_ht, b.vat) for b in facture.vat_buckets
    ]

    assert facture.total_ht == sum((line_total_ht(x) for x in lines), D(0))
    assert facture.total_ht == sum((b.base_ht for b in facture.vat_buckets), D(0))
    assert facture.total_vat == sum((b.vat for b in facture.vat_buckets), D(0))
    rates = [b.rate for b in facture.vat_buckets]
    assert rates == sorted(set(rates), reverse=True)
    for b in facture.vat_buckets:
        assert b.vat == round_cents(b.base_ht * b.rate / 100)
    for value in (facture.total_ht, facture.total_vat, facture.total_ttc):
        assert value.as_tuple().exponent == -2
    if exempt:
        assert facture.total_vat == 0 and rates in ([], [D(0)])
    # per-rate VAT never drifts more than half a cent per line from per-line VAT
    per_line = sum((round_cents(line_total_ht(x) * x.vat_rate / 100) for x in lines), D(0))
    if not exempt:
        assert abs(per_line - facture.total_vat) <= D("0.005") * len(lines)


# --- validate_line ------------------------------------------------------------


def test_validate_line_ok():
    line = validate_line(D("1.5"), D("0.0125"), D("5.5"), D("12.5"))
    assert line == Line(D("1.5"), D("0.0125"), D("5.5"), D("12.5"))
    assert validate_line(D("1.000"), D(0), D("20.0")).discount_percent == 0
    assert validate_line(D(2), D(10), D(0), D(100)).vat_rate == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((D(0), D(10), D(20)), "quantity"),
        ((D(-1), D(10), D(20)), "quantity"),
        ((D("1.0005"), D(10), D(20)), "quantity"),
        ((None, D(10), D(20)), "quantity"),
        ((D("NaN"), D(10), D(20)), "quantity"),
        ((1.5, D(10), D(20)), "quantity"),
        ((D(1), D("-0.01"), D(20)), "unit_price"),
        ((D(1), D("0.00001"), D(20)), "unit_price"),
        ((D(1), D("Infinity"), D(20)), "unit_price"),
        ((D(1), D(100000000), D(20)), "unit_price"),
        ((D(1), D(10), D("19.6")), "vat_rate"),
        ((D(1), D(10), D(7)), "vat_rate"),
        ((D(1), D(10), None), "vat_rate"),
        ((D(1), D(10), D(20), D(-1)), "discount_percent"),
        ((D(1), D(10), D(20), D("100.01")), "discount_percent"),
        ((D(1), D(10), D(20), D("10.125")), "discount_percent"),
        ((D(1000), D(99999999), D(20)), "quantity"),  # line total too large
    ],
)
def test_validate_line_bad(args, field):
    with pytest.raises(ValidationErrors) as excinfo:
        validate_line(*args)
    assert list(excinfo.value.errors) == [field]
    assert excinfo.value.field == field


def test_validate_line_collects_all_errors_in_french():
    with pytest.raises(ValidationErrors) as excinfo:
        validate_line(D(0), D(-5), D("19.6"), D(150))
    errors = excinfo.value.errors
    assert errors == {
        "quantity": "La quantité doit être supérieure à zéro.",
        "unit_price": "Le prix unitaire HT ne peut pas être négatif.",
        "vat_rate": "Taux de TVA non autorisé. Taux possibles : "
        "20\u00a0%, 10\u00a0%, 5,5\u00a0%, 2,1\u00a0%, 0\u00a0%.",
        "discount_percent": "La remise doit être comprise entre 0 et 100\u00a0%.",
    }
    assert excinfo.value.message == errors["quantity"]
