"""« Générer le mandat SEPA » clicked through in Chromium: the company's RUM pattern and ICS
checked in « 1. Société émettrice », a contact whose mandate is not signed yet (IBAN, BIC,
« Ponctuel »), the French refusal while the company has no ICS, then the PDF in the
contact's « Fichiers » with its RUM and the legal text (pypdf), sent with « Envoyer par
email » (the SendGrid sandbox receives it)."""

from __future__ import annotations

import base64
import io
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser_helpers import db_session, toast
from tests.e2e.conftest import SENDGRID

pytestmark = pytest.mark.e2e

IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"


def _norm(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", text)


def _pdf_text(content: bytes) -> str:
    return _norm("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages))


def _save_company(page: Page) -> None:
    page.get_by_role("button", name="Enregistrer", exact=True).click()


def _company(page: Page) -> None:
    """Name and address, a RUM pattern (a wrong one first), no ICS yet."""
    page.goto("/admin-erp")
    expect(page.get_by_role("tab", name="1. Société émettrice")).to_be_visible()
    page.get_by_label("Raison sociale", exact=True).fill("Jardins du Rhône")
    page.get_by_label("Adresse", exact=True).fill("8 quai Saint-Vincent")
    page.get_by_label("Code postal", exact=True).fill("69001")
    page.get_by_label("Ville", exact=True).fill("Lyon")
    # The company is shared by the run's tests: another one may have given it an ICS.
    page.get_by_label("Numéro d'émetteur SEPA (ICS)", exact=True).fill("")
    page.get_by_label("Modèle de RUM (mandats SEPA)", exact=True).fill("JDR-{yy}")  # no {seq}
    _save_company(page)
    toast(page, "Société non enregistrée : corrigez les champs signalés.")
    expect(page.get_by_text("Le modèle de RUM doit contenir {seq} une fois")).to_be_visible()
    page.get_by_label("Modèle de RUM (mandats SEPA)", exact=True).fill("JDR-{yy}-{seq:04d}")
    _save_company(page)
    toast(page, "Société émettrice enregistrée.")


def _set_ics(page: Page) -> None:
    page.goto("/admin-erp")
    field = page.get_by_label("Numéro d'émetteur SEPA (ICS)", exact=True)
    expect(field).to_be_visible()
    field.fill("FR73ZZZ123456")  # wrong check digits
    _save_company(page)
    expect(page.get_by_text("Identifiant créancier SEPA (ICS) invalide : la clé de contrôle est incorrecte.")
           ).to_be_visible()
    field.fill("FR72ZZZ123456")
    _save_company(page)
    toast(page, "Société émettrice enregistrée.")


def _email_sending_on() -> None:
    from simple_erp.services import emails

    with db_session() as session:
        emails.save_email_settings(session, True, "SG.e2e-test-key.abcdefghijklmnop")


def test_generate_the_mandate_form_and_send_it(signed_in: Page):
    page = signed_in
    suffix = uuid.uuid4().hex[:5].upper()
    name = f"Fleurs {suffix}"
    _company(page)

    page.goto("/contacts/nouveau")
    page.get_by_label("Raison sociale", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(f"fleurs-{suffix.lower()}@client.fr")
    page.get_by_label("Adresse", exact=True).fill("5 rue Mercière")
    page.get_by_label("Code postal", exact=True).fill("69002")
    page.get_by_label("Ville", exact=True).fill("Lyon")
    page.get_by_label("IBAN", exact=True).fill(IBAN)
    page.get_by_label("BIC", exact=True).fill(BIC)
    page.get_by_label("Type de mandat SEPA", exact=True).select_option("ponctuel")
    page.get_by_role("button", name="Enregistrer").click()  # not signed yet: no RUM, no date
    toast(page, "Fiche contact enregistrée.")
    expect(page).to_have_url(re.compile(r".*/contacts/\d+$"))
    expect(page.locator("#view-mandate-type")).to_have_text("Ponctuel")
    expect(page.locator("#view-rum")).to_have_text("")
    assert IBAN not in page.content()  # only the masked IBAN reaches the browser
    contact_url = page.url

    # The company has no ICS yet: a French message, nothing generated.
    page.get_by_role("button", name="Générer le mandat SEPA").click()
    toast(page, "La société émettrice n'a pas d'identifiant créancier SEPA (ICS)")
    expect(page.locator("#contact-files-empty")).to_be_visible()
    expect(page.locator("#view-rum")).to_have_text("")

    _set_ics(page)
    page.goto(contact_url)
    expect(page.locator("#contact-title")).to_have_text(name)
    page.get_by_role("button", name="Générer le mandat SEPA").click()
    yy = datetime.now(ZoneInfo("Europe/Paris")).year % 100
    rum = f"JDR-{yy:02d}-0001"
    toast(page, f"Mandat SEPA généré : Mandat_SEPA_{rum}.pdf")
    expect(page.locator("#view-rum")).to_have_text(rum)
    link = page.locator(".contact-file-link")
    expect(link).to_have_text(f"Mandat_SEPA_{rum}.pdf")
    assert IBAN not in page.content()

    response = httpx.get(link.get_attribute("href"), timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = _pdf_text(response.content)
    for expected in ("Mandat de prélèvement SEPA", rum, "FR72ZZZ123456", "Jardins du Rhône", "8 quai Saint-Vincent",
                     name, "5 rue Mercière", "FR76 3000 6000 0112 3456 7890 189", BIC, "☒ Paiement ponctuel",
                     "dans les 8 semaines suivant la date de débit de votre compte",
                     "dans les 13 mois en cas de prélèvement non autorisé"):
        assert expected in text, expected

    # « Envoyer par email » from the fiche contact, the mandate ticked.
    _email_sending_on()
    page.get_by_role("button", name="Envoyer par email").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#contact-email-to")).to_have_value(f"fleurs-{suffix.lower()}@client.fr")
    expect(dialog.locator(".contact-email-file")).to_have_attribute("data-state", "checked")
    dialog.get_by_role("button", name="Envoyer l'email avec les pièces jointes cochées").click()
    toast(page, "Email envoyé.")
    expect(page.locator(".contact-email-row").first.locator(".contact-email-status")).to_have_text("Envoyé")
    messages = httpx.get(f"{SENDGRID.base_url}/sandbox/messages", timeout=10).json()["messages"]
    [sent] = [m for m in messages if f"fleurs-{suffix.lower()}@client.fr" in m["to"]]
    [attachment] = sent["attachments"]
    assert attachment["filename"] == f"Mandat_SEPA_{rum}.pdf"
    assert rum in _pdf_text(base64.b64decode(attachment["content_base64"]))
