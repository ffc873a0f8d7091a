"""« Générer le mandat SEPA » (services.sepa_mandates) on SQLite and PostgreSQL: the RUM is
generated once, from the company's pattern, unique; the PDF (rendered for real) lands in the
contact's « Fichiers » with the RUM, the full IBAN and the legal text; bad input stores
nothing; the mandate is sent by email from the fiche contact (SendGrid sandbox)."""

from __future__ import annotations

import base64
import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func
from sqlmodel import select

from simple_erp import crypto
from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.contact import Contact, ContactFile
from simple_erp.models.email import EmailAttachment, EmailMessage
from simple_erp.services import auth, companies, contacts, emails, sepa_mandates
from tests.sendgrid_fixtures import inbox, sandbox  # noqa: F401 (fixtures)

TODAY = date(2026, 12, 4)
ICS = "FR72ZZZ123456"
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
COMPANY = {"name": "Atelier Dupont", "address_line1": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon",
           "ics": ICS}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _contact(session, name: str, **values) -> int:
    data = dict(kind="particulier", last_name=name, first_name="Jeanne", email=f"{name.lower()}@client.fr",
                address_line1="3 place Bellecour", postal_code="69002", city="Lyon", iban=IBAN, bic=BIC,
                mandate_signed_on=date(2026, 11, 2), rum=f"EXISTANT-{name}")
    data.update(values)
    return contacts.create_contact(session, ContactInput(**data), TODAY).id


def _clear_rum(session, contact_id: int) -> None:
    contact = session.get(Contact, contact_id)
    contact.rum = None
    session.add(contact)
    session.flush()


@pytest.fixture
def company(session_factory) -> int:
    with session_factory() as session:
        return companies.save_company(session, None, COMPANY).id


def test_first_mandate_gets_a_rum_from_the_pattern_and_its_pdf_in_the_files(session_factory, company):
    with session_factory() as session:
        contact_id = _contact(session, "Martin", mandate_type="ponctuel")
        _clear_rum(session, contact_id)
    with session_factory() as session:
        file = sepa_mandates.generate_mandate(session, contact_id, today=TODAY)
        file_id = file.id
    with session_factory() as session:
        contact = session.get(Contact, contact_id)
        assert contact.rum == "RUM-2026-000001"
        files = sepa_mandates.list_files(session, contact_id)
        assert [(f.id, f.filename, f.origin) for f in files] == [(file_id, "Mandat_SEPA_RUM-2026-000001.pdf",
                                                                   "mandat_sepa")]
        meta, content = sepa_mandates.get_file_content(session, file_id)
    assert meta.size == len(content) and content.startswith(b"%PDF")
    text = _pdf_text(content)
    for expected in ("Mandat de prélèvement SEPA", "RUM-2026-000001", ICS, "Atelier Dupont", "12 rue des Lilas",
                     "69003 Lyon", "Jeanne", "3 place Bellecour", "FR76 3000 6000 0112 3456 7890 189", BIC,
                     "☒ Paiement ponctuel", "☐ Paiement récurrent", "8 semaines", "13 mois",
                     "Signature du débiteur".upper(), "FAIT À", "02/11/2026"):
        assert expected in text, expected


def test_rums_are_unique_and_follow_the_numbers_already_used(session_factory, company):
    with session_factory() as session:
        ids = [_contact(session, name) for name in ("Alpha", "Bravo", "Charlie")]
        for contact_id in ids:
            _clear_rum(session, contact_id)
        # A RUM of the pattern typed by hand on another contact: the numbering goes past it.
        _contact(session, "Delta", rum="RUM-2026-000005")
    rums = []
    for contact_id in ids:
        with session_factory() as session:
            sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")
            rums.append(session.get(Contact, contact_id).rum)
    assert rums == ["RUM-2026-000006", "RUM-2026-000007", "RUM-2026-000008"]
    with session_factory() as session:  # a second generation keeps the RUM and adds a file
        sepa_mandates.generate_mandate(session, ids[0], today=TODAY, render=lambda form: b"%PDF-fake")
        assert session.get(Contact, ids[0]).rum == "RUM-2026-000006"
        names = [f.filename for f in sepa_mandates.list_files(session, ids[0])]
    assert sorted(names) == ["Mandat_SEPA_RUM-2026-000006-2.pdf", "Mandat_SEPA_RUM-2026-000006.pdf"]


def test_a_rum_taken_meanwhile_gives_the_next_one_and_the_pdf_prints_it(session_factory, company, monkeypatch):
    """Another save took the RUM between the check and the write: the database's unique
    constraint refuses it (savepoint), the next free one is stored and printed."""
    with session_factory() as session:
        contact_id = _contact(session, "Mike")
        _clear_rum(session, contact_id)
        _contact(session, "November", rum="RUM-2026-000042")
    real, answers = sepa_mandates.new_rum, ["RUM-2026-000042", "RUM-2026-000042"]
    monkeypatch.setattr(sepa_mandates, "new_rum",
                        lambda *args: answers.pop(0) if answers else real(*args))
    printed = []
    with session_factory() as session:
        sepa_mandates.generate_mandate(session, contact_id, today=TODAY,
                                       render=lambda form: printed.append(form.rum) or b"%PDF-fake")
    with session_factory() as session:
        assert session.get(Contact, contact_id).rum == "RUM-2026-000043"
        assert [f.filename for f in sepa_mandates.list_files(session, contact_id)] == [
            "Mandat_SEPA_RUM-2026-000043.pdf"]
    assert printed == ["RUM-2026-000042", "RUM-2026-000043"]


def test_company_pattern_with_the_contact_number(session_factory, company):
    with session_factory() as session:
        companies.save_company(session, company, {"rum_pattern": "CLI{contact:05d}-{seq:02d}"})
        contact_id = _contact(session, "Echo")
        _clear_rum(session, contact_id)
        # the first number is taken by someone else (typed by hand): the next one is used
        _contact(session, "Foxtrot", rum=f"CLI{contact_id:05d}-01")
    with session_factory() as session:
        sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")
        assert session.get(Contact, contact_id).rum == f"CLI{contact_id:05d}-02"


def test_the_creditor_can_be_another_issuing_company(session_factory, company):
    with session_factory() as session:
        other = companies.save_company(session, None, {**COMPANY, "name": "Dupont Services",
                                                       "rum_pattern": "DS-{seq:05d}"}).id
        contact_id = _contact(session, "Oscar")
        _clear_rum(session, contact_id)
    printed = []
    with session_factory() as session:
        sepa_mandates.generate_mandate(session, contact_id, today=TODAY, company_id=other,
                                       render=lambda form: printed.append(form) or b"%PDF-fake")
    assert printed[0].creditor.name == "Dupont Services" and printed[0].rum == "DS-00001"


def test_existing_rum_is_kept_and_printed(session_factory, company):
    with session_factory() as session:
        contact_id = _contact(session, "Golf")
    printed = []
    with session_factory() as session:
        sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: printed.append(form)
                                       or b"%PDF-fake")
        assert session.get(Contact, contact_id).rum == "EXISTANT-Golf"
    assert printed[0].rum == "EXISTANT-Golf" and printed[0].iban == IBAN


def test_company_rum_pattern_and_ics_are_checked_when_saved(session_factory, company):
    with session_factory() as session:
        with pytest.raises(ValidationErrors) as caught:
            companies.save_company(session, company, {"rum_pattern": "RUM-{year}", "ics": "FR73ZZZ123456"})
    assert "{seq}" in caught.value.errors["rum_pattern"]
    assert "clé de contrôle" in caught.value.errors["ics"]
    with session_factory() as session:
        saved = companies.get_company(session, company)
        assert saved.ics == ICS and saved.rum_pattern == "RUM-{year}-{seq:06d}"
        assert companies.company_form(saved)["rum_pattern"] == "RUM-{year}-{seq:06d}"


def _count_files(session_factory) -> int:
    with session_factory() as session:
        return session.exec(select(func.count()).select_from(ContactFile)).one()


@pytest.mark.parametrize(("company_changes", "contact_changes", "message"), [
    ({}, {"iban": "", "bic": "", "rum": "", "mandate_signed_on": None}, "pas d'IBAN"),
    ({}, {"iban": "CH9300762011623852957", "bic": "UBSWCHZH80A"}, None),  # Switzerland is in SEPA: fine
    ({"ics": ""}, {}, "pas d'identifiant créancier SEPA (ICS)"),
    ({"address_line1": "", "postal_code": "", "city": ""}, {}, "adresse de la société émettrice est incomplète"),
])
def test_bad_input_stores_nothing(session_factory, company, company_changes, contact_changes, message):
    with session_factory() as session:
        if company_changes:
            companies.save_company(session, company, company_changes)
        contact_id = _contact(session, "Hotel", **contact_changes)
        _clear_rum(session, contact_id)
    if message is None:
        with session_factory() as session:
            sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")
        assert _count_files(session_factory) == 1
        return
    with pytest.raises(DomainError) as caught:
        with session_factory() as session:
            sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")
    assert message in caught.value.message
    assert _count_files(session_factory) == 0
    with session_factory() as session:
        assert session.get(Contact, contact_id).rum is None


def test_iban_outside_sepa_and_malformed_stored_ics_are_refused(session_factory, company):
    with session_factory() as session:
        contact_id = _contact(session, "India")
        contact = session.get(Contact, contact_id)  # stored before the SEPA check existed
        contact.iban_encrypted, contact.rum = crypto.encrypt("TR330006100519786457841326"), None
        session.add(contact)
    with pytest.raises(DomainError, match="zone SEPA"):
        with session_factory() as session:
            sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")
    with session_factory() as session:
        contact = session.get(Contact, contact_id)
        contact.iban_encrypted = crypto.encrypt(IBAN)
        session.add(contact)
        companies.get_company(session, company).ics = "FR00ZZZ123456"  # written around the form's check
    with pytest.raises(DomainError, match="clé de contrôle est incorrecte. Corrigez-le"):
        with session_factory() as session:
            sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")
    assert _count_files(session_factory) == 0
    with session_factory() as session:
        assert session.get(Contact, contact_id).rum is None


def test_no_company_at_all(session_factory):
    with session_factory() as session:
        contact_id = _contact(session, "Juliett")
    with pytest.raises(DomainError, match="Aucune société émettrice"):
        with session_factory() as session:
            sepa_mandates.generate_mandate(session, contact_id, today=TODAY, render=lambda form: b"%PDF-fake")


# --- « Envoyer par email » from the fiche contact ----------------------------------------------


def test_the_mandate_is_sent_by_email_from_the_fiche_contact(session_factory, company, inbox):
    with session_factory() as session:
        user_id = auth.create_user(session, "paul@atelier-dupont.fr", "Paul Dupont", "motdepasse-solide",
                                   is_admin=True).id
        contact_id = _contact(session, "Kilo")
        other_id = _contact(session, "Lima")
        emails.save_email_settings(session, True, "SG.test-key.secret-part-abcd")
    with session_factory() as session:
        file_id = sepa_mandates.generate_mandate(session, contact_id, today=TODAY).id
        other_file = sepa_mandates.generate_mandate(session, other_id, today=TODAY).id
    with session_factory() as session:
        defaults = sepa_mandates.email_defaults(session, contact_id, user_id)
    assert defaults.to == "kilo@client.fr" and defaults.default_file_ids == [file_id]
    assert "EXISTANT-Kilo" in defaults.body and "Atelier Dupont" in defaults.subject
    with pytest.raises(ValidationErrors) as caught:  # another contact's file is refused
        with session_factory() as session:
            sepa_mandates.queue_contact_email(session, user_id, contact_id, to=defaults.to, cc="",
                                              subject=defaults.subject, body=defaults.body, file_ids=[other_file])
    assert "n'appartient pas à ce contact" in caught.value.errors["files"]
    with session_factory() as session:
        message_id = sepa_mandates.queue_contact_email(session, user_id, contact_id, to=defaults.to, cc="",
                                                       subject=defaults.subject, body=defaults.body,
                                                       file_ids=[file_id])
        assert session.get(EmailMessage, message_id).status == "en_file"  # stored before it is sent
    assert emails.send_queued(session_factory, message_id) == "envoye"
    [received] = inbox()
    assert received["to"] == ["kilo@client.fr"]
    [attachment] = received["attachments"]
    assert attachment["filename"] == "Mandat_SEPA_EXISTANT-Kilo.pdf"
    assert "EXISTANT-Kilo" in _pdf_text(base64.b64decode(attachment["content_base64"]))
    with session_factory() as session:
        [(message, names)] = sepa_mandates.contact_emails(session, contact_id)
        assert message.id == message_id and names == ["Mandat_SEPA_EXISTANT-Kilo.pdf"]
        assert session.exec(select(EmailAttachment.contact_file_id)).all() == [file_id]
