"""Relances, as the user and the customer see them: two invoices of a company with Mollie
on, 10 days late (set up through the services). The scheduler (every 2 s here) sends each
its J+7 reminder: it is in the SendGrid sandbox inbox with the amount due and the online
payment link, and in the invoice's « Relances » block. The customer pays one through the
Mollie sandbox checkout from the reminder's link: the dashboard's figures move without a
reload. Then the J+15 step is moved to J+9 on the « Relances » page, so that it is due
today: the unpaid invoice gets it, the paid one does not."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import timedelta

# The scheduler is off while the other end-to-end tests of this process run (its reminders
# would land in their inbox); this test switches it on (every 2 s: the loop reads it again
# every second).
os.environ["SIMPLE_ERP_REMINDER_INTERVAL_SECONDS"] = "0"

import httpx  # noqa: E402
import pytest  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.browser_helpers import db_session, ensure_admin, ensure_default_company, toast  # noqa: E402
from tests.e2e.conftest import SENDGRID  # noqa: E402
from tests.legal_identity import BUSINESS_BUYER, SELLER  # noqa: E402

pytestmark = pytest.mark.e2e

NBSP, NNBSP = "\u00a0", "\u202f"


def _plain(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def _setup(suffix: str) -> dict:
    """A franchise company with Mollie (sandbox key, a card moyen) and its e-mail address;
    e-mail sending on (and a second company: the pages show a selector); two 300 € / 450 € invoices issued and due 10 days ago, each with its
    business customer."""
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import clock, companies, contacts, documents, emails, payments
    from simple_erp.services.mollie import payments as mollie_payments

    ensure_admin()
    ensure_default_company()
    issue = clock.today() - timedelta(days=10)
    with db_session() as session:
        payments.save_preferences(session, True, True)
        emails.save_email_settings(session, True, "SG.e2e-test-key.abcdefghijklmnop")
        company = companies.save_company(session, None, {"name": f"Atelier Relance {suffix}", "vat_regime": "franchise",
                                                         **SELLER, "contact_email": "relances@atelier.fr"})
        mollie_payments.set_mollie_api_key(session, company.id, "test_" + uuid.uuid4().hex)
        companies.save_company(session, None, {"name": f"Autre Société {suffix}", "vat_regime": "franchise"})
        types = {t.code: t.id for t in payments.list_payment_types(session)}
        mollie = payments.save_account(session, None, {"account_type": "mollie", "name": f"Mollie {suffix}",
                                                       "identifier": "M"})
        payments.save_method(session, None, {"payment_type_id": str(types["carte_bancaire"]),
                                             "account_id": str(mollie.id)})
        out = {"company": company.name}
        for key, price in (("paid", "300"), ("unpaid", "450")):
            contact = contacts.create_contact(session, ContactInput(
                kind="entreprise", company_name=f"Client {key} {suffix}", email=f"{key}-{suffix.lower()}@client.fr",
                **BUSINESS_BUYER), issue)
            doc = documents.create_document(session, "facture", issue, company_id=company.id)
            documents.update_header(session, doc.id, {"payment_terms": "a_reception"})
            documents.link_contact(session, doc.id, contact.id)
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": "Travaux", "unit_price": price})
            documents.finalize(session, doc.id, issue)
            out[key] = {"id": doc.id, "number": documents.get_document(session, doc.id).number,
                        "email": contact.email, "contact": contact.id}
    return out


def _inbox(invoice: dict) -> list[dict]:
    """The messages about this invoice (its number may also exist in another test's
    company, whose late invoices the scheduler reminds too)."""
    messages = httpx.get(f"{SENDGRID.base_url}/sandbox/messages", timeout=10, trust_env=False).json()["messages"]
    return [m for m in messages if invoice["number"] in m["subject"] and invoice["email"] in m["to"]]


def _wait_for_messages(invoice: dict, count: int, seconds: float = 60) -> list[dict]:
    deadline = time.monotonic() + seconds
    while True:
        found = _inbox(invoice)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.fixture
def scheduler_on():
    os.environ["SIMPLE_ERP_REMINDER_INTERVAL_SECONDS"] = "2"
    yield
    os.environ["SIMPLE_ERP_REMINDER_INTERVAL_SECONDS"] = "0"


def test_a_late_invoice_is_reminded_and_paying_it_stops_the_next_one(browser: Browser, signed_in: Page,
                                                                     scheduler_on):
    staff = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    setup = _setup(suffix)
    paid, unpaid = setup["paid"], setup["unpaid"]

    # The scheduler sends the J+7 reminder of each late invoice, once.
    (reminder,) = _wait_for_messages(paid, 1)
    assert reminder["to"] == [f"paid-{suffix.lower()}@client.fr"]
    text = _plain(reminder["text"])
    assert reminder["subject"] == f"Rappel : facture {paid['number']} en attente de règlement"
    assert "il reste 300,00 € à payer (10 jours de retard)" in text, text
    link = re.search(r"https?://\S+/payer/\S+", text).group(0)
    assert "40,00" not in text  # no indemnity before the mise en demeure
    assert len(_wait_for_messages(unpaid, 1)) == 1

    # Its history on the invoice.
    staff.goto(f"/erp/document/{paid['id']}")
    row = staff.locator("#reminder-block .reminder-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("J+7")
    expect(row).to_contain_text("Automatique")
    expect(row.locator(".reminder-status")).to_contain_text("Envoyé")

    # The dashboard, then the customer pays through the reminder's link (Mollie sandbox).
    staff.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Tableau de bord").click()
    expect(staff).to_have_url(re.compile(r".*/tableau-de-bord$"))
    staff.locator("#dashboard-company").select_option(label=setup["company"])
    late = staff.locator("#stat-late .stat-value")
    expect(late).to_have_text(re.compile(r"750,00\s€"))
    staff.evaluate("window.__not_reloaded = true")
    customer_context = browser.new_context(locale="fr-FR")
    client = customer_context.new_page()
    try:
        client.goto(link)
        expect(client.locator("#amount-due")).to_contain_text("300,00")
        client.locator("#pay").click()
        client.get_by_role("button", name="paid").click()
        expect(client.locator("#payment-state")).to_have_text("Facture réglée. Merci !", timeout=30_000)
    finally:
        customer_context.close()
    expect(late).to_have_text(re.compile(r"450,00\s€"))
    expect(staff.locator("#stat-collected .stat-value")).to_have_text(re.compile(r"300,00\s€"))
    assert staff.evaluate("window.__not_reloaded === true")

    # « Relances »: the paid invoice has no next reminder; J+15 moved to J+9 is due today.
    staff.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Relances").click()
    expect(staff).to_have_url(re.compile(r".*/relances$"))
    staff.locator("#reminders-company").select_option(label=setup["company"])
    coming = staff.locator("#reminders-coming .coming-reminder-row")
    expect(coming).to_have_count(1)
    expect(coming).to_contain_text(unpaid["number"])
    expect(coming).to_contain_text("J+15")
    expect(staff.locator("#reminders-sent .sent-reminder-row")).to_have_count(2)
    step = staff.locator(".reminder-step", has_text="J+15")
    step.get_by_label("Jours après l'échéance (négatif : avant)").fill("9")
    step.get_by_role("button", name="Enregistrer").click()
    toast(staff, "Étape J+9 enregistrée.")

    # The unpaid invoice gets it; the paid one never does.
    second = _wait_for_messages(unpaid, 2)
    assert len(second) == 2 and any(m["subject"].startswith("Seconde relance") for m in second)
    time.sleep(5)  # two more scheduler rounds
    assert len(_inbox(paid)) == 1
    expect(staff.locator("#reminders-sent .sent-reminder-row")).to_have_count(3)
    expect(staff.locator("#reminders-coming .coming-reminder-row")).to_have_count(1)  # the unpaid one's J+30

    # « Relancer maintenant » on the paid invoice refuses, and says why.
    staff.goto(f"/erp/document/{paid['id']}")
    staff.get_by_role("button", name="Relancer maintenant").click()
    toast(staff, "Cette facture n'a plus rien à régler : pas de relance.")
    expect(staff.locator("#reminder-block .reminder-row")).to_have_count(1)


def test_a_customer_excluded_from_reminders_gets_none_until_included_again(signed_in: Page):
    """The fiche contact's « Exclure des relances automatiques de factures », saved at once:
    « Relancer maintenant » on the customer's late invoice is then refused and nothing
    reaches the mailbox; once unticked, the same button sends the reminder. (The
    scheduler is off here: the refusal is the same rule, service-tested.)"""
    staff = signed_in
    setup = _setup(uuid.uuid4().hex[:5].upper())
    invoice = setup["unpaid"]
    staff.goto(f"/contacts/{invoice['contact']}")
    excluded = staff.get_by_label("Exclure des relances automatiques de factures")
    expect(excluded).not_to_be_checked()
    excluded.click()
    toast(staff, "Ce contact ne recevra plus de relances.")
    staff.reload()  # kept
    expect(excluded).to_be_checked()

    staff.goto(f"/erp/document/{invoice['id']}")
    expect(staff.locator("#reminder-block")).to_contain_text("Aucune relance envoyée pour cette facture.")
    staff.get_by_role("button", name="Relancer maintenant").click()
    toast(staff, "Ce client est exclu des relances (fiche contact).")
    expect(staff.locator("#reminder-block .reminder-row")).to_have_count(0)
    assert _inbox(invoice) == []

    staff.goto(f"/contacts/{invoice['contact']}")
    expect(excluded).to_be_checked()
    excluded.click()
    toast(staff, "Ce contact recevra de nouveau les relances.")
    expect(excluded).not_to_be_checked()
    staff.goto(f"/erp/document/{invoice['id']}")
    staff.get_by_role("button", name="Relancer maintenant").click()
    expect(staff.get_by_text(re.compile(r"^Relance envoyée \(")).last).to_be_visible()
    row = staff.locator("#reminder-block .reminder-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Manuelle")
    (message,) = _wait_for_messages(invoice, 1)
    assert message["to"] == [invoice["email"]]
    assert "il reste 450,00 € à payer" in _plain(message["text"])
