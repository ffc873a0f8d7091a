"""SEPA mandate form: the company's RUM pattern, the contact's mandate type (récurrent /
ponctuel), the contact's files (« Fichiers »: the generated mandate PDFs), and emails sent
from a fiche contact with those files attached.

Revision ID: c13a5e9a0001
Revises: 30a71b11cf1a
Create Date: 2026-12-04
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import simple_erp.models.types


revision: str = 'c13a5e9a0001'
down_revision: Union[str, None] = '30a71b11cf1a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DEFAULT_RUM_PATTERN = 'RUM-{year}-{seq:06d}'


def upgrade() -> None:
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rum_pattern', sqlmodel.sql.sqltypes.AutoString(length=60),
                                      server_default=DEFAULT_RUM_PATTERN, nullable=False))
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mandate_type', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      server_default='recurrent', nullable=False))

    op.create_table('contact_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', simple_erp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_file_contact_id'), ['contact_id'], unique=False)

    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_email_message_contact_id'), ['contact_id'], unique=False)
        batch_op.create_foreign_key('fk_email_message_contact_id_contact', 'contact', ['contact_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('email_attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_file_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_email_attachment_contact_file_id'), ['contact_file_id'], unique=False)
        batch_op.create_foreign_key('fk_email_attachment_contact_file_id_contact_file', 'contact_file',
                                    ['contact_file_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('email_attachment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_email_attachment_contact_file_id_contact_file', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_email_attachment_contact_file_id'))
        batch_op.drop_column('contact_file_id')
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_constraint('fk_email_message_contact_id_contact', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_email_message_contact_id'))
        batch_op.drop_column('contact_id')
    with op.batch_alter_table('contact_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_file_contact_id'))
    op.drop_table('contact_file')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('mandate_type')
    with op.batch_alter_table('company', schema=None) as batch_op:
        batch_op.drop_column('rum_pattern')
