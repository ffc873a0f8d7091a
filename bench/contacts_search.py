"""Benchmark: contact search and pagination (services.contacts.search_contacts).

Goal: <= 50 ms (p95) for the first page and a search on 100 000 contacts.
Run: .venv/bin/python bench/contacts_search.py [--backend sqlite|postgresql|both] [--rows N]
PostgreSQL: a throw-away database on postgresql+psycopg2://postgres@127.0.0.1:5432,
dropped at the end (even on error). Informational: always exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["SIMPLE_ERP_SECRET_KEY"] = Fernet.generate_key().decode()  # before importing simple_erp

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from simple_erp.db import make_engine, session_scope  # noqa: E402
from simple_erp.migrate import upgrade  # noqa: E402
from simple_erp.models.contact import Contact  # noqa: E402
from simple_erp.services.contacts import PAGE_SIZE, normalize, search_contacts  # noqa: E402

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
GOAL_MS = 50.0
BATCH = 5000
WARMUPS, RUNS = 3, 20

LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
        "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
        "François", "Martinez", "Légaré", "Chevalier", "Gauthier", "Perrin", "Rousseau", "Blanc"]
FIRST = ["Jean", "Marie", "Pierre", "Anne", "Michel", "Françoise", "Philippe", "Nathalie", "Éric",
         "Isabelle", "Luc", "Sylvie", "Hélène", "Jérôme", "Céline", "Amélie", "Gaëlle", "Noël",
         "Chloé", "Théo", "Léa", "Hugo", "Zoé", "Louis", "Inès", "Raphaël", "Camille", "Manon"]
# (city, postal code, weight): Quimper is ~1 % of the contacts (the one-word query).
CITIES = [("Paris", "75011", 20), ("Lyon", "69003", 12), ("Marseille", "13005", 10),
          ("Toulouse", "31000", 8), ("Nice", "06000", 6), ("Nantes", "44000", 6),
          ("Strasbourg", "67000", 5), ("Montpellier", "34000", 5), ("Bordeaux", "33000", 5),
          ("Lille", "59000", 5), ("Rennes", "35000", 4), ("Reims", "51100", 3),
          ("Saint-Étienne", "42000", 3), ("Le Havre", "76600", 3), ("Grenoble", "38000", 3),
          ("Besançon", "25000", 1), ("Orléans", "45000", 1), ("Quimper", "29000", 1)]
COMPANY = ["Boulangerie", "Garage", "Cabinet", "Atelier", "Menuiserie", "Pharmacie", "Transports"]
STREETS = ["rue de la République", "avenue Jean Jaurès", "place de l'Église", "rue Victor Hugo"]
QUERIES = [  # (label, query, page asked, counts toward the goal); the table shows the page served
    ("first page, no query", "", 1, True),
    ("page 2000, no query", "", 2000, False),
    ("one word (city, ~1 %)", "quimper", 1, True),
    ("two words", "martin lyon", 1, True),
    ("no match", "zzqxw", 1, True),
]


def fake_contacts(n: int, rng: random.Random):
    now = datetime.now(timezone.utc)
    cities, weights = CITIES, [c[2] for c in CITIES]
    for i in range(1, n + 1):
        city, postal, _ = rng.choices(cities, weights)[0]
        last, first = rng.choice(LAST), rng.choice(FIRST)
        company = rng.random() < 0.2
        c = dict(kind="entreprise" if company else "particulier", last_name=last, first_name=first,
                 company_name=f"{rng.choice(COMPANY)} {last}" if company else "",
                 email=f"{normalize(first)}.{normalize(last)}{i}@exemple.fr",
                 phone=f"0{rng.randint(1, 7)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                       f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
                 address_line1=f"{rng.randint(1, 120)} {rng.choice(STREETS)}", address_line2="",
                 postal_code=postal, city=city, country="FR", notes="",
                 siren=f"{rng.randint(100_000_000, 999_999_999)}" if company else "", vat_number="",
                 iban_encrypted="", iban_masked="", bic="", rum=None, mandate_signed_on=None,
                 created_at=now, updated_at=now)
        if rng.random() < 0.10:  # SEPA mandate: encrypted-looking placeholder, unique RUM
            c.update(iban_encrypted="gAAAAAB" + rng.randbytes(90).hex(), bic="BNPAFRPPXXX",
                     iban_masked=f"FR76 •••• •••• {rng.randint(1000, 9999)}", rum=f"RUM-{i:08d}",
                     mandate_signed_on=date(2024, 1, 1) + timedelta(days=rng.randint(0, 700)))
        c["display_name"] = c["company_name"] or f"{last.upper()} {first}"
        c["sort_name"] = normalize(c["display_name"])
        c["search_text"] = normalize(" ".join(
            (c["company_name"], last, first, c["email"], city, postal, c["phone"], c["siren"],
             c["rum"] or "")))
        yield c


def populate(engine, n: int) -> float:
    start, rng, batch = time.perf_counter(), random.Random(42), []
    with engine.begin() as conn:
        for row in fake_contacts(n, rng):
            batch.append(row)
            if len(batch) == BATCH:
                conn.execute(insert(Contact.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Contact.__table__), batch)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE contact"))  # autovacuum would do it soon after a bulk load
    return time.perf_counter() - start


def measure(engine, query: str, page: int) -> tuple[float, float, int, int]:
    times, result = [], None
    for i in range(WARMUPS + RUNS):
        start = time.perf_counter()
        with session_scope(engine) as session:
            result = search_contacts(session, query, page)
        if i >= WARMUPS:
            times.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
    return statistics.median(times), p95, result.total, result.page


def plan_first_page(engine) -> list[str]:
    stmt = select(Contact).order_by(Contact.sort_name, Contact.id).offset(0).limit(PAGE_SIZE)
    sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            lines = [r[0] for r in conn.execute(text("EXPLAIN ANALYZE " + sql))]
            scan = next((ln.strip() for ln in lines[1:] if "Scan" in ln or "Sort" in ln), "")
            return [lines[0], scan]
        return [r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql))][:2]


def bench(backend: str, url: str, rows: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        insert_s = populate(engine, rows)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM contact")).scalar_one()
        print(f"\n== {backend}: {count:_} contacts, inserted in {insert_s:.1f} s "
              f"({count / insert_s:_.0f} rows/s)".replace("_", " "))
        print("first-page plan: " + " | ".join(plan_first_page(engine)))
        print(f"{'case':<24}{'query':<14}{'page':>5}{'matches':>9}{'median ms':>11}{'p95 ms':>9}  goal")
        for label, query, page, goal in QUERIES:
            med, p95, total, got = measure(engine, query, page)
            verdict = ("PASS" if p95 <= GOAL_MS else "MISS") + ("" if goal else " (not in goal)")
            print(f"{label:<24}{query or '-':<14}{got:>5}{total:>9}{med:>11.1f}{p95:>9.1f}  {verdict}")
    finally:
        engine.dispose()


def run_postgresql(rows: int) -> None:
    name = f"bench_contacts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench("postgresql", f"{PG_SERVER}/{name}", rows)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(f"goal: ≤ {GOAL_MS:.0f} ms for first page and a search on 100 000 contacts "
          f"(p95 of {RUNS} runs after {WARMUPS} warm-ups, fresh session per call; "
          f"PASS/MISS per line, informational)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (noisy if busy)")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench_contacts_") as tmp:
            bench("sqlite", f"sqlite:///{tmp}/bench.db", args.rows)
    if args.backend in ("postgresql", "both"):
        run_postgresql(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
