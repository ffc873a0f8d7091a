"""MollieGateway against the local Mollie sandbox, over real HTTP through mollie-api-python.

One sandbox per module (uvicorn thread, port 0, short webhook delays); each test uses
its own API key, so it sees only its own payments. A small http.server thread plays the
app's webhook endpoint and answers from a per-path plan of status codes.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_erp.providers.mollie import (
    MollieError,
    MollieGateway,
    PaymentInfo,
    PaymentRequest,
    format_amount,
)
from simple_erp.sandbox.mollie import start_in_thread

IBAN = "FR76 3000 6000 0112 3456 7890 189"
BIC = "AGRIFRPP"
WEBHOOK_DELAYS = (0.05, 0.1, 0.1, 0.2)  # 5 attempts within half a second


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
    _STATE.close()


class Receiver:
    """The app's webhook endpoint: records every POST, answers from ``plans[path]`` (then 200)."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.plans: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with receiver.lock:
                    receiver.calls.append((self.path, {k: v[0] for k, v in parse_qs(body).items()}))
                    plan = receiver.plans.get(self.path) or [200]
                    code = plan.pop(0) if len(plan) > 1 else plan[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hook(self, *plan: int) -> str:
        path = f"/webhooks/mollie/{uuid.uuid4().hex[:8]}"
        self.plans[path] = list(plan or (200,))
        return self.base_url + path

    def calls_to(self, url: str) -> list[dict]:
        with self.lock:
            return [form for path, form in self.calls if self.base_url + path == url]


@pytest.fixture(scope="module")
def receiver(no_proxy):
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def api_key():
    return f"test_{uuid.uuid4().hex}"


@pytest.fixture
def gateway(sandbox, api_key):
    return MollieGateway(api_key, api_endpoint=sandbox.api_endpoint, timeout=5)


@pytest.fixture(scope="module")
def web():
    with httpx.Client(trust_env=False, timeout=5) as client:
        yield client


def request(amount="12.30", webhook_url="", **changes) -> PaymentRequest:
    fields = dict(amount=Decimal(amount), description="Facture FA-2025-0001", redirect_url=
                  "https://erp.example/paiements/retour", webhook_url=webhook_url,
                  metadata={"document_id": "42", "numero": "FA-2025-0001"}, idempotency_key=uuid.uuid4().hex)
    return PaymentRequest(**{**fields, **changes})


_STATE = httpx.Client(trust_env=False, timeout=5)


def state(sandbox) -> dict:
    return _STATE.get(f"{sandbox.base_url}/sandbox/state").json()


def stored(sandbox, payment_id: str) -> dict:
    return next(p for p in state(sandbox)["payments"] if p["id"] == payment_id)


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def deliveries(sandbox, payment_id: str) -> list[dict]:
    return [d for d in state(sandbox)["webhooks"] if d["paymentId"] == payment_id]


def settle(web, sandbox, payment_id: str, **form) -> httpx.Response:
    return web.post(f"{sandbox.base_url}/sandbox/payments/{payment_id}/settle", data=form)


# --- amounts ---------------------------------------------------------------------------------


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2))
def test_amount_string_has_exactly_two_decimals_and_round_trips(amount):
    text = format_amount(amount)
    assert re.fullmatch(r"\d+\.\d{2}", text)
    assert Decimal(text) == amount


@pytest.mark.parametrize("amount", [Decimal("12.345"), Decimal("NaN"), Decimal("Infinity")])
def test_amount_with_more_than_two_decimals_or_not_finite_is_refused(amount):
    with pytest.raises(MollieError) as caught:
        format_amount(amount)
    assert caught.value.field == "amount.value" and not caught.value.retryable


# --- payments ---------------------------------------------------------------------------------


def test_create_card_payment(gateway, sandbox, receiver):
    hook = receiver.hook(200)
    info = gateway.create_payment(request("12.3", method="creditcard", webhook_url=hook))
    assert isinstance(info, PaymentInfo)
    assert info.id.startswith("tr_") and info.status == "open"
    assert info.amount == Decimal("12.30") and info.method == "creditcard"
    assert info.checkout_url == f"{sandbox.base_url}/checkout/{info.id}"
    assert info.metadata == {"document_id": "42", "numero": "FA-2025-0001"}
    assert info.paid_at is None and info.amount_refunded == 0 and info.amount_charged_back == 0
    assert info.sequence_type == "oneoff" and info.customer_id is None
    raw = stored(sandbox, info.id)
    assert raw["amount"] == {"value": "12.30", "currency": "EUR"}
    assert raw["locale"] == "fr_FR" and raw["mode"] == "test"
    assert raw["redirectUrl"] == "https://erp.example/paiements/retour"
    assert raw["webhookUrl"] == hook and receiver.calls_to(hook) == []  # no webhook while open


def test_same_idempotency_key_replays_the_first_payment(gateway):
    req = request()
    first = gateway.create_payment(req)
    again = gateway.create_payment(req)
    assert again.id == first.id
    assert [p.id for p in gateway.list_payments()] == [first.id]


def test_concurrent_retries_with_one_key_create_one_payment(gateway):
    req, ids = request(), []
    threads = [threading.Thread(target=lambda: ids.append(gateway.create_payment(req).id)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert [p.id for p in gateway.list_payments()] == ids[:1]


def test_idempotency_key_reused_for_another_body_is_refused(gateway):
    req = request()
    gateway.create_payment(req)
    with pytest.raises(MollieError) as caught:
        gateway.create_payment(request("99.00", idempotency_key=req.idempotency_key))
    assert caught.value.status == 422


def test_idempotency_keys_are_kept_per_api_key(gateway, sandbox):
    other = MollieGateway(f"test_{uuid.uuid4().hex}", api_endpoint=sandbox.api_endpoint)
    req = request()
    assert gateway.create_payment(req).id != other.create_payment(req).id


def test_get_payment(gateway):
    created = gateway.create_payment(request("5.00"))
    fetched = gateway.get_payment(created.id)
    assert fetched == created


def test_list_payments_newest_first_and_limited(gateway):
    ids = [gateway.create_payment(request(f"{n}.00")).id for n in (1, 2, 3)]
    assert [p.id for p in gateway.list_payments()] == ids[::-1]
    assert [p.id for p in gateway.list_payments(limit=2)] == ids[:0:-1]


def test_cancel_payment(gateway, sandbox, receiver):
    hook = receiver.hook(200)
    created = gateway.create_payment(request(webhook_url=hook))
    canceled = gateway.cancel_payment(created.id)
    assert canceled.status == "canceled" and canceled.checkout_url is None
    assert stored(sandbox, created.id)["canceledAt"]
    wait_for(lambda: receiver.calls_to(hook))
    with pytest.raises(MollieError) as caught:
        gateway.cancel_payment(created.id)
    assert caught.value.status == 422 and not caught.value.retryable


def test_payments_of_another_api_key_are_not_found(gateway, sandbox):
    created = gateway.create_payment(request())
    other = MollieGateway(f"test_{uuid.uuid4().hex}", api_endpoint=sandbox.api_endpoint)
    with pytest.raises(MollieError) as caught:
        other.get_payment(created.id)
    assert caught.value.status == 404


# --- checkout page and webhooks -----------------------------------------------------------


def test_checkout_paid_redirects_and_delivers_the_webhook_after_a_retry(gateway, sandbox, receiver, web):
    hook = receiver.hook(500, 200)
    info = gateway.create_payment(request("12.30", webhook_url=hook))
    page = web.get(info.checkout_url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "12,30 €" in page.text and "Facture FA-2025-0001" in page.text
    for choice in ("paid", "failed", "canceled", "expired", "open"):
        assert f'name="status" value="{choice}"' in page.text

    before = datetime.now(timezone.utc).replace(microsecond=0)
    answer = web.post(info.checkout_url, data={"status": "paid"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://erp.example/paiements/retour"

    paid = gateway.get_payment(info.id)
    assert paid.status == "paid" and paid.checkout_url is None and paid.method == "creditcard"
    assert paid.paid_at.tzinfo is not None and paid.paid_at.utcoffset() == timedelta(0)
    assert before <= paid.paid_at <= datetime.now(timezone.utc)

    delivery = wait_for(lambda: [d for d in deliveries(sandbox, info.id) if d["delivered"]])[0]
    assert delivery["attempts"] == 2 and delivery["lastStatus"] == 200 and delivery["url"] == hook
    assert receiver.calls_to(hook) == [{"id": info.id}, {"id": info.id}]


def test_webhook_gives_up_after_five_attempts(gateway, sandbox, receiver, web):
    hook = receiver.hook(500)
    info = gateway.create_payment(request(webhook_url=hook))
    web.post(info.checkout_url, data={"status": "failed"})
    wait_for(lambda: [d for d in deliveries(sandbox, info.id) if d["attempts"] == 5])
    time.sleep(0.3)
    [delivery] = deliveries(sandbox, info.id)
    assert delivery["attempts"] == 5 and not delivery["delivered"] and delivery["lastStatus"] == 500
    assert gateway.get_payment(info.id).status == "failed"


@pytest.mark.parametrize("choice", ["failed", "canceled", "expired"])
def test_checkout_final_states(gateway, sandbox, web, choice):
    info = gateway.create_payment(request())
    assert web.post(info.checkout_url, data={"status": choice}).status_code == 303
    assert gateway.get_payment(info.id).status == choice
    assert stored(sandbox, info.id)[f"{choice}At"]
    # A processed payment cannot change again through the checkout.
    web.post(info.checkout_url, data={"status": "paid"})
    assert gateway.get_payment(info.id).status == choice


def test_checkout_open_changes_nothing(gateway, web):
    info = gateway.create_payment(request())
    assert web.post(info.checkout_url, data={"status": "open"}).status_code == 303
    assert gateway.get_payment(info.id).status == "open"


# --- customers, mandates, recurring direct debit -------------------------------------------


def recurring(gateway, amount="49.90", **changes) -> PaymentInfo:
    customer = gateway.create_customer("Dupont SARL", "compta@dupont.example", uuid.uuid4().hex)
    mandate = gateway.create_mandate(customer, "Dupont SARL", IBAN, BIC, date(2025, 1, 15),
                                     "SIMPLEERP-MDT-0001", uuid.uuid4().hex)
    req = request(amount, redirect_url="", customer_id=customer, mandate_id=mandate,
                  sequence_type="recurring", **changes)
    return gateway.create_payment(req)


def test_customer_and_mandate(gateway, sandbox):
    key = uuid.uuid4().hex
    customer = gateway.create_customer("Dupont SARL", "compta@dupont.example", key)
    assert customer.startswith("cst_")
    assert gateway.create_customer("Dupont SARL", "compta@dupont.example", key) == customer
    mandate = gateway.create_mandate(customer, "Dupont SARL", IBAN, BIC, date(2025, 1, 15),
                                     "SIMPLEERP-MDT-0001", uuid.uuid4().hex)
    assert mandate.startswith("mdt_")
    raw = next(m for m in state(sandbox)["mandates"] if m["id"] == mandate)
    assert raw["status"] == "valid" and raw["method"] == "directdebit" and raw["customerId"] == customer
    assert raw["details"] == {"consumerName": "Dupont SARL", "consumerAccount": IBAN.replace(" ", ""),
                              "consumerBic": BIC}
    assert raw["signatureDate"] == "2025-01-15" and raw["mandateReference"] == "SIMPLEERP-MDT-0001"


def test_revoked_mandate_can_no_longer_be_debited(gateway, sandbox):
    customer = gateway.create_customer("Dupont SARL", "compta@dupont.example", uuid.uuid4().hex)
    mandate = gateway.create_mandate(customer, "Dupont SARL", IBAN, BIC, date(2025, 1, 15),
                                     "SIMPLEERP-MDT-0002", uuid.uuid4().hex)
    gateway.revoke_mandate(customer, mandate)
    assert next(m for m in state(sandbox)["mandates"] if m["id"] == mandate)["status"] == "invalid"
    with pytest.raises(MollieError) as caught:
        gateway.create_payment(request(redirect_url="", customer_id=customer, mandate_id=mandate,
                                       sequence_type="recurring"))
    assert caught.value.status == 422 and caught.value.field == "mandateId"
    # Unknown to this key, or to this customer: 404.
    other = MollieGateway("test_" + uuid.uuid4().hex, api_endpoint=sandbox.api_endpoint, timeout=5)
    with pytest.raises(MollieError) as caught:
        other.revoke_mandate(customer, mandate)
    assert caught.value.status == 404
    assert gateway.has_customer(customer) and not other.has_customer(customer)
    stranger = gateway.create_customer("Autre", "autre@example.org", uuid.uuid4().hex)
    with pytest.raises(MollieError) as caught:
        gateway.revoke_mandate(stranger, mandate)
    assert caught.value.status == 404


def test_mandate_with_an_invalid_iban_is_refused(gateway):
    customer = gateway.create_customer("Dupont SARL", "compta@dupont.example", uuid.uuid4().hex)
    with pytest.raises(MollieError) as caught:
        gateway.create_mandate(customer, "Dupont SARL", "FR76 3000 6000 0112 3456 7890 180", BIC,
                               date(2025, 1, 15), "REF", uuid.uuid4().hex)
    assert caught.value.status == 422 and caught.value.field == "consumerAccount"
    assert "consumerAccount" in caught.value.message


def test_recurring_direct_debit_stays_pending_until_settled_paid(gateway, sandbox, receiver, web):
    hook = receiver.hook(200)
    info = recurring(gateway, webhook_url=hook)
    assert info.status == "pending" and info.checkout_url is None and info.method == "directdebit"
    assert info.sequence_type == "recurring" and info.customer_id and info.mandate_id
    assert gateway.get_payment(info.id).status == "pending"
    assert settle(web, sandbox, info.id, status="paid").status_code == 200
    paid = gateway.get_payment(info.id)
    assert paid.status == "paid" and paid.paid_at is not None
    wait_for(lambda: receiver.calls_to(hook) == [{"id": info.id}])


def test_recurring_direct_debit_settled_failed(gateway, sandbox, web):
    info = recurring(gateway)
    settle(web, sandbox, info.id, status="failed")
    failed = gateway.get_payment(info.id)
    assert failed.status == "failed" and failed.paid_at is None
    assert stored(sandbox, info.id)["details"]["bankReasonCode"] == "AM04"


def test_chargeback_and_refund_on_a_paid_payment(gateway, sandbox, web):
    info = recurring(gateway, "30.00")
    assert settle(web, sandbox, info.id, status="chargeback").status_code == 422  # not paid yet
    settle(web, sandbox, info.id, status="paid")
    settle(web, sandbox, info.id, status="refund", amount="10.00")
    assert gateway.get_payment(info.id).amount_refunded == Decimal("10.00")
    settle(web, sandbox, info.id, status="chargeback")
    paid = gateway.get_payment(info.id)
    assert paid.status == "paid" and paid.amount_charged_back == Decimal("30.00")


def test_recurring_without_mandate_is_refused(gateway):
    customer = gateway.create_customer("Sans Mandat", "x@example.org", uuid.uuid4().hex)
    with pytest.raises(MollieError) as caught:
        gateway.create_payment(request(redirect_url="", customer_id=customer, sequence_type="recurring"))
    assert caught.value.status == 422 and caught.value.field == "customerId"


def test_first_payment_paid_creates_a_mandate(gateway, web):
    customer = gateway.create_customer("Martin", "martin@example.org", uuid.uuid4().hex)
    info = gateway.create_payment(request(customer_id=customer, sequence_type="first"))
    web.post(info.checkout_url, data={"status": "paid"})
    paid = gateway.get_payment(info.id)
    assert paid.mandate_id and paid.mandate_id.startswith("mdt_")
    again = gateway.create_payment(request(redirect_url="", customer_id=customer, sequence_type="recurring"))
    assert again.status == "paid" and again.mandate_id == paid.mandate_id  # card mandate: immediate


# --- errors ------------------------------------------------------------------------------------


def test_key_format_is_checked_before_any_call():
    with pytest.raises(MollieError) as caught:
        MollieGateway("sk_123", api_endpoint="http://127.0.0.1:1")
    assert caught.value.message == "Clé API Mollie invalide : elle doit commencer par test_ ou live_."


def test_refused_key_is_401(sandbox):
    gateway = MollieGateway("test_invalidkey", api_endpoint=sandbox.api_endpoint)
    for call in (gateway.check_connection, lambda: gateway.create_payment(request())):
        with pytest.raises(MollieError) as caught:
            call()
        assert caught.value.status == 401 and not caught.value.retryable
        assert caught.value.message == ("Clé API Mollie refusée par Mollie (401) : vérifiez-la dans votre "
                                        "tableau de bord Mollie.")
        assert "invalidkey" not in caught.value.message


def test_check_connection_ok(gateway):
    gateway.check_connection()


def test_repr_hides_the_key(gateway, api_key):
    assert api_key not in repr(gateway)


def test_unknown_payment_is_404(gateway):
    with pytest.raises(MollieError) as caught:
        gateway.get_payment("tr_doesnotexist")
    assert caught.value.status == 404 and not caught.value.retryable
    assert "(404)" in caught.value.message and "tr_doesnotexist" in caught.value.message


def test_malformed_payment_id_is_refused_locally(gateway):
    with pytest.raises(MollieError) as caught:
        gateway.get_payment("42")
    assert caught.value.status is None and not caught.value.retryable


@pytest.mark.parametrize(("changes", "field"), [
    ({"amount": "0.00"}, "amount.value"),
    ({"amount": "-5.00"}, "amount.value"),
    ({"description": ""}, "description"),
    ({"redirect_url": ""}, "redirectUrl"),
    ({"webhook_url": "not a url"}, "webhookUrl"),
    ({"locale": "fr_XX"}, "locale"),
    ({"method": "bitcoin"}, "method"),
])
def test_invalid_payment_is_422_with_field(gateway, changes, field):
    with pytest.raises(MollieError) as caught:
        gateway.create_payment(request(**changes))
    err = caught.value
    assert err.status == 422 and err.field == field and not err.retryable
    assert err.message.startswith("Mollie a refusé la demande (422) : ") and f"(champ : {field})" in err.message


@pytest.mark.parametrize(("status", "body"), [(429, "json"), (500, "json"), (503, "json"), (502, "html")])
def test_rate_limit_and_server_errors_are_retryable(gateway, sandbox, web, status, body):
    web.post(f"{sandbox.base_url}/sandbox/fail-next", data={"status": status, "body": body})
    with pytest.raises(MollieError) as caught:
        gateway.list_payments()
    assert caught.value.status == status and caught.value.retryable
    gateway.list_payments()  # the next call goes through


def test_timeout_is_retryable():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (backlog) but never answers
    try:
        gateway = MollieGateway("test_abc", api_endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}",
                                timeout=0.5)
        started = time.monotonic()
        with pytest.raises(MollieError) as caught:
            gateway.get_payment("tr_whatever")
        assert time.monotonic() - started < 3
    finally:
        silent.close()
    assert caught.value.retryable and caught.value.status is None
    assert "à temps" in caught.value.message


def test_connection_refused_is_retryable():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there any more
    gateway = MollieGateway("test_abc", api_endpoint=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(MollieError) as caught:
        gateway.check_connection()
    assert caught.value.retryable and caught.value.status is None
    assert caught.value.message.startswith(f"Impossible de joindre Mollie (127.0.0.1:{port})")


# --- the sandbox's own HTTP shapes ------------------------------------------------------------


def test_sandbox_error_shapes(sandbox, web):
    api = f"{sandbox.base_url}/v2/payments"
    missing = web.get(api)
    assert missing.status_code == 401 and missing.headers["content-type"].startswith("application/hal+json")
    assert missing.json()["status"] == 401 and missing.json()["title"] == "Unauthorized Request"
    auth = {"Authorization": f"Bearer test_{uuid.uuid4().hex}"}
    unknown = web.get(f"{api}/tr_nope", headers=auth).json()
    assert unknown["status"] == 404 and unknown["detail"] == "No payment exists with token tr_nope."
    assert unknown["_links"]["documentation"]["href"].startswith("https://docs.mollie.com/")
    bad = web.post(api, headers=auth, json={"amount": {"value": "12.3", "currency": "EUR"},
                                              "description": "x", "redirectUrl": "https://x.example"})
    assert bad.status_code == 422
    assert bad.json()["title"] == "Unprocessable Entity" and bad.json()["field"] == "amount.value"
    listing = web.get(api, headers=auth, params={"limit": 5}).json()
    assert listing["count"] == 0 and listing["_embedded"] == {"payments": []}


def test_sandbox_list_pagination_links(sandbox, web):
    auth = {"Authorization": f"Bearer test_{uuid.uuid4().hex}"}
    body = {"amount": {"value": "1.00", "currency": "EUR"}, "description": "p", "redirectUrl": "https://x.example"}
    ids = [web.post(f"{sandbox.base_url}/v2/payments", headers=auth, json=body).json()["id"] for _ in range(3)]
    page = web.get(f"{sandbox.base_url}/v2/payments", headers=auth, params={"limit": 2}).json()
    assert page["count"] == 2 and [p["id"] for p in page["_embedded"]["payments"]] == ids[:0:-1]
    rest = web.get(page["_links"]["next"]["href"], headers=auth).json()
    assert [p["id"] for p in rest["_embedded"]["payments"]] == ids[:1] and rest["_links"]["next"] is None
