"""Security headers on each kind of route of the backend (simple_erp.api.headers), through
the real API app with a stand-in of Reflex's backend mounted inside it as
``rx.App(api_transformer=api)`` does: the public payment page (200 and 404), the API (JSON,
webhooks, signed files), Reflex's upload endpoint, the pages when the backend serves them
(production mode). And the payment page's CSP allows what the page uses, nothing more."""

from __future__ import annotations

import re

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from simple_erp import db
from simple_erp.api import public_pay
from simple_erp.api.app import api as real_api
from simple_erp.api.app import build_api
from simple_erp.api.headers import SecurityHeaders
from simple_erp.api.limits import UploadGuard
from simple_erp.services import companies
from simple_erp.services.mollie import payments as mollie_payments
from tests.api.test_public_pay import LOST, invoice  # noqa: F401 - fixture
from tests.mollie_fixtures import gateway, make_invoice, no_proxy, sandbox  # noqa: F401 - fixtures

ALWAYS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}


async def _page(_request):
    return HTMLResponse("<!doctype html><html><body><div id='root'></div><script src='/app.js'></script></body></html>")


@pytest.fixture
def client(engine, monkeypatch, gateway):  # noqa: F811
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    monkeypatch.setattr(public_pay, "_urls", lambda _request: LOST)
    api = build_api()
    api.mount("", Starlette(routes=[Route("/contacts", _page), Route("/", _page)]))  # Reflex's backend
    with TestClient(api, follow_redirects=False) as test_client:
        yield test_client


def _check(answer, csp_parts: list[str], referrer: str) -> None:
    for name, value in ALWAYS.items():
        assert answer.headers[name] == value, name
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    for part in csp_parts:
        assert part in csp, (part, csp)
    assert answer.headers["referrer-policy"] == referrer


def test_the_real_api_app_has_both_middlewares():
    assert [m.cls for m in real_api.user_middleware] == [SecurityHeaders, UploadGuard]


def test_the_public_payment_page(client, invoice):  # noqa: F811
    _setup, _doc_id, token = invoice
    for path in (f"/payer/{token}", f"/payer/{token}/retour", "/payer/inconnu"):
        answer = client.get(path)
        assert answer.status_code in (200, 404)
        _check(answer, ["default-src 'none'", "style-src 'unsafe-inline'", "img-src 'self' data:",
                        "base-uri 'none'"], "no-referrer")
        assert "script-src" not in answer.headers["content-security-policy"]  # default-src 'none': no script
        assert "form-action" not in answer.headers["content-security-policy"]  # the redirect to Mollie


def test_the_payment_pages_csp_allows_what_the_page_uses(client, invoice, session_factory):  # noqa: F811
    """No script, no event handler attribute, no external resource; the logo is a data: URI,
    the form posts to this site (its redirect to Mollie's checkout is a navigation)."""
    setup, _doc_id, _token = invoice
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")
    with session_factory() as session:
        companies.set_logo(session, setup.company_id, "logo.png", png)
    # The page shows the logo as printed, frozen at finalisation: an invoice finalised after the upload.
    doc_id = make_invoice(session_factory, "100", company_id=setup.company_id)
    with session_factory() as session:
        token = mollie_payments.ensure_public_token(session, doc_id)
    html = client.get(f"/payer/{token}").text
    assert "<img src='data:image/png;base64," in html
    assert not re.search(r"<script|<iframe|<link|<object|<embed|\son\w+\s*=|javascript:", html, re.I)
    assert re.findall(r"<img\s[^>]*src='([^']*)'", html) and all(
        src.startswith("data:") for src in re.findall(r"<img\s[^>]*src='([^']*)'", html))
    assert all(action.startswith(f"/payer/{token}/") for action in re.findall(r"action='([^']*)'", html))
    assert client.post(f"/payer/{token}/payer").headers["referrer-policy"] == "no-referrer"


def test_the_api(client):
    api_csp = ["default-src 'none'", "base-uri 'none'"]
    _check(client.get("/api/health"), api_csp, "no-referrer")
    _check(client.post("/api/webhooks/mollie", content=b"garbage"), api_csp, "no-referrer")
    _check(client.post("/api/webhooks/sendgrid", content=b"[]"), api_csp, "no-referrer")
    _check(client.get("/api/inconnu"), api_csp, "no-referrer")


def test_the_signed_files_can_open_in_the_browsers_pdf_viewer_but_not_be_framed(client):
    answer = client.get("/api/files/1?t=faux")
    assert answer.status_code == 403
    _check(answer, [], "no-referrer")
    assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_the_pages_served_by_the_backend_and_reflexs_endpoints(client):
    page_csp = ["object-src 'none'", "base-uri 'self'"]
    for answer in (client.get("/contacts"), client.get("/"), client.post("/_upload")):
        _check(answer, page_csp, "strict-origin-when-cross-origin")
        assert "script-src" not in answer.headers["content-security-policy"]  # Reflex's scripts run


def test_a_header_set_by_the_route_is_kept():
    async def own(_request):
        return HTMLResponse("ok", headers={"X-Frame-Options": "SAMEORIGIN"})

    app = Starlette(routes=[Route("/x", own)])
    with TestClient(SecurityHeaders(app)) as client:
        answer = client.get("/x")
    assert answer.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert answer.headers["x-content-type-options"] == "nosniff"
