"""email uncertain outcome and reference

Revision ID: ff595cbd86e8
Revises: c7b8b09160fb
Create Date: 2026-11-29 03:58:21.760304

An e-mail whose send timed out after the request left is marked ``outcome_uncertain``
(SendGrid may have accepted it). Each message gets a random ``reference``, sent to
SendGrid as a custom argument, which comes back in its events: NULL for older messages.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'ff595cbd86e8'
down_revision: Union[str, None] = 'c7b8b09160fb'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome_uncertain', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_email_message_reference'), ['reference'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_message_reference'))
        batch_op.drop_column('reference')
        batch_op.drop_column('outcome_uncertain')
