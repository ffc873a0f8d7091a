"""A local Mollie v2 sandbox (test mode), for development and tests.

Speaks the part of Mollie's REST API the app uses, in the shapes mollie-api-python
4.0 sends and reads: payments (create, get, list, cancel), customers, mandates (create,
get, list, revoke) and customer payments, errors as ``{"status", "title", "detail", "field", "_links"}``,
``Idempotency-Key`` replays (per API key), and webhooks (form ``id=tr_…``, retried
while the answer is not 200). Everything lives in memory; each API key sees only its
own resources (keys are kept hashed). A key containing ``invalid`` is refused (401).

Test-mode helpers, like Mollie's: ``GET /checkout/{id}`` (choose paid, failed,
canceled, expired or open), and for tests ``POST /sandbox/payments/{id}/settle``
(``status=paid|failed|canceled|expired|authorized|chargeback|refund``, optional
``amount`` for a partial refund), ``GET /sandbox/state``, ``POST /sandbox/fail-next``
(``status=503&count=1&body=json|html``: the next API calls fail) and ``POST /sandbox/reset``.

Run: ``python -m simple_erp.sandbox.mollie --port 8765`` (listens on 127.0.0.1 only),
then point the app at ``http://127.0.0.1:8765`` with any ``test_…`` key.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import secrets
import string
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

HOST = "127.0.0.1"
HAL = "application/hal+json"
DOCS = "https://docs.mollie.com/reference/overview"
#: Waits (seconds) before each webhook retry; the first attempt is immediate (5 tries in all).
DEFAULT_WEBHOOK_DELAYS = (0.2, 0.5, 1.0, 2.0)
KEY_RE = re.compile(r"^(live|test)_\w+$")
AMOUNT_RE = re.compile(r"^\d{1,10}\.\d{2}$")
BIC_RE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
CURRENCIES = frozenset("EUR GBP USD CHF SEK NOK DKK PLN CZK HUF CAD AUD".split())
LOCALES = frozenset("en_US en_GB nl_NL nl_BE fr_FR fr_BE de_DE de_AT de_CH es_ES ca_ES pt_PT it_IT "
                    "nb_NO sv_SE fi_FI da_DK is_IS hu_HU pl_PL lv_LV lt_LT".split())
METHODS = frozenset("creditcard directdebit banktransfer bancontact ideal paypal applepay kbc "
                    "belfius eps przelewy24 klarna".split())
CHECKOUT_CHOICES = ("paid", "failed", "canceled", "expired", "open")
TRANSITIONS = {"open": {"paid", "failed", "canceled", "expired", "authorized"},
               "pending": {"paid", "failed", "canceled"},
               "authorized": {"paid", "canceled", "expired"}}
STAMPS = {"paid": "paidAt", "failed": "failedAt", "canceled": "canceledAt",
          "expired": "expiredAt", "authorized": "authorizedAt"}
TITLES = {400: "Bad Request", 401: "Unauthorized Request", 404: "Not Found", 405: "Method Not Allowed",
          409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
          500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None, as_html: bool = False):
        super().__init__(detail)
        self.status, self.detail, self.field, self.as_html = status, detail, field, as_html


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))


def _hal(body: dict, status: int = 200, replayed: bool = False) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status, headers=headers, media_type=HAL)


def _link(href: str, kind: str = HAL) -> dict:
    return {"href": href, "type": kind}


def _is_url(value: object) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in ("http", "https") and parts.netloc)


def _iban_ok(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", iban):
        return False
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1


def _amount(raw: object) -> dict:
    if not isinstance(raw, dict):
        raise ApiError(422, "The amount is required.", "amount")
    currency, value = raw.get("currency"), raw.get("value")
    if currency not in CURRENCIES:
        raise ApiError(422, "The amount currency is invalid.", "amount.currency")
    if not isinstance(value, str) or not AMOUNT_RE.match(value):
        raise ApiError(422, "The amount contains an invalid value: use a string with exactly "
                       "two decimals, like \"12.30\".", "amount.value")
    if Decimal(value) < Decimal("0.01"):
        raise ApiError(422, "The amount is lower than the minimum.", "amount.value")
    return {"value": value, "currency": currency}


def _money(value: Decimal, currency: str) -> dict:
    return {"value": f"{value:.2f}", "currency": currency}


def _optional(body: dict, name: str, check, detail: str):
    value = body.get(name)
    if value is not None and not check(value):
        raise ApiError(422, detail, name)
    return value


async def _json(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


async def _params(request: Request) -> dict[str, str]:
    """Form body (or JSON body) merged over the query string: for the control endpoints."""
    raw = (await request.body()).decode("utf-8", "replace")
    params = dict(request.query_params)
    if raw.lstrip().startswith("{"):
        params.update({k: str(v) for k, v in (await _json(request)).items()})
    else:
        params.update({k: v[-1] for k, v in parse_qs(raw).items()})
    return params


class MollieSandbox:
    """The in-memory store and the HTTP handlers (all state changes under one lock)."""

    def __init__(self, webhook_delays: tuple[float, ...] = DEFAULT_WEBHOOK_DELAYS, webhook_timeout: float = 5.0):
        self.lock = threading.RLock()
        self.webhook_delays = tuple(webhook_delays)
        self.stopping = threading.Event()
        self.http = httpx.Client(timeout=webhook_timeout, trust_env=False,
                                 headers={"User-Agent": "Mollie HTTP (sandbox)"})
        self.reset()

    def close(self) -> None:
        """Stop pending webhook retries and close the webhook HTTP client."""
        self.stopping.set()
        self.http.close()

    def reset(self) -> None:
        with self.lock:
            self.payments: dict[str, dict] = {}
            self.customers: dict[str, dict] = {}
            self.mandates: dict[str, dict] = {}
            self.owners: dict[str, str] = {}  # resource id -> "mode:hash of the API key"
            self.mandate_customer: dict[str, str] = {}
            self.idempotency: dict[tuple[str, str], tuple[str, int, dict]] = {}
            self.deliveries: list[dict] = []
            self.failures: list[tuple[int, bool]] = []

    # --- plumbing -----------------------------------------------------------------

    def _auth(self, request: Request) -> str:
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
        if failure:
            raise ApiError(failure[0], "Injected sandbox failure.", as_html=failure[1])
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.startswith("Bearer ") else ""
        if not KEY_RE.match(key) or "invalid" in key:
            raise ApiError(401, "Missing authentication, or failed to authenticate")
        return key.split("_", 1)[0] + ":" + hashlib.sha256(key.encode()).hexdigest()[:16]

    def _find(self, owner: str, table: dict, rid: str, noun: str) -> dict:
        record = table.get(rid)
        if record is None or self.owners.get(rid) != owner:
            raise ApiError(404, f"No {noun} exists with token {rid}.")
        return record

    def _add(self, owner: str, table: dict, record: dict) -> dict:
        table[record["id"]] = record
        self.owners[record["id"]] = owner
        return record

    def _idempotent(self, request: Request, owner: str, body: dict, make) -> Response:
        key = request.headers.get("idempotency-key", "").strip()
        fingerprint = hashlib.sha256(json.dumps([request.method, request.url.path, body],
                                                sort_keys=True).encode()).hexdigest()
        with self.lock:
            seen = self.idempotency.get((owner, key)) if key else None
            if seen and seen[0] != fingerprint:
                raise ApiError(422, "The Idempotency-Key was already used for a different request.")
            if seen:
                return _hal(seen[2], seen[1], replayed=True)
            status, payload = make()
            if key:
                self.idempotency[(owner, key)] = (fingerprint, status, payload)
        return _hal(payload, status)

    # --- rendering ------------------------------------------------------------------

    def _render_payment(self, p: dict, base: str) -> dict:
        links = {"self": _link(f"{base}/v2/payments/{p['id']}"), "documentation": _link(DOCS, "text/html")}
        if p["status"] == "open" and p["sequenceType"] != "recurring":
            links["checkout"] = _link(f"{base}/checkout/{p['id']}", "text/html")
        if p.get("customerId"):
            links["customer"] = _link(f"{base}/v2/customers/{p['customerId']}")
        if p.get("mandateId"):
            links["mandate"] = _link(f"{base}/v2/customers/{p['customerId']}/mandates/{p['mandateId']}")
        extra = {"isCancelable": p["status"] in ("open", "pending", "authorized")}
        return {**p, **extra, "_links": links}

    def _render_customer(self, c: dict, base: str) -> dict:
        return {**c, "_links": {"self": _link(f"{base}/v2/customers/{c['id']}"),
                                "documentation": _link(DOCS, "text/html")}}

    def _render_mandate(self, m: dict, base: str) -> dict:
        cid = self.mandate_customer[m["id"]]
        return {**m, "_links": {"self": _link(f"{base}/v2/customers/{cid}/mandates/{m['id']}"),
                                "customer": _link(f"{base}/v2/customers/{cid}"),
                                "documentation": _link(DOCS, "text/html")}}

    # --- payments ---------------------------------------------------------------------

    def _new_payment(self, owner: str, body: dict, customer_id: str | None) -> dict:
        amount = _amount(body.get("amount"))
        description = body.get("description")
        if not isinstance(description, str) or not description.strip() or len(description) > 255:
            raise ApiError(422, "The description is required (at most 255 characters).", "description")
        sequence = body.get("sequenceType") or "oneoff"
        if sequence not in ("oneoff", "first", "recurring"):
            raise ApiError(422, "The sequence type is invalid.", "sequenceType")
        customer_id = customer_id or body.get("customerId")
        if customer_id:
            self._find(owner, self.customers, customer_id, "customer")
        elif sequence != "oneoff":
            raise ApiError(422, "A customer is required for first and recurring payments.", "customerId")
        if sequence != "recurring" and not body.get("redirectUrl"):
            raise ApiError(422, "The redirect URL is required.", "redirectUrl")
        for name in ("redirectUrl", "webhookUrl"):
            _optional(body, name, _is_url, f"The {name} is not a valid URL.")
        locale = _optional(body, "locale", lambda v: v in LOCALES, "The locale is invalid.")
        metadata = body.get("metadata")
        if len(json.dumps(metadata)) > 1024:
            raise ApiError(422, "The metadata is too large (at most 1024 characters of JSON).", "metadata")
        method = body.get("method")
        for one in method if isinstance(method, list) else [method] if method else []:
            if one not in METHODS:
                raise ApiError(422, "The payment method is invalid.", "method")
        p = {"resource": "payment", "id": _new_id("tr_"), "mode": owner.split(":")[0],
             "createdAt": _now(), "amount": amount, "description": description,
             "method": method if isinstance(method, str) else None, "metadata": metadata,
             "status": "open", "locale": locale, "profileId": "pfl_sandbox", "sequenceType": sequence,
             "redirectUrl": body.get("redirectUrl"), "webhookUrl": body.get("webhookUrl")}
        if customer_id:
            p["customerId"] = customer_id
        if sequence != "recurring":
            expires = datetime.now(timezone.utc) + timedelta(minutes=15)
            p["expiresAt"] = expires.isoformat(timespec="seconds")
            return self._add(owner, self.payments, p)
        mandate = self._mandate_for(owner, customer_id, body.get("mandateId"))
        p.update(method=mandate["method"], mandateId=mandate["id"], details=dict(mandate["details"]))
        self._add(owner, self.payments, p)
        if mandate["method"] == "directdebit":
            p["status"] = "pending"
            p["details"]["dueDate"] = (date.today() + timedelta(days=3)).isoformat()
        else:
            self._set_status(p, "paid")
        return p

    def _mandate_for(self, owner: str, customer_id: str, mandate_id: str | None) -> dict:
        if mandate_id:
            mandate = self._find(owner, self.mandates, mandate_id, "mandate")
            if self.mandate_customer[mandate_id] != customer_id:
                raise ApiError(422, "The mandate does not belong to this customer.", "mandateId")
        else:
            valid = [m for mid, m in self.mandates.items()
                     if self.mandate_customer[mid] == customer_id and m["status"] == "valid"]
            if not valid:
                raise ApiError(422, "No suitable mandates found for this customer.", "customerId")
            mandate = valid[0]
        if mandate["status"] != "valid":
            raise ApiError(422, "The mandate is not valid.", "mandateId")
        return mandate

    def _set_status(self, p: dict, status: str) -> None:
        p["status"] = status
        p[STAMPS[status]] = _now()
        p.pop("expiresAt", None)
        if status == "paid":
            p["method"] = p.get("method") or "creditcard"
            p["amountRefunded"] = _money(Decimal(0), p["amount"]["currency"])
            p["amountRemaining"] = dict(p["amount"])
            if p["sequenceType"] == "first" and p.get("customerId") and not p.get("mandateId"):
                # Like Mollie: a paid first payment leaves a card mandate, or a SEPA one (iDEAL…).
                kind = "creditcard" if p["method"] == "creditcard" else "directdebit"
                details = {"cardHolder": "T. TEST", "cardNumber": "6787", "cardLabel": "Mastercard"} \
                    if kind == "creditcard" else {"consumerName": "T. TEST", "consumerAccount":
                                                  "NL55INGB0000000000", "consumerBic": "INGBNL2A"}
                mandate = self._mandate_record(p["mode"], kind, details, None, date.today().isoformat())
                self._add(self.owners[p["id"]], self.mandates, mandate)
                self.mandate_customer[mandate["id"]] = p["customerId"]
                p["mandateId"] = mandate["id"]
        if status == "failed" and p.get("method") == "directdebit":
            p.setdefault("details", {}).update(bankReasonCode="AM04", bankReason="Insufficient funds")
        self._notify(p)

    async def payments_root(self, request: Request, customer_id: str | None = None) -> Response:
        owner = self._auth(request)
        base = str(request.base_url).rstrip("/")
        if customer_id:
            with self.lock:
                self._find(owner, self.customers, customer_id, "customer")
        if request.method == "POST":
            body = await _json(request)
            return self._idempotent(request, owner, body, lambda: (
                201, self._render_payment(self._new_payment(owner, body, customer_id), base)))
        raw_limit = request.query_params.get("limit", "50")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 250:
            raise ApiError(400, "The limit must be a number between 1 and 250.", "limit")
        limit, start = int(raw_limit), request.query_params.get("from")
        with self.lock:
            mine = [p for pid, p in reversed(self.payments.items()) if self.owners[pid] == owner
                    and (customer_id is None or p.get("customerId") == customer_id)]
            ids = [p["id"] for p in mine]
            if start and start not in ids:
                raise ApiError(400, f"The 'from' payment {start} does not exist.", "from")
            first = ids.index(start) if start else 0
            page, rest = mine[first:first + limit], mine[first + limit:]
            path = request.url.path
            nxt = _link(f"{base}{path}?from={rest[0]['id']}&limit={limit}") if rest else None
            return _hal({"count": len(page),
                         "_embedded": {"payments": [self._render_payment(p, base) for p in page]},
                         "_links": {"self": _link(str(request.url)), "previous": None, "next": nxt,
                                    "documentation": _link(DOCS, "text/html")}})

    async def payment_item(self, request: Request) -> Response:
        owner, pid = self._auth(request), request.path_params["id"]
        base = str(request.base_url).rstrip("/")
        if request.method == "GET":
            with self.lock:
                return _hal(self._render_payment(self._find(owner, self.payments, pid, "payment"), base))

        def cancel():
            p = self._find(owner, self.payments, pid, "payment")
            if p["status"] not in ("open", "pending", "authorized"):
                raise ApiError(422, f"The payment cannot be canceled from status {p['status']}.")
            self._set_status(p, "canceled")
            return 200, self._render_payment(p, base)
        return self._idempotent(request, owner, {}, cancel)

    # --- customers and mandates -------------------------------------------------------

    async def customers_root(self, request: Request) -> Response:
        owner, body = self._auth(request), await _json(request)
        base = str(request.base_url).rstrip("/")

        def create():
            _optional(body, "name", lambda v: isinstance(v, str) and len(v) <= 255, "The name is invalid.")
            _optional(body, "email", lambda v: isinstance(v, str) and "@" in v, "The email is invalid.")
            _optional(body, "locale", lambda v: v in LOCALES, "The locale is invalid.")
            c = {"resource": "customer", "id": _new_id("cst_"), "mode": owner.split(":")[0],
                 "name": body.get("name"), "email": body.get("email"), "locale": body.get("locale"),
                 "metadata": body.get("metadata"), "createdAt": _now()}
            return 201, self._render_customer(self._add(owner, self.customers, c), base)
        return self._idempotent(request, owner, body, create)

    async def customer_item(self, request: Request) -> Response:
        owner, cid = self._auth(request), request.path_params["id"]
        with self.lock:
            customer = self._find(owner, self.customers, cid, "customer")
            return _hal(self._render_customer(customer, str(request.base_url).rstrip("/")))

    def _mandate_record(self, mode, method, details, reference, signed) -> dict:
        return {"resource": "mandate", "id": _new_id("mdt_"), "mode": mode, "status": "valid",
                "method": method, "details": details, "mandateReference": reference,
                "signatureDate": signed, "createdAt": _now()}

    async def mandates_root(self, request: Request) -> Response:
        owner, cid = self._auth(request), request.path_params["id"]
        base = str(request.base_url).rstrip("/")
        with self.lock:
            self._find(owner, self.customers, cid, "customer")
            if request.method == "GET":
                mine = [self._render_mandate(m, base) for mid, m in self.mandates.items()
                        if self.mandate_customer[mid] == cid]
                return _hal({"count": len(mine), "_embedded": {"mandates": mine},
                             "_links": {"self": _link(str(request.url)), "previous": None, "next": None}})
        body = await _json(request)

        def create():
            if body.get("method") != "directdebit":
                raise ApiError(422, "The mandate method is invalid (use directdebit).", "method")
            name = body.get("consumerName")
            if not isinstance(name, str) or not name.strip():
                raise ApiError(422, "The consumer name is required.", "consumerName")
            iban = re.sub(r"\s", "", str(body.get("consumerAccount") or "")).upper()
            if not _iban_ok(iban):
                raise ApiError(422, "The consumer account is not a valid IBAN.", "consumerAccount")
            bic = _optional(body, "consumerBic", lambda v: isinstance(v, str) and BIC_RE.match(v),
                            "The consumer BIC is invalid.")
            signed = _optional(body, "signatureDate", _past_date, "The signature date is invalid.")
            mandate = self._mandate_record(owner.split(":")[0], body["method"],
                                           {"consumerName": name, "consumerAccount": iban, "consumerBic": bic},
                                           body.get("mandateReference"), signed)
            self._add(owner, self.mandates, mandate)
            self.mandate_customer[mandate["id"]] = cid
            return 201, self._render_mandate(mandate, base)
        return self._idempotent(request, owner, body, create)

    async def mandate_item(self, request: Request) -> Response:
        """GET a mandate, or revoke it (DELETE: 204, then "invalid": no payment can use it)."""
        owner, cid, mid = self._auth(request), request.path_params["id"], request.path_params["mid"]
        with self.lock:
            mandate = self._find(owner, self.mandates, mid, "mandate")
            if self.mandate_customer[mid] != cid:
                raise ApiError(404, f"No mandate exists with token {mid}.")
            if request.method == "GET":
                return _hal(self._render_mandate(mandate, str(request.base_url).rstrip("/")))
            mandate["status"] = "invalid"
            return Response(status_code=204)

    async def customer_payments(self, request: Request) -> Response:
        return await self.payments_root(request, customer_id=request.path_params["id"])

    # --- test-mode checkout and control -------------------------------------------------

    async def checkout(self, request: Request) -> Response:
        pid = request.path_params["id"]
        choice = (await _params(request)).get("status") if request.method == "POST" else None
        with self.lock:
            p = self.payments.get(pid)
            if p is None:
                return HTMLResponse(_page("Paiement introuvable / Payment not found", ""), 404)
            if request.method == "GET":
                return HTMLResponse(_checkout_html(p))
            if choice not in CHECKOUT_CHOICES:
                return HTMLResponse(_page("Choix invalide / Invalid choice", ""), 400)
            if p["status"] == "open" and choice != "open":
                self._set_status(p, choice)
            target = p.get("redirectUrl")
        if not target:
            return HTMLResponse(_page("Paiement traité / Payment processed", ""))
        return RedirectResponse(target, 303)

    async def settle(self, request: Request) -> Response:
        params, pid = await _params(request), request.path_params["id"]
        status = params.get("status", "")
        with self.lock:
            p = self.payments.get(pid)
            if p is None:
                raise ApiError(404, f"No payment exists with token {pid}.")
            if status in ("chargeback", "refund"):
                if p["status"] != "paid":
                    raise ApiError(422, f"Only a paid payment can get a {status}.", "status")
                currency, total = p["amount"]["currency"], Decimal(p["amount"]["value"])
                remaining = Decimal(p["amountRemaining"]["value"])
                value = Decimal(params.get("amount") or (total if status == "chargeback" else remaining))
                if not Decimal("0.01") <= value <= (total if status == "chargeback" else remaining):
                    raise ApiError(422, "The amount is out of range.", "amount")
                if status == "chargeback":
                    p["amountChargedBack"] = _money(value, currency)
                else:
                    p["amountRefunded"] = _money(Decimal(p["amountRefunded"]["value"]) + value, currency)
                    p["amountRemaining"] = _money(remaining - value, currency)
                self._notify(p)
            elif status in TRANSITIONS.get(p["status"], ()):
                self._set_status(p, status)
            else:
                raise ApiError(422, f"A {p['status']} payment cannot become {status or '(empty)'}.", "status")
            return _hal(self._render_payment(p, str(request.base_url).rstrip("/")))

    async def state(self, request: Request) -> Response:
        with self.lock:
            return JSONResponse(json.loads(json.dumps({
                "payments": list(self.payments.values()), "customers": list(self.customers.values()),
                "mandates": [{**m, "customerId": self.mandate_customer[m["id"]]} for m in self.mandates.values()],
                "webhooks": self.deliveries, "idempotencyKeys": len(self.idempotency)})))

    async def fail_next(self, request: Request) -> Response:
        params = await _params(request)
        with self.lock:
            failure = (int(params.get("status", 503)), params.get("body", "json") == "html")
            self.failures.extend([failure] * int(params.get("count", 1)))
        return JSONResponse({"queued": len(self.failures)})

    async def reset_endpoint(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"reset": True})

    # --- webhooks -------------------------------------------------------------------

    def _notify(self, p: dict) -> None:
        if not p.get("webhookUrl"):
            return
        delivery = {"paymentId": p["id"], "url": p["webhookUrl"], "paymentStatus": p["status"],
                    "attempts": 0, "lastStatus": None, "lastError": None, "delivered": False}
        self.deliveries.append(delivery)
        threading.Thread(target=self._deliver, args=(delivery,), daemon=True,
                         name=f"mollie-webhook-{p['id']}").start()

    def _deliver(self, delivery: dict) -> None:
        """Like Mollie: POST ``id=tr_…``; only a 200 counts, anything else is retried later."""
        for wait in (0.0, *self.webhook_delays):
            if self.stopping.wait(wait):
                return
            code, error = None, None
            try:
                code = self.http.post(delivery["url"], data={"id": delivery["paymentId"]}).status_code
            except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: client closed on stop
                error = f"{type(exc).__name__}: {exc}"
            with self.lock:
                delivery.update(attempts=delivery["attempts"] + 1, lastStatus=code, lastError=error)
                if code == 200:
                    delivery.update(delivered=True, deliveredAt=_now())
                    return


def _past_date(value: object) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value) <= date.today()
    except ValueError:
        return False


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;color:#0d1117}'
            '.test{background:#ffe58f;padding:.4rem .8rem;border-radius:4px}button{display:block;width:100%;'
            'margin:.4rem 0;padding:.7rem;font-size:1rem;cursor:pointer}</style></head>'
            f'<body><p class="test">Mode test / Test mode — Mollie sandbox</p><h1>{html.escape(title)}</h1>'
            f'{body}</body></html>')


def _checkout_html(p: dict) -> str:
    value, currency = p["amount"]["value"], p["amount"]["currency"]
    shown = f"{value.replace('.', ',')} €" if currency == "EUR" else f"{value} {currency}"
    info = (f'<p class="amount"><strong>{html.escape(shown)}</strong></p>'
            f'<p class="description">{html.escape(p["description"])}</p>')
    if p["status"] != "open":
        return _page("Paiement déjà traité / Payment already processed",
                     info + f'<p>Statut / Status : <code>{html.escape(p["status"])}</code></p>')
    buttons = "".join(f'<button type="submit" name="status" value="{s}">{s}</button>' for s in CHECKOUT_CHOICES)
    return _page("Choisissez le statut du paiement / Select payment status",
                 info + f'<form method="post" action="/checkout/{html.escape(p["id"])}">{buttons}</form>')


def create_app(webhook_delays: tuple[float, ...] = DEFAULT_WEBHOOK_DELAYS, webhook_timeout: float = 5.0) -> Starlette:
    sandbox = MollieSandbox(webhook_delays, webhook_timeout)

    async def api_error(request: Request, exc: ApiError) -> Response:
        if exc.as_html:
            return HTMLResponse(f"<html><body><h1>{exc.status} {TITLES.get(exc.status, 'Error')}</h1></body></html>",
                                exc.status)
        body = {"status": exc.status, "title": TITLES.get(exc.status, "Error"), "detail": exc.detail}
        if exc.field:
            body["field"] = exc.field
        body["_links"] = {"documentation": _link("https://docs.mollie.com/overview/handling-errors", "text/html")}
        return _hal(body, exc.status)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return await api_error(request, ApiError(exc.status_code, exc.detail))

    s = sandbox
    routes = [Route("/v2/payments", s.payments_root, methods=["GET", "POST"]),
              Route("/v2/payments/{id}", s.payment_item, methods=["GET", "DELETE"]),
              Route("/v2/customers", s.customers_root, methods=["POST"]),
              Route("/v2/customers/{id}", s.customer_item, methods=["GET"]),
              Route("/v2/customers/{id}/mandates", s.mandates_root, methods=["GET", "POST"]),
              Route("/v2/customers/{id}/mandates/{mid}", s.mandate_item, methods=["GET", "DELETE"]),
              Route("/v2/customers/{id}/payments", s.customer_payments, methods=["GET", "POST"]),
              Route("/checkout/{id}", s.checkout, methods=["GET", "POST"]),
              Route("/sandbox/payments/{id}/settle", s.settle, methods=["POST"]),
              Route("/sandbox/state", s.state, methods=["GET"]),
              Route("/sandbox/fail-next", s.fail_next, methods=["POST"]),
              Route("/sandbox/reset", s.reset_endpoint, methods=["POST"])]
    app = Starlette(routes=routes, exception_handlers={ApiError: api_error, HTTPException: http_error})
    app.state.sandbox = sandbox
    return app


class SandboxServer:
    """A sandbox served by uvicorn in a daemon thread (see ``start_in_thread``)."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, app: Starlette, port: int):
        self._server, self._thread, self.app, self.port = server, thread, app, port
        self.base_url = self.api_endpoint = f"http://{HOST}:{port}"

    @property
    def sandbox(self) -> MollieSandbox:
        return self.app.state.sandbox

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.sandbox.close()


def start_in_thread(port: int = 0, webhook_delays: tuple[float, ...] = DEFAULT_WEBHOOK_DELAYS) -> SandboxServer:
    app = create_app(webhook_delays)
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="mollie-sandbox")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"The Mollie sandbox did not start on {HOST}:{port}.")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return SandboxServer(server, thread, app, bound)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Mollie v2 sandbox (test mode), on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    port = parser.parse_args().port
    print(f"Mollie sandbox: API endpoint http://{HOST}:{port} (any test_… key; state at /sandbox/state)")
    uvicorn.run(create_app(), host=HOST, port=port, log_level="info")


if __name__ == "__main__":
    main()
