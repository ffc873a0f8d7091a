"""Benchmark: the list of factures (services.documents.list_documents) on PostgreSQL.

Goal: <= 50 ms (p95) for the first page and for filtered searches (status + date range +
amount range; a client searched by name; both together) on 1 000 000 factures. Lines
marked "not in goal" are shown for information (e.g. one common word matching hundreds
of contacts, whose exact count up to 10 001 documents costs more).
Run: .venv/bin/python bench/documents_list.py [--rows N] [--contacts N] [--vacuum] [--explain]
A throw-away database on postgresql+psycopg2://postgres@127.0.0.1:5432 is created,
migrated (simple_erp.migrate.upgrade), filled in SQL (INSERT … SELECT generate_series),
analysed, measured, then dropped (even on error). Informational: always exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SIMPLE_ERP_SECRET_KEY", Fernet.generate_key().decode())  # before importing simple_erp

from sqlalchemy import create_engine, text  # noqa: E402

from simple_erp.db import make_engine, session_scope  # noqa: E402
from simple_erp.migrate import upgrade  # noqa: E402
from simple_erp.services.documents.lists import _conditions  # noqa: E402
from simple_erp.services.documents import DocumentFilters, list_documents  # noqa: E402

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
GOAL_MS = 50.0
WARMUPS, RUNS = 3, 20

# Accent-free on purpose: search_text is stored lower-case and accent-free.
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefevre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet", "Francois", "Martinez", "Legare",
        "Chevalier", "Gauthier", "Perrin", "Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Nicolas"]
FIRST = ["Jean", "Marie", "Pierre", "Anne", "Michel", "Francoise", "Philippe", "Nathalie", "Eric", "Isabelle",
         "Luc", "Sylvie", "Helene", "Jerome", "Celine", "Amelie", "Gaelle", "Noel", "Chloe", "Theo", "Lea", "Hugo",
         "Zoe", "Louis", "Ines", "Raphael", "Camille", "Manon"]
CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier", "Bordeaux",
          "Lille", "Rennes", "Reims", "Grenoble", "Quimper", "Orleans", "Besancon", "Brest", "Dijon", "Tours", "Metz"]
START = date(2022, 1, 1)
DAYS = 5 * 365  # issue dates spread over five years

CLIENT = "dubois lyon"  # a client searched by name and city: 15 contacts, ~700 factures
COMMON = "dubois"  # one common word: 2.5 % of the contacts (40 surnames only), ~25 000 factures
CASES = [  # (label, filters, page, counts toward the goal)
    ("first page, no filter", DocumentFilters(), 1, True),
    ("page 40, no filter", DocumentFilters(), 40, False),
    ("status + dates + amounts", DocumentFilters(
        status="finalise", date_from=date(2025, 1, 1), date_to=date(2025, 12, 31),
        amount_min=Decimal(100), amount_max=Decimal(500)), 1, True),
    ("narrow status+dates+amounts", DocumentFilters(
        status="brouillon", date_from=date(2025, 6, 1), date_to=date(2025, 6, 30),
        amount_min=Decimal(4000), amount_max=Decimal(4100)), 1, False),
    ("contact: client (2 words)", DocumentFilters(contact_query=CLIENT), 1, True),
    ("all filters + client", DocumentFilters(
        status="finalise", date_from=date(2024, 1, 1), date_to=date(2025, 12, 31),
        amount_min=Decimal(50), amount_max=Decimal(2000), contact_query=CLIENT), 1, True),
    ("contact: one e-mail", DocumentFilters(contact_query="c00077@"), 1, False),
    ("contact: no match", DocumentFilters(contact_query="zzqxw"), 1, False),
    ("contact: common word", DocumentFilters(contact_query=COMMON), 1, False),
    ("all filters + common word", DocumentFilters(
        status="finalise", date_from=date(2024, 1, 1), date_to=date(2025, 12, 31),
        amount_min=Decimal(50), amount_max=Decimal(2000), contact_query=COMMON), 1, False),
]


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def populate(engine, rows: int, n_contacts: int, vacuum: bool) -> float:
    start = time.perf_counter()
    last, first, cities = _sql_array(LAST), _sql_array(FIRST), _sql_array(CITIES)
    with engine.begin() as conn:
        # Bulk load: no triggers (the finalised documents' guards refuse links added to them).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(
            "INSERT INTO company (name, legal_form, address_line1, address_line2, postal_code, city, country, siren,"
            " siret, rcs_city, vat_number, vat_regime, logo_filename, iban_encrypted, iban_masked, bic, ics,"
            " payment_terms, late_penalty_rate, escompte_text, contact_email, phone, mollie_api_key_encrypted,"
            " is_default, created_at) VALUES ('Bench SAS', 'SAS', '', '', '75002', 'Paris', 'FR', '732829320', '',"
            " '', '', 'normal', '', '', '', '', '', '30_jours_net', 1215, '', '', '', '', true, now())"))
        conn.execute(text(f"""
            INSERT INTO contact (kind, company_name, last_name, first_name, display_name, sort_name, email, phone,
                address_line1, address_line2, postal_code, city, country, siren, vat_number, notes,
                iban_encrypted, iban_masked, bic, rum, mandate_signed_on, search_text, created_at, updated_at)
            SELECT 'particulier', '', l, f, upper(l) || ' ' || f, lower(l || ' ' || f), e, '', '', '', '00000', c,
                   'FR', '', '', '', '', '', '', NULL, NULL,
                   lower(l || ' ' || f || ' ' || e || ' ' || c), now(), now()
            FROM (SELECT g,
                         ({last})[1 + (hashint % {len(LAST)})] AS l,
                         ({first})[1 + ((hashint / 64) % {len(FIRST)})] AS f,
                         ({cities})[1 + ((hashint / 4096) % {len(CITIES)})] AS c,
                         'c' || lpad(g::text, 5, '0') || '@exemple.fr' AS e
                  FROM (SELECT g, abs(hashtext(g::text)) AS hashint FROM generate_series(1, {n_contacts}) g) s) t
        """))
        conn.execute(text(f"""
            INSERT INTO document (id, kind, status, company_id, number, issue_date, due_date, delivery_date,
                payment_terms, notes, source_id, total_ht, total_vat, total_ttc, snapshot, contact_name,
                finalized_at, created_at, updated_at)
            SELECT g, 'facture', st, 1, CASE WHEN st = 'finalise' THEN 'F-' || g ELSE NULL END, d, d + 30, NULL,
                   '30_jours_net', '', NULL, ht, round(ht * 0.2), ht + round(ht * 0.2), '', c.display_name,
                   CASE WHEN st = 'finalise' THEN now() ELSE NULL END, now(), now()
            FROM (SELECT g,
                         DATE '{START.isoformat()}' + (g::bigint * {DAYS} / {rows})::int AS d,
                         CASE WHEN abs(hashtext('s' || g)) % 10 = 0 THEN 'brouillon' ELSE 'finalise' END AS st,
                         1000 + abs(hashtext('a' || g)) % 499000 AS ht,
                         1 + abs(hashtext('c' || g)) % {n_contacts} AS contact_id
                  FROM generate_series(1, {rows}) g) s
            JOIN contact c ON c.id = s.contact_id
        """))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('document', 'id'), (SELECT max(id) FROM document))"))
        # The same contact as contact_name: ids are g, the contact comes from the same hash.
        conn.execute(text(
            f"INSERT INTO document_contact (document_id, contact_id, position) "
            f"SELECT id, 1 + abs(hashtext('c' || id)) % {n_contacts}, 0 FROM document"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if vacuum else "ANALYZE"))
    return time.perf_counter() - start


def measure(engine, filters: DocumentFilters, page: int):
    times, result = [], None
    for i in range(WARMUPS + RUNS):
        start = time.perf_counter()
        with session_scope(engine) as session:
            result = list_documents(session, "facture", filters, page)
        if i >= WARMUPS:
            times.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
    return statistics.median(times), p95, result


def explain(engine, filters: DocumentFilters) -> list[str]:
    """EXPLAIN ANALYZE of the capped count and of the page query (for the lines that missed)."""
    from sqlalchemy import func, literal, select

    from simple_erp.models.document import Document
    from simple_erp.services.documents.lists import COUNT_CAP

    if filters.contact_query:  # several statements, with planner switches: replayed by search_scale.py
        return ["(a client search: see bench/search_scale.py --explain)"]
    with session_scope(engine) as session:
        conditions = _conditions(session, "facture", filters)
    limited = select(literal(1)).select_from(Document).where(*conditions).limit(COUNT_CAP + 1).subquery()
    statements = {
        "count": select(func.count()).select_from(limited),
        "page": select(Document.id).where(*conditions).order_by(Document.issue_date.desc(), Document.id.desc())
        .limit(25),
    }
    out = []
    with engine.connect() as conn:
        for label, stmt in statements.items():
            sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            out.append(f"[{label}]")
            out += [r[0][:160] for r in conn.execute(text("EXPLAIN ANALYZE " + sql))]
    return out


def bench(url: str, rows: int, n_contacts: int, vacuum: bool, args_explain: bool) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        seconds = populate(engine, rows, n_contacts, vacuum)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM document")).scalar_one()
            size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('document'))")).scalar_one()
        print(f"\n== postgresql: {count:,} factures, {n_contacts:,} contacts, loaded in {seconds:.1f} s "
              f"(document table + indexes: {size}); {'VACUUM ANALYZE' if vacuum else 'ANALYZE'}".replace(",", " "))
        print(f"{'case':<30}{'matches':>9}{'median ms':>11}{'p95 ms':>9}  goal")
        misses = []
        for label, filters, page, goal in CASES:
            med, p95, result = measure(engine, filters, page)
            shown = f"{result.total - 1}+" if result.total_capped else str(result.total)
            verdict = ("PASS" if p95 <= GOAL_MS else "MISS") + ("" if goal else " (not in goal)")
            print(f"{label:<30}{shown:>9}{med:>11.1f}{p95:>9.1f}  {verdict}")
            if p95 > GOAL_MS and args_explain:
                misses.append((label, filters))
        for label, filters in misses:
            print(f"\n-- plans, {label}:")
            print("\n".join(explain(engine, filters)))
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--vacuum", action="store_true", help="VACUUM ANALYZE instead of ANALYZE after loading "
                        "(the steady state autovacuum reaches: visibility map set, index-only scans)")
    parser.add_argument("--explain", action="store_true", help="print the plans of the lines over the goal")
    args = parser.parse_args()
    print(f"goal: ≤ {GOAL_MS:.0f} ms per list call (p95 of {RUNS} runs after {WARMUPS} warm-ups, fresh session "
          "per call, page query + capped count); PASS/MISS per line, informational")
    name = f"bench_documents_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench(f"{PG_SERVER}/{name}", args.rows, args.contacts, args.vacuum, args.explain)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
