"""Stock invoice email templates state what remains to pay ({document_reste_du}).

The three « Factures » modèles seeded by edfcdaff4c98 asked for the invoice's total
(« d'un montant de {document_total_ttc}, à régler avant le … »): sent after a partial
payment, or while a SEPA debit runs, they asked the customer for money already paid or
being collected. Only the modèles still as seeded are rewritten; one the user edited is
left as it is.

Revision ID: 5d1e8a3c7f42
Revises: b3a9f2c41d07
Create Date: 2026-12-04
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '5d1e8a3c7f42'
down_revision: Union[str, None] = 'b3a9f2c41d07'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_OPENING = "Bonjour {contact_nom},\n\nVeuillez trouver ci-joint notre facture {document_numero} du {document_date}, "
_CLOSING = "Cordialement,\n{societe_nom}"
_DUE = "d'un montant de {document_total_ttc}. Reste à régler : {document_reste_du}, avant le {document_echeance}.\n\n"
_REST = "d'un montant de {document_total_ttc}. Reste à régler : {document_reste_du}.\n\n"

# (modèle, body as seeded, body now)
TEMPLATES = (
    ("Envoi de facture",
     _OPENING + "d'un montant de {document_total_ttc}, à régler avant le {document_echeance}.\n\n"
     "Nous restons à votre disposition pour toute question.\n\n" + _CLOSING,
     _OPENING + _DUE + "Nous restons à votre disposition pour toute question.\n\n" + _CLOSING),
    ("Facture avec lien de paiement",
     _OPENING + "d'un montant de {document_total_ttc}.\n\n"
     "Vous pouvez la régler en ligne, en toute sécurité, en suivant ce lien :\n{lien_paiement}\n\n" + _CLOSING,
     _OPENING + _REST
     + "Vous pouvez la régler en ligne, en toute sécurité, en suivant ce lien :\n{lien_paiement}\n\n" + _CLOSING),
    ("Facture avec coordonnées bancaires",
     _OPENING + "d'un montant de {document_total_ttc}, à régler avant le {document_echeance}.\n\n"
     "Pour un règlement par virement :\n{coordonnees_bancaires}\n"
     "Merci d'indiquer la référence {document_numero} dans le libellé du virement.\n\n" + _CLOSING,
     _OPENING + _DUE + "Pour un règlement par virement :\n{coordonnees_bancaires}\n"
     "Merci d'indiquer la référence {document_numero} dans le libellé du virement.\n\n" + _CLOSING),
)

_template = sa.table("email_template", sa.column("name", sa.String), sa.column("body", sa.Text))


def _rewrite(old_index: int, new_index: int) -> None:
    for row in TEMPLATES:
        op.execute(_template.update()
                   .where(_template.c.name == row[0], _template.c.body == row[old_index])
                   .values(body=row[new_index]))


def upgrade() -> None:
    _rewrite(1, 2)


def downgrade() -> None:
    _rewrite(2, 1)
