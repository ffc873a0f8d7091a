"""contact search: trigram index on PostgreSQL

Revision ID: a1c0ffee0003
Revises: f7cfff88cb28
Create Date: 2026-11-28 19:55:00

Searches use LIKE '%word%' on contact.search_text. On PostgreSQL a pg_trgm GIN index
serves them (measured on 100 000 contacts: one word 115 -> 15 ms median, no match
144 -> 10 ms). SQLite keeps the plain scan.
"""
from typing import Sequence, Union

from alembic import op

revision: str = "a1c0ffee0003"
down_revision: Union[str, None] = "f7cfff88cb28"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_contact_search_trgm ON contact USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_contact_search_trgm")
