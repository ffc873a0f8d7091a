"""What a document prints besides its lines — seller, buyers, legal and bank details —
frozen as JSON in ``Document.snapshot`` when it is finalised, so that editing the company
or a contact afterwards never changes a finalised document.

A draft builds the same structure from live data. The logo is frozen apart, by its hash
(``document.logo_sha256``, table ``document_logo``: ``services.documents.integrity``).
The postal addresses are also kept field by field (``seller_address``, ``buyer_addresses``)
for the Factur-X XML; documents frozen before that read them back from the printed lines.
The 2026 reform's mentions (operation category, option for VAT on debits, delivery address)
are frozen too; snapshots made before them have none (and the document shows none).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from simple_erp.domain.document_view import PartyView
from simple_erp.domain.einvoice import PostalAddress
from simple_erp.domain.documents import PAYMENT_TERMS_LABELS, PaymentTerms
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class PrintedDetails:
    seller: PartyView
    buyers: tuple[PartyView, ...]
    vat_exempt: bool
    payment_terms_label: str
    late_penalty_rate: Decimal
    escompte_text: str
    bank_iban_encrypted: str = ""  # the seller's IBAN, still encrypted at rest
    bank_bic: str = ""
    vat_exemption_mentions: tuple[str, ...] = field(default_factory=tuple)
    corrected_number: str = ""
    corrected_date: date | None = None
    seller_address: PostalAddress | None = None  # None in snapshots frozen before it was kept
    buyer_addresses: tuple[PostalAddress, ...] = ()
    operation_category: str = ""  # biens | services | mixte; "" in snapshots made before it
    vat_on_debits: bool = False
    delivery_address: PostalAddress | None = None  # only when it differs from the billing address


def postal_address(owner: Company | Contact) -> PostalAddress:
    return PostalAddress(owner.address_line1.strip(), owner.address_line2.strip(), owner.postal_code.strip(),
                         owner.city.strip(), (owner.country or "FR").strip().upper())


def _address_lines(line1: str, line2: str, postal_code: str, city: str, country: str) -> tuple[str, ...]:
    lines = [line1, line2, f"{postal_code} {city}".strip()]
    if country and country != "FR":
        lines.append(country)
    return tuple(line.strip() for line in lines if line and line.strip())


def seller_party(company: Company) -> PartyView:
    return PartyView(
        name=company.name,
        address_lines=_address_lines(
            company.address_line1, company.address_line2, company.postal_code, company.city, company.country
        ),
        legal_form=company.legal_form,
        capital=company.capital,
        siren=company.siren,
        siret=company.siret,
        rcs_city=company.rcs_city,
        rm_city=company.rm_city,
        vat_number=company.vat_number,
        email=company.contact_email,
        phone=company.phone,
        is_business=True,
    )


def buyer_party(contact: Contact) -> PartyView:
    return PartyView(
        name=contact.display_name,
        address_lines=_address_lines(
            contact.address_line1, contact.address_line2, contact.postal_code, contact.city, contact.country
        ),
        siren=contact.siren,
        vat_number=contact.vat_number,
        email=contact.email,
        phone=contact.phone,
        is_business=contact.kind == "entreprise",
    )


def payment_terms_label(terms: str) -> str:
    try:
        return PAYMENT_TERMS_LABELS[PaymentTerms(terms)]
    except ValueError:
        return terms


def printed_details(
    company: Company,
    contacts: list[Contact],
    payment_terms: str,
    vat_exempt: bool,
    mentions: tuple[str, ...],
    corrected_number: str = "",
    corrected_date: date | None = None,
    operation_category: str = "",
    delivery_address: PostalAddress | None = None,
) -> PrintedDetails:
    """The details printed on a document, from live data. ``delivery_address`` is kept only
    when it differs from the first buyer's billing address."""
    buyer_addresses = tuple(postal_address(c) for c in contacts)
    if delivery_address is not None and buyer_addresses and same_address(delivery_address, buyer_addresses[0]):
        delivery_address = None
    return PrintedDetails(
        seller=seller_party(company),
        buyers=tuple(buyer_party(c) for c in contacts),
        vat_exempt=vat_exempt,
        payment_terms_label=payment_terms_label(payment_terms),
        late_penalty_rate=company.late_penalty_rate,
        escompte_text=company.escompte_text,
        bank_iban_encrypted=company.iban_encrypted,
        bank_bic=company.bic,
        vat_exemption_mentions=mentions,
        corrected_number=corrected_number,
        corrected_date=corrected_date,
        seller_address=postal_address(company),
        buyer_addresses=buyer_addresses,
        operation_category=operation_category,
        vat_on_debits=bool(company.vat_on_debits),
        delivery_address=delivery_address,
    )


def _norm(value: str) -> str:
    return " ".join(value.lower().replace(",", " ").split())


def same_address(a: PostalAddress, b: PostalAddress) -> bool:
    """Whether two addresses are the same place (case, commas and spaces aside)."""
    return all(_norm(getattr(a, f)) == _norm(getattr(b, f)) for f in ("line1", "line2", "postal_code", "city")) \
        and (a.country or "FR") == (b.country or "FR")


def address_lines(address: PostalAddress | None) -> tuple[str, ...]:
    """An address as printed (the country only when it is not France)."""
    if address is None:
        return ()
    return _address_lines(address.line1, address.line2, address.postal_code, address.city, address.country)


# --- JSON ---------------------------------------------------------------------------------------


def _party_to_json(party: PartyView) -> dict:
    data = dataclasses.asdict(party)
    data["address_lines"] = list(party.address_lines)
    data["capital"] = None if party.capital is None else str(party.capital)
    return data


def _party_from_json(data: dict) -> PartyView:
    names = {f.name for f in dataclasses.fields(PartyView)}
    values = {k: v for k, v in data.items() if k in names}
    values["address_lines"] = tuple(values.get("address_lines") or ())
    capital = values.get("capital")
    values["capital"] = None if capital in (None, "") else Decimal(capital)
    return PartyView(**values)


def _address_from_json(data: dict | None) -> PostalAddress | None:
    if not data:
        return None
    names = {f.name for f in dataclasses.fields(PostalAddress)}
    return PostalAddress(**{k: str(v) for k, v in data.items() if k in names})


def to_json(details: PrintedDetails) -> str:
    addresses = {}
    if details.seller_address is not None:
        addresses = {"seller_address": dataclasses.asdict(details.seller_address),
                     "buyer_addresses": [dataclasses.asdict(a) for a in details.buyer_addresses]}
    mentions = {}
    if details.operation_category:
        mentions = {"operation_category": details.operation_category, "vat_on_debits": details.vat_on_debits,
                    "delivery_address": dataclasses.asdict(details.delivery_address)
                    if details.delivery_address else None}
    return json.dumps(
        {
            **addresses,
            **mentions,
            "version": SNAPSHOT_VERSION,
            "seller": _party_to_json(details.seller),
            "buyers": [_party_to_json(b) for b in details.buyers],
            "vat_exempt": details.vat_exempt,
            "payment_terms_label": details.payment_terms_label,
            "late_penalty_rate": str(details.late_penalty_rate),
            "escompte_text": details.escompte_text,
            "bank_iban_encrypted": details.bank_iban_encrypted,
            "bank_bic": details.bank_bic,
            "vat_exemption_mentions": list(details.vat_exemption_mentions),
            "corrected_number": details.corrected_number,
            "corrected_date": details.corrected_date.isoformat() if details.corrected_date else "",
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def from_json(text: str) -> PrintedDetails:
    data = json.loads(text)
    corrected = data.get("corrected_date") or ""
    return PrintedDetails(
        seller=_party_from_json(data["seller"]),
        buyers=tuple(_party_from_json(b) for b in data.get("buyers", ())),
        vat_exempt=bool(data.get("vat_exempt")),
        payment_terms_label=data.get("payment_terms_label", ""),
        late_penalty_rate=Decimal(data.get("late_penalty_rate", "0")),
        escompte_text=data.get("escompte_text", ""),
        bank_iban_encrypted=data.get("bank_iban_encrypted", ""),
        bank_bic=data.get("bank_bic", ""),
        vat_exemption_mentions=tuple(data.get("vat_exemption_mentions", ())),
        corrected_number=data.get("corrected_number", ""),
        corrected_date=date.fromisoformat(corrected) if corrected else None,
        seller_address=_address_from_json(data.get("seller_address")),
        buyer_addresses=tuple(a for a in map(_address_from_json, data.get("buyer_addresses", ())) if a),
        operation_category=data.get("operation_category", ""),
        vat_on_debits=bool(data.get("vat_on_debits")),
        delivery_address=_address_from_json(data.get("delivery_address")),
    )
