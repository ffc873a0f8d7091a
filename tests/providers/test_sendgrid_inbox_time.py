"""The SendGrid sandbox's test inbox (« Boîte de réception de test ») shows Paris time, as
the app does, and says so."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import httpx
import pytest

from simple_erp.providers.email import OutgoingEmail, SendGridGateway
from simple_erp.sandbox.sendgrid import start_in_thread


@pytest.fixture(scope="module")
def sandbox():
    server = start_in_thread(port=0)
    yield server
    server.stop()


@pytest.mark.parametrize(("utc", "paris"), [
    (datetime(2026, 7, 1, 10, 5, 9, tzinfo=timezone.utc), "01/07/2026 12:05:09"),  # summer: UTC+2
    (datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc), "01/01/2027 00:30:00"),  # winter: UTC+1
])
def test_inbox_and_message_show_paris_time(sandbox, utc, paris):
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as api:
        assert api.post("/sandbox/reset").status_code == 204
        sent = SendGridGateway("SG.sandbox-key.secret-part", host=sandbox.host, timeout=5).send(OutgoingEmail(
            sender_email="facturation@exemple.fr", sender_name="Atelier", to=("client@exemple.com",),
            subject="Facture FA-1", text="Bonjour", html=""))
        stored = sandbox.store.get(sent.message_id)
        assert stored.received_at.tzinfo is not None
        api.post("/sandbox/reset")
        sandbox.store.add(dataclasses.replace(stored, received_at=utc))
        inbox, detail = api.get("/").text, api.get(f"/messages/{sent.message_id}").text
    assert "Date (heure de Paris)" in inbox and paris in inbox
    assert utc.strftime("%d/%m/%Y %H:%M") not in inbox
    assert "Reçu le (heure de Paris)" in detail and paris in detail
