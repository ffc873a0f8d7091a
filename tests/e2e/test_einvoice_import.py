"""« Importer une facture électronique » and the XML alone from « Fichiers », in Chromium:
a supplier's Factur-X PDF (built here from a hand-written CII, as another tool makes it) is
read back on screen with its validation; a file that is not an e-invoice gets a French
message and nothing is stored; a finalised facture's XML downloads and is valid."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect
from sqlmodel import func, select

from simple_erp.services.einvoice.reception import PDF_WITHOUT_XML
from tests.browser_helpers import db_session, toast
from tests.einvoice_check import failed_assertions
from tests.einvoice_samples import SUPPLIER_CII, facturx_pdf, plain_pdf
from tests.services.einvoice.test_document_xml import BUYER, COMPANY, LINES


def _company_id() -> int:
    from simple_erp.services import companies

    with db_session() as session:
        existing = companies.list_companies(session)
        if existing:
            return existing[0].id
        return companies.save_company(session, None, COMPANY).id


def _received_count() -> int:
    from simple_erp.models import ReceivedInvoice

    with db_session() as session:
        return session.exec(select(func.count()).select_from(ReceivedInvoice)).one()


def _finalised_invoice(company_id: int) -> tuple[int, str]:
    from simple_erp.services import contacts, documents

    today = date.today()  # not before the invoices other tests of this run finalised today
    with db_session() as session:
        contact = contacts.create_contact(session, BUYER, today)
        doc = documents.create_document(session, "facture", today, company_id)
        documents.update_header(session, doc.id, {"delivery_date": "2026-11-20"})
        documents.link_contact(session, doc.id, contact.id)
        for description, quantity, unit, price, discount, rate in LINES:
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": description, "quantity": quantity, "unit": unit,
                                                     "unit_price": price, "discount_percent": discount,
                                                     "vat_rate": rate})
        documents.finalize(session, doc.id, today)
        return doc.id, documents.get_document(session, doc.id).number


def test_a_supplier_factur_x_is_read_back_and_a_broken_file_is_refused(signed_in: Page):
    page = signed_in
    _company_id()
    page.goto("/erp")
    page.get_by_role("link", name="Importer une facture électronique").click()
    expect(page).to_have_url(re.compile(r".*/erp/factures-recues$"))
    expect(page.get_by_role("heading", name="Importer une facture électronique")).to_be_visible()
    expect(page.locator("#received-empty")).to_be_visible()

    upload = page.get_by_label("Facture reçue (PDF Factur-X, XML CII ou UBL)", exact=True)
    upload.set_input_files({"name": "F20260023.pdf", "mimeType": "application/pdf", "buffer": facturx_pdf(SUPPLIER_CII)})
    toast(page, "Facture F20260023 importée (valide).")
    expect(page.locator("#received-seller-name")).to_have_text("FOURNISSEUR F SARL")
    expect(page.locator("#received-seller-ids")).to_contain_text("SIREN 732829320")
    expect(page.locator("#received-seller-ids")).to_contain_text("TVA FR44732829320")
    expect(page.locator("#received-buyer-name")).to_have_text("Ma jolie boutique SARL")
    expect(page.locator("#received-number")).to_have_text("F20260023")
    expect(page.locator("#received-kind")).to_have_text("Facture")
    expect(page.locator("#received-issue-date")).to_have_text("31/01/2026")
    expect(page.locator("#received-due-date")).to_have_text("02/03/2026")
    lines = page.locator(".received-line")
    expect(lines).to_have_count(2)
    for row, texts in zip((lines.nth(0), lines.nth(1)), (
            ("PRESTATION SUPPORT — Jour 8H-20H", "2", "unité", "60,00\u00a0€", "20 %", "120,00\u00a0€"),
            ("Huile d'olive Joio 50cl", "10", "13,50\u00a0€", "5,5 %", "135,00\u00a0€"))):
        for text in texts:
            expect(row).to_contain_text(text)
    expect(page.locator(".received-vat")).to_have_count(2)
    expect(page.locator(".received-vat").nth(1)).to_contain_text("7,43\u00a0€")
    expect(page.locator("#received-total-ht")).to_have_text("255,00\u00a0€")
    expect(page.locator("#received-total-vat")).to_have_text("31,43\u00a0€")
    expect(page.locator("#received-total-ttc")).to_have_text("286,43\u00a0€")
    expect(page.locator("#received-amount-due")).to_have_text("286,43\u00a0€")
    expect(page.locator("#received-valid")).to_have_text("valide")
    checks = page.locator(".received-check")
    expect(checks).to_have_count(3)
    expect(checks.nth(0)).to_contain_text("XSD Factur-X EN 16931 (CII, fourni par factur-x) : valide")
    expect(checks.nth(1)).to_contain_text("Schématron EN 16931 (CII) : valide")
    expect(checks.nth(2)).to_contain_text("Règles françaises BR-FR (CII) : valide")
    expect(page.locator(".received-row")).to_have_count(1)
    expect(page.locator(".received-row").first).to_contain_text("FOURNISSEUR F SARL")
    assert _received_count() == 1

    # Not an e-invoice: a French message, nothing stored, the list unchanged.
    upload.set_input_files({"name": "scan.pdf", "mimeType": "application/pdf", "buffer": plain_pdf()})
    toast(page, PDF_WITHOUT_XML)
    upload.set_input_files({"name": "notes.xml", "mimeType": "application/xml", "buffer": b"<html><p>Facture</p></html>"})
    toast(page, "Ce XML n'est pas une facture électronique (élément racine « html »)")
    # The same invoice again (its PDF made again): said so, not stored twice.
    upload.set_input_files({"name": "copie.pdf", "mimeType": "application/pdf", "buffer": facturx_pdf(SUPPLIER_CII)})
    toast(page, "Cette facture est déjà importée : facture F20260023 de FOURNISSEUR F SARL (fichier « F20260023.pdf »).")
    expect(page.locator(".received-row")).to_have_count(1)
    assert _received_count() == 1

    # The list stays after a reload, and opens the stored invoice again.
    page.reload()
    expect(page.locator(".received-row")).to_have_count(1)
    page.locator(".received-open").first.click()
    expect(page.locator("#received-total-ttc")).to_have_text("286,43\u00a0€")


def test_the_xml_alone_downloads_from_fichiers_and_is_valid(signed_in: Page):
    from simple_erp.domain.einvoice.received import parse_invoice_xml

    page = signed_in
    doc_id, number = _finalised_invoice(_company_id())
    page.goto(f"/erp/document/{doc_id}")
    expect(page.locator("#document-title")).to_contain_text(number)
    link = page.locator("#facturx-xml-link")
    expect(link).to_have_text(f"{number}_factur-x.xml")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"{number}_factur-x.xml"
    xml = open(download.path(), "rb").read()
    assert failed_assertions(xml) == []
    read = parse_invoice_xml(xml)
    assert (read.number, read.kind, read.seller.siren) == (number, "facture", "732829320")
