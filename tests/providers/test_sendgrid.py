"""SendGrid adapter (simple_erp.providers.email) against the local sandbox, over real HTTP.

One sandbox per module (uvicorn in a thread, free port), reset before each test. The gateway
goes through the real ``sendgrid`` SDK; what the SDK cannot send (bad base64, missing filename)
is posted to the sandbox directly with httpx. Event Webhook posts are received by a small
``http.server`` so the signature is checked on the exact bytes that travelled.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook

from simple_erp.providers.email import (
    REFERENCE_ARG,
    Attachment,
    EmailError,
    OutgoingEmail,
    SendGridGateway,
    verify_event_signature,
)
from simple_erp.sandbox.sendgrid import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    public_key_text,
    start_in_thread,
)

KEY = "SG.sandbox-key.secret-part"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CSV = "Réf;Montant\nFA-2025-0001;1 234,56\n".encode("utf-8")
SENDER = "facturation@exemple.fr"
NOT_VERIFIED_401 = ("Clé API SendGrid refusée (401) : vérifiez la clé saisie dans Admin CRM → "
                    "13. Paramètres.")


@pytest.fixture(scope="module")
def sandbox():
    server = start_in_thread(port=0)
    yield server
    server.stop()


@pytest.fixture
def api(sandbox):
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as client:
        assert client.post("/sandbox/reset").status_code == 204
        yield client


@pytest.fixture
def gateway(sandbox):
    return SendGridGateway(KEY, host=sandbox.host, timeout=5)


def email(**changes) -> OutgoingEmail:
    values = dict(
        sender_email=SENDER, sender_name="Atelier Dupont SARL", to=("client@exemple.com",),
        subject="Facture FA-2025-0001", text="Bonjour,\nVeuillez trouver votre facture.\n",
        html="<p>Bonjour,</p><script>alert('x')</script><p>Votre facture &amp; devis.</p>",
        cc=("compta@exemple.com",),
        attachments=(Attachment("FA-2025-0001.pdf", PDF),
                     Attachment("relevé été.csv", CSV, "text/csv")))
    values.update(changes)
    return OutgoingEmail(**values)


def send_error(gateway: SendGridGateway, message: OutgoingEmail | None = None) -> EmailError:
    with pytest.raises(EmailError) as info:
        gateway.send(message or email())
    return info.value


def test_send_with_two_attachments_arrives_identical(sandbox, api, gateway):
    result = gateway.send(email())

    assert len(result.message_id) >= 16
    stored = sandbox.store.get(result.message_id)
    assert stored is not None
    assert (stored.from_email, stored.from_name) == (SENDER, "Atelier Dupont SARL")
    assert stored.to == ("client@exemple.com",) and stored.cc == ("compta@exemple.com",)
    assert stored.subject == "Facture FA-2025-0001"
    assert stored.text == email().text and stored.html == email().html
    assert [(a.filename, a.type, a.content) for a in stored.attachments] == [
        ("FA-2025-0001.pdf", "application/pdf", PDF), ("relevé été.csv", "text/csv", CSV)]
    # The JSON API used by other tests says the same.
    [listed] = api.get("/sandbox/messages").json()["messages"]
    assert listed["message_id"] == result.message_id
    assert [base64.b64decode(a["content_base64"]) for a in listed["attachments"]] == [PDF, CSV]


def test_recipients_are_deduplicated_as_sendgrid_requires(sandbox, api, gateway):
    result = gateway.send(email(to=("client@exemple.com", " Client@Exemple.com"),
                                cc=("CLIENT@exemple.com", "compta@exemple.com", "")))
    stored = sandbox.store.get(result.message_id)
    assert stored.to == ("client@exemple.com",) and stored.cc == ("compta@exemple.com",)


def test_sandbox_refuses_an_address_twice_like_sendgrid(api):
    body = {"personalizations": [{"to": [{"email": "a@exemple.fr"}],
                                  "cc": [{"email": "A@exemple.fr"}]}],
            "from": {"email": SENDER}, "subject": "x",
            "content": [{"type": "text/plain", "value": "x"}]}
    answer = api.post("/v3/mail/send", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["field"] == "personalizations.0"
    assert "[A@exemple.fr] in the personalizations.0.cc field" in error["message"]


def test_wrong_key_gives_401(sandbox, api):
    error = send_error(SendGridGateway("bad", host=sandbox.host, timeout=5))
    assert (error.status, error.retryable, error.message) == (401, False, NOT_VERIFIED_401)
    assert "authorization grant is invalid" in error.provider_detail
    assert api.get("/sandbox/messages").json()["messages"] == []


def test_sandbox_auth_answers_like_sendgrid(api):
    body = {"personalizations": [{"to": [{"email": "a@exemple.fr"}]}]}
    answer = api.post("/v3/mail/send", json=body, headers={"Authorization": "Bearer abc"})
    assert answer.status_code == 401
    assert answer.json() == {"errors": [{
        "message": "The provided authorization grant is invalid, expired, or revoked",
        "field": None, "help": None}]}
    assert api.post("/v3/mail/send", json=body).status_code == 401


def test_unverified_sender_gives_403(api, gateway):
    api.post("/sandbox/senders", json={"unverified": [SENDER.upper()]}).raise_for_status()
    error = send_error(gateway)
    assert (error.status, error.retryable) == (403, False)
    assert error.message == (
        f"L'adresse d'expédition {SENDER} n'est pas vérifiée chez SendGrid (403). Vérifiez-la "
        "(Settings → Sender Authentication : Single Sender Verification) ou authentifiez votre "
        "domaine (Domain Authentication).")
    assert "does not match a verified Sender Identity" in error.provider_detail
    assert api.get("/sandbox/messages").json()["messages"] == []
    # Other senders still go through.
    assert gateway.send(email(sender_email="autre@exemple.fr")).message_id


def test_other_403_is_not_blamed_on_the_sender(api, gateway):
    api.post("/sandbox/fail-next", json={"status": 403}).raise_for_status()
    error = send_error(gateway)
    assert error.status == 403 and not error.retryable
    assert "« Mail Send »" in error.message and "access forbidden" in error.message


@pytest.mark.parametrize(("changes", "expected"), [
    ({"subject": ""}, "The subject is required."),
    ({"to": ("client@exemple",)}, "Does not contain a valid address. (champ "
                                  "personalizations.0.to.0.email)"),
])
def test_invalid_message_gives_400_with_sendgrids_message(api, gateway, changes, expected):
    error = send_error(gateway, email(**changes))
    assert (error.status, error.retryable) == (400, False)
    assert error.message.startswith("SendGrid a refusé le message (400) : ")
    assert expected in error.message


def test_sandbox_checks_attachments_base64_and_filename(api):
    body = {"personalizations": [{"to": [{"email": "a@exemple.fr"}]}],
            "from": {"email": SENDER}, "subject": "PJ",
            "content": [{"type": "text/plain", "value": "x"}],
            "attachments": [{"content": "pas du base64 !", "filename": "a.pdf"},
                            {"content": base64.b64encode(b"ok").decode(), "type": "text/plain"}]}
    answer = api.post("/v3/mail/send", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [(e["field"], e["message"]) for e in errors] == [
        ("attachments.0.content", "The attachment content must be base64 encoded."),
        ("attachments.1.filename", "The attachment filename parameter is required.")]
    assert all(e["help"].startswith("http://sendgrid.com/docs/") for e in errors)
    assert api.get("/sandbox/messages").json()["messages"] == []


def test_sandbox_reports_every_missing_piece(api):
    answer = api.post("/v3/mail/send", json={"personalizations": [{}]},
                      headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [
        "personalizations.0.to", "from.email", "subject", "content"]


@pytest.mark.parametrize(("status", "words"), [
    (429, "trop d'envois, réessayez dans quelques minutes"),
    (500, "momentanément indisponible (500)"),
    (503, "momentanément indisponible (503)"),
])
def test_rate_limit_and_server_errors_are_retryable(api, gateway, status, words):
    api.post("/sandbox/fail-next", json={"status": status, "count": 2}).raise_for_status()
    for _ in range(2):
        error = send_error(gateway)
        assert (error.status, error.retryable) == (status, True)
        assert words in error.message
    assert gateway.send(email()).message_id  # count spent: the next send goes through


def test_timeout_after_sending_is_retryable_and_uncertain(api, sandbox):
    api.post("/sandbox/fail-next", json={"delay": 1}).raise_for_status()
    started = time.monotonic()
    error = send_error(SendGridGateway(KEY, host=sandbox.host, timeout=0.5))
    assert time.monotonic() - started < 0.95
    assert (error.status, error.retryable, error.uncertain) == (None, True, True)
    assert "n'a pas répondu à temps (plus de 0,5 s) : l'email est peut-être parti quand même" in error.message
    assert "may have been accepted" in error.provider_detail
    # Indeed: SendGrid took it, after the app stopped waiting.
    deadline = time.monotonic() + 5
    while not api.get("/sandbox/messages").json()["messages"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(api.get("/sandbox/messages").json()["messages"]) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_may_hide_an_accepted_email(api, gateway, status):
    api.post("/sandbox/fail-next", json={"status": status}).raise_for_status()
    error = send_error(gateway)
    assert (error.status, error.retryable, error.uncertain) == (status, True, True)
    assert f"({status}) : l'email est peut-être parti quand même" in error.message


def test_a_malformed_host_is_certainly_not_sent():
    error = send_error(SendGridGateway(KEY, host="http://127.0.0.1:notaport", timeout=2))
    assert (error.uncertain, error.retryable) == (False, False)
    assert error.message.startswith("Adresse du serveur SendGrid invalide")


def test_unreachable_host_is_retryable_and_certainly_not_sent():
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = send_error(SendGridGateway(KEY, host=f"http://127.0.0.1:{port}", timeout=2))
    assert (error.status, error.retryable, error.uncertain) == (None, True, False)
    assert error.message.startswith("Impossible de joindre SendGrid")


def test_the_reference_comes_back_in_every_event(sandbox, api, gateway, receiver):
    url, received = receiver
    message_id = gateway.send(email(reference="ref-0123456789abcdef")).message_id
    assert sandbox.store.get(message_id).raw["custom_args"] == {REFERENCE_ARG: "ref-0123456789abcdef"}
    events = [{"sg_message_id": f"{message_id}.filter0001", "event": e} for e in ("processed", "delivered")]
    api.post("/sandbox/event-webhook/send", json={"url": url, "events": events}).raise_for_status()
    [(_headers, body)] = received
    assert [e[REFERENCE_ARG] for e in json.loads(body)] == ["ref-0123456789abcdef"] * 2
    assert "custom_args" not in sandbox.store.get(gateway.send(email()).message_id).raw  # no reference: none


def test_missing_key_and_unsendable_messages_fail_before_any_request(api, sandbox):
    error = send_error(SendGridGateway("  ", host=sandbox.host))
    assert "Aucune clé API SendGrid" in error.message and error.status is None
    gateway = SendGridGateway(KEY, host=sandbox.host)
    error = send_error(gateway, email(text=" ", html=""))
    assert "Le message est vide" in error.message and not error.retryable
    error = send_error(gateway, email(to=("pas-une-adresse",)))  # the SDK would crash on it
    assert error.message == "Adresse e-mail invalide : « pas-une-adresse »."
    assert "Aucun destinataire" in send_error(gateway, email(to=(" ",))).message
    assert api.get("/sandbox/messages").json()["messages"] == []


def test_api_key_never_reaches_the_logs(sandbox, api, caplog):
    caplog.set_level(logging.DEBUG)
    SendGridGateway(KEY, host=sandbox.host).send(email())
    send_error(SendGridGateway("wrong-key-value", host=sandbox.host))
    assert "HEADERS" in caplog.text and "Bearer ***" in caplog.text  # the SDK did log headers
    assert KEY not in caplog.text and "sandbox-key" not in caplog.text
    assert "wrong-key-value" not in caplog.text
    assert "PAYLOAD: (" in caplog.text and "Veuillez trouver" not in caplog.text  # body masked
    assert KEY not in repr(SendGridGateway(KEY))


def test_inbox_lists_the_message_and_serves_identical_attachments(sandbox, api, gateway):
    first = gateway.send(email(subject="Devis <D-2025-0007>"))
    second = gateway.send(email(subject="Facture FA-2025-0002"))

    page = api.get("/")
    assert page.status_code == 200 and "Boîte de réception de test" in page.text
    assert page.text.index("Facture FA-2025-0002") < page.text.index("Devis &lt;D-2025-0007&gt;")
    assert SENDER in page.text and "client@exemple.com" in page.text
    assert f'href="/messages/{second.message_id}"' in page.text

    detail = api.get(f"/messages/{first.message_id}")
    assert detail.status_code == 200
    assert "Veuillez trouver votre facture." in detail.text and "compta@exemple.com" in detail.text
    assert "<script>alert" not in detail.text  # the HTML body is never live in the page
    assert 'sandbox=""' in detail.text and "&lt;script&gt;alert(&#x27;x&#x27;)" in detail.text
    assert "script-src" not in detail.headers["content-security-policy"]

    pdf = api.get(f"/messages/{first.message_id}/attachments/0")
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="FA-2025-0001.pdf"' in pdf.headers["content-disposition"]
    csv = api.get(f"/messages/{first.message_id}/attachments/1")
    assert csv.content == CSV and csv.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''relev%C3%A9%20%C3%A9t%C3%A9.csv" in csv.headers["content-disposition"]
    assert api.get(f"/messages/{first.message_id}/attachments/2").status_code == 404
    assert api.get("/messages/inconnu").status_code == 404


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/sendgrid", _Receiver.received
    server.shutdown()
    server.server_close()


def test_signed_event_webhook_verifies_and_tampering_does_not(sandbox, api, gateway, receiver):
    url, received = receiver
    message_id = gateway.send(email()).message_id
    events = [{"sg_message_id": message_id, "event": event, "email": "client@exemple.com"}
              for event in ("delivered", "open", "bounce")]
    answer = api.post("/sandbox/event-webhook/send", json={"url": url, "events": events})
    assert answer.status_code == 200 and answer.json()["status"] == 200

    [(headers, body)] = received
    signature, timestamp = headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]
    public_key = api.get("/sandbox/event-webhook/public-key").json()["public_key"]
    assert public_key == sandbox.public_key
    assert verify_event_signature(public_key, body, signature, timestamp)
    assert EventWebhook(public_key).verify_signature(body.decode(), signature, timestamp)

    sent = json.loads(body)
    assert [e["event"] for e in sent] == ["delivered", "open", "bounce"]
    assert {e["sg_message_id"] for e in sent} == {message_id}
    assert len({e["sg_event_id"] for e in sent}) == 3
    assert all(e["timestamp"] == int(timestamp) and e["email"] == "client@exemple.com"
               for e in sent)

    tampered = body.replace(b'"delivered"', b'"bounce"')
    assert not verify_event_signature(public_key, tampered, signature, timestamp)
    assert not verify_event_signature(public_key, json.dumps(sent).encode(), signature, timestamp)
    assert not verify_event_signature(public_key, body, signature, str(int(timestamp) + 1))
    assert not verify_event_signature(public_key, body, "pas-une-signature", timestamp)
    assert not verify_event_signature("pas une clé", body, signature, timestamp)
    other_key = public_key_text(ec.generate_private_key(ec.SECP256R1()))
    assert not verify_event_signature(other_key, body, signature, timestamp)
