"""Tests for simple_erp.domain.money (parsing, rounding, French formatting)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import (
    CENT,
    MAX_AMOUNT,
    decimal_places,
    format_date_fr,
    format_decimal_fr,
    format_eur,
    from_cents,
    mollie_amount,
    parse_amount,
    parse_decimal,
    round_cents,
    to_cents,
)

NNBSP = "\u202f"
NBSP = "\u00a0"

amounts = st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2)


# --- rounding and cents -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.125", "0.13"),  # half-up, not banker's rounding (which gives 0.12)
        ("0.135", "0.14"),
        ("0.124999", "0.12"),
        ("2.675", "2.68"),
        ("-0.125", "-0.13"),  # symmetric: halves go away from zero
        ("-0.124", "-0.12"),
        ("12", "12.00"),
        ("0.005", "0.01"),
    ],
)
def test_round_cents_half_up(value, expected):
    result = round_cents(Decimal(value))
    assert result == Decimal(expected)
    assert str(result) == expected
    assert CENT == Decimal("0.01")


def test_round_cents_refuses_float():
    with pytest.raises(TypeError):
        round_cents(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "cents"),
    [("12.34", 1234), ("0.005", 1), ("0.004", 0), ("-3.00", -300), ("99999999.99", 9999999999)],
)
def test_to_cents(value, cents):
    assert to_cents(Decimal(value)) == cents


def test_from_cents():
    assert str(from_cents(1234)) == "12.34"
    assert str(from_cents(5)) == "0.05"
    assert str(from_cents(-300)) == "-3.00"
    assert str(from_cents(0)) == "0.00"
    with pytest.raises(TypeError):
        from_cents(1.5)  # type: ignore[arg-type]


@given(amounts)
def test_cents_round_trip(d):
    assert from_cents(to_cents(d)) == d


@pytest.mark.parametrize(
    ("value", "places"), [("1.50", 1), ("100", 0), ("0.125", 3), ("5.5", 1), ("0", 0)]
)
def test_decimal_places(value, places):
    assert decimal_places(Decimal(value)) == places


# --- parse_amount -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("12", "12.00"),
        ("12,5", "12.50"),
        ("-3,00", "-3.00"),
        ("1\u00a0234,56", "1234.56"),  # no-break space
        ("1\u202f234,56", "1234.56"),  # narrow no-break space
        ("  42,10  ", "42.10"),
        ("+7", "7.00"),
        (",5", "0.50"),
        ("12,", "12.00"),
        ("0", "0.00"),
        ("-0", "0.00"),  # never "-0.00"
        ("\u221212,30", "-12.30"),  # U+2212 minus sign
        ("1 234,56 €", "1234.56"),
        ("99 999 999,99", "99999999.99"),
        ("-99999999,99", "-99999999.99"),
    ],
)
def test_parse_amount_good(text, expected):
    result = parse_amount(text)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "12abc",
        "1,2,3",
        "1.234,56",  # mixed separators are ambiguous: refused
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "1e5",
        "12,345",  # 3 decimals
        "0,001",
        "100 000 000",  # over 99 999 999,99
        "99999999,995",
        "-100000000",
        "--3",
        "3-",
        ",",
        "-",
        "€",
    ],
)
def test_parse_amount_bad(text):
    with pytest.raises(DomainError) as excinfo:
        parse_amount(text)
    assert excinfo.value.message.startswith("Montant invalide : ")


def test_parse_amount_none():
    with pytest.raises(DomainError):
        parse_amount(None)  # type: ignore[arg-type]


def test_parse_amount_too_big_message():
    with pytest.raises(DomainError) as excinfo:
        parse_amount("100000000")
    assert "99\u202f999\u202f999,99\u00a0€" in excinfo.value.message


@given(amounts)
def test_parse_amount_reads_format_eur(d):
    assert parse_amount(format_eur(d)) == d


# --- parse_decimal ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,5", "1.5"), ("5.5", "5.5"), ("0,125", "0.125"), ("2,50", "2.50"), ("12", "12"),
     ("1 000", "1000"), ("0,0001", "0.0001"), ("-2", "-2")],
)
def test_parse_decimal_good(text, expected):
    result = parse_decimal(text)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize("text", ["", "abc", "NaN", "Infinity", "0,00001", "1e3", "1000000000000"])
def test_parse_decimal_bad(text):
    with pytest.raises(DomainError) as excinfo:
        parse_decimal(text)
    assert excinfo.value.message.startswith("Nombre invalide : ")


def test_parse_decimal_max_decimals():
    assert parse_decimal("1,123", max_decimals=3) == Decimal("1.123")
    with pytest.raises(DomainError):
        parse_decimal("1,1234", max_decimals=3)
    assert parse_decimal("7", max_decimals=0) == Decimal(7)
    with pytest.raises(DomainError):
        parse_decimal("7,5", max_decimals=0)


# --- formatting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234.56", f"1{NNBSP}234,56{NBSP}€"),
        ("-12.3", f"-12,30{NBSP}€"),
        ("0", f"0,00{NBSP}€"),
        ("-0.001", f"0,00{NBSP}€"),  # rounds to zero: no minus sign
        ("0.125", f"0,13{NBSP}€"),
        ("999", f"999,00{NBSP}€"),
        ("1000", f"1{NNBSP}000,00{NBSP}€"),
        ("99999999.99", f"99{NNBSP}999{NNBSP}999,99{NBSP}€"),
        ("-1234567.891", f"-1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        ("100000", f"100{NNBSP}000,00{NBSP}€"),
    ],
)
def test_format_eur(value, expected):
    assert format_eur(Decimal(value)) == expected


def test_format_eur_exact_codepoints():
    text = format_eur(Decimal("1234.56"))
    assert [hex(ord(c)) for c in text if not c.isalnum() and c != ","] == ["0x202f", "0xa0", "0x20ac"]


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("1234.5", 2, f"1{NNBSP}234,50"),
        ("5.5", 1, "5,5"),
        ("1.500", None, "1,5"),
        ("100", None, "100"),
        ("1234567", 0, f"1{NNBSP}234{NNBSP}567"),
        ("0.125", 3, "0,125"),
        ("2.345", 2, "2,35"),
        ("-0.5", 0, "-1"),
        ("-1234.5", 1, f"-1{NNBSP}234,5"),
    ],
)
def test_format_decimal_fr(value, places, expected):
    assert format_decimal_fr(Decimal(value), places) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.3", "12.30"), ("12", "12.00"), ("0.125", "0.13"), ("1234567.8", "1234567.80"),
     ("-0.001", "0.00"), ("100", "100.00")],
)
def test_mollie_amount(value, expected):
    assert mollie_amount(Decimal(value)) == expected


def test_mollie_amount_from_exponent_form():
    assert mollie_amount(Decimal("1E+2")) == "100.00"


def test_format_date_fr():
    assert format_date_fr(date(2026, 11, 28)) == "28/11/2026"
    assert format_date_fr(date(2026, 1, 5)) == "05/01/2026"
