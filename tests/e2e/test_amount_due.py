"""Never make a customer pay twice, as the user sees it: a 1 620 € invoice with 1 100 €
received (set up through the services), the staff requests the 520 € left by SEPA direct
debit in the payment block (its confirmation and toast speak of a debit, amounts in the
app's format, then no 0,00 request is offered), then the email's payment information in
the SendGrid sandbox inbox and the customer's public page say that nothing remains to pay."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_helpers import db_session, ensure_admin, ensure_default_company, toast
from tests.e2e.conftest import SENDGRID
from tests.prenotice_fixtures import backdated_notice
from tests.legal_identity import BUSINESS_BUYER, SELLER

pytestmark = pytest.mark.e2e

IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
COMPANY_IBAN = "FR1420041010050500013M02606"
NBSP, NNBSP = "\u00a0", "\u202f"


def _plain(text: str) -> str:
    """French money with ordinary spaces ("1 620,00 €"), whatever spaces were used."""
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def _invoice_with_1100_received(suffix: str) -> tuple[int, str, str]:
    """(document id, number, RUM): a 1 620 € invoice of a new franchise company with bank
    details and Mollie card + SEPA moyens, its contact with a SEPA mandate, 1 100 € received
    by cheque; Simple Paiement, Mollie and e-mail sending on."""
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import clock, companies, contacts, documents, emails, payments
    from simple_erp.services.mollie import payments as mollie_payments

    ensure_admin()
    ensure_default_company()
    today, rum = clock.today(), f"RUM-{suffix}"
    with db_session() as session:
        payments.save_preferences(session, True, True)
        emails.save_email_settings(session, True, "SG.e2e-test-key.abcdefghijklmnop")
        company = companies.save_company(session, None, {"name": f"Atelier {suffix}", "vat_regime": "franchise", **SELLER,
                                                         "iban": COMPANY_IBAN, "bic": "PSSTFRPPPAR"})
        mollie_payments.set_mollie_api_key(session, company.id, "test_" + uuid.uuid4().hex)
        types = {t.code: t.id for t in payments.list_payment_types(session)}
        mollie = payments.save_account(session, None, {"account_type": "mollie", "name": f"Mollie {suffix}",
                                                       "identifier": "M"})
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": f"Banque {suffix}",
                                                     "identifier": "B"})
        methods = {code: payments.save_method(session, None, {"payment_type_id": str(types[code]),
                                                              "account_id": str(account.id)}).id
                   for code, account in (("carte_bancaire", mollie), ("prelevement_sepa", mollie),
                                         ("cheque", bank))}
        contact = contacts.create_contact(session, ContactInput(
            kind="entreprise", company_name=f"Client Deux Fois {suffix}", email="compta@client.fr", **BUSINESS_BUYER,
            iban=IBAN, bic=BIC, rum=rum, mandate_signed_on=today.replace(year=today.year - 1)), today)
        doc = documents.create_document(session, "facture", today, company_id=company.id)
        documents.link_contact(session, doc.id, contact.id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Rénovation", "unit_price": "1620"})
        documents.finalize(session, doc.id, today)
        cheque = payments.request_payment(session, doc.id, methods["cheque"], Decimal(1100), None, today)
        payments.record_reception(session, cheque.id, today, today)
        backdated_notice(session, doc.id, Decimal(520))  # the customer was told of the 520 € debit
        number = documents.get_document(session, doc.id).number
    return doc.id, number, rum


def test_a_running_debit_is_never_asked_again(browser: Browser, signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:6].upper()
    doc_id, number, rum = _invoice_with_1100_received(suffix)
    page.goto(f"/erp/document/{doc_id}")
    expect(page.locator("#pay-summary")).to_contain_text(re.compile(r"reste dû : 520,00"))
    amount = page.get_by_label("Montant (€)")
    expect(amount).to_have_value("520,00")

    # The card confirmation writes amounts as the app does (« 600,00 € », not « 600 € »).
    page.get_by_label("Moyen de paiement").select_option(label=f"Carte bancaire — Mollie {suffix}")
    amount.fill("600")
    page.locator("#pay-request").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text(f"Un paiement par carte de 600,00{NBSP}€ sera créé chez Mollie")
    dialog.get_by_role("button", name="Annuler").click()

    # The SEPA debit of the 520 € left: its confirmation and toast speak of a debit, not of a link.
    page.get_by_label("Moyen de paiement").select_option(label=f"Prélèvement SEPA — Mollie {suffix}")
    amount.fill("520")
    page.locator("#pay-request").click()
    expect(dialog).to_contain_text(f"Le prélèvement de 520,00{NBSP}€ sera demandé à Mollie sur le mandat {rum}")
    expect(dialog).not_to_contain_text("joint à l'email")
    dialog.get_by_role("button", name="OK").click()
    toast(page, f"Prélèvement SEPA demandé : 520,00{NBSP}€ sur le mandat {rum}")
    expect(page.get_by_text("le lien de paiement est prêt")).to_have_count(0)
    expect(page.locator(".payment-row").first.locator(".payment-status")).to_have_text("Prélèvement en cours")
    # Everything due is requested: no request of 0,00 is offered.
    expect(page.locator("#pay-form-note")).to_have_text("Tout le montant dû est déjà demandé : aucune nouvelle demande à faire.")
    expect(page.locator("#pay-amount")).to_have_count(0)
    public_url = page.locator("#public-pay-link").inner_text()

    # The email: the modèle with bank details gives none, the payment information says why.
    nothing_left = f"Aucun montant restant à régler : un prélèvement de 520,00{NBSP}€ est en cours."
    page.get_by_role("button", name="Envoyer par email").click()
    form = page.get_by_role("dialog")
    form.locator("#email-rubrique").select_option(label="Factures")
    form.locator("#email-template").select_option(label="Facture avec coordonnées bancaires")
    body = form.locator("#email-body")
    expect(body).to_have_value(re.compile(re.escape(nothing_left)))
    assert "IBAN" not in body.input_value()
    body.fill("Bonjour,\nVeuillez trouver votre facture.")
    payment_info = form.locator("#email-payment-info")
    if payment_info.get_attribute("data-state") != "checked":
        payment_info.click()
    form.locator("#email-send").click()
    toast(page, "Email envoyé.")

    # What the customer receives (the sandbox inbox, in Paris time).
    inbox = page.context.new_page()
    try:
        inbox.goto(SENDGRID.base_url + "/")
        expect(inbox.get_by_role("columnheader", name="Date (heure de Paris)")).to_be_visible()
        inbox.get_by_role("link", name=re.compile(re.escape(number))).first.click()
        text = inbox.locator("pre").first
        expect(text).to_contain_text(nothing_left)
        received = _plain(text.inner_text())
        assert "1 620,00" not in received and "Pour régler par virement" not in received, received
        assert "IBAN" not in received and "/payer/" not in received and "/checkout/" not in received, received

        # The customer's page: nothing to pay, no card payment for what the debit covers.
        inbox.goto(public_url)
        expect(inbox.locator("#payment-state")).to_have_text(nothing_left)
        expect(inbox.locator("#pay")).to_have_count(0)
        expect(inbox.get_by_role("button", name="Payer par carte bancaire")).to_have_count(0)
        expect(inbox.locator("#amount-due")).to_have_count(0)
    finally:
        inbox.close()
