"""Benchmark: the « Tableau de bord » queries (services.dashboard) on PostgreSQL.

Goal: the whole dashboard (every query of ``dashboard.dashboard``) in < 100 ms (p95) with
1 000 000 documents. Each query is also timed alone.
Run: .venv/bin/python bench/dashboard.py [--documents N] [--companies 1|2] [--years Y]
     [--rounds R] [--explain]
A throw-away database on postgresql+psycopg2://postgres@127.0.0.1:5432 is created,
migrated (simple_erp.migrate.upgrade), filled in SQL (INSERT … SELECT generate_series),
vacuumed and analysed (as autovacuum would), measured, then dropped (even on error).
Informational: always exits 0.

The data (deterministic, from the row number i; issue dates spread over ``--years`` up to
today):
* kinds: 65 % factures, 5 % avoirs (each correcting the facture just before it), 15 %
  devis, 10 % bons de commande, 5 % bons de livraison; 2 % drafts;
* with ``--companies 2``: blocks of 20 documents, one in ten for the second company (10 %);
  the measured company is the first (90 % of the documents);
* factures: due 30 days after issue; paid in full by one cheque 0 to 60 days after issue
  (when that day is past), half paid (1 %), or never (1 % of the old ones): ~1.3 % open
  invoices, most of them recent; a cancelled payment on 3 % of the factures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SIMPLE_ERP_SECRET_KEY", Fernet.generate_key().decode())  # before importing simple_erp

from sqlalchemy import create_engine, text  # noqa: E402

from simple_erp.db import make_engine, session_scope  # noqa: E402
from simple_erp.migrate import upgrade  # noqa: E402
from simple_erp.services import companies, dashboard, payments  # noqa: E402
from simple_erp.services.payments import collections as payment_collections

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
GOAL_MS = 100.0
WARMUPS = 3

FILL_DOCUMENTS = """
INSERT INTO document (kind, status, company_id, number, issue_date, due_date, payment_terms, notes,
                      source_id, total_ht, total_vat, total_ttc, amount_received, snapshot, contact_name,
                      finalized_at, created_at, updated_at)
SELECT g.kind,
       CASE WHEN g.draft THEN 'brouillon' ELSE 'finalise' END,
       g.company_id,
       CASE WHEN g.draft THEN NULL ELSE upper(left(g.kind, 2)) || '-' || g.i END,
       g.issue, CASE WHEN g.kind = 'facture' THEN g.issue + 30 END, '30_jours_net', '',
       CASE WHEN g.kind = 'avoir' THEN g.i - 1 END,
       g.ttc, 0, g.ttc,
       CASE WHEN g.kind <> 'facture' OR g.draft THEN 0
            WHEN g.i % 100 = 3 THEN 0                                   -- never paid
            WHEN g.issue + (g.i % 61) > CAST(:today AS date) THEN 0     -- not paid yet
            WHEN g.i % 100 = 5 THEN g.ttc / 2                           -- half paid
            ELSE g.ttc END,
       '', 'Client ' || (g.i % 5000), now(), now(), now()
FROM (
  SELECT i,
         CASE WHEN i % 20 <= 12 THEN 'facture' WHEN i % 20 = 13 THEN 'avoir'
              WHEN i % 20 <= 16 THEN 'devis' WHEN i % 20 <= 18 THEN 'bon_de_commande'
              ELSE 'bon_de_livraison' END AS kind,
         i % 50 = 7 AS draft,
         CASE WHEN :companies = 2 AND (i / 20) % 10 = 0 THEN :second ELSE :first END AS company_id,
         CAST(:today AS date) - CAST((CAST(:n - i AS bigint) * :days) / :n AS integer) AS issue,
         CASE WHEN i % 20 = 13 THEN -(1000 + (i % 90) * 100) ELSE 5000 + (CAST(i AS bigint) * 3700) % 500000 END AS ttc
  FROM generate_series(1, :n) AS i
) AS g
ORDER BY g.i
"""

FILL_PAYMENTS = """
INSERT INTO payment (document_id, company_id, method_id, amount, status, allow_overpay, requested_at, received_on,
                     amount_refunded, amount_charged_back, provider, checkout_url, provider_error, updated_at)
SELECT d.id, d.company_id, :method, d.amount_received, 'recu', false, now(), d.issue_date + (d.id % 61), 0, 0,
       'manuel', '', '', now()
FROM document d WHERE d.kind = 'facture' AND d.status = 'finalise' AND d.amount_received > 0
UNION ALL
SELECT d.id, d.company_id, :method, d.total_ttc, 'annule', false, now(), NULL, 0, 0, 'manuel', '', '', now()
FROM document d WHERE d.kind = 'facture' AND d.status = 'finalise' AND d.id % 33 = 0
"""


def _fill(url: str, n: int, company_count: int, years: int, today: date) -> tuple[int, dict[str, int]]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            first = companies.save_company(session, None, {"name": "Atelier Bench", "vat_regime": "franchise"}).id
            second = companies.save_company(session, None, {"name": "Boutique Bench", "vat_regime": "franchise"}).id
            payments.save_preferences(session, True, False)
            account = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque",
                                                            "identifier": "B"})
            cheque = next(t.id for t in payments.list_payment_types(session) if t.code == "cheque")
            method = payments.save_method(session, None, {"payment_type_id": str(cheque),
                                                          "account_id": str(account.id)}).id
        with engine.begin() as conn:
            conn.execute(text(FILL_DOCUMENTS), {"n": n, "days": years * 365, "today": today, "first": first,
                                                "second": second, "companies": company_count})
            # Set-based, triggers off (the per-row upkeep of payment_total took 7 minutes
            # for 640 000 payments): the summary is rebuilt in one statement after.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(FILL_PAYMENTS), {"method": method})
            payment_collections.rebuild_payment_totals(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE document"))
            conn.execute(text("VACUUM ANALYZE payment"))
            counts = {name: conn.execute(text(query)).scalar_one() for name, query in (
                ("documents", "SELECT count(*) FROM document"),
                ("factures", "SELECT count(*) FROM document WHERE kind = 'facture'"),
                ("open factures", "SELECT count(*) FROM document WHERE kind = 'facture' AND status = 'finalise'"
                                  " AND amount_received < total_ttc"),
                ("payments", "SELECT count(*) FROM payment"),
                ("payments in the 12 months", f"SELECT count(*) FROM payment WHERE received_on > DATE '{today}' - 365"),
            )}
        return first, counts
    finally:
        engine.dispose()


def _time(engine, call, rounds: int) -> list[float]:
    timings = []
    for round_ in range(WARMUPS + rounds):
        started = time.perf_counter()
        with session_scope(engine) as session:
            call(session)
        if round_ >= WARMUPS:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _explain(engine, company_id: int, today: date) -> None:
    """EXPLAIN ANALYZE of each query, as the service builds it."""
    from sqlalchemy.dialects import postgresql

    statements = []

    class Recorder:
        def __init__(self, session):
            self.session = session

        def execute(self, statement, *args, **kwargs):
            statements.append(statement)
            return self.session.execute(statement, *args, **kwargs)

        def get_bind(self):
            return self.session.get_bind()

    with session_scope(engine) as session:
        dashboard.dashboard(Recorder(session), company_id, today)
        for statement in statements:
            if not hasattr(statement, "selected_columns"):
                continue  # SET LOCAL planner switches
            sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            plan = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
            print("\n" + sql + "\n  " + "\n  ".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, choices=(1, 2), default=2)
    parser.add_argument("--years", type=int, default=8, help="issue dates spread over that many years")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print each query's EXPLAIN ANALYZE")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--reuse", metavar="NAME", help="measure a database kept by --keep (no fill)")
    args = parser.parse_args()
    today = date.today()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    name = args.reuse or f"bench_dashboard_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    try:
        upgrade(url)
        if args.reuse:
            company_id = 1
            print(f"reusing {name}")
        else:
            started = time.perf_counter()
            company_id, counts = _fill(url, args.documents, args.companies, args.years, today)
            print(f"filled in {time.perf_counter() - started:.0f} s: "
                  + ", ".join(f"{v:,} {k}".replace(",", " ") for k, v in counts.items())
                  + f"; {args.companies} compan{'ies' if args.companies > 1 else 'y'}, measured: company {company_id}")
        engine = make_engine(url)
        try:
            if args.explain:
                _explain(engine, company_id, today)
            cases = [
                ("receivables by age (À encaisser, En retard)", dashboard.receivables_by_age),
                ("10 oldest late invoices", dashboard.oldest_late_invoices),
                ("invoiced per month", dashboard.monthly_invoiced),
                ("collected per month (Encaissé ce mois-ci)", dashboard.monthly_collected),
                ("délai moyen de paiement", dashboard.payment_delay),
                ("has invoices", lambda s, c, _t: dashboard.has_invoices(s, c)),
                ("WHOLE DASHBOARD", dashboard.dashboard),
            ]
            print(f"\n{'query':<46} {'p50 ms':>8} {'p95 ms':>8}   ({args.rounds} rounds, fresh session each)")
            for label, function in cases:
                timings = _time(engine, lambda s, f=function: f(s, company_id, today), args.rounds)
                p95 = _p95(timings)
                verdict = ("  OK" if p95 < GOAL_MS else "  OVER GOAL") if label == "WHOLE DASHBOARD" else ""
                print(f"{label:<46} {statistics.median(timings):8.1f} {p95:8.1f}{verdict}")
            with session_scope(engine) as session:
                board = dashboard.dashboard(session, company_id, today)
            print(f"\nfigures: à encaisser {board.receivable} ({board.receivable_count}), en retard {board.late} "
                  f"({board.late_count}), encaissé ce mois-ci {board.collected_this_month}, "
                  f"délai moyen {board.payment_delay.average_days} j over {board.payment_delay.invoices} invoices")
        finally:
            engine.dispose()
    finally:
        if args.keep or args.reuse:
            print(f"kept: {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
