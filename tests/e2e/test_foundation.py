"""The foundation flows, clicked through in Chromium."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import delete, func, select

from tests.browser_helpers import ADMIN, db_session, ensure_admin, sign_in, sign_out

pytestmark = pytest.mark.e2e

VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"


def _contact_count(**filters) -> int:
    from simple_erp.models import Contact

    with db_session() as session:
        query = select(func.count()).select_from(Contact)
        for key, value in filters.items():
            query = query.where(getattr(Contact, key) == value)
        return session.exec(query).one()


def test_first_admin_is_created_from_the_welcome_page(page: Page):
    from simple_erp.models import User, UserSession

    with db_session() as session:  # an empty installation
        session.exec(delete(UserSession))
        session.exec(delete(User))
    page.goto("/")
    expect(page.get_by_role("heading", name="Créer le compte administrateur")).to_be_visible()
    page.get_by_label("Nom complet", exact=True).fill(ADMIN["name"])
    page.get_by_label("Email", exact=True).fill(ADMIN["email"])
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmer le mot de passe", exact=True).fill("court")
    page.get_by_role("button", name="Créer le compte administrateur").click()
    expect(page.get_by_text("Le mot de passe doit contenir au moins 10 caractères.")).to_be_visible()
    page.get_by_label("Mot de passe", exact=True).fill(ADMIN["password"])
    page.get_by_label("Confirmer le mot de passe", exact=True).fill(ADMIN["password"])
    page.get_by_role("button", name="Créer le compte administrateur").click()
    expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))
    expect(page.locator("#user-menu")).to_contain_text(ADMIN["name"])
    # Once an account exists, the welcome page sends the signed-in user home...
    page.goto("/installation")
    expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()
    # ...and anyone else to the sign-in page; the admin form is never shown again.
    sign_out(page)
    page.goto("/installation")
    expect(page).to_have_url(re.compile(r".*/connexion$"))
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    expect(page.get_by_role("heading", name="Créer le compte administrateur")).to_have_count(0)


def test_sign_in_rejects_a_wrong_password_then_accepts_the_right_one(page: Page):
    sign_in(page)  # make sure the account exists, then sign out
    sign_out(page)
    page.get_by_label("Email", exact=True).fill(ADMIN["email"])
    page.get_by_label("Mot de passe", exact=True).fill("pas-le-bon-mot")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Email ou mot de passe incorrect.")).to_be_visible()
    page.get_by_label("Mot de passe", exact=True).fill(ADMIN["password"])
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))
    page.reload()  # the session survives a reload
    expect(page.locator("#user-menu")).to_contain_text(ADMIN["name"])


def _new_company(page: Page, name: str) -> None:
    page.goto("/contacts")
    page.get_by_role("link", name="Nouveau contact").click()
    expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    page.get_by_label("Raison sociale", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill("compta@exemple.fr")
    page.get_by_label("Ville", exact=True).fill("Lyon")


def test_create_contact_and_find_it_in_the_list(signed_in: Page):
    page = signed_in
    name = f"Boulangerie Dupain {uuid.uuid4().hex[:6]}"
    _new_company(page, name)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Fiche contact enregistrée.")).to_be_visible()
    expect(page.locator("#contact-title")).to_have_text(name)
    expect(page.locator(".mandate-badge")).to_have_text("Pas de mandat SEPA")
    page.goto("/contacts")
    page.get_by_label("Rechercher un contact", exact=True).fill(name.split()[-1])
    expect(page.locator(".contact-row")).to_have_count(1)
    expect(page.locator(".contact-row")).to_contain_text(name)


def test_invalid_iban_shows_its_message_and_saves_nothing(signed_in: Page):
    page = signed_in
    name = f"Garage Invalide {uuid.uuid4().hex[:6]}"
    _new_company(page, name)
    page.get_by_label("IBAN", exact=True).fill("FR76 3000 6000 0112 3456 7890 188")
    page.get_by_label("BIC", exact=True).fill("AGRIFRPP")
    page.get_by_label("Réf mandat SEPA", exact=True).fill("RUM-INVALIDE-1")
    page.get_by_label("Date de signature mandat SEPA", exact=True).fill("15/01/2026")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".field-error").first).to_contain_text("IBAN")
    expect(page.get_by_text("Fiche non enregistrée : corrigez les champs signalés.")).to_be_visible()
    assert _contact_count(company_name=name) == 0


def test_complete_mandate_with_derived_bic_survives_a_reload(signed_in: Page):
    page = signed_in
    name = f"Atelier Mandat {uuid.uuid4().hex[:6]}"
    rum = f"RUM-{uuid.uuid4().hex[:10].upper()}"
    _new_company(page, name)
    page.get_by_label("IBAN", exact=True).fill(VALID_IBAN)
    page.get_by_role("button", name="Déduire le BIC de l'IBAN").click()
    expect(page.get_by_label("BIC", exact=True)).to_have_value(re.compile(r"^AGRIFRPP"))
    page.get_by_label("Réf mandat SEPA", exact=True).fill(rum)
    page.get_by_label("Date de signature mandat SEPA", exact=True).fill("15/01/2026")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Fiche contact enregistrée.")).to_be_visible()
    expect(page.locator(".mandate-badge")).to_have_text("Mandat SEPA complet")
    page.reload()
    expect(page.locator("#contact-title")).to_have_text(name)
    expect(page.locator(".mandate-badge")).to_have_text("Mandat SEPA complet")
    expect(page.locator("#view-iban")).to_have_text("FR76 •••• •••• 0189")
    expect(page.locator("#view-rum")).to_have_text(rum)
    expect(page.locator("#view-mandate-signed-on")).to_have_text("15/01/2026")
    # The full IBAN appears only in the edit form.
    page.get_by_role("button", name="Modifier la fiche contact").click()
    expect(page.get_by_label("IBAN", exact=True)).to_have_value(VALID_IBAN)
    # The list shows it masked, with the badge.
    page.goto("/contacts")
    page.get_by_label("Rechercher un contact", exact=True).fill(name.split()[-1])
    expect(page.locator(".contact-row")).to_have_count(1)
    expect(page.locator(".contact-row")).to_contain_text("FR76 •••• •••• 0189")
    expect(page.locator(".contact-row")).to_contain_text("Mandat SEPA complet")


def test_after_sign_out_a_contact_url_shows_the_sign_in_page(signed_in: Page):
    page = signed_in
    name = f"Cabinet Secret {uuid.uuid4().hex[:6]}"
    _new_company(page, name)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page).to_have_url(re.compile(r".*/contacts/\d+$"))
    expect(page.locator("#contact-title")).to_have_text(name)
    contact_url = page.url
    sign_out(page)
    page.goto(contact_url)
    expect(page).to_have_url(re.compile(r".*/connexion$"))
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    expect(page.get_by_text(name)).to_have_count(0)


def test_websocket_event_without_a_session_changes_nothing(harness, backend_url):
    """A client that speaks Reflex's websocket protocol, but has no session."""
    import socketio

    from simple_erp.pages.contact_detail import ContactState

    state = ContactState.get_full_name()
    received: list[dict] = []
    client = socketio.Client()
    client.on("event", received.append, namespace="/_event")
    client.connect(
        f"{backend_url}?token={uuid.uuid4()}", socketio_path="/_event",
        transports=["websocket"], namespaces=["/_event"],
    )
    router = {"pathname": "/contacts/nouveau", "query": {}, "asPath": "/contacts/nouveau"}
    before = _contact_count()
    try:
        client.emit("event", {"name": f"{state}.set_field", "payload": {"name": "company_name", "value": "Intrus SA"}, "router_data": router}, namespace="/_event")
        client.emit("event", {"name": f"{state}.set_field", "payload": {"name": "kind", "value": "entreprise"}, "router_data": router}, namespace="/_event")
        client.emit("event", {"name": f"{state}.save", "payload": {}, "router_data": router}, namespace="/_event")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "reconnectez-vous" not in str(received):
            time.sleep(0.1)
    finally:
        client.disconnect()
    # The events did reach the server (positive control) and were refused.
    assert "Intrus SA" in str(received)
    refused = [e for e in received if "reconnectez-vous" in str(e.get("events", ""))]
    assert refused, "the save event must be answered by the session-expired toast"
    assert _contact_count() == before
    assert _contact_count(company_name="Intrus SA") == 0


def test_only_an_administrator_can_change_the_api_keys(page: Page):
    """A staff user who is not an administrator sees the Mollie and SendGrid keys' forms
    locked, with why; the administrator's are open."""
    from simple_erp.services import auth, companies

    email = f"vendeur-{uuid.uuid4().hex[:6]}@exemple.fr"
    ensure_admin()  # before any other account: the first one is the administrator
    with db_session() as session:
        auth.create_user(session, email, "Victor Vendeur", "motdepasse-vendeur", is_admin=False)
        if not companies.list_companies(session):  # the key belongs to a société émettrice
            companies.save_company(session, None, {"name": "Société des Clés", "vat_regime": "normal"})
    sign_in(page, email, "motdepasse-vendeur")
    page.goto("/admin-erp")
    expect(page.locator("#mollie-key-admin-only")).to_have_text(
        "Réservé aux administrateurs : seul un administrateur peut modifier les clés API.")
    expect(page.get_by_label("Mollie API Key", exact=True)).to_be_disabled()
    expect(page.locator("#mollie-key-save")).to_be_disabled()
    # The company's identity and bank details too (its IBAN is printed on every invoice).
    expect(page.locator("#company-admin-only")).to_be_visible()
    expect(page.locator("#company-save")).to_be_disabled()
    page.goto("/admin-crm")
    page.get_by_role("tab", name="13. Paramètres").click()
    expect(page.locator("#sendgrid-admin-only")).to_be_visible()
    expect(page.get_by_label("Saisissez votre API Key Sendgrid", exact=True)).to_be_disabled()
    expect(page.locator("#email-settings-save")).to_be_disabled()
    sign_out(page)
    sign_in(page)  # the administrator
    page.goto("/admin-erp")
    expect(page.get_by_label("Mollie API Key", exact=True)).to_be_enabled()
    expect(page.locator("#mollie-key-admin-only")).to_have_count(0)
    # An administrator's change of the IBAN is kept: who, when, old → new (masked).
    page.get_by_label("IBAN", exact=True).fill("FR76 3000 6000 0112 3456 7890 189")
    page.get_by_label("BIC", exact=True).fill("AGRIFRPP")
    page.locator("#company-save").click()
    expect(page.get_by_text("Société émettrice enregistrée.").last).to_be_visible()
    change = page.locator(".company-change", has_text="IBAN").first
    expect(change).to_contain_text(ADMIN["name"])
    expect(change).to_contain_text("0189")
    expect(change).not_to_contain_text("3456 7890")
    page.goto("/admin-crm")
    page.get_by_role("tab", name="13. Paramètres").click()
    expect(page.get_by_label("Saisissez votre API Key Sendgrid", exact=True)).to_be_enabled()
    expect(page.locator("#sendgrid-admin-only")).to_have_count(0)



def test_an_iban_change_reaches_the_other_administrators_inbox(signed_in: Page):
    """« 1. Société émettrice »: the administrator replaces the IBAN; the other active
    administrator finds in the mailbox who changed it, and the old and new IBAN, masked.
    The author is not told."""
    import httpx

    from simple_erp.services import auth, companies, emails
    from tests.e2e.conftest import SENDGRID

    page = signed_in
    suffix = uuid.uuid4().hex[:6].upper()
    name, other = f"Atelier IBAN {suffix}", f"bruno-{suffix.lower()}@exemple.fr"
    with db_session() as session:
        auth.create_user(session, other, "Bruno Léger", "Velours-Cerise-1987", is_admin=True)
        emails.save_email_settings(session, True, "SG.e2e-test-key.abcdefghijklmnop")
        companies.save_company(session, None, {"name": name, "vat_regime": "normal", "iban": VALID_IBAN,
                                               "bic": "AGRIFRPP"})
    page.goto("/admin-erp")
    page.get_by_role("button", name=name).click()
    iban = page.get_by_label("IBAN", exact=True)
    expect(iban).to_have_value(VALID_IBAN)
    iban.fill("FR14 2004 1010 0505 0001 3M02 606")
    page.get_by_label("BIC", exact=True).fill("PSSTFRPPPAR")
    page.locator("#company-save").click()
    expect(page.get_by_text("Société émettrice enregistrée.").last).to_be_visible()
    expect(page.locator(".company-change", has_text="IBAN").first).to_contain_text("2606")

    deadline, sent = time.monotonic() + 15, []
    while not sent and time.monotonic() < deadline:
        messages = httpx.get(f"{SENDGRID.base_url}/sandbox/messages", timeout=10).json()["messages"]
        sent = [m for m in messages if name in m["subject"]]
        time.sleep(0.3)
    assert [m["to"] for m in sent if other in m["to"]] == [[other]]
    assert not [m for m in sent if ADMIN["email"] in m["to"]]  # not the author
    notice = next(m for m in sent if other in m["to"])
    assert notice["subject"] == f"Sécurité : l'IBAN de {name} a été modifié"
    assert ADMIN["name"] in notice["text"] and "(heure de Paris)" in notice["text"]
    assert "Ancien IBAN : FR76 •••• •••• 0189" in notice["text"]
    assert "Nouvel IBAN : FR14 •••• •••• 2606" in notice["text"]
    assert "0112 3456" not in notice["text"] and "0505 0001" not in notice["text"]  # never in full

def _png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG image (red pixels), built without any imaging library."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_company_logo_is_uploaded_and_a_file_that_is_no_image_is_refused(signed_in: Page):
    from simple_erp.models import Company
    from simple_erp.services import companies

    page = signed_in
    with db_session() as session:
        if not companies.list_companies(session):
            companies.save_company(session, None, {"name": "Société du Logo", "vat_regime": "normal"})
    page.goto("/admin-erp")
    upload = page.locator("#logo-upload input[type=file]")
    logo = _png()
    upload.set_input_files({"name": "logo-atelier.png", "mimeType": "image/png", "buffer": logo})
    expect(page.get_by_text("Logo enregistré.").last).to_be_visible()
    expect(page.locator("#logo-filename")).to_have_text("logo-atelier.png")
    # A text file named .png: refused by its content, the logo kept.
    upload.set_input_files({"name": "faux-logo.png", "mimeType": "image/png", "buffer": b"pas une image"})
    expect(page.get_by_text("Le logo doit être une image PNG ou JPEG.").last).to_be_visible()
    expect(page.locator("#logo-filename")).to_have_text("logo-atelier.png")
    # Over 1 Mo: refused in the browser with the reason (nothing sent, no « Logo enregistré. »).
    saved = page.locator("[data-sonner-toast]", has_text="Logo enregistré.")
    expect(saved).to_have_count(0)  # the first upload's toast has gone
    upload.set_input_files({"name": "enorme.png", "mimeType": "image/png", "buffer": logo + b"\0" * (1024 * 1024)})
    expect(page.get_by_text("Logo trop lourd : 1 Mo au maximum.").last).to_be_visible()
    page.wait_for_timeout(1_000)
    expect(saved).to_have_count(0)
    expect(page.locator("#logo-filename")).to_have_text("logo-atelier.png")
    with db_session() as session:
        default = next(c for c in session.exec(select(Company)).all() if c.logo_filename == "logo-atelier.png")
        assert default.logo == logo
