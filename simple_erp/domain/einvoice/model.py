"""Electronic invoicing (Factur-X EN 16931): what a finalised facture or avoir says, in the
terms of the standard (business terms BT-… / groups BG-…), built from the document's
frozen data. ``domain.einvoice.cii`` writes it as CII XML; ``providers.pdf`` embeds it.

Pure Python: no database, no XML. Amounts are positive on an avoir (type code 381 says
it is a credit note), as EN 16931 wants.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from simple_erp.domain.document_view import DocumentView, PartyView
from simple_erp.domain.documents import (
    DEFAULT_ESCOMPTE_TEXT,
    FRANCHISE_TEXT,
    RECOVERY_INDEMNITY_TEXT,
    late_penalty_text,
)
from simple_erp.domain.einvoice.mentions import business_process as category_process
from simple_erp.domain.einvoice.mentions import vat_on_debits_applies
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import round_cents
from simple_erp.domain.totals import Line, compute_totals, line_total_ht

INVOICE, CREDIT_NOTE = "380", "381"  # UNTDID 1001
CREDIT_TRANSFER, DIRECT_DEBIT = "58", "59"  # UNTDID 4461: SEPA credit transfer / direct debit
CARD = "54"  # UNTDID 4461: credit card (a Mollie card payment request)
# BT-8 (UNTDID 2475): VAT due at the invoice date. The French rules (CIUS-FR) say the option
# for VAT on debits is BT-8 = 5 in CII (3 in UBL), mandatory on service invoices then.
TAX_ON_INVOICE_DATE = "5"
STANDARD, EXEMPT, INTRA_EU, EXPORT, REVERSE_CHARGE = "S", "E", "K", "G", "AE"  # UNTDID 5305
FRANCHISE_REASON_CODE = "VATEX-FR-FRANCHISE"
DEFAULT_UNIT = "C62"  # "one": a unit without a better UN/ECE rec. 20 code
#: BT-23, « cadre de facturation » of the French reform: M1 = goods and services (mixte),
#: for documents frozen before they carried their operation category.
DEFAULT_BUSINESS_PROCESS = "M1"
NO_INDEMNITY_TEXT = ("Indemnité forfaitaire pour frais de recouvrement : non applicable "
                     "(client non professionnel).")
DEFAULT_EXEMPTION_TEXT = "Opération exonérée de TVA"

# French unit words (lower-case, accents kept) -> UN/ECE Recommendation 20 codes.
_UNITS = {
    **dict.fromkeys(("", "u", "u.", "un", "une", "unité", "unite", "unités", "pce", "pièce",
                     "piece", "pièces", "pc", "pcs", "ex", "exemplaire", "article"), "C62"),
    **dict.fromkeys(("h", "heure", "heures", "hr"), "HUR"),
    **dict.fromkeys(("min", "minute", "minutes"), "MIN"),
    **dict.fromkeys(("j", "jour", "jours", "journée", "journee", "jh", "j/h"), "DAY"),
    **dict.fromkeys(("demi-journée", "demi-journee"), "C62"),
    **dict.fromkeys(("sem", "semaine", "semaines"), "WEE"),
    **dict.fromkeys(("mois",), "MON"),
    **dict.fromkeys(("an", "ans", "année", "annee", "années"), "ANN"),
    **dict.fromkeys(("forfait", "forfaits", "fft", "ens", "ensemble"), "LS"),
    **dict.fromkeys(("lot", "lots"), "LO"),
    **dict.fromkeys(("kg", "kilo", "kilogramme", "kilogrammes"), "KGM"),
    **dict.fromkeys(("g", "gramme", "grammes"), "GRM"),
    **dict.fromkeys(("t", "tonne", "tonnes"), "TNE"),
    **dict.fromkeys(("l", "litre", "litres"), "LTR"),
    **dict.fromkeys(("ml",), "MLT"),
    **dict.fromkeys(("m", "mètre", "metre", "mètres", "ml linéaire", "mètre linéaire"), "MTR"),
    **dict.fromkeys(("km", "kilomètre", "kilometre", "kilomètres"), "KMT"),
    **dict.fromkeys(("m2", "m²", "mètre carré", "metre carre"), "MTK"),
    **dict.fromkeys(("m3", "m³", "mètre cube", "metre cube"), "MTQ"),
    **dict.fromkeys(("kwh",), "KWH"),
    **dict.fromkeys(("page", "pages"), "ZP"),
    **dict.fromkeys(("paire", "paires"), "PR"),
    **dict.fromkeys(("boîte", "boite", "boîtes", "boites"), "BX"),
    **dict.fromkeys(("carton", "cartons", "colis"), "CT"),
}
_POSTCODE_CITY = re.compile(r"^(\d{4,5}|[A-Z]{1,2}\d[\dA-Z]? ?\d[A-Z]{2}|[A-Z0-9-]{3,10})\s+(.+)$")


@dataclass(frozen=True)
class PostalAddress:
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class DirectDebit:
    """BG-19: a SEPA direct debit requested on the invoice."""

    mandate_reference: str  # BT-89, the RUM
    creditor_id: str  # BT-90, the seller's ICS
    debited_iban: str  # BT-91, compact


@dataclass(frozen=True)
class Party:
    name: str
    address: PostalAddress
    siren: str = ""  # BT-30 / BT-47, scheme 0002
    siret: str = ""  # BT-29 / BT-46, scheme 0009
    vat_number: str = ""  # BT-31 / BT-48
    tax_registration: str = ""  # BT-32 (seller without a VAT number), scheme FC
    email: str = ""
    endpoint: tuple[str, str] = ("", "")  # BT-34 / BT-49: (scheme, id)
    legal_info: str = ""  # BT-33: legal form, capital, RCS


@dataclass(frozen=True)
class InvoiceLine:
    line_id: str  # BT-126
    name: str  # BT-153
    description: str  # BT-154
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130
    net_price: Decimal  # BT-146
    gross_amount: Decimal  # quantity x net price, to the cent: base of the line discount
    discount_percent: Decimal  # BT-138
    discount_amount: Decimal  # BT-136
    net_amount: Decimal  # BT-131
    vat_category: str  # BT-151
    vat_rate: Decimal  # BT-152


@dataclass(frozen=True)
class VatBreakdown:
    """BG-23: one VAT category and rate."""

    category: str  # BT-118
    rate: Decimal  # BT-119
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_code: str = ""  # BT-121


@dataclass(frozen=True)
class PaymentMeans:
    """BG-16: how to pay."""

    code: str  # BT-81
    payee_iban: str = ""  # BT-84
    payee_bic: str = ""  # BT-86
    debited_iban: str = ""  # BT-91 (direct debit)


@dataclass(frozen=True)
class EInvoice:
    number: str  # BT-1
    type_code: str  # BT-3
    issue_date: date  # BT-2
    business_process: str  # BT-23
    notes: tuple[tuple[str, str], ...]  # BG-1: (subject code BT-21, text BT-22)
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    line_total: Decimal  # BT-106
    tax_basis_total: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    grand_total: Decimal  # BT-112
    due_payable: Decimal  # BT-115
    delivery_date: date | None = None  # BT-72
    ship_to_country: str = ""  # BT-80 (intra-EU supply)
    ship_to: PostalAddress | None = None  # BG-15, the delivery address when it differs
    ship_to_name: str = ""  # BT-70
    tax_due_date_code: str = ""  # BT-8
    due_date: date | None = None  # BT-9
    payment_terms: str = ""  # BT-20
    payment_reference: str = ""  # BT-83
    payment_means: tuple[PaymentMeans, ...] = ()
    creditor_id: str = ""  # BT-90
    mandate_reference: str = ""  # BT-89
    preceding_number: str = ""  # BT-25
    preceding_date: date | None = None  # BT-26
    currency: str = "EUR"  # BT-5


# --- small rules ----------------------------------------------------------------------------


def unit_code(unit: str) -> str:
    """The UN/ECE Recommendation 20 code of a unit typed in French ("h", "jour", "m²"…);
    a code typed as such ("HUR") is kept; anything else is C62 (one)."""
    text = " ".join((unit or "").strip().lower().split())
    if text in _UNITS:
        return _UNITS[text]
    if text.endswith(".") and text[:-1] in _UNITS:
        return _UNITS[text[:-1]]
    raw = (unit or "").strip()
    if raw in set(_UNITS.values()):
        return raw
    return DEFAULT_UNIT


def address_from_lines(lines: tuple[str, ...]) -> PostalAddress:
    """Best reading of an address printed as lines (documents frozen before the structured
    address was kept): "75002 Paris" gives postcode and city, a last two-letter line the country."""
    rest = [ln.strip() for ln in lines if ln and ln.strip()]
    country = "FR"
    if rest and re.fullmatch(r"[A-Z]{2}", rest[-1]):
        country = rest.pop()
    postal_code = city = ""
    if rest and (match := _POSTCODE_CITY.match(rest[-1])):
        postal_code, city = match.group(1), match.group(2)
        rest.pop()
    return PostalAddress(rest[0] if rest else "", ", ".join(rest[1:]), postal_code, city, country)


def _digits(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum()).upper()


def _zero_rate_category(mentions: tuple[str, ...]) -> tuple[str, str, str]:
    """(category, exemption text, VATEX code) of the 0 % lines, read from their mention."""
    text = mentions[0] if mentions else ""
    lower = text.lower()
    if "262 ter" in lower or "intracommunautaire" in lower:
        return INTRA_EU, text, "VATEX-EU-IC"
    if "autoliquidation" in lower or "283" in lower:
        return REVERSE_CHARGE, text or "Autoliquidation", "VATEX-EU-AE"
    if "exportation" in lower or "262 i" in lower or "262-i" in lower:
        return EXPORT, text, "VATEX-EU-G"
    return EXEMPT, text or DEFAULT_EXEMPTION_TEXT, ""


def _category(view: DocumentView, rate: Decimal) -> tuple[str, str, str]:
    if view.vat_exempt:
        return EXEMPT, FRANCHISE_TEXT, FRANCHISE_REASON_CODE
    if rate == 0:
        return _zero_rate_category(view.vat_exemption_mentions)
    return STANDARD, "", ""


def buyer_frame(buyer: PartyView, country: str) -> str:
    """The BAR note of the French reform: B2B (French business with its SIREN), B2BINT
    (business abroad), B2C (consumer); "" when it cannot be told (French business without SIREN)."""
    if not buyer.is_business:
        return "B2C"
    if country != "FR":
        return "B2BINT"
    return "B2B" if re.fullmatch(r"\d{9}", _digits(buyer.siren)) else ""


def _legal_info(p: PartyView) -> str:
    capital = ""
    if p.capital is not None:
        amount = f"{p.capital:.0f}" if p.capital == p.capital.to_integral_value() else f"{p.capital:.2f}"
        capital = f"au capital de {amount} EUR"
    parts = [" ".join(x for x in (p.legal_form, capital) if x), f"RCS {p.rcs_city}" if p.rcs_city else ""]
    return ", ".join(x for x in parts if x)


def _seller(p: PartyView, address: PostalAddress) -> Party:
    siren, vat = _digits(p.siren), _digits(p.vat_number)
    return Party(
        name=p.name, address=address, siren=siren, siret=_digits(p.siret), vat_number=vat,
        tax_registration="" if vat else siren, email=p.email.strip(),
        endpoint=("0225", siren) if siren else (("EM", p.email.strip()) if p.email.strip() else ("", "")),
        legal_info=_legal_info(p),
    )


def _buyer(p: PartyView, address: PostalAddress, frame: str) -> Party:
    siren = _digits(p.siren) if p.is_business else ""
    email = p.email.strip()
    if frame == "B2B":
        endpoint = ("0225", siren)
    else:
        endpoint = ("EM", email) if email else ("", "")
    return Party(name=p.name, address=address, siren=siren, vat_number=_digits(p.vat_number) if p.is_business else "",
                 email=email, endpoint=endpoint)


# --- completeness -----------------------------------------------------------------------------


def missing_for_einvoice(view: DocumentView) -> list[str]:
    """What a finalised facture or avoir lacks to be a valid Factur-X, in French ([] if none)."""
    missing = []
    if not re.fullmatch(r"\d{9}", _digits(view.seller.siren)):
        missing.append("le SIREN de la société émettrice")
    rates = {ln.vat_rate for ln in view.lines}
    if not view.vat_exempt and any(r > 0 for r in rates) and not view.seller.vat_number.strip():
        missing.append("le numéro de TVA intracommunautaire de la société émettrice")
    if not view.buyers:
        missing.append("le client")
    elif not view.vat_exempt and 0 in rates and _zero_rate_category(view.vat_exemption_mentions)[0] == INTRA_EU:
        if not view.buyers[0].vat_number.strip():
            missing.append("le numéro de TVA intracommunautaire du client (livraison intracommunautaire)")
        if not view.seller.vat_number.strip():
            missing.append("le numéro de TVA intracommunautaire de la société émettrice")
    return list(dict.fromkeys(missing))


def _valid_siren(value: str) -> bool:
    from stdnum.fr import siren

    return siren.is_valid(_digits(value))


def _address_complete(address: PostalAddress | None, lines: tuple[str, ...]) -> bool:
    address = address or address_from_lines(lines)
    return bool(address.line1 and address.postal_code and address.city)


def missing_at_finalisation(
    view: DocumentView,
    seller_address: PostalAddress | None = None,
    buyer_addresses: Sequence[PostalAddress] = (),
    delivery_address: PostalAddress | None = None,
) -> list[str]:
    """What the law (art. 242 nonies A of annex II to the CGI, the 2026 reform) and the
    Factur-X XML need before a facture or an avoir is numbered, each item in French ([]
    when nothing is missing, and always for other kinds): the seller's SIREN, address,
    legal form, RCS or RM, VAT number (unless franchise en base); each business buyer's
    address and, in France, SIREN; the date of the sale or service."""
    if view.kind not in ("facture", "avoir"):
        return []
    seller, missing = view.seller, []
    if not seller.siren.strip():
        missing.append("le SIREN de la société émettrice")
    elif not _valid_siren(seller.siren):
        missing.append("un SIREN valide pour la société émettrice (9 chiffres, clé de contrôle correcte)")
    if not _address_complete(seller_address, seller.address_lines):
        missing.append("l'adresse de la société émettrice (rue, code postal, ville)")
    if not seller.legal_form.strip():
        missing.append("la forme juridique de la société émettrice")
    if not seller.rcs_city.strip() and not seller.rm_city.strip():
        missing.append("l'immatriculation de la société émettrice au RCS ou au RM (ville du greffe ou de la chambre)")
    if not view.vat_exempt and not seller.vat_number.strip():
        missing.append("le numéro de TVA intracommunautaire de la société émettrice "
                       "(ou le régime « Franchise en base »)")
    for i, buyer in enumerate(view.buyers):
        if not buyer.is_business:
            continue
        address = buyer_addresses[i] if i < len(buyer_addresses) else None
        country = (address or address_from_lines(buyer.address_lines)).country or "FR"
        if country == "FR" and not buyer.siren.strip():
            missing.append(f"le SIREN du client « {buyer.name} » (entreprise française)")
        elif country == "FR" and not _valid_siren(buyer.siren):
            missing.append(f"un SIREN valide pour le client « {buyer.name} »")
        if not _address_complete(address, buyer.address_lines):
            missing.append(f"l'adresse du client « {buyer.name} » (rue, code postal, ville)")
    if view.delivery_date is None:
        missing.append("la date de livraison ou de prestation")
    if delivery_address is not None and not _address_complete(delivery_address, ()):
        missing.append("l'adresse de livraison complète (rue, code postal, ville), ou aucune "
                       "si c'est l'adresse de facturation")
    # what the XML needs besides (the seller's SIREN and VAT number are checked above)
    missing += [m for m in missing_for_einvoice(view) if "société émettrice" not in m]
    return list(dict.fromkeys(missing))


def check_einvoice_complete(
    view: DocumentView,
    seller_address: PostalAddress | None = None,
    buyer_addresses: Sequence[PostalAddress] = (),
    delivery_address: PostalAddress | None = None,
) -> None:
    """Raise one DomainError naming, in French, everything a facture or an avoir lacks
    before it can be finalised (``missing_at_finalisation``)."""
    missing = missing_at_finalisation(view, seller_address, buyer_addresses, delivery_address)
    if missing:
        what = " ; ".join(missing)
        raise DomainError(
            f"Finalisation impossible, il manque : {what}. Complétez la société émettrice (Admin ERP → "
            "1. Société émettrice), la fiche du client ou ce document, puis finalisez à nouveau."
        )


def _check_xml_complete(view: DocumentView) -> None:
    missing = missing_for_einvoice(view)
    if missing:
        raise DomainError(
            f"Facture électronique (Factur-X) impossible : il manque {', '.join(missing)}. Ces informations sont "
            "figées à la finalisation : complétez la société émettrice ou la fiche du client, puis "
            "corrigez ce document par un avoir et émettez-en un nouveau."
        )


# --- the mapping --------------------------------------------------------------------------------


def _lines(view: DocumentView) -> tuple[InvoiceLine, ...]:
    result = []
    for i, ln in enumerate(view.lines, start=1):
        rate = Decimal(0) if view.vat_exempt else ln.vat_rate
        net = line_total_ht(Line(ln.quantity, ln.unit_price, rate, ln.discount_percent))
        gross = round_cents(ln.quantity * ln.unit_price)
        text = [t.strip() for t in (ln.description or "").replace("\r\n", "\n").split("\n")]
        name = text[0] if text and text[0] else f"Ligne {i}"
        result.append(InvoiceLine(
            line_id=str(i), name=name, description="\n".join(t for t in text[1:] if t),
            quantity=ln.quantity, unit_code=unit_code(ln.unit), net_price=ln.unit_price,
            gross_amount=gross, discount_percent=ln.discount_percent,
            discount_amount=gross - net if ln.discount_percent else Decimal("0.00"),
            net_amount=net, vat_category=_category(view, rate)[0], vat_rate=rate,
        ))
    return tuple(result)


def _notes(view: DocumentView, frame: str) -> tuple[tuple[str, str], ...]:
    business = any(b.is_business for b in view.buyers)
    notes = [
        ("PMD", late_penalty_text(view.late_penalty_rate)),
        ("PMT", RECOVERY_INDEMNITY_TEXT if business else NO_INDEMNITY_TEXT),
        ("AAB", view.escompte_text.strip() or DEFAULT_ESCOMPTE_TEXT),
    ]
    if view.vat_exempt:
        notes.append(("TXD", FRANCHISE_TEXT))
    if frame:
        notes.append(("BAR", frame))
    if view.notes.strip():
        notes.append(("AAI", view.notes.strip()))
    return tuple(notes)


def einvoice_from_view(
    view: DocumentView,
    seller_address: PostalAddress | None = None,
    buyer_address: PostalAddress | None = None,
    direct_debit: DirectDebit | None = None,
    seller_iban: str = "",
    business_process: str = "",
    delivery_address: PostalAddress | None = None,
    card_payment: bool = False,
) -> EInvoice:
    """The EN 16931 content of a finalised facture or avoir (the first buyer is the buyer).
    ``seller_iban`` is the compact IBAN (the view's is formatted for print). BT-23 comes
    from the view's operation category (M1 for documents frozen without one); the option
    for VAT on debits is BT-8 = 5 (not on a delivery of goods only); ``delivery_address`` (frozen when it differs from the
    billing address) is the deliver-to address BG-15. Payment means: one code per invoice
    (CII-SR-467): SEPA direct debit (59) when one is requested, else card (54) when a
    Mollie card request exists (``card_payment``), else credit transfer (58)."""
    if view.kind not in ("facture", "avoir") or view.is_draft or not view.number:
        raise DomainError("Seules les factures et les avoirs finalisés sont des factures électroniques.")
    _check_xml_complete(view)
    business_process = business_process or (
        category_process(view.operation_category) if view.operation_category else DEFAULT_BUSINESS_PROCESS)
    seller_address = seller_address or address_from_lines(view.seller.address_lines)
    buyer_view = view.buyers[0]
    buyer_address = buyer_address or address_from_lines(buyer_view.address_lines)
    frame = buyer_frame(buyer_view, buyer_address.country)
    lines = _lines(view)
    totals = compute_totals([Line(ln.quantity, ln.net_price, ln.vat_rate, ln.discount_percent) for ln in lines])
    breakdown = []
    for bucket in totals.vat_buckets:
        category, reason, code = _category(view, bucket.rate)
        breakdown.append(VatBreakdown(category, bucket.rate, bucket.base_ht, bucket.vat, reason, code))
    is_credit = view.kind == "avoir"
    means: list[PaymentMeans] = []
    if not is_credit and direct_debit is not None:
        means.append(PaymentMeans(DIRECT_DEBIT, debited_iban=_digits(direct_debit.debited_iban)))
    iban = _digits(seller_iban)
    if not is_credit and card_payment and not means:
        means.append(PaymentMeans(CARD))
    if not is_credit and iban and not means:  # one payment means code per invoice (CII-SR-467)
        means.append(PaymentMeans(CREDIT_TRANSFER, payee_iban=iban, payee_bic=_digits(view.bank_bic)))
    intra_eu = any(b.category == INTRA_EU for b in breakdown)
    return EInvoice(
        number=view.number,
        type_code=CREDIT_NOTE if is_credit else INVOICE,
        issue_date=view.issue_date,
        business_process=business_process,
        notes=_notes(view, frame),
        seller=_seller(view.seller, seller_address),
        buyer=_buyer(buyer_view, buyer_address, frame),
        lines=lines,
        vat_breakdown=tuple(breakdown),
        line_total=totals.total_ht,
        tax_basis_total=totals.total_ht,
        tax_total=totals.total_vat,
        grand_total=totals.total_ttc,
        due_payable=totals.total_ttc,
        delivery_date=view.delivery_date or (view.issue_date if intra_eu else None),
        ship_to_country=buyer_address.country if intra_eu and delivery_address is None else "",
        ship_to=delivery_address,
        ship_to_name=buyer_view.name if delivery_address is not None else "",
        tax_due_date_code=(TAX_ON_INVOICE_DATE if vat_on_debits_applies(
            view.vat_on_debits, view.operation_category, view.vat_exempt) else ""),
        due_date=None if is_credit else view.due_date,
        payment_terms=view.payment_terms_label,
        payment_reference=view.number if not is_credit else "",
        payment_means=tuple(means),
        creditor_id=direct_debit.creditor_id.strip() if direct_debit and not is_credit else "",
        mandate_reference=direct_debit.mandate_reference.strip() if direct_debit and not is_credit else "",
        preceding_number=view.corrected_number if is_credit else "",
        preceding_date=view.corrected_date if is_credit else None,
    )
