"""The 2026 reform's mentions as the user sees them: an invoice for a French business customer
without a SIREN cannot be finalised (« Finaliser » → « OK » shows what is missing, in French,
and the invoice stays a draft); once the customer's SIREN is entered it is finalised, and its
PDF says the category of the operation (derived from the catalogue: a « bien » and a
« service », so « Mixte »), the delivery address typed in the editor and the company's option
for paying VAT on debits (which concerns services)."""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser_helpers import db_session, ensure_admin, toast

pytestmark = pytest.mark.e2e


def _norm(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", text)


def _draft(suffix: str) -> tuple[int, int]:
    """(invoice draft id, contact id): a company that opted for VAT on debits (default
    category: services), a business customer without SIREN, a line of a product that is a
    « bien » and one of a product that is a « service »."""
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import catalog, clock, companies, contacts, documents

    ensure_admin()
    today = clock.today()
    with db_session() as session:
        company = companies.save_company(session, None, {
            "name": f"Atelier {suffix}", "legal_form": "SARL", "address_line1": "3 rue de la Paix",
            "postal_code": "75002", "city": "Paris", "siren": "732829320", "rcs_city": "Paris",
            "vat_number": "FR44732829320", "operation_category": "services", "vat_on_debits": "1"})
        product = catalog.save_product(session, None, {"reference": f"CHAISE-{suffix}", "name": "Chaise en chêne",
                                                       "unit_price": "150", "vat_rate": "20", "kind": "bien",
                                                       "active": "1"})
        service = catalog.save_product(session, None, {"reference": f"MONTAGE-{suffix}", "name": "Montage",
                                                       "unit_price": "60", "vat_rate": "20", "kind": "service",
                                                       "active": "1"})
        contact = contacts.create_contact(session, ContactInput(
            kind="entreprise", company_name=f"Meubles {suffix}", address_line1="1 place Bellecour",
            postal_code="69002", city="Lyon"), today)
        doc = documents.create_document(session, "facture", today, company_id=company.id)
        documents.link_contact(session, doc.id, contact.id)
        documents.add_line(session, doc.id, product.id)
        documents.add_line(session, doc.id, service.id)
        return doc.id, contact.id


def _set_siren(contact_id: int, suffix: str) -> None:
    """What « Modifier la fiche contact » → SIREN → « Enregistrer » does."""
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import clock, contacts

    with db_session() as session:
        contacts.update_contact(session, contact_id, ContactInput(
            kind="entreprise", company_name=f"Meubles {suffix}", address_line1="1 place Bellecour",
            postal_code="69002", city="Lyon", siren="552100554"), clock.today())


def test_business_customer_needs_its_siren_then_the_pdf_shows_the_mentions(signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:6].upper()
    doc_id, contact_id = _draft(suffix)
    page.goto(f"/erp/document/{doc_id}")
    expect(page.locator("#document-status")).to_have_text("Brouillon")
    expect(page.locator("#doc-category-shown")).to_have_text("Mixte")
    expect(page.locator("#doc-vat-on-debits")).to_have_text("Option pour le paiement de la taxe d'après les débits")
    for label, value in (("Adresse de livraison", "Entrepôt Nord, quai 4"), ("Code postal (livraison)", "59000"),
                         ("Ville (livraison)", "Lille")):
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.blur()
    expect(page.get_by_label("Ville (livraison)", exact=True)).to_have_value("Lille")

    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="OK").click()
    message = f"le SIREN du client « Meubles {suffix} » (entreprise française)"
    toast(page, "Finalisation impossible, il manque")
    expect(page.locator("#finalize-error")).to_contain_text(message)
    expect(page.locator("#document-status")).to_have_text("Brouillon")
    expect(page.locator("#document-title")).to_have_text("Facture (brouillon)")

    _set_siren(contact_id, suffix)
    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="OK").click()
    toast(page, "Document finalisé : son numéro est attribué.")
    expect(page.locator("#document-title")).to_have_text(re.compile(r"Facture F-\d{4}-\d{5}"))
    expect(page.locator("#finalize-error")).to_have_count(0)

    page.get_by_role("button", name="Générer le PDF").click()
    expect(page.locator(".file-row")).to_have_count(1)
    response = httpx.get(page.locator(".file-link").first.get_attribute("href"), timeout=30)
    assert response.status_code == 200
    text = _norm("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    for expected in ("Catégorie de l'opération : Mixte", "ADRESSE DE LIVRAISON",
                     "Entrepôt Nord, quai 4", "59000 Lille", "Option pour le paiement de la taxe d'après les débits",
                     "552100554" if "552100554" in text else "552 100 554"):
        assert expected in text, expected
