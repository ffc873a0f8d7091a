"""Accessibility and French conventions, walked through every staff page in Chromium.

Every visible form control must have an accessible name (a <label> tied to it,
aria-label or aria-labelledby; a button may also be named by its text), the page is
French (<html lang="fr">), « Encaissements » is in the menu, the active menu item is
marked, and an empty list says what to do next.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from tests.browser_helpers import ADMIN, db_session, sign_in, sign_out

pytestmark = pytest.mark.e2e

# The controls a screen reader announces, with what names them.
_UNNAMED_CONTROLS = """() => {
  const selector = 'input, textarea, select, button, [role=checkbox], [role=switch], [role=radio], [role=combobox]';
  const text = (el) => (el && el.textContent || '').trim();
  const named = (el) => {
    if (el.labels && [...el.labels].some((label) => text(label) !== '')) return true;
    if ((el.getAttribute('aria-label') || '').trim() !== '') return true;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => text(document.getElementById(id)) !== '')) return true;
    const role = el.getAttribute('role');
    const isButton = el.tagName === 'BUTTON' && (!role || role === 'button' || role === 'tab' || role === 'menuitem');
    return isButton && text(el) !== '';
  };
  const offenders = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.type === 'hidden' || !el.checkVisibility() || el.closest('[aria-hidden=true]')) continue;  // not announced
    if (!named(el)) {
      offenders.push([el.tagName.toLowerCase(), el.getAttribute('role') || el.type || '', el.id,
                      el.getAttribute('placeholder') || '', el.className || ''].join(' | '));
    }
  }
  return offenders;
}"""


class Audit:
    def __init__(self, page: Page):
        self.page = page
        self.offenders: list[str] = []
        self.checked = 0

    def __call__(self, where: str) -> None:
        self.page.wait_for_timeout(300)  # the last re-render has landed
        expect(self.page.locator("html")).to_have_attribute("lang", "fr")
        self.checked += 1
        self.offenders += [f"{where}: {o}" for o in self.page.evaluate(_UNNAMED_CONTROLS)]


def _ensure_company() -> None:
    from simple_erp.services import companies

    with db_session() as session:
        if not companies.list_companies(session):
            companies.save_company(session, None, {"name": "Société Accessible", "vat_regime": "normal"})


def _empty_kind() -> str | None:
    """A document kind with no document yet (the list shows its empty state)."""
    from simple_erp.models import Document

    for kind in ("bon_de_livraison", "bon_de_commande", "avoir", "devis", "facture"):
        with db_session() as session:
            if session.exec(select(func.count()).select_from(Document).where(Document.kind == kind)).one() == 0:
                return kind
    return None


def _tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")


def test_every_page_is_french_and_every_control_has_a_name(page: Page):
    from simple_erp.services import auth

    audit = Audit(page)
    with db_session() as session:
        fresh = not auth.has_any_user(session)
    if fresh:  # the welcome page, as a new user meets it; its fields found by their labels
        page.goto("/")
        expect(page.get_by_role("heading", name="Créer le compte administrateur")).to_be_visible()
        audit("/installation")
        page.get_by_label("Nom complet").fill(ADMIN["name"])
        page.get_by_label("Email").fill(ADMIN["email"])
        page.get_by_label("Mot de passe", exact=True).fill(ADMIN["password"])
        page.get_by_label("Confirmer le mot de passe").fill(ADMIN["password"])
        page.get_by_role("button", name="Créer le compte administrateur").click()
        expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))
        sign_out(page)
    page.goto("/connexion")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    audit("/connexion")
    sign_in(page)

    # The menu: « Encaissements » is there; the current page is marked, not greyed.
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(menu.get_by_role("link", name="Encaissements")).to_be_visible()
    expect(menu.get_by_role("link", name="Tableau de bord")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="Admin ERP")).not_to_have_attribute("aria-current", "page")
    menu.get_by_role("link", name="Contacts").click()
    expect(page).to_have_url(re.compile(r".*/contacts$"))
    expect(menu.get_by_role("link", name="Contacts")).to_have_attribute("aria-current", "page")
    expect(page.locator("#contact-count")).to_be_visible()
    audit("/contacts")
    expect(page.locator("#contact-count")).not_to_contain_text("(s)")
    page.get_by_label("Rechercher un contact").fill(f"personne-{uuid.uuid4().hex[:8]}")
    expect(page.get_by_text(re.compile(r"^Aucun contact ne correspond"))).to_be_visible()

    # A new contact: the « Particulier » word chooses it, a label focuses its field.
    page.get_by_role("link", name="Nouveau contact").click()
    expect(page.get_by_role("heading", name="Nouveau contact")).to_be_visible()
    audit("/contacts/nouveau (entreprise)")
    page.get_by_text("Particulier", exact=True).click()
    expect(page.get_by_role("radio", name="Particulier")).to_be_checked()
    expect(page.get_by_label("Raison sociale")).to_have_count(0)
    page.get_by_text("Entreprise", exact=True).click()
    expect(page.get_by_role("radio", name="Entreprise")).to_be_checked()
    page.get_by_text("IBAN", exact=True).click()
    expect(page.get_by_label("IBAN")).to_be_focused()
    name = f"Atelier Accessible {uuid.uuid4().hex[:6]}"
    page.get_by_label("Raison sociale").fill(name)
    page.get_by_label("Ville").fill("Nantes")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#contact-title")).to_have_text(name)
    page.get_by_role("button", name="Modifier la fiche contact").click()
    expect(page.get_by_label("Raison sociale")).to_have_value(name)
    audit("fiche contact (modification)")

    # Documents: an empty list says what to do; the editor's line fields have names.
    _ensure_company()
    page.goto("/erp")
    kind = _empty_kind()
    if kind is not None:
        from simple_erp.pages.documents import FIRST_LABELS, TAB_LABELS

        _tab(page, TAB_LABELS[kind])
        expect(page.locator("#documents-empty")).to_contain_text("pour l'instant")
        if kind in FIRST_LABELS:
            expect(page.locator("#documents-empty").get_by_role("button", name=FIRST_LABELS[kind])).to_be_visible()
    _tab(page, "Factures")
    page.get_by_label("Contact").fill(f"personne-{uuid.uuid4().hex[:8]}")
    expect(page.locator("#documents-empty")).to_contain_text("Aucune facture ne correspond")
    since = page.get_by_label("Du", exact=True)
    since.fill("le 1er janvier")  # not a date: the list says so
    since.blur()
    expect(page.get_by_text("Filtre invalide")).to_be_visible()
    since.fill("01/01/2099")  # a French date: sent to the server as 2099-01-01
    since.blur()
    expect(page.get_by_text("Filtre invalide")).to_have_count(0)
    expect(since).to_have_value("01/01/2099")
    expect(page.locator("#documents-empty")).to_contain_text("Aucune facture ne correspond")
    audit("/erp")
    page.get_by_role("button", name="Nouvelle facture").first.click()
    expect(page).to_have_url(re.compile(r".*/erp/document/\d+$"))
    # Dates are shown and typed jj/mm/aaaa whatever the browser's language.
    expect(page.get_by_label("Date d'émission")).to_have_value(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
    expect(page.get_by_label("Date d'émission")).to_have_attribute("placeholder", "jj/mm/aaaa")
    page.get_by_role("button", name="Ligne libre").click()
    expect(page.locator(".document-line")).to_have_count(1)
    expect(page.get_by_label("Quantité ligne 1")).to_be_visible()
    width = page.get_by_label("Quantité ligne 1").bounding_box()["width"]
    assert width >= 60, f"the quantity box is {width}px wide"
    audit("/erp/document (brouillon avec une ligne)")
    page.get_by_role("button", name="Envoyer par email").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    audit("/erp/document (envoyer par email)")
    dialog.get_by_role("button", name="Fermer").click()

    # Admin ERP: every tab, with its form open; Simple Paiement on for its three tabs.
    page.goto("/admin-erp")
    expect(page.get_by_role("tab", name="1. Société émettrice")).to_be_visible()
    audit("Admin ERP 1. Société émettrice")
    for tab, new in (("2. Numérotation", None), ("3. Produits", "Nouveau produit"), ("4. Taux de TVA", "Nouveau taux")):
        _tab(page, tab)
        if new:
            page.get_by_role("button", name=new).click()
            expect(page.get_by_role("button", name="Annuler")).to_be_visible()
        audit(f"Admin ERP {tab}")
    _tab(page, "8. Préférences ERP")
    expect(page.locator("#preferences-loaded")).to_be_attached()
    simple_paiement = page.get_by_label("Activer Simple Paiement")
    if simple_paiement.get_attribute("data-state") != "checked":
        simple_paiement.click()
        page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("tab", name="12. Moyens de paiement")).to_be_visible()
    audit("Admin ERP 8. Préférences ERP")
    for tab, new in (("10. Comptes", "Nouveau compte"), ("11. Types de paiement", "Nouveau type de paiement"),
                     ("12. Moyens de paiement", "Nouveau moyen de paiement")):
        _tab(page, tab)
        page.get_by_role("button", name=new).click()
        expect(page.get_by_role("button", name="Annuler")).to_be_visible()
        audit(f"Admin ERP {tab}")
    page.set_viewport_size({"width": 1400, "height": 900})  # the tab bar wraps, nothing is cut
    last = page.get_by_role("tab", name="12. Moyens de paiement")
    box, bar = last.bounding_box(), page.get_by_role("tablist").bounding_box()
    assert box["x"] + box["width"] <= bar["x"] + bar["width"] + 1, (box, bar)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Admin CRM: every tab.
    page.goto("/admin-crm")
    expect(page.get_by_role("tab", name="1. Utilisateurs")).to_be_visible()
    audit("Admin CRM 1. Utilisateurs")
    _tab(page, "13. Paramètres")
    audit("Admin CRM 13. Paramètres")
    _tab(page, "14. Modèles d'email")
    page.get_by_role("button", name="Nouveau modèle").click()
    expect(page.get_by_label("Sujet")).to_be_visible()
    audit("Admin CRM 14. Modèles d'email")

    menu.get_by_role("link", name="Tableau de bord").click()
    expect(page).to_have_url(re.compile(r".*/tableau-de-bord$"))
    expect(menu.get_by_role("link", name="Tableau de bord")).to_have_attribute("aria-current", "page")
    audit("/tableau-de-bord")

    page.goto("/profil")
    expect(page.get_by_label("Nom complet")).to_have_value(re.compile(".+"))
    audit("/profil")

    menu.get_by_role("link", name="Encaissements").click()
    expect(page).to_have_url(re.compile(r".*/encaissements$"))
    expect(menu.get_by_role("link", name="Encaissements")).to_have_attribute("aria-current", "page")
    expect(page.locator("#collection-count")).not_to_contain_text("(s)")
    audit("/encaissements")

    assert audit.checked >= 19
    assert not audit.offenders, "controls without an accessible name:\n" + "\n".join(audit.offenders)


def test_the_connection_lost_notice_is_french(page: Page):
    """The server refuses every websocket connection (a stand-in speaking Engine.IO):
    after two failed attempts the notice shows, in French."""

    def refuse(ws) -> None:
        ws.send('0{"sid":"refuse","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}')
        ws.on_message(lambda message: ws.send('44/_event,{"message":"refused"}') if str(message).startswith("40") else None)

    page.route_web_socket(re.compile(r".*/_event/.*"), refuse)
    page.goto("/connexion")
    notice = page.locator("[data-sonner-toast]", has_text="Connexion au serveur perdue.")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Nouvelle tentative en cours… Vérifiez que le serveur est joignable")
    expect(page.locator('[title="Connexion au serveur perdue."]')).to_be_attached()
    expect(page.get_by_text(re.compile("Cannot connect|Connection Error"))).to_have_count(0)
