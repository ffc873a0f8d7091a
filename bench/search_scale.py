"""Benchmark: every list and search of the app as the data grows, 10 000 -> 100 000 -> 1 000 000.

Goal (issue 15): the first page of each list <= 50 ms (p95) at 1 000 000 contacts and
1 000 000 documents on PostgreSQL (SQLite, the default: <= 50 ms at 100 000), with a cost
that stays flat or logarithmic as the rows grow, not linear.
Run: .venv/bin/python bench/search_scale.py [--backend sqlite|postgresql|both]
     [--steps 10000,100000,1000000] [--rounds R] [--explain] [--keep] [--cases TEXT]
     [--database bench_search_<kept>] (PostgreSQL: measure a kept database again, no load)
PostgreSQL: a throw-away database bench_search_<random> on
postgresql+psycopg2://postgres@127.0.0.1:5432, migrated like the app, filled by COPY
(bench/search_data.py), dropped at the end (even on error). SQLite: a temporary file, up to
100 000 rows. Informational: always exits 0.

Each step adds contacts and documents up to N of each (with their links, ~0.6 N payments,
~0.8 N e-mails), VACUUM ANALYZE, then times each case through the real service, a fresh
session per call: 3 warm-ups, then R rounds (default 30), p50 and p95 in ms. The machine is
shared: compare the growth along a line, and rerun a line that looks off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SIMPLE_ERP_SECRET_KEY", Fernet.generate_key().decode())  # before importing simple_erp

from sqlalchemy import create_engine, event, text  # noqa: E402

import search_data  # noqa: E402
from simple_erp.db import make_engine, session_scope  # noqa: E402
from simple_erp.migrate import upgrade  # noqa: E402
from simple_erp.services import contacts  # noqa: E402
from simple_erp.services.documents import lists as document_lists
from simple_erp.services.payments import collections as payment_collections
from simple_erp.services.emails import sending as email_sending  # noqa: E402

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
GOAL_MS = 50.0
WARMUPS = 3
F = document_lists.DocumentFilters
P = payment_collections.PaymentFilters
# A finalised facture with two e-mails in its history.
EMAIL_DOC = next(i for i in range(3, 3000, 3) if search_data.document_rows(i, 10, 1, [1])[3])
FILTERS = dict(status="finalise", date_from=date(2024, 1, 1), date_to=date(2024, 12, 31),
               amount_min=Decimal(100), amount_max=Decimal(2000))


def _contacts(query: str, page: int = 1):
    return lambda s: contacts.search_contacts(s, query, page)


def _documents(filters, page: int = 1):
    return lambda s: document_lists.list_documents(s, "facture", filters, page, today=date(2026, 6, 1))


def _payments(filters):
    return lambda s: payment_collections.list_collections(s, filters, 1)


# (list, case, call, in the goal): the four searches (one word, two words, a rare
# word, a word in a third of the rows) on each list that has a search, plus each list's
# first page and filters.
CASES = [
    ("contacts", "first page", _contacts(""), True),
    ("contacts", "one word, 1 % (quimper)", _contacts("quimper"), True),
    ("contacts", "two words (martin lyon)", _contacts("martin lyon"), True),
    ("contacts", "rare word (4321@)", _contacts("4321@"), True),
    ("contacts", "a third of the rows (gmail)", _contacts("gmail"), True),
    ("contacts", "surname, 2.5 % (lefevre)", _contacts("Lefèvre"), True),
    ("contacts", "no match (zzqxw)", _contacts("zzqxw"), True),
    ("contacts", "page 40, one word", _contacts("quimper", 40), False),
    ("documents", "first page", _documents(F()), True),
    ("documents", "status + dates + amounts", _documents(F(**FILTERS)), True),
    ("documents", "client, one word (quimper)", _documents(F(contact_query="quimper")), True),
    ("documents", "client, two words (martin lyon)", _documents(F(contact_query="martin lyon")), True),
    ("documents", "client, rare word (4321@)", _documents(F(contact_query="4321@")), True),
    ("documents", "client, a third (gmail)", _documents(F(contact_query="gmail")), True),
    ("documents", "client quimper + filters", _documents(F(contact_query="quimper", **FILTERS)), False),
    ("documents", "client lyon, 2 weeks", _documents(F(contact_query="lyon", date_from=date(2024, 3, 1),
                                                      date_to=date(2024, 3, 14))), False),
    ("documents", "client martin, 2 months", _documents(F(contact_query="martin", date_from=date(2024, 3, 1),
                                                         date_to=date(2024, 4, 30))), False),
    ("documents", "client martin, 1 year", _documents(F(contact_query="martin", date_from=date(2024, 1, 1),
                                                       date_to=date(2024, 12, 31))), False),
    ("documents", "client martin lyon, since 2021", _documents(F(contact_query="martin lyon",
                                                                date_from=date(2021, 1, 1))), False),
    ("payments", "first page (with totals)", _payments(P()), True),
    ("payments", "status: en attente", _payments(P(status="en_attente")), True),
    ("payments", "one month", _payments(P(date_from=date(2024, 3, 1), date_to=date(2024, 3, 31))), True),
    ("emails", "a document's history", lambda s: email_sending.list_document_emails(s, EMAIL_DOC), True),
]


def _shown(result) -> str:
    if isinstance(result, list):
        return str(len(result))
    total = getattr(result, "total", 0)
    return f"{total}+" if getattr(result, "total_capped", False) else str(total)


def measure(engine, call, rounds: int) -> tuple[float, float, str]:
    times, result = [], None
    for i in range(WARMUPS + rounds):
        start = time.perf_counter()
        with session_scope(engine) as session:
            result = call(session)
        if i >= WARMUPS:
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], _shown(result)


def explain(engine, call) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every query the call runs (PostgreSQL), replayed in one
    transaction with the service's own SET LOCAL planner switches."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope(engine) as session:
            call(session)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SET"):
                cursor.execute(statement, parameters)
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = [r[0] for r in cursor.fetchall()]
            print("    " + " ".join(statement.split())[:140])
            print("\n".join("      " + line.strip() for line in plan if any(
                key in line for key in ("Scan", "Execution", "Buffers", "Limit", "Sort", "Rows Removed", "Join",
                                        "Nested", "Aggregate"))))
        conn.rollback()


def bench(backend: str, url: str, steps: list[int], rounds: int, with_explain: bool, cases: str = "",
          reuse: bool = False) -> dict:
    upgrade(url)
    engine = make_engine(url)
    results: dict[tuple[str, str], dict[int, tuple[float, float, str]]] = {}
    try:
        company, methods = (None, None) if reuse else search_data.setup(engine)
        done = 0
        for step in steps:
            seconds = 0.0 if reuse else search_data.grow(engine, done, step, company, methods)
            done = step
            with engine.connect() as conn:
                counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                          for t in ("contact", "document", "payment", "email_message")}
            print(f"\n== {backend}, {step:,} rows: {counts} loaded in {seconds:.0f} s; load average "
                  f"{os.getloadavg()[0]:.1f}".replace(",", " "))
            print(f"{'list':<10}{'case':<34}{'found':>8}{'p50 ms':>9}{'p95 ms':>9}  goal")
            for list_name, label, call, goal in CASES:
                if cases and cases not in f"{list_name} {label}":
                    continue
                p50, p95, shown = measure(engine, call, rounds)
                results.setdefault((list_name, label), {})[step] = (p50, p95, shown)
                verdict = ("PASS" if p95 <= GOAL_MS else "MISS") if goal else "(not in goal)"
                print(f"{list_name:<10}{label:<34}{shown:>8}{p50:>9.1f}{p95:>9.1f}  {verdict}", flush=True)
                if with_explain and backend == "postgresql" and step == steps[-1]:
                    explain(engine, call)
    finally:
        engine.dispose()
    print(f"\n== {backend}: p95 in ms as the rows grow")
    print(f"{'list':<10}{'case':<34}" + "".join(f"{s:>11,}".replace(",", " ") for s in steps))
    for (list_name, label), by_step in results.items():
        print(f"{list_name:<10}{label:<34}" + "".join(f"{by_step[s][1]:>11.1f}" for s in steps if s in by_step))
    return results


def run_postgresql(steps: list[int], rounds: int, with_explain: bool, keep: bool, cases: str = "",
                   database: str = "") -> None:
    if database:  # a database kept by an earlier run (--keep), measured again as it is
        url = f"{PG_SERVER}/{database}"
        counter = make_engine(url)
        with counter.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM contact")).scalar_one()
        counter.dispose()
        bench("postgresql", url, [rows], rounds, with_explain, cases, reuse=True)
        return
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench("postgresql", f"{PG_SERVER}/{name}", steps, rounds, with_explain, cases)
        finally:
            if keep:
                print(f"kept: {PG_SERVER}/{name}")
            else:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--steps", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="PostgreSQL, last step: each statement's plan")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--database", default="", help="PostgreSQL: measure this kept database again, no load")
    parser.add_argument("--cases", default="", help="only the cases whose « list case » contains this text")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    print(f"goal: first page <= {GOAL_MS:.0f} ms (p95 of {args.rounds} rounds after {WARMUPS} warm-ups, fresh "
          f"session per call); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench_search_") as tmp:
            bench("sqlite", f"sqlite:///{tmp}/bench.db", [s for s in steps if s <= 100_000], args.rounds, False,
                  args.cases)
    if args.backend in ("postgresql", "both"):
        run_postgresql(steps, args.rounds, args.explain, args.keep, args.cases, args.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
