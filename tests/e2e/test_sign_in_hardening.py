"""Sign-in hardening in the browser: five wrong passwords lock the account (the right
one is refused with the French message) until the lock passes (8 s here, set by
tests/e2e/conftest.py), then the owner signs in and is told of the failures; an
administrator deactivates a user, whose open session ends at once."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Page, expect

from tests.browser_helpers import db_session, ensure_admin, sign_in, sign_out, toast

PASSWORD = "Brioche-Tressee-2026"
LOCKED = re.compile(r"Trop de tentatives : réessayez dans \d+ minutes?\.")


def _new_user(name: str = "Paul Durand") -> str:
    from simple_erp.services import auth

    email = f"paul-{uuid.uuid4().hex[:6]}@exemple.fr"
    ensure_admin()
    with db_session() as session:
        auth.create_user(session, email, name, PASSWORD, is_admin=False)
    return email


def _try(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()


def test_five_wrong_passwords_lock_the_account_until_the_delay_passes(page: Page):
    email = _new_user()
    page.goto("/connexion")
    for i in range(5):
        _try(page, email, f"Pas-le-bon-{i}-2024")
        expect(page.get_by_text("Email ou mot de passe incorrect.")).to_be_visible()
        page.get_by_label("Mot de passe", exact=True).fill("")  # the next message is a new one
    _try(page, email, PASSWORD)
    expect(page.get_by_text(LOCKED)).to_be_visible()
    expect(page).to_have_url(re.compile(r".*/connexion$"))
    # An unknown email locked the same way gets the same message.
    for i in range(6):  # five failures, then the sixth attempt is refused
        _try(page, "personne@exemple.fr", f"Pas-le-bon-{i}-2024")
    expect(page.get_by_text(LOCKED)).to_be_visible()

    deadline = time.monotonic() + 30
    while True:
        _try(page, email, PASSWORD)
        try:
            expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"), timeout=2_000)
            break
        except AssertionError:
            expect(page.get_by_text(LOCKED)).to_be_visible()  # still locked, never another message
            assert time.monotonic() < deadline, "the lock never passed"
            time.sleep(1)
    toast(page, "5 tentatives de connexion échouées depuis votre dernière connexion.")
    expect(page.locator("#user-menu")).to_contain_text("Paul Durand")


def test_an_administrator_deactivates_a_user_whose_session_ends(page: Page, browser, base_url):
    from tests.browser_helpers import french_page

    email = _new_user("Lucie Vendeuse")
    with french_page(browser, base_url) as other:
        sign_in(other, email, PASSWORD)  # the user is signed in elsewhere
        sign_in(page)  # the administrator
        page.goto("/admin-crm")
        row = page.get_by_role("row").filter(has_text=email)
        row.get_by_role("button", name="Désactiver").click()
        toast(page, "Lucie Vendeuse est désactivé : ses sessions sont fermées.")
        expect(row.get_by_role("button", name="Réactiver")).to_be_visible()
        other.goto("/contacts")
        expect(other).to_have_url(re.compile(r".*/connexion$"))
        _try(other, email, PASSWORD)
        expect(other.get_by_text("Email ou mot de passe incorrect.")).to_be_visible()
        row.get_by_role("button", name="Réactiver").click()
        expect(row.get_by_role("button", name="Désactiver")).to_be_visible()
        sign_out(page)
        sign_in(other, email, PASSWORD)


def test_sign_out_of_all_devices_from_my_profile(page: Page, browser, base_url):
    from tests.browser_helpers import french_page

    email = _new_user("Marc Livreur")
    with french_page(browser, base_url) as other:
        sign_in(other, email, PASSWORD)
        sign_in(page, email, PASSWORD)
        page.goto("/profil")
        page.get_by_role("button", name="Se déconnecter de tous les appareils").click()
        expect(page).to_have_url(re.compile(r".*/connexion$"))
        toast(page, "Vous êtes déconnecté de tous les appareils.")
        other.goto("/contacts")
        expect(other).to_have_url(re.compile(r".*/connexion$"))
