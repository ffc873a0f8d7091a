"""Never make a customer pay twice (SQLite and PostgreSQL, Mollie through its sandbox):
after 1 100 € received and a 520 € SEPA direct debit running on a 1 620 € invoice, the
email's payment information, the public payment page and the payment block all say that
nothing remains to pay, from one computation (``payments.remaining_to_pay``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_eur
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.models.email import EmailMessage
from simple_erp.services import auth, clock, companies, emails, payments
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.services.mollie.payments import AppUrls
from tests.mollie_fixtures import (  # noqa: F401 - fixtures
    DEAD_URL,
    checkout,
    document_of,
    gateway,
    make_invoice,
    mollie_setup,
    no_proxy,
    payment_of,
    request,
    sandbox,
    wait_for,
)

D = Decimal
S = PaymentStatus
PUBLIC = "http://127.0.0.1:3000"
COMPANY_IBAN = "FR14 2004 1010 0505 0001 3M02 606"
URLS = AppUrls(public_base=PUBLIC, api_base=DEAD_URL)  # no webhook: statuses come from the answers
NOTHING_LEFT = f"Aucun montant restant à régler : un prélèvement de {format_eur(D(520))} est en cours."


@pytest.fixture
def invoice(session_factory, gateway):
    """A 1 620 € invoice (franchise company with bank details and Mollie card + SEPA) whose
    contact signed a SEPA mandate; 1 100 € received by cheque."""
    setup = mollie_setup(session_factory)
    with session_factory() as session:
        companies.save_company(session, setup.company_id, {"iban": COMPANY_IBAN, "bic": "PSSTFRPPPAR"})
    doc_id = make_invoice(session_factory, "1620", company_id=setup.company_id, mandate=True)
    today = clock.today()
    with session_factory() as session:
        cheque = payments.request_payment(session, doc_id, setup.cheque, D(1100), None, today)
        payments.record_reception(session, cheque.id, today, today)
        token = mollie_payments.ensure_public_token(session, doc_id)
    return setup, doc_id, token


def template_id(session_factory, name: str) -> int:
    rubrique = "Relances" if name.startswith("Relance") else "Factures"
    with session_factory() as session:
        r = next(r for r in emails.list_rubriques(session) if r.name == rubrique)
        return next(t.id for t in emails.list_templates(session, r.id) if t.name == name)


def compose(session_factory, doc_id: int, template: str | None = None) -> emails.ComposeDefaults:
    tid = template_id(session_factory, template) if template else None
    with session_factory() as session:
        return emails.compose_defaults(session, doc_id, tid, public_payment_base=PUBLIC)


def test_email_payment_information_never_asks_again_for_a_running_debit(session_factory, invoice):
    setup, doc_id, _token = invoice
    # Before the debit: 520 € to pay, by card online or by transfer (the test's control).
    before = compose(session_factory, doc_id).payment_info_text
    assert before.startswith(f"Montant restant à régler : {format_eur(D(520))}.\n") and "/payer/" in before
    with session_factory() as session:
        no_link = emails.compose_defaults(session, doc_id).payment_info_text
    assert "Pour régler par virement" in no_link and COMPANY_IBAN in no_link

    debit = request(session_factory, doc_id, setup.sepa, "520", URLS)
    assert debit.status == S.DEBIT_IN_PROGRESS.value
    with session_factory() as session:
        remaining = payments.remaining_to_pay(session, doc_id)
    assert (remaining.received, remaining.in_flight, remaining.due, remaining.to_pay) == (
        D(1100), D(520), D(520), D(0))

    defaults = compose(session_factory, doc_id)
    assert defaults.payment_info_available and defaults.payment_info_text == NOTHING_LEFT
    for template in ("Facture avec coordonnées bancaires", "Facture avec lien de paiement", "Relance amiable"):
        text = compose(session_factory, doc_id, template).body
        assert "IBAN" not in text and "/payer/" not in text and "/checkout/" not in text, (template, text)
    assert f"il reste {format_eur(D(0))} à payer" in compose(session_factory, doc_id, "Relance amiable").body
    assert NOTHING_LEFT in compose(session_factory, doc_id, "Facture avec coordonnées bancaires").body
    # The stock invoice modèles state what remains to pay, not the total as if it were due.
    for template in ("Envoi de facture", "Facture avec lien de paiement", "Facture avec coordonnées bancaires"):
        text = compose(session_factory, doc_id, template).body
        assert f"Reste à régler : {format_eur(D(0))}" in text, (template, text)
        assert f"{format_eur(D(1620))}, à régler" not in text, (template, text)
    assert format_eur(D(1620)) not in defaults.payment_info_text
    assert "Pour régler par virement" not in defaults.payment_info_text

    # The message stored for sending says the same (never the bank details, never a link).
    with session_factory() as session:
        user = auth.create_user(session, "paul@atelier.fr", "Paul Martin", "motdepasse-solide", is_admin=True)
        emails.save_email_settings(session, True, "SG.test-key.abcdefghijklmnop")
        message_id = emails.queue_email(session, user.id, emails.SendRequest(
            doc_id=doc_id, to="lea@example.org", cc="", subject="Votre facture", body="Bonjour,",
            file_ids=[], include_payment_info=True))
    with session_factory() as session:
        body = session.get(EmailMessage, message_id).body_text
    assert body == f"Bonjour,\n\n{NOTHING_LEFT}"


def test_public_page_and_payment_block_offer_nothing_a_running_debit_covers(session_factory, invoice):
    setup, doc_id, token = invoice
    request(session_factory, doc_id, setup.sepa, "520", URLS)
    with session_factory() as session:
        page = mollie_payments.public_invoice(session, token)
        block = payments.payment_block(session, doc_id, clock.today())
    assert (page.paid, page.online_payment, page.nothing_to_pay) == (False, False, NOTHING_LEFT)
    assert page.amount_due == format_eur(D(0))
    with pytest.raises(DomainError, match="un prélèvement de 520,00"):
        mollie_payments.pay_online(session_factory, token, URLS)
    assert (block.amount_due, block.to_pay, block.default_amount, block.fully_requested) == (D(520), D(0), D(0), True)


def test_a_debit_covering_part_of_the_rest_leaves_only_the_difference_to_pay_by_card(session_factory, invoice, sandbox):
    setup, doc_id, token = invoice
    request(session_factory, doc_id, setup.sepa, "300", URLS)
    with session_factory() as session:
        page = mollie_payments.public_invoice(session, token)
    assert (page.amount_due, page.online_payment, page.nothing_to_pay) == (format_eur(D(220)), True, "")
    assert page.in_flight_note.startswith(f"Un prélèvement de {format_eur(D(300))} est en cours")
    info = compose(session_factory, doc_id).payment_info_text
    assert info.startswith(f"Montant restant à régler : {format_eur(D(220))}.\nUn prélèvement de ")

    url = mollie_payments.pay_online(session_factory, token, URLS)
    with session_factory() as session:
        card = [p for p in mollie_payments.mollie_payments_of(session, doc_id, card_only=True)]
    assert [p.amount for p in card] == [D(220)]
    checkout(sandbox, url.rsplit("/", 1)[1], "paid")
    wait_for(lambda: mollie_payments.refresh_public_status(session_factory, token, timedelta(0)) == "paye")
    with session_factory() as session:
        page = mollie_payments.public_invoice(session, token)
    assert (page.last_status, page.paid, page.online_payment, page.last_amount) == (
        "paye", False, False, format_eur(D(220)))
    assert page.nothing_to_pay == (
        f"Aucun montant restant à régler : un prélèvement de {format_eur(D(300))} est en cours.")
    assert document_of(session_factory, doc_id).amount_received == D(1320)
