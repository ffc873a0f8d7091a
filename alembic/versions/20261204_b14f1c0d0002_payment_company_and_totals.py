"""payments: their company (Tableau de bord) and a summary kept by triggers (Encaissements)

Revision ID: b14f1c0d0002
Revises: a9e0c0de0001
Create Date: 2026-12-04 16:00:00

Issue 14: ``payment.company_id`` (copied from the invoice when the payment is created:
a payment never moves and a finalised invoice keeps its company), backfilled from
document.company_id. NOT NULL on PostgreSQL; on SQLite it stays nullable at the database
level (making it NOT NULL there needs a table rebuild, which would drop triggers) and a
trigger refuses a payment without a company instead. The partial index of the counted
payments is now led by company_id: the dashboard reads a company's own payments without
joining them to their invoices.

Issue 15: ``payment_total``, one row per (payment method, status, day) with the count and
the sums (cents) of amount and amount_refunded, where day is received_on for a received
payment and otherwise the request's date in Europe/Paris (the Encaissements' period
filter). Triggers on ``payment`` keep it exactly in sync for every writer (PostgreSQL: one
INSERT … ON CONFLICT DO UPDATE with increments per key, so concurrent transactions never
lose an update; the two keys of an UPDATE are taken in key order against deadlocks).
Bulk loads that disable triggers (bench/search_data.py) rebuild it after
(services.payments.collections.rebuild_payment_totals).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "b14f1c0d0002"
down_revision: Union[str, None] = "a9e0c0de0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COUNTED_PAYMENT = "status IN ('partiellement_rembourse', 'recu')"

PG_DAY = "COALESCE({p}.received_on, ({p}.requested_at AT TIME ZONE 'Europe/Paris')::date)"
# SQLite has no time zones: Europe/Paris is UTC+2 from the last Sunday of March 01:00 UTC
# to the last Sunday of October 01:00 UTC, UTC+1 otherwise (EU rules since 1996).
# requested_at is stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC).
SQLITE_DAY = (
    "COALESCE({p}.received_on, CASE WHEN {p}.requested_at >= date(strftime('%Y', {p}.requested_at) || '-03-25', "
    "'weekday 0') || ' 01:00:00' AND {p}.requested_at < date(strftime('%Y', {p}.requested_at) || '-10-25', "
    "'weekday 0') || ' 01:00:00' THEN date({p}.requested_at, '+2 hours') ELSE date({p}.requested_at, '+1 hours') END)"
)
BACKFILL = (
    "INSERT INTO payment_total (method_id, status, day, payment_count, amount, amount_refunded) "
    "SELECT p.method_id, p.status, {day}, count(*), sum(p.amount), sum(p.amount_refunded) "
    "FROM payment p GROUP BY p.method_id, p.status, {day}"
)
TRACKED = "method_id, status, received_on, requested_at, amount, amount_refunded"
CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRACKED.split(", "))

PG_STATEMENTS = [
    """
    CREATE FUNCTION payment_total_add(m integer, s varchar, d date, n bigint, a bigint, r bigint)
    RETURNS void LANGUAGE sql AS $$
      INSERT INTO payment_total AS t (method_id, status, day, payment_count, amount, amount_refunded)
      VALUES (m, s, d, n, a, r)
      ON CONFLICT (method_id, status, day) DO UPDATE
      SET payment_count = t.payment_count + EXCLUDED.payment_count,
          amount = t.amount + EXCLUDED.amount,
          amount_refunded = t.amount_refunded + EXCLUDED.amount_refunded
    $$
    """,
    f"""
    CREATE FUNCTION payment_total_sync() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      old_day date;
      new_day date;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM payment_total_add(NEW.method_id, NEW.status, {PG_DAY.format(p='NEW')}, 1, NEW.amount, NEW.amount_refunded);
      ELSIF TG_OP = 'DELETE' THEN
        PERFORM payment_total_add(OLD.method_id, OLD.status, {PG_DAY.format(p='OLD')}, -1, -OLD.amount, -OLD.amount_refunded);
      ELSE
        old_day := {PG_DAY.format(p='OLD')};
        new_day := {PG_DAY.format(p='NEW')};
        IF (OLD.method_id, OLD.status, old_day) <= (NEW.method_id, NEW.status, new_day) THEN
          PERFORM payment_total_add(OLD.method_id, OLD.status, old_day, -1, -OLD.amount, -OLD.amount_refunded);
          PERFORM payment_total_add(NEW.method_id, NEW.status, new_day, 1, NEW.amount, NEW.amount_refunded);
        ELSE
          PERFORM payment_total_add(NEW.method_id, NEW.status, new_day, 1, NEW.amount, NEW.amount_refunded);
          PERFORM payment_total_add(OLD.method_id, OLD.status, old_day, -1, -OLD.amount, -OLD.amount_refunded);
        END IF;
      END IF;
      RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER payment_total_insert_delete AFTER INSERT OR DELETE ON payment "
    "FOR EACH ROW EXECUTE FUNCTION payment_total_sync()",
    f"CREATE TRIGGER payment_total_update AFTER UPDATE OF {TRACKED} ON payment FOR EACH ROW "
    f"WHEN ({CHANGED.replace(' IS NOT ', ' IS DISTINCT FROM ')}) EXECUTE FUNCTION payment_total_sync()",
    """
    CREATE FUNCTION payment_total_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM payment_total;
      RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER payment_total_truncate AFTER TRUNCATE ON payment "
    "FOR EACH STATEMENT EXECUTE FUNCTION payment_total_truncate()",
]


def _sqlite_upsert(p: str, sign: str) -> str:
    return (
        "INSERT INTO payment_total (method_id, status, day, payment_count, amount, amount_refunded) "
        f"VALUES ({p}.method_id, {p}.status, {SQLITE_DAY.format(p=p)}, {sign}1, {sign}{p}.amount, "
        f"{sign}{p}.amount_refunded) "
        "ON CONFLICT (method_id, status, day) DO UPDATE SET "
        "payment_count = payment_count + excluded.payment_count, amount = amount + excluded.amount, "
        "amount_refunded = amount_refunded + excluded.amount_refunded;"
    )


SQLITE_STATEMENTS = [
    f"CREATE TRIGGER payment_total_insert AFTER INSERT ON payment BEGIN {_sqlite_upsert('NEW', '')} END",
    f"CREATE TRIGGER payment_total_delete AFTER DELETE ON payment BEGIN {_sqlite_upsert('OLD', '-')} END",
    f"CREATE TRIGGER payment_total_update AFTER UPDATE OF {TRACKED} ON payment WHEN {CHANGED} "
    f"BEGIN {_sqlite_upsert('OLD', '-')} {_sqlite_upsert('NEW', '')} END",
    # company_id stays nullable in SQLite's table (see above): refused here instead.
    "CREATE TRIGGER payment_company_required BEFORE INSERT ON payment WHEN NEW.company_id IS NULL "
    "BEGIN SELECT RAISE(ABORT, 'payment.company_id est obligatoire'); END",
    "CREATE TRIGGER payment_company_required_update BEFORE UPDATE OF company_id ON payment "
    "WHEN NEW.company_id IS NULL BEGIN SELECT RAISE(ABORT, 'payment.company_id est obligatoire'); END",
]


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    # Plain ADD COLUMN (nullable, no default): SQLite does it without rebuilding the table.
    if postgres:
        op.add_column("payment", sa.Column("company_id", sa.Integer(), sa.ForeignKey("company.id"), nullable=True))
    else:  # Alembic would ask for batch mode (a rebuild) to add the foreign key
        op.execute("ALTER TABLE payment ADD COLUMN company_id INTEGER REFERENCES company (id)")
    op.execute("UPDATE payment SET company_id = (SELECT d.company_id FROM document d WHERE d.id = payment.document_id)")
    if postgres:
        op.alter_column("payment", "company_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("ix_payment_received_counted", table_name="payment")
    op.create_index("ix_payment_received_counted", "payment",
                    ["company_id", "received_on", "amount", "amount_refunded"], unique=False,
                    postgresql_where=sa.text(COUNTED_PAYMENT), sqlite_where=sa.text(COUNTED_PAYMENT))

    op.create_table(
        "payment_total",
        sa.Column("method_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payment_count", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("method_id", "status", "day"),
    )
    op.execute(BACKFILL.format(day=(PG_DAY if postgres else SQLITE_DAY).format(p="p")))
    for statement in PG_STATEMENTS if postgres else SQLITE_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payment_total_truncate ON payment")
        op.execute("DROP TRIGGER IF EXISTS payment_total_update ON payment")
        op.execute("DROP TRIGGER IF EXISTS payment_total_insert_delete ON payment")
        op.execute("DROP FUNCTION IF EXISTS payment_total_truncate()")
        op.execute("DROP FUNCTION IF EXISTS payment_total_sync()")
        op.execute("DROP FUNCTION IF EXISTS payment_total_add(integer, varchar, date, bigint, bigint, bigint)")
    else:
        for name in ("payment_total_insert", "payment_total_delete", "payment_total_update",
                     "payment_company_required", "payment_company_required_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("payment_total")
    op.drop_index("ix_payment_received_counted", table_name="payment")
    op.create_index("ix_payment_received_counted", "payment", ["received_on", "document_id", "amount", "amount_refunded"],
                    unique=False, postgresql_where=sa.text(COUNTED_PAYMENT), sqlite_where=sa.text(COUNTED_PAYMENT))
    with op.batch_alter_table("payment") as batch_op:  # SQLite: a rebuild (its triggers are all dropped above)
        batch_op.drop_column("company_id")
