"""mollie customer per company

Revision ID: c7b8b09160fb
Revises: e3e735081b1b
Create Date: 2026-11-29 03:45:52.622859

A Mollie customer belongs to the Mollie account of the key that created it (and a SEPA
mandate to its creditor): the contact's Mollie customer and mandate move from the contact
to ``mollie_customer``, one row per contact and company. Existing ids are copied to every
company that sent a Mollie "Prélèvement SEPA" debit on an invoice of the contact, or to
the only company when there is one. The key they were made with is not known
(``key_digest`` empty): at its next debit, each company asks Mollie whether its account
knows the customer, and makes another one if not. Otherwise (no way to tell the
account) they are dropped, and a customer is made again at the next direct debit.
The downgrade puts back on the contact its most recently used row (one company's).
"""
from datetime import datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import simple_erp.models.types


revision: str = 'c7b8b09160fb'
down_revision: Union[str, None] = 'e3e735081b1b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_COLUMNS = ("contact_id, company_id, customer_id, mandate_id, mandate_fingerprint, mandates_to_revoke, key_digest, "
            "updated_at")
_IDS = "c.mollie_customer_id, c.mollie_mandate_id, c.mollie_mandate_fingerprint, '', '', :now"
_DEBITED = """
    SELECT DISTINCT dc.contact_id, d.company_id FROM payment p
    JOIN document d ON d.id = p.document_id
    JOIN document_contact dc ON dc.document_id = d.id
    JOIN payment_method m ON m.id = p.method_id
    JOIN payment_type t ON t.id = m.payment_type_id
    WHERE p.provider = 'mollie' AND t.code = 'prelevement_sepa' AND p.provider_payment_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table('mollie_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('mandate_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('mandate_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mandates_to_revoke', sa.Text(), nullable=False),
    sa.Column('key_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', simple_erp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'company_id', name='uq_mollie_customer_contact_company')
    )
    with op.batch_alter_table('mollie_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mollie_customer_company_id'), ['company_id'], unique=False)

    now = sa.bindparam("now", type_=simple_erp.models.types.UTCDateTime(timezone=True))
    bind, params = op.get_bind(), {"now": datetime.now(timezone.utc)}
    bind.execute(sa.text(f"""
        INSERT INTO mollie_customer ({_COLUMNS})
        SELECT c.id, debited.company_id, {_IDS} FROM contact c
        JOIN ({_DEBITED}) debited ON debited.contact_id = c.id
        WHERE c.mollie_customer_id <> ''
    """).bindparams(now), params)
    bind.execute(sa.text(f"""
        INSERT INTO mollie_customer ({_COLUMNS})
        SELECT c.id, (SELECT min(id) FROM company), {_IDS} FROM contact c
        WHERE c.mollie_customer_id <> '' AND (SELECT count(*) FROM company) = 1
          AND NOT EXISTS (SELECT 1 FROM mollie_customer mc WHERE mc.contact_id = c.id)
    """).bindparams(now), params)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('mollie_customer_id')
        batch_op.drop_column('mollie_mandate_fingerprint')
        batch_op.drop_column('mollie_mandate_id')


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mollie_customer_id', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('mollie_mandate_id', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('mollie_mandate_fingerprint', sa.String(length=64), server_default='',
                                      nullable=False))

    # The contact's most recently used customer (one company's) goes back on the contact;
    # the other companies' rows are lost (the contact had one place for them).
    used = "FROM mollie_customer mc WHERE mc.contact_id = contact.id AND mc.customer_id <> ''"
    latest = f"(SELECT {{column}} {used} ORDER BY mc.updated_at DESC, mc.id DESC LIMIT 1)"
    op.get_bind().execute(sa.text(
        f"UPDATE contact SET mollie_customer_id = {latest.format(column='customer_id')}, "
        f"mollie_mandate_id = {latest.format(column='mandate_id')}, "
        f"mollie_mandate_fingerprint = {latest.format(column='mandate_fingerprint')} "
        f"WHERE EXISTS (SELECT 1 {used})"
    ))

    with op.batch_alter_table('mollie_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mollie_customer_company_id'))

    op.drop_table('mollie_customer')
