"""The cap on avoirs, as the user sees it: a 120 € invoice already fully credited by a
first avoir (set up through the services); the second avoir's screen warns that it goes
beyond what the invoice still carries, « Finaliser » → « OK » without the confirmation is
refused with a French toast (the avoir stays a draft), and with the box ticked it is
finalised."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import db_session, ensure_admin, toast

pytestmark = pytest.mark.e2e

NBSP = "\u00a0"


def _second_avoir_draft(suffix: str) -> tuple[int, str]:
    """(id of an avoir draft, invoice number): the invoice (100 € HT + 20 %) already has a
    finalised avoir for its whole amount."""
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import clock, companies, contacts, documents

    ensure_admin()
    today = clock.today()
    with db_session() as session:
        company = companies.save_company(session, None, {
            "name": f"Atelier {suffix}", "legal_form": "SARL", "address_line1": "3 rue de la Paix",
            "postal_code": "75002", "city": "Paris", "siren": "732829320", "rcs_city": "Paris",
            "vat_number": "FR44732829320"})
        contact = contacts.create_contact(session, ContactInput(
            kind="entreprise", company_name=f"Client {suffix}", address_line1="1 place Bellecour",
            postal_code="69002", city="Lyon", siren="542065479"), today)
        invoice = documents.create_document(session, "facture", today, company_id=company.id)
        documents.update_header(session, invoice.id, {"delivery_date": today.isoformat()})
        documents.link_contact(session, invoice.id, contact.id)
        line = documents.add_line(session, invoice.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": "100", "vat_rate": "20"})
        documents.finalize(session, invoice.id, today)
        first = documents.create_credit_note(session, invoice.id, today)
        documents.finalize(session, first.id, today)
        second = documents.create_credit_note(session, invoice.id, today)
        return second.id, documents.get_document(session, invoice.id).number


def test_an_avoir_above_what_the_invoice_carries_needs_a_confirmation(signed_in: Page):
    page = signed_in
    avoir_id, invoice_number = _second_avoir_draft(uuid.uuid4().hex[:6].upper())
    page.goto(f"/erp/document/{avoir_id}")
    warning = (f"Cet avoir (120,00{NBSP}€) dépasse le montant restant de la facture {invoice_number} "
               f"(0,00{NBSP}€).")
    expect(page.locator("#over-credit-warning")).to_have_text(warning)

    page.get_by_role("button", name="Finaliser").click()
    box = page.locator("#confirm-over-credit")
    expect(page.get_by_text("Je confirme un avoir supérieur au montant restant de la facture")).to_be_visible()
    expect(box).not_to_be_checked()
    page.get_by_role("button", name="OK").click()
    toast(page, "Pour le finaliser quand même, cochez")
    expect(page.locator("#document-status")).to_have_text("Brouillon")

    page.get_by_role("button", name="Finaliser").click()
    page.locator("#confirm-over-credit").click()
    expect(page.locator("#confirm-over-credit")).to_be_checked()
    page.get_by_role("button", name="OK").click()
    toast(page, "Document finalisé : son numéro est attribué.")
    expect(page.locator("#document-title")).to_have_text(re.compile(r"Avoir AV-\d{4}-00002"))
    expect(page.locator("#document-status")).to_have_text("Finalisé")
    expect(page.locator("#over-credit-warning")).to_have_count(0)


def test_overlapping_numbering_patterns_are_refused(signed_in: Page):
    """« 2. Numérotation »: a facture pattern giving avoir numbers is refused beside both
    fields and nothing is saved; exchanging the prefixes in one save is accepted."""
    from simple_erp.services import companies

    page = signed_in
    _second_avoir_draft(uuid.uuid4().hex[:6].upper())  # at least one company
    with db_session() as session:
        company_id = next(c.id for c in companies.list_companies(session) if c.is_default)
    page.goto("/admin-erp")
    page.get_by_role("tab", name="2. Numérotation").click()
    page.locator("#pattern-facture").fill("AV-{year}-{seq:05d}")
    page.locator("#patterns-save").click()
    toast(page, "Certains modèles de numéro sont invalides : rien n'a été enregistré.")
    expect(page.locator("#pattern-facture-error")).to_contain_text(
        "il peut produire les mêmes numéros que celui des avoirs")
    expect(page.locator("#pattern-avoir-error")).to_contain_text("celui des factures (« AV-{year}-{seq:05d} »)")
    with db_session() as session:
        assert companies.numbering_patterns(session, company_id)["facture"] == "{prefix}-{year}-{seq:05d}"

    page.locator("#pattern-avoir").fill("CR-{year}-{seq:05d}")
    page.locator("#patterns-save").click()
    toast(page, "Numérotation enregistrée.")
    expect(page.locator("#pattern-facture-error")).to_have_count(0)
    with db_session() as session:
        saved = companies.numbering_patterns(session, company_id)
    assert (saved["facture"], saved["avoir"]) == ("AV-{year}-{seq:05d}", "CR-{year}-{seq:05d}")
