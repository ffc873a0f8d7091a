"""Run by test_handlers_without_session.py in a subprocess: the real ``simple_erp.simple_erp``
backend (assembled as ``App.__call__`` does, minus the frontend compile, as
reflex_upload_run.py does) served by uvicorn on 127.0.0.1:PORT (argv[1]), on the database
of DATABASE_URL, seeded with business records. Prints one JSON line (the seeded records'
ids and secrets, a signed-in session token for the control tab), then serves until killed."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date
from pathlib import Path

import reflex.app as reflex_app
from reflex.utils import prerequisites

_backend_dir = Path(tempfile.mkdtemp())
prerequisites.get_backend_dir = lambda: _backend_dir  # the upload marker, not in .web
reflex_app.remove_stale_external_asset_symlinks = lambda: None  # nothing under assets/
reflex_app.get_backend_compile_trigger = lambda: None

import uvicorn  # noqa: E402
from reflex_components_core.core.upload import Upload  # noqa: E402

from simple_erp.api.app import build_api  # noqa: E402
from simple_erp.db import session_scope  # noqa: E402
from simple_erp.domain.contact_rules import ContactInput  # noqa: E402
from simple_erp.services import auth, catalog, companies, contacts, documents  # noqa: E402
from simple_erp.simple_erp import app  # noqa: E402

Upload.is_used = True
app._add_optional_endpoints()  # what the compile does when a page uses rx.upload
app.api_transformer = build_api()
app._compile = lambda **_kwargs: None
asgi = app()

SELLER_IBAN = "FR7630006000011234567890189"
CLIENT_IBAN = "FR1420041010050500013M02606"
with session_scope() as session:
    admin = auth.create_first_admin(session, "alice.secret@atelier-kerbrat.fr", "Alice Kerbrat",
                                    "Tr3s-l0ngue-phrase-de-passe!")
    company = companies.save_company(session, None, {
        "name": "Atelier Kerbrat", "vat_regime": "normal", "legal_form": "SARL", "address_line1": "3 rue de la Paix",
        "postal_code": "75002", "city": "Paris", "siren": "732829320", "vat_number": "FR44732829320",
        "rcs_city": "Paris", "iban": SELLER_IBAN, "bic": "AGRIFRPP"})
    contact = contacts.create_contact(session, ContactInput(
        kind="particulier", last_name="Quimperlé", first_name="Zoélie", email="zoelie.quimperle@client-secret.fr",
        phone="06 12 34 56 78", address_line1="8 allée des Tilleuls", postal_code="44000", city="Nantes",
        iban=CLIENT_IBAN, bic="PSSTFRPPPAR"), date.today())
    product = catalog.save_product(session, None, {"reference": "ZIR-1", "name": "Prestation Zircon", "unit_price": "987,65", "vat_rate": "20", "active": "1"})
    doc = documents.create_document(session, "facture", date.today(), company_id=company.id)
    documents.link_contact(session, doc.id, contact.id)
    line = documents.add_line(session, doc.id)
    documents.update_line(session, line.id, {"description": "Restauration Zircon", "unit_price": "1234.56"})
    ids = {"user": admin.id, "company": company.id, "contact": contact.id, "product": product.id,
           "doc": doc.id, "line": line.id}
    session_token = auth.open_session(session, admin)

print(json.dumps({
    "ids": ids, "session_token": session_token,
    # What no tab without a session may ever receive (any delta, any event; any case). The
    # invoice: 1 234,56 € HT, 1 481,47 € TTC.
    "secrets": ["Quimperlé", "zoelie.quimperle@client-secret.fr", "Zoélie", "alice.secret@atelier-kerbrat.fr",
                "Alice Kerbrat", "Restauration Zircon", "Prestation Zircon", "234,56", "1234.56", "481,47", "1481.47",
                "987,65", "987.65", "0500013M02606", "•••• 2606", "1234567890189", "•••• 0189", "06 12 34 56 78"],
}), flush=True)
uvicorn.run(asgi, host="127.0.0.1", port=int(sys.argv[1]), ws="wsproto", lifespan="on", log_level="warning")
