"""A change of the issuing company's IBAN is announced by email to the other active
administrators (SQLite and PostgreSQL): stored in the change's transaction, addressed to
each other active administrator only (not the author, not staff, not a deactivated
admin), in French with who, when and the masked old → new IBAN; then really sent (the
SendGrid sandbox receives them)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from simple_erp.models.email import EmailMessage
from simple_erp.models.user import User
from simple_erp.services import auth, companies, company_audit, emails
from tests.sendgrid_fixtures import inbox, sandbox  # noqa: F401 (fixtures)

IBAN = "FR76 3000 6000 0112 3456 7890 189"
OTHER_IBAN = "FR14 2004 1010 0505 0001 3M02 606"
# Same country, key and last four characters as IBAN: the same mask, another account.
LOOKALIKE_IBAN = "FR76 3000 0083 0112 3456 7890 189"
PASSWORD = "Velours-Cerise-1987"


@pytest.fixture
def team(session_factory):
    with session_factory() as session:
        alice = auth.create_user(session, "alice@atelier.fr", "Alice Martin", PASSWORD, is_admin=True)
        bruno = auth.create_user(session, "bruno@atelier.fr", "Bruno Léger", PASSWORD, is_admin=True)
        chloe = auth.create_user(session, "chloe@atelier.fr", "Chloé Roy", PASSWORD, is_admin=True)
        denis = auth.create_user(session, "denis@atelier.fr", "Denis Staff", PASSWORD, is_admin=False)
        auth.set_user_active(session, alice.id, chloe.id, False)  # a departed administrator
        emails.save_email_settings(session, True, "SG.test-key.secret-part-abcd")
        company = companies.save_company(session, None, {"name": "Atelier Martin", "vat_regime": "normal",
                                                         "iban": IBAN, "bic": "AGRIFRPP"}, changed_by=alice)
        assert company_audit.take_iban_notices(session) == []  # a creation is not a change
        return {"alice": alice.id, "bruno": bruno.id, "chloe": chloe.id, "denis": denis.id, "company": company.id}


def _messages(session_factory) -> list[EmailMessage]:
    with session_factory() as session:
        rows = list(session.exec(select(EmailMessage).order_by(EmailMessage.id)))
        for row in rows:
            session.expunge(row)
        return rows


def test_the_other_active_admins_are_told_of_an_iban_change(session_factory, team, inbox):
    with session_factory() as session:
        alice = session.get(User, team["alice"])
        companies.save_company(session, team["company"], {"iban": OTHER_IBAN}, changed_by=alice)
        notices = company_audit.take_iban_notices(session)
    assert len(notices) == 1
    (message,) = _messages(session_factory)  # stored with the change, before any send
    assert message.status == emails.QUEUED and message.id == notices[0]
    assert message.to_addrs == "bruno@atelier.fr"  # not Alice (the author), Chloé (inactive), Denis (staff)
    assert message.sender_email == "alice@atelier.fr"
    assert "IBAN" in message.subject and "Atelier Martin" in message.subject
    body = message.body_text
    assert "Alice Martin" in body and "(heure de Paris)" in body
    assert "Ancien IBAN : FR76 •••• •••• 0189" in body and "Nouvel IBAN : FR14 •••• •••• 2606" in body
    assert "3456" not in body and "0505" not in body  # masked: never the whole account number

    assert company_audit.send_iban_notices(session_factory, notices) == [emails.SENT]
    (sent,) = inbox()
    assert sent["to"] == ["bruno@atelier.fr"]
    assert "Nouvel IBAN : FR14 •••• •••• 2606" in sent["text"]
    assert _messages(session_factory)[0].status == emails.SENT


def test_no_notice_when_the_iban_does_not_change(session_factory, team):
    with session_factory() as session:
        bruno = session.get(User, team["bruno"])
        companies.save_company(session, team["company"], {"iban": IBAN.replace(" ", ""), "city": "Lyon"},
                               changed_by=bruno)
        assert company_audit.take_iban_notices(session) == []
    assert _messages(session_factory) == []


def test_an_iban_with_the_same_mask_is_still_a_change(session_factory, team):
    """Another account whose mask looks the same is audited and announced all the same."""
    with session_factory() as session:
        bruno = session.get(User, team["bruno"])
        companies.save_company(session, team["company"], {"iban": LOOKALIKE_IBAN}, changed_by=bruno)
        notices = company_audit.take_iban_notices(session)
    assert [m.to_addrs for m in _messages(session_factory)] == ["alice@atelier.fr"]
    assert len(notices) == 1
    with session_factory() as session:
        labels = [c.label for c in company_audit.list_changes(session, team["company"])]
    assert labels == ["IBAN"]


def test_the_notices_are_rolled_back_with_a_failed_change(session_factory, team):
    with session_factory() as session:
        alice = session.get(User, team["alice"])
        companies.save_company(session, team["company"], {"iban": OTHER_IBAN}, changed_by=alice)
        session.rollback()
    assert _messages(session_factory) == []
