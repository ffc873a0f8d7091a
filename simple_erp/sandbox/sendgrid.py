"""Local SendGrid sandbox: v3 Mail Send, a test inbox (``/``) and a signed Event Webhook.

Answers what ``SendGridAPIClient(key, host=server.host)`` sends like SendGrid does: 202 +
``X-Message-Id``, or ``{"errors": [{message, field, help}]}`` (401 keys not starting with
``SG.``, 400 invalid bodies, 403 unverified senders). Test switches: ``POST /sandbox/senders``,
``/sandbox/fail-next``, ``/sandbox/reset``, ``GET|DELETE /sandbox/messages``,
``/sandbox/event-webhook/public-key`` and ``/send`` (events signed with ECDSA P-256/SHA-256 over
``timestamp + raw body``; the body ends with CRLF, as SendGrid's does; each event carries its
message's ``custom_args``, as SendGrid's do).
Run: ``python -m simple_erp.sandbox.sendgrid --port 8766``; in tests: ``start_in_thread()``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import html
import ipaddress
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_BODY_BYTES = 30 * 1024 * 1024  # SendGrid: 30 MB per message, attachments included
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
# SendGrid's own wording (docs' error list and captured answers); (message, help anchor).
_MSG = {
    "grant": ("The provided authorization grant is invalid, expired, or revoked", None),
    "unverified": ("The from address does not match a verified Sender Identity. Mail cannot be "
                   "sent until this error is resolved. Visit https://sendgrid.com/docs/for-"
                   "developers/sending-email/sender-identity/ to see the Sender Identity "
                   "requirements", None),
    "personalizations": ("The personalizations field is required and must have at least one "
                         "personalization.", "-Personalizations-Errors"),
    "to": ("The to parameter is required for all personalization objects.",
           "personalizations.to"),
    "list": ("The {kind} array, when used, must at least have an email parameter with a valid "
             "email address.", "personalizations"),
    "address": ("Does not contain a valid address.", "-Email-Address"),
    "duplicate": ("Each email address in the personalization block should be unique between to, "
                  "cc, and bcc. We found the first duplicate instance of [{email}] in the "
                  "personalizations.{i}.{kind} field.", "-Personalizations-Errors"),
    "from": ('The from object must be provided for every email send. It is an object that '
             'requires the email parameter, but may also contain a name parameter.  e.g. '
             '{"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : '
             '"Example Recipient"}.', "from"),
    "subject": ("The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject "
                "defined.", "subject"),
    "content": ("Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block. We typically suggest both "
                "text/plain and text/html blocks are included, but only one block is required.",
                "content"),
    "content_type": ("The content type must be provided for every content block.",
                     "content.type"),
    "content_value": ("The content value must be a string at least one character in length.",
                      "content.value"),
    "att_content": ("The attachment content is required.", "attachments.content"),
    "att_base64": ("The attachment content must be base64 encoded.", "attachments.content"),
    "att_filename": ("The attachment filename parameter is required.", "attachments.filename"),
}
_FAIL_MESSAGES = {400: "Bad Request", 401: "authorization required", 403: "access forbidden",
                  413: "Payload Too Large", 429: "too many requests",
                  500: "internal server error", 502: "bad gateway", 503: "service unavailable"}
_EVENT_DEFAULTS = {  # fields SendGrid adds per event type (besides email, timestamp, ids)
    "processed": {}, "deferred": {"response": "421 4.7.0 Try again later", "attempt": "1"},
    "delivered": {"response": "250 2.0.0 OK", "ip": "192.0.2.10", "tls": 1},
    "bounce": {"type": "bounce", "status": "5.1.1", "ip": "192.0.2.10",
               "reason": "550 5.1.1 The email account that you tried to reach does not exist."},
    "dropped": {"reason": "Bounced Address"}, "spamreport": {}, "unsubscribe": {},
    "open": {"useragent": "Mozilla/5.0", "ip": "198.51.100.7", "sg_machine_open": False},
    "click": {"useragent": "Mozilla/5.0", "ip": "198.51.100.7", "url": "https://example.com/"}}
_TEMPLATE = (Path(__file__).parent / "templates" / "sendgrid_inbox.html").read_text("utf-8")


def _err(key: str, field: str | None = None, **values) -> dict:
    message, anchor = _MSG[key] if key in _MSG else (key, None)
    return {"message": message.format(**values) if values else message, "field": field,
            "help": HELP + anchor if anchor else None}


def _errors(status: int, *errors: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"errors": list(errors)}, status_code=status, headers=headers)


def new_id() -> str:
    """An opaque 22-character id, shaped like SendGrid's X-Message-Id and sg_event_id."""
    return secrets.token_urlsafe(16)[:22]


@dataclass(frozen=True)
class StoredAttachment:
    filename: str
    type: str
    content: bytes
    disposition: str = "attachment"


@dataclass(frozen=True)
class StoredMessage:
    message_id: str
    from_email: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[StoredAttachment, ...]
    received_at: datetime
    raw: dict = field(repr=False, compare=False)

    def as_json(self) -> dict:
        attachments = [{"filename": a.filename, "type": a.type, "disposition": a.disposition,
                        "size": len(a.content),
                        "content_base64": base64.b64encode(a.content).decode()}
                       for a in self.attachments]
        return {"message_id": self.message_id, "from": {"email": self.from_email,
                                                        "name": self.from_name},
                "to": list(self.to), "cc": list(self.cc), "bcc": list(self.bcc),
                "subject": self.subject, "text": self.text, "html": self.html,
                "received_at": self.received_at.isoformat(), "attachments": attachments,
                "custom_args": _custom_args(self)}


class SandboxStore:
    """Messages and test switches, shared by the server thread and the tests (locked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[StoredMessage] = []
        self._unverified: set[str] = set()
        self._failures: list[int] = []
        self._delays: list[float] = []

    def add(self, message: StoredMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def messages(self) -> list[StoredMessage]:
        """Newest first."""
        with self._lock:
            return self._messages[::-1]

    def get(self, message_id: str) -> StoredMessage | None:
        return next((m for m in self.messages() if m.message_id == message_id), None)

    def reset(self, messages_only: bool = False) -> None:
        with self._lock:
            self._messages.clear()
            if not messages_only:
                self._unverified, self._failures, self._delays = set(), [], []

    def set_unverified(self, emails: list[str]) -> None:
        with self._lock:
            self._unverified = {e.strip().lower() for e in emails}

    def is_verified(self, email: str) -> bool:
        with self._lock:
            return email.strip().lower() not in self._unverified

    def fail_next(self, status: int | None, delay: float | None, count: int) -> None:
        with self._lock:
            self._failures += [status] * count if status is not None else []
            self._delays += [delay] * count if delay is not None else []

    def pop_switches(self) -> tuple[int | None, float]:
        """(status the next send fails with, or None; seconds it waits first)."""
        with self._lock:
            return (self._failures.pop(0) if self._failures else None,
                    self._delays.pop(0) if self._delays else 0.0)


def _addresses(items, path: str, errors: list[dict], required: bool = False) -> list[str]:
    if items is None and not required:
        return []
    if not isinstance(items, list) or not items:
        errors.append(_err("to", path) if required
                      else _err("list", path, kind=path.rsplit(".", 1)[-1]))
        return []
    found = []
    for j, item in enumerate(items):
        email = item.get("email") if isinstance(item, dict) else None
        if isinstance(email, str) and _EMAIL.match(email.strip()):
            found.append(email.strip())
        else:
            errors.append(_err("address", f"{path}.{j}.email"))
    return found


def _attachment(att, i: int, errors: list[dict]) -> StoredAttachment | None:
    att, data = att if isinstance(att, dict) else {}, None
    if not isinstance(att.get("content"), str) or not att["content"]:
        errors.append(_err("att_content", f"attachments.{i}.content"))
    else:
        try:
            data = base64.b64decode(re.sub(r"[\r\n]", "", att["content"]), validate=True)
        except (binascii.Error, ValueError):
            errors.append(_err("att_base64", f"attachments.{i}.content"))
    if not isinstance(att.get("filename"), str) or not att["filename"].strip():
        errors.append(_err("att_filename", f"attachments.{i}.filename"))
        return None
    if data is None:
        return None
    return StoredAttachment(att["filename"], att.get("type") or "application/octet-stream", data,
                            att.get("disposition") or "attachment")


def validate_mail(body) -> tuple[list[dict], dict]:
    """SendGrid's checks on a Mail Send body: (errors, parsed recipients/subject/attachments)."""
    errors: list[dict] = []
    parsed: dict = {"to": [], "cc": [], "bcc": [], "subject": "", "attachments": []}
    if not isinstance(body, dict):
        return [_err("Bad Request")], parsed
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(_err("personalizations", "personalizations"))
        personalizations = []
    for i, p in enumerate(personalizations):
        p, seen = p if isinstance(p, dict) else {}, set()
        for kind in ("to", "cc", "bcc"):
            for email in _addresses(p.get(kind), f"personalizations.{i}.{kind}", errors,
                                    required=kind == "to"):
                if email.lower() in seen:
                    errors.append(_err("duplicate", f"personalizations.{i}", email=email, i=i,
                                       kind=kind))
                seen.add(email.lower())
                parsed[kind].append(email)
        parsed["subject"] = parsed["subject"] or p.get("subject") or body.get("subject") or ""
    sender = body.get("from")
    email = sender.get("email") if isinstance(sender, dict) else None
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        errors.append(_err("from", "from.email"))
    template = bool(body.get("template_id"))
    if not template and not body.get("subject") and not (personalizations and all(
            isinstance(p, dict) and p.get("subject") for p in personalizations)):
        errors.append(_err("subject", "subject"))
    content = body.get("content")
    if not template and (not isinstance(content, list) or not content):
        errors.append(_err("content", "content"))
    for i, block in enumerate(content if isinstance(content, list) else []):
        block = block if isinstance(block, dict) else {}
        if not isinstance(block.get("type"), str) or not block["type"]:
            errors.append(_err("content_type", f"content.{i}.type"))
        if not isinstance(block.get("value"), str) or not block["value"]:
            errors.append(_err("content_value", f"content.{i}.value"))
    attachments = body.get("attachments") or []
    for i, att in enumerate(attachments if isinstance(attachments, list) else [None]):
        parsed["attachments"].append(_attachment(att, i, errors))
    return errors, parsed


async def mail_send(request: Request) -> Response:
    store: SandboxStore = request.app.state.store
    forced, delay = store.pop_switches()
    too_big = int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES
    raw = b"" if too_big else await request.body()  # received before a slow answer: may still be accepted
    if delay:
        await asyncio.sleep(delay)
    if forced:
        headers = ({"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + 60)} if forced == 429 else None)
        return _errors(forced, _err(_FAIL_MESSAGES.get(forced, "error")), headers=headers)
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if not scheme:
        return _errors(401, _err("authorization required"))
    if scheme.lower() != "bearer" or not key.strip().startswith("SG."):
        return _errors(401, _err("grant"))
    if too_big:
        return _errors(413, _err("Payload Too Large"))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _errors(400, _err("Bad Request"))
    errors, parsed = validate_mail(body)
    if errors:
        return _errors(400, *errors)
    sender = body["from"]
    if not store.is_verified(sender["email"]):
        return _errors(403, _err("unverified", "from"))
    blocks = {b["type"]: b["value"] for b in body.get("content") or []}
    message_id = new_id()
    store.add(StoredMessage(
        message_id, sender["email"].strip(), sender.get("name") or "", tuple(parsed["to"]),
        tuple(parsed["cc"]), tuple(parsed["bcc"]), parsed["subject"],
        blocks.get("text/plain", ""), blocks.get("text/html", ""), tuple(parsed["attachments"]),
        datetime.now(timezone.utc), body))
    return Response(status_code=202, headers={"X-Message-Id": message_id})


# --- Control endpoints (tests) ------------------------------------------------------------------

async def _json(request: Request) -> dict:
    try:
        data = await request.json()
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def set_senders(request: Request) -> Response:
    unverified = (await _json(request)).get("unverified", [])
    if not isinstance(unverified, list) or not all(isinstance(e, str) for e in unverified):
        return _bad("unverified: list of e-mail addresses expected")
    request.app.state.store.set_unverified(unverified)
    return JSONResponse({"unverified": sorted({e.strip().lower() for e in unverified})})


async def fail_next(request: Request) -> Response:
    data = await _json(request)
    status, delay, count = data.get("status"), data.get("delay"), data.get("count", 1)
    if not (isinstance(count, int) and count >= 0 and (status, delay) != (None, None)
            and (status is None or isinstance(status, int) and 400 <= status <= 599)
            and (delay is None or isinstance(delay, (int, float)) and delay >= 0)):
        return _bad('expected {"status": 400-599 and/or "delay": seconds, "count": n >= 0}')
    request.app.state.store.fail_next(status, None if delay is None else float(delay), count)
    return JSONResponse({"status": status, "delay": delay, "count": count})


async def messages_api(request: Request) -> Response:
    store: SandboxStore = request.app.state.store
    if request.method == "GET":
        return JSONResponse({"messages": [m.as_json() for m in store.messages()]})
    store.reset(messages_only=request.method == "DELETE")
    return Response(status_code=204)


async def public_key(request: Request) -> Response:
    return JSONResponse({"public_key": request.app.state.public_key})


def sign_payload(private_key: ec.EllipticCurvePrivateKey, timestamp: str, payload: bytes) -> str:
    """SendGrid's Event Webhook signature: base64(DER ECDSA-SHA256 over timestamp + payload)."""
    signature = private_key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def _custom_args(message: StoredMessage | None) -> dict:
    """The message's custom arguments, which SendGrid repeats in each of its events."""
    if message is None:
        return {}
    args = dict(message.raw.get("custom_args") or {})
    for personalization in message.raw.get("personalizations") or []:
        if isinstance(personalization, dict):
            args.update(personalization.get("custom_args") or {})
    return {str(k): str(v) for k, v in args.items()}


async def webhook_send(request: Request) -> Response:
    data = await _json(request)
    url, events = data.get("url"), data.get("events")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        return _bad("url: http(s) URL expected")
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        return _bad("events: non-empty list of objects expected")
    now, payload_events = int(time.time()), []
    for event in events:
        if event.get("event") not in _EVENT_DEFAULTS:
            return _bad(f"event: one of {sorted(_EVENT_DEFAULTS)} expected")
        message_id = str(event.get("sg_message_id") or new_id())
        payload_events.append({
            "email": "", "smtp-id": f"<{message_id.split('.')[0]}@sandbox.sendgrid.local>",
            "category": [], **_EVENT_DEFAULTS[event["event"]],
            **_custom_args(request.app.state.store.get(message_id.split(".")[0])), **event,
            "sg_event_id": new_id(), "sg_message_id": message_id, "timestamp": now})
    payload = (json.dumps(payload_events, ensure_ascii=False, separators=(",", ":")) + "\r\n")
    payload_bytes, timestamp = payload.encode(), str(now)
    signature = sign_payload(request.app.state.private_key, timestamp, payload_bytes)
    headers = {"Content-Type": "application/json", "User-Agent": "SendGrid Event API",
               SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: timestamp}
    try:  # proxies from the environment, except for loopback targets
        host = urlsplit(url).hostname or ""
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    try:
        async with httpx.AsyncClient(timeout=10.0, trust_env=not loopback) as client:
            answer = await client.post(url, content=payload_bytes, headers=headers)
    except httpx.HTTPError as exc:
        return JSONResponse({"error": f"POST {url} failed: {exc!r}"}, status_code=502)
    return JSONResponse({"status": answer.status_code, "events": payload_events,
                         "timestamp": timestamp, "signature": signature, "payload": payload})


# --- Test inbox (HTML, French) ------------------------------------------------------------------

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; "
        "base-uri 'none'; form-action 'none'")
_BACK = '<p><a href="/">← Boîte de réception</a></p>'


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    parts = {"title": html.escape(title), "body": body}
    page = re.sub(r"\{\{(title|body)\}\}", lambda match: parts[match[1]], _TEMPLATE)
    return HTMLResponse(page, status_code=status, headers={
        "Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


PARIS = ZoneInfo("Europe/Paris")  # the app shows Paris time: so does its test inbox


def _when(message: StoredMessage) -> str:
    """When the sandbox received it, in Paris time (as the app shows times)."""
    return message.received_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


async def inbox(request: Request) -> Response:
    messages, e = request.app.state.store.messages(), html.escape
    rows = "".join(
        f'<tr><td>{_when(m)}</td><td>{e(m.from_email)}</td><td>{e(", ".join(m.to))}</td>'
        f'<td><a href="/messages/{quote(m.message_id)}">{e(m.subject) or "(sans objet)"}</a></td>'
        f"<td>{len(m.attachments) or ''}</td></tr>" for m in messages)
    table = ("<table><thead><tr><th>Date (heure de Paris)</th><th>De</th><th>À</th><th>Objet</th><th>PJ</th></tr>"
             f"</thead><tbody>{rows}</tbody></table>")
    return _page("Boîte de réception de test", (
        f"<p>{len(messages)} message{'s' if len(messages) > 1 else ''} reçu{'s' if len(messages) > 1 else ''}, du plus récent au plus ancien ; rien n'est "
        "réellement envoyé.</p>" + (table if messages
                                     else "<p class='empty'>Aucun message reçu pour l'instant.</p>")))


async def message_page(request: Request) -> Response:
    m, e = request.app.state.store.get(request.path_params["message_id"]), html.escape
    if m is None:
        return _page("Message introuvable", _BACK, 404)
    sender = f"{e(m.from_name)} &lt;{e(m.from_email)}&gt;" if m.from_name else e(m.from_email)
    meta = [("De", sender), ("À", e(", ".join(m.to))), ("Cc", e(", ".join(m.cc))),
            ("Cci", e(", ".join(m.bcc))), ("Objet", e(m.subject)), ("Reçu le (heure de Paris)", _when(m)),
            ("X-Message-Id", f"<code>{e(m.message_id)}</code>")]
    body = (_BACK + '<table class="meta">' + "".join(
        f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in meta if v) + "</table>"
            f"<h2>Texte</h2><pre>{e(m.text) or '(aucun)'}</pre>")
    if m.html:  # rendered in a sandboxed iframe (no scripts, opaque origin), and as source
        body += (f'<h2>HTML</h2><iframe sandbox="" referrerpolicy="no-referrer" title="Corps HTML"'
                 f' srcdoc="{e(m.html, quote=True)}"></iframe>'
                 f"<details><summary>Source HTML</summary><pre>{e(m.html)}</pre></details>")
    files = "".join(
        f'<li><a href="/messages/{quote(m.message_id)}/attachments/{n}">{e(a.filename)}</a> '
        f"({e(a.type)}, {len(a.content)} octets)</li>" for n, a in enumerate(m.attachments))
    return _page(m.subject or "(sans objet)",
                 body + (f"<h2>Pièces jointes</h2><ul>{files}</ul>" if files else ""))


async def attachment_download(request: Request) -> Response:
    m = request.app.state.store.get(request.path_params["message_id"])
    n = request.path_params["n"]
    if m is None or not 0 <= n < len(m.attachments):
        return _page("Pièce jointe introuvable", _BACK, 404)
    att = m.attachments[n]
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", att.filename)
    return Response(att.content, media_type=att.type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(att.filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


# --- App and server -----------------------------------------------------------------------------

def public_key_text(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo."""
    return base64.b64encode(private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


def _load_key(private_key) -> ec.EllipticCurvePrivateKey:
    if private_key is None:
        return ec.generate_private_key(ec.SECP256R1())
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        private_key = serialization.load_pem_private_key(
            private_key.encode() if isinstance(private_key, str) else private_key, password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or (
            private_key.curve.name != "secp256r1"):
        raise ValueError("an ECDSA P-256 private key is expected")
    return private_key


def create_app(private_key=None, store: SandboxStore | None = None) -> Starlette:
    """The sandbox app; ``private_key``: an EC P-256 key or its PEM (default: a fresh one)."""
    app = Starlette(routes=[
        Route("/v3/mail/send", mail_send, methods=["POST"]),
        Route("/sandbox/senders", set_senders, methods=["POST"]),
        Route("/sandbox/fail-next", fail_next, methods=["POST"]),
        Route("/sandbox/messages", messages_api, methods=["GET", "DELETE"]),
        Route("/sandbox/reset", messages_api, methods=["POST"]),
        Route("/sandbox/event-webhook/public-key", public_key, methods=["GET"]),
        Route("/sandbox/event-webhook/send", webhook_send, methods=["POST"]),
        Route("/", inbox, methods=["GET"]),
        Route("/messages/{message_id}", message_page, methods=["GET"]),
        Route("/messages/{message_id}/attachments/{n:int}", attachment_download, methods=["GET"]),
    ])
    app.state.store = store or SandboxStore()
    app.state.private_key = _load_key(private_key)
    app.state.public_key = public_key_text(app.state.private_key)
    return app


class SandboxServer:
    """A sandbox served by uvicorn in a daemon thread (see ``start_in_thread``)."""

    def __init__(self, app: Starlette, server: uvicorn.Server, thread: threading.Thread, port: int):
        self.app, self._server, self._thread, self.port = app, server, thread, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.host = self.base_url  # for SendGridAPIClient(key, host=...), which appends /v3/...
        self.public_key: str = app.state.public_key
        self.store: SandboxStore = app.state.store

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def start_in_thread(port: int = 0, private_key=None) -> SandboxServer:
    """Serve a new sandbox on 127.0.0.1:``port`` (0: any free port); returns once it listens."""
    app = create_app(private_key)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           access_log=False, timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="sendgrid-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the SendGrid sandbox did not start")
        time.sleep(0.01)
    return SandboxServer(app, server, thread, sock.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SendGrid sandbox (v3 Mail Send).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--private-key-file", type=Path,
                        help="PEM EC P-256 key signing the Event Webhook (default: a fresh one)")
    args = parser.parse_args(argv)
    app = create_app(args.private_key_file.read_bytes() if args.private_key_file else None)
    print(f"SendGrid sandbox: http://{args.host}:{args.port}/ (also the SendGridAPIClient host)")
    print(f"Event Webhook verification key: {app.state.public_key}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
