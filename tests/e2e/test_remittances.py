"""« Remises de prélèvements » in Chromium: a remittance of two invoices (set up through the
services: a company with its ICS, a bank account with « Prélèvement SEPA », two contacts
with a SEPA mandate), the pain.008 file downloaded and XSD-valid, the customers'
pre-notifications in the SendGrid sandbox inbox, then the bank's answers: one paid, one
rejected (AM04), as the remittance and the invoices show them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Page, expect

from simple_erp.domain.remittances import first_collection_date
from tests.browser_helpers import db_session, ensure_admin, ensure_default_company, toast
from tests.e2e.conftest import SENDGRID
from tests.legal_identity import SELLER

pytestmark = pytest.mark.e2e

ICS = "FR72ZZZ123456"
BANK_IBAN, BANK_BIC = "FR7630006000011234567890189", "AGRIFRPP"
IBAN, BIC = "FR1420041010050500013M02606", "PSSTFRPPPAR"
NBSP = "\u00a0"


def _setup(suffix: str) -> dict:
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import clock, companies, contacts, documents, emails, payments

    ensure_admin()
    ensure_default_company()
    today = clock.today()
    with db_session() as session:
        payments.save_preferences(session, True, False)
        emails.save_email_settings(session, True, "SG.e2e-test-key.abcdefghijklmnop")
        company = companies.save_company(session, None, {"name": f"Atelier {suffix}", "vat_regime": "franchise", **SELLER,
                                                         "ics": ICS, "iban": BANK_IBAN, "bic": BANK_BIC})
        types = {t.code: t.id for t in payments.list_payment_types(session)}
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": f"Banque {suffix}",
                                                     "identifier": "B", "iban": BANK_IBAN, "bic": BANK_BIC})
        payments.save_method(session, None, {"payment_type_id": str(types["prelevement_sepa"]),
                                             "account_id": str(bank.id)})
        invoices = []
        for name, price in (("Durand", "123.45"), ("Martin", "76.55")):
            contact = contacts.create_contact(session, ContactInput(
                kind="particulier", last_name=f"{name} {suffix}", first_name="Léa",
                email=f"{name.lower()}-{suffix.lower()}@client.fr", iban=IBAN, bic=BIC,
                rum=f"RUM-{name.upper()}-{suffix}", mandate_signed_on=today - timedelta(days=200)), today)
            doc = documents.create_document(session, "facture", today, company_id=company.id)
            documents.link_contact(session, doc.id, contact.id)
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": "Abonnement", "unit_price": price})
            documents.finalize(session, doc.id, today)
            invoices.append((doc.id, documents.get_document(session, doc.id).number, contact.email))
    return {"company": f"Atelier {suffix}", "bank": f"Prélèvement SEPA — Banque {suffix}", "invoices": invoices,
            "date": first_collection_date(today, 14), "too_soon": today + timedelta(days=13)}


def test_remittance_of_two_invoices_paid_and_rejected(signed_in: Page, tmp_path):
    from simple_erp.services.remittances import header_totals, validation_errors

    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    world = _setup(suffix)
    (first_id, first, first_email), (second_id, second, second_email) = world["invoices"]
    httpx.post(SENDGRID.base_url + "/sandbox/reset", timeout=10)

    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Remises de prélèvements").click()
    expect(page).to_have_url(re.compile(r".*/remises-prelevements$"))
    page.get_by_label("Société émettrice").select_option(label=world["company"])
    page.get_by_label("Moyen de paiement").select_option(label=world["bank"])
    expect(page.get_by_label("Date de prélèvement")).to_have_value(world["date"].strftime("%d/%m/%Y"))
    rows = page.locator(".candidate-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=first)).to_contain_text(f"123,45{NBSP}€")
    page.get_by_role("checkbox", name=f"Prélever la facture {first}").click()
    page.get_by_role("checkbox", name=f"Prélever la facture {second}").click()
    # Too soon for the 14-day pre-notification: refused, nothing created.
    date_field = page.get_by_label("Date de prélèvement")
    date_field.fill(world["too_soon"].strftime("%d/%m/%Y"))
    date_field.press("Tab")
    page.get_by_role("button", name="Créer la remise").click()
    toast(page, f"Choisissez le {world['date'].strftime('%d/%m/%Y')} ou plus tard")
    expect(page.locator(".remittance-row")).to_have_count(0)
    date_field.fill(world["date"].strftime("%d/%m/%Y"))
    date_field.press("Tab")
    expect(page.get_by_role("checkbox", name=f"Prélever la facture {second}")).to_be_checked()
    page.get_by_role("button", name="Créer la remise").click()
    toast(page, "Pré-notifications envoyées aux clients")
    detail = page.locator("#remittance-detail")
    expect(detail.locator("#remittance-status")).to_have_text("Créée — à transmettre à la banque")
    expect(detail.locator("#remittance-summary")).to_contain_text(f"2 prélèvements, 200,00{NBSP}€")
    expect(detail.locator(".remittance-line")).to_have_count(2)
    expect(detail.locator(".remittance-line").first).to_contain_text("FRST")

    # The file, as the bank will get it: XSD-valid, header totals to the cent.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Télécharger le fichier (pain.008)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("PRLV-") and download.suggested_filename.endswith(".xml")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert validation_errors(data) == []
    assert header_totals(data) == (2, Decimal("200.00"))
    assert f"<ReqdColltnDt>{world['date'].isoformat()}</ReqdColltnDt>".encode() in data and ICS.encode() in data

    # Each customer was told the amount and the date before the debit.
    messages = httpx.get(SENDGRID.base_url + "/sandbox/messages", timeout=10).json()["messages"]
    told = " ".join(str(m) for m in messages)
    assert len(messages) == 2 and first_email in told and second_email in told
    assert "123,45" in told and world["date"].strftime("%d/%m/%Y") in told

    # Sent to the bank, then its answers: one paid, one rejected for insufficient funds.
    page.get_by_role("button", name="Marquer comme transmise à la banque").click()
    page.get_by_role("alertdialog").get_by_role("button", name="OK").click()
    toast(page, "Remise transmise à la banque")
    expect(detail.locator("#remittance-status")).to_have_text("Transmise à la banque")
    first_line = detail.locator(".remittance-line").filter(has_text=first)
    second_line = detail.locator(".remittance-line").filter(has_text=second)
    expect(first_line.locator(".line-status")).to_have_text("Prélèvement en cours")
    first_line.get_by_role("button", name="Payé").click()
    toast(page, "Paiement reçu enregistré.")
    second_line.get_by_label("Motif de rejet").select_option("AM04")
    second_line.get_by_role("button", name="Rejeté").click()
    toast(page, "Rejet enregistré.")
    expect(first_line.locator(".line-status")).to_have_text("Paiement reçu")
    expect(second_line.locator(".line-status")).to_have_text("Rejeté — AM04 — Provision insuffisante")
    expect(detail.locator("#remittance-status")).to_have_text("Terminée")

    # The invoices say it too, with the pre-notification recorded on each.
    page.goto(f"/erp/document/{first_id}")
    expect(page.locator("#invoice-payment-status")).to_have_text("Payée")
    expect(page.locator(".payment-row").first.locator(".payment-status")).to_have_text("Paiement reçu")
    notice = page.locator("#prenotice-block .prenotice-row").first
    expect(notice).to_contain_text(f"123,45{NBSP}€")
    expect(notice).to_contain_text(world["date"].strftime("%d/%m/%Y"))
    expect(notice).to_contain_text("Envoyé")
    page.goto(f"/erp/document/{second_id}")
    expect(page.locator(".payment-row").first.locator(".payment-status")).to_have_text("Échoué")
    expect(page.locator("#invoice-payment-status")).to_have_text("Non payée")
    expect(page.locator("#prenotice-block .invoice-collection-row .collection-status")).to_have_text(
        "Rejeté — AM04 — Provision insuffisante")


def test_prenotification_sent_from_the_invoice(signed_in: Page):
    """Before a Mollie SEPA debit: « Envoyer la pré-notification » on the invoice, recorded
    there with its amount and the first date the debit is possible."""
    from simple_erp.services import clock

    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    world = _setup(suffix)
    doc_id, number, email = world["invoices"][1]
    httpx.post(SENDGRID.base_url + "/sandbox/reset", timeout=10)
    page.goto(f"/erp/document/{doc_id}")
    block = page.locator("#prenotice-block")
    expect(block).to_contain_text("Aucune pré-notification envoyée pour cette facture.")
    expect(block.get_by_label("Montant annoncé (€)")).to_have_value("76,55")
    block.get_by_role("button", name="Envoyer la pré-notification").click()
    debit_on = (clock.today() + timedelta(days=14)).strftime("%d/%m/%Y")
    toast(page, f"Pré-notification de 76,55{NBSP}€ envoyée : prélèvement possible à partir du {debit_on}.")
    row = block.locator(".prenotice-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(debit_on)
    expect(row).to_contain_text("Mollie")
    expect(row).to_contain_text(email)
    expect(row).to_contain_text("Envoyé")
    messages = httpx.get(SENDGRID.base_url + "/sandbox/messages", timeout=10).json()["messages"]
    assert len(messages) == 1 and number in str(messages) and debit_on in str(messages)
