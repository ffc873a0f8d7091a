"""Money and number helpers, French style.

Rules:
- money is always ``Decimal`` (never ``float``), rounded ROUND_HALF_UP to the cent;
  ROUND_HALF_UP in ``decimal`` rounds halves away from zero, so rounding is
  symmetric: ``round_cents(-x) == -round_cents(x)``;
- user input is French ("1 234,56") but a dot is accepted too ("1234.56");
- output uses a narrow no-break space (U+202F) between thousands, a comma for
  decimals and a no-break space (U+00A0) before the euro sign.

Stdlib only.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from simple_erp.domain.errors import DomainError

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")
"""Largest absolute amount accepted from the user (99 999 999,99 €)."""

NNBSP = "\u202f"  # narrow no-break space: thousands separator
NBSP = "\u00a0"  # no-break space: before "€" and "%"

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:[.,]([0-9]*))?")
# Sanity bound for parse_decimal (quantities, percentages): < 10^12.
_MAX_DECIMAL_DIGITS = 12


# --- cents and rounding -------------------------------------------------------


def round_cents(d: Decimal) -> Decimal:
    """Round to the cent, ROUND_HALF_UP (0.125 -> 0.13, -0.125 -> -0.13)."""
    return _require_decimal(d).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(d: Decimal) -> int:
    """Amount -> whole number of cents; rounds half-up to the cent first."""
    return int(round_cents(d).scaleb(2))


def from_cents(n: int) -> Decimal:
    """Whole number of cents -> amount with exactly two decimals (1234 -> 12.34)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("from_cents expects an int")
    return Decimal(n).scaleb(-2).quantize(CENT)


def decimal_places(d: Decimal) -> int:
    """Number of significant decimals: 1.50 -> 1, 100 -> 0, 0.125 -> 3."""
    exponent = _require_decimal(d).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- parsing user input -------------------------------------------------------


def _clean(text: object, what: str) -> tuple[str, str, str]:
    """Split user text into (sign, integer digits, fraction digits) or raise."""
    if not isinstance(text, str):
        raise DomainError(f"{what} invalide : valeur manquante.")
    cleaned = _SPACES.sub("", text).replace("\u2212", "-")
    if cleaned.endswith("€"):
        cleaned = cleaned[:-1]
    if not cleaned:
        raise DomainError(f"{what} invalide : le champ est vide.")
    match = _NUMBER.fullmatch(cleaned)
    if match is None or not (match.group(2) or match.group(3)):
        raise DomainError(f"{what} invalide : « {text.strip()} » n'est pas un nombre.")
    return match.group(1), match.group(2) or "0", match.group(3) or ""


def _build(sign: str, integer: str, fraction: str) -> Decimal:
    value = Decimal(f"{sign}{integer}.{fraction or '0'}")
    return value if value else abs(value)  # never "-0"


def parse_amount(text: str) -> Decimal:
    """Parse a money amount typed by a user; result has exactly two decimals.

    Accepts "1 234,56", "1234.56", "12", "12,5", "-3,00", with ordinary,
    no-break or narrow no-break spaces and an optional trailing "€".
    Refuses garbage, NaN/Infinity, more than 2 decimals and |x| > 99 999 999,99.
    """
    sign, integer, fraction = _clean(text, "Montant")
    if len(fraction) > 2:
        raise DomainError("Montant invalide : 2 décimales au maximum.")
    if len(integer.lstrip("0")) > 8:
        raise DomainError(_too_big_message())
    value = _build(sign, integer, fraction)
    if abs(value) > MAX_AMOUNT:
        raise DomainError(_too_big_message())
    return value.quantize(CENT)


def _too_big_message() -> str:
    return f"Montant invalide : il ne peut dépasser {format_eur(MAX_AMOUNT)} en valeur absolue."


def parse_decimal(text: str, max_decimals: int = 4) -> Decimal:
    """Parse a quantity or a percentage ("1,5", "5.5", "0,125").

    The value keeps the decimals as typed ("2,50" -> Decimal("2.50")).
    Refuses garbage, more than ``max_decimals`` decimals and |x| >= 10^12.
    """
    sign, integer, fraction = _clean(text, "Nombre")
    if len(fraction) > max_decimals:
        if max_decimals == 0:
            raise DomainError("Nombre invalide : un nombre entier est attendu.")
        raise DomainError(f"Nombre invalide : {max_decimals} décimale{'s' if max_decimals > 1 else ''} au maximum.")
    if len(integer.lstrip("0")) > _MAX_DECIMAL_DIGITS:
        raise DomainError("Nombre invalide : valeur trop grande.")
    return _build(sign, integer, fraction).quantize(Decimal(1).scaleb(-len(fraction)))


# --- formatting ---------------------------------------------------------------


def _group(digits: str) -> str:
    """'1234567' -> '1 234 567' with narrow no-break spaces."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return NNBSP.join(parts)


def format_decimal_fr(d: Decimal, places: int | None = 2) -> str:
    """French number: '1 234,5' style.

    ``places`` fixes the number of decimals (ROUND_HALF_UP); ``None`` keeps only
    the significant ones (Decimal("1.500") -> "1,5", Decimal("100") -> "100").
    """
    d = _require_decimal(d)
    if places is None:
        places = decimal_places(d)
    if places < 0:
        raise ValueError("places must be >= 0")
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    text = f"{abs(q):f}"
    integer, _, fraction = text.partition(".")
    out = sign + _group(integer)
    return f"{out},{fraction}" if fraction else out


def format_eur(d: Decimal) -> str:
    """Money for display: Decimal("-1234.5") -> "-1 234,50 €" (U+202F, U+00A0)."""
    return f"{format_decimal_fr(round_cents(d), 2)}{NBSP}€"


def mollie_amount(d: Decimal) -> str:
    """Amount for the Mollie API: exactly two decimals, dot, no grouping ("12.30")."""
    q = round_cents(d)
    return f"{q if q else abs(q):f}"


def format_size_fr(n: int) -> str:
    """A file size as a French user reads it: « 12 Ko », « 1,4 Mo »."""
    return f"{n / 1024:.0f} Ko".replace(".", ",") if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} Mo".replace(".", ",")


def format_date_fr(d: date) -> str:
    """date(2026, 11, 28) -> "28/11/2026"."""
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


# --- helpers ------------------------------------------------------------------


def _require_decimal(d: object) -> Decimal:
    """Refuse floats (and anything not Decimal/int) and non-finite values."""
    if isinstance(d, bool) or not isinstance(d, (Decimal, int)):
        raise TypeError(f"expected Decimal, got {type(d).__name__}")
    d = Decimal(d)
    if not d.is_finite():
        raise InvalidOperation("non-finite Decimal")
    return d
