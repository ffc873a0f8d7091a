"""Sending documents by e-mail (services.emails), through the real SendGrid adapter and SDK to
the local sandbox over HTTP — on SQLite and PostgreSQL.

Every adapter-level failure (401, 403, 429, 500, timeout) leaves the e-mail stored with a clear
status and French reason; a retry then sends it exactly once (counted in the sandbox)."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, update
from sqlmodel import select

from simple_erp import crypto
from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.email_templates import check_template
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.document import DocumentFile
from simple_erp.models.email import EmailAttachment, EmailEvent, EmailMessage, EmailRubrique, EmailSettings
from simple_erp.models.types import utcnow
from simple_erp.providers.email import REFERENCE_ARG, SendGridGateway
from simple_erp.services import auth, changes, companies, contacts, documents, emails, payments
from simple_erp.services.emails import settings as email_settings
from tests.legal_identity import BUSINESS_BUYER, SELLER
from tests.sendgrid_fixtures import api, sandbox  # noqa: F401 (fixtures)

TODAY = date(2026, 11, 28)
KEY = "SG.test-key.secret-part-abcd"
SENDER = "paul@atelier-martin.fr"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
OTHER_IBAN = "FR1420041010050500013M02606"
GATEWAY_TIMEOUT = 1.5


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def to_sandbox(sandbox):
    emails.set_gateway_factory(lambda key, host: SendGridGateway(key, host=sandbox.host, timeout=GATEWAY_TIMEOUT))
    yield
    emails.set_gateway_factory(None)


def inbox(api) -> list[dict]:
    return api.get("/sandbox/messages").json()["messages"]


@pytest.fixture
def world(session_factory, api):
    """A franchise company with bank details, a signed-in user, a finalised facture of 100 €
    linked to two contacts (one named <script>), with a generated PDF and an uploaded file;
    e-mail sending on with a key."""
    with session_factory() as session:
        companies.save_company(session, None, {"name": "Atelier Martin", "vat_regime": "franchise", **SELLER,
                                               "iban": IBAN, "bic": BIC, "contact_email": "contact@atelier.fr"})
        user = auth.create_user(session, SENDER, "Paul Martin", "motdepasse-solide", is_admin=True)
        doc = documents.create_document(session, "facture", TODAY)
        first = contacts.create_contact(session, ContactInput(
            kind="particulier", last_name="<script>alert('x')</script>", first_name="Léa",
            email="lea@client.fr"), TODAY)
        second = contacts.create_contact(session, ContactInput(
            kind="entreprise", company_name="Compta SA", email="compta@client.fr", **BUSINESS_BUYER), TODAY)
        documents.link_contact(session, doc.id, first.id)
        documents.link_contact(session, doc.id, second.id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": "100"})
        documents.finalize(session, doc.id, TODAY)
        pdf = documents.generate_pdf(session, doc.id, lambda view: PDF)
        upload = DocumentFile(document_id=doc.id, filename="plan été.png", content_type="image/png",
                              size=len(PNG), sha256="0" * 64, origin="upload", content=PNG)
        session.add(upload)
        session.flush()
        emails.save_email_settings(session, True, KEY)
        return {"contact_name": first.display_name, "user": user.id, "doc": doc.id, "pdf": pdf.id, "upload": upload.id, "number": doc.number}


def request(world, **changes_) -> emails.SendRequest:
    values = dict(doc_id=world["doc"], to="lea@client.fr, compta@client.fr", cc="associe@atelier.fr",
                  subject=f"Facture {world['number']}", body="Bonjour,\nVeuillez trouver votre facture.",
                  file_ids=[world["pdf"], world["upload"]], include_payment_info=False)
    values.update(changes_)
    return emails.SendRequest(**values)


def queue(session_factory, world, **changes_) -> int:
    with session_factory() as session:
        return emails.queue_email(session, world["user"], request(world, **changes_))


def message(session_factory, message_id) -> EmailMessage:
    with session_factory() as session:
        return session.get(EmailMessage, message_id)


def count_messages(session_factory) -> int:
    with session_factory() as session:
        return session.exec(select(func.count()).select_from(EmailMessage)).one()


# --- settings ---------------------------------------------------------------------------------


def test_settings_key_is_encrypted_masked_and_kept(session_factory):
    with session_factory() as session:
        assert emails.email_settings_view(session) == {"enabled": False, "key_display": "", "has_key": False,
                                                       "sandbox": False}
        with pytest.raises(DomainError) as info:
            emails.save_email_settings(session, True, None)
        assert info.value.field == "api_key" and "clé API SendGrid" in info.value.message
        with pytest.raises(DomainError) as info:
            emails.save_email_settings(session, False, "abcd-not-a-key")
        assert info.value.field == "api_key" and "SG." in info.value.message
        view = emails.save_email_settings(session, True, f"  {KEY}  ")
    assert view == {"enabled": True, "key_display": "SG.••••••••abcd", "has_key": True, "sandbox": False}
    with session_factory() as session:
        row = session.get(EmailSettings, 1)
        assert KEY not in row.sendgrid_api_key_encrypted and crypto.decrypt(row.sendgrid_api_key_encrypted) == KEY
        assert KEY not in repr(emails.email_settings_view(session))
        emails.save_email_settings(session, False, "")  # "" keeps the key
        assert emails.email_settings_view(session)["key_display"] == "SG.••••••••abcd"
        assert emails.remove_api_key(session)["has_key"] is False


def test_gateway_needs_a_key_except_in_sandbox_mode(session_factory, monkeypatch):
    emails.set_gateway_factory(None)
    with session_factory() as session:
        with pytest.raises(DomainError) as info:
            emails.gateway(session)
        assert "13. Paramètres" in info.value.message
        real = email_settings.get_settings()
        monkeypatch.setattr(email_settings, "get_settings", lambda: real.model_copy(
            update={"sendgrid_sandbox": True, "sendgrid_host": "http://127.0.0.1:8766"}))
        gateway = emails.gateway(session)
        assert gateway.host == "http://127.0.0.1:8766" and gateway._api_key == "SG.sandbox"
        assert emails.save_email_settings(session, True, None)["enabled"] is True  # sandbox: no key needed
        emails.save_email_settings(session, True, KEY)
        assert emails.gateway(session)._api_key == KEY


def test_sender_is_the_users_profile_address():
    from simple_erp.models.user import User

    assert emails.sender_for(User(email="Paul@Atelier.FR", full_name=" Paul ", password_hash="x")) == (
        "Paul@atelier.fr", "Paul")
    with pytest.raises(DomainError) as info:
        emails.sender_for(User(email="", full_name="Paul", password_hash="x"))
    assert "Mon profil" in info.value.message


# --- rubriques and modèles ----------------------------------------------------------------------


def test_french_defaults_are_seeded_and_valid(session_factory):
    with session_factory() as session:
        rubriques = emails.list_rubriques(session)
        assert [r.name for r in rubriques][:3] == ["Factures", "Devis", "Relances"]
        names = {r.name: [t.name for t in emails.list_templates(session, r.id)] for r in rubriques}
        templates = [t for r in rubriques for t in emails.list_templates(session, r.id)]
    assert {"Envoi de facture", "Facture avec lien de paiement"} <= set(names["Factures"])
    assert "Envoi de devis" in names["Devis"] and "Relance amiable" in names["Relances"]
    assert names["Prélèvements SEPA"] == ["Pré-notification de prélèvement"]  # issue 13
    for template in templates:
        check_template(template.subject, template.body)
        assert "{contact_nom}" in template.body


def test_template_crud_refuses_unknown_placeholders_and_duplicates(session_factory):
    with session_factory() as session:
        last = max(r.position for r in emails.list_rubriques(session))
        rubrique = emails.save_rubrique(session, None, "  Remerciements ")
        assert rubrique.name == "Remerciements" and rubrique.position == last + 1
        with pytest.raises(ValidationErrors) as info:
            emails.save_rubrique(session, None, "factures")
        assert "existe déjà" in info.value.errors["name"]
        form = {"rubrique_id": str(rubrique.id), "name": "Merci", "subject": "Merci {contact_nom}",
                "body": "Bonjour {client},\nMerci pour votre règlement de {montant}."}
        with pytest.raises(ValidationErrors) as info:
            emails.save_template(session, None, form)
        assert "{client}" in info.value.errors["body"] and "{montant}" in info.value.errors["body"]
        with pytest.raises(ValidationErrors) as info:
            emails.save_template(session, None, {"rubrique_id": "999", "name": "", "subject": "a\nb", "body": " "})
        assert set(info.value.errors) == {"rubrique_id", "name", "subject", "body"}
        template = emails.save_template(session, None, form | {"body": "Merci {contact_nom} !"})
        assert emails.template_form(emails.get_template(session, template.id))["body"] == "Merci {contact_nom} !"
        with pytest.raises(ValidationErrors) as info:
            emails.save_template(session, None, form | {"name": "MERCI", "body": "x"})
        assert "existe déjà" in info.value.errors["name"]
        emails.save_template(session, template.id, form | {"name": "Merci bis", "body": "Merci."})
        assert [t.name for t in emails.list_templates(session, rubrique.id)] == ["Merci bis"]
        with pytest.raises(DomainError):
            emails.delete_rubrique(session, rubrique.id)
        emails.delete_template(session, template.id)
        emails.delete_rubrique(session, rubrique.id)
        with pytest.raises(DomainError):
            emails.get_template(session, template.id)


# --- the form -------------------------------------------------------------------------------------


def template_id(session_factory, rubrique: str, name: str) -> int:
    with session_factory() as session:
        r = next(r for r in emails.list_rubriques(session) if r.name == rubrique)
        return next(t.id for t in emails.list_templates(session, r.id) if t.name == name)


def test_compose_defaults_fill_the_modele_with_the_document(session_factory, world):
    tid = template_id(session_factory, "Factures", "Envoi de facture")
    with session_factory() as session:
        defaults = emails.compose_defaults(session, world["doc"], tid, user=world["user"])
        empty = emails.compose_defaults(session, world["doc"], None)
    assert defaults.to == "lea@client.fr, compta@client.fr" and defaults.cc == ""
    assert defaults.subject == f"Facture {world['number']} — Atelier Martin"
    assert defaults.body.startswith(f"Bonjour {world['contact_name']},\n")
    assert "100,00\u00a0€" in defaults.body and "28/12/2026" in defaults.body and "Atelier Martin" in defaults.body
    assert {name for _id, name in defaults.files} == {f"{world['number']}.pdf", "plan été.png"}
    assert defaults.default_file_ids == [world["pdf"]]
    assert defaults.payment_info_available
    assert "IBAN : FR76 3000 6000 0112 3456 7890 189" in defaults.payment_info_text
    assert f"Référence à indiquer dans le libellé du virement : {world['number']}" in defaults.payment_info_text
    assert (empty.subject, empty.body) == ("", "")
    with session_factory() as session:
        assert session.get(EmailRubrique, defaults.default_rubrique_id).name == "Factures"


def test_payment_info_prefers_mollie_then_the_manual_requests_account(session_factory, world):
    with session_factory() as session:
        payments.save_preferences(session, True, True)
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque 2",
                                                     "identifier": "B2", "iban": OTHER_IBAN, "bank_name": "La Banque"})
        virement = next(t.id for t in payments.list_payment_types(session) if t.code == "virement")
        method = payments.save_method(session, None, {"payment_type_id": str(virement), "account_id": str(bank.id)})
        payments.request_payment(session, world["doc"], method.id, Decimal(40), world["user"], TODAY)
    with session_factory() as session:
        info = emails.compose_defaults(session, world["doc"]).payment_info_text
    assert "FR14 2004 1010 0505 0001 3M02 606" in info and "Banque : La Banque" in info
    with session_factory() as session:
        mollie = payments.save_account(session, None, {"account_type": "mollie", "name": "Mollie", "identifier": "M"})
        card = next(t.id for t in payments.list_payment_types(session) if t.code == "carte_bancaire")
        method = payments.save_method(session, None, {"payment_type_id": str(card), "account_id": str(mollie.id)})
        payment = payments.request_payment(session, world["doc"], method.id, Decimal(60), world["user"], TODAY)
        payments.attach_provider_payment(session, payment.id, "tr_test1", "https://mollie.example/checkout/tr_test1")
    tid = template_id(session_factory, "Factures", "Facture avec lien de paiement")
    with session_factory() as session:
        defaults = emails.compose_defaults(session, world["doc"], tid)
    assert defaults.payment_info_text == ("Montant restant à régler : 100,00\u00a0€.\n"
                                          "Pour régler 60,00\u00a0€ en ligne, en toute sécurité :\n"
                                          "https://mollie.example/checkout/tr_test1")
    assert "https://mollie.example/checkout/tr_test1" in defaults.body


# --- queueing ---------------------------------------------------------------------------------------


def test_queue_validates_everything_and_stores_nothing_when_invalid(session_factory, world):
    with session_factory() as session:
        other = documents.create_document(session, "devis", TODAY)
        foreign = documents.generate_pdf(session, other.id, lambda view: PDF).id
    cases = [
        (dict(to=""), "to", "au moins un destinataire"),
        (dict(to="lea@client.fr, pas-une-adresse"), "to", "pas-une-adresse"),
        (dict(cc="x@"), "cc", "x@"),
        (dict(subject="  "), "subject", "sujet"),
        (dict(subject="a\nBcc: x@y.fr"), "subject", "une seule ligne"),
        (dict(body=""), "body", "texte"),
        (dict(file_ids=[world["pdf"], foreign]), "files", "n'appartient pas"),
        (dict(file_ids=[987654]), "files", "n'appartient pas"),
    ]
    for changes_, field, words in cases:
        with pytest.raises(ValidationErrors) as info:
            queue(session_factory, world, **changes_)
        assert words in info.value.errors[field], (changes_, info.value.errors)
    with session_factory() as session:
        emails.save_email_settings(session, False, None)
    with pytest.raises(DomainError) as info:
        queue(session_factory, world)
    assert info.value.message == emails.DISABLED
    assert count_messages(session_factory) == 0


def test_queue_refuses_a_user_without_address(session_factory, world):
    with session_factory() as session:
        user = session.get(auth.User, world["user"])
        user.email = ""
        session.add(user)
    with pytest.raises(DomainError) as info:
        queue(session_factory, world)
    assert "Mon profil" in info.value.message
    assert count_messages(session_factory) == 0


def test_queue_stores_first_then_send_records_the_message_id(session_factory, world, api):
    seen: list[frozenset[str]] = []
    changes.subscribe(seen.append)
    try:
        message_id = queue(session_factory, world, body="Bonjour {contact_nom} <script>alert(1)</script>")
        stored = message(session_factory, message_id)
        assert (stored.status, stored.attempts, stored.provider_message_id) == ("en_file", 0, None)
        assert stored.sender_email == SENDER and stored.sender_name == "Paul Martin"
        assert stored.to_addrs == "lea@client.fr, compta@client.fr" and stored.cc_addrs == "associe@atelier.fr"
        assert "&lt;script&gt;" in stored.body_html and "<script>" not in stored.body_html
        assert inbox(api) == []  # nothing sent yet
        assert emails.send_queued(session_factory, message_id) == "envoye"
    finally:
        changes.unsubscribe(seen.append)
    assert any(f"document:{world['doc']}" in topics for topics in seen)
    [sent] = inbox(api)
    stored = message(session_factory, message_id)
    assert stored.status == "envoye" and stored.provider_message_id == sent["message_id"]
    assert stored.sent_at is not None and stored.attempts == 1 and stored.error == ""
    assert sent["from"] == {"email": SENDER, "name": "Paul Martin"}
    assert sent["to"] == ["lea@client.fr", "compta@client.fr"] and sent["cc"] == ["associe@atelier.fr"]
    assert "<script>" not in sent["html"] and sent["text"].endswith("<script>alert(1)</script>")
    assert [(a["filename"], a["type"], a["size"]) for a in sent["attachments"]] == [
        (f"{world['number']}.pdf", "application/pdf", len(PDF)), ("plan été.png", "image/png", len(PNG))]
    # Never twice: sending again or retrying a sent message sends nothing.
    assert emails.send_queued(session_factory, message_id) == "envoye"
    with pytest.raises(DomainError):
        emails.retry(session_factory, message_id)
    assert len(inbox(api)) == 1 and message(session_factory, message_id).attempts == 1
    with session_factory() as session:
        [row] = emails.list_document_emails(session, world["doc"])
    assert (row.status_label, row.can_retry, row.error, row.last_event_label) == ("Envoyé", False, "", "")
    assert row.attachments == f"{world['number']}.pdf, plan été.png" and row.to == stored.to_addrs


def test_payment_info_is_appended_once(session_factory, world, api):
    message_id, status = emails.queue_and_send(session_factory, world["user"], request(world, include_payment_info=True))
    assert status == "envoye"
    body = message(session_factory, message_id).body_text
    assert body.startswith("Bonjour,\nVeuillez trouver votre facture.\n\nMontant restant à régler : 100,00\u00a0€.\n"
                           "Pour régler par virement :\n")
    assert "IBAN : FR76 3000 6000 0112 3456 7890 189" in body and "BIC : AGRIFRPP" in body
    tid = template_id(session_factory, "Factures", "Facture avec coordonnées bancaires")
    with session_factory() as session:
        text = emails.compose_defaults(session, world["doc"], tid).body
    message_id = queue(session_factory, world, body=text, include_payment_info=True)
    assert message(session_factory, message_id).body_text.count("IBAN :") == 1
    assert inbox(api)[-1]["text"].count("IBAN") == 1


def test_payment_info_refused_when_there_is_none(session_factory, world):
    with session_factory() as session:
        devis = documents.create_document(session, "devis", TODAY)
        company = companies.default_company(session)
        companies.save_company(session, company.id, {"iban": "", "bic": ""})
    with pytest.raises(DomainError) as info:
        queue(session_factory, world, doc_id=devis.id, file_ids=[], include_payment_info=True)
    assert info.value.field == "include_payment_info"


# --- failures and retries ----------------------------------------------------------------------------

FAILURES = {
    "401": ({"status": 401}, "Clé API SendGrid refusée (401)"),
    "403": (None, f"L'adresse d'expédition {SENDER} n'est pas vérifiée"),
    "429": ({"status": 429}, "SendGrid limite les envois (429)"),
    "500": ({"status": 500}, "SendGrid est momentanément indisponible (500)"),
    "timeout": ({"delay": GATEWAY_TIMEOUT + 1.5}, "SendGrid n'a pas répondu à temps"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failure_keeps_the_email_with_its_reason_and_a_retry_sends_it_once(session_factory, world, api, case):
    switch, reason = FAILURES[case]
    if switch is None:
        api.post("/sandbox/senders", json={"unverified": [SENDER]})
    else:
        api.post("/sandbox/fail-next", json=switch)
    message_id = queue(session_factory, world)
    assert emails.send_queued(session_factory, message_id) == "echec"
    failed = message(session_factory, message_id)
    assert failed.status == "echec" and reason in failed.error and failed.attempts == 1
    assert failed.attempt_started_at is None and failed.provider_message_id is None
    assert failed.subject == f"Facture {world['number']}" and failed.body_text.startswith("Bonjour")
    with session_factory() as session:
        assert len(session.exec(select(EmailAttachment).where(EmailAttachment.message_id == message_id)).all()) == 2
        [row] = emails.list_document_emails(session, world["doc"])
    uncertain = case == "timeout"
    assert (row.status_label, row.can_retry, row.uncertain) == (
        "Envoi incertain" if uncertain else "Échec", True, uncertain) and reason in row.error
    assert failed.outcome_uncertain is uncertain
    if uncertain:  # the late answer may still have been accepted (inherent to timeouts)
        time.sleep(2)
        with pytest.raises(emails.UncertainSend, match="peut-être déjà parti"):
            emails.retry(session_factory, message_id)  # not without the user's say-so
    else:
        assert inbox(api) == []
    api.post("/sandbox/senders", json={"unverified": []})
    before = len(inbox(api))
    assert emails.retry(session_factory, message_id, confirmed=uncertain) == "envoye"
    after = inbox(api)
    assert len(after) == before + 1
    sent = message(session_factory, message_id)
    assert (sent.status, sent.error, sent.attempts, sent.outcome_uncertain) == ("envoye", "", 2, False)
    assert sent.provider_message_id == after[0]["message_id"]
    with pytest.raises(DomainError):
        emails.retry(session_factory, message_id)
    assert emails.send_queued(session_factory, message_id) == "envoye"
    assert len(inbox(api)) == before + 1


def _sent_later(api, count: int = 1) -> list[dict]:
    """The sandbox's messages once ``count`` are there (a slow answer: stored after the delay)."""
    deadline = time.monotonic() + 10
    while len(inbox(api)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return inbox(api)


def test_an_uncertain_send_becomes_sent_when_its_events_arrive(session_factory, world, api):
    api.post("/sandbox/fail-next", json={"delay": GATEWAY_TIMEOUT + 0.5})
    message_id = queue(session_factory, world)
    assert emails.send_queued(session_factory, message_id) == "echec"
    uncertain = message(session_factory, message_id)
    assert uncertain.outcome_uncertain and uncertain.provider_message_id is None
    assert "peut-être parti quand même" in uncertain.error
    [late] = _sent_later(api)  # SendGrid took it after all
    assert late["subject"] == f"Facture {world['number']}"
    # Its events carry the reference sent with it (SendGrid's custom argument).
    event = {"sg_event_id": "ev-late-1", "sg_message_id": f"{late['message_id']}.filter-1", "event": "processed",
             "email": "lea@client.fr", "timestamp": 1_796_000_000, REFERENCE_ARG: uncertain.reference}
    with session_factory() as session:
        assert emails.record_events(session, [event]) == 1
        [row] = emails.list_document_emails(session, world["doc"])
    sent = message(session_factory, message_id)
    assert (sent.status, sent.error, sent.outcome_uncertain) == ("envoye", "", False)
    assert sent.provider_message_id == late["message_id"] and sent.sent_at.timestamp() == 1_796_000_000
    assert (row.status_label, row.can_retry) == ("Envoyé", False)
    with pytest.raises(DomainError, match="déjà été envoyé"):
        emails.retry(session_factory, message_id, confirmed=True)
    with session_factory() as session:  # later events find it by its X-Message-Id
        emails.record_events(session, [{**event, "sg_event_id": "ev-late-2", "event": "delivered"}])
    assert message(session_factory, message_id).last_event == "delivered"
    assert len(inbox(api)) == 1


def test_an_event_during_the_wait_makes_the_timeout_a_success(session_factory, world, api):
    api.post("/sandbox/fail-next", json={"delay": GATEWAY_TIMEOUT + 0.5})
    message_id = queue(session_factory, world)
    reference = message(session_factory, message_id).reference
    results: list[str] = []
    sender = threading.Thread(target=lambda: results.append(emails.send_queued(session_factory, message_id)))
    sender.start()
    deadline = time.monotonic() + 5
    while message(session_factory, message_id).attempt_started_at is None and time.monotonic() < deadline:
        time.sleep(0.02)
    with session_factory() as session:  # SendGrid's event outruns its answer
        emails.record_events(session, [{"sg_event_id": "ev-fast", "sg_message_id": "XIDFAST.filter", "event":
                                        "processed", "timestamp": 1_796_000_000, REFERENCE_ARG: reference}])
    assert message(session_factory, message_id).status == "envoye"  # SendGrid has it
    sender.join(15)  # its timeout does not undo that
    sent = message(session_factory, message_id)
    assert results == ["envoye"] and (sent.status, sent.provider_message_id) == ("envoye", "XIDFAST")
    assert not sent.outcome_uncertain and sent.error == ""
    assert len(_sent_later(api)) == 1  # the late one (before the next test resets the sandbox)


def test_references_are_sent_and_unique(session_factory, world, api):
    first, second = queue(session_factory, world), queue(session_factory, world)
    refs = {message(session_factory, first).reference, message(session_factory, second).reference}
    assert len(refs) == 2 and all(len(r) == 32 for r in refs)
    emails.send_queued(session_factory, first)
    [stored] = inbox(api)
    assert stored["message_id"] == message(session_factory, first).provider_message_id
    assert stored["custom_args"] == {REFERENCE_ARG: message(session_factory, first).reference}
    # A message queued before references existed gets one when it is sent.
    with session_factory() as session:
        session.execute(update(EmailMessage).where(EmailMessage.id == second).values(reference=None))
    emails.send_queued(session_factory, second)
    late_ref = message(session_factory, second).reference
    assert late_ref and inbox(api)[0]["custom_args"] == {REFERENCE_ARG: late_ref}
    with session_factory() as session:  # an event naming an unknown reference names no message
        emails.record_events(session, [{"sg_event_id": "ev-x", "sg_message_id": "NOPE.f", "event": "processed",
                                        REFERENCE_ARG: "0" * 32}])
        assert session.exec(select(EmailEvent).where(EmailEvent.sg_event_id == "ev-x")).one().message_id is None


def test_a_certain_failure_after_an_uncertain_one_stays_uncertain(session_factory, world, api):
    """Confirmed « Réessayer » after a timeout, then a sure failure (503): the first
    attempt may still have gone, so the message stays « Envoi incertain », and its late
    events make it « Envoyé »."""
    api.post("/sandbox/fail-next", json={"delay": GATEWAY_TIMEOUT + 0.5})
    message_id = queue(session_factory, world)
    assert emails.send_queued(session_factory, message_id) == "echec"
    [late] = _sent_later(api)
    api.post("/sandbox/fail-next", json={"status": 503})
    assert emails.retry(session_factory, message_id, confirmed=True) == "echec"
    failed = message(session_factory, message_id)
    assert failed.outcome_uncertain and "(503)" in failed.error
    with session_factory() as session:
        [row] = emails.list_document_emails(session, world["doc"])
        assert (row.status_label, row.uncertain) == ("Envoi incertain", True)
        emails.record_events(session, [{"sg_event_id": "ev-1", "sg_message_id": f"{late['message_id']}.f",
                                        "event": "delivered", REFERENCE_ARG: failed.reference}])
    sent = message(session_factory, message_id)
    assert (sent.status, sent.outcome_uncertain, sent.last_event) == ("envoye", False, "delivered")


def test_a_send_interrupted_while_waiting_is_uncertain(session_factory, world, api):
    """The sender stopped while waiting for SendGrid (a restart): the message is still
    « En file » after an attempt. « Réessayer » asks first; an event settles it."""
    message_id = queue(session_factory, world)
    stale = utcnow() - emails.SEND_CLAIM_TIMEOUT - timedelta(seconds=1)
    with session_factory() as session:
        session.execute(update(EmailMessage).where(EmailMessage.id == message_id)
                        .values(attempts=1, attempt_started_at=stale, created_at=stale))
        [row] = emails.list_document_emails(session, world["doc"])
    assert (row.status, row.can_retry, row.uncertain) == ("en_file", True, True)
    with pytest.raises(emails.UncertainSend):
        emails.retry(session_factory, message_id)
    with pytest.raises(DomainError, match="n'existe pas"):  # not one of this document's emails
        emails.retry(session_factory, message_id, confirmed=True, document_id=world["doc"] + 1)
    with session_factory() as session:
        emails.record_events(session, [{"sg_event_id": "ev-2", "sg_message_id": "XIDSTUCK.f", "event": "processed",
                                        REFERENCE_ARG: message(session_factory, message_id).reference}])
    sent = message(session_factory, message_id)
    assert (sent.status, sent.provider_message_id) == ("envoye", "XIDSTUCK") and inbox(api) == []


def test_two_concurrent_sends_of_one_message_send_it_once(session_factory, world, api):
    api.post("/sandbox/fail-next", json={"delay": 0.5})
    message_id = queue(session_factory, world)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(emails.send_queued(session_factory, message_id)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(inbox(api)) == 1
    assert "envoye" in results and message(session_factory, message_id).attempts == 1


def test_a_send_in_progress_is_not_repeated_until_it_is_stale(session_factory, world, api):
    message_id = queue(session_factory, world)
    with session_factory() as session:
        session.execute(update(EmailMessage).where(EmailMessage.id == message_id).values(attempt_started_at=utcnow()))
    assert emails.send_queued(session_factory, message_id) == "en_file"
    with pytest.raises(DomainError) as info:
        emails.retry(session_factory, message_id)
    assert "en cours d'envoi" in info.value.message
    with session_factory() as session:
        [row] = emails.list_document_emails(session, world["doc"])
        assert row.sending and not row.can_retry
        stale = utcnow() - emails.SEND_CLAIM_TIMEOUT - timedelta(seconds=1)
        session.execute(update(EmailMessage).where(EmailMessage.id == message_id)
                        .values(attempt_started_at=stale, created_at=stale))
    with session_factory() as session:
        [row] = emails.list_document_emails(session, world["doc"])
        assert row.can_retry and not row.sending  # stuck "en file": offered again
    assert emails.retry(session_factory, message_id) == "envoye" and len(inbox(api)) == 1


def test_unexpected_errors_and_missing_files_end_in_echec(session_factory, world, api):
    class Broken:
        def send(self, _email):
            raise RuntimeError("bug")

    emails.set_gateway_factory(lambda key, host: Broken())
    message_id = queue(session_factory, world)
    assert emails.send_queued(session_factory, message_id) == "echec"
    failed = message(session_factory, message_id)
    assert "Erreur inattendue" in failed.error and failed.attempt_started_at is None
    with session_factory() as session:
        session.execute(update(EmailAttachment).where(EmailAttachment.message_id == message_id)
                        .values(document_file_id=None))
    assert emails.retry(session_factory, message_id) == "echec"
    assert "n'existe plus" in message(session_factory, message_id).error
    assert message(session_factory, message_id).attempts == 2


def test_disabling_stops_queued_document_emails(session_factory, world, api):
    message_id = queue(session_factory, world)
    with session_factory() as session:
        emails.save_email_settings(session, False, None)
    assert emails.send_queued(session_factory, message_id) == "echec"
    assert message(session_factory, message_id).error == emails.DISABLED and inbox(api) == []


# --- test e-mail ------------------------------------------------------------------------------------


def test_test_email_goes_to_the_user_and_failures_are_explained(session_factory, world, api):
    assert SENDER in emails.send_test_email(session_factory, world["user"])
    [sent] = inbox(api)
    assert sent["to"] == [SENDER] and sent["subject"] == emails.TEST_SUBJECT
    api.post("/sandbox/senders", json={"unverified": [SENDER]})
    with pytest.raises(DomainError) as info:
        emails.send_test_email(session_factory, world["user"])
    assert "Sender Authentication" in info.value.message
    with session_factory() as session:
        stored = session.exec(select(EmailMessage).where(EmailMessage.document_id.is_(None))
                              .order_by(EmailMessage.id)).all()
        assert [m.status for m in stored] == ["envoye", "echec"]
        emails.remove_api_key(session)
    emails.set_gateway_factory(None)
    with pytest.raises(DomainError) as info:
        emails.send_test_email(session_factory, world["user"])
    assert info.value.message == emails.NO_KEY and count_messages(session_factory) == 2


# --- events -----------------------------------------------------------------------------------------


def test_events_update_the_message_once_each(session_factory, world, api):
    message_id, _ = emails.queue_and_send(session_factory, world["user"], request(world))
    xid = message(session_factory, message_id).provider_message_id
    sg = f"{xid}.filterdrecv-5645d9c87f-6r5jm-1-5E1E1F0D-2.0"
    ts = 1_796_000_000
    events = [
        {"sg_event_id": "ev1", "sg_message_id": sg, "event": "processed", "email": "lea@client.fr", "timestamp": ts},
        {"sg_event_id": "ev2", "sg_message_id": sg, "event": "delivered", "email": "lea@client.fr", "timestamp": ts + 1},
        {"sg_event_id": "ev2", "sg_message_id": sg, "event": "delivered", "email": "lea@client.fr", "timestamp": ts + 1},
        {"sg_event_id": "ev3", "sg_message_id": "unknown.filter", "event": "open", "timestamp": ts},
        {"sg_message_id": sg, "event": "open"},  # no sg_event_id: ignored
    ]
    seen: list[frozenset[str]] = []
    changes.subscribe(seen.append)
    try:
        with session_factory() as session:
            assert emails.record_events(session, events) == 3
    finally:
        changes.unsubscribe(seen.append)
    assert any(f"document:{world['doc']}" in topics for topics in seen)
    delivered = message(session_factory, message_id)
    assert delivered.last_event == "delivered" and delivered.delivered_at.timestamp() == ts + 1
    with session_factory() as session:
        assert emails.record_events(session, events) == 0  # a replay changes nothing
        assert emails.record_events(session, [
            {"sg_event_id": "ev4", "sg_message_id": sg, "event": "open", "timestamp": ts + 60},
            {"sg_event_id": "ev5", "sg_message_id": sg, "event": "delivered", "timestamp": ts + 61},
        ]) == 2
        [row] = emails.list_document_emails(session, world["doc"])
        assert row.last_event_label == "Ouvert"
        assert emails.record_events(session, [{"sg_event_id": "ev6", "sg_message_id": sg, "event": "bounce",
                                               "email": "compta@client.fr", "reason": "550 5.1.1 unknown user",
                                               "timestamp": ts + 90}]) == 1
        [row] = emails.list_document_emails(session, world["doc"])
        stored = session.exec(select(EmailEvent).order_by(EmailEvent.sg_event_id)).all()
    assert row.last_event_label == "Rejeté (bounce)" and "compta@client.fr : 550 5.1.1" in row.last_event_detail
    assert [e.sg_event_id for e in stored] == ["ev1", "ev2", "ev3", "ev4", "ev5", "ev6"]
    assert stored[2].message_id is None and stored[1].message_id == message_id
    bounced = message(session_factory, message_id)
    assert bounced.opened_at.timestamp() == ts + 60 and bounced.bounced_at.timestamp() == ts + 90
