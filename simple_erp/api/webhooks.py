"""Mollie webhook route and the periodic reconciliation task.

``POST /api/webhooks/mollie`` (DESIGN.md, convention 5): the body is never trusted, only
its ``id`` (form ``id=tr_…`` as Mollie sends it, or JSON ``{"id": "tr_…"}``) is read;
``services.mollie.payments.sync_from_provider`` fetches the payment from Mollie with its
company's key and applies its status, in a worker thread (the event loop never waits on
the database or on Mollie). Answers:

* 200 "OK": applied, unchanged, ignored (logged: foreign payment, refused move, unknown
  Mollie status) and unknown ids (Mollie must not retry what it cannot fix);
* 400: no id, or not a Mollie payment id (``tr_…``), or an unreadable body;
* 413: a body over 4 KiB (declared, or counted as it arrives: the rest is never read);
* 503: Mollie could not be reached (timeout, 5xx, 429): Mollie retries later;
* 500: anything unexpected (the database down…), logged; Mollie retries too.

Unknown Mollie statuses answer 200 (logged as errors, the error kept on the payment):
retrying cannot fix a status the code does not know, and the reconciliation fetches the
payment again once the code knows it.

``routes`` is mounted by ``simple_erp.api.app``; ``reconcile_loop`` is registered as a
lifespan task of the Reflex app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from simple_erp import db
from simple_erp.api.limits import BodyTooLarge, read_body, too_large
from simple_erp.providers.mollie import MollieError
from simple_erp.services.mollie import payments as mollie_payments

logger = logging.getLogger(__name__)

WEBHOOK_PATH = mollie_payments.WEBHOOK_PATH
PAYMENT_ID_RE = re.compile(r"tr_\w{1,64}", re.ASCII)  # fullmatch
MAX_BODY_BYTES = 4096


def _default_session_factory():
    return db.session_scope()  # looked up at call time (tests may point db at another engine)


def _payment_id(body: bytes, content_type: str) -> str | None:
    """The ``id`` of a webhook body, or None when missing or malformed."""
    if not body or len(body) > MAX_BODY_BYTES:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    value: object = None
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        value = data.get("id") if isinstance(data, dict) else None
    else:
        try:
            values = parse_qs(text, strict_parsing=True, max_num_fields=20).get("id", [])
        except ValueError:
            return None
        if len(set(values)) == 1:
            value = values[0]
    if isinstance(value, str) and PAYMENT_ID_RE.fullmatch(value):
        return value
    return None


def make_webhook_handler(session_factory: Callable | None = None):
    """The webhook endpoint, with another session factory for tests and benchmarks."""
    factory = session_factory or _default_session_factory

    async def mollie_webhook(request: Request) -> Response:
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return too_large()
        payment_id = _payment_id(body, request.headers.get("content-type", ""))
        if payment_id is None:
            return PlainTextResponse("Requête invalide : identifiant de paiement Mollie attendu.", status_code=400)
        try:
            outcome = await anyio.to_thread.run_sync(mollie_payments.sync_from_provider, factory, payment_id,
                                                     "webhook")
        except MollieError as err:  # retryable only (the service handles the others)
            logger.warning("Mollie webhook %s: Mollie unreachable (%s): answering 503", payment_id, err.message)
            return PlainTextResponse("Mollie injoignable : réessayez plus tard.", status_code=503)
        except Exception:  # noqa: BLE001 - Mollie retries on a 500
            logger.exception("Mollie webhook %s failed", payment_id)
            return PlainTextResponse("Erreur interne.", status_code=500)
        logger.info("Mollie webhook %s: %s", payment_id, outcome)
        return PlainTextResponse("OK")

    return mollie_webhook


def make_routes(session_factory: Callable | None = None) -> list[Route]:
    return [Route(WEBHOOK_PATH, make_webhook_handler(session_factory), methods=["POST"])]


routes: list[Route] = make_routes()


async def reconcile_loop(interval_seconds: float = 300.0, older_than: timedelta = timedelta(minutes=5),
                         first_delay_seconds: float = 30.0) -> None:
    """Lifespan task: every ``interval_seconds``, fetch again the Mollie payments still in
    flight (``mollie_payments.reconcile``, in a thread; one worker at a time on
    PostgreSQL). Errors are logged, never raised: the loop goes on until cancelled."""
    await asyncio.sleep(first_delay_seconds)
    while True:
        try:
            counts = await anyio.to_thread.run_sync(mollie_payments.reconcile, _default_session_factory,
                                                    older_than, abandon_on_cancel=True)
            if counts.get("checked") or counts.get("errors"):
                logger.info("Mollie reconciliation: %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive
            logger.exception("Mollie reconciliation failed")
        await asyncio.sleep(interval_seconds)
