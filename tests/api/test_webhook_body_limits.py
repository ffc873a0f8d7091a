"""The webhook routes read a body up to their cap and stop there (413): a declared
Content-Length over the cap is refused before any byte is read, and a chunked body (no
Content-Length) is counted as it arrives. Through Starlette's TestClient, straight through
ASGI counting the chunks the route pulled, and over real HTTP (uvicorn, a raw socket that
stops sending once the answer came)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.testclient import TestClient

from simple_erp.api import email_events, webhooks
from simple_erp.api.limits import TOO_LARGE
from simple_erp.config import get_settings
from simple_erp.sandbox.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, public_key_text
from tests.api.body_helpers import asgi_post, post_raw, served

MOLLIE = "/api/webhooks/mollie"
SENDGRID = "/api/webhooks/sendgrid"
SENDGRID_CAP = 64 * 1024  # the route's 5 MB, lowered for the tests
SIGNED = {SIGNATURE_HEADER: "c2lnbmF0dXJl", TIMESTAMP_HEADER: "1700000000"}  # checked after the read


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("SENDGRID_EVENT_PUBLIC_KEY", public_key_text(ec.generate_private_key(ec.SECP256R1())))
    get_settings.cache_clear()
    monkeypatch.setattr(email_events, "MAX_BODY_BYTES", SENDGRID_CAP)
    yield Starlette(routes=[*webhooks.routes, *email_events.routes])
    get_settings.cache_clear()


ROUTES = [
    pytest.param(MOLLIE, webhooks.MAX_BODY_BYTES, {"Content-Type": "application/x-www-form-urlencoded"}, id="mollie"),
    pytest.param(SENDGRID, SENDGRID_CAP, {"Content-Type": "application/json", **SIGNED}, id="sendgrid"),
]


@pytest.mark.parametrize("path, cap, headers", ROUTES)
def test_a_declared_length_over_the_cap_is_413(app, path, cap, headers):
    with TestClient(app) as client:
        answer = client.post(path, content=b"x" * (cap + 1), headers=headers)
    assert answer.status_code == 413 and answer.text == TOO_LARGE


@pytest.mark.parametrize("path, cap, headers", ROUTES)
def test_a_chunked_body_over_the_cap_is_413(app, path, cap, headers):
    def body():
        for _ in range(cap // 1000 + 2):
            yield b"x" * 1000

    with TestClient(app) as client:
        answer = client.post(path, content=body(), headers=headers)
    assert answer.status_code == 413


@pytest.mark.parametrize("path, cap, headers", ROUTES)
def test_a_body_at_the_cap_is_read_and_judged_on_its_content(app, path, cap, headers):
    """Not a size refusal: the Mollie route finds no payment id (400), the SendGrid route
    no valid signature (403)."""
    with TestClient(app) as client:
        answer = client.post(path, content=b"x" * cap, headers=headers)
    assert answer.status_code == (400 if path == MOLLIE else 403)


@pytest.mark.parametrize("path, cap, headers", ROUTES)
def test_the_route_stops_pulling_chunks_at_the_cap(app, path, cap, headers):
    status, pulled = asgi_post(app, path, headers, chunks=100_000, chunk_size=1024)
    assert status == 413
    assert pulled <= cap // 1024 + 1  # not one chunk more than needed to pass the cap


def test_an_unsigned_sendgrid_post_is_refused_before_its_body_is_read(app):
    status, pulled = asgi_post(app, SENDGRID, {"Content-Type": "application/json"}, chunks=100_000)
    assert status == 403 and pulled == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path, cap, headers", ROUTES)
def test_over_real_http_the_answer_comes_before_the_body_ends(app, path, cap, headers, chunked):
    total = 64 * 1024 * 1024
    with served(app) as port:
        status, sent = post_raw(port, path, headers, total, chunked)
    assert status == 413
    assert sent < total // 2  # the server answered long before the 64 MB were sent
