"""The 2026 reform's mentions through the services: finalisation refuses a facture that lacks
what the law and the Factur-X need (every item named in French, nothing changed, no number
used); the operation category comes from the catalogue's product kinds, the company's default
or the document; the delivery address and the debit option are frozen with the document and
printed (PDF text) and written in its XML (valid); a Mollie card request makes payment means 54."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from simple_erp.domain.einvoice.cii import NS
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.providers.pdf import render_document_pdf
from simple_erp.services import catalog, companies, contacts, documents, payments
from tests.einvoice_check import failed_assertions
from tests.services.einvoice.test_document_xml import BUYER, COMPANY, TODAY

DEBITS = "Option pour le paiement de la taxe d'après les débits"


def value(xml: bytes, path: str) -> list[str]:
    return [e.text for e in etree.fromstring(xml).xpath(path, namespaces=NS)]


def pdf_and_xml(session_factory, doc_id) -> tuple[str, bytes]:
    with session_factory() as session:
        file = documents.generate_pdf(session, doc_id, render_document_pdf)
        pdf = documents.get_file_content(session, file.id)[1]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split()), facturx.get_xml_from_pdf(pdf, check_xsd=True)[1]


def setup(session_factory, company=COMPANY, buyer=BUYER, kinds=("bien",)) -> tuple[int, int]:
    """(draft facture id, contact id) with one line per product kind."""
    with session_factory() as session:
        company_id = companies.save_company(session, None, company).id
        contact = contacts.create_contact(session, buyer, TODAY)
        doc = documents.create_document(session, "facture", TODAY, company_id=company_id)
        documents.link_contact(session, doc.id, contact.id)
        for i, kind in enumerate(kinds):
            product = catalog.save_product(session, None, {"reference": f"P{i}-{kind or 'x'}", "name": f"Article {i}",
                                                           "unit_price": "100", "vat_rate": "20", "kind": kind,
                                                           "active": "1"})
            documents.add_line(session, doc.id, product.id)
        return doc.id, contact.id


def test_finalisation_names_every_missing_item_and_changes_nothing(session_factory):
    bare = {"name": "Atelier sans identité"}
    doc_id, contact_id = setup(session_factory, bare, replace(BUYER, siren="", vat_number="", address_line1=""))
    with session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_date": ""})
    with pytest.raises(DomainError) as error, session_factory() as session:
        documents.finalize(session, doc_id, TODAY)
    message = error.value.message
    for item in ("le SIREN de la société émettrice", "l'adresse de la société émettrice",
                 "la forme juridique de la société émettrice", "au RCS ou au RM",
                 "le numéro de TVA intracommunautaire de la société émettrice (ou le régime « Franchise en base »)",
                 "le SIREN du client « Garçon & Fils » (entreprise française)",
                 "l'adresse du client « Garçon & Fils »", "la date de livraison ou de prestation"):
        assert item in message, item
    with session_factory() as session:
        doc = documents.get_document(session, doc_id)
        assert (doc.status, doc.number, doc.snapshot) == ("brouillon", None, "")
    # completed, it gets the first number: the refused attempt used none
    with session_factory() as session:
        company_id = documents.get_document(session, doc_id).company_id
        companies.save_company(session, company_id, COMPANY)
        contacts.update_contact(session, contact_id, BUYER, TODAY)
        documents.update_header(session, doc_id, {"delivery_date": TODAY.isoformat()})
    with session_factory() as session:
        assert documents.finalize(session, doc_id, TODAY).number == "F-2026-00001"


def test_a_consumer_needs_no_siren_and_devis_are_not_checked(session_factory):
    consumer = replace(BUYER, kind="particulier", company_name="", last_name="Dupré", first_name="Hélène",
                       siren="", vat_number="")
    doc_id, _ = setup(session_factory, buyer=consumer)
    with session_factory() as session:
        assert documents.finalize(session, doc_id, TODAY).number == "F-2026-00001"
        devis = documents.create_document(session, "devis", TODAY)
        documents.link_contact(session, devis.id, documents.document_contacts(session, doc_id)[0].id)
        line = documents.add_line(session, devis.id)
        documents.update_line(session, line.id, {"description": "Étude", "unit_price": "10"})
        companies.save_company(session, devis.company_id, {"legal_form": "", "rcs_city": ""})
        assert documents.finalize(session, devis.id, TODAY).number


def test_category_from_products_company_default_and_document_choice(session_factory):
    doc_id, _ = setup(session_factory, COMPANY | {"operation_category": "services"}, kinds=("bien", "bien"))
    with session_factory() as session:
        assert documents.document_view(session, doc_id).operation_category == "biens"
        line = documents.add_line(session, doc_id)  # a free line: the company's default (services)
        documents.update_line(session, line.id, {"description": "Pose", "unit_price": "50"})
        assert documents.document_view(session, doc_id).operation_category == "mixte"
        documents.update_header(session, doc_id, {"operation_category": "biens"})
        assert documents.document_view(session, doc_id).operation_category == "biens"
        assert documents.header_form(documents.get_document(session, doc_id))["operation_category"] == "biens"
        with pytest.raises(ValidationErrors) as error:
            documents.update_header(session, doc_id, {"operation_category": "autre"})
        assert error.value.errors["operation_category"] == "Catégorie de l'opération inconnue."


def test_mentions_are_frozen_printed_and_in_the_xml(session_factory):
    doc_id, _ = setup(session_factory, COMPANY | {"vat_on_debits": "1"}, kinds=("service",))
    with session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_line1": "Entrepôt Nord, quai 4",
                                                  "delivery_postal_code": "59000", "delivery_city": "Lille"})
        documents.finalize(session, doc_id, TODAY)
    # later changes of the company, the product or the draft fields never reach the finalised document
    with session_factory() as session:
        doc = documents.get_document(session, doc_id)
        companies.save_company(session, doc.company_id, {"vat_on_debits": "", "operation_category": "biens"})
        for product in catalog.list_products(session):
            catalog.save_product(session, product.id, catalog.product_form(product) | {"kind": "bien"})
        view = documents.document_view(session, doc_id)
    assert view.operation_category == "services" and view.vat_on_debits
    assert view.delivery_address_lines == ("Entrepôt Nord, quai 4", "59000 Lille")
    text, xml = pdf_and_xml(session_factory, doc_id)
    for expected in ("Catégorie de l'opération : Prestation de services", "ADRESSE DE LIVRAISON",  # CSS upper-case
                     "Entrepôt Nord, quai 4", "59000 Lille", DEBITS):
        assert expected in text, expected
    assert failed_assertions(xml) == []
    assert value(xml, "//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID") == ["S1"]
    assert set(value(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:DueDateTypeCode")) == {"5"}
    assert value(xml, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CityName") == ["Lille"]


def test_a_delivery_address_equal_to_the_billing_one_is_not_printed(session_factory):
    doc_id, _ = setup(session_factory)
    with session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_line1": "3 Place du Marché",
                                                  "delivery_postal_code": "69003", "delivery_city": "LYON"})
        documents.finalize(session, doc_id, TODAY)
    text, xml = pdf_and_xml(session_factory, doc_id)
    assert "ADRESSE DE LIVRAISON" not in text and DEBITS not in text
    assert "Catégorie de l'opération : Livraison de biens" in text
    assert value(xml, "//ram:ShipToTradeParty") == [] and value(xml, "//ram:DueDateTypeCode") == []
    assert failed_assertions(xml) == []


def test_delivery_address_fields_are_checked(session_factory):
    doc_id, _ = setup(session_factory)
    with pytest.raises(ValidationErrors) as error, session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_city": "Lille", "delivery_postal_code": "590",
                                                  "delivery_country": "France"})
    assert error.value.errors == {
        "delivery_country": "Le pays de livraison doit être un code ISO à 2 lettres (ex. FR).",
    }
    with pytest.raises(ValidationErrors) as error, session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_line1": "Quai 4", "delivery_postal_code": "590"})
    assert error.value.errors == {"delivery_postal_code": "Le code postal français doit compter 5 chiffres."}
    with session_factory() as session:
        assert documents.get_document(session, doc_id).delivery_line1 == ""
    # typed field by field, an incomplete address is kept, and finalisation names it
    with session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_line1": "Quai 4"})
    with pytest.raises(DomainError) as error, session_factory() as session:
        documents.finalize(session, doc_id, TODAY)
    assert error.value.message == (
        "Finalisation impossible, il manque : l'adresse de livraison complète (rue, code postal, ville), ou "
        "aucune si c'est l'adresse de facturation. Complétez la société émettrice (Admin ERP → 1. Société "
        "émettrice), la fiche du client ou ce document, puis finalisez à nouveau.")
    with session_factory() as session:
        documents.update_header(session, doc_id, {"delivery_postal_code": "59000", "delivery_city": "Lille"})
        assert documents.finalize(session, doc_id, TODAY).number == "F-2026-00001"


def test_company_and_product_settings_are_checked(session_factory):
    with session_factory() as session:
        company = companies.save_company(session, None, COMPANY | {"rm_city": "Rhône"})
        assert companies.company_form(company)["operation_category"] == "mixte"
        assert companies.company_form(company)["rm_city"] == "Rhône"
        with pytest.raises(ValidationErrors) as error:
            companies.save_company(session, company.id, {"operation_category": "tout"})
        assert "operation_category" in error.value.errors
        with pytest.raises(ValidationErrors) as error:
            catalog.save_product(session, None, {"reference": "X", "name": "X", "unit_price": "1", "vat_rate": "20",
                                                 "kind": "chose"})
        assert error.value.errors["kind"].startswith("La nature du produit doit être « Bien » ou « Service »")


def test_a_mollie_card_request_makes_payment_means_54(session_factory):
    doc_id, _ = setup(session_factory, buyer=replace(BUYER, iban="", bic="", rum=None, mandate_signed_on=None))
    with session_factory() as session:
        documents.finalize(session, doc_id, TODAY)
        payments.save_preferences(session, True, True)
        card = next(t.id for t in payments.list_payment_types(session) if t.code == "carte_bancaire")
        methods = {}
        for account_type in ("compte_bancaire", "mollie"):
            account = payments.save_account(session, None, {"account_type": account_type, "name": account_type,
                                                            "identifier": account_type})
            methods[account_type] = payments.save_method(session, None, {
                "payment_type_id": str(card), "account_id": str(account.id), "active": "1"}).id
        # a card payment recorded by hand (a terminal in the shop) is no online request
        payments.request_payment(session, doc_id, methods["compte_bancaire"], Decimal("20.00"), None, TODAY)
    _, xml = pdf_and_xml(session_factory, doc_id)
    assert value(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]
    with session_factory() as session:  # the payment block's request through Mollie
        payment = payments.request_payment(session, doc_id, methods["mollie"], Decimal("100.00"), None, TODAY)
        assert payment.provider == "mollie"
    _, xml = pdf_and_xml(session_factory, doc_id)
    assert failed_assertions(xml) == []
    assert value(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["54"]
