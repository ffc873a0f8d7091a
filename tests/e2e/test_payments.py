"""Simple Paiement, the two seed pages step by step, and live status across browsers."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_helpers import sign_in, toast
from tests.e2e.test_documents import _add_product, _link_contact, _new_contact, _new_document, _setup_company

pytestmark = pytest.mark.e2e


def _today_paris():
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def _set_simple_paiement(page: Page, on: bool) -> None:
    page.get_by_role("tab", name="8. Préférences ERP").click()
    expect(page.locator("#preferences-loaded")).to_be_attached()
    checkbox = page.locator("#pref-simple-paiement")
    if (checkbox.get_attribute("data-state") == "checked") != on:
        checkbox.click()
    page.locator("#preferences-save").click()
    toast(page, "Préférences enregistrées.")


def _activate_simple_paiement(page: Page) -> None:
    """Off: the three tabs are hidden; on: « 10. Comptes », « 11. Types de paiement »,
    « 12. Moyens de paiement » appear."""
    page.goto("/admin-erp")
    _set_simple_paiement(page, False)
    expect(page.get_by_role("tab", name="10. Comptes")).to_have_count(0)
    _set_simple_paiement(page, True)
    expect(page.get_by_role("tab", name="10. Comptes")).to_be_visible()
    expect(page.get_by_role("tab", name="11. Types de paiement")).to_be_visible()
    expect(page.get_by_role("tab", name="12. Moyens de paiement")).to_be_visible()


def _bank_account_and_cheque(page: Page, bank: str) -> None:
    page.get_by_role("tab", name="10. Comptes").click()
    page.get_by_role("button", name="Nouveau compte").click()
    page.get_by_label("Type de compte", exact=True).select_option("compte_bancaire")
    page.get_by_label("Désignation du compte", exact=True).fill(bank)
    page.get_by_label("Numéro de compte ou identifiant", exact=True).fill("00012345678")
    active = page.locator("#account-active")
    if active.get_attribute("data-state") != "checked":
        active.click()
    page.locator("#account-save").click()
    toast(page, "Compte enregistré.")
    page.get_by_role("tab", name="12. Moyens de paiement").click()
    page.get_by_role("button", name="Nouveau moyen de paiement").click()
    page.get_by_label("Type de paiement", exact=True).select_option(label="Chèque")
    page.get_by_label("Compte", exact=True).select_option(label=bank)
    page.locator("#method-save").click()
    toast(page, "Moyen de paiement enregistré.")
    expect(page.get_by_text(f"Chèque — {bank}")).to_be_visible()


def _finalised_invoice(page: Page, suffix: str, price: str) -> str:
    page.goto("/admin-erp")
    if page.get_by_label("Raison sociale", exact=True).input_value() == "":
        _setup_company(page)
    _add_product(page, f"P-{suffix}", f"Prestation {suffix}", price, "20")
    customer = f"Client Paiement {suffix}"
    _new_contact(page, customer)
    _new_document(page, "Factures", "Nouvelle facture")
    _link_contact(page, customer)
    page.get_by_label("Ajouter un produit", exact=True).fill(f"P-{suffix}")
    page.locator(".product-result").first.click()
    expect(page.locator(".document-line")).to_have_count(1)
    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#document-status")).to_have_text("Finalisé")
    return page.url


def _request(page: Page, method_label: str, amount: str) -> None:
    page.locator("#pay-method").select_option(label=method_label)
    page.locator("#pay-amount").fill(amount)
    page.locator("#pay-request").click()
    toast(page, "Demande de paiement enregistrée : en attente de paiement.")


def _open_confirmation(page: Page, row) -> None:
    """« Enregistrer » of a payment row opens its confirmation (clicked again when a
    re-render of the row swallowed the click)."""
    dialog = page.get_by_role("alertdialog")
    for _ in range(3):
        row.locator(".receive-save").click()
        try:
            expect(dialog).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            continue
    expect(dialog).to_be_visible()


def test_cheque_request_then_reception_with_confirmation(signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    bank = f"Banque {suffix}"
    _activate_simple_paiement(page)
    _bank_account_and_cheque(page, bank)
    _finalised_invoice(page, suffix, "100")  # 120,00 TTC
    expect(page.locator("#invoice-payment-status")).to_have_text("Non payée")
    expect(page.locator("#pay-amount")).to_have_value("120,00")

    _request(page, f"Chèque — {bank}", "50")
    row = page.locator(".payment-row").first
    expect(row.locator(".payment-status")).to_have_text("En attente de paiement")
    # A reception date in the future is refused.
    row.locator(".receive-date input").fill("2099-01-01")
    _open_confirmation(page, row)
    page.get_by_role("button", name="OK").click()
    toast(page, "La date de réception ne peut pas être dans le futur.")
    expect(row.locator(".payment-status")).to_have_text("En attente de paiement")
    # Annuler in the confirmation changes nothing.
    row.locator(".receive-date input").fill(_today_paris().isoformat())
    _open_confirmation(page, row)
    page.get_by_role("alertdialog").get_by_role("button", name="Annuler").click()
    expect(row.locator(".payment-status")).to_have_text("En attente de paiement")
    # OK records it.
    _open_confirmation(page, row)
    page.get_by_role("button", name="OK").click()
    expect(row.locator(".payment-status")).to_have_text("Paiement reçu")
    expect(row.locator(".payment-received-on")).to_have_text(_today_paris().strftime("%d/%m/%Y"))
    expect(page.locator("#invoice-payment-status")).to_have_text("Partiellement payée")

    # The rest: 70,00 € by default; more than due asks for confirmation first.
    expect(page.locator("#pay-amount")).to_have_value("70,00")
    page.locator("#pay-amount").fill("80")
    page.locator("#pay-request").click()
    expect(page.get_by_text(re.compile(r"Le montant dépasse le reste dû"))).to_be_visible()
    page.get_by_role("button", name="Annuler").last.click()
    _request(page, f"Chèque — {bank}", "70")
    second = page.locator(".payment-row").first  # newest first
    expect(page.locator(".payment-row")).to_have_count(2)
    _open_confirmation(page, second)
    page.get_by_role("button", name="OK").click()
    expect(second.locator(".payment-status")).to_have_text("Paiement reçu")
    expect(page.locator("#invoice-payment-status")).to_have_text("Payée")
    # The invoice list shows the same badge.
    number = page.locator("#document-title").inner_text().removeprefix("Facture ").strip()
    page.goto("/erp?type=facture")
    row = page.locator(".document-row", has_text=number)
    expect(row.locator(".list-payment-status")).to_have_text("Payée")
    # Encaissements lists both payments, with the bank account's total.
    page.get_by_role("button", name="Encaissements").click()
    expect(page.locator(".collection-row", has_text=number)).to_have_count(2)
    expect(page.locator("#collection-totals")).to_contain_text(bank)


def test_payment_status_updates_live_in_another_browser(browser: Browser, signed_in: Page, base_url: str):
    staff_a = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    bank = f"Banque Live {suffix}"
    _activate_simple_paiement(staff_a)
    _bank_account_and_cheque(staff_a, bank)
    invoice_url = _finalised_invoice(staff_a, suffix, "10")
    _request(staff_a, f"Chèque — {bank}", "12")

    context_b = browser.new_context(base_url=base_url, locale="fr-FR")
    staff_b = context_b.new_page()
    try:
        sign_in(staff_b)
        staff_b.goto(invoice_url)
        expect(staff_b.locator("#invoice-payment-status")).to_have_text("Non payée")
        expect(staff_b.locator(".payment-status").first).to_have_text("En attente de paiement")

        row = staff_a.locator(".payment-row").first
        _open_confirmation(staff_a, row)
        staff_a.get_by_role("button", name="OK").click()
        expect(row.locator(".payment-status")).to_have_text("Paiement reçu")
        # The other browser, untouched, shows it without a reload.
        expect(staff_b.locator(".payment-status").first).to_have_text("Paiement reçu")
        expect(staff_b.locator("#invoice-payment-status")).to_have_text("Payée")
    finally:
        context_b.close()
