"""The documents flow of the seed, clicked through in Chromium: company, product,
facture with a linked contact, preview, PDF (text checked with pypdf), avoir, devis
converted into a facture."""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

pytestmark = pytest.mark.e2e


def _norm(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", text)


def _setup_company(page: Page) -> None:
    page.goto("/admin-erp")
    expect(page.get_by_role("tab", name="1. Société émettrice")).to_be_visible()
    page.get_by_label("Raison sociale", exact=True).fill("Atelier Lumière")
    page.get_by_label("Forme juridique", exact=True).fill("SARL")
    page.get_by_label("Capital (€)", exact=True).fill("10 000")
    page.get_by_label("SIREN", exact=True).fill("732829320")
    page.get_by_label("RCS (ville)", exact=True).fill("Lyon")
    page.get_by_label("TVA intracommunautaire", exact=True).fill("FR44732829320")
    page.get_by_label("Adresse", exact=True).fill("3 rue des Arts")
    page.get_by_label("Code postal", exact=True).fill("69001")
    page.get_by_label("Ville", exact=True).fill("Lyon")
    page.get_by_label("Numéro d'émetteur SEPA (ICS)", exact=True).fill("FR00ZZZ123456")  # wrong check digits
    # exact: « Enregistrer la clé » (Mollie) is on the same tab once a company exists
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_text("Société non enregistrée : corrigez les champs signalés.").last).to_be_visible()
    page.get_by_label("Numéro d'émetteur SEPA (ICS)", exact=True).fill("FR72ZZZ123456")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_text("Société émettrice enregistrée.").last).to_be_visible()


def _add_product(page: Page, reference: str, name: str, price: str, rate: str) -> None:
    page.get_by_role("tab", name="3. Produits").click()
    page.get_by_role("button", name="Nouveau produit").click()
    page.get_by_label("Référence", exact=True).fill(reference)
    page.get_by_label("Désignation", exact=True).fill(name)
    page.get_by_label("Prix HT (€)", exact=True).fill(price)
    page.get_by_label("Taux de TVA (%)", exact=True).select_option(rate)
    page.locator("#product-save").click()
    expect(page.get_by_text("Produit enregistré.").last).to_be_visible()


def _new_contact(page: Page, name: str) -> None:
    page.goto("/contacts/nouveau")
    page.get_by_label("Raison sociale", exact=True).fill(name)
    page.get_by_label("SIREN", exact=True).fill("552100554")
    page.get_by_label("Adresse", exact=True).fill("12 rue des Libraires")
    page.get_by_label("Code postal", exact=True).fill("75005")
    page.get_by_label("Ville", exact=True).fill("Paris")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Fiche contact enregistrée.").last).to_be_visible()


def _new_document(page: Page, tab: str, button: str) -> None:
    page.goto("/erp")
    page.get_by_role("tab", name=tab).click()
    page.get_by_role("button", name=button).click()
    expect(page).to_have_url(re.compile(r".*/erp/document/\d+$"))


def _link_contact(page: Page, name: str) -> None:
    page.get_by_label("Lier un contact", exact=True).fill(name)
    page.locator(".contact-result", has_text=name).click()
    expect(page.locator(".linked-contact")).to_contain_text(name)


def _add_product_line(page: Page, reference: str) -> None:
    before = page.locator(".document-line").count()
    page.get_by_label("Ajouter un produit", exact=True).fill(reference)
    page.locator(".product-result", has_text=reference).first.click()
    expect(page.locator(".document-line")).to_have_count(before + 1)


def test_invoice_from_creation_to_pdf_then_avoir(signed_in: Page, backend_url: str):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    _setup_company(page)
    _add_product(page, f"CONS-{suffix}", "Conseil", "450", "20")
    _add_product(page, f"LIV-{suffix}", "Livre technique", "32,50", "5,5")
    customer = f"Librairie Page {suffix}"
    _new_contact(page, customer)

    _new_document(page, "Factures", "Nouvelle facture")
    expect(page.locator("#document-title")).to_have_text("Facture (brouillon)")
    _link_contact(page, customer)
    _add_product_line(page, f"CONS-{suffix}")
    _add_product_line(page, f"LIV-{suffix}")
    # Two books: 2 × 32,50 = 65,00 ; VAT 5,5 % = 3,575 -> 3,58 ; 20 % of 450 = 90,00
    qty = page.locator(".document-line").nth(1).locator(".line-quantity input")
    qty.fill("2")
    qty.blur()
    expect(page.locator("#total-ht")).to_have_text(re.compile(r"515,00"))
    expect(page.locator("#total-vat")).to_have_text(re.compile(r"93,58"))
    expect(page.locator("#total-ttc")).to_have_text(re.compile(r"608,58"))
    # A description with markup is kept as text.
    desc = page.locator(".document-line").nth(0).locator(".line-description textarea")
    desc.fill('Conseil <img src=x> <a href="http://evil">clic</a>')
    desc.blur()
    page.get_by_role("button", name="Aperçu").click()
    expect(page.locator("#preview-content")).to_contain_text('<img src=x> <a href="http://evil">clic</a>')
    expect(page.locator("#preview-content img")).to_have_count(0)
    page.get_by_role("button", name="Fermer").click()

    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#document-title")).to_have_text(re.compile(r"Facture F-\d{4}-\d{5}"))
    number = page.locator("#document-title").inner_text().removeprefix("Facture ").strip()
    expect(page.locator("#document-status")).to_have_text("Finalisé")
    expect(page.locator(".line-quantity input").first).to_be_disabled()

    page.get_by_role("button", name="Générer le PDF").click()
    expect(page.locator(".file-row")).to_have_count(1)
    expect(page.locator(".file-link")).to_have_text(f"{number}.pdf")
    url = page.locator(".file-link").get_attribute("href")
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = _norm("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    for expected in (number, "Atelier Lumière", "SARL", "732 829 320" if "732 829 320" in text else "732829320",
                     customer, "515,00 €", "93,58 €", "608,58 €", "40 €", "Pas d'escompte",
                     '<img src=x> <a href="http://evil">clic</a>'):
        assert expected in text, expected
    # A forged link is refused.
    assert httpx.get(url.rsplit("t=", 1)[0] + "t=1.abc", timeout=30).status_code == 403

    page.get_by_role("button", name="Créer un avoir").click()
    expect(page.locator("#document-title")).to_have_text("Avoir (brouillon)")
    expect(page.get_by_text(f"Issu de : Facture {number}")).to_be_visible()
    expect(page.locator("#total-ttc")).to_have_text(re.compile(r"-608,58"))


def test_devis_converted_into_facture(signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    page.goto("/admin-erp")
    if page.get_by_label("Raison sociale", exact=True).input_value() == "":
        _setup_company(page)
    _add_product(page, f"AUD-{suffix}", "Audit", "1200", "20")
    customer = f"Mairie de Test {suffix}"
    _new_contact(page, customer)
    _new_document(page, "Devis", "Nouveau devis")
    _link_contact(page, customer)
    _add_product_line(page, f"AUD-{suffix}")
    expect(page.locator("#total-ttc")).to_have_text(re.compile(r"1\s?440,00"))
    page.get_by_role("button", name="Transformer en facture").click()
    expect(page.locator("#document-title")).to_have_text("Facture (brouillon)")
    expect(page.get_by_text("Issu de : Devis (brouillon)")).to_be_visible()
    expect(page.locator(".linked-contact")).to_contain_text(customer)
    expect(page.locator("#total-ttc")).to_have_text(re.compile(r"1\s?440,00"))
