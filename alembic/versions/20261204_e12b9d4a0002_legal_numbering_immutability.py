"""Legal numbering and immutability: numbers unique per company across kinds, frozen logo
and content hash of finalised documents, database triggers refusing changes to them.

- unique index uq_document_company_number (company_id, number): an invoice and an avoir can
  no longer share « AV-2027-00003 » (the upgrade stops, naming them, if some already do);
- document.logo_sha256 + table document_logo: the logo a document was finalised with;
- document.content_sha256: SHA-256 of the frozen content (domain.content_hash), backfilled
  for the documents already finalised (with the company's current logo, the one they print);
- triggers (SQLite and PostgreSQL): a finalised document's frozen columns, its lines and
  its contacts can be neither changed nor deleted, no line or contact can be added to it,
  and a stored logo never changes. What legitimately changes afterwards stays free
  (amount_received, public_token, updated_at, contact_name, any column added later), and
  source_id may only be cleared (deleting the draft a document was converted from).

Revision ID: e12b9d4a0002
Revises: 30a71b11cf1a
Create Date: 2026-12-04 09:30:00
"""
from typing import Sequence, Union
import hashlib
from datetime import date
from decimal import Decimal

from alembic import op
import sqlalchemy as sa
import sqlmodel
import simple_erp.models.types


revision: str = 'e12b9d4a0002'
down_revision: Union[str, None] = '30a71b11cf1a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FINAL = "'finalise'"
# Columns of a finalised document that never change (source_id: see WHERE below).
FROZEN = ("kind", "status", "company_id", "number", "issue_date", "due_date", "delivery_date",
          "payment_terms", "notes", "total_ht", "total_vat", "total_ttc", "snapshot", "finalized_at",
          "logo_sha256", "content_sha256", "created_at")
MESSAGE = "document finalise : son contenu fige ne peut pas etre modifie ni supprime"
LINE_MESSAGE = "document finalise : ses lignes et ses contacts ne peuvent pas etre modifies"
LOGO_MESSAGE = "logo fige des documents finalises : il ne peut pas etre modifie ni supprime"
CHILD_TABLES = ("document_line", "document_contact")

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER document_frozen_update BEFORE UPDATE ON document
    WHEN OLD.status = {FINAL} AND ({' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in FROZEN)}
        OR (NEW.source_id IS NOT OLD.source_id AND NEW.source_id IS NOT NULL))
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER document_frozen_delete BEFORE DELETE ON document WHEN OLD.status = {FINAL}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    "CREATE TRIGGER document_logo_frozen_update BEFORE UPDATE ON document_logo "
    f"BEGIN SELECT RAISE(ABORT, '{LOGO_MESSAGE}'); END",
    "CREATE TRIGGER document_logo_frozen_delete BEFORE DELETE ON document_logo "
    f"BEGIN SELECT RAISE(ABORT, '{LOGO_MESSAGE}'); END",
]
for _table in CHILD_TABLES:
    _final = "(SELECT status FROM document WHERE id = {}.document_id) = " + FINAL
    SQLITE_TRIGGERS += [
        f"""CREATE TRIGGER {_table}_frozen_insert BEFORE INSERT ON {_table} WHEN {_final.format('NEW')}
        BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END""",
        f"""CREATE TRIGGER {_table}_frozen_update BEFORE UPDATE ON {_table}
        WHEN {_final.format('OLD')} OR {_final.format('NEW')}
        BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END""",
        f"""CREATE TRIGGER {_table}_frozen_delete BEFORE DELETE ON {_table} WHEN {_final.format('OLD')}
        BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END""",
    ]
SQLITE_TRIGGER_NAMES = ["document_frozen_update", "document_frozen_delete", "document_logo_frozen_update",
                        "document_logo_frozen_delete"] + [f"{t}_frozen_{op_}" for t in CHILD_TABLES
                                                          for op_ in ("insert", "update", "delete")]

_OLD_ROW = ", ".join(f"OLD.{c}" for c in FROZEN)
_NEW_ROW = ", ".join(f"NEW.{c}" for c in FROZEN)
POSTGRESQL_STATEMENTS = [
    f"""CREATE FUNCTION document_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.status = {FINAL} THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
            RETURN OLD;
        END IF;
        IF OLD.status = {FINAL} AND (ROW({_NEW_ROW}) IS DISTINCT FROM ROW({_OLD_ROW})
                OR (NEW.source_id IS DISTINCT FROM OLD.source_id AND NEW.source_id IS NOT NULL)) THEN
            RAISE EXCEPTION '{MESSAGE}';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER document_frozen BEFORE UPDATE OR DELETE ON document "
    "FOR EACH ROW EXECUTE FUNCTION document_frozen_guard()",
    f"""CREATE FUNCTION document_child_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
                SELECT 1 FROM document WHERE id = OLD.document_id AND status = {FINAL}) THEN
            RAISE EXCEPTION '{LINE_MESSAGE}';
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
                SELECT 1 FROM document WHERE id = NEW.document_id AND status = {FINAL}) THEN
            RAISE EXCEPTION '{LINE_MESSAGE}';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    *(f"CREATE TRIGGER {t}_frozen BEFORE INSERT OR UPDATE OR DELETE ON {t} "
      "FOR EACH ROW EXECUTE FUNCTION document_child_frozen_guard()" for t in CHILD_TABLES),
    f"""CREATE FUNCTION document_logo_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{LOGO_MESSAGE}'; END $$""",
    "CREATE TRIGGER document_logo_frozen BEFORE UPDATE OR DELETE ON document_logo "
    "FOR EACH ROW EXECUTE FUNCTION document_logo_frozen_guard()",
]


def _check_no_shared_numbers(conn) -> None:
    rows = conn.execute(sa.text(
        "SELECT company_id, number, COUNT(*) AS n FROM document WHERE number IS NOT NULL "
        "GROUP BY company_id, number HAVING COUNT(*) > 1 ORDER BY company_id, number"
    )).all()
    if rows:
        shown = ", ".join(f"« {r.number} » (société {r.company_id}, {r.n} documents)" for r in rows[:20])
        raise RuntimeError(
            "Numéros de documents en double entre types (une facture et un avoir de même numéro) : "
            f"{shown}. Ces documents légaux ne sont pas renumérotés automatiquement : corrigez-les "
            "(avec votre expert-comptable) puis relancez la mise à jour."
        )


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _scaled(value, places: int) -> Decimal:
    return Decimal(int(value)) / (Decimal(10) ** places)


def _backfill(conn) -> None:
    """Freeze the current logo and hash the content of every finalised document."""
    from simple_erp.domain.content_hash import FrozenDocument, FrozenLine, content_sha256

    logos = {row.id: row.logo for row in conn.execute(sa.text("SELECT id, logo FROM company"))}
    stored: set[str] = set()
    docs = conn.execute(sa.text(
        "SELECT id, company_id, kind, number, issue_date, due_date, delivery_date, payment_terms, notes, "
        "total_ht, total_vat, total_ttc, snapshot FROM document WHERE status = 'finalise' ORDER BY id"
    )).all()
    for d in docs:
        logo = logos.get(d.company_id)
        logo = bytes(logo) if logo else None
        sha = hashlib.sha256(logo).hexdigest() if logo else None
        if sha and sha not in stored:
            exists = conn.execute(sa.text("SELECT 1 FROM document_logo WHERE sha256 = :s"), {"s": sha}).first()
            if exists is None:
                conn.execute(sa.text("INSERT INTO document_logo (sha256, content, created_at) "
                                     "VALUES (:s, :c, CURRENT_TIMESTAMP)"), {"s": sha, "c": logo})
            stored.add(sha)
        lines = conn.execute(sa.text(
            "SELECT position, description, quantity, unit, unit_price, discount_percent, vat_rate "
            "FROM document_line WHERE document_id = :id ORDER BY position, id"
        ), {"id": d.id}).all()
        frozen = FrozenDocument(
            document_id=d.id, company_id=d.company_id, kind=d.kind, number=d.number or "",
            issue_date=_date(d.issue_date), due_date=_date(d.due_date), delivery_date=_date(d.delivery_date),
            payment_terms=d.payment_terms, notes=d.notes or "", total_ht=_scaled(d.total_ht, 2),
            total_vat=_scaled(d.total_vat, 2), total_ttc=_scaled(d.total_ttc, 2), snapshot=d.snapshot or "",
            logo_sha256=sha or "",
        )
        frozen_lines = [
            FrozenLine(position=ln.position, description=ln.description or "", quantity=_scaled(ln.quantity, 3),
                       unit=ln.unit or "", unit_price=_scaled(ln.unit_price, 4),
                       discount_percent=_scaled(ln.discount_percent, 2), vat_rate=_scaled(ln.vat_rate, 2))
            for ln in lines
        ]
        conn.execute(sa.text("UPDATE document SET logo_sha256 = :logo, content_sha256 = :hash WHERE id = :id"),
                     {"logo": sha, "hash": content_sha256(frozen, frozen_lines), "id": d.id})


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table('document_logo',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', simple_erp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    # add_column and create_index: no table rebuild on SQLite (a rebuild would drop triggers).
    op.add_column('document', sa.Column('logo_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('document', sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(length=64),
                                        nullable=True))
    _check_no_shared_numbers(conn)
    op.create_index('uq_document_company_number', 'document', ['company_id', 'number'], unique=True)
    _backfill(conn)
    statements = POSTGRESQL_STATEMENTS if conn.dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS document_frozen ON document")
        for table in CHILD_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}")
        op.execute("DROP TRIGGER IF EXISTS document_logo_frozen ON document_logo")
        for function in ("document_frozen_guard", "document_child_frozen_guard", "document_logo_frozen_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('uq_document_company_number', table_name='document')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('content_sha256')
        batch_op.drop_column('logo_sha256')
    op.drop_table('document_logo')
