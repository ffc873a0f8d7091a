"""Reading back an e-invoice received from a supplier: a CII XML (Factur-X, ZUGFeRD 2) or a
UBL 2.1 Invoice / CreditNote, as the EN 16931 terms a user checks (seller and buyer, number,
type, dates, lines, VAT breakdown, totals). Pure functions on bytes, lxml only; the PDF part
(the XML embedded in a Factur-X PDF) is read in ``services.einvoice.reception``.

Anything that is not an invoice raises a ``DomainError`` with a French message.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from simple_erp.domain.errors import DomainError

CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS = {
    "rsm": CII_NS,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "inv": UBL_INVOICE_NS,
    "cn": UBL_CREDIT_NOTE_NS,
}
# UNTDID 1001 codes of credit notes (EN 16931 and the French CTC list); any other is an invoice.
CREDIT_NOTE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"})
KIND_LABELS = {"facture": "Facture", "avoir": "Avoir"}
SYNTAX_CII, SYNTAX_UBL = "CII", "UBL"

# UN/ECE Recommendation 20 codes -> the French word shown (the code itself when not listed).
UNIT_LABELS = {"C62": "unité", "EA": "unité", "H87": "pièce", "XPP": "pièce", "HUR": "heure", "MIN": "minute",
               "DAY": "jour", "WEE": "semaine", "MON": "mois", "ANN": "an", "LS": "forfait", "LO": "lot",
               "KGM": "kg", "GRM": "g", "TNE": "t", "LTR": "l", "MLT": "ml", "MTR": "m", "KMT": "km",
               "MTK": "m²", "MTQ": "m³", "KWH": "kWh", "ZP": "page"}
NOT_AN_INVOICE = ("Ce fichier n'est pas une facture électronique : déposez un PDF Factur-X, "
                  "un XML CII (Factur-X, ZUGFeRD) ou un XML UBL 2.1.")
NOT_XML = ("Ce fichier n'est ni un PDF ni un XML lisible, donc pas une facture électronique : déposez un PDF "
           "Factur-X, un XML CII (Factur-X, ZUGFeRD) ou un XML UBL 2.1.")


@dataclass(frozen=True)
class ReceivedParty:
    name: str = ""
    siren: str = ""
    siret: str = ""
    vat_number: str = ""
    address: str = ""  # one line: street, postcode city, country
    country: str = ""


@dataclass(frozen=True)
class ReceivedLine:
    line_id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal  # net, per unit
    vat_category: str
    vat_rate: Decimal | None
    net_amount: Decimal


@dataclass(frozen=True)
class ReceivedVat:
    category: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ReceivedInvoiceData:
    """What a received invoice says, read from its XML."""

    syntax: str  # CII | UBL
    guideline: str  # BT-24, e.g. urn:cen.eu:en16931:2017
    number: str
    type_code: str
    issue_date: date
    due_date: date | None
    currency: str
    seller: ReceivedParty
    buyer: ReceivedParty
    lines: tuple[ReceivedLine, ...] = field(default_factory=tuple)
    vat_breakdown: tuple[ReceivedVat, ...] = field(default_factory=tuple)
    total_ht: Decimal = Decimal("0")  # BT-109, sum of lines minus allowances plus charges
    total_vat: Decimal = Decimal("0")  # BT-110
    total_ttc: Decimal = Decimal("0")  # BT-112
    amount_due: Decimal = Decimal("0")  # BT-115
    preceding_invoice: str = ""  # BT-25, for an avoir

    @property
    def kind(self) -> str:
        return "avoir" if self.type_code in CREDIT_NOTE_CODES else "facture"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


# --- reading -----------------------------------------------------------------------------------------


def unit_label(code: str) -> str:
    return UNIT_LABELS.get(code, code)


def _parser() -> etree.XMLParser:
    """No DTD, no entity expansion, no network: a received file is untrusted."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def read_xml(data: bytes):
    """The root element of an XML file; DomainError when it is not XML."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise DomainError(NOT_XML) from exc
    if root is None:
        raise DomainError(NOT_XML)
    if root.getroottree().docinfo.doctype:  # EN 16931 XMLs have none; entities are a classic attack
        raise DomainError("Ce XML déclare un DOCTYPE (entités), ce qu'aucune facture électronique ne fait : "
                          "refusé par sécurité.")
    return root


def syntax_of(root) -> str:
    """CII or UBL, from the root element; DomainError for any other XML."""
    qname = etree.QName(root)
    if qname.namespace == CII_NS and qname.localname == "CrossIndustryInvoice":
        return SYNTAX_CII
    if (qname.namespace, qname.localname) in ((UBL_INVOICE_NS, "Invoice"), (UBL_CREDIT_NOTE_NS, "CreditNote")):
        return SYNTAX_UBL
    if qname.localname == "CrossIndustryDocument":
        raise DomainError("Ce XML est au format ZUGFeRD 1.0, antérieur à EN 16931 : il n'est pas pris en charge. "
                          "Demandez au fournisseur une facture Factur-X (ZUGFeRD 2) ou UBL 2.1.")
    if qname.localname == "SCRDMCCBDACIOMessageStructure":
        raise DomainError("Ce XML est une commande Order-X, pas une facture.")
    raise DomainError(f"Ce XML n'est pas une facture électronique (élément racine « {qname.localname} ») : "
                      "déposez un XML CII (Factur-X, ZUGFeRD) ou UBL 2.1.")


def _text(node, path: str) -> str:
    found = node.xpath(path, namespaces=NS) if node is not None else []
    if not found:
        return ""
    first = found[0]
    value = first if isinstance(first, str) else (first.text or "")
    return " ".join(value.split())


def _decimal(node, path: str, what: str, default: Decimal | None = Decimal("0")) -> Decimal | None:
    text = _text(node, path)
    if not text:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise DomainError(f"Montant illisible dans la facture ({what} : « {text[:40]} »).") from exc
    if not value.is_finite():
        raise DomainError(f"Montant illisible dans la facture ({what} : « {text[:40]} »).")
    return value


def _date(text: str, what: str, formats: tuple[str, ...]) -> date | None:
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DomainError(f"Date illisible dans la facture ({what} : « {text[:20]} »).")


def _address(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _siren(identifiers: list[tuple[str, str]]) -> str:
    """SIREN: the legal identifier with scheme 0002 (or a 9-digit one without a scheme)."""
    for scheme, value in identifiers:
        if scheme == "0002" or (not scheme and value.isdigit() and len(value) == 9):
            return value
    return ""


def _ids(node, path: str) -> list[tuple[str, str]]:
    if node is None:
        return []
    return [(e.get("schemeID", ""), " ".join((e.text or "").split())) for e in node.xpath(path, namespaces=NS)]


# --- CII ------------------------------------------------------------------------------------------------

_CII_DATE = ("%Y%m%d",)


def _cii_party(node) -> ReceivedParty:
    if node is None:
        return ReceivedParty()
    address = node.find("ram:PostalTradeAddress", NS)
    country = _text(address, "ram:CountryID")
    siret = next((v for s, v in _ids(node, "ram:GlobalID") if s == "0009"), "")
    return ReceivedParty(
        name=_text(node, "ram:Name"),
        siren=_siren(_ids(node, "ram:SpecifiedLegalOrganization/ram:ID")),
        siret=siret,
        vat_number=next((v for s, v in _ids(node, "ram:SpecifiedTaxRegistration/ram:ID") if s == "VA"), ""),
        address=_address(_text(address, "ram:LineOne"), _text(address, "ram:LineTwo"), _text(address, "ram:LineThree"),
                         " ".join(p for p in (_text(address, "ram:PostcodeCode"), _text(address, "ram:CityName")) if p),
                         country),
        country=country,
    )


def _unit_price(price: Decimal, basis: Decimal | None) -> Decimal:
    if basis is None or basis in (0, 1):
        return price
    return (price / basis).normalize()


def _cii_line(item) -> ReceivedLine:
    line_id = _text(item, "ram:AssociatedDocumentLineDocument/ram:LineID")
    what = f"ligne {line_id}"
    name = _text(item, "ram:SpecifiedTradeProduct/ram:Name")
    description = _text(item, "ram:SpecifiedTradeProduct/ram:Description")
    price_path = "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/"
    settlement = "ram:SpecifiedLineTradeSettlement/"
    return ReceivedLine(
        line_id=line_id,
        description=" — ".join(p for p in (name, description) if p),
        quantity=_decimal(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", what),
        unit=_text(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode"),
        unit_price=_unit_price(_decimal(item, price_path + "ram:ChargeAmount", what),
                               _decimal(item, price_path + "ram:BasisQuantity", what, None)),
        vat_category=_text(item, settlement + "ram:ApplicableTradeTax/ram:CategoryCode"),
        vat_rate=_decimal(item, settlement + "ram:ApplicableTradeTax/ram:RateApplicablePercent", what, None),
        net_amount=_decimal(item, settlement + "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                            what),
    )


def _cii(root) -> ReceivedInvoiceData:
    doc = root.find("rsm:ExchangedDocument", NS)
    trade = root.find("rsm:SupplyChainTradeTransaction", NS)
    agreement = trade.find("ram:ApplicableHeaderTradeAgreement", NS) if trade is not None else None
    settlement = trade.find("ram:ApplicableHeaderTradeSettlement", NS) if trade is not None else None
    number = _text(doc, "ram:ID")
    issue = _date(_text(doc, "ram:IssueDateTime/udt:DateTimeString"), "date d'émission", _CII_DATE)
    if not number or issue is None:
        raise DomainError("Ce XML CII n'a ni numéro ni date de facture : ce n'est pas une facture lisible.")
    currency = _text(settlement, "ram:InvoiceCurrencyCode") or "EUR"
    summary = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS) if settlement is not None else None
    tax_total = next((e for e in (summary.findall("ram:TaxTotalAmount", NS) if summary is not None else [])
                      if e.get("currencyID", currency) == currency), None)  # BT-110, not BT-111
    lines = tuple(_cii_line(item) for item in (trade.findall("ram:IncludedSupplyChainTradeLineItem", NS)
                                                if trade is not None else []))
    vat = tuple(
        ReceivedVat(category=_text(t, "ram:CategoryCode"), rate=_decimal(t, "ram:RateApplicablePercent", "TVA", None),
                    base=_decimal(t, "ram:BasisAmount", "base de TVA"), amount=_decimal(t, "ram:CalculatedAmount", "TVA"))
        for t in (settlement.findall("ram:ApplicableTradeTax", NS) if settlement is not None else [])
    )
    return ReceivedInvoiceData(
        syntax=SYNTAX_CII,
        guideline=_text(root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
        number=number,
        type_code=_text(doc, "ram:TypeCode"),
        issue_date=issue,
        due_date=_date(_text(settlement, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"),
                       "échéance", _CII_DATE),
        currency=currency,
        seller=_cii_party(agreement.find("ram:SellerTradeParty", NS) if agreement is not None else None),
        buyer=_cii_party(agreement.find("ram:BuyerTradeParty", NS) if agreement is not None else None),
        lines=lines,
        vat_breakdown=vat,
        total_ht=_decimal(summary, "ram:TaxBasisTotalAmount", "total HT"),
        total_vat=_decimal(tax_total, ".", "total TVA"),
        total_ttc=_decimal(summary, "ram:GrandTotalAmount", "total TTC"),
        amount_due=_decimal(summary, "ram:DuePayableAmount", "net à payer"),
        preceding_invoice=_text(settlement, "ram:InvoiceReferencedDocument/ram:IssuerAssignedID"),
    )


# --- UBL 2.1 --------------------------------------------------------------------------------------------

_UBL_DATE = ("%Y-%m-%d",)


def _ubl_party(node) -> ReceivedParty:
    if node is None:
        return ReceivedParty()
    address = node.find("cac:PostalAddress", NS)
    country = _text(address, "cac:Country/cbc:IdentificationCode")
    legal = _ids(node, "cac:PartyLegalEntity/cbc:CompanyID")
    siret = next((v for s, v in _ids(node, "cac:PartyIdentification/cbc:ID") if s == "0009"), "")
    return ReceivedParty(
        name=_text(node, "cac:PartyLegalEntity/cbc:RegistrationName") or _text(node, "cac:PartyName/cbc:Name"),
        siren=_siren(legal),
        siret=siret,
        vat_number=_text(node, "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
        address=_address(_text(address, "cbc:StreetName"), _text(address, "cbc:AdditionalStreetName"),
                         _text(address, "cac:AddressLine/cbc:Line"),
                         " ".join(p for p in (_text(address, "cbc:PostalZone"), _text(address, "cbc:CityName")) if p),
                         country),
        country=country,
    )


def _ubl_line(line, quantity_tag: str) -> ReceivedLine:
    line_id = _text(line, "cbc:ID")
    what = f"ligne {line_id}"
    name = _text(line, "cac:Item/cbc:Name")
    description = _text(line, "cac:Item/cbc:Description")
    return ReceivedLine(
        line_id=line_id,
        description=" — ".join(p for p in (name, description) if p),
        quantity=_decimal(line, f"cbc:{quantity_tag}", what),
        unit=_text(line, f"cbc:{quantity_tag}/@unitCode"),
        unit_price=_unit_price(_decimal(line, "cac:Price/cbc:PriceAmount", what),
                               _decimal(line, "cac:Price/cbc:BaseQuantity", what, None)),
        vat_category=_text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID"),
        vat_rate=_decimal(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", what, None),
        net_amount=_decimal(line, "cbc:LineExtensionAmount", what),
    )


def _ubl(root) -> ReceivedInvoiceData:
    credit = etree.QName(root).localname == "CreditNote"
    number = _text(root, "cbc:ID")
    issue = _date(_text(root, "cbc:IssueDate"), "date d'émission", _UBL_DATE)
    if not number or issue is None:
        raise DomainError("Ce XML UBL n'a ni numéro ni date de facture : ce n'est pas une facture lisible.")
    currency = _text(root, "cbc:DocumentCurrencyCode") or "EUR"
    totals = root.find("cac:LegalMonetaryTotal", NS)
    tax_total = next((t for t in root.findall("cac:TaxTotal", NS)
                      if t.find("cbc:TaxAmount", NS) is not None
                      and t.find("cbc:TaxAmount", NS).get("currencyID", currency) == currency), None)
    vat = tuple(
        ReceivedVat(category=_text(s, "cac:TaxCategory/cbc:ID"), rate=_decimal(s, "cac:TaxCategory/cbc:Percent", "TVA", None),
                    base=_decimal(s, "cbc:TaxableAmount", "base de TVA"), amount=_decimal(s, "cbc:TaxAmount", "TVA"))
        for s in (tax_total.findall("cac:TaxSubtotal", NS) if tax_total is not None else [])
    )
    line_tag, quantity_tag = ("CreditNoteLine", "CreditedQuantity") if credit else ("InvoiceLine", "InvoicedQuantity")
    return ReceivedInvoiceData(
        syntax=SYNTAX_UBL,
        guideline=_text(root, "cbc:CustomizationID"),
        number=number,
        type_code=_text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode") or ("381" if credit else "380"),
        issue_date=issue,
        due_date=_date(_text(root, "cbc:DueDate") or _text(root, "cac:PaymentMeans/cbc:PaymentDueDate"), "échéance",
                       _UBL_DATE),
        currency=currency,
        seller=_ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", NS)),
        buyer=_ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", NS)),
        lines=tuple(_ubl_line(line, quantity_tag) for line in root.findall(f"cac:{line_tag}", NS)),
        vat_breakdown=vat,
        total_ht=_decimal(totals, "cbc:TaxExclusiveAmount", "total HT"),
        total_vat=_decimal(tax_total, "cbc:TaxAmount", "total TVA"),
        total_ttc=_decimal(totals, "cbc:TaxInclusiveAmount", "total TTC"),
        amount_due=_decimal(totals, "cbc:PayableAmount", "net à payer"),
        preceding_invoice=_text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
    )


def parse_invoice(root) -> ReceivedInvoiceData:
    """The invoice a CII or UBL root element says; DomainError in French for anything else."""
    return _cii(root) if syntax_of(root) == SYNTAX_CII else _ubl(root)


def parse_invoice_xml(data: bytes) -> ReceivedInvoiceData:
    return parse_invoice(read_xml(data))


# --- storage as JSON (Decimals and dates as text, exact) -----------------------------------------------


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(data: ReceivedInvoiceData) -> str:
    return json.dumps(_plain(asdict(data)), ensure_ascii=False)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def from_json(text: str) -> ReceivedInvoiceData:
    raw = json.loads(text)
    return ReceivedInvoiceData(
        syntax=raw["syntax"], guideline=raw["guideline"], number=raw["number"], type_code=raw["type_code"],
        issue_date=date.fromisoformat(raw["issue_date"]),
        due_date=date.fromisoformat(raw["due_date"]) if raw["due_date"] else None,
        currency=raw["currency"], seller=ReceivedParty(**raw["seller"]), buyer=ReceivedParty(**raw["buyer"]),
        lines=tuple(ReceivedLine(**{**line, "quantity": Decimal(line["quantity"]), "unit_price": Decimal(line["unit_price"]),
                                    "vat_rate": _dec(line["vat_rate"]), "net_amount": Decimal(line["net_amount"])})
                    for line in raw["lines"]),
        vat_breakdown=tuple(ReceivedVat(category=v["category"], rate=_dec(v["rate"]), base=Decimal(v["base"]),
                                        amount=Decimal(v["amount"])) for v in raw["vat_breakdown"]),
        total_ht=Decimal(raw["total_ht"]), total_vat=Decimal(raw["total_vat"]), total_ttc=Decimal(raw["total_ttc"]),
        amount_due=Decimal(raw["amount_due"]), preceding_invoice=raw["preceding_invoice"],
    )
