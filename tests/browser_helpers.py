"""Shared by the end-to-end suites (dev harness and production mode); no side effects."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
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
