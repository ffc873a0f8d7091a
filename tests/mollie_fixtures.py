"""Shared helpers for the Mollie service and webhook tests: the local Mollie sandbox over
HTTP (one per module), the gateway pointed at it, a Simple Paiement setup with Mollie
moyens, invoices, and a small uvicorn thread to serve the app's webhook route.

Import the fixtures into a test module (``from tests.mollie_fixtures import ...``)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import httpx
import pytest
import uvicorn

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.providers.mollie import MollieGateway
from simple_erp.sandbox.mollie import start_in_thread
from simple_erp.services import clock, companies, contacts, documents, payments
from simple_erp.services.mollie import payments as mollie_payments
from tests.legal_identity import SELLER

IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
IBAN_2, BIC_2 = "FR1420041010050500013M02606", "PSSTFRPPPAR"
SIGNED_ON = date(2025, 1, 15)
WEBHOOK_DELAYS = (0.05, 0.1, 0.2, 0.3)
DEAD_URL = "http://127.0.0.1:9"  # nothing listens there: connection refused at once


@pytest.fixture(scope="module", autouse=True)
def no_proxy():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        mp.setenv("no_proxy", "127.0.0.1,localhost")
        yield


@pytest.fixture(scope="module")
def sandbox(no_proxy):
    server = start_in_thread(0, webhook_delays=WEBHOOK_DELAYS)
    yield server
    server.stop()


@pytest.fixture
def gateway(sandbox):
    """Every gateway the services make talks to the sandbox (whatever the settings say)."""
    mollie_payments.set_gateway_factory(lambda key, _endpoint: MollieGateway(key, sandbox.api_endpoint, timeout=5))
    yield sandbox
    mollie_payments.set_gateway_factory(None)


def sandbox_state(sandbox) -> dict:
    return httpx.get(f"{sandbox.base_url}/sandbox/state", trust_env=False).json()


def sandbox_payment(sandbox, provider_id: str) -> dict:
    return next(p for p in sandbox_state(sandbox)["payments"] if p["id"] == provider_id)


def settle(sandbox, provider_id: str, status: str, amount: str | None = None) -> httpx.Response:
    data = {"status": status} | ({"amount": amount} if amount else {})
    return httpx.post(f"{sandbox.base_url}/sandbox/payments/{provider_id}/settle", data=data, trust_env=False)


def checkout(sandbox, provider_id: str, status: str) -> httpx.Response:
    """The payer's choice on the sandbox checkout page (like clicking its button)."""
    return httpx.post(f"{sandbox.base_url}/checkout/{provider_id}", data={"status": status}, trust_env=False)


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def new_key() -> str:
    return "test_" + uuid.uuid4().hex  # each test its own sandbox account


@dataclass
class MollieSetup:
    company_id: int
    api_key: str
    card: int  # method ids
    sepa: int
    cheque: int


def mollie_setup(session_factory, api_key: str | None = None, name: str = "Atelier Martin") -> MollieSetup:
    """Simple Paiement and Mollie on; a franchise company with its own test key; a Mollie
    account with "Carte bancaire" and "Prélèvement SEPA"; a bank account with "Chèque"."""
    api_key = api_key or new_key()
    with session_factory() as session:
        company = companies.save_company(session, None, {"name": name, "vat_regime": "franchise", **SELLER})
        mollie_payments.set_mollie_api_key(session, company.id, api_key)
        payments.save_preferences(session, True, True)
        types = {t.code: t.id for t in payments.list_payment_types(session)}
        mollie = payments.save_account(session, None, {"account_type": "mollie", "name": "Mollie", "identifier": "M1"})
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque",
                                                     "identifier": "B1"})
        methods = {code: payments.save_method(session, None, {"payment_type_id": str(types[code]),
                                                              "account_id": str(account.id)}).id
                   for code, account in (("carte_bancaire", mollie), ("prelevement_sepa", mollie),
                                         ("cheque", bank))}
        return MollieSetup(company.id, api_key, methods["carte_bancaire"], methods["prelevement_sepa"],
                           methods["cheque"])


def make_invoice(session_factory, price: str = "123.45", company_id: int | None = None, mandate: bool = False,
                 contact_id: int | None = None, last_name: str = "Durand") -> int:
    """A finalised facture (franchise: total TTC = price) with one contact (a new one, with
    a complete SEPA mandate when ``mandate``, or ``contact_id``)."""
    today = clock.today()
    with session_factory() as session:
        doc = documents.create_document(session, "facture", today, company_id=company_id)
        if contact_id is None:
            extra = {"iban": IBAN, "bic": BIC, "rum": f"RUM-{uuid.uuid4().hex[:12]}",
                     "mandate_signed_on": SIGNED_ON} if mandate else {}
            contact_id = contacts.create_contact(
                session, ContactInput(kind="particulier", last_name=last_name, first_name="Léa",
                                      email="lea@example.org", **extra), today).id
        documents.link_contact(session, doc.id, contact_id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": price})
        documents.finalize(session, doc.id, today)
        return doc.id


def request(session_factory, doc_id: int, method_id: int, amount: str, urls, **kwargs):
    """What the payment block's "Enregistrer" does for a Mollie moyen (a SEPA debit: after
    its pre-notification, sent 30 days before)."""
    from tests.prenotice_fixtures import prenotify_if_debit

    prenotify_if_debit(session_factory, doc_id, method_id, amount)
    return mollie_payments.request_mollie_payment(session_factory, doc_id, method_id, Decimal(amount), None,
                                                  clock.today(), urls, **kwargs)


def payment_of(session_factory, payment_id: int):
    with session_factory() as session:
        return payments.get_payment(session, payment_id)


def events_of(session_factory, payment_id: int) -> list[tuple[str, str, str]]:
    with session_factory() as session:
        return [(e.from_status, e.to_status, e.source) for e in payments.payment_events(session, payment_id)]


def document_of(session_factory, doc_id: int):
    with session_factory() as session:
        return documents.get_document(session, doc_id)


class ServerThread:
    """An ASGI app served by uvicorn on 127.0.0.1 (random port) in a daemon thread."""

    def __init__(self, app):
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="test-webhook-receiver")
        self._thread.start()
        wait_for(lambda: self._server.started, what="the webhook receiver to start")
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
