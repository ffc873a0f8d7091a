"""What a document shows: the one input of the HTML preview and of the PDF.

Built by services.documents from the database (or from the snapshot frozen at
finalisation); rendered by providers.pdf. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from simple_erp.domain.totals import Totals


@dataclass(frozen=True)
class PartyView:
    name: str
    address_lines: tuple[str, ...] = ()
    legal_form: str = ""
    capital: Decimal | None = None
    siren: str = ""
    siret: str = ""
    rcs_city: str = ""
    rm_city: str = ""  # répertoire des métiers (artisans)
    vat_number: str = ""
    email: str = ""
    phone: str = ""
    is_business: bool = True


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal  # HT
    discount_percent: Decimal
    vat_rate: Decimal
    total_ht: Decimal  # rounded line total (negative on an avoir)


@dataclass(frozen=True)
class DocumentView:
    kind: str  # DocumentKind value: devis, bon_de_commande, facture, bon_de_livraison, avoir
    kind_label: str  # "Facture", "Avoir"…
    number: str | None  # None while a draft
    is_draft: bool
    issue_date: date
    due_date: date | None
    delivery_date: date | None
    seller: PartyView
    buyers: tuple[PartyView, ...]
    lines: tuple[LineView, ...]
    totals: Totals
    vat_exempt: bool  # franchise en base: "TVA non applicable, art. 293 B du CGI"
    payment_terms_label: str
    late_penalty_rate: Decimal
    escompte_text: str
    bank_iban: str = ""  # formatted for print, empty when none
    bank_bic: str = ""
    notes: str = ""
    logo_png_or_jpeg: bytes | None = None
    logo_mime: str = ""
    # For an avoir: the invoice it corrects.
    corrected_number: str = ""
    corrected_date: date | None = None
    # Mentions for 0 % lines (exemption articles), printed under the totals.
    vat_exemption_mentions: tuple[str, ...] = field(default_factory=tuple)
    # Factur-X CII XML (domain.einvoice.cii) that the PDF embeds: finalised facture or avoir only.
    einvoice_xml: bytes = b""
    # 2026 reform mentions (domain.einvoice.mentions), frozen in the snapshot; "" / False / ()
    # on documents finalised before they existed: « catégorie de l'opération » (biens,
    # services, mixte), the option for VAT on debits, the delivery address when it differs.
    operation_category: str = ""
    vat_on_debits: bool = False
    delivery_address_lines: tuple[str, ...] = ()
