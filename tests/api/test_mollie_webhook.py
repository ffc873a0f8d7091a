"""POST /api/webhooks/mollie through an HTTP client (Starlette TestClient, httpx on ASGI),
with the real route list ``webhooks.routes`` and ``simple_erp.db`` pointed at the test
database, the Mollie sandbox over HTTP behind it: duplicates, out of order deliveries,
unknown ids, garbage bodies, another company's payment, Mollie unreachable then back,
unknown Mollie statuses, a non-blocking event loop, and a property-based test of random
status changes and deliveries. Sandbox webhooks go to a dead URL: the tests deliver."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from simple_erp import db
from simple_erp.api import webhooks
from simple_erp.domain.mollie_status import map_status
from simple_erp.domain.payment_rules import ALLOWED_TRANSITIONS, PaymentStatus, counted_amount
from simple_erp.models.payment import Payment
from simple_erp.providers.mollie import MollieGateway, PaymentInfo, PaymentRequest
from simple_erp.services import clock, companies, documents, payments
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.services.mollie.payments import AppUrls
from tests.mollie_fixtures import (  # noqa: F401 - fixtures
    DEAD_URL,
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
    settle,
)

S = PaymentStatus
D = Decimal
PATH = "/api/webhooks/mollie"
LOST = AppUrls(public_base="http://127.0.0.1:3000", api_base=DEAD_URL)  # the sandbox's own deliveries fail


@pytest.fixture
def app(engine, monkeypatch, gateway):
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    return Starlette(routes=webhooks.routes)


@pytest.fixture
def client(app):
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def setup(session_factory, gateway):
    return mollie_setup(session_factory)


def card_payment(session_factory, setup, amount="50", price=None) -> Payment:
    doc_id = make_invoice(session_factory, price or amount)
    return request(session_factory, doc_id, setup.card, amount, LOST)


def deliver(client, provider_id: str):
    return client.post(PATH, data={"id": provider_id})


def status_of(session_factory, payment_id: int) -> str:
    return payment_of(session_factory, payment_id).status


# --- the usual paths ------------------------------------------------------------------------------


def test_paid_then_duplicates(client, session_factory, setup, sandbox):
    payment = card_payment(session_factory, setup)
    checkout(sandbox, payment.provider_payment_id, "paid")
    for _ in range(3):
        answer = deliver(client, payment.provider_payment_id)
        assert (answer.status_code, answer.text) == (200, "OK")
    assert [e[:2] for e in events_of(session_factory, payment.id)] == [("", "en_attente"), ("en_attente", "recu")]
    assert document_of(session_factory, payment.document_id).amount_received == D("50.00")
    paid_at = datetime.fromisoformat(sandbox_payment(sandbox, payment.provider_payment_id)["paidAt"])
    assert payment_of(session_factory, payment.id).received_on == paid_at.astimezone(clock.PARIS).date()


async def _burst(app, provider_id: str, count: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = await asyncio.gather(*(client.post(PATH, data={"id": provider_id}) for _ in range(count)))
    return [a.status_code for a in answers]


def test_concurrent_duplicates_count_the_payment_once(app, session_factory, setup, sandbox):
    payment = card_payment(session_factory, setup)
    checkout(sandbox, payment.provider_payment_id, "paid")
    assert asyncio.run(_burst(app, payment.provider_payment_id, 8)) == [200] * 8
    assert [e[:2] for e in events_of(session_factory, payment.id)] == [("", "en_attente"), ("en_attente", "recu")]
    assert document_of(session_factory, payment.document_id).amount_received == D("50.00")


def test_json_body_is_accepted(client, session_factory, setup, sandbox):
    payment = card_payment(session_factory, setup)
    checkout(sandbox, payment.provider_payment_id, "failed")
    assert client.post(PATH, json={"id": payment.provider_payment_id}).status_code == 200
    assert status_of(session_factory, payment.id) == S.FAILED.value


@pytest.mark.parametrize("choice", ["canceled", "expired"])
def test_other_final_statuses(client, session_factory, setup, sandbox, choice):
    payment = card_payment(session_factory, setup)
    checkout(sandbox, payment.provider_payment_id, choice)
    assert deliver(client, payment.provider_payment_id).status_code == 200
    assert status_of(session_factory, payment.id) == {"canceled": "annule", "expired": "expire"}[choice]


# --- order, unknown ids, garbage -----------------------------------------------------------------------


def test_out_of_order_deliveries(client, session_factory, setup, sandbox):
    payment = card_payment(session_factory, setup)
    checkout(sandbox, payment.provider_payment_id, "paid")
    settle(sandbox, payment.provider_payment_id, "refund", "20.00")
    # The refund's webhook comes first, the payment's own one afterwards.
    assert deliver(client, payment.provider_payment_id).status_code == 200
    assert deliver(client, payment.provider_payment_id).status_code == 200
    stored = payment_of(session_factory, payment.id)
    assert (stored.status, stored.amount_refunded) == (S.PARTIALLY_REFUNDED.value, D("20.00"))
    assert [e[:2] for e in events_of(session_factory, payment.id)] == [
        ("", "en_attente"), ("en_attente", "recu"), ("recu", "partiellement_rembourse")]
    assert document_of(session_factory, payment.document_id).amount_received == D("30.00")


def test_a_forbidden_move_is_logged_and_ignored(client, session_factory, setup, sandbox, caplog):
    payment = card_payment(session_factory, setup)
    with session_factory() as session:  # failed here (e.g. an earlier, wrong decision)…
        payments.apply_status(session, payment.id, S.FAILED, datetime.now(timezone.utc), payments.SOURCE_USER)
    checkout(sandbox, payment.provider_payment_id, "paid")  # …paid at Mollie
    with caplog.at_level(logging.WARNING, logger="simple_erp.services.mollie.sync"):
        assert deliver(client, payment.provider_payment_id).status_code == 200
    assert status_of(session_factory, payment.id) == S.FAILED.value
    assert document_of(session_factory, payment.document_id).amount_received == 0
    assert any("not applied" in r.getMessage() for r in caplog.records)
    assert mollie_payments.sync_from_provider(
        lambda: db.session_scope(), payment.provider_payment_id) == "ignored"


def test_unknown_ids_answer_200(client, session_factory, setup):
    for unknown in ("tr_doesNotExist", "tr_" + "x" * 40):
        answer = deliver(client, unknown)
        assert (answer.status_code, answer.text) == (200, "OK")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"id=", "application/x-www-form-urlencoded"),
        (b"id=abc", "application/x-www-form-urlencoded"),
        (b"id=tr_", "application/x-www-form-urlencoded"),
        (b"id=tr_abc%20def", "application/x-www-form-urlencoded"),
        (b"id=tr_a&id=tr_b", "application/x-www-form-urlencoded"),
        (b"payment=tr_abc", "application/x-www-form-urlencoded"),
        (b"garbage", "text/plain"),
        (b"\xff\xfe\x00id=tr_abc", "application/octet-stream"),
        (b"{", "application/json"),
        (b'{"id": 5}', "application/json"),
        (b'["tr_abc"]', "application/json"),
        (b"id=tr_abc%0A", "application/x-www-form-urlencoded"),  # a trailing newline
        (b'{"id": "tr_abc\\n"}', "application/json"),
    ],
)
def test_malformed_requests_answer_400(client, body, content_type):
    answer = client.post(PATH, content=body, headers={"content-type": content_type})
    assert answer.status_code == 400


def test_only_post(client):
    assert client.get(PATH).status_code == 405


# --- another company's payment, forged answers ------------------------------------------------------


def test_another_companys_payment_is_ignored(client, session_factory, setup, sandbox):
    other_key = new_key()
    with session_factory() as session:
        other = companies.save_company(session, None, {"name": "Autre SARL", "vat_regime": "franchise"})
        mollie_payments.set_mollie_api_key(session, other.id, other_key)
    # A paid payment of the other company's Mollie account, with our payment's metadata.
    payment = card_payment(session_factory, setup)
    foreign = MollieGateway(other_key, sandbox.api_endpoint).create_payment(PaymentRequest(
        amount=D("50.00"), description="Facture X", redirect_url="http://127.0.0.1:3000/x",
        webhook_url=f"{DEAD_URL}/w", metadata={"payment_id": str(payment.id)}, idempotency_key="k-foreign"))
    checkout(sandbox, foreign.id, "paid")
    with session_factory() as session:  # our payment points at it (a corrupted or forged link)
        session.execute(update(Payment).where(Payment.id == payment.id).values(provider_payment_id=foreign.id))
    assert deliver(client, foreign.id).status_code == 200  # fetched with our company's key: 404
    stored = payment_of(session_factory, payment.id)
    assert stored.status == S.PENDING.value and "Introuvable chez Mollie" in stored.provider_error
    assert document_of(session_factory, payment.document_id).amount_received == 0


def test_metadata_of_another_payment_is_ignored(client, session_factory, setup, sandbox, caplog):
    payment = card_payment(session_factory, setup)
    stranger = MollieGateway(setup.api_key, sandbox.api_endpoint).create_payment(PaymentRequest(
        amount=D("50.00"), description="Autre", redirect_url="http://127.0.0.1:3000/x",
        webhook_url=f"{DEAD_URL}/w", metadata={"payment_id": "999999"}, idempotency_key="k-stranger"))
    checkout(sandbox, stranger.id, "paid")
    with session_factory() as session:
        session.execute(update(Payment).where(Payment.id == payment.id).values(provider_payment_id=stranger.id))
    with caplog.at_level(logging.WARNING, logger="simple_erp.services.mollie.sync"):
        assert deliver(client, stranger.id).status_code == 200
    assert status_of(session_factory, payment.id) == S.PENDING.value
    assert any("is not ours" in r.getMessage() for r in caplog.records)


# --- Mollie unreachable, unknown statuses, the event loop -------------------------------------------


def test_mollie_unreachable_then_back(client, session_factory, setup, sandbox):
    payment = card_payment(session_factory, setup)
    checkout(sandbox, payment.provider_payment_id, "paid")
    mollie_payments.set_gateway_factory(lambda key, _endpoint: MollieGateway(key, DEAD_URL, timeout=2))
    assert deliver(client, payment.provider_payment_id).status_code == 503
    mollie_payments.set_gateway_factory(lambda key, _endpoint: MollieGateway(key, sandbox.api_endpoint))
    httpx.post(f"{sandbox.base_url}/sandbox/fail-next", data={"status": "502", "body": "html"}, trust_env=False)
    assert deliver(client, payment.provider_payment_id).status_code == 503  # a proxy's HTML 502
    assert status_of(session_factory, payment.id) == S.PENDING.value
    answer = deliver(client, payment.provider_payment_id)  # Mollie retries: back
    assert (answer.status_code, answer.text) == (200, "OK")
    assert status_of(session_factory, payment.id) == S.RECEIVED.value


class StubGateway:
    """Answers a fixed PaymentInfo (after ``delay`` seconds) for any payment id."""

    def __init__(self, status: str, payment_id: int, amount: Decimal, delay: float = 0.0):
        self.status, self.payment_id, self.amount, self.delay = status, payment_id, amount, delay
        self.api_endpoint, self.mode = "http://stub", "test"

    def get_payment(self, provider_id: str) -> PaymentInfo:
        time.sleep(self.delay)
        return PaymentInfo(id=provider_id, status=self.status, amount=self.amount, checkout_url=None,
                           paid_at=None, method="creditcard", metadata={"payment_id": str(self.payment_id)})


def test_unknown_mollie_status_is_logged_and_answers_200(client, session_factory, setup, caplog):
    payment = card_payment(session_factory, setup)
    stub = StubGateway("teleported", payment.id, D("50.00"))
    mollie_payments.set_gateway_factory(lambda key, _endpoint: stub)
    with caplog.at_level(logging.ERROR, logger="simple_erp.services.mollie.sync"):
        assert deliver(client, payment.provider_payment_id).status_code == 200
    stored = payment_of(session_factory, payment.id)
    assert stored.status == S.PENDING.value and stored.provider_error == "Statut Mollie inconnu : « teleported »."
    assert any("unknown status 'teleported'" in r.getMessage() for r in caplog.records)


async def _slow_deliveries(app, provider_id: str, count: int) -> tuple[float, int]:
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    codes = await _burst(app, provider_id, count)
    elapsed = time.monotonic() - started
    task.cancel()
    assert codes == [200] * count
    return elapsed, ticks


def test_the_event_loop_never_waits_for_mollie_or_the_database(app, session_factory, setup):
    payment = card_payment(session_factory, setup)
    mollie_payments.set_gateway_factory(lambda key, _endpoint: StubGateway("open", payment.id, D("50.00"), 0.4))
    elapsed, ticks = asyncio.run(_slow_deliveries(app, payment.provider_payment_id, 8))
    assert elapsed < 8 * 0.4 / 2  # run side by side in threads, not one after the other
    assert ticks >= elapsed / 0.01 / 3  # and the loop kept turning meanwhile


# --- property: random status changes and deliveries ------------------------------------------------

# Weighted towards paid and refunds, where missed or repeated webhooks matter most.
SETTLE = ["paid", "paid", "failed", "canceled", "expired", "authorized", "refund_part", "refund_part", "refund",
          "chargeback"]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("settle"), st.integers(0, 1), st.sampled_from(SETTLE)),
        st.tuples(st.just("deliver"), st.integers(0, 1), st.integers(1, 3)),  # 1–3 copies
    ),
    min_size=1, max_size=10,
)


def _allowed(from_status: str, to_status: str) -> bool:
    if from_status == "":
        return to_status == S.PENDING.value
    if from_status == to_status:  # a further partial refund
        return to_status == S.PARTIALLY_REFUNDED.value
    return S(to_status) in ALLOWED_TRANSITIONS[S(from_status)]


def _check_invariants(session_factory, doc_id: int, ours: list[Payment], ever_paid: set[int]) -> None:
    with session_factory() as session:
        stored = [payments.get_payment(session, p.id) for p in ours]
        doc = documents.get_document(session, doc_id)
    for payment in stored:
        trail = events_of(session_factory, payment.id)
        assert all(_allowed(f, t) for f, t, _src in trail), trail
        assert sum(1 for _f, t, _src in trail if t == S.RECEIVED.value) <= 1, trail
    counted = sum((counted_amount(S(p.status), p.amount, p.amount_refunded) for p in stored), D("0"))
    assert doc.amount_received == counted
    assert D("0") <= doc.amount_received <= sum((p.amount for p in stored if p.id in ever_paid), D("0"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_status_changes_and_deliveries(client, session_factory, setup, sandbox, ops):
    doc_id = make_invoice(session_factory, "100")
    ours = [request(session_factory, doc_id, setup.card, amount, LOST) for amount in ("60", "40")]
    ever_paid: set[int] = set()
    for op in ops:
        payment = ours[op[1]]
        if op[0] == "settle":
            status, amount = op[2], None
            if status == "refund_part":
                status, amount = "refund", "5.00"
            answer = settle(sandbox, payment.provider_payment_id, status, amount)
            if answer.status_code == 200 and op[2] == "paid":
                ever_paid.add(payment.id)
        else:
            for _ in range(op[2]):
                assert deliver(client, payment.provider_payment_id).status_code == 200
            _check_invariants(session_factory, doc_id, ours, ever_paid)
    for payment in ours:  # in the end every payment is delivered: ours matches Mollie
        assert deliver(client, payment.provider_payment_id).status_code == 200
        remote = sandbox_payment(sandbox, payment.provider_payment_id)
        expected = map_status(remote["status"], remote.get("method"), D(remote["amount"]["value"]),
                              D((remote.get("amountRefunded") or {"value": "0"})["value"]),
                              D((remote.get("amountChargedBack") or {"value": "0"})["value"]))
        assert status_of(session_factory, payment.id) == expected.value
    _check_invariants(session_factory, doc_id, ours, ever_paid)
