"""document_search: each document's client search text, kept by triggers

Revision ID: f15b3c7d0002
Revises: a9e0c0de0001
Create Date: 2026-12-04 16:00:00

Issue 15: the list of documents searched by client (« quimper », « martin lyon ») walked
the document dates and checked each document's contacts: 105-703 ms at 1 000 000
documents on PostgreSQL. Here every document gets a row in ``document_search`` with the
columns its list orders and filters by (kind, status, issue_date, total_ttc, company_id)
and ``search_text``: the search texts of its contacts, joined by a newline (a word never
holds one, so a word cannot match across two contacts; several words on a document with
several contacts are checked contact by contact, services.documents.lists). Finalised
documents and their links are immutable (e12b9d4a0002), hence a table of its own.

* PostgreSQL: a pg_trgm GIN index on search_text, and ix_document_search_walk (kind,
  issue_date, document_id) INCLUDE (status, total_ttc, search_text): the newest documents
  checked from the index alone.
* SQLite: an FTS5 trigram table ``document_search_fts`` (external content, as
  contact_search of b3a9f2c41d07), kept by triggers on document_search.
* Triggers, for every writer: a document inserted or its listed columns changed, its
  contacts linked, unlinked or changed, a contact's search_text changed (its documents get
  the new text). Bulk loads that disable triggers (bench/search_data.py) fill it after.

A later migration that rebuilds document, document_contact or contact on SQLite (batch
mode) drops their triggers: it must run SQLITE_TRIGGERS again (tests/services/documents/
test_search_sync.py checks they exist).
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import simple_erp.models.types

revision: str = "f15b3c7d0002"
down_revision: Union[str, None] = "a9e0c0de0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LISTED = ("company_id", "kind", "status", "issue_date", "total_ttc")

PG_TEXT = """CREATE FUNCTION document_search_text(doc integer) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(c.search_text, E'\\n' ORDER BY dc.contact_id), '')
    FROM document_contact dc JOIN contact c ON c.id = dc.contact_id WHERE dc.document_id = doc $$"""

POSTGRESQL_STATEMENTS = [
    PG_TEXT,
    f"""CREATE FUNCTION document_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO document_search (document_id, {', '.join(LISTED)}, search_text)
            VALUES (NEW.id, {', '.join(f'NEW.{c}' for c in LISTED)}, document_search_text(NEW.id));
        ELSE
            UPDATE document_search SET {', '.join(f'{c} = NEW.{c}' for c in LISTED)}
            WHERE document_id = NEW.id;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER document_search_insert AFTER INSERT ON document "
    "FOR EACH ROW EXECUTE FUNCTION document_search_document()",
    f"CREATE TRIGGER document_search_update AFTER UPDATE OF {', '.join(LISTED)} ON document FOR EACH ROW "
    f"WHEN (ROW({', '.join(f'OLD.{c}' for c in LISTED)}) IS DISTINCT FROM ROW({', '.join(f'NEW.{c}' for c in LISTED)})) "
    "EXECUTE FUNCTION document_search_document()",
    """CREATE FUNCTION document_search_links() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE document_search SET search_text = document_search_text(OLD.document_id)
            WHERE document_id = OLD.document_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE document_search SET search_text = document_search_text(NEW.document_id)
            WHERE document_id = NEW.document_id;
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER document_search_links AFTER INSERT OR DELETE OR UPDATE OF document_id, contact_id "
    "ON document_contact FOR EACH ROW EXECUTE FUNCTION document_search_links()",
    """CREATE FUNCTION document_search_contact() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE document_search SET search_text = document_search_text(document_id)
        WHERE document_id IN (SELECT dc.document_id FROM document_contact dc WHERE dc.contact_id = NEW.id);
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER document_search_contact AFTER UPDATE OF search_text ON contact FOR EACH ROW "
    "WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION document_search_contact()",
]
PG_FUNCTIONS = ("document_search_document", "document_search_links", "document_search_contact")
PG_TRIGGERS = (("document_search_insert", "document"), ("document_search_update", "document"),
               ("document_search_links", "document_contact"), ("document_search_contact", "contact"))


def sqlite_text(doc: str) -> str:
    """The search text of document ``doc`` (an SQL expression), SQLite."""
    return ("coalesce((SELECT group_concat(t, char(10)) FROM (SELECT c.search_text AS t FROM document_contact dc "
            f"JOIN contact c ON c.id = dc.contact_id WHERE dc.document_id = {doc} ORDER BY dc.contact_id)), '')")


SQLITE_FTS = ("CREATE VIRTUAL TABLE document_search_fts USING fts5(search_text, content='document_search', "
              "content_rowid='document_id', tokenize='trigram')")
_FTS_DELETE = ("INSERT INTO document_search_fts(document_search_fts, rowid, search_text) "
               "VALUES ('delete', old.document_id, old.search_text);")
_FTS_INSERT = "INSERT INTO document_search_fts(rowid, search_text) VALUES (new.document_id, new.search_text);"
_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LISTED)
SQLITE_TRIGGERS = [
    # the FTS5 index follows document_search
    f"CREATE TRIGGER document_search_fts_insert AFTER INSERT ON document_search BEGIN {_FTS_INSERT} END",
    f"CREATE TRIGGER document_search_fts_delete AFTER DELETE ON document_search BEGIN {_FTS_DELETE} END",
    "CREATE TRIGGER document_search_fts_update AFTER UPDATE OF search_text ON document_search "
    f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    # document_search follows the documents, their links and the contacts
    f"""CREATE TRIGGER document_search_insert AFTER INSERT ON document BEGIN
    INSERT INTO document_search (document_id, {', '.join(LISTED)}, search_text)
    VALUES (NEW.id, {', '.join(f'NEW.{c}' for c in LISTED)}, {sqlite_text('NEW.id')}); END""",
    f"""CREATE TRIGGER document_search_update AFTER UPDATE OF {', '.join(LISTED)} ON document
    WHEN {_changed} BEGIN
    UPDATE document_search SET {', '.join(f'{c} = NEW.{c}' for c in LISTED)} WHERE document_id = NEW.id; END""",
    """CREATE TRIGGER document_search_delete AFTER DELETE ON document BEGIN
    DELETE FROM document_search WHERE document_id = OLD.id; END""",
    f"""CREATE TRIGGER document_search_link_insert AFTER INSERT ON document_contact BEGIN
    UPDATE document_search SET search_text = {sqlite_text('NEW.document_id')} WHERE document_id = NEW.document_id;
    END""",
    f"""CREATE TRIGGER document_search_link_delete AFTER DELETE ON document_contact BEGIN
    UPDATE document_search SET search_text = {sqlite_text('OLD.document_id')} WHERE document_id = OLD.document_id;
    END""",
    f"""CREATE TRIGGER document_search_link_update AFTER UPDATE OF document_id, contact_id ON document_contact BEGIN
    UPDATE document_search SET search_text = {sqlite_text('OLD.document_id')} WHERE document_id = OLD.document_id;
    UPDATE document_search SET search_text = {sqlite_text('NEW.document_id')} WHERE document_id = NEW.document_id;
    END""",
    f"""CREATE TRIGGER document_search_contact_update AFTER UPDATE OF search_text ON contact
    WHEN NEW.search_text IS NOT OLD.search_text BEGIN
    UPDATE document_search SET search_text = {sqlite_text('document_search.document_id')}
    WHERE document_id IN (SELECT dc.document_id FROM document_contact dc WHERE dc.contact_id = NEW.id); END""",
]
SQLITE_TRIGGER_NAMES = [
    "document_search_fts_insert", "document_search_fts_delete", "document_search_fts_update",
    "document_search_insert", "document_search_update", "document_search_delete", "document_search_link_insert",
    "document_search_link_delete", "document_search_link_update", "document_search_contact_update",
]


def backfill_sql(dialect: str, where: str = "") -> str:
    """INSERT of the document_search rows of the documents (``where``: a condition on d),
    set-based; also used by bench/search_data.py after a bulk load without triggers."""
    text = "document_search_text(d.id)" if dialect == "postgresql" else sqlite_text("d.id")
    return (f"INSERT INTO document_search (document_id, {', '.join(LISTED)}, search_text) "
            f"SELECT d.id, {', '.join(f'd.{c}' for c in LISTED)}, {text} FROM document d"
            + (f" WHERE {where}" if where else ""))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "document_search",
        sa.Column("document_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("total_ttc", simple_erp.models.types.ScaledDecimal(2), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id"),
    )
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(PG_TEXT)
        op.execute(backfill_sql(dialect))
        for statement in POSTGRESQL_STATEMENTS[1:]:
            op.execute(statement)
        op.execute("CREATE INDEX ix_document_search_trgm ON document_search USING gin (search_text gin_trgm_ops)")
    else:
        op.execute(backfill_sql(dialect))
        op.execute(SQLITE_FTS)
        op.execute("INSERT INTO document_search_fts(document_search_fts) VALUES ('rebuild')")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_index("ix_document_search_walk", "document_search", ["kind", "issue_date", "document_id"],
                    postgresql_include=["status", "total_ttc", "search_text"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute("DROP FUNCTION IF EXISTS document_search_text(integer)")
    else:
        for trigger in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS document_search_fts")
    op.drop_table("document_search")
