"""Relances: the scheduler, as a lifespan task of every backend worker.

Every ``SIMPLE_ERP_REMINDER_INTERVAL_SECONDS`` (default 900; 0 switches it off) each
worker calls ``run_due`` (the first time one interval after it starts): on PostgreSQL an advisory lock lets one worker run at a time
(the others skip that round), and in any case the reminder rows' unique (invoice, step)
and the claim under the invoice's lock send each reminder once, across workers and
restarts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import anyio

from simple_erp.services.reminders.sending import run_due

log = logging.getLogger(__name__)
ENV_INTERVAL = "SIMPLE_ERP_REMINDER_INTERVAL_SECONDS"
DEFAULT_INTERVAL = 900.0
_TICK_SECONDS = 1.0


def interval_seconds() -> float:
    """The scheduler's interval from the environment (bad values: the default)."""
    raw = os.environ.get(ENV_INTERVAL, "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number: %s s used", ENV_INTERVAL, raw, DEFAULT_INTERVAL)
        return DEFAULT_INTERVAL
    return max(value, 0.0)


def _public_base() -> str:
    try:
        from simple_erp.state.urls import app_urls  # the app's own address (links in e-mails)
        return app_urls().public_base
    except Exception:  # noqa: BLE001 - no link rather than no reminder
        log.exception("public URL unknown: reminders without payment link")
        return ""


def _run_once() -> dict[str, int]:
    from simple_erp import db
    return run_due(db.session_scope, public_base=_public_base())


async def reminder_loop() -> None:
    """Lifespan task: run the scheduler once per interval (the first run one interval after
    start); errors are logged, never raised. The interval is read again every second, so
    a test can switch the scheduler on and off (0) while the app runs."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(_TICK_SECONDS)
        interval = interval_seconds()
        if interval <= 0 or time.monotonic() - last < interval:
            continue
        last = time.monotonic()
        try:
            counts = await anyio.to_thread.run_sync(_run_once, abandon_on_cancel=True)
            if counts.get("sent") or counts.get("failed") or counts.get("resumed"):
                log.info("reminders: %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive
            log.exception("reminder scheduler failed")
        last = time.monotonic()
