"""Tableau de bord, as the user sees it: the figures of a company with a late, partly paid
invoice and one not yet due (set up through the services), both Recharts charts drawn, the
oldest late invoice linked; then the rest of the late invoice is received (through the
services, which announce it on the change feed, as a Mollie webhook does) and the figures
move without a reload. A company without invoices shows the empty state."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser_helpers import db_session, ensure_admin, ensure_default_company
from tests.legal_identity import BUSINESS_BUYER, SELLER

pytestmark = pytest.mark.e2e

NBSP, NNBSP = "\u00a0", "\u202f"


def _plain(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def _expect_stat(page: Page, card_id: str, value: str, note: str | None = None) -> None:
    expect(page.locator(f"#{card_id} .stat-value")).to_have_text(re.compile(re.escape(value).replace(r"\ ", r"\s")))
    if note is not None:
        expect(page.locator(f"#{card_id} .stat-note")).to_have_text(note)


def _company_with_invoices(suffix: str) -> dict:
    """A franchise company: a 1 000 € invoice 40 days late with 400 € received today, and a
    250 € invoice issued today, due in 30 days; Simple Paiement on with a cheque moyen."""
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.services import clock, companies, contacts, documents, payments

    ensure_admin()
    ensure_default_company()
    today = clock.today()
    with db_session() as session:
        payments.save_preferences(session, True, payments.get_preferences(session).mollie_enabled)
        company = companies.save_company(session, None, {"name": f"Atelier Tableau {suffix}", "vat_regime": "franchise", **SELLER})
        empty = companies.save_company(session, None, {"name": f"Société Vide {suffix}", "vat_regime": "franchise"})
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": f"Banque {suffix}",
                                                     "identifier": "B"})
        cheque = next(t.id for t in payments.list_payment_types(session) if t.code == "cheque")
        method = payments.save_method(session, None, {"payment_type_id": str(cheque), "account_id": str(bank.id)}).id
        contact = contacts.create_contact(session, ContactInput(kind="entreprise", company_name=f"Client Retard {suffix}", **BUSINESS_BUYER),
                                          today)
        ids = []
        for issue, terms, price in ((today - timedelta(days=40), "a_reception", "1000"), (today, "30_jours_net", "250")):
            doc = documents.create_document(session, "facture", issue, company_id=company.id)
            documents.update_header(session, doc.id, {"payment_terms": terms})
            documents.link_contact(session, doc.id, contact.id)
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": "Travaux", "unit_price": price})
            documents.finalize(session, doc.id, issue)
            ids.append(doc.id)
        first = payments.request_payment(session, ids[0], method, Decimal(400), None, today)
        payments.record_reception(session, first.id, today, today)
        number = documents.get_document(session, ids[0]).number
    return {"company": company.name, "empty": empty.name, "late_id": ids[0], "number": number, "method": method,
            "contact": f"Client Retard {suffix}"}


def _receive_the_rest(doc_id: int, method_id: int) -> None:
    """600 € received today, through the services: their commit announces the change."""
    from simple_erp.services import clock, payments

    today = clock.today()
    with db_session() as session:
        payment = payments.request_payment(session, doc_id, method_id, Decimal(600), None, today)
        payments.record_reception(session, payment.id, today, today)


def _bars(page: Page, chart_id: str):
    return page.locator(f"#{chart_id} svg .recharts-bar-rectangle path")


def test_dashboard_figures_move_live_when_a_payment_arrives(signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    setup = _company_with_invoices(suffix)

    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link").first).to_have_text("Tableau de bord")
    nav.get_by_role("link", name="Tableau de bord").click()
    expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    page.get_by_label("Société").select_option(label=setup["company"])

    _expect_stat(page, "stat-receivable", "850,00 €", "2 factures")
    _expect_stat(page, "stat-late", "600,00 €", "1 facture")
    _expect_stat(page, "stat-collected", "400,00 €")
    _expect_stat(page, "stat-delay", "—")
    row = page.locator(".late-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(setup["contact"])
    expect(row).to_contain_text("40 j")
    assert "600,00 €" in _plain(row.inner_text())
    expect(row.get_by_role("link", name=setup["number"])).to_have_attribute("href", f"/erp/document/{setup['late_id']}")
    # Both charts are Recharts SVGs with bars (invoiced and collected; the amounts by age).
    expect(_bars(page, "chart-months").first).to_be_visible()
    assert _bars(page, "chart-months").count() >= 2
    expect(_bars(page, "chart-ages").first).to_be_visible()
    assert _bars(page, "chart-ages").count() == 2  # non échu and 31–60 jours

    page.evaluate("window.__dashboard_not_reloaded = true")
    _receive_the_rest(setup["late_id"], setup["method"])
    _expect_stat(page, "stat-receivable", "250,00 €", "1 facture")
    _expect_stat(page, "stat-late", "0,00 €", "0 facture")
    _expect_stat(page, "stat-collected", "1 000,00 €")
    _expect_stat(page, "stat-delay", "40 jours", "sur 1 facture réglée en 12 mois")
    expect(page.locator(".late-row")).to_have_count(0)
    expect(page.locator("#late-invoices")).to_contain_text("Aucune facture en retard.")
    assert page.evaluate("window.__dashboard_not_reloaded === true")

    # Another company, without invoices: the empty state and its button.
    page.get_by_label("Société").select_option(label=setup["empty"])
    expect(page.locator("#dashboard-empty")).to_contain_text("Aucune facture finalisée pour l'instant")
    page.locator("#dashboard-new-invoice").click()
    expect(page).to_have_url(re.compile(r".*/erp/document/\d+$"))
