"""End-to-end fixtures: the real app (reflex AppHarness, dev mode) in Chromium.

One harness and one Playwright per pytest process. The app runs on a fresh SQLite
file unless E2E_DATABASE_URL is set. Run this folder in its own pytest invocation.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="simple_erp_e2e_"))
os.environ["DATABASE_URL"] = os.environ.get("E2E_DATABASE_URL") or f"sqlite:///{_TMP / 'e2e.db'}"
os.environ["SIMPLE_ERP_DATA_DIR"] = str(_TMP)

import pytest  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ADMIN = {"email": "admin@exemple.fr", "name": "Alice Martin", "password": "motdepasse-solide"}

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
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, base_url: str, request) -> Page:
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        out = PROJECT_ROOT / "test-artifacts"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def db_session():
    from simple_erp.db import session_scope

    return session_scope()


def ensure_admin() -> None:
    """The known admin account exists (created through the service when missing)."""
    from simple_erp.services import auth

    with db_session() as session:
        if not auth.has_any_user(session):
            auth.create_first_admin(session, ADMIN["email"], ADMIN["name"], ADMIN["password"])


def sign_in(page: Page, email: str = ADMIN["email"], password: str = ADMIN["password"]) -> None:
    ensure_admin()
    page.goto("/connexion")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r".*/contacts$"))


@pytest.fixture
def signed_in(page: Page) -> Page:
    sign_in(page)
    return page
