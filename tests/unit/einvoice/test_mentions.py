"""The 2026 reform's new mentions: the operation category (derived from the catalogue's
product kinds, the company's default, a per-document choice), the option for VAT on debits,
the delivery address, the card payment means; what finalisation requires, each missing item
named in French; and the CII XML with them, valid (XSD + EN 16931 + BR-FR)."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from simple_erp.domain.document_view import PartyView
from simple_erp.domain.einvoice import (
    DirectDebit,
    PostalAddress,
    check_einvoice_complete,
    einvoice_from_view,
    missing_at_finalisation,
)
from simple_erp.domain.einvoice.cii import NS, cii_xml
from simple_erp.domain.einvoice.mentions import (
    business_process,
    category_label,
    derive_category,
    document_category,
    vat_on_debits_applies,
)
from simple_erp.domain.errors import DomainError
from tests.einvoice_check import failed_assertions
from tests.unit.test_pdf import COMPANY, PERSON, SELLER, make_view

IBAN = "FR7630006000011234567890189"
VALID_SELLER = dataclasses.replace(SELLER, siren="732829320", siret="", vat_number="FR44732829320")
VALID_BUYER = dataclasses.replace(COMPANY, siren="552100554", vat_number="FR40552100554")
WAREHOUSE = PostalAddress("Entrepôt 4, ZI des Sables", "Quai 2", "69800", "Saint-Priest", "FR")


def xpath(xml: bytes, path: str) -> list[str]:
    return [x if isinstance(x, str) else (x.text or "") for x in etree.fromstring(xml).xpath(path, namespaces=NS)]


# --- category -------------------------------------------------------------------------------------


def test_category_from_the_lines_product_kinds():
    assert derive_category(["bien", "bien"], "services") == "biens"
    assert derive_category(["service"], "biens") == "services"
    assert derive_category(["bien", "service"], "biens") == "mixte"
    # lines that do not say (free lines, products without a kind) count as the default
    assert derive_category(["bien", ""], "biens") == "biens"
    assert derive_category(["bien", ""], "services") == "mixte"
    assert derive_category(["", ""], "services") == "services"
    assert derive_category([], "biens") == "biens"
    assert derive_category([], "inconnu") == "mixte"


def test_category_chosen_on_the_document_wins():
    assert document_category("services", ["bien", "bien"], "biens") == "services"
    assert document_category("", ["bien", "bien"], "services") == "biens"
    assert document_category("n'importe quoi", ["service"], "biens") == "services"
    assert category_label("biens") == "Livraison de biens"
    assert category_label("services") == "Prestation de services"
    assert category_label("mixte") == "Mixte"
    assert [business_process(c) for c in ("biens", "services", "mixte", "")] == ["B1", "S1", "M1", "M1"]


# --- completeness at finalisation ---------------------------------------------------------------------


def test_bare_company_and_business_customer_each_missing_item_named():
    bare_seller = PartyView(name="Société sans identité")
    bare_buyer = PartyView(name="Client SAS", is_business=True)
    view = make_view(seller=bare_seller, buyers=(bare_buyer,), delivery_date=None)
    assert missing_at_finalisation(view) == [
        "le SIREN de la société émettrice",
        "l'adresse de la société émettrice (rue, code postal, ville)",
        "la forme juridique de la société émettrice",
        "l'immatriculation de la société émettrice au RCS ou au RM (ville du greffe ou de la chambre)",
        "le numéro de TVA intracommunautaire de la société émettrice (ou le régime « Franchise en base »)",
        "le SIREN du client « Client SAS » (entreprise française)",
        "l'adresse du client « Client SAS » (rue, code postal, ville)",
        "la date de livraison ou de prestation",
    ]
    with pytest.raises(DomainError) as error:
        check_einvoice_complete(view)
    message = error.value.message
    assert message.startswith("Finalisation impossible, il manque : le SIREN de la société émettrice ;")
    assert "le SIREN du client « Client SAS »" in message and "la date de livraison ou de prestation" in message


def test_complete_documents_pass_and_invalid_sirens_are_named():
    assert missing_at_finalisation(make_view(seller=VALID_SELLER, buyers=(VALID_BUYER,))) == []
    assert missing_at_finalisation(make_view(seller=VALID_SELLER, buyers=(PERSON,))) == []  # consumer: no SIREN
    rm_artisan = dataclasses.replace(VALID_SELLER, rcs_city="", rm_city="Rhône")
    assert missing_at_finalisation(make_view(seller=rm_artisan, buyers=(VALID_BUYER,))) == []
    franchise = dataclasses.replace(VALID_SELLER, vat_number="")
    assert missing_at_finalisation(make_view(seller=franchise, buyers=(VALID_BUYER,), vat_exempt=True)) == []
    assert missing_at_finalisation(make_view(seller=franchise, buyers=(VALID_BUYER,))) == [
        "le numéro de TVA intracommunautaire de la société émettrice (ou le régime « Franchise en base »)"]
    bad = make_view(seller=dataclasses.replace(VALID_SELLER, siren="123456789"),
                    buyers=(dataclasses.replace(VALID_BUYER, siren="987654321"),))
    assert missing_at_finalisation(bad) == [
        "un SIREN valide pour la société émettrice (9 chiffres, clé de contrôle correcte)",
        "un SIREN valide pour le client « Garçon & Fils »"]
    german = PartyView(name="Müller GmbH", address_lines=("Hauptstraße 5", "10115 Berlin", "DE"), is_business=True)
    assert missing_at_finalisation(make_view(seller=VALID_SELLER, buyers=(german,))) == []  # no SIREN abroad
    # other kinds are not invoices
    assert missing_at_finalisation(make_view(kind="devis", seller=PartyView(name="X"), number="D-1")) == []
    # the structured address, when known, is what counts
    assert missing_at_finalisation(make_view(seller=VALID_SELLER, buyers=(VALID_BUYER,)),
                                   seller_address=PostalAddress("", "", "", "", "FR")) == [
        "l'adresse de la société émettrice (rue, code postal, ville)"]


# --- the XML with the new mentions: 0 failed assertions --------------------------------------------------


def mentions_invoice(**extra):
    view = make_view(seller=VALID_SELLER, buyers=(VALID_BUYER,), operation_category="biens",
                     vat_on_debits=True, **extra)
    return einvoice_from_view(view, seller_iban=IBAN, delivery_address=WAREHOUSE)


def test_goods_with_debit_option_and_delivery_address_is_valid():
    """The option for VAT on debits concerns services: a delivery of goods only has no BT-8."""
    xml = cii_xml(mentions_invoice())
    assert failed_assertions(xml) == []
    assert xpath(xml, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["B1"]
    assert xpath(xml, "//ram:DueDateTypeCode") == []
    ship = "//ram:ApplicableHeaderTradeDelivery/ram:ShipToTradeParty"
    assert xpath(xml, f"{ship}/ram:Name") == ["Garçon & Fils"]
    assert xpath(xml, f"{ship}/ram:PostalTradeAddress/ram:LineOne") == ["Entrepôt 4, ZI des Sables"]
    assert xpath(xml, f"{ship}/ram:PostalTradeAddress/ram:CityName") == ["Saint-Priest"]


@pytest.mark.parametrize("category,code", [("services", "S1"), ("mixte", "M1")])
def test_services_and_mixed_are_valid(category, code):
    view = make_view(seller=VALID_SELLER, buyers=(VALID_BUYER,), operation_category=category)
    xml = cii_xml(einvoice_from_view(view, seller_iban=IBAN))
    assert failed_assertions(xml) == []
    assert xpath(xml, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == [code]
    assert xpath(xml, "//ram:DueDateTypeCode") == []  # no debit option
    assert xpath(xml, "//ram:ShipToTradeParty") == []


def test_avoir_with_the_new_mentions_is_valid():
    view = make_view(kind="avoir", number="AV-2026-00003", corrected_number="F-2026-00042",
                     corrected_date=make_view().issue_date, due_date=None, seller=VALID_SELLER,
                     buyers=(VALID_BUYER,), operation_category="services", vat_on_debits=True)
    xml = cii_xml(einvoice_from_view(view, seller_iban=IBAN, delivery_address=WAREHOUSE))
    assert failed_assertions(xml) == []
    assert xpath(xml, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["S1"]
    # services with the option: BT-8 = 5 (CII) on every VAT breakdown
    assert set(xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:DueDateTypeCode")) == {"5"}


def test_card_payment_means_beside_transfer_and_direct_debit():
    card = cii_xml(einvoice_from_view(
        make_view(seller=VALID_SELLER, buyers=(VALID_BUYER,), operation_category="services"),
        seller_iban=IBAN, card_payment=True))
    assert failed_assertions(card) == []
    assert xpath(card, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["54"]
    transfer = cii_xml(mentions_invoice())
    assert xpath(transfer, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    debit = DirectDebit("RUM-2026-000042", "FR72ZZZ123456", "FR1420041010050500013M02606")
    sepa = cii_xml(einvoice_from_view(make_view(seller=VALID_SELLER, buyers=(VALID_BUYER,)), seller_iban=IBAN,
                                      direct_debit=debit, card_payment=True))
    assert failed_assertions(sepa) == []
    assert xpath(sepa, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["59"]


def test_documents_frozen_before_the_mentions_keep_mixte_and_no_debit_option():
    xml = cii_xml(einvoice_from_view(make_view(), seller_iban=IBAN))
    assert xpath(xml, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["M1"]
    assert xpath(xml, "//ram:DueDateTypeCode") == []


def test_a_wrong_business_process_fails_br_fr_08():
    xml = cii_xml(mentions_invoice()).replace(b"<ram:ID>B1</ram:ID>", b"<ram:ID>X1</ram:ID>")
    assert any("BR-FR-08" in m for m in failed_assertions(xml))


@pytest.mark.parametrize("opted,category,exempt,applies", [
    (True, "services", False, True), (True, "mixte", False, True), (True, "", False, True),
    (True, "biens", False, False), (True, "services", True, False), (False, "services", False, False)])
def test_the_debit_option_applies_to_services_that_charge_vat(opted, category, exempt, applies):
    assert vat_on_debits_applies(opted, category, exempt) is applies
