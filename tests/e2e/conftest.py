"""End-to-end fixtures: the real app (reflex AppHarness, dev mode) in Chromium.

One harness and one Playwright per pytest process. The app runs on a fresh SQLite
file unless E2E_DATABASE_URL is set. Run this folder in its own pytest invocation.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="simple_erp_e2e_"))
os.environ["DATABASE_URL"] = os.environ.get("E2E_DATABASE_URL") or f"sqlite:///{_TMP / 'e2e.db'}"
os.environ["SIMPLE_ERP_DATA_DIR"] = str(_TMP)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

# The local Mollie and SendGrid stand-ins, over real HTTP, as `make run` uses them.
from simple_erp.sandbox import mollie as _mollie_sandbox, sendgrid as _sendgrid_sandbox  # noqa: E402

MOLLIE = _mollie_sandbox.start_in_thread()
SENDGRID = _sendgrid_sandbox.start_in_thread()
os.environ.update({
    "MOLLIE_API_ENDPOINT": MOLLIE.api_endpoint, "MOLLIE_SANDBOX": "1",
    "SENDGRID_HOST": SENDGRID.host, "SENDGRID_SANDBOX": "1",
    # The sandbox signs its events; a short wait for SendGrid's answer (uncertain sends).
    "SENDGRID_EVENT_PUBLIC_KEY": SENDGRID.public_key, "SENDGRID_TIMEOUT": "5",
    # Sign-in throttling: a short lock so that test_sign_in_hardening waits it out.
    "SIMPLE_ERP_SIGNIN_LOCK_SECONDS": "8",
    # Relances: off, so that no reminder lands in another test's inbox; test_reminders
    # switches the scheduler on for its own run.
    "SIMPLE_ERP_REMINDER_INTERVAL_SECONDS": "0",
})

import pytest  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.browser_helpers import ADMIN, chromium, db_session, ensure_admin, french_page, sign_in  # noqa: E402,F401

PROJECT_ROOT = Path(__file__).resolve().parents[2]
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def harness():
    from reflex.testing import AppHarness

    app = AppHarness.create(root=PROJECT_ROOT, app_name="simple_erp")
    app.start()
    yield app
    app.stop()


@pytest.fixture(scope="session")
def base_url(harness) -> str:
    return harness.frontend_url.rstrip("/")


@pytest.fixture(scope="session")
def backend_url(harness) -> str:
    from reflex.config import get_config

    return get_config().api_url.rstrip("/")


@pytest.fixture(scope="session")
def browser() -> Browser:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, base_url: str, request) -> Page:
    with french_page(browser, base_url, request) as page:
        yield page


@pytest.fixture
def signed_in(page: Page) -> Page:
    sign_in(page)
    return page
