"""SEPA direct debits through the bank: remittances (pain.008), their collections, the
pre-notifications, the company's pre-notification delay, and the stock modèle d'email
« Pré-notification de prélèvement » in a rubrique « Prélèvements SEPA ».

An invoice is never in two live remittances: ``remittance_line.live_document_id`` is the
invoice's id while the collection is live, NULL after; its UNIQUE constraint (NULLs
allowed many times, on SQLite and PostgreSQL) enforces it.

Revision ID: c13b7d2e0002
Revises: 30a71b11cf1a
Create Date: 2026-12-04
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import simple_erp.models.types


revision: str = 'c13b7d2e0002'
down_revision: Union[str, None] = '30a71b11cf1a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RUBRIQUE = "Prélèvements SEPA"
TEMPLATE_NAME = "Pré-notification de prélèvement"
TEMPLATE_SUBJECT = "Prélèvement SEPA de {prelevement_montant} le {prelevement_date} – facture {document_numero}"
TEMPLATE_BODY = (
    "Bonjour {contact_nom},\n\n"
    "Conformément à votre mandat de prélèvement SEPA, nous prélèverons {prelevement_montant} sur votre compte "
    "le {prelevement_date} (ou le premier jour ouvré suivant), en règlement de notre facture {document_numero} "
    "du {document_date}.\n\n"
    "Référence unique du mandat (RUM) : {mandat_rum}\n"
    "Identifiant créancier SEPA (ICS) : {creancier_ics}\n\n"
    "Merci de veiller à ce que votre compte soit approvisionné à cette date. "
    "Pour toute question, n'hésitez pas à nous contacter.\n\n"
    "Cordialement,\n{societe_nom}"
)

_MONEY = simple_erp.models.types.ScaledDecimal(2)
_WHEN = simple_erp.models.types.UTCDateTime(timezone=True)


def _text(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prenotification_days', sa.Integer(), server_default='14', nullable=False))

    op.create_table('remittance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('method_id', sa.Integer(), nullable=False),
    sa.Column('reference', _text(35), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('status', _text(20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('total', _MONEY, nullable=False),
    sa.Column('filename', _text(100), nullable=False),
    sa.Column('file_xml', sa.Text(), nullable=False),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', _WHEN, nullable=True),
    sa.Column('canceled_at', _WHEN, nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ),
    sa.ForeignKeyConstraint(['method_id'], ['payment_method.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_method_id'), ['method_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('remittance_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('remittance_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('live_document_id', sa.Integer(), nullable=True),
    sa.Column('amount', _MONEY, nullable=False),
    sa.Column('sequence_type', _text(4), nullable=False),
    sa.Column('rum', _text(35), nullable=False),
    sa.Column('mandate_signed_on', sa.Date(), nullable=False),
    sa.Column('debtor_name', _text(420), nullable=False),
    sa.Column('iban_masked', _text(40), nullable=False),
    sa.Column('end_to_end_id', _text(35), nullable=False),
    sa.Column('status', _text(20), nullable=False),
    sa.Column('reject_code', _text(4), nullable=False),
    sa.Column('answered_at', _WHEN, nullable=True),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittance.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['live_document_id'], ['document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('live_document_id')
    )
    with op.batch_alter_table('remittance_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_line_remittance_id'), ['remittance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_line_payment_id'), ['payment_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_remittance_line_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_line_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remittance_line_rum'), ['rum'], unique=False)

    op.create_table('prenotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('amount', _MONEY, nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('rum', _text(35), nullable=False),
    sa.Column('channel', _text(20), nullable=False),
    sa.Column('remittance_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('email_message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _WHEN, nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['remittance_id'], ['remittance.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['email_message_id'], ['email_message.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prenotice', schema=None) as batch_op:
        for column in ('document_id', 'contact_id', 'remittance_id', 'payment_id', 'email_message_id',
                       'created_by_id'):
            batch_op.create_index(batch_op.f(f'ix_prenotice_{column}'), [column], unique=False)

    # The stock modèle, in its own rubrique (after the existing ones; kept if it exists).
    bind = op.get_bind()
    rubrique_id = bind.execute(sa.text("SELECT id FROM email_rubrique WHERE name = :n"), {"n": RUBRIQUE}).scalar()
    if rubrique_id is None:
        position = bind.execute(sa.text("SELECT COALESCE(MAX(position), 0) + 1 FROM email_rubrique")).scalar()
        bind.execute(sa.text("INSERT INTO email_rubrique (name, position) VALUES (:n, :p)"),
                     {"n": RUBRIQUE, "p": position})
        rubrique_id = bind.execute(sa.text("SELECT id FROM email_rubrique WHERE name = :n"), {"n": RUBRIQUE}).scalar()
    exists = bind.execute(sa.text("SELECT id FROM email_template WHERE rubrique_id = :r AND name = :n"),
                          {"r": rubrique_id, "n": TEMPLATE_NAME}).scalar()
    if exists is None:
        bind.execute(sa.text("INSERT INTO email_template (rubrique_id, name, subject, body, position) "
                             "VALUES (:r, :n, :s, :b, 1)"),
                     {"r": rubrique_id, "n": TEMPLATE_NAME, "s": TEMPLATE_SUBJECT, "b": TEMPLATE_BODY})


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM email_template WHERE name = :n AND rubrique_id IN "
                         "(SELECT id FROM email_rubrique WHERE name = :r)"), {"n": TEMPLATE_NAME, "r": RUBRIQUE})
    bind.execute(sa.text("DELETE FROM email_rubrique WHERE name = :r AND id NOT IN "
                         "(SELECT rubrique_id FROM email_template)"), {"r": RUBRIQUE})
    with op.batch_alter_table('prenotice', schema=None) as batch_op:
        for column in ('document_id', 'contact_id', 'remittance_id', 'payment_id', 'email_message_id',
                       'created_by_id'):
            batch_op.drop_index(batch_op.f(f'ix_prenotice_{column}'))
    op.drop_table('prenotice')
    with op.batch_alter_table('remittance_line', schema=None) as batch_op:
        for column in ('remittance_id', 'payment_id', 'document_id', 'contact_id', 'rum'):
            batch_op.drop_index(batch_op.f(f'ix_remittance_line_{column}'))
    op.drop_table('remittance_line')
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        for column in ('company_id', 'method_id', 'created_by_id'):
            batch_op.drop_index(batch_op.f(f'ix_remittance_{column}'))
    op.drop_table('remittance')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('prenotification_days')
