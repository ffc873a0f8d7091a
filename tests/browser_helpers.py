"""Shared by the end-to-end suites (dev harness and production mode); no side effects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def french_page(browser: Browser, base_url: str, request=None, width: int = 1280) -> Iterator[Page]:
    """A page in a fresh fr-FR context; when ``request``'s test failed, a full-page
    screenshot goes to test-artifacts/ (the root conftest records each phase's report)."""
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        yield page
        report = getattr(request.node, "rep_call", None) if request is not None else None
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


ADMIN = {"email": "admin@exemple.fr", "name": "Alice Martin", "password": "motdepasse-solide"}


def db_session():
    from simple_erp.db import session_scope

    return session_scope()


def ensure_admin() -> None:
    """The known admin account exists (created through the service when missing)."""
    from simple_erp.services import auth

    with db_session() as session:
        if not auth.has_any_user(session):
            auth.create_first_admin(session, ADMIN["email"], ADMIN["name"], ADMIN["password"])


def ensure_default_company() -> None:
    """A société émettrice at the normal VAT regime exists before a test adds its own: the
    first company saved becomes the default one, and a franchise default would take the
    VAT off the invoices of the tests that run after in the same database."""
    from simple_erp.services import companies

    with db_session() as session:
        if not companies.list_companies(session):
            companies.save_company(session, None, {"name": "Société Principale", "vat_regime": "normal"})


def sign_in(page: Page, email: str = ADMIN["email"], password: str = ADMIN["password"]) -> None:
    ensure_admin()
    page.goto("/connexion")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))


def sign_out(page: Page) -> None:
    """User menu → « Se déconnecter » (retried: a re-render may close the menu)."""
    for _ in range(3):
        page.locator("#user-menu").click()
        item = page.get_by_role("menuitem", name="Se déconnecter")
        try:
            item.click(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - the menu closed under us: open it again
            page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r".*/connexion$"))


def toast(page: Page, text: str) -> None:
    """A toast with this text is shown (the newest, when several match)."""
    expect(page.get_by_text(text).last).to_be_visible()
