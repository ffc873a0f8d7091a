"""The 2026 e-invoicing reform's new mentions that are not identities: the « catégorie de
l'opération » (livraison de biens / prestation de services / mixte) and the option for
paying VAT on debits. Pure Python.

The category of a document is the one chosen on it, or else derived from its lines when
the catalogue says what each product is (a ``bien`` or a ``service``), the company's
default filling in for the lines that do not say.
"""

from __future__ import annotations

from collections.abc import Iterable

GOODS, SERVICES, MIXED = "biens", "services", "mixte"
OPERATION_CATEGORIES = {GOODS: "Livraison de biens", SERVICES: "Prestation de services", MIXED: "Mixte"}
PRODUCT_GOOD, PRODUCT_SERVICE = "bien", "service"
PRODUCT_KINDS = {PRODUCT_GOOD: "Bien", PRODUCT_SERVICE: "Service"}
VAT_ON_DEBITS_TEXT = "Option pour le paiement de la taxe d'après les débits"
#: BT-23 « cadre de facturation » of the French rules (BR-FR-08) for a plain invoice or
#: credit note: B1 goods, S1 services, M1 both.
_BUSINESS_PROCESS = {GOODS: "B1", SERVICES: "S1", MIXED: "M1"}
_OF_PRODUCT = {PRODUCT_GOOD: GOODS, PRODUCT_SERVICE: SERVICES}


def category_label(category: str) -> str:
    """« Livraison de biens »…, or "" for an unknown or empty category."""
    return OPERATION_CATEGORIES.get(category, "")


def derive_category(line_kinds: Iterable[str], default: str) -> str:
    """The category from the lines' product kinds ("bien", "service", or "" for a free line
    or a product that does not say); lines that do not say count as the company's default.
    No line at all gives the default."""
    default = default if default in OPERATION_CATEGORIES else MIXED
    found = {_OF_PRODUCT.get(kind, default) for kind in line_kinds}
    if not found:
        return default
    return found.pop() if len(found) == 1 else MIXED


def document_category(chosen: str, line_kinds: Iterable[str], default: str) -> str:
    """The document's category: the one chosen on it, else derived from its lines."""
    return chosen if chosen in OPERATION_CATEGORIES else derive_category(line_kinds, default)


def vat_on_debits_applies(opted: bool, category: str, vat_exempt: bool) -> bool:
    """Whether the document carries the option for VAT on debits (the PDF's mention, BT-8 =
    5 in CII): the company opted, the document charges VAT, and it is not a delivery of
    goods only (the option concerns services; VAT on goods is due at delivery). An unknown
    category counts as mixte."""
    return opted and not vat_exempt and category != GOODS


def business_process(category: str) -> str:
    """The BT-23 code of a category; M1 (mixte) when it is unknown."""
    return _BUSINESS_PROCESS.get(category, "M1")
