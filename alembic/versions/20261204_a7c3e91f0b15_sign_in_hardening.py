"""sign-in hardening: failed sign-ins, per-user failure notice, session idle time

Revision ID: a7c3e91f0b15
Revises: d4a5b0a4d002
Create Date: 2026-12-04 07:10:00

sign_in_failure keeps each failed sign-in (email as typed, client address, time) for
throttling; app_user.failed_sign_ins counts them for the account's owner until the next
successful sign-in; user_session.last_seen_at carries the idle timeout (existing
sessions start from their creation time).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from simple_erp.models.types import UTCDateTime

revision: str = "a7c3e91f0b15"
down_revision: Union[str, None] = "d4a5b0a4d002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("client_address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failure_email_at", "sign_in_failure", ["email", "failed_at"])
    op.create_index("ix_sign_in_failure_address_at", "sign_in_failure", ["client_address", "failed_at"])
    op.create_index("ix_sign_in_failure_failed_at", "sign_in_failure", ["failed_at"])
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("user_session") as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE user_session SET last_seen_at = created_at")
    with op.batch_alter_table("user_session") as batch_op:
        batch_op.alter_column("last_seen_at", existing_type=UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("user_session") as batch_op:
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("failed_sign_ins")
    op.drop_index("ix_sign_in_failure_failed_at", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_address_at", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_email_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
