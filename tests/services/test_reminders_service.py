"""Relances (services.reminders) on SQLite and PostgreSQL, through the real SendGrid adapter
to the local sandbox: each step once, none after payment, none for an excluded customer,
two workers at once send one, « Relancer maintenant », a reminder left « en file » by a
crash is sent by the next run, the schedule's edits."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.email import EmailMessage
from simple_erp.models.reminder import Reminder, ReminderStep
from simple_erp.models.types import utcnow
from simple_erp.providers.email import SendGridGateway
from simple_erp.services import auth, companies, contacts, documents, emails, payments, reminders
from tests.legal_identity import BUSINESS_BUYER, CONSUMER_ADDRESS, SELLER
from tests.sendgrid_fixtures import api, sandbox  # noqa: F401 (fixtures)

DUE = date(2026, 11, 2)  # issue date = due date (« à réception »)
KEY = "SG.test-key.secret-part-abcd"


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


@pytest.fixture(autouse=True)
def to_sandbox(sandbox):
    emails.set_gateway_factory(lambda key, host: SendGridGateway(key, host=sandbox.host, timeout=3))
    yield
    emails.set_gateway_factory(None)


def inbox(api) -> list[dict]:
    """The sandbox's messages, oldest first."""
    return sorted(api.get("/sandbox/messages").json()["messages"], key=lambda m: m["received_at"])


def _subjects(api) -> list[str]:
    return [m.get("subject", "") for m in inbox(api)]


def _text(message: dict) -> str:
    return message["text"]


@pytest.fixture
def world(session_factory, api):
    """A company (franchise) with its e-mail address, an administrator, e-mail sending on,
    a cheque moyen; ``invoice(kind, price)`` makes a finalised facture due on DUE."""
    with session_factory() as session:
        company = companies.save_company(session, None, {"name": "Atelier Martin", "vat_regime": "franchise",
                                                         **SELLER, "contact_email": "contact@atelier.fr"})
        user = auth.create_user(session, "paul@atelier.fr", "Paul Martin", "motdepasse-solide", is_admin=True)
        emails.save_email_settings(session, True, KEY)
        payments.save_preferences(session, True, False)
        account = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque",
                                                        "identifier": "B"})
        code = next(t.id for t in payments.list_payment_types(session) if t.code == "cheque")
        cheque = payments.save_method(session, None, {"payment_type_id": str(code), "account_id": str(account.id)}).id
        ids = {"company": company.id, "user": user.id, "cheque": cheque}

    def invoice(kind: str = "entreprise", price: str = "1000", email: str = "compta@client.fr") -> dict:
        with session_factory() as session:
            doc = documents.create_document(session, "facture", DUE, company_id=ids["company"])
            documents.update_header(session, doc.id, {"payment_terms": "a_reception"})
            if kind == "entreprise":
                data = ContactInput(kind="entreprise", company_name="Client SA", email=email, **BUSINESS_BUYER)
            else:
                data = ContactInput(kind="particulier", last_name="Durand", first_name="Léa", email=email,
                                    **CONSUMER_ADDRESS)
            contact = contacts.create_contact(session, data, DUE)
            documents.link_contact(session, doc.id, contact.id)
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": "Prestation", "unit_price": price})
            documents.finalize(session, doc.id, DUE)
            assert doc.due_date == DUE
            return {"doc": doc.id, "contact": contact.id, "number": doc.number}

    ids["invoice"] = invoice
    return ids


def _reminders(session_factory, doc_id: int) -> list[Reminder]:
    with session_factory() as session:
        return list(session.exec(select(Reminder).where(Reminder.document_id == doc_id).order_by(Reminder.id)))


def _pay(session_factory, world, doc_id: int, amount: str, today: date) -> None:
    with session_factory() as session:
        payment = payments.request_payment(session, doc_id, world["cheque"], Decimal(amount), None, today)
        payments.record_reception(session, payment.id, today, today)


# --- the schedule ---------------------------------------------------------------------------------


def test_each_step_is_sent_once_on_its_day(session_factory, world, api):
    inv = world["invoice"]("entreprise", "1000")
    sent_by_day = {}
    for offset in (-5, -4, -3, -3, -1, 0, 6, 7, 7, 8, 14, 15, 16, 29, 30, 31, 60):
        counts = reminders.run_due(session_factory, today=day(offset))
        assert counts.get("failed", 0) == 0, counts
        sent_by_day[offset] = sent_by_day.get(offset, 0) + counts["sent"]
    assert {k: v for k, v in sent_by_day.items() if v} == {-3: 1, 7: 1, 15: 1, 30: 1}
    messages = inbox(api)
    assert len(messages) == 4
    subjects = _subjects(api)
    number = inv["number"]
    assert subjects == [f"Rappel : facture {number} à régler le {DUE:%d/%m/%Y}",
                        f"Rappel : facture {number} en attente de règlement",
                        f"Seconde relance : facture {number} impayée",
                        f"Mise en demeure : facture {number} impayée"]
    notice = _text(messages[3])
    # A business customer: penalties (1 000 € × 12,15 % × 30 / 365 = 9,99 €) and the 40 € indemnity.
    assert "30 jours de retard" in notice and "9,99" in notice and "40,00" in notice and "L441-10" in notice
    assert "/payer/" not in notice  # Mollie off: no online payment link
    assert all("40,00" not in _text(m) and "40 €" not in _text(m) for m in messages[:3])
    assert all(m["from"] == {"email": "contact@atelier.fr", "name": "Atelier Martin"} for m in messages)
    assert [a["filename"] for a in messages[0]["attachments"]] == []  # no PDF generated: none attached
    with session_factory() as session:
        rows = reminders.document_reminders(session, inv["doc"])
    assert [r.label for r in rows] == ["J+30", "J+15", "J+7", "J-3"]  # newest first
    assert all(r.status == "envoye" and r.status_label.startswith("Envoyé") for r in rows)
    assert all(r.how == "Automatique" and r.to == "compta@client.fr" for r in rows)
    with session_factory() as session:
        assert reminders.upcoming(session, world["company"], day(60)) == []


def test_a_consumer_gets_no_indemnity_and_a_late_start_sends_only_the_latest_step(session_factory, world, api):
    world["invoice"]("particulier", "200", email="lea@client.fr")
    counts = reminders.run_due(session_factory, today=day(45))  # the scheduler started late
    assert counts["sent"] == 1
    assert reminders.run_due(session_factory, today=day(46))["sent"] == 0  # never the J+7 after
    (message,) = inbox(api)
    assert message.get("subject", "").startswith("Mise en demeure")
    assert "40,00" not in _text(message) and "L441-10" not in _text(message)
    assert "45 jours" in _text(message)


def test_no_reminder_once_paid_and_the_amount_due_is_what_remains(session_factory, world, api):
    inv = world["invoice"]("entreprise", "1000")
    _pay(session_factory, world, inv["doc"], "400", day(1))
    assert reminders.run_due(session_factory, today=day(7))["sent"] == 1
    assert "600,00" in _text(inbox(api)[0])  # remaining_to_pay, not the total
    with session_factory() as session:
        (row,) = reminders.upcoming(session, world["company"], day(8))
        assert (row.label, row.when) == ("J+15", day(15).strftime("%d/%m/%Y"))
    _pay(session_factory, world, inv["doc"], "600", day(10))
    assert reminders.run_due(session_factory, today=day(15))["sent"] == 0
    assert reminders.run_due(session_factory, today=day(30))["sent"] == 0
    assert len(inbox(api)) == 1 and len(_reminders(session_factory, inv["doc"])) == 1
    with session_factory() as session:
        assert reminders.upcoming(session, world["company"], day(15)) == []
    with pytest.raises(DomainError, match="plus rien à régler"):
        reminders.send_now(session_factory, world["user"], inv["doc"], today=day(15))


def test_an_excluded_customer_gets_nothing(session_factory, world, api):
    inv = world["invoice"]("entreprise", "500")
    with session_factory() as session:
        assert reminders.contact_excluded(session, inv["contact"]) is False
        assert reminders.set_contact_excluded(session, inv["contact"], True) is True
    for offset in (-3, 7, 15, 30):
        assert reminders.run_due(session_factory, today=day(offset))["sent"] == 0
    with pytest.raises(DomainError, match="exclu des relances"):
        reminders.send_now(session_factory, world["user"], inv["doc"], today=day(30))
    assert inbox(api) == [] and _reminders(session_factory, inv["doc"]) == []
    with session_factory() as session:
        reminders.set_contact_excluded(session, inv["contact"], False)
    assert reminders.run_due(session_factory, today=day(31))["sent"] == 1


def test_two_workers_at_once_send_one_reminder(session_factory, world, api):
    inv = world["invoice"]("entreprise", "300")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def claim():
        try:
            barrier.wait(timeout=10)
            results.append(reminders.queue_due_reminder(session_factory, inv["doc"], day(7)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len([r for r in results if r is not None]) == 1
    assert len(_reminders(session_factory, inv["doc"])) == 1

    # Two whole scheduler runs at once (two backend workers): the J+15 goes out once.
    counts = []

    def run():
        barrier.wait(timeout=10)
        counts.append(reminders.run_due(session_factory, today=day(15)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(c["sent"] for c in counts) == 1, counts
    assert [r.offset_days for r in _reminders(session_factory, inv["doc"])] == [7, 15]
    queued = next(r for r in results if r is not None)
    with session_factory() as session:  # the claimed J+7 message is sent by the next run (stranded)
        session.execute(update(EmailMessage).where(EmailMessage.id == queued.message_id)
                        .values(created_at=utcnow() - timedelta(minutes=5)))
    assert reminders.run_due(session_factory, today=day(16))["resumed"] == 1
    assert len(inbox(api)) == 2
    assert reminders.run_due(session_factory, today=day(16))["resumed"] == 0


def test_the_unique_constraint_refuses_a_second_row_for_the_same_step(session_factory, world):
    inv = world["invoice"]("entreprise", "300")
    assert reminders.queue_due_reminder(session_factory, inv["doc"], day(7)) is not None
    with session_factory() as session:
        step_id = session.exec(select(ReminderStep.id).where(ReminderStep.offset_days == 7)).one()
    with pytest.raises(Exception):
        with session_factory() as session:
            session.add(Reminder(document_id=inv["doc"], step_id=step_id, offset_days=7))
            session.flush()


def test_relancer_maintenant_sends_the_next_step_by_hand(session_factory, world, api):
    inv = world["invoice"]("entreprise", "250")
    queued, status = reminders.send_now(session_factory, world["user"], inv["doc"], today=day(9))
    assert (queued.label, status) == ("J+7", "envoye")
    with pytest.raises(DomainError, match="vient de partir"):  # a double click
        reminders.send_now(session_factory, world["user"], inv["doc"], today=day(9))
    with session_factory() as session:
        session.execute(update(Reminder).values(created_at=utcnow() - timedelta(minutes=5)))
    queued, status = reminders.send_now(session_factory, world["user"], inv["doc"], today=day(9))
    assert queued.label == "J+15"  # ahead of the schedule: the scheduler will not send it again
    assert reminders.run_due(session_factory, today=day(15))["sent"] == 0
    with session_factory() as session:
        rows = reminders.document_reminders(session, inv["doc"])
    assert [r.how for r in rows] == ["Manuelle (Paul Martin)"] * 2
    assert [m["from"]["email"] for m in inbox(api)] == ["paul@atelier.fr"] * 2


def test_email_off_sends_nothing_and_consumes_no_step(session_factory, world, api):
    inv = world["invoice"]("entreprise", "250")
    with session_factory() as session:
        emails.save_email_settings(session, False, "")
    assert reminders.run_due(session_factory, today=day(7)).get("disabled") == 1
    with pytest.raises(DomainError, match="Activez l'envoi"):
        reminders.send_now(session_factory, world["user"], inv["doc"], today=day(7))
    assert _reminders(session_factory, inv["doc"]) == []
    with session_factory() as session:
        emails.save_email_settings(session, True, "")
    assert reminders.run_due(session_factory, today=day(8))["sent"] == 1


def test_steps_are_editable_and_checked(session_factory, world, api):
    inv = world["invoice"]("entreprise", "250")
    with session_factory() as session:
        steps = reminders.list_steps(session, world["company"])
        assert [(s.label, s.template_name, s.active) for s in steps] == [
            ("J-3", "Rappel amical", True), ("J+7", "Relance amiable", True),
            ("J+15", "Seconde relance", True), ("J+30", "Mise en demeure", True)]
        first, second = steps[0], steps[1]
        with pytest.raises(ValidationErrors) as info:
            reminders.save_step(session, second.id, "15", second.template_id, True)
        assert "déjà à J+15" in info.value.errors["offset_days"]
        with pytest.raises(ValidationErrors):
            reminders.save_step(session, second.id, "dix", second.template_id, True)
        with pytest.raises(ValidationErrors) as info:
            reminders.save_step(session, second.id, "10", "", True)
        assert "modèle" in info.value.errors["template_id"]
        reminders.save_step(session, first.id, "-3", first.template_id, False)  # rappel amical off
        row = reminders.save_step(session, second.id, "10", second.template_id, True)
        assert row.label == "J+10"
    assert reminders.run_due(session_factory, today=day(-3))["sent"] == 0
    assert reminders.run_due(session_factory, today=day(7))["sent"] == 0
    assert reminders.run_due(session_factory, today=day(10))["sent"] == 1
    with session_factory() as session:
        assert session.exec(select(func.count()).select_from(ReminderStep)).one() == 4
        assert [r.label for r in reminders.document_reminders(session, inv["doc"])] == ["J+10"]


def test_avoirs_reduce_the_amount_due_and_a_full_one_stops_the_reminders(session_factory, world, api):
    partly, fully = world["invoice"]("entreprise", "1000"), world["invoice"]("entreprise", "500")
    with session_factory() as session:
        avoir = documents.create_credit_note(session, partly["doc"], day(1))
        line = documents.document_lines(session, avoir.id)[0]
        documents.update_line(session, line.id, {"unit_price": "200"})
        documents.finalize(session, avoir.id, day(1))
        full = documents.create_credit_note(session, fully["doc"], day(1))
        documents.finalize(session, full.id, day(1))
        assert reminders.amount_due(session, partly["doc"]) == Decimal("800.00")
        assert reminders.amount_due(session, fully["doc"]) == Decimal("0.00")
    assert reminders.run_due(session_factory, today=day(7))["sent"] == 1
    (message,) = inbox(api)
    assert partly["number"] in message["subject"] and "800,00" in _text(message)
