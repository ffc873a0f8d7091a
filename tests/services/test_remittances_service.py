"""Remises de prélèvements (services.remittances) and the pre-notification
(services.prenotification), on SQLite and PostgreSQL, with the real SendGrid adapter
talking to the local sandbox: the notices really leave, before the debit."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError
from simple_erp.domain.remittances import next_bank_business_day
from simple_erp.models.company import Company
from simple_erp.models.email import EmailMessage
from simple_erp.models.payment import Payment
from simple_erp.models.remittance import PreNotice, Remittance, RemittanceLine
from simple_erp.providers.email import SendGridGateway
from simple_erp.services import auth, clock, companies, contacts, documents, emails, payments, prenotification
from simple_erp.services import remittances
from tests.legal_identity import SELLER
from tests.sendgrid_fixtures import inbox, sandbox  # noqa: F401 (fixtures)

TODAY = clock.today()
SOON = next_bank_business_day(TODAY + timedelta(days=20))
KEY = "SG.test-key.secret-part-abcd"
ICS = "FR72ZZZ123456"
BANK_IBAN, BANK_BIC = "FR7630006000011234567890189", "AGRIFRPP"
IBAN, BIC = "FR1420041010050500013M02606", "PSSTFRPPPAR"


@pytest.fixture
def world(session_factory, inbox):
    """A company with its ICS, a bank account with « Prélèvement SEPA », email on, a user."""
    with session_factory() as session:
        company = companies.save_company(session, None, {"name": "Atelier Martin", "vat_regime": "franchise", **SELLER,
                                                         "ics": ICS, "iban": BANK_IBAN, "bic": BANK_BIC})
        user = auth.create_user(session, "paul@atelier-martin.fr", "Paul Martin", "motdepasse-solide", is_admin=True)
        payments.save_preferences(session, True, False)
        types = {t.code: t.id for t in payments.list_payment_types(session)}
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque Pop",
                                                     "identifier": "B1", "iban": BANK_IBAN, "bic": BANK_BIC})
        method = payments.save_method(session, None, {"payment_type_id": str(types["prelevement_sepa"]),
                                                      "account_id": str(bank.id)})
        emails.save_email_settings(session, True, KEY)
        return {"company": company.id, "user": user.id, "method": method.id}


def contact(session_factory, name: str, *, iban: str = IBAN, bic: str = BIC, signed_on: date = date(2025, 1, 15),
            email: str = "client@example.org", mandate: bool = True) -> int:
    extra = dict(iban=iban, bic=bic, rum=f"RUM-{uuid.uuid4().hex[:10].upper()}", mandate_signed_on=signed_on) \
        if mandate else {}
    with session_factory() as session:
        return contacts.create_contact(session, ContactInput(kind="particulier", last_name=name, first_name="Léa",
                                                             email=email, **extra), TODAY).id


def invoice(session_factory, company_id: int, contact_id: int, price: str) -> int:
    with session_factory() as session:
        doc = documents.create_document(session, "facture", TODAY, company_id=company_id)
        documents.link_contact(session, doc.id, contact_id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": price})
        documents.finalize(session, doc.id, TODAY)
        return doc.id


def create(session_factory, world, doc_ids, when: date = SOON) -> remittances.Created:
    return remittances.create_remittance(session_factory, world["user"], world["company"], world["method"], doc_ids,
                                         when, TODAY)


def statuses(session_factory, doc_id: int) -> list[str]:
    with session_factory() as session:
        return [p.status for p in session.exec(select(Payment).where(Payment.document_id == doc_id).order_by(Payment.id))]


def counts(session_factory) -> tuple[int, int, int, int]:
    with session_factory() as session:
        return tuple(session.exec(select(func.count()).select_from(model)).one()
                     for model in (Remittance, Payment, EmailMessage, PreNotice))


def test_two_invoices_file_notices_sent_then_paid_and_rejected(session_factory, world, inbox):
    first = invoice(session_factory, world["company"], contact(session_factory, "Durand"), "123.45")
    second = invoice(session_factory, world["company"], contact(session_factory, "Martin", email="m@example.org"),
                     "0.10")
    created = create(session_factory, world, [first, second])
    assert created.notice_failures == []
    with session_factory() as session:
        remittance = remittances.get_remittance(session, created.remittance_id)
        assert (remittance.count, remittance.total, remittance.status) == (2, Decimal("123.55"), "creee")
        filename, data = remittances.remittance_file(session, remittance.id)
    assert filename.endswith(".xml") and remittances.validation_errors(data) == []
    assert remittances.header_totals(data) == (2, Decimal("123.55"))
    assert b"<SeqTp>FRST</SeqTp>" in data and b"<SeqTp>RCUR</SeqTp>" not in data and ICS.encode() in data
    assert statuses(session_factory, first) == ["en_attente"]  # counted as on its way, not yet at the bank
    # The customers were told amount and date, before anything left for the bank.
    sent = {m["to"][0]["email"] if isinstance(m["to"][0], dict) else m["to"][0]: m for m in inbox()}
    assert len(inbox()) == 2
    text = str(sent)
    assert "123,45" in text and SOON.strftime("%d/%m/%Y") in text and ICS in text
    with session_factory() as session:
        assert [n.sent for n in prenotification.notices_of(session, first)] == [True]

    with session_factory() as session:
        remittances.mark_sent(session, created.remittance_id, TODAY)
    assert statuses(session_factory, first) == ["prelevement_en_cours"]
    with session_factory() as session:
        lines = remittances.remittance_lines(session, created.remittance_id)
        by_doc = {line.document_id: line for line in lines}
        remittances.record_line(session, by_doc[first].id, paid=True, received_on=TODAY, today=TODAY)
        with pytest.raises(DomainError, match="motif de rejet"):
            remittances.record_line(session, by_doc[second].id, paid=False, code="XX99", today=TODAY)
    with session_factory() as session:
        remittances.record_line(session, by_doc[second].id, paid=False, code="AM04", today=TODAY)
    assert statuses(session_factory, first) == ["recu"] and statuses(session_factory, second) == ["echoue"]
    with session_factory() as session:
        lines = {line.document_id: line for line in remittances.remittance_lines(session, created.remittance_id)}
        assert lines[first].status_label == "Paiement reçu"
        assert lines[second].status_label == "Rejeté — AM04 — Provision insuffisante"
        assert remittances.get_remittance(session, created.remittance_id).status == "terminee"
        shown = remittances.document_collections(session, second)  # on the invoice screen
        assert [(c.amount, c.status_label) for c in shown] == [("0,10\u00a0€", "Rejeté — AM04 — Provision insuffisante")]
        paid_id = session.exec(select(RemittanceLine.payment_id).where(RemittanceLine.document_id == first)).one()
        assert session.get(Payment, paid_id).received_on == TODAY
        with pytest.raises(DomainError, match="déjà sa réponse"):
            remittances.record_line(session, lines[first].id, paid=False, code="AM04", today=TODAY)

    # The rejected invoice may go again: its mandate was never collected, still FRST.
    again = create(session_factory, world, [second], next_bank_business_day(SOON + timedelta(days=7)))
    with session_factory() as session:
        assert [line.sequence_type for line in remittances.remittance_lines(session, again.remittance_id)] == ["FRST"]


def test_sequence_rcur_after_a_collection_and_record_all(session_factory, world):
    who = contact(session_factory, "Durand")
    first = invoice(session_factory, world["company"], who, "50")
    created = create(session_factory, world, [first])
    with session_factory() as session:
        remittances.mark_sent(session, created.remittance_id, TODAY)
        assert remittances.record_all(session, created.remittance_id, paid=True, received_on=TODAY, today=TODAY) == 1
    second, third = (invoice(session_factory, world["company"], who, price) for price in ("20", "30.05"))
    later = create(session_factory, world, [second, third], next_bank_business_day(SOON + timedelta(days=30)))
    with session_factory() as session:
        rows = remittances.remittance_lines(session, later.remittance_id)
        assert {row.sequence_type for row in rows} == {"RCUR"}
        _name, data = remittances.remittance_file(session, later.remittance_id)
        remittances.mark_sent(session, later.remittance_id, TODAY)
        remittances.record_all(session, later.remittance_id, paid=False, code="MS02", today=TODAY)
    assert remittances.header_totals(data) == (2, Decimal("50.05"))
    assert statuses(session_factory, second) == ["echoue"] and statuses(session_factory, third) == ["echoue"]


def test_an_invoice_is_never_in_two_live_remittances(session_factory, world):
    doc = invoice(session_factory, world["company"], contact(session_factory, "Durand"), "80")
    created = create(session_factory, world, [doc])
    before = counts(session_factory)
    with pytest.raises(DomainError) as info:
        create(session_factory, world, [doc])
    assert "n'a plus rien à prélever" in info.value.message or "déjà dans une remise" in info.value.message
    assert counts(session_factory) == before
    # Enforced by the database itself, not only by the service.
    with pytest.raises(IntegrityError):
        with session_factory() as session:
            line = session.exec(select(RemittanceLine).where(RemittanceLine.document_id == doc)).one()
            session.add(RemittanceLine(remittance_id=created.remittance_id, payment_id=line.payment_id + 1000,
                                       document_id=doc, live_document_id=doc, amount=Decimal("1.00"),
                                       sequence_type="RCUR", rum="X", mandate_signed_on=TODAY,
                                       end_to_end_id="x"))
            session.flush()
    # Cancelled (before it was sent): the invoice is free again; its payment cancelled.
    with session_factory() as session:
        remittances.cancel_remittance(session, created.remittance_id)
        with pytest.raises(DomainError, match="annulée"):
            remittances.remittance_file(session, created.remittance_id)
    assert statuses(session_factory, doc) == ["annule"]
    other = create(session_factory, world, [doc])
    with session_factory() as session:
        remittances.mark_sent(session, other.remittance_id, TODAY)
        with pytest.raises(DomainError, match="ne peut plus être annulée"):
            remittances.cancel_remittance(session, other.remittance_id)


@pytest.mark.parametrize("case", ["incomplete", "no_ics", "bad_ics", "too_soon", "sunday", "outside_sepa",
                                  "nothing_due", "expired", "no_email"])
def test_bad_input_saves_and_sends_nothing(session_factory, world, inbox, case):
    good = invoice(session_factory, world["company"], contact(session_factory, "Bon"), "40")
    when = SOON
    if case == "incomplete":
        doc = invoice(session_factory, world["company"], contact(session_factory, "Sans", mandate=False), "10")
        expected = "mandat du contact"
    elif case in ("no_ics", "bad_ics"):
        with session_factory() as session:
            session.execute(update(Company).where(Company.id == world["company"])
                            .values(ics="" if case == "no_ics" else "FR00ZZZ123456"))
        doc, expected = good, "ICS" if case == "no_ics" else "clé de contrôle est incorrecte"
    elif case == "too_soon":
        doc, when, expected = good, TODAY + timedelta(days=13), "prévenu 14 jours avant"
    elif case == "sunday":
        doc, when = good, SOON + timedelta(days=6 - SOON.weekday())
        expected = f"Le dimanche {when.strftime('%d/%m/%Y')} n'est pas un jour ouvré interbancaire"
    elif case == "outside_sepa":
        doc = invoice(session_factory, world["company"],
                      contact(session_factory, "Istanbul", iban="TR330006100519786457841326", bic="AKBKTRIS"), "10")
        expected = "zone SEPA"
    elif case == "nothing_due":
        doc = invoice(session_factory, world["company"], contact(session_factory, "Payé"), "10")
        with session_factory() as session:
            cheque = next(t.id for t in payments.list_payment_types(session) if t.code == "cheque")
            account = payments.list_accounts(session)[0]
            method = payments.save_method(session, None, {"payment_type_id": str(cheque),
                                                          "account_id": str(account.id)})
            paid = payments.request_payment(session, doc, method.id, Decimal("10"), world["user"], TODAY)
            payments.record_reception(session, paid.id, TODAY, TODAY)
        expected = "plus rien à prélever"
    elif case == "expired":
        doc = invoice(session_factory, world["company"],
                      contact(session_factory, "Ancien", signed_on=TODAY - timedelta(days=3 * 366 + 40)), "10")
        expected = "a expiré"
    else:
        doc = invoice(session_factory, world["company"], contact(session_factory, "Muet", email=""), "10")
        expected = "adresse email"
    before = counts(session_factory)
    with pytest.raises(DomainError) as info:
        create(session_factory, world, [good, doc] if doc != good else [good], when)
    assert expected in info.value.message
    assert counts(session_factory) == before and inbox() == []


def test_amount_must_be_positive_and_company_delay_is_checked(session_factory, world):
    from simple_erp.domain import remittances as rules

    for amount in (Decimal("0"), Decimal("-5"), Decimal("1.001")):
        with pytest.raises(DomainError, match="supérieur à zéro"):
            rules.check_amount(amount)
    with session_factory() as session:
        with pytest.raises(DomainError, match="entre 0 et 60"):
            prenotification.save_prenotification_days(session, world["company"], "-1")
        prenotification.save_prenotification_days(session, world["company"], "5")
    doc = invoice(session_factory, world["company"], contact(session_factory, "Durand"), "10")
    created = create(session_factory, world, [doc], next_bank_business_day(TODAY + timedelta(days=5)))  # 5 days agreed
    assert created.notice_failures == []


def test_mark_sent_refused_until_the_notices_are_sent(session_factory, world, inbox, sandbox):
    doc = invoice(session_factory, world["company"], contact(session_factory, "Durand"), "10")
    emails.set_gateway_factory(lambda key, host: SendGridGateway(key, host="127.0.0.1:9", timeout=1))
    created = create(session_factory, world, [doc])
    assert len(created.notice_failures) == 1  # stored, not sent: the remittance waits
    with session_factory() as session:
        assert session.exec(select(EmailMessage.status).where(EmailMessage.document_id == doc)).one() == emails.FAILED
        with pytest.raises(DomainError, match="pas encore envoyée"):
            remittances.mark_sent(session, created.remittance_id, TODAY)
    assert statuses(session_factory, doc) == ["en_attente"]
    emails.set_gateway_factory(lambda key, host: SendGridGateway(key, host=sandbox.host, timeout=5))
    assert remittances.resend_notices(session_factory, created.remittance_id) == []
    assert len(inbox()) == 1
    with session_factory() as session:
        remittances.mark_sent(session, created.remittance_id, TODAY)
    assert statuses(session_factory, doc) == ["prelevement_en_cours"]


def test_mollie_debit_needs_a_notice_sent_n_days_before(session_factory, world, inbox):
    doc = invoice(session_factory, world["company"], contact(session_factory, "Durand"), "60")
    with session_factory() as session:
        with pytest.raises(DomainError) as info:
            prenotification.usable_notice_for_debit(session, doc, Decimal("60.00"), TODAY)
    assert "Pré-notification requise" in info.value.message
    assert (TODAY + timedelta(days=14)).strftime("%d/%m/%Y") in info.value.message
    debit_on, failure = prenotification.send_mollie_notice(session_factory, world["user"], doc, Decimal("60"))
    assert failure == "" and debit_on == TODAY + timedelta(days=14) and len(inbox()) == 1
    with session_factory() as session:
        with pytest.raises(DomainError) as info:  # sent today: not before today + 14
            prenotification.usable_notice_for_debit(session, doc, Decimal("60.00"), TODAY)
        assert f"à partir du {debit_on.strftime('%d/%m/%Y')}" in info.value.message
        with pytest.raises(DomainError, match="Pré-notification requise"):  # another amount
            prenotification.usable_notice_for_debit(session, doc, Decimal("59.99"), debit_on)
        notice = prenotification.usable_notice_for_debit(session, doc, Decimal("60.00"), debit_on)
        rows = prenotification.notices_of(session, doc)
    assert notice.amount == Decimal("60.00")
    assert [(r.amount, r.collection_date, r.email_status) for r in rows] == [
        ("60,00\u00a0€", debit_on.strftime("%d/%m/%Y"), "Envoyé")]


def test_mollie_sepa_request_refused_without_notice_then_uses_it(session_factory):
    from simple_erp.services.mollie import payments as mollie_payments
    from tests.mollie_fixtures import make_invoice, mollie_setup
    from tests.prenotice_fixtures import backdated_notice

    setup = mollie_setup(session_factory)
    doc = make_invoice(session_factory, "123.45", company_id=setup.company_id, mandate=True)
    with session_factory() as session:
        with pytest.raises(DomainError, match="Pré-notification requise"):
            mollie_payments.request_checked(session, doc, setup.sepa, Decimal("123.45"), None, TODAY)
    assert statuses(session_factory, doc) == []  # nothing recorded
    with session_factory() as session:
        backdated_notice(session, doc, Decimal("123.45"), days_ago=13)  # one day short of 14
    with session_factory() as session:
        with pytest.raises(DomainError, match="n'est possible qu'à partir du"):
            mollie_payments.request_checked(session, doc, setup.sepa, Decimal("123.45"), None, TODAY)
    with session_factory() as session:
        notice_id = backdated_notice(session, doc, Decimal("123.45"), days_ago=14)
    with session_factory() as session:
        payment = mollie_payments.request_checked(session, doc, setup.sepa, Decimal("123.45"), None, TODAY)
        assert session.get(PreNotice, notice_id).payment_id == payment.id
        card = mollie_payments.check_mollie_request(session, doc, setup.card, Decimal("1"))
    assert card is None  # a card payment needs no pre-notification
    assert statuses(session_factory, doc) == ["en_attente"]


def test_one_off_mandate_is_ooff_and_serves_once(session_factory, world):
    from simple_erp.models.contact import Contact

    who = contact(session_factory, "Ponctuel")
    with session_factory() as session:
        session.execute(update(Contact).where(Contact.id == who).values(mandate_type="ponctuel"))
    first, second = (invoice(session_factory, world["company"], who, price) for price in ("15", "25"))
    created = create(session_factory, world, [first])
    with session_factory() as session:
        assert [r.sequence_type for r in remittances.remittance_lines(session, created.remittance_id)] == ["OOFF"]
        _name, data = remittances.remittance_file(session, created.remittance_id)
    assert b"<SeqTp>OOFF</SeqTp>" in data and remittances.validation_errors(data) == []
    before = counts(session_factory)
    with pytest.raises(DomainError, match="ponctuel et a déjà servi"):
        create(session_factory, world, [second])
    assert counts(session_factory) == before
