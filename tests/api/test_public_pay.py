"""The customer's public payment page /payer/<token> and its return page, through an HTTP
client (Starlette TestClient on the real routes), the Mollie sandbox behind: on a partly
paid invoice the return page follows the card payment just made (paid → confirmation,
no refresh loop), and the card is offered only for what remains to pay net of a running
SEPA direct debit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from simple_erp import db
from simple_erp.api import public_pay
from simple_erp.domain.money import format_eur
from simple_erp.services import clock, payments
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.services.mollie.payments import AppUrls
from tests.mollie_fixtures import (  # noqa: F401 - fixtures
    DEAD_URL,
    checkout,
    gateway,
    make_invoice,
    mollie_setup,
    no_proxy,
    request,
    sandbox,
    sandbox_payment,
    settle,
)

D = Decimal
LOST = AppUrls(public_base="http://127.0.0.1:3000", api_base=DEAD_URL)  # webhooks are delivered by the test
REFRESH = "http-equiv='refresh'"
PAY_BUTTON = "Payer par carte bancaire"


@pytest.fixture
def client(engine, monkeypatch, gateway):
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    monkeypatch.setattr(public_pay, "_urls", lambda _request: LOST)
    with TestClient(Starlette(routes=public_pay.routes), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def invoice(session_factory, gateway):
    """A 1 620 € invoice whose contact signed a SEPA mandate, 1 100 € received by cheque."""
    setup = mollie_setup(session_factory)
    doc_id = make_invoice(session_factory, "1620", company_id=setup.company_id, mandate=True)
    today = clock.today()
    with session_factory() as session:
        cheque = payments.request_payment(session, doc_id, setup.cheque, D(1100), None, today)
        payments.record_reception(session, cheque.id, today, today)
        token = mollie_payments.ensure_public_token(session, doc_id)
    return setup, doc_id, token


def pay_by_card(client, session_factory, sandbox, token: str, choice: str) -> str:
    """« Payer par carte bancaire » on the page, then ``choice`` on Mollie's checkout; the
    webhook is applied (as Mollie's would be). Returns the Mollie payment id."""
    answer = client.post(f"/payer/{token}/payer")
    assert answer.status_code == 303, answer.text
    provider_id = answer.headers["location"].rsplit("/", 1)[1]
    checkout(sandbox, provider_id, choice)
    mollie_payments.sync_from_provider(session_factory, provider_id, source="webhook")
    return provider_id


def test_return_page_confirms_a_paid_card_payment_on_a_partly_paid_invoice(client, session_factory, sandbox,
                                                                           invoice):
    _setup, _doc_id, token = invoice
    page = client.get(f"/payer/{token}")
    assert format_eur(D(520)) in page.text and PAY_BUTTON in page.text
    provider_id = pay_by_card(client, session_factory, sandbox, token, "paid")
    assert sandbox_payment(sandbox, provider_id)["amount"]["value"] == "520.00"

    back = client.get(f"/payer/{token}/retour")
    assert back.status_code == 200
    assert "Facture réglée. Merci !" in back.text and REFRESH not in back.text
    assert "Paiement en cours de confirmation" not in back.text and PAY_BUTTON not in back.text


def test_return_page_after_paying_part_says_what_remains(client, session_factory, sandbox, invoice):
    setup, doc_id, token = invoice
    with session_factory() as session:  # the staff asked 300 € by card: the customer pays it
        payments.request_payment(session, doc_id, setup.card, D(300), None, clock.today())
    payment_id = next(r.id for r in payments_rows(session_factory, doc_id) if r.amount == format_eur(D(300)))
    mollie_payments.start_mollie_payment(session_factory, payment_id, LOST)
    pay_by_card(client, session_factory, sandbox, token, "paid")  # reuses the open 300 € checkout

    back = client.get(f"/payer/{token}/retour")
    text = back.text
    assert "Paiement reçu, merci !" in text and f"Votre paiement de {format_eur(D(300))} est confirmé" in text
    assert f"Reste à régler : {format_eur(D(220))}." in text
    assert REFRESH not in text and "Paiement en cours de confirmation" not in text
    assert PAY_BUTTON in text and f"id='amount-due'>{format_eur(D(220))}<" in text  # only what remains


def test_card_is_not_offered_for_what_a_running_debit_covers(client, session_factory, sandbox, invoice):
    setup, doc_id, token = invoice
    request(session_factory, doc_id, setup.sepa, "220", LOST)  # « Prélèvement en cours »
    page = client.get(f"/payer/{token}").text
    assert f"id='amount-due'>{format_eur(D(300))}<" in page and PAY_BUTTON in page
    assert f"Un prélèvement de {format_eur(D(220))} est en cours" in page
    pay_by_card(client, session_factory, sandbox, token, "paid")
    assert [r.amount for r in payments_rows(session_factory, doc_id) if r.status == "recu"] == [
        format_eur(D(300)), format_eur(D(1100))]

    back = client.get(f"/payer/{token}/retour").text
    assert "Paiement reçu, merci !" in back
    assert f"Aucun montant restant à régler : un prélèvement de {format_eur(D(220))} est en cours." in back
    assert PAY_BUTTON not in back and REFRESH not in back and "amount-due" not in back
    page = client.get(f"/payer/{token}").text
    assert PAY_BUTTON not in page and "Aucun montant restant à régler" in page
    refused = client.post(f"/payer/{token}/payer")
    assert refused.status_code == 409 and "prélèvement" in refused.text


def test_return_page_follows_a_failed_then_an_open_payment(client, session_factory, sandbox, invoice):
    _setup, _doc_id, token = invoice
    pay_by_card(client, session_factory, sandbox, token, "failed")
    back = client.get(f"/payer/{token}/retour").text
    assert "Le paiement a échoué ou a été annulé." in back and "Réessayer" in back and REFRESH not in back

    answer = client.post(f"/payer/{token}/payer")  # a new payment, left open at Mollie
    assert answer.status_code == 303
    back = client.get(f"/payer/{token}/retour").text
    assert "Paiement en cours de confirmation…" in back and REFRESH in back and PAY_BUTTON not in back


def payments_rows(session_factory, doc_id: int):
    with session_factory() as session:
        return payments.payment_block(session, doc_id, clock.today()).rows
