"""Factur-X EN 16931: the mapping of a document to the standard's terms (domain.einvoice),
its CII XML (domain.einvoice.cii), validated locally against the XSD, the EN 16931
schematron and the French CTC rules (BR-FR) bundled with the factur-x library."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from lxml import etree

from simple_erp.domain.document_view import PartyView
from simple_erp.domain.documents import FRANCHISE_TEXT, RECOVERY_INDEMNITY_TEXT
from simple_erp.domain.einvoice import (
    NO_INDEMNITY_TEXT,
    DirectDebit,
    PostalAddress,
    address_from_lines,
    buyer_frame,
    check_einvoice_complete,
    einvoice_from_view,
    missing_for_einvoice,
    unit_code,
)
from simple_erp.domain.einvoice.cii import NS, amount, cii_xml, number
from simple_erp.domain.errors import DomainError
from tests.einvoice_check import failed_assertions
from tests.unit.test_pdf import COMPANY, PERSON, make_view

IBAN = "FR7630006000011234567890189"
INTRA_EU_MENTION = "Exonération de TVA, article 262 ter I du CGI"
GERMAN_BUYER = PartyView(name="Müller GmbH", address_lines=("Hauptstraße 5", "10115 Berlin", "DE"),
                         vat_number="DE123456789", email="rechnung@mueller.de", is_business=True)
FRANCHISE_SELLER = PartyView(name="Léa Couture (EI)", address_lines=("4 rue Haute", "35000 Rennes"),
                             legal_form="EI", siren="732829320", email="lea@couture.fr")
CONSUMER = PartyView(name="Hélène Dupré", address_lines=("8 allée des Tilleuls", "44000 Nantes"),
                     email="helene.dupre@example.fr", is_business=False)


def xpath(xml: bytes, path: str) -> list[str]:
    return [x if isinstance(x, str) else (x.text or "") for x in etree.fromstring(xml).xpath(path, namespaces=NS)]


def one(xml: bytes, path: str) -> str:
    values = xpath(xml, path)
    assert len(values) == 1, (path, values)
    return values[0]


# --- the six cases of issue 12: 0 failed assertions each ----------------------------------------------


def three_rates():
    return einvoice_from_view(make_view(), seller_iban=IBAN)


def credit_note():
    view = make_view(kind="avoir", number="AV-2026-00003", corrected_number="F-2026-00042",
                     corrected_date=date(2026, 11, 1), due_date=None)
    return einvoice_from_view(view, seller_iban=IBAN)


def franchise():
    view = make_view(seller=FRANCHISE_SELLER, vat_exempt=True, number="F-2026-00007")
    return einvoice_from_view(view, seller_iban=IBAN)


def intra_eu():
    spec = [("Machine-outil", "1", "u", "5000", "0", "0"), ("Installation sur site", "2", "jour", "600", "5", "20")]
    view = make_view(spec=spec, buyers=(GERMAN_BUYER,), vat_exemption_mentions=(INTRA_EU_MENTION,), delivery_date=None)
    return einvoice_from_view(view, buyer_address=PostalAddress("Hauptstraße 5", "", "10115", "Berlin", "DE"),
                              seller_iban=IBAN)


def direct_debit():
    debit = DirectDebit("RUM-2026-000042", "FR72ZZZ123456", "FR14 2004 1010 0505 0001 3M02 606")
    return einvoice_from_view(make_view(), direct_debit=debit, seller_iban=IBAN)


def consumer():
    view = make_view(buyers=(CONSUMER,), spec=[("Cours de couture", "3", "h", "45", "0", "20")])
    return einvoice_from_view(view, seller_iban=IBAN)


CASES = {"three_rates_with_discount": three_rates, "avoir": credit_note, "franchise": franchise,
         "intra_eu_zero_rate": intra_eu, "sepa_direct_debit": direct_debit, "consumer_b2c": consumer}


@pytest.mark.parametrize("case", CASES)
def test_case_passes_xsd_en16931_and_br_fr(case):
    assert failed_assertions(cii_xml(CASES[case]())) == []


def test_a_broken_xml_fails():
    xml = cii_xml(three_rates())
    wrong_total = xml.replace(b"<ram:GrandTotalAmount>2617.08<", b"<ram:GrandTotalAmount>2617.18<")
    assert any("BR-CO-15" in m for m in failed_assertions(wrong_total))
    no_siren = xml.replace(b'<ram:ID schemeID="0002">123456789</ram:ID>', b"", 1)
    assert any("BR-FR-10" in m for m in failed_assertions(no_siren))
    not_in_xsd = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:Kind>380</ram:Kind>")
    assert any(m.startswith("[xsd]") for m in failed_assertions(not_in_xsd))


# --- what the XML says -------------------------------------------------------------------------------------


def test_invoice_header_parties_and_totals():
    xml = cii_xml(three_rates())
    assert one(xml, "//rsm:ExchangedDocument/ram:ID") == "F-2026-00042"
    assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert one(xml, "//ram:IssueDateTime/udt:DateTimeString") == "20261128"
    assert one(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == "urn:cen.eu:en16931:2017"
    seller = "//ram:SellerTradeParty"
    assert one(xml, f"{seller}/ram:Name") == "Atelier Éloïse"
    assert one(xml, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == "123456789"
    assert one(xml, f"{seller}/ram:GlobalID[@schemeID='0009']") == "12345678900012"
    assert one(xml, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR12123456789"
    assert one(xml, f"{seller}/ram:Description") == "SARL au capital de 10000 EUR, RCS Paris"
    assert one(xml, f"{seller}/ram:PostalTradeAddress/ram:PostcodeCode") == "75002"
    assert one(xml, f"{seller}/ram:PostalTradeAddress/ram:CityName") == "Paris"
    assert one(xml, f"{seller}/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert one(xml, f"{seller}/ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']") == "123456789"
    buyer = "//ram:BuyerTradeParty"
    assert one(xml, f"{buyer}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == "987654321"
    assert one(xml, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR98987654321"
    assert one(xml, f"{buyer}/ram:URIUniversalCommunication/ram:URIID[@schemeID='0225']") == "987654321"
    sums = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert one(xml, f"{sums}/ram:LineTotalAmount") == "2268.31"
    assert one(xml, f"{sums}/ram:TaxBasisTotalAmount") == "2268.31"
    assert one(xml, f"{sums}/ram:TaxTotalAmount[@currencyID='EUR']") == "348.77"
    assert one(xml, f"{sums}/ram:GrandTotalAmount") == "2617.08"
    assert one(xml, f"{sums}/ram:DuePayableAmount") == "2617.08"
    assert one(xml, "//ram:SpecifiedTradePaymentTerms/ram:Description") == "30 jours net"
    assert one(xml, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20261228"
    assert one(xml, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString") == "20261120"


def test_vat_breakdown_per_rate_and_lines():
    xml = cii_xml(three_rates())
    header = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath(xml, f"{header}/ram:RateApplicablePercent") == ["20", "10", "5.5"]
    assert xpath(xml, f"{header}/ram:BasisAmount") == ["1234.56", "1000.00", "33.75"]
    assert xpath(xml, f"{header}/ram:CalculatedAmount") == ["246.91", "100.00", "1.86"]
    assert set(xpath(xml, f"{header}/ram:CategoryCode")) == {"S"}
    line = "//ram:IncludedSupplyChainTradeLineItem"
    assert xpath(xml, f"{line}/ram:AssociatedDocumentLineDocument/ram:LineID") == ["1", "2", "3"]
    assert xpath(xml, f"{line}/ram:SpecifiedTradeProduct/ram:Name")[0] == "Développement site vitrine"
    assert xpath(xml, f"{line}/ram:SpecifiedTradeProduct/ram:Description") == ["Crème brûlée à la façon de Noël"]
    assert xpath(xml, f"{line}//ram:BilledQuantity") == ["1", "3", "2.5"]
    assert xpath(xml, f"{line}//ram:BilledQuantity/@unitCode") == ["LS", "C62", "DAY"]
    assert xpath(xml, f"{line}//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["1234.56", "12.5", "400"]
    assert xpath(xml, f"{line}//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent") \
        == ["20", "5.5", "10"]
    allowance = f"{line}//ram:SpecifiedTradeAllowanceCharge"
    assert xpath(xml, f"{allowance}/ram:ChargeIndicator/udt:Indicator") == ["false"]
    assert xpath(xml, f"{allowance}/ram:CalculationPercent") == ["10"]
    assert xpath(xml, f"{allowance}/ram:BasisAmount") == ["37.50"]
    assert xpath(xml, f"{allowance}/ram:ActualAmount") == ["3.75"]
    assert xpath(xml, f"{line}//ram:LineTotalAmount") == ["1234.56", "33.75", "1000.00"]


def test_french_notes_for_a_business_buyer():
    notes = dict(three_rates().notes)
    assert notes["PMD"].startswith("En cas de retard de paiement") and "12,15" in notes["PMD"]
    assert notes["PMT"] == RECOVERY_INDEMNITY_TEXT
    assert notes["AAB"] == "Pas d'escompte pour paiement anticipé."
    assert notes["BAR"] == "B2B"
    assert notes["AAI"] == "Merci de votre confiance.\nÀ bientôt !"
    assert "TXD" not in notes


def test_consumer_has_no_indemnity_and_email_address():
    inv = consumer()
    notes = dict(inv.notes)
    assert notes["PMT"] == NO_INDEMNITY_TEXT and notes["BAR"] == "B2C"
    xml = cii_xml(inv)
    assert one(xml, "//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") \
        == "helene.dupre@example.fr"
    assert xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization") == []
    assert xpath(xml, "//ram:BilledQuantity/@unitCode") == ["HUR"]


def test_credit_transfer_with_company_iban_and_bic():
    xml = cii_xml(three_rates())
    means = "//ram:SpecifiedTradeSettlementPaymentMeans"
    assert xpath(xml, f"{means}/ram:TypeCode") == ["58"]
    assert one(xml, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == IBAN
    assert one(xml, f"{means}/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "AGRIFRPP"
    assert one(xml, "//ram:PaymentReference") == "F-2026-00042"


def test_sepa_direct_debit_with_mandate_creditor_and_debited_account():
    xml = cii_xml(direct_debit())
    means = "//ram:SpecifiedTradeSettlementPaymentMeans"
    assert xpath(xml, f"{means}/ram:TypeCode") == ["59"]  # one code per invoice (CII-SR-467)
    assert one(xml, f"{means}/ram:PayerPartyDebtorFinancialAccount/ram:IBANID") == "FR1420041010050500013M02606"
    assert one(xml, "//ram:CreditorReferenceID") == "FR72ZZZ123456"
    assert one(xml, "//ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID") == "RUM-2026-000042"


def test_avoir_is_381_with_positive_amounts_and_its_invoice():
    inv = credit_note()
    xml = cii_xml(inv)
    assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert one(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "F-2026-00042"
    assert one(xml, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString") == "20261101"
    assert one(xml, "//ram:GrandTotalAmount") == "2617.08"  # positive: the type code says credit
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans") == []
    assert xpath(xml, "//ram:DueDateDateTime") == []


def test_franchise_is_category_e_with_the_293_b_mention():
    inv = franchise()
    xml = cii_xml(inv)
    assert set(xpath(xml, "//ram:CategoryCode")) == {"E"}
    header = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert one(xml, f"{header}/ram:ExemptionReason") == FRANCHISE_TEXT == "TVA non applicable, art. 293 B du CGI"
    assert one(xml, f"{header}/ram:ExemptionReasonCode") == "VATEX-FR-FRANCHISE"
    assert one(xml, f"{header}/ram:CalculatedAmount") == "0.00"
    assert one(xml, "//ram:GrandTotalAmount") == "2268.31"
    assert dict(inv.notes)["TXD"] == FRANCHISE_TEXT
    # no VAT number: the SIREN is the seller's tax registration (BR-E-02)
    assert one(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == "732829320"


def test_intra_eu_zero_rate_line_is_category_k_with_its_mention():
    xml = cii_xml(intra_eu())
    header = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert xpath(xml, f"{header}/ram:CategoryCode") == ["S", "K"]
    assert one(xml, f"{header}/ram:ExemptionReason") == INTRA_EU_MENTION
    assert one(xml, f"{header}/ram:ExemptionReasonCode") == "VATEX-EU-IC"
    assert one(xml, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert one(xml, "//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString") == "20261128"  # = issue date
    assert one(xml, "//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert dict(intra_eu().notes)["BAR"] == "B2BINT"


def test_other_zero_rate_mentions():
    view = make_view(spec=[("Formation professionnelle", "1", "jour", "900", "0", "0")],
                     vat_exemption_mentions=("Exonération de TVA, article 261-4-4° a du CGI",))
    inv = einvoice_from_view(view, seller_iban=IBAN)
    assert [(b.category, b.exemption_reason) for b in inv.vat_breakdown] == [
        ("E", "Exonération de TVA, article 261-4-4° a du CGI")]
    assert failed_assertions(cii_xml(inv)) == []


# --- small rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "code"), [
    ("", "C62"), ("u", "C62"), ("Unité", "C62"), ("pièce", "C62"), ("h", "HUR"), ("heure", "HUR"),
    ("jour", "DAY"), ("j", "DAY"), ("mois", "MON"), ("forfait", "LS"), ("kg", "KGM"), ("m²", "MTK"),
    ("m2", "MTK"), ("L", "LTR"), ("km", "KMT"), ("HUR", "HUR"), ("caisse en bois", "C62"),
])
def test_unit_codes(unit, code):
    assert unit_code(unit) == code


def test_address_from_printed_lines():
    assert address_from_lines(("12 rue de la Paix", "75002 Paris")) == PostalAddress(
        "12 rue de la Paix", "", "75002", "Paris", "FR")
    assert address_from_lines(("Hauptstraße 5", "Hof 2", "10115 Berlin", "DE")) == PostalAddress(
        "Hauptstraße 5", "Hof 2", "10115", "Berlin", "DE")
    assert address_from_lines(()) == PostalAddress()


def test_buyer_frame():
    assert buyer_frame(COMPANY, "FR") == "B2B"
    assert buyer_frame(PERSON, "FR") == "B2C"
    assert buyer_frame(GERMAN_BUYER, "DE") == "B2BINT"
    assert buyer_frame(PartyView(name="Sans SIREN"), "FR") == ""


def test_formats():
    assert amount(D("12")) == "12.00" and amount(D("-3.5")) == "-3.50"
    assert number(D("2.500")) == "2.5" and number(D("20.00")) == "20" and number(D("0.0125")) == "0.0125"
    assert number(D("0.00")) == "0"


def test_what_is_missing_is_named_in_french():
    bare = PartyView(name="Société sans identité")
    view = make_view(seller=bare)
    assert missing_for_einvoice(view) == ["le SIREN de la société émettrice",
                                          "le numéro de TVA intracommunautaire de la société émettrice"]
    with pytest.raises(DomainError, match="il manque : le SIREN de la société émettrice"):
        check_einvoice_complete(view)
    with pytest.raises(DomainError):
        einvoice_from_view(view)
    assert missing_for_einvoice(make_view(seller=FRANCHISE_SELLER, vat_exempt=True)) == []
    no_vat_buyer = PartyView(name="Client UE", address_lines=("1 Rue", "1000 Bruxelles", "BE"))
    view = make_view(spec=[("Machine", "1", "u", "10", "0", "0")], buyers=(no_vat_buyer,),
                     vat_exemption_mentions=(INTRA_EU_MENTION,))
    assert missing_for_einvoice(view) == [
        "le numéro de TVA intracommunautaire du client (livraison intracommunautaire)"]


def test_only_finalised_factures_and_avoirs():
    with pytest.raises(DomainError):
        einvoice_from_view(make_view(draft=True))
    with pytest.raises(DomainError):
        einvoice_from_view(make_view(kind="devis", number="D-2026-00001"))
