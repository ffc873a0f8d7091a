"""contact search: FTS5 trigram index on SQLite

Revision ID: b3a9f2c41d07
Revises: ff595cbd86e8
Create Date: 2026-11-29 04:40:00

Searches match each word as a substring of contact.search_text. PostgreSQL serves them
with its pg_trgm index (a1c0ffee0003); SQLite scanned every contact (100 000 contacts: two
words 64 ms median, no match 257 ms). Here SQLite gets an FTS5 table with the trigram
tokenizer (SQLite >= 3.34), kept in sync with contact.search_text by triggers
(external content: the text is not stored twice). Words of 3 characters or more are
looked up in it (services.contacts.search_contacts); shorter ones keep LIKE.

The triggers belong to the contact table: a later migration that rebuilds it (Alembic's
batch mode on SQLite) drops them and must create them again (``create_sqlite_search``).
tests/services/test_contacts_service.py checks that search follows every change.
"""
from typing import Sequence, Union

from alembic import op

revision: str = "b3a9f2c41d07"
down_revision: Union[str, None] = "ff595cbd86e8"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATEMENTS = (
    ("CREATE VIRTUAL TABLE contact_search USING fts5(search_text, content='contact', content_rowid='id', "
     "tokenize='trigram')"),
    ("CREATE TRIGGER contact_search_insert AFTER INSERT ON contact BEGIN "
     "INSERT INTO contact_search(rowid, search_text) VALUES (new.id, new.search_text); END"),
    ("CREATE TRIGGER contact_search_delete AFTER DELETE ON contact BEGIN "
     "INSERT INTO contact_search(contact_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"),
    ("CREATE TRIGGER contact_search_update AFTER UPDATE OF search_text ON contact BEGIN "
     "INSERT INTO contact_search(contact_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
     "INSERT INTO contact_search(rowid, search_text) VALUES (new.id, new.search_text); END"),
    "INSERT INTO contact_search(contact_search) VALUES ('rebuild')",
)


def create_sqlite_search() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_search()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("contact_search_insert", "contact_search_delete", "contact_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS contact_search")
