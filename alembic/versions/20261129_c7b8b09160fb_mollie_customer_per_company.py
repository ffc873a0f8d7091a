"""mollie customer per company

Revision ID: c7b8b09160fb
Revises: e3e735081b1b
Create Date: 2026-11-29 03:45:52.622859

A Mollie customer belongs to the Mollie account of the key that created it (and a SEPA
mandate to its creditor): the contact's Mollie customer and mandate move from the contact
to ``mollie_customer``, one row per contact and company. Existing ids are kept under the
company of the contact's latest Mollie "Prélèvement SEPA" payment, or under the only
company when there is one (the key they were made with is not known: ``key_digest`` is
empty); otherwise (no way to tell the account) they are dropped, and a customer is made
again at the next direct debit.
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

_COMPANY_OF_CONTACT = """
    COALESCE(
        (SELECT d.company_id FROM payment p
         JOIN document d ON d.id = p.document_id
         JOIN document_contact dc ON dc.document_id = d.id
         JOIN payment_method m ON m.id = p.method_id
         JOIN payment_type t ON t.id = m.payment_type_id
         WHERE dc.contact_id = c.id AND p.provider = 'mollie' AND t.code = 'prelevement_sepa'
         ORDER BY p.id DESC LIMIT 1),
        (SELECT min(id) FROM company HAVING count(*) = 1)
    )
"""


def upgrade() -> None:
    op.create_table('mollie_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('mandate_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('mandate_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', simple_erp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'company_id', name='uq_mollie_customer_contact_company')
    )
    with op.batch_alter_table('mollie_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mollie_customer_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mollie_customer_contact_id'), ['contact_id'], unique=False)

    copy = sa.text(f"""
        INSERT INTO mollie_customer (contact_id, company_id, customer_id, mandate_id, mandate_fingerprint, key_digest,
                                     updated_at)
        SELECT contact_id, company_id, customer_id, mandate_id, mandate_fingerprint, '', :now FROM (
            SELECT c.id AS contact_id, {_COMPANY_OF_CONTACT} AS company_id, c.mollie_customer_id AS customer_id,
                   c.mollie_mandate_id AS mandate_id, c.mollie_mandate_fingerprint AS mandate_fingerprint
            FROM contact c WHERE c.mollie_customer_id <> ''
        ) known WHERE company_id IS NOT NULL
    """).bindparams(sa.bindparam("now", type_=simple_erp.models.types.UTCDateTime(timezone=True)))
    op.get_bind().execute(copy, {"now": datetime.now(timezone.utc)})

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

    # The contact's latest customer (one company's) goes back on the contact.
    latest = "(SELECT {column} FROM mollie_customer mc WHERE mc.contact_id = contact.id ORDER BY mc.id DESC LIMIT 1)"
    op.get_bind().execute(sa.text(
        f"UPDATE contact SET mollie_customer_id = {latest.format(column='customer_id')}, "
        f"mollie_mandate_id = {latest.format(column='mandate_id')}, "
        f"mollie_mandate_fingerprint = {latest.format(column='mandate_fingerprint')} "
        "WHERE EXISTS (SELECT 1 FROM mollie_customer mc WHERE mc.contact_id = contact.id)"
    ))

    with op.batch_alter_table('mollie_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mollie_customer_contact_id'))
        batch_op.drop_index(batch_op.f('ix_mollie_customer_company_id'))

    op.drop_table('mollie_customer')
