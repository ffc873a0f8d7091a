"""The seed's email flow: configure SendGrid, generate the invoice PDF, request a
Mollie payment, "Envoyer par email" with rubrique and modèle, untick one file, tick
the payment information, send — the SendGrid sandbox received exactly that."""

from __future__ import annotations

import base64
import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_helpers import ADMIN, toast
from tests.e2e.conftest import SENDGRID
from tests.e2e.test_mollie import _activate_mollie, _contact, _invoice, _mollie_account_and_methods, _request_mollie

pytestmark = pytest.mark.e2e


def _configure_sendgrid(page: Page) -> None:
    page.goto("/admin-crm")
    page.get_by_role("tab", name="13. Paramètres").click()
    enabled = page.locator("#email-enabled")
    if enabled.get_attribute("data-state") != "checked":
        enabled.click()
    page.get_by_label("Saisissez votre API Key Sendgrid", exact=True).fill("pas-une-cle")
    page.locator("#email-settings-save").click()
    toast(page, "SG.")  # the French message explains the expected format
    page.get_by_label("Saisissez votre API Key Sendgrid", exact=True).fill("SG.e2e-test-key.abcdefghijklmnop")
    page.locator("#email-settings-save").click()
    toast(page, "Paramètres enregistrés.")
    # The key is never sent back: only its mask.
    expect(page.get_by_label("Saisissez votre API Key Sendgrid", exact=True)).to_have_value("")
    assert "abcdefghijklmnop" not in page.content()


def test_send_invoice_with_checked_attachments_and_payment_link(browser: Browser, signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    _configure_sendgrid(page)
    _activate_mollie(page)
    _mollie_account_and_methods(page, suffix)
    customer = f"Client Email {suffix}"
    _contact(page, customer, mandate=False)
    _invoice(page, suffix, customer)
    number = page.locator("#document-title").inner_text().removeprefix("Facture ").strip()
    # Two generations: two files, the first one will be unticked.
    for expected in (1, 2):
        page.get_by_role("button", name="Générer le PDF").click()
        expect(page.locator(".file-row")).to_have_count(expected)
    _request_mollie(page, suffix, "Carte bancaire")
    toast(page, "Demande de paiement Mollie créée : le lien de paiement est prêt.")
    checkout = page.locator(".checkout-link").first.get_attribute("href")

    page.get_by_role("button", name="Envoyer par email").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("#email-rubrique").select_option(label="Factures")
    dialog.locator("#email-template").select_option(index=1)
    expect(dialog.locator("#email-subject")).to_have_value(re.compile(number))
    expect(dialog.locator("#email-to")).to_have_value("compta@client.fr")
    files = dialog.locator(".email-file")
    expect(files).to_have_count(2)
    names = [name.strip() for name in dialog.locator(".email-file-name").all_inner_texts()]
    for i in range(2):  # tick both, then untick the first
        if files.nth(i).get_attribute("data-state") != "checked":
            files.nth(i).click()
    files.nth(0).click()
    payment_info = dialog.locator("#email-payment-info")
    if payment_info.get_attribute("data-state") != "checked":
        payment_info.click()
    dialog.get_by_role("button", name="Envoyer l'email avec les pièces jointes cochées").click()
    toast(page, "Email envoyé.")
    expect(page.locator(".email-row").first.locator(".email-status")).to_have_text("Envoyé")

    messages = httpx.get(f"{SENDGRID.base_url}/sandbox/messages", timeout=10).json()["messages"]
    sent = [m for m in messages if number in m["subject"]]
    assert len(sent) == 1
    message = sent[0]
    assert message["from"]["email"] == ADMIN["email"]
    assert message["to"] == ["compta@client.fr"]
    assert [a["filename"] for a in message["attachments"]] == [names[1]]
    # The attachment is byte for byte the stored file.
    stored_link = page.locator(".file-link", has_text=names[1]).get_attribute("href")
    stored = httpx.get(stored_link, timeout=30).content
    assert base64.b64decode(message["attachments"][0]["content_base64"]) == stored
    # The body holds the payment link, and that link opens the invoice's payment page.
    links = re.findall(r"https?://\S+", message["text"])
    payment_links = [link for link in links if "/payer/" in link or link == checkout]
    assert payment_links, message["text"]
    customer_page = browser.new_context().new_page()
    try:
        customer_page.goto(payment_links[0].rstrip(".,)"))
        expect(customer_page.get_by_text(re.compile(rf"{number}|120,00"))).not_to_have_count(0)
    finally:
        customer_page.context.close()


def test_an_unanswered_send_is_uncertain_until_its_events_say_sent(signed_in: Page, backend_url: str):
    """SendGrid took the email but its answer never came: « Envoi incertain », and
    « Réessayer » asks before perhaps sending it twice. SendGrid's events (they carry the
    email's reference) then mark it « Envoyé » on the open screen."""
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    _configure_sendgrid(page)
    customer = f"Client Incertain {suffix}"
    _contact(page, customer, mandate=False)
    _invoice(page, suffix, customer)
    number = page.locator("#document-title").inner_text().removeprefix("Facture ").strip()
    page.get_by_role("button", name="Générer le PDF").click()
    expect(page.locator(".file-row")).to_have_count(1)
    api = httpx.Client(base_url=SENDGRID.base_url, timeout=10, trust_env=False)

    def mine() -> list[dict]:
        return [m for m in api.get("/sandbox/messages").json()["messages"] if number in m["subject"]]

    def wait_for_copies(count: int) -> list[dict]:  # SendGrid accepts them after the app stopped waiting
        deadline = time.monotonic() + 15
        while len(mine()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return mine()

    def send_without_answer() -> None:
        api.post("/sandbox/fail-next", json={"delay": 7}).raise_for_status()  # longer than SENDGRID_TIMEOUT (5 s)
        page.get_by_role("button", name="Envoyer par email").click()
        dialog = page.get_by_role("dialog")
        dialog.locator("#email-rubrique").select_option(label="Factures")
        dialog.locator("#email-template").select_option(index=1)
        expect(dialog.locator("#email-subject")).to_have_value(re.compile(number))
        dialog.get_by_role("button", name="Envoyer l'email avec les pièces jointes cochées").click()
        toast(page, "l'email est peut-être parti quand même")
        page.keyboard.press("Escape")
        expect(page.locator(".email-row").first.locator(".email-status")).to_have_text("Envoi incertain")

    send_without_answer()
    row = page.locator(".email-row").first
    # « Réessayer » asks first; « Annuler » sends nothing.
    row.get_by_role("button", name="Réessayer").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("cet email est peut-être déjà parti")
    confirm.get_by_role("button", name="Annuler").click()
    expect(confirm).to_have_count(0)
    [late] = wait_for_copies(1)

    # Its events arrive (signed, with the email's reference): « Envoyé », live.
    events = [{"sg_message_id": f"{late['message_id']}.filter-e2e", "event": event, "email": "compta@client.fr"}
              for event in ("processed", "delivered")]
    answer = api.post("/sandbox/event-webhook/send",
                      json={"url": f"{backend_url}/api/webhooks/sendgrid", "events": events}).json()
    assert answer["status"] == 200
    expect(row.locator(".email-status")).to_have_text("Envoyé")
    expect(row).to_contain_text("Délivré")
    expect(row.get_by_role("button", name="Réessayer")).to_have_count(0)
    assert len(mine()) == 1

    # Another one without an answer: this time the user sends it again anyway.
    send_without_answer()
    page.locator(".email-row").first.get_by_role("button", name="Réessayer").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Renvoyer quand même").click()
    toast(page, "Email envoyé.")
    expect(page.locator(".email-row").first.locator(".email-status")).to_have_text("Envoyé")
    assert len(wait_for_copies(3)) == 3  # the first, the late second, and the one sent again
    api.close()
