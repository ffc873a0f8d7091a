"""Live updates across processes, forced (production mode: Redis, two backend workers).

The open page's websocket lives on one of the app's workers; the change is made by this
test's own process — the same app code, joined to the same Redis and PostgreSQL, which
never served any page (another worker in all but name). Its service layer commits a new
invoice; its change feed finds the registered tab in Redis, opens the tab's state by its
class name from the app's state tree, and hands the delta to the worker that holds the
socket (Reflex's lost-and-found channel). The page shows the invoice without a reload.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e_prod.conftest import REDIS_URL

pytestmark = pytest.mark.e2e
# As tests/e2e/test_documents.py's _setup_company enters it: finalisable invoices.
COMPANY = {"name": "Atelier Lumière", "legal_form": "SARL", "capital": "10 000", "siren": "732829320",
           "rcs_city": "Lyon", "vat_number": "FR44732829320", "address_line1": "3 rue des Arts",
           "postal_code": "69001", "city": "Lyon", "ics": "FR72ZZZ123456", "vat_regime": "normal"}


def _commit_in_this_process(last_name: str) -> int:
    """In this process, as another worker would: the app's live machinery on an event
    loop, the change committed through the service layer, the pushes awaited."""
    assert os.environ["REFLEX_REDIS_URL"] == REDIS_URL  # set by the conftest, before any settings were read
    from reflex.istate.manager.redis import StateManagerRedis
    from sqlmodel import select

    import simple_erp.simple_erp as main
    from simple_erp.db import session_scope
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.models.company import Company
    from simple_erp.services import companies, contacts, documents
    from simple_erp.state import live

    assert isinstance(main.app.state_manager, StateManagerRedis)  # the workers' Redis, not a local copy
    live._state_classes.clear()  # nothing known from a served page: found by name only

    async def run() -> int:
        await live._capture_loop()  # what the app's lifespan does in a worker
        pushes_before = {t for t in asyncio.all_tasks()}
        with session_scope() as session:
            if session.exec(select(Company)).first() is None:  # the identity the other tests' invoices need
                companies.save_company(session, None, COMPANY)
            contact = contacts.create_contact(session, ContactInput(kind="particulier", last_name=last_name,
                                                                    first_name="Léa"), date.today())
            doc = documents.create_document(session, "facture", date.today())
            documents.link_contact(session, doc.id, contact.id)
            doc_id = doc.id
        # The commit announced "documents": the push runs as a task on this loop.
        for _ in range(100):
            pending = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} - pushes_before
            if not pending:
                break
            await asyncio.wait(pending, timeout=10)
        assert live.registry().__class__ is live.RedisRegistry
        return doc_id

    # Its own thread: Playwright's sync API keeps an event loop in the test's thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=120)


def test_a_change_committed_by_another_process_reaches_the_open_page(signed_in: Page, base_url: str):
    page = signed_in
    page.goto(f"{base_url}/erp")
    expect(page.get_by_role("tab", name="Factures")).to_be_visible()
    page.wait_for_timeout(1_500)  # the page's on_load registered the tab for "documents"
    page.evaluate("window.__same_page = true")  # gone if the page reloads
    last_name = f"Autreprocessus{uuid.uuid4().hex[:5]}"
    expect(page.locator(".document-row", has_text=last_name.upper())).to_have_count(0)

    _commit_in_this_process(last_name)

    expect(page.locator(".document-row", has_text=last_name.upper())).to_have_count(1)
    assert page.evaluate("window.__same_page === true") and page.url.rstrip("/").endswith("/erp")  # no reload
