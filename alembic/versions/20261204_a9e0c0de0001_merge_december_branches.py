"""merge the branches of 2026-12-04 (reminders, SEPA mandate, remittances, e-invoicing
mentions, legal numbering, received invoices, search indexes); on SQLite, restore the
triggers that a table rebuild of a sibling branch may have dropped

Alembic's batch mode rebuilds a SQLite table for some changes (an ADD COLUMN whose default
is an expression, e.g. ``sa.false()``), and a rebuild drops the table's triggers: the
reminders branch rebuilt ``contact``, which dropped the FTS5 search triggers of
b3a9f2c41d07 (contact search then found nothing). The branches run in an order Alembic
chooses, so every trigger those branches rely on is created again here, after all of them:
the contact search's (then the FTS index rebuilt from contact.search_text) and the
finalised-document immutability triggers of e12b9d4a0002.
tests/services/test_schema_check.py checks that a migrated SQLite database has them all.

Revision ID: a9e0c0de0001
Revises: b14e0a7c0001, c13a5e9a0001, c13b7d2e0002, e12a3f0c0001, e12b9d4a0002, e12c4b8d0003, f15a2b6c0001
Create Date: 2026-12-04
"""
import importlib.util
from pathlib import Path
from typing import Sequence, Union

from alembic import op

revision: str = "a9e0c0de0001"
down_revision: Union[str, Sequence[str], None] = (
    "b14e0a7c0001", "c13a5e9a0001", "c13b7d2e0002", "e12a3f0c0001", "e12b9d4a0002", "e12c4b8d0003",
    "f15a2b6c0001",
)
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _sibling(stem: str):
    """A sibling revision module (they are files, not a package)."""
    path = next(Path(__file__).parent.glob(f"*_{stem}_*.py"))
    spec = importlib.util.spec_from_file_location(f"_rev_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def restore_sqlite_triggers() -> None:
    search = _sibling("b3a9f2c41d07")
    for trigger in ("contact_search_insert", "contact_search_delete", "contact_search_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in search.STATEMENTS[1:]:  # not the virtual table: it survives a rebuild
        op.execute(statement)
    frozen = _sibling("e12b9d4a0002")
    for trigger in frozen.SQLITE_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in frozen.SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        restore_sqlite_triggers()


def downgrade() -> None:
    pass  # the triggers belong to the parent revisions, which drop them on their downgrade
