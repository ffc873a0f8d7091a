"""SendGrid Event Webhook: POST /api/webhooks/sendgrid (delivered, bounce, open…).

The body is trusted only once its ECDSA signature checks out against the verification key
from the settings (SENDGRID_EVENT_PUBLIC_KEY); without a key, or with a bad signature, the
answer is 403 and nothing is read. Events are stored once each (sg_event_id) by
``services.emails.record_events``, in a worker thread, and the answer is 200.
"""

from __future__ import annotations

import asyncio
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simple_erp.config import get_settings
from simple_erp.db import get_engine, session_scope
from simple_erp.providers.email import verify_event_signature
from simple_erp.services import emails

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_BODY_BYTES = 5 * 1024 * 1024


def _public_key() -> str:
    return get_settings().sendgrid_event_public_key.strip()


def _record(events: list[dict]) -> int:
    with session_scope(get_engine()) as session:
        return emails.record_events(session, events)


async def sendgrid_events(request: Request) -> JSONResponse:
    public_key = _public_key()
    if not public_key:
        log.warning("SendGrid event refused: SENDGRID_EVENT_PUBLIC_KEY is not set")
        return JSONResponse({"error": "event webhook not configured"}, status_code=403)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not (signature and timestamp and verify_event_signature(public_key, body, signature, timestamp)):
        log.warning("SendGrid event refused: missing or invalid signature")
        return JSONResponse({"error": "invalid signature"}, status_code=403)
    try:
        events = json.loads(body)
    except ValueError:
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return JSONResponse({"error": "a JSON list of events is expected"}, status_code=400)
    recorded = await asyncio.to_thread(_record, events)
    return JSONResponse({"received": len(events), "recorded": recorded})


routes = [Route("/api/webhooks/sendgrid", sendgrid_events, methods=["POST"])]
