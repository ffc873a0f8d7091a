"""First run: the README's run command on a fresh clone, then a new user's walk.

The commit under test (``FIRST_RUN_COMMIT``, default HEAD) is cloned into a temporary
folder, and ``make run`` is started there exactly as the README says, with nothing
installed beforehand but what the machine has: it makes its own venv from
requirements.txt, takes bun from the npm registry, starts the Mollie and SendGrid
sandboxes and the app on its default ports (3000, 8000, 8765, 8766). Then Chromium
walks the seed flows as a new user: the welcome page, « 1. Société émettrice », a
contact with a complete SEPA mandate, a finalised invoice and its PDF, a cheque
received, a card payment on the Mollie sandbox's checkout (the staff screen turns to
« Paiement reçu » by itself), the invoice sent by email and found in the sandbox inbox.

The run's log must show no backend reload while nothing was edited (60 idle seconds,
then the whole walk), no "Detected database schema changes" and no traceback; editing a
Python file of the app must still reload it. Everything started is stopped by its
process group, whose leader this test started.
"""

from __future__ import annotations

import io
import re
import subprocess
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import facturx
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.browser_helpers import toast
from tests.first_run.harness import IDLE_SECONDS, RELOAD_MARKERS, SENDGRID, RunningApp

ADMIN = {"name": "Camille Durand", "email": "camille@atelier-exemple.fr", "password": "Velours-Cerise-1987"}

pytestmark = pytest.mark.first_run


def _today() -> str:
    return datetime.now(ZoneInfo("Europe/Paris")).date().strftime("%d/%m/%Y")


def _field(page: Page, label: str):
    return page.get_by_label(label, exact=True)


def _switch_on(control) -> None:
    if control.get_attribute("data-state") != "checked":
        control.click()
    expect(control).to_have_attribute("data-state", "checked")


def _create_administrator(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r".*/installation$"))
    expect(page.get_by_role("heading", name="Créer le compte administrateur")).to_be_visible()
    _field(page, "Nom complet").fill(ADMIN["name"])
    _field(page, "Email").fill(ADMIN["email"])
    _field(page, "Mot de passe").fill(ADMIN["password"])
    _field(page, "Confirmer le mot de passe").fill(ADMIN["password"])
    page.get_by_role("button", name="Créer le compte administrateur").click()
    expect(page).not_to_have_url(re.compile(r".*/installation$"))
    expect(page.locator("#user-menu")).to_contain_text(ADMIN["name"])


def _fill_company(page: Page) -> None:
    page.goto("/admin-erp")
    page.get_by_role("tab", name="1. Société émettrice").click()
    for label, value in (("Raison sociale", "Atelier Lumière"), ("Forme juridique", "SARL"),
                         ("Capital (€)", "10 000"), ("SIREN", "732829320"), ("RCS (ville)", "Lyon"),
                         ("TVA intracommunautaire", "FR44732829320"), ("Adresse", "3 rue des Arts"),
                         ("Code postal", "69001"), ("Ville", "Lyon"), ("IBAN", "FR76 3000 6000 0112 3456 7890 189"),
                         ("BIC", "AGRIFRPP"), ("Numéro d'émetteur SEPA (ICS)", "FR72ZZZ123456")):
        _field(page, label).fill(value)
    page.get_by_role("button", name="Enregistrer").click()
    toast(page, "Société émettrice enregistrée.")


def _payment_setup(page: Page) -> None:
    """« 8. Préférences ERP »: Simple Paiement and Mollie on; a bank account with the
    cheque, a Mollie account with the card."""
    page.get_by_role("tab", name="8. Préférences ERP").click()
    _switch_on(_field(page, "Activer Simple Paiement"))
    _switch_on(_field(page, "Activation du module de paiement Mollie"))
    page.locator("#preferences-save").click()
    toast(page, "Préférences enregistrées.")
    for kind, name, identifier in (("compte_bancaire", "Banque Atelier", "00012345678"), ("mollie", "Mollie", "Mollie")):
        page.get_by_role("tab", name="10. Comptes").click()
        page.get_by_role("button", name="Nouveau compte").click()
        _field(page, "Type de compte").select_option(kind)
        _field(page, "Désignation du compte").fill(name)
        _field(page, "Numéro de compte ou identifiant").fill(identifier)
        page.locator("#account-save").click()
        toast(page, "Compte enregistré.")
    # At 1 400 px every tab of Admin ERP is shown whole (the bar wraps, nothing is cut).
    for tab in page.get_by_role("tab").all():
        assert tab.evaluate("t => t.scrollWidth <= t.clientWidth && t.getBoundingClientRect().right <= innerWidth"), (
            tab.inner_text())
    for type_label, account in (("Chèque", "Banque Atelier"), ("Carte bancaire", "Mollie")):
        page.get_by_role("tab", name="12. Moyens de paiement").click()
        page.get_by_role("button", name="Nouveau moyen de paiement").click()
        _field(page, "Type de paiement").select_option(label=type_label)
        _field(page, "Compte").select_option(label=account)
        page.locator("#method-save").click()
        toast(page, "Moyen de paiement enregistré.")
        expect(page.get_by_text(f"{type_label} — {account}")).to_be_visible()


def _contact_with_mandate(page: Page, name: str) -> None:
    page.goto("/contacts/nouveau")
    page.get_by_text("Entreprise", exact=True).click()
    _field(page, "Raison sociale").fill(name)
    _field(page, "Email").fill("compta@client-exemple.fr")
    _field(page, "SIREN").fill("552100554")
    _field(page, "Adresse").fill("12 rue des Libraires")  # a business customer's address: required to invoice
    _field(page, "Code postal").fill("75005")
    _field(page, "Ville").fill("Paris")
    _field(page, "IBAN").fill("FR76 3000 6000 0112 3456 7890 189")
    _field(page, "BIC").fill("AGRIFRPP")
    _field(page, "Réf mandat SEPA").fill(f"RUM-{uuid.uuid4().hex[:10].upper()}")
    _field(page, "Date de signature mandat SEPA").fill("15/01/2026")
    page.get_by_role("button", name="Enregistrer").click()
    toast(page, "Fiche contact enregistrée.")
    expect(page.get_by_text("Mandat SEPA complet")).to_be_visible()


def _finalised_invoice(page: Page, customer: str) -> str:
    page.goto("/admin-erp")
    page.get_by_role("tab", name="3. Produits").click()
    page.get_by_role("button", name="Nouveau produit").click()
    _field(page, "Référence").fill("CONSEIL")
    _field(page, "Désignation").fill("Journée de conseil")
    _field(page, "Prix HT (€)").fill("100")
    _field(page, "Taux de TVA (%)").select_option("20")
    page.locator("#product-save").click()
    toast(page, "Produit enregistré.")
    page.goto("/erp")
    page.get_by_role("tab", name="Factures").click()
    page.get_by_role("button", name="Nouvelle facture").click()
    expect(page).to_have_url(re.compile(r".*/erp/document/\d+$"))
    page.get_by_placeholder("Lier un contact : tapez son nom…").fill(customer)
    page.locator(".contact-result", has_text=customer).click()
    expect(page.locator(".linked-contact")).to_contain_text(customer)
    page.get_by_placeholder("Ajouter un produit : référence ou désignation…").fill("CONSEIL")
    page.locator(".product-result", has_text="CONSEIL").first.click()
    expect(page.locator(".document-line")).to_have_count(1)
    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="OK").click()
    expect(page.locator("#document-status")).to_have_text("Finalisé")
    return page.url


def _generate_pdf(page: Page) -> None:
    page.get_by_role("button", name="Générer le PDF").click()
    expect(page.locator(".file-row")).to_have_count(1)
    link = page.locator(".file-link").first.get_attribute("href")
    pdf = httpx.get(link, timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Atelier Lumière" in text and "120,00" in text
    # A Factur-X: the EN 16931 XML travels inside the PDF, valid against its schema.
    number = page.locator("#document-title").inner_text().removeprefix("Facture ").strip()
    filename, xml = facturx.get_xml_from_pdf(pdf.content, check_xsd=True)
    assert filename == "factur-x.xml" and number.encode() in xml and b"732829320" in xml


def _cheque_received(page: Page) -> None:
    _field(page, "Moyen de paiement").select_option(label="Chèque — Banque Atelier")
    _field(page, "Montant (€)").fill("20")
    page.locator("#pay-request").click()
    row = page.locator(".payment-row").first
    expect(row.locator(".payment-status")).to_have_text("En attente de paiement")
    row.locator(".receive-date input").fill(_today())  # jj/mm/aaaa, as a French user types it
    dialog = page.get_by_role("alertdialog")
    for _ in range(3):  # a re-render of the row may swallow the click
        row.locator(".receive-save").click()
        try:
            expect(dialog).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    dialog.get_by_role("button", name="OK").click()
    expect(row.locator(".payment-status")).to_have_text("Paiement reçu")
    expect(row.locator(".payment-received-on")).to_have_text(_today())
    expect(page.locator("#invoice-payment-status")).to_have_text("Partiellement payée")


def _pay_on_the_checkout(client: Page) -> None:
    client.locator("#pay").click()
    client.get_by_role("button", name="paid").click()


def _card_paid_on_the_sandbox(browser: Browser, page: Page) -> None:
    """Half of the rest by card from the staff's request, the other half by the customer
    from the return page; the staff's screen, never reloaded, follows both."""
    _field(page, "Moyen de paiement").select_option(label="Carte bancaire — Mollie")
    _field(page, "Montant (€)").fill("50")
    page.locator("#pay-request").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Un paiement par carte de 50,00\u00a0€")
    dialog.get_by_role("button", name="OK").click()
    card_rows = page.locator(".payment-row", has_text="Carte bancaire")
    expect(card_rows.first.locator(".payment-status")).to_have_text("En attente de paiement")
    public_url = page.locator("#public-pay-link").inner_text()
    customer = browser.new_context(locale="fr-FR")
    try:
        client = customer.new_page()
        client.goto(public_url)
        expect(client.locator("#amount-due")).to_contain_text("100,00")
        _pay_on_the_checkout(client)
        # Back on a partly paid invoice: the payment is confirmed, the rest stays to pay.
        state = client.locator("#payment-state")
        expect(state).to_contain_text("Paiement reçu, merci !", timeout=30_000)
        expect(state).to_contain_text("Reste à régler : 50,00")
        expect(client.locator("meta[http-equiv=refresh]")).to_have_count(0)
        expect(page.locator("#invoice-payment-status")).to_have_text("Partiellement payée")
        _pay_on_the_checkout(client)
        expect(state).to_have_text("Facture réglée. Merci !", timeout=30_000)
        expect(client.locator("#pay")).to_have_count(0)
    finally:
        customer.close()
    expect(page.locator("#invoice-payment-status")).to_have_text("Payée", timeout=30_000)
    expect(card_rows).to_have_count(2)
    for i in range(2):
        expect(card_rows.nth(i).locator(".payment-status")).to_have_text("Paiement reçu")


def _send_by_email(page: Page, invoice_url: str) -> str:
    page.goto("/admin-crm")
    page.get_by_role("tab", name="13. Paramètres").click()
    _switch_on(_field(page, "Activer l'envoi de documents par email"))
    _field(page, "Saisissez votre API Key Sendgrid").fill("SG.premier-lancement.abcdefghijklmnop")
    page.locator("#email-settings-save").click()
    toast(page, "Paramètres enregistrés.")
    page.goto(invoice_url)
    number = page.locator("#document-title").inner_text().removeprefix("Facture ").strip()
    page.get_by_role("button", name="Envoyer par email").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Rubrique", exact=True).select_option(label="Factures")
    dialog.get_by_label("Modèle d'email", exact=True).select_option(index=1)
    expect(dialog.get_by_label("Destinataire", exact=True)).to_have_value("compta@client-exemple.fr")
    files = dialog.locator(".email-file")
    expect(files).to_have_count(1)
    _switch_on(files.first)
    dialog.get_by_role("button", name="Envoyer l'email avec les pièces jointes cochées").click()
    toast(page, "Email envoyé.")
    expect(page.locator(".email-row").first.locator(".email-status")).to_have_text("Envoyé")
    return number


def _reloads(app: RunningApp, since: str) -> list[str]:
    new = app.log()[len(since):]
    return [line for line in new.splitlines() if any(marker in line for marker in RELOAD_MARKERS)]


def test_make_run_on_a_fresh_clone_then_a_new_user_walks_the_seed_flows(app: RunningApp, browser: Browser, page: Page):
    ready_log, compiles = app.log(), app.compiles()
    assert "Detected database schema changes" not in ready_log, app.tail()

    # Idle: nothing edited, nobody connected — the backend must not restart.
    time.sleep(IDLE_SECONDS)
    assert _reloads(app, ready_log) == [] and app.compiles() == compiles, (
        f"the backend reloaded while idle:\n{app.tail()}")

    _create_administrator(page)
    _fill_company(page)
    _payment_setup(page)
    customer = "Boulangerie Exemple"
    _contact_with_mandate(page, customer)
    invoice_url = _finalised_invoice(page, customer)
    _generate_pdf(page)
    _cheque_received(page)
    _card_paid_on_the_sandbox(browser, page)
    number = _send_by_email(page, invoice_url)

    # The sandbox inbox holds it, with the PDF attached.
    messages = httpx.get(f"{SENDGRID}/sandbox/messages", timeout=10).json()["messages"]
    sent = [m for m in messages if number in m["subject"]]
    assert len(sent) == 1, messages
    assert sent[0]["to"] == ["compta@client-exemple.fr"]
    assert sent[0]["attachments"][0]["filename"].endswith(".pdf")
    inbox = page.context.new_page()
    inbox.goto(f"{SENDGRID}/")
    row = inbox.locator("tr", has_text=number).first
    expect(row).to_be_visible()
    expect(inbox.get_by_role("columnheader", name="Date (heure de Paris)")).to_be_visible()
    shown = datetime.strptime(row.locator("td").first.inner_text().strip(), "%d/%m/%Y %H:%M:%S")
    paris_now = datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    assert abs((paris_now - shown).total_seconds()) < 300, (shown, paris_now)  # Paris time, not UTC
    inbox.close()

    log = app.log()
    assert _reloads(app, ready_log) == [] and app.compiles() == compiles, f"the backend reloaded:\n{app.tail()}"
    assert "Traceback" not in log, log[log.index("Traceback") - 2000:][:6000]
    assert "Detected database schema changes" not in log
    # The run wrote nothing that git tracks or would add (reflex.lock/ included).
    status = subprocess.run(["git", "status", "--porcelain"], cwd=app.clone, capture_output=True, text=True,
                            check=True).stdout
    assert status == "", status

    # A developer's edit still reloads the backend.
    config = app.clone / "simple_erp" / "config.py"
    config.write_text(config.read_text(encoding="utf-8") + "\n# edited by the first-run test\n", encoding="utf-8")
    deadline = time.monotonic() + 60
    while app.compiles() == compiles and time.monotonic() < deadline:
        time.sleep(1)
    assert app.compiles() > compiles, f"editing simple_erp/config.py did not reload the backend:\n{app.tail()}"
