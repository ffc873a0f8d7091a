"""Received e-invoices (« Importer une facture électronique »): received_invoice.

Revision ID: e12c4b8d0003
Revises: 30a71b11cf1a
Create Date: 2026-12-04 09:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import simple_erp.models.types


revision: str = 'e12c4b8d0003'
down_revision: Union[str, None] = '30a71b11cf1a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('received_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('source_format', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('syntax', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('type_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('seller_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('seller_siren', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('seller_vat', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('buyer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('total_ht', simple_erp.models.types.ScaledDecimal(2), nullable=False),
    sa.Column('total_vat', simple_erp.models.types.ScaledDecimal(2), nullable=False),
    sa.Column('total_ttc', simple_erp.models.types.ScaledDecimal(2), nullable=False),
    sa.Column('amount_due', simple_erp.models.types.ScaledDecimal(2), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('validation', sa.Text(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', simple_erp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['imported_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'sha256', name='uq_received_invoice_file')
    )
    with op.batch_alter_table('received_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_received_invoice_company_id'), ['company_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('received_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_invoice_company_id'))

    op.drop_table('received_invoice')
