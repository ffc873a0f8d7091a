"""SendGrid Event Webhook route (simple_erp.api.email_events): ECDSA signature checked against
the key from the settings, events recorded once each (sg_event_id) — on SQLite and PostgreSQL.

Most posts are signed here with the sandbox's signing helper and sent through Starlette's
TestClient; one goes end to end: the sandbox signs and POSTs to the route served by uvicorn."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from simple_erp.api import email_events
from simple_erp.config import get_settings
from simple_erp.models.email import EmailEvent, EmailMessage
from simple_erp.sandbox.sendgrid import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    public_key_text,
    sign_payload,
    start_in_thread,
)

URL = "/api/webhooks/sendgrid"
XID = "14c5d75ce93dfb2a0001"


@pytest.fixture
def private_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def configured(monkeypatch, engine, private_key):
    """The verification key in the settings (environment), the route on the test database."""
    monkeypatch.setenv("SENDGRID_EVENT_PUBLIC_KEY", public_key_text(private_key))
    get_settings.cache_clear()
    monkeypatch.setattr(email_events, "get_engine", lambda: engine)
    yield
    get_settings.cache_clear()


@pytest.fixture
def client(configured):
    with TestClient(Starlette(routes=email_events.routes)) as client:
        yield client


@pytest.fixture
def message_id(session_factory) -> int:
    with session_factory() as session:
        message = EmailMessage(sender_email="paul@atelier.fr", to_addrs="lea@client.fr", subject="Facture",
                               body_text="Bonjour", status="envoye", provider_message_id=XID)
        session.add(message)
        session.flush()
        return message.id


def signed(private_key, events, timestamp: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = (json.dumps(events, separators=(",", ":")) + "\r\n").encode()
    timestamp = timestamp or str(int(time.time()))
    return body, {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                  SIGNATURE_HEADER: sign_payload(private_key, timestamp, body)}


def event(sg_event_id: str, kind: str = "delivered", **extra) -> dict:
    return {"email": "lea@client.fr", "timestamp": 1_796_000_000, "event": kind, "sg_event_id": sg_event_id,
            "sg_message_id": f"{XID}.filterdrecv-p3mdlv-1-5A-1.0", **extra}


def stored_events(session_factory) -> int:
    with session_factory() as session:
        return session.exec(select(func.count()).select_from(EmailEvent)).one()


def test_signed_events_update_the_message(client, private_key, session_factory, message_id):
    body, headers = signed(private_key, [event("e1"), event("e2", "open", timestamp=1_796_000_100)])
    answer = client.post(URL, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"received": 2, "recorded": 2}
    with session_factory() as session:
        message = session.get(EmailMessage, message_id)
    assert message.last_event == "open" and message.delivered_at is not None and message.opened_at is not None


def test_a_duplicate_sg_event_id_counts_once(client, private_key, session_factory, message_id):
    body, headers = signed(private_key, [event("dup"), event("dup")])
    assert client.post(URL, content=body, headers=headers).json()["recorded"] == 1
    body, headers = signed(private_key, [event("dup", "bounce", reason="550")])  # SendGrid retrying
    assert client.post(URL, content=body, headers=headers).json() == {"received": 1, "recorded": 0}
    assert stored_events(session_factory) == 1
    with session_factory() as session:
        assert session.get(EmailMessage, message_id).last_event == "delivered"


def test_tampered_or_unsigned_posts_are_refused(client, private_key, session_factory, message_id):
    body, headers = signed(private_key, [event("t1")])
    tampered = body.replace(b"delivered", b"bounce\x20\x20\x20")
    assert client.post(URL, content=tampered, headers=headers).status_code == 403
    assert client.post(URL, content=body, headers=headers | {TIMESTAMP_HEADER: "1"}).status_code == 403
    other = ec.generate_private_key(ec.SECP256R1())
    assert client.post(URL, content=body, headers=signed(other, [event("t1")])[1]).status_code == 403
    assert client.post(URL, content=body, headers={"Content-Type": "application/json"}).status_code == 403
    assert client.post(URL, content=body, headers=headers | {SIGNATURE_HEADER: "pas-une-signature"}).status_code == 403
    assert stored_events(session_factory) == 0
    assert client.post(URL, content=body, headers=headers).status_code == 200


def test_no_verification_key_means_403(client, private_key, monkeypatch, session_factory):
    monkeypatch.setenv("SENDGRID_EVENT_PUBLIC_KEY", "")
    get_settings.cache_clear()
    body, headers = signed(private_key, [event("k1")])
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert stored_events(session_factory) == 0


def test_signed_but_malformed_bodies_are_400(client, private_key):
    for payload in (b"{not json", b'{"event": "delivered"}', b"[1, 2]"):
        timestamp = str(int(time.time()))
        headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign_payload(private_key, timestamp, payload)}
        assert client.post(URL, content=payload, headers=headers).status_code == 400


def test_only_post_is_answered(client):
    assert client.get(URL).status_code == 405


@pytest.fixture
def served_route(configured):
    """The route served over real HTTP (uvicorn in a thread), for the sandbox to post to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=email_events.routes), log_level="warning",
                                           lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}{URL}"
    server.should_exit = True
    thread.join(10)


def test_sandbox_signed_events_end_to_end(served_route, private_key, session_factory, message_id):
    sandbox = start_in_thread(port=0, private_key=private_key)
    try:
        with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=15) as api:
            events = [{"event": "delivered", "email": "lea@client.fr", "sg_message_id": f"{XID}.filter-1"},
                      {"event": "bounce", "email": "compta@client.fr", "sg_message_id": f"{XID}.filter-2"}]
            answer = api.post("/sandbox/event-webhook/send", json={"url": served_route, "events": events}).json()
    finally:
        sandbox.stop()
    assert answer["status"] == 200
    with session_factory() as session:
        message = session.get(EmailMessage, message_id)
        assert message.last_event == "bounce" and "compta@client.fr" in message.last_event_detail
        ids = set(session.exec(select(EmailEvent.sg_event_id)))
    assert ids == {e["sg_event_id"] for e in answer["events"]}


# --- replays: the signed timestamp must be recent ------------------------------------------------


@pytest.mark.parametrize("age", [11 * 60, 3600, 86_400 * 3, -10 * 60])
def test_a_signed_post_too_old_or_from_the_future_is_refused_as_a_replay(client, private_key, session_factory,
                                                                        message_id, age):
    body, headers = signed(private_key, [event("r1")], timestamp=str(int(time.time()) - age))
    answer = client.post(URL, content=body, headers=headers)
    assert answer.status_code == 403 and answer.json() == {"error": "stale timestamp"}
    assert stored_events(session_factory) == 0


@pytest.mark.parametrize("age", [0, 9 * 60, -60])
def test_a_recent_signed_post_is_accepted(client, private_key, session_factory, message_id, age):
    body, headers = signed(private_key, [event(f"fresh{age}")], timestamp=str(int(time.time()) - age))
    assert client.post(URL, content=body, headers=headers).status_code == 200
    assert stored_events(session_factory) == 1


def test_the_accepted_age_is_a_setting(client, private_key, monkeypatch, session_factory, message_id):
    monkeypatch.setenv("SENDGRID_EVENT_MAX_AGE_SECONDS", "30")
    get_settings.cache_clear()
    body, headers = signed(private_key, [event("s1")], timestamp=str(int(time.time()) - 60))
    assert client.post(URL, content=body, headers=headers).status_code == 403
    body, headers = signed(private_key, [event("s1")], timestamp=str(int(time.time()) - 5))
    assert client.post(URL, content=body, headers=headers).status_code == 200


def test_a_replayed_capture_is_refused_once_old(client, private_key, session_factory, message_id, monkeypatch):
    """The same signed bytes, accepted when fresh, are refused when sent again later."""
    body, headers = signed(private_key, [event("cap1")])
    assert client.post(URL, content=body, headers=headers).status_code == 200
    later = time.time() + 11 * 60
    monkeypatch.setattr(email_events, "_now", lambda: later)
    assert client.post(URL, content=body, headers=headers).status_code == 403
    assert stored_events(session_factory) == 1
