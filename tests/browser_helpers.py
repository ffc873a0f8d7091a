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
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r".*/contacts$"))
