"""SHA-256 of a finalised document's frozen content: what it prints and what the law
forbids to change once it is numbered (number, kind, dates, terms, notes, totals, its
lines, the seller and buyers of its snapshot, and the logo it was finalised with).

Stored in ``document.content_sha256`` at finalisation and recomputed before a PDF is
produced: a difference means the row was changed behind the application's back (the
database triggers refuse that, so it takes a dropped trigger or a restored backup).

Pure stdlib. The canonical form is JSON with sorted keys; decimals are written without
trailing zeros (12.30 and 12.3000 are the same amount: the database stores scaled
integers, and Python may hold either form); dates in ISO format. Changing what goes in
here changes every hash: bump ``VERSION`` and recompute them in a migration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

VERSION = 1


@dataclass(frozen=True)
class FrozenLine:
    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal


@dataclass(frozen=True)
class FrozenDocument:
    document_id: int
    company_id: int
    kind: str
    number: str
    issue_date: date
    due_date: date | None
    delivery_date: date | None
    payment_terms: str
    notes: str
    total_ht: Decimal
    total_vat: Decimal
    total_ttc: Decimal
    snapshot: str  # seller, buyers and legal details, as frozen (JSON text)
    logo_sha256: str  # of the logo's bytes; "" without a logo


def _decimal(value: Decimal) -> str:
    value = Decimal(value)
    if value == 0:
        return "0"  # also -0.00
    return format(value.normalize(), "f")


def _date(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def logo_sha256(logo: bytes | None) -> str:
    return hashlib.sha256(logo).hexdigest() if logo else ""


def content_sha256(doc: FrozenDocument, lines: Iterable[FrozenLine]) -> str:
    """Hex SHA-256 of the canonical form of the document and its lines (in their order)."""
    payload = {
        "version": VERSION,
        "document": {
            "id": doc.document_id,
            "company_id": doc.company_id,
            "kind": doc.kind,
            "number": doc.number,
            "issue_date": _date(doc.issue_date),
            "due_date": _date(doc.due_date),
            "delivery_date": _date(doc.delivery_date),
            "payment_terms": doc.payment_terms,
            "notes": doc.notes,
            "total_ht": _decimal(doc.total_ht),
            "total_vat": _decimal(doc.total_vat),
            "total_ttc": _decimal(doc.total_ttc),
            "snapshot": doc.snapshot,
            "logo_sha256": doc.logo_sha256,
        },
        "lines": [
            {
                "position": ln.position,
                "description": ln.description,
                "quantity": _decimal(ln.quantity),
                "unit": ln.unit,
                "unit_price": _decimal(ln.unit_price),
                "discount_percent": _decimal(ln.discount_percent),
                "vat_rate": _decimal(ln.vat_rate),
            }
            for ln in lines
        ],
    }
    canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
