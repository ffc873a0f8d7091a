"""An ``EInvoice`` as UN/CEFACT Cross Industry Invoice XML, Factur-X profile EN 16931
(the XML that ``providers.pdf`` embeds as ``factur-x.xml``). Element order follows the
Factur-X 1.0 EN 16931 XSD; only lxml, no I/O.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from simple_erp.domain.einvoice import EInvoice, InvoiceLine, Party, PaymentMeans, VatBreakdown

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
_TWO = Decimal("0.01")


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent, tag: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, _q(tag), {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def amount(d: Decimal) -> str:
    """Two decimals, a dot, no thousands separator ("1234.50")."""
    return str(d.quantize(_TWO))


def number(d: Decimal) -> str:
    """A quantity, price or rate without trailing zeros ("2.5", "20", "0.0125")."""
    text = f"{d.normalize():f}"
    return text if text not in ("-0", "") else "0"


def _date(parent, tag: str, d: date, qualified: bool = False) -> None:
    wrapper = _sub(parent, tag)
    _sub(wrapper, "qdt:DateTimeString" if qualified else "udt:DateTimeString", d.strftime("%Y%m%d"),
         format="102")


def _party(parent, tag: str, p: Party) -> None:
    party = _sub(parent, tag)
    if p.siret:
        _sub(party, "ram:GlobalID", p.siret, schemeID="0009")
    _sub(party, "ram:Name", p.name)
    if p.legal_info:
        _sub(party, "ram:Description", p.legal_info)
    if p.siren:
        _sub(_sub(party, "ram:SpecifiedLegalOrganization"), "ram:ID", p.siren, schemeID="0002")
    _address(party, p.address)
    scheme, identifier = p.endpoint
    if identifier:
        _sub(_sub(party, "ram:URIUniversalCommunication"), "ram:URIID", identifier, schemeID=scheme)
    if p.vat_number:
        _sub(_sub(party, "ram:SpecifiedTaxRegistration"), "ram:ID", p.vat_number, schemeID="VA")
    elif p.tax_registration:
        _sub(_sub(party, "ram:SpecifiedTaxRegistration"), "ram:ID", p.tax_registration, schemeID="FC")


def _address(parent, a) -> None:
    address = _sub(parent, "ram:PostalTradeAddress")
    for t, value in (("ram:PostcodeCode", a.postal_code), ("ram:LineOne", a.line1),
                     ("ram:LineTwo", a.line2), ("ram:CityName", a.city)):
        if value:
            _sub(address, t, value)
    _sub(address, "ram:CountryID", a.country or "FR")


def _tax(parent, tag: str, category: str, rate: Decimal, breakdown: VatBreakdown | None = None,
         due_date_code: str = "") -> None:
    tax = _sub(parent, tag)
    if breakdown is not None:
        _sub(tax, "ram:CalculatedAmount", amount(breakdown.tax_amount))
    _sub(tax, "ram:TypeCode", "VAT")
    if breakdown is not None and breakdown.exemption_reason:
        _sub(tax, "ram:ExemptionReason", breakdown.exemption_reason)
    if breakdown is not None:
        _sub(tax, "ram:BasisAmount", amount(breakdown.taxable_amount))
    _sub(tax, "ram:CategoryCode", category)
    if breakdown is not None and breakdown.exemption_code:
        _sub(tax, "ram:ExemptionReasonCode", breakdown.exemption_code)
    if due_date_code:
        _sub(tax, "ram:DueDateTypeCode", due_date_code)
    _sub(tax, "ram:RateApplicablePercent", number(rate))


def _line(parent, ln: InvoiceLine) -> None:
    item = _sub(parent, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", ln.line_id)
    product = _sub(item, "ram:SpecifiedTradeProduct")
    _sub(product, "ram:Name", ln.name)
    if ln.description:
        _sub(product, "ram:Description", ln.description)
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    _sub(_sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", number(ln.net_price))
    _sub(_sub(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", number(ln.quantity),
         unitCode=ln.unit_code)
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    _tax(settlement, "ram:ApplicableTradeTax", ln.vat_category, ln.vat_rate)
    if ln.discount_percent:
        allowance = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _sub(_sub(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _sub(allowance, "ram:CalculationPercent", number(ln.discount_percent))
        _sub(allowance, "ram:BasisAmount", amount(ln.gross_amount))
        _sub(allowance, "ram:ActualAmount", amount(ln.discount_amount))
        _sub(allowance, "ram:ReasonCode", "95")  # UNTDID 5189: discount
        _sub(allowance, "ram:Reason", "Remise")
    _sub(_sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount",
         amount(ln.net_amount))


def _payment_means(parent, m: PaymentMeans) -> None:
    means = _sub(parent, "ram:SpecifiedTradeSettlementPaymentMeans")
    _sub(means, "ram:TypeCode", m.code)
    _sub(means, "ram:Information", {"58": "Virement SEPA", "59": "Prélèvement SEPA",
                                           "54": "Carte bancaire (paiement en ligne)"}.get(m.code, ""))
    if m.debited_iban:
        _sub(_sub(means, "ram:PayerPartyDebtorFinancialAccount"), "ram:IBANID", m.debited_iban)
    if m.payee_iban:
        _sub(_sub(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", m.payee_iban)
    if m.payee_bic:
        _sub(_sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", m.payee_bic)


def _settlement(parent, inv: EInvoice) -> None:
    s = _sub(parent, "ram:ApplicableHeaderTradeSettlement")
    if inv.creditor_id:
        _sub(s, "ram:CreditorReferenceID", inv.creditor_id)
    if inv.payment_reference:
        _sub(s, "ram:PaymentReference", inv.payment_reference)
    _sub(s, "ram:InvoiceCurrencyCode", inv.currency)
    for m in inv.payment_means:
        _payment_means(s, m)
    for b in inv.vat_breakdown:
        _tax(s, "ram:ApplicableTradeTax", b.category, b.rate, b, inv.tax_due_date_code)
    if inv.payment_terms or inv.due_date or inv.mandate_reference:
        terms = _sub(s, "ram:SpecifiedTradePaymentTerms")
        if inv.payment_terms:
            _sub(terms, "ram:Description", inv.payment_terms)
        if inv.due_date:
            _date(terms, "ram:DueDateDateTime", inv.due_date)
        if inv.mandate_reference:
            _sub(terms, "ram:DirectDebitMandateID", inv.mandate_reference)
    sums = _sub(s, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(sums, "ram:LineTotalAmount", amount(inv.line_total))
    _sub(sums, "ram:TaxBasisTotalAmount", amount(inv.tax_basis_total))
    _sub(sums, "ram:TaxTotalAmount", amount(inv.tax_total), currencyID=inv.currency)
    _sub(sums, "ram:GrandTotalAmount", amount(inv.grand_total))
    _sub(sums, "ram:DuePayableAmount", amount(inv.due_payable))
    if inv.preceding_number:
        ref = _sub(s, "ram:InvoiceReferencedDocument")
        _sub(ref, "ram:IssuerAssignedID", inv.preceding_number)
        if inv.preceding_date:
            _date(ref, "ram:FormattedIssueDateTime", inv.preceding_date, qualified=True)


def cii_xml(inv: EInvoice) -> bytes:
    """The Factur-X EN 16931 CII XML (UTF-8, with its declaration)."""
    root = etree.Element(_q("rsm:CrossIndustryInvoice"), nsmap=NS)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    if inv.business_process:
        _sub(_sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", inv.business_process)
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931_GUIDELINE)
    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", inv.number)
    _sub(header, "ram:TypeCode", inv.type_code)
    _date(header, "ram:IssueDateTime", inv.issue_date)
    for subject, text in inv.notes:
        note = _sub(header, "ram:IncludedNote")
        _sub(note, "ram:Content", text)
        _sub(note, "ram:SubjectCode", subject)
    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for ln in inv.lines:
        _line(transaction, ln)
    agreement = _sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", inv.seller)
    _party(agreement, "ram:BuyerTradeParty", inv.buyer)
    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    if inv.ship_to is not None:
        ship_to = _sub(delivery, "ram:ShipToTradeParty")
        if inv.ship_to_name:
            _sub(ship_to, "ram:Name", inv.ship_to_name)
        _address(ship_to, inv.ship_to)
    elif inv.ship_to_country:
        ship_to = _sub(delivery, "ram:ShipToTradeParty")
        _sub(_sub(ship_to, "ram:PostalTradeAddress"), "ram:CountryID", inv.ship_to_country)
    if inv.delivery_date:
        _date(_sub(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", inv.delivery_date)
    _settlement(transaction, inv)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
