"""A record deleted by someone else while it is open: the next action on it answers with
a French message, never Reflex's generic error."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import delete

from tests.browser_helpers import db_session, toast

pytestmark = pytest.mark.e2e


def test_editing_a_contact_deleted_meanwhile_says_so(signed_in: Page):
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.models import Contact
    from simple_erp.services import clock, contacts

    page = signed_in
    name = f"Éphémère {uuid.uuid4().hex[:6]}"
    with db_session() as session:
        contact_id = contacts.create_contact(session, ContactInput(kind="particulier", last_name=name), clock.today()).id
    page.goto(f"/contacts/{contact_id}")
    expect(page.get_by_text(name).first).to_be_visible()
    with db_session() as session:  # another user deletes it
        session.exec(delete(Contact).where(Contact.id == contact_id))
    page.get_by_role("button", name="Modifier la fiche contact").click()
    toast(page, "Ce contact n'existe pas.")
    expect(page.get_by_text("An error occurred")).to_have_count(0)
    expect(page.get_by_label("IBAN", exact=True)).to_have_count(0)  # no edit form for nothing
