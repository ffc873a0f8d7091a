"""SendGrid Event Webhook: POST /api/webhooks/sendgrid (delivered, bounce, open…).

The body is trusted only once its ECDSA signature checks out against the verification key
from the settings (SENDGRID_EVENT_PUBLIC_KEY); without a key, or with a bad signature, the
answer is 403 and nothing is read. A signed post whose signed timestamp
(X-Twilio-Email-Event-Webhook-Timestamp) is older than SENDGRID_EVENT_MAX_AGE_SECONDS
(10 minutes by default) or more than FUTURE_SKEW_SECONDS ahead is a replay: 403, nothing
stored (SendGrid signs each delivery, retries included, when it sends it). The body is
read up to MAX_BODY_BYTES and no further (413). Events are stored once each (sg_event_id) by
``services.emails.record_events``, in a worker thread, and the answer is 200.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simple_erp.api.limits import BodyTooLarge, read_body, too_large
from simple_erp.config import get_settings
from simple_erp.db import get_engine, session_scope
from simple_erp.providers.email import verify_event_signature
from simple_erp.services import emails

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_BODY_BYTES = 5 * 1024 * 1024
FUTURE_SKEW_SECONDS = 120  # clocks a little ahead of ours are not replays


def _now() -> float:
    return time.time()


def signed_recently(timestamp: str, now: float | None = None) -> bool:
    """Whether a signed timestamp (Unix seconds) is within the accepted age."""
    try:
        signed_at = int(timestamp.strip())
    except ValueError:
        return False
    age = (_now() if now is None else now) - signed_at
    return -FUTURE_SKEW_SECONDS <= age <= get_settings().sendgrid_event_max_age_seconds


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
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not (signature and timestamp):  # unsigned: refused before reading the body
        log.warning("SendGrid event refused: no signature")
        return JSONResponse({"error": "invalid signature"}, status_code=403)
    try:
        body = await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge:
        return too_large()
    if not verify_event_signature(public_key, body, signature, timestamp):
        log.warning("SendGrid event refused: missing or invalid signature")
        return JSONResponse({"error": "invalid signature"}, status_code=403)
    if not signed_recently(timestamp):
        log.warning("SendGrid event refused: signed timestamp %r out of the accepted age (replay?)", timestamp[:20])
        return JSONResponse({"error": "stale timestamp"}, status_code=403)
    try:
        events = json.loads(body)
    except ValueError:
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return JSONResponse({"error": "a JSON list of events is expected"}, status_code=400)
    recorded = await asyncio.to_thread(_record, events)
    return JSONResponse({"received": len(events), "recorded": recorded})


routes = [Route("/api/webhooks/sendgrid", sendgrid_events, methods=["POST"])]
