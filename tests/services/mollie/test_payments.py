"""Mollie payments through the real SDK and the local Mollie sandbox over HTTP, on SQLite
and PostgreSQL: the company key, card requests (exact request, idempotent retries),
webhooks delivered by the sandbox to the app's route, SEPA direct debits with their
customer and mandate, refunds and chargebacks, reconciliation, the "Resynchroniser"
button and the public payment page."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select
from starlette.applications import Starlette

from simple_erp.api import webhooks
from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.payment_rules import InvoicePaymentStatus, PaymentStatus
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.payment import MollieCustomer, Payment
from simple_erp.providers.mollie import MollieError, MollieGateway
from simple_erp.services import clock, companies, contacts, documents, payments
from simple_erp.services.mollie import gateway as mollie_gateway
from simple_erp.services.mollie import mandates as mollie_mandates
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.services.mollie.payments import AppUrls
from tests.legal_identity import SELLER
from tests.mollie_fixtures import (  # noqa: F401 - fixtures
    BIC_2,
    DEAD_URL,
    IBAN,
    IBAN_2,
    SIGNED_ON,
    ServerThread,
    checkout,
    document_of,
    events_of,
    gateway,
    make_invoice,
    mollie_setup,
    new_key,
    no_proxy,
    payment_of,
    request,
    sandbox,
    sandbox_payment,
    sandbox_state,
    settle,
    wait_for,
)

S = PaymentStatus
D = Decimal
PUBLIC = "http://127.0.0.1:3000"


class _Current:
    factory = None


@pytest.fixture(scope="module")
def receiver(no_proxy):
    """The app's webhook route served over HTTP, on the current test's database."""
    app = Starlette(routes=webhooks.make_routes(lambda: _Current.factory()))
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def urls(receiver, session_factory):
    _Current.factory = session_factory
    yield AppUrls(public_base=PUBLIC, api_base=receiver.base_url)
    _Current.factory = None


@pytest.fixture
def setup(session_factory, gateway):
    return mollie_setup(session_factory)


def wait_status(session_factory, payment_id, status: S, timeout=10.0):
    wait_for(lambda: payment_of(session_factory, payment_id).status == status.value, timeout,
             f"payment {payment_id} to become {status.value}")
    return payment_of(session_factory, payment_id)


def paris_date(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(clock.PARIS).date()


# --- company key -----------------------------------------------------------------------------------


def test_api_key_is_validated_encrypted_masked_and_removable(session_factory, gateway):
    with session_factory() as session:
        company = companies.save_company(session, None, {"name": "Atelier", "vat_regime": "franchise"})
        for bad in ("abc", "test_short", "prod_" + "a" * 30, "test_" + "é" * 30):
            with pytest.raises(ValidationErrors) as caught:
                mollie_payments.set_mollie_api_key(session, company.id, bad)
            assert set(caught.value.errors) == {"mollie_api_key"}
        key = "test_" + "A1b2C3d4E5" * 3
        mollie_payments.set_mollie_api_key(session, company.id, f"  {key} ")
        assert key not in company.mollie_api_key_encrypted
        assert mollie_payments.mollie_key_display(company) == f"test_••••••••{key[-4:]}"
        assert "Connexion à Mollie réussie (mode test)" in mollie_payments.check_company_connection(session, company.id)
        mollie_payments.set_mollie_api_key(session, company.id, "live_" + "x" * 30)
        assert mollie_payments.mollie_key_display(company).startswith("live_••••")
        mollie_payments.set_mollie_api_key(session, company.id, "")
        assert company.mollie_api_key_encrypted == "" and mollie_payments.mollie_key_display(company) == ""
        with pytest.raises(DomainError, match="Saisissez la clé API Mollie"):
            mollie_payments.gateway_for_company(company)


def test_refused_key_and_sandbox_mode(session_factory, gateway, monkeypatch):
    with session_factory() as session:
        company = companies.save_company(session, None, {"name": "Atelier", "vat_regime": "franchise"})
        mollie_payments.set_mollie_api_key(session, company.id, "test_invalid" + "x" * 20)
        with pytest.raises(DomainError, match="401") as caught:
            mollie_payments.check_company_connection(session, company.id)
        assert caught.value.field == "mollie_api_key"
        mollie_payments.set_mollie_api_key(session, company.id, "")
        monkeypatch.setattr(mollie_gateway, "sandbox_mode", lambda: True)
        assert mollie_payments.gateway_for_company(company).mode == "test"
        assert "bac à sable" in mollie_payments.check_company_connection(session, company.id)


# --- card payments ----------------------------------------------------------------------------------


def test_card_payment_is_created_with_the_exact_request(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "123.45")
    payment = request(session_factory, doc_id, setup.card, "123.45", urls)
    doc = document_of(session_factory, doc_id)
    assert payment.status == S.PENDING.value and payment.provider == "mollie"
    assert payment.provider_payment_id.startswith("tr_") and payment.idempotency_key
    assert payment.checkout_url == f"{sandbox.base_url}/checkout/{payment.provider_payment_id}"
    assert payment.provider_error == "" and payment.last_synced_at is not None
    assert doc.public_token and len(doc.public_token) >= 32
    sent = sandbox_payment(sandbox, payment.provider_payment_id)
    assert sent["amount"] == {"value": "123.45", "currency": "EUR"}
    assert doc.number in sent["description"] and sent["description"].startswith("Facture ")
    assert sent["redirectUrl"] == f"{PUBLIC}/payer/{doc.public_token}/retour"
    assert sent["webhookUrl"] == f"{urls.api_base}/api/webhooks/mollie"
    assert sent["metadata"] == {"invoice_id": str(doc_id), "invoice_number": doc.number,
                                "payment_id": str(payment.id)}
    assert (sent["locale"], sent["method"], sent["sequenceType"]) == ("fr_FR", "creditcard", "oneoff")
    with session_factory() as session:
        row = payments.payment_block(session, doc_id, clock.today()).rows[0]
    assert (row.status_label, row.checkout_url) == ("En attente de paiement", payment.checkout_url)
    # Starting it again changes nothing (double click, retry after success).
    info = mollie_payments.start_mollie_payment(session_factory, payment.id, urls)
    assert info.id == payment.provider_payment_id
    assert _mollie_payments_for(sandbox, setup.api_key, payment.id) == [info.id]


def test_manual_method_is_not_sent_to_mollie(session_factory, setup, urls):
    doc_id = make_invoice(session_factory, "50")
    with session_factory() as session:
        payment = payments.request_payment(session, doc_id, setup.cheque, D("50"), None, clock.today())
    assert mollie_payments.start_mollie_payment(session_factory, payment.id, urls) is None
    assert payment_of(session_factory, payment.id).provider_payment_id is None


class LostAnswer:
    """A gateway whose first create_payment reaches Mollie but whose answer is lost."""

    def __init__(self, sandbox):
        self.sandbox, self.lost = sandbox, 0

    def __call__(self, key, _endpoint):
        real = MollieGateway(key, self.sandbox.api_endpoint)
        outer = self

        class Flaky:
            api_endpoint, mode = real.api_endpoint, real.mode

            def create_payment(self, req):
                info = real.create_payment(req)
                if outer.lost == 0:
                    outer.lost += 1
                    raise MollieError("Mollie n'a pas répondu à temps (plus de 10 s) : réessayez plus tard.",
                                      retryable=True)
                return info

            def __getattr__(self, name):
                return getattr(real, name)

        return Flaky()


def _mollie_payments_for(sandbox, api_key: str, payment_id: int) -> list[str]:
    """Ids of the Mollie payments of this test's account made for our payment."""
    listed = MollieGateway(api_key, sandbox.api_endpoint).list_payments(250)
    return [p.id for p in listed if p.metadata.get("payment_id") == str(payment_id)]


def test_retry_after_a_lost_answer_reuses_the_idempotency_key(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "80")
    mollie_payments.set_gateway_factory(LostAnswer(sandbox))
    with pytest.raises(DomainError, match="n'a pas répondu à temps"):
        request(session_factory, doc_id, setup.card, "80", urls)
    with session_factory() as session:
        payment = session.exec(select(Payment).where(Payment.document_id == doc_id)).one()
    assert payment.status == S.PENDING.value and payment.provider_payment_id is None
    assert "n'a pas répondu" in payment.provider_error
    key = payment.idempotency_key
    assert key and len(_mollie_payments_for(sandbox, setup.api_key, payment.id)) == 1  # created, answer lost
    info = mollie_payments.start_mollie_payment(session_factory, payment.id, urls)
    payment = payment_of(session_factory, payment.id)
    assert (payment.idempotency_key, payment.provider_payment_id, payment.provider_error) == (key, info.id, "")
    assert _mollie_payments_for(sandbox, setup.api_key, payment.id) == [info.id]  # still one


def test_retry_after_mollie_was_down_creates_one_payment(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "80")
    httpx.post(f"{sandbox.base_url}/sandbox/fail-next", data={"status": "503", "count": "2"}, trust_env=False)
    with pytest.raises(DomainError, match="indisponible"):
        request(session_factory, doc_id, setup.card, "80", urls)
    with session_factory() as session:
        payment = session.exec(select(Payment).where(Payment.document_id == doc_id)).one()
    assert "indisponible (503)" in payment.provider_error
    with pytest.raises(DomainError):  # still down
        mollie_payments.start_mollie_payment(session_factory, payment.id, urls)
    info = mollie_payments.start_mollie_payment(session_factory, payment.id, urls)
    assert _mollie_payments_for(sandbox, setup.api_key, payment.id) == [info.id]
    assert payment_of(session_factory, payment.id).provider_error == ""


def test_concurrent_starts_create_one_mollie_payment(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "60")
    with session_factory() as session:
        payment_id = payments.request_payment(session, doc_id, setup.card, D("60"), None, clock.today()).id
    results, errors = [], []

    def start():
        try:
            results.append(mollie_payments.start_mollie_payment(session_factory, payment_id, urls).id)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and len(set(results)) == 1
    assert len(_mollie_payments_for(sandbox, setup.api_key, payment_id)) == 1


def test_checkout_paid_reaches_the_app_through_the_webhook(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "123.45")
    payment = request(session_factory, doc_id, setup.card, "123.45", urls)
    assert checkout(sandbox, payment.provider_payment_id, "paid").status_code == 303
    payment = wait_status(session_factory, payment.id, S.RECEIVED)
    paid_at = sandbox_payment(sandbox, payment.provider_payment_id)["paidAt"]
    assert payment.received_on == paris_date(paid_at)
    assert events_of(session_factory, payment.id) == [("", "en_attente", "utilisateur"),
                                                       ("en_attente", "recu", "webhook")]
    with session_factory() as session:
        block = payments.payment_block(session, doc_id, clock.today())
    assert block.invoice_status is InvoicePaymentStatus.PAID and block.received == D("123.45")
    assert document_of(session_factory, doc_id).amount_received == D("123.45")
    delivery = wait_for(lambda: [d for d in sandbox_state(sandbox)["webhooks"]
                                 if d["paymentId"] == payment.provider_payment_id and d["delivered"]])
    assert delivery[0]["lastStatus"] == 200


@pytest.mark.parametrize(("choice", "status"), [("failed", S.FAILED), ("canceled", S.CANCELED),
                                                 ("expired", S.EXPIRED)])
def test_checkout_failures(session_factory, setup, urls, sandbox, choice, status):
    doc_id = make_invoice(session_factory, "40")
    payment = request(session_factory, doc_id, setup.card, "40", urls)
    checkout(sandbox, payment.provider_payment_id, choice)
    payment = wait_status(session_factory, payment.id, status)
    assert payment.received_on is None and document_of(session_factory, doc_id).amount_received == 0
    with session_factory() as session:
        assert payments.payment_block(session, doc_id, clock.today()).invoice_status is InvoicePaymentStatus.UNPAID


def test_authorized_then_paid(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "40")
    payment = request(session_factory, doc_id, setup.card, "40", urls)
    settle(sandbox, payment.provider_payment_id, "authorized")
    wait_status(session_factory, payment.id, S.AUTHORIZED)
    settle(sandbox, payment.provider_payment_id, "paid")
    wait_status(session_factory, payment.id, S.RECEIVED)


def test_refunds_and_chargebacks(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "100")
    first = request(session_factory, doc_id, setup.card, "60", urls)
    second = request(session_factory, doc_id, setup.card, "40", urls)
    for p in (first, second):
        checkout(sandbox, p.provider_payment_id, "paid")
        wait_status(session_factory, p.id, S.RECEIVED)
    assert document_of(session_factory, doc_id).amount_received == D("100.00")
    settle(sandbox, first.provider_payment_id, "refund", "10.00")
    p = wait_status(session_factory, first.id, S.PARTIALLY_REFUNDED)
    assert p.amount_refunded == D("10.00") and document_of(session_factory, doc_id).amount_received == D("90.00")
    settle(sandbox, first.provider_payment_id, "refund", "15.00")  # a second partial refund
    wait_for(lambda: payment_of(session_factory, first.id).amount_refunded == D("25.00"))
    assert document_of(session_factory, doc_id).amount_received == D("75.00")
    settle(sandbox, first.provider_payment_id, "refund")  # the rest
    p = wait_status(session_factory, first.id, S.REFUNDED)
    assert p.amount_refunded == D("60.00") and document_of(session_factory, doc_id).amount_received == D("40.00")
    settle(sandbox, second.provider_payment_id, "chargeback")
    p = wait_status(session_factory, second.id, S.CHARGED_BACK)
    assert p.amount_charged_back == D("40.00") and document_of(session_factory, doc_id).amount_received == 0
    assert [e[:2] for e in events_of(session_factory, first.id)] == [
        ("", "en_attente"), ("en_attente", "recu"), ("recu", "partiellement_rembourse"),
        ("partiellement_rembourse", "partiellement_rembourse"), ("partiellement_rembourse", "rembourse")]


# --- SEPA direct debit ----------------------------------------------------------------------------


def test_sepa_is_refused_without_a_complete_mandate(session_factory, setup, urls):
    doc_id = make_invoice(session_factory, "70")
    with pytest.raises(DomainError) as caught:
        request(session_factory, doc_id, setup.sepa, "70", urls)
    assert caught.value.message.startswith("Prélèvement SEPA impossible : le mandat du contact ")
    assert caught.value.message.endswith(" est incomplet (manque : IBAN, BIC, Réf mandat SEPA, "
                                         "Date de signature mandat SEPA).")
    with session_factory() as session:
        assert payments.payment_block(session, doc_id, clock.today()).rows == []  # nothing half-written
    # A payment created anyway (UI calling request_payment alone) is refused at Mollie's step.
    with session_factory() as session:
        payment_id = payments.request_payment(session, doc_id, setup.sepa, D("70"), None, clock.today()).id
    with pytest.raises(DomainError, match="manque : IBAN"):
        mollie_payments.start_mollie_payment(session_factory, payment_id, urls)
    assert "Prélèvement SEPA impossible" in payment_of(session_factory, payment_id).provider_error


def test_sepa_refuses_an_invalid_mandate_and_names_what_is_missing(session_factory, setup, urls):
    doc_id = make_invoice(session_factory, "70", mandate=True)
    with session_factory() as session:
        contact = documents.document_contacts(session, doc_id)[0]
        session.execute(update(Contact).where(Contact.id == contact.id).values(bic="DEUTDEFF"))
    with pytest.raises(DomainError, match="n'est pas valide .*BIC incohérent"):
        request(session_factory, doc_id, setup.sepa, "70", urls)
    with session_factory() as session:
        session.execute(update(Contact).where(Contact.id == contact.id).values(bic="", rum=None))
    with pytest.raises(DomainError, match=r"incomplet \(manque : BIC, Réf mandat SEPA\)"):
        request(session_factory, doc_id, setup.sepa, "70", urls)


def mollie_customer(session_factory, contact_id: int, company_id: int) -> MollieCustomer | None:
    with session_factory() as session:
        return session.exec(select(MollieCustomer).where(MollieCustomer.contact_id == contact_id,
                                                         MollieCustomer.company_id == company_id)).first()


def mandate_at_mollie(sandbox, mandate_id: str) -> dict:
    return next(m for m in sandbox_state(sandbox)["mandates"] if m["id"] == mandate_id)


def change_bank_account(session_factory, contact_id: int) -> None:
    with session_factory() as session:
        data = contacts.contact_input(contacts.get_contact(session, contact_id))
        contacts.update_contact(session, contact_id, ContactInput(**{**data.__dict__, "iban": IBAN_2, "bic": BIC_2}),
                                clock.today())


def test_sepa_direct_debit_with_customer_and_mandate(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "70", mandate=True)
    first = request(session_factory, doc_id, setup.sepa, "30", urls)
    assert first.status == S.DEBIT_IN_PROGRESS.value and first.debit_submitted_at is not None
    with session_factory() as session:
        contact = documents.document_contacts(session, doc_id)[0]
        assert payments.payment_block(session, doc_id, clock.today()).rows[0].status_label == "Prélèvement en cours"
    ids = mollie_customer(session_factory, contact.id, setup.company_id)
    assert ids.customer_id.startswith("cst_") and ids.mandate_id.startswith("mdt_")
    assert ids.mandate_fingerprint == mollie_payments.mandate_fingerprint(IBAN, "AGRIFRPP", contact.rum, SIGNED_ON)
    sent = sandbox_payment(sandbox, first.provider_payment_id)
    assert (sent["sequenceType"], sent["method"], sent["customerId"], sent["mandateId"]) == (
        "recurring", "directdebit", ids.customer_id, ids.mandate_id)
    assert sent["amount"]["value"] == "30.00" and sent["webhookUrl"] == urls.webhook_url
    mandate = mandate_at_mollie(sandbox, ids.mandate_id)
    assert mandate["details"]["consumerAccount"] == IBAN and mandate["mandateReference"] == contact.rum
    assert mandate["signatureDate"] == SIGNED_ON.isoformat() and mandate["status"] == "valid"

    # Second debit, same fields: same customer, same mandate.
    second = request(session_factory, doc_id, setup.sepa, "20", urls)
    assert sandbox_payment(sandbox, second.provider_payment_id)["mandateId"] == ids.mandate_id
    customers = [c for c in sandbox_state(sandbox)["customers"] if c["id"] == ids.customer_id]
    assert len(customers) == 1

    # The IBAN changes: a new mandate for the same customer; the former one is revoked.
    change_bank_account(session_factory, contact.id)
    third = request(session_factory, doc_id, setup.sepa, "20", urls)
    changed = mollie_customer(session_factory, contact.id, setup.company_id)
    assert changed.customer_id == ids.customer_id
    assert changed.mandate_id != ids.mandate_id
    new_mandate = mandate_at_mollie(sandbox, changed.mandate_id)
    assert new_mandate["details"]["consumerAccount"] == IBAN_2 and new_mandate["status"] == "valid"
    assert mandate_at_mollie(sandbox, ids.mandate_id)["status"] == "invalid"
    assert sandbox_payment(sandbox, third.provider_payment_id)["mandateId"] == changed.mandate_id
    assert len([c for c in sandbox_state(sandbox)["customers"] if c["id"] == ids.customer_id]) == 1

    # The bank answers: paid, failed.
    settle(sandbox, first.provider_payment_id, "paid")
    paid = wait_status(session_factory, first.id, S.RECEIVED)
    assert paid.received_on == paris_date(sandbox_payment(sandbox, first.provider_payment_id)["paidAt"])
    settle(sandbox, second.provider_payment_id, "failed")
    wait_status(session_factory, second.id, S.FAILED)
    assert document_of(session_factory, doc_id).amount_received == D("30.00")
    assert [e[:2] for e in events_of(session_factory, second.id)] == [
        ("", "en_attente"), ("en_attente", "prelevement_en_cours"), ("prelevement_en_cours", "echoue")]


def test_sepa_customer_and_mandate_per_company(session_factory, setup, urls, sandbox):
    """A Mollie customer belongs to one Mollie account: each company debits the contact
    through a customer and a mandate of its own, kept for the next debits."""
    doc_a = make_invoice(session_factory, "50", mandate=True)
    with session_factory() as session:
        contact_id = documents.document_contacts(session, doc_a)[0].id
        other = companies.save_company(session, None, {"name": "Boulangerie Durand", "vat_regime": "franchise", **SELLER})
        mollie_payments.set_mollie_api_key(session, other.id, new_key())
    doc_b = make_invoice(session_factory, "50", company_id=other.id, contact_id=contact_id)

    first_a = request(session_factory, doc_a, setup.sepa, "10", urls)
    first_b = request(session_factory, doc_b, setup.sepa, "10", urls)
    second_a = request(session_factory, doc_a, setup.sepa, "10", urls)
    second_b = request(session_factory, doc_b, setup.sepa, "10", urls)
    in_a = mollie_customer(session_factory, contact_id, setup.company_id)
    in_b = mollie_customer(session_factory, contact_id, other.id)
    assert in_a.customer_id != in_b.customer_id and in_a.mandate_id != in_b.mandate_id
    for payment, ids in ((first_a, in_a), (second_a, in_a), (first_b, in_b), (second_b, in_b)):
        assert payment.status == S.DEBIT_IN_PROGRESS.value
        sent = sandbox_payment(sandbox, payment.provider_payment_id)
        assert (sent["customerId"], sent["mandateId"]) == (ids.customer_id, ids.mandate_id)

    # The contact's bank account changes: each company makes its new mandate at its next
    # debit and revokes only its own former one.
    change_bank_account(session_factory, contact_id)
    request(session_factory, doc_a, setup.sepa, "10", urls)
    assert mandate_at_mollie(sandbox, in_a.mandate_id)["status"] == "invalid"
    assert mandate_at_mollie(sandbox, in_b.mandate_id)["status"] == "valid"
    assert mollie_customer(session_factory, contact_id, other.id).mandate_id == in_b.mandate_id
    request(session_factory, doc_b, setup.sepa, "10", urls)
    assert mandate_at_mollie(sandbox, in_b.mandate_id)["status"] == "invalid"


def test_sepa_after_the_company_changed_mollie_account(session_factory, setup, urls, sandbox):
    """The stored customer is unknown to the company's new key: a customer and a mandate
    are made in the new account, and the debit goes through."""
    doc_id = make_invoice(session_factory, "40", mandate=True)
    request(session_factory, doc_id, setup.sepa, "10", urls)
    with session_factory() as session:
        contact_id = documents.document_contacts(session, doc_id)[0].id
    before = mollie_customer(session_factory, contact_id, setup.company_id)
    with session_factory() as session:
        mollie_payments.set_mollie_api_key(session, setup.company_id, new_key())
    payment = request(session_factory, doc_id, setup.sepa, "10", urls)
    after = mollie_customer(session_factory, contact_id, setup.company_id)
    assert payment.status == S.DEBIT_IN_PROGRESS.value and not payment.provider_error
    assert after.customer_id != before.customer_id and after.mandate_id != before.mandate_id
    sent = sandbox_payment(sandbox, payment.provider_payment_id)
    assert (sent["customerId"], sent["mandateId"]) == (after.customer_id, after.mandate_id)


@pytest.mark.parametrize(("digest", "key_changed"), [("", False), ("", True), ("0" * 64, False)],
                         ids=["from the migration, same account", "from the migration, other account",
                              "another key of the same account"])
def test_sepa_customer_made_with_another_key(session_factory, setup, urls, sandbox, digest, key_changed):
    """A customer made with another key (or kept by the migration, which cannot tell):
    Mollie is asked once. Its account's customer is kept (and the key noted); another
    account's is made again."""
    doc_id = make_invoice(session_factory, "40", mandate=True)
    request(session_factory, doc_id, setup.sepa, "10", urls)
    with session_factory() as session:
        contact_id = documents.document_contacts(session, doc_id)[0].id
        session.execute(update(MollieCustomer).where(MollieCustomer.contact_id == contact_id)
                        .values(key_digest=digest))
        if key_changed:
            mollie_payments.set_mollie_api_key(session, setup.company_id, new_key())
    before = mollie_customer(session_factory, contact_id, setup.company_id)
    payment = request(session_factory, doc_id, setup.sepa, "10", urls)
    after = mollie_customer(session_factory, contact_id, setup.company_id)
    assert payment.status == S.DEBIT_IN_PROGRESS.value and not payment.provider_error
    assert (after.customer_id == before.customer_id) is not key_changed
    assert (after.mandate_id == before.mandate_id) is not key_changed
    with session_factory() as session:
        current_key = mollie_payments.company_api_key(session.get(Company, setup.company_id))
    assert after.key_digest == mollie_mandates.key_digest(current_key)
    sent = sandbox_payment(sandbox, payment.provider_payment_id)
    assert (sent["customerId"], sent["mandateId"]) == (after.customer_id, after.mandate_id)


class _PaymentFailsOnce(MollieGateway):
    failures = 1

    def create_payment(self, req):
        if _PaymentFailsOnce.failures:
            _PaymentFailsOnce.failures -= 1
            raise MollieError("Mollie est momentanément indisponible (503).", status=503, retryable=True)
        return super().create_payment(req)


def test_a_replaced_mandate_is_revoked_only_once_the_debit_exists(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "70", mandate=True)
    request(session_factory, doc_id, setup.sepa, "10", urls)
    with session_factory() as session:
        contact_id = documents.document_contacts(session, doc_id)[0].id
    old = mollie_customer(session_factory, contact_id, setup.company_id)
    change_bank_account(session_factory, contact_id)
    _PaymentFailsOnce.failures = 1
    mollie_payments.set_gateway_factory(lambda key, _e: _PaymentFailsOnce(key, sandbox.api_endpoint, timeout=5))
    with pytest.raises(DomainError, match="503"):
        request(session_factory, doc_id, setup.sepa, "10", urls)
    new = mollie_customer(session_factory, contact_id, setup.company_id)
    assert new.mandate_id != old.mandate_id  # made and stored...
    assert mandate_at_mollie(sandbox, old.mandate_id)["status"] == "valid"  # ...but the debit failed: kept
    assert new.mandates_to_revoke == old.mandate_id  # noted, for after the next debit
    with session_factory() as session:
        failed = [p for p in payments.payment_block(session, doc_id, clock.today()).rows if p.status == "en_attente"]
    assert len(failed) == 1
    assert mollie_payments.start_mollie_payment(session_factory, int(failed[0].id), urls).status == "pending"
    assert mandate_at_mollie(sandbox, old.mandate_id)["status"] == "invalid"
    assert mandate_at_mollie(sandbox, new.mandate_id)["status"] == "valid"
    assert mollie_customer(session_factory, contact_id, setup.company_id).mandates_to_revoke == ""


def test_a_mandate_is_not_stored_on_a_customer_made_meanwhile(session_factory, setup, urls, sandbox):
    """Two debits race: one planned with the stored customer makes its mandate while the
    other has put another customer in the row. The row keeps the other's pair, and
    nothing is revoked."""
    doc_id = make_invoice(session_factory, "70", mandate=True)
    request(session_factory, doc_id, setup.sepa, "10", urls)
    with session_factory() as session:
        contact_id = documents.document_contacts(session, doc_id)[0].id
    change_bank_account(session_factory, contact_id)
    with session_factory() as session:
        doc = documents.get_document(session, doc_id)
        planned = mollie_payments._mandate_plan(session, doc, setup.api_key)
        session.execute(update(MollieCustomer).where(MollieCustomer.contact_id == contact_id)
                        .values(customer_id="cst_meanwhile", mandate_id="mdt_meanwhile"))
    customer_id, mandate_id, to_revoke = mollie_mandates.ensure(
        session_factory, MollieGateway(setup.api_key, sandbox.api_endpoint, timeout=5), planned, setup.api_key)
    assert customer_id == planned.customer_id and mandate_at_mollie(sandbox, mandate_id)["status"] == "valid"
    row = mollie_customer(session_factory, contact_id, setup.company_id)
    assert (row.customer_id, row.mandate_id, to_revoke) == ("cst_meanwhile", "mdt_meanwhile", ())


# --- reconciliation and "Resynchroniser" ------------------------------------------------------------


def test_reconcile_finds_a_missed_webhook(session_factory, setup, sandbox):
    lost = AppUrls(public_base=PUBLIC, api_base=DEAD_URL)  # webhooks never arrive
    doc_id = make_invoice(session_factory, "90")
    payment = request(session_factory, doc_id, setup.card, "90", lost)
    other = request(session_factory, make_invoice(session_factory, "10"), setup.card, "10", lost)
    checkout(sandbox, payment.provider_payment_id, "paid")
    assert mollie_payments.reconcile(session_factory)["checked"] == 0  # younger than 5 minutes
    counts = mollie_payments.reconcile(session_factory, older_than=timedelta(0))
    assert counts == {"checked": 2, "applied": 1, "unchanged": 1, "ignored": 0, "unknown": 0, "errors": 0}
    assert payment_of(session_factory, payment.id).status == S.RECEIVED.value
    assert document_of(session_factory, doc_id).amount_received == D("90.00")
    assert events_of(session_factory, payment.id)[-1] == ("en_attente", "recu", "resynchronisation")
    # Final payments are not fetched again; the open one is.
    assert mollie_payments.reconcile(session_factory, older_than=timedelta(0))["checked"] == 1
    assert payment_of(session_factory, other.id).status == S.PENDING.value


def test_reconcile_counts_errors_when_mollie_is_unreachable(session_factory, setup):
    lost = AppUrls(public_base=PUBLIC, api_base=DEAD_URL)
    request(session_factory, make_invoice(session_factory, "10"), setup.card, "10", lost)
    mollie_payments.set_gateway_factory(lambda key, _endpoint: MollieGateway(key, DEAD_URL, timeout=2))
    counts = mollie_payments.reconcile(session_factory, older_than=timedelta(0))
    assert (counts["checked"], counts["errors"]) == (1, 1)


def test_missed_webhooks_are_caught_up_in_order(session_factory, setup, sandbox):
    lost = AppUrls(public_base=PUBLIC, api_base=DEAD_URL)
    doc_id = make_invoice(session_factory, "50")
    payment = request(session_factory, doc_id, setup.card, "50", lost)
    checkout(sandbox, payment.provider_payment_id, "paid")
    settle(sandbox, payment.provider_payment_id, "refund")
    assert mollie_payments.resync_payment(session_factory, payment.id) == "applied"
    payment = payment_of(session_factory, payment.id)
    assert payment.status == S.REFUNDED.value and payment.amount_refunded == D("50.00")
    assert payment.received_on == paris_date(sandbox_payment(sandbox, payment.provider_payment_id)["paidAt"])
    assert [e[:2] for e in events_of(session_factory, payment.id)] == [
        ("", "en_attente"), ("en_attente", "recu"), ("recu", "rembourse")]
    assert document_of(session_factory, doc_id).amount_received == 0
    assert mollie_payments.resync_payment(session_factory, payment.id) == "unchanged"
    assert mollie_payments.outcome_message("unchanged").startswith("Déjà à jour")


def test_resync_button_errors_are_french(session_factory, setup, urls):
    doc_id = make_invoice(session_factory, "50")
    with session_factory() as session:
        cheque = payments.request_payment(session, doc_id, setup.cheque, D("10"), None, clock.today())
    with pytest.raises(DomainError, match="Seul un paiement Mollie"):
        mollie_payments.resync_payment(session_factory, cheque.id)
    payment = request(session_factory, doc_id, setup.card, "40", urls)
    mollie_payments.set_gateway_factory(lambda key, _endpoint: MollieGateway(key, DEAD_URL, timeout=2))
    with pytest.raises(DomainError, match="Impossible de joindre Mollie"):
        mollie_payments.resync_payment(session_factory, payment.id)


# --- public payment page ----------------------------------------------------------------------------


def test_public_page_and_paying_online(session_factory, setup, urls, sandbox):
    with session_factory() as session:  # the page shows the logo as printed: frozen at finalisation
        companies.set_logo(session, setup.company_id, "logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    doc_id = make_invoice(session_factory, "250")
    with session_factory() as session:
        token = mollie_payments.ensure_public_token(session, doc_id)
        assert mollie_payments.ensure_public_token(session, doc_id) == token
        page = mollie_payments.public_invoice(session, token)
        doc = documents.get_document(session, doc_id)
        assert mollie_payments.public_invoice(session, "nope") is None
        assert mollie_payments.public_invoice(session, "") is None
    assert (page.company_name, page.number, page.paid, page.online_payment, page.last_status) == (
        "Atelier Martin", doc.number, False, True, "")
    assert page.amount_due.startswith("250,00") and page.total_ttc.startswith("250,00")
    assert page.issue_date == clock.today().strftime("%d/%m/%Y") and page.has_pdf is False
    assert page.logo_data_uri.startswith("data:image/png;base64,")

    url = mollie_payments.pay_online(session_factory, token, urls)
    assert url.startswith(f"{sandbox.base_url}/checkout/tr_")
    assert mollie_payments.pay_online(session_factory, token, urls) == url  # reused
    with session_factory() as session:
        rows = payments.payment_block(session, doc_id, clock.today()).rows
        assert len(rows) == 1 and mollie_payments.public_invoice(session, token).last_status == "en_cours"
    provider_id = url.rsplit("/", 1)[1]
    settle(sandbox, provider_id, "expired")
    wait_for(lambda: payment_of(session_factory, rows[0].id).status == S.EXPIRED.value)
    with session_factory() as session:
        assert mollie_payments.public_invoice(session, token).last_status == "echoue"
    new_url = mollie_payments.pay_online(session_factory, token, urls)  # a new payment, the old expired
    assert new_url != url
    checkout(sandbox, new_url.rsplit("/", 1)[1], "paid")
    wait_for(lambda: document_of(session_factory, doc_id).amount_received == D("250.00"))
    with session_factory() as session:
        page = mollie_payments.public_invoice(session, token)
    assert (page.paid, page.online_payment, page.last_status) == (True, False, "paye")
    assert page.amount_due.startswith("0,00")
    with pytest.raises(DomainError, match="déjà réglée"):
        mollie_payments.pay_online(session_factory, token, urls)
    with pytest.raises(mollie_payments.PublicInvoiceNotFound):
        mollie_payments.pay_online(session_factory, "unknown-token", urls)


def test_public_page_return_refreshes_a_late_status(session_factory, setup, sandbox):
    lost = AppUrls(public_base=PUBLIC, api_base=DEAD_URL)
    doc_id = make_invoice(session_factory, "20")
    with session_factory() as session:
        token = mollie_payments.ensure_public_token(session, doc_id)
    url = mollie_payments.pay_online(session_factory, token, lost)
    checkout(sandbox, url.rsplit("/", 1)[1], "paid")
    assert mollie_payments.refresh_public_status(session_factory, token, timedelta(0)) == "paye"


def test_online_payment_needs_an_active_mollie_card_method(session_factory, setup, urls):
    doc_id = make_invoice(session_factory, "20")
    with session_factory() as session:
        token = mollie_payments.ensure_public_token(session, doc_id)
        payments.save_method(session, setup.card, {"active": ""})
        assert mollie_payments.public_invoice(session, token).online_payment is False
    with pytest.raises(DomainError, match="Le paiement en ligne n'est pas disponible pour cette facture."):
        mollie_payments.pay_online(session_factory, token, urls)


def test_public_page_shows_only_finalised_factures(session_factory, setup):
    with session_factory() as session:
        draft = documents.create_document(session, "facture", clock.today())
        token = mollie_payments.ensure_public_token(session, draft.id)
        assert mollie_payments.public_invoice(session, token) is None


def test_a_concurrent_delivery_that_got_there_first_is_tolerated(session_factory, setup, sandbox):
    """The state read before the fetch is stale (another delivery applied paid + refund
    meanwhile): the leading catch-up step is skipped, nothing is counted twice."""
    from simple_erp.services.mollie import sync as mollie_sync

    lost = AppUrls(public_base=PUBLIC, api_base=DEAD_URL)
    doc_id = make_invoice(session_factory, "50")
    payment = request(session_factory, doc_id, setup.card, "50", lost)
    checkout(sandbox, payment.provider_payment_id, "paid")
    settle(sandbox, payment.provider_payment_id, "refund")
    assert mollie_payments.sync_from_provider(session_factory, payment.provider_payment_id) == "applied"
    info = MollieGateway(setup.api_key, sandbox.api_endpoint).get_payment(payment.provider_payment_id)
    with session_factory() as session:
        stale = dataclasses.replace(payments.payment_state(session, payment.id), status="en_attente",
                                    amount_refunded=D("0.00"), amount_charged_back=D("0.00"))
    with session_factory() as session:
        assert mollie_sync.apply_info(session, payment.id, info, "webhook", stale) == "unchanged"
    assert [e[:2] for e in events_of(session_factory, payment.id)] == [
        ("", "en_attente"), ("en_attente", "recu"), ("recu", "rembourse")]
    assert document_of(session_factory, doc_id).amount_received == 0


def test_public_payment_without_a_usable_key_or_with_mollie_down(session_factory, setup, urls, sandbox):
    doc_id = make_invoice(session_factory, "20")
    with session_factory() as session:
        token = mollie_payments.ensure_public_token(session, doc_id)
    httpx.post(f"{sandbox.base_url}/sandbox/fail-next", data={"status": "503", "count": "1"}, trust_env=False)
    with pytest.raises(DomainError) as caught:  # the payer never sees the staff's message
        mollie_payments.pay_online(session_factory, token, urls)
    assert caught.value.message == mollie_payments.ONLINE_DOWN
    with session_factory() as session:
        mollie_payments.set_mollie_api_key(session, setup.company_id, "")  # no key, not in sandbox mode
        assert mollie_payments.public_invoice(session, token).online_payment is False
    with pytest.raises(DomainError, match="n'est pas disponible pour cette facture"):
        mollie_payments.pay_online(session_factory, token, urls)


def test_webhook_url_left_out_only_for_the_real_mollie_and_a_local_app():
    local, public = "http://localhost:8000/api/webhooks/mollie", "https://erp.example.fr/api/webhooks/mollie"
    assert mollie_payments._webhook_for(local, "https://api.mollie.com") == ""
    assert mollie_payments._webhook_for("http://127.0.0.1:8000/w", None) == ""
    assert mollie_payments._webhook_for(local, "http://127.0.0.1:8765") == local  # the sandbox reaches it
    assert mollie_payments._webhook_for(public, "https://api.mollie.com") == public
    urls = AppUrls(public_base="https://erp.example.fr/", api_base="https://api.erp.example.fr/")
    assert urls.webhook_url == "https://api.erp.example.fr/api/webhooks/mollie"
    assert urls.redirect_url("tok") == "https://erp.example.fr/payer/tok/retour"
