"""Document lines and totals, French rules.

Three rounding points, all ROUND_HALF_UP to the cent:

1. each line: ``quantity × unit_price × (1 − discount/100)``;
2. each VAT rate: ``VAT = (sum of rounded line totals at that rate) × rate/100``
   — VAT is computed per rate, NOT per line then summed;
3. the document: ``total_ttc = total_ht + total_vat`` (both already in cents,
   so this sum is exact).

A credit note (avoir) uses ``sign=-1``: the totals are computed on the
positive lines then negated, so ``avoir == -facture`` to the cent.

Stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from simple_erp.domain.errors import ValidationErrors
from simple_erp.domain.money import MAX_AMOUNT, decimal_places, format_eur, round_cents

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

FRENCH_VAT_RATES: tuple[Decimal, ...] = (
    Decimal(20),  # taux normal
    Decimal(10),  # taux intermédiaire
    Decimal("5.5"),  # taux réduit
    Decimal("2.1"),  # taux particulier
    Decimal(0),  # exonéré / franchise
)

QUANTITY_MAX_DECIMALS = 3
UNIT_PRICE_MAX_DECIMALS = 4
DISCOUNT_MAX_DECIMALS = 2


def _as_decimal(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"Line.{name} must be a Decimal, got {type(value).__name__}")


@dataclass(frozen=True)
class Line:
    """One document line. ``unit_price`` is HT; ``vat_rate`` and
    ``discount_percent`` are percentages (Decimal("5.5") means 5,5 %).

    Ints are converted to Decimal; floats are refused (TypeError).
    """

    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    discount_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("quantity", "unit_price", "vat_rate", "discount_percent"):
            object.__setattr__(self, name, _as_decimal(getattr(self, name), name))


@dataclass(frozen=True)
class VatBucket:
    """All lines at one VAT rate: their summed HT base and the VAT on it."""

    rate: Decimal
    base_ht: Decimal
    vat: Decimal


@dataclass(frozen=True)
class Totals:
    total_ht: Decimal
    vat_buckets: tuple[VatBucket, ...]  # sorted by rate, highest first
    total_vat: Decimal
    total_ttc: Decimal


def line_total_ht(line: Line) -> Decimal:
    """Rounding point 1: the line's HT total, rounded half-up to the cent."""
    exact = line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED
    return round_cents(exact)


def _negate(d: Decimal) -> Decimal:
    return -d if d else d  # keep zeros as "0.00", never "-0.00"


def compute_totals(lines: Iterable[Line], vat_exempt: bool = False, sign: int = 1) -> Totals:
    """Totals of a document (see the module docstring for the rounding points).

    ``vat_exempt=True`` (franchise en base, art. 293 B du CGI): no VAT at all
    and a single bucket at rate 0 holding the whole HT total.
    ``sign=-1`` for an avoir: every amount is negated.
    A document without lines has zero totals and no bucket.
    """
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = Decimal(0) if vat_exempt else line.vat_rate
        bases[rate] = bases.get(rate, ZERO) + line_total_ht(line)

    buckets = [
        VatBucket(rate=rate, base_ht=round_cents(base), vat=round_cents(base * rate / HUNDRED))
        for rate, base in sorted(bases.items(), key=lambda item: item[0], reverse=True)
    ]
    total_ht = round_cents(sum((b.base_ht for b in buckets), ZERO))
    total_vat = round_cents(sum((b.vat for b in buckets), ZERO))
    total_ttc = total_ht + total_vat

    if sign == -1:
        buckets = [VatBucket(b.rate, _negate(b.base_ht), _negate(b.vat)) for b in buckets]
        total_ht, total_vat, total_ttc = _negate(total_ht), _negate(total_vat), _negate(total_ttc)
    return Totals(
        total_ht=total_ht,
        vat_buckets=tuple(buckets),
        total_vat=total_vat,
        total_ttc=total_ttc,
    )


def _finite_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def validate_line(
    quantity: Decimal,
    unit_price: Decimal,
    vat_rate: Decimal,
    discount: Decimal = Decimal(0),
) -> Line:
    """Check a line typed by the user; return it as a ``Line``.

    Raises ``ValidationErrors`` keyed by field name ("quantity", "unit_price",
    "vat_rate", "discount_percent") with French messages:
    quantity > 0 with at most 3 decimals; unit price HT >= 0 with at most
    4 decimals (small unit prices such as 0,0125 €); discount between 0 and
    100 % with at most 2 decimals; VAT rate among ``FRENCH_VAT_RATES``;
    the line total may not exceed 99 999 999,99 €.
    """
    errors: dict[str, str] = {}

    if not _finite_decimal(quantity):
        errors["quantity"] = "La quantité est obligatoire."
    elif quantity <= 0:
        errors["quantity"] = "La quantité doit être supérieure à zéro."
    elif decimal_places(quantity) > QUANTITY_MAX_DECIMALS:
        errors["quantity"] = "La quantité ne peut avoir plus de 3 décimales."

    if not _finite_decimal(unit_price):
        errors["unit_price"] = "Le prix unitaire HT est obligatoire."
    elif unit_price < 0:
        errors["unit_price"] = "Le prix unitaire HT ne peut pas être négatif."
    elif decimal_places(unit_price) > UNIT_PRICE_MAX_DECIMALS:
        errors["unit_price"] = "Le prix unitaire HT ne peut avoir plus de 4 décimales."
    elif unit_price > MAX_AMOUNT:
        errors["unit_price"] = f"Le prix unitaire HT ne peut dépasser {format_eur(MAX_AMOUNT)}."

    if not _finite_decimal(vat_rate) or vat_rate not in FRENCH_VAT_RATES:
        allowed = ", ".join(_rate_label(r) for r in FRENCH_VAT_RATES)
        errors["vat_rate"] = f"Taux de TVA non autorisé. Taux possibles : {allowed}."

    if not _finite_decimal(discount):
        errors["discount_percent"] = "La remise est invalide."
    elif discount < 0 or discount > 100:
        errors["discount_percent"] = "La remise doit être comprise entre 0 et 100\u00a0%."
    elif decimal_places(discount) > DISCOUNT_MAX_DECIMALS:
        errors["discount_percent"] = "La remise ne peut avoir plus de 2 décimales."

    if errors:
        raise ValidationErrors(errors)
    line = Line(quantity, unit_price, vat_rate, discount)
    if line_total_ht(line) > MAX_AMOUNT:
        raise ValidationErrors(
            {"quantity": f"Le total de la ligne ne peut dépasser {format_eur(MAX_AMOUNT)}."}
        )
    return line


def _rate_label(rate: Decimal) -> str:
    """Decimal("5.5") -> "5,5 %"."""
    text = f"{rate.normalize():f}".replace(".", ",")
    return f"{text}\u00a0%"
