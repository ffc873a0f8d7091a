"""Migration 5d1e8a3c7f42 on SQLite and PostgreSQL: the stock « Factures » modèles state
what remains to pay; a modèle the user edited is kept; the downgrade puts the seeded
text back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from simple_erp.migrate import alembic_config

REVISION, BEFORE = "5d1e8a3c7f42", "b3a9f2c41d07"


def _bodies(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT name, body FROM email_template")).all())
    finally:
        engine.dispose()


def _edit(url: str, name: str, body: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE email_template SET body = :b WHERE name = :n"), {"b": body, "n": name})
    finally:
        engine.dispose()


def test_stock_invoice_templates_state_the_remaining_due(db_url):
    now = _bodies(db_url)
    for name in ("Envoi de facture", "Facture avec lien de paiement", "Facture avec coordonnées bancaires"):
        assert "Reste à régler : {document_reste_du}" in now[name], now[name]
    assert "{document_reste_du}" not in now["Envoi de devis"]  # a devis has nothing to pay yet

    command.downgrade(alembic_config(db_url), BEFORE)
    seeded = _bodies(db_url)
    assert "d'un montant de {document_total_ttc}, à régler avant le {document_echeance}." in seeded["Envoi de facture"]
    assert "{document_reste_du}" not in seeded["Facture avec lien de paiement"]

    _edit(db_url, "Envoi de facture", "Texte de l'utilisateur : {document_total_ttc}")
    command.upgrade(alembic_config(db_url), REVISION)
    after = _bodies(db_url)
    assert after["Envoi de facture"] == "Texte de l'utilisateur : {document_total_ttc}"
    assert after["Facture avec lien de paiement"] == now["Facture avec lien de paiement"]
    assert after["Facture avec coordonnées bancaires"] == now["Facture avec coordonnées bancaires"]
