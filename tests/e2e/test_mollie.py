"""Mollie through the local sandbox: card payment by the customer on the public page
while the staff's open invoice updates live; a failed payment and its retry; SEPA
direct debits refused without a mandate, then paid or failed."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import MOLLIE
from tests.e2e.test_documents import _add_product, _link_contact, _new_document, _setup_company
from tests.e2e.test_payments import _activate_simple_paiement

from simple_erp.domain.money import parse_amount  # noqa: E402
from tests.browser_helpers import db_session, toast  # noqa: E402
from tests.prenotice_fixtures import backdated_notice  # noqa: E402

pytestmark = pytest.mark.e2e


def _activate_mollie(page: Page) -> None:
    _activate_simple_paiement(page)
    page.get_by_role("tab", name="8. Préférences ERP").click()
    mollie = page.locator("#pref-mollie")
    if mollie.get_attribute("data-state") != "checked":
        mollie.click()
    page.locator("#preferences-save").click()
    toast(page, "Préférences enregistrées.")


def _mollie_account_and_methods(page: Page, suffix: str) -> None:
    page.get_by_role("tab", name="10. Comptes").click()
    page.get_by_role("button", name="Nouveau compte").click()
    page.get_by_label("Type de compte", exact=True).select_option("mollie")
    page.get_by_label("Désignation du compte", exact=True).fill(f"Mollie {suffix}")
    page.get_by_label("Numéro de compte ou identifiant", exact=True).fill("Mollie")
    page.locator("#account-save").click()
    toast(page, "Compte enregistré.")
    for type_label in ("Carte bancaire", "Prélèvement SEPA"):
        page.get_by_role("tab", name="12. Moyens de paiement").click()
        page.get_by_role("button", name="Nouveau moyen de paiement").click()
        page.get_by_label("Type de paiement", exact=True).select_option(label=type_label)
        page.get_by_label("Compte", exact=True).select_option(label=f"Mollie {suffix}")
        page.locator("#method-save").click()
        toast(page, "Moyen de paiement enregistré.")


def _contact(page: Page, name: str, mandate: bool) -> None:
    page.goto("/contacts/nouveau")
    page.get_by_label("Raison sociale", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill("compta@client.fr")
    page.get_by_label("SIREN", exact=True).fill("552100554")
    page.get_by_label("Adresse", exact=True).fill("3 place du Marché")
    page.get_by_label("Code postal", exact=True).fill("69003")
    page.get_by_label("Ville", exact=True).fill("Lyon")
    if mandate:
        page.get_by_label("IBAN", exact=True).fill("FR76 3000 6000 0112 3456 7890 189")
        page.get_by_label("BIC", exact=True).fill("AGRIFRPP")
        page.get_by_label("Réf mandat SEPA", exact=True).fill(f"RUM-{uuid.uuid4().hex[:12].upper()}")
        page.get_by_label("Date de signature mandat SEPA", exact=True).fill("2026-01-15")
    page.get_by_role("button", name="Enregistrer").click()
    toast(page, "Fiche contact enregistrée.")


def _invoice(page: Page, suffix: str, customer: str, price: str = "100") -> str:
    page.goto("/admin-erp")
    if page.get_by_label("Raison sociale", exact=True).input_value() == "":
        _setup_company(page)
    expect(page.locator("#mollie-sandbox-badge")).to_have_text("Mode test — sandbox Mollie")
    _add_product(page, f"M-{suffix}", f"Service {suffix}", price, "20")
    _new_document(page, "Factures", "Nouvelle facture")
    _link_contact(page, customer)
    page.get_by_label("Ajouter un produit", exact=True).fill(f"M-{suffix}")
    page.locator(".product-result").first.click()
    expect(page.locator(".document-line")).to_have_count(1)
    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#document-status")).to_have_text("Finalisé")
    return page.url


def _request_mollie(page: Page, suffix: str, type_label: str) -> None:
    page.locator("#pay-method").select_option(label=f"{type_label} — Mollie {suffix}")
    page.locator("#pay-request").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Envoyer la demande de paiement via Mollie ?")
    page.get_by_role("button", name="OK").click()


def _today() -> str:
    return datetime.now(ZoneInfo("Europe/Paris")).date().strftime("%d/%m/%Y")


def test_card_payment_by_the_customer_updates_the_staff_screen_live(browser: Browser, signed_in: Page, base_url: str):
    staff = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    _activate_mollie(staff)
    _mollie_account_and_methods(staff, suffix)
    customer = f"Client Carte {suffix}"
    _contact(staff, customer, mandate=False)
    _invoice(staff, suffix, customer)
    # Annuler in the confirmation creates nothing.
    staff.locator("#pay-method").select_option(label=f"Carte bancaire — Mollie {suffix}")
    staff.locator("#pay-request").click()
    staff.get_by_role("alertdialog").get_by_role("button", name="Annuler").click()
    expect(staff.locator(".payment-row")).to_have_count(0)
    _request_mollie(staff, suffix, "Carte bancaire")
    toast(staff, "Demande de paiement Mollie créée : le lien de paiement est prêt.")
    row = staff.locator(".payment-row").first
    expect(row.locator(".payment-status")).to_have_text("En attente de paiement")
    expect(row.locator(".checkout-link")).to_be_visible()
    public_url = staff.locator("#public-pay-link").inner_text()

    customer_context = browser.new_context(locale="fr-FR")
    client = customer_context.new_page()
    try:
        client.goto(public_url)
        expect(client.locator("#amount-due")).to_contain_text("120,00")
        # First attempt fails, the customer retries and pays.
        client.locator("#pay").click()
        expect(client.get_by_role("button", name="failed")).to_be_visible()
        client.get_by_role("button", name="failed").click()
        expect(client.locator("#payment-state")).to_contain_text("échoué")
        expect(client.get_by_role("button", name="Réessayer")).to_be_visible()
        client.get_by_role("button", name="Réessayer").click()
        client.get_by_role("button", name="paid").click()
        expect(client.locator("#payment-state")).to_have_text("Facture réglée. Merci !", timeout=30_000)
        # The staff's screen, untouched, shows it.
        expect(staff.locator("#invoice-payment-status")).to_have_text("Payée")
        paid_row = staff.locator(".payment-row", has_text="Paiement reçu")
        expect(paid_row).to_have_count(1)
        expect(paid_row.locator(".payment-received-on")).to_have_text(_today())
        expect(staff.locator(".payment-row", has_text="Échoué")).to_have_count(1)
        # An unknown token reveals nothing.
        response = httpx.get(public_url.rsplit("/", 1)[0] + "/inconnu", timeout=10)
        assert response.status_code == 404 and "Facture" not in response.text
    finally:
        customer_context.close()


def _settle_latest_debit(status: str) -> None:
    state = httpx.get(f"{MOLLIE.base_url}/sandbox/state", timeout=10).json()
    payments = [p for p in state["payments"] if p.get("method") == "directdebit" and p["status"] == "pending"]
    assert payments, state
    response = httpx.post(f"{MOLLIE.base_url}/sandbox/payments/{payments[-1]['id']}/settle",
                          data={"status": status}, timeout=10)
    assert response.status_code < 400, response.text


@pytest.mark.parametrize("outcome", ["paid", "failed"])
def test_sepa_direct_debit(signed_in: Page, outcome: str):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    _activate_mollie(page)
    _mollie_account_and_methods(page, suffix)
    without = f"Sans Mandat {suffix}"
    _contact(page, without, mandate=False)
    _invoice(page, suffix, without)
    _request_mollie(page, suffix, "Prélèvement SEPA")
    toast(page, "Prélèvement SEPA impossible")
    expect(page.get_by_text(re.compile(r"IBAN.*BIC.*Réf mandat SEPA.*Date de signature mandat SEPA")).last).to_be_visible()
    expect(page.locator(".payment-row")).to_have_count(0)  # refused: nothing recorded

    with_mandate = f"Avec Mandat {suffix}"
    _contact(page, with_mandate, mandate=True)
    invoice_url = _invoice(page, suffix + "B", with_mandate)
    # No debit before the customer is pre-notified (N days ahead): refused, nothing recorded.
    _request_mollie(page, suffix, "Prélèvement SEPA")
    toast(page, "Pré-notification requise")
    expect(page.locator(".payment-row")).to_have_count(0)
    with db_session() as session:  # a notice of this amount, emailed 30 days ago
        backdated_notice(session, int(invoice_url.rstrip("/").rsplit("/", 1)[1]),
                         parse_amount(page.locator("#pay-amount").input_value()))
    page.reload()
    _request_mollie(page, suffix, "Prélèvement SEPA")
    row = page.locator(".payment-row").first
    expect(row.locator(".payment-status")).to_have_text("Prélèvement en cours")
    _settle_latest_debit(outcome)
    if outcome == "paid":
        expect(row.locator(".payment-status")).to_have_text("Paiement reçu")
        expect(page.locator("#invoice-payment-status")).to_have_text("Payée")
    else:
        expect(row.locator(".payment-status")).to_have_text("Échoué")
        expect(page.locator("#invoice-payment-status")).to_have_text("Non payée")
