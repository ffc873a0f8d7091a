"""Benchmark: Mollie webhook throughput and latency, end to end, on SQLite and PostgreSQL.

Goal: the app's webhook (POST /api/webhooks/mollie → sandbox GET of the payment → status
applied through services.payments) reaches >= 0.8x the throughput of a bare Starlette
handler doing the same fetch (same MollieGateway) and one UPDATE, in the same run, and
>= 300 webhooks/s on PostgreSQL.

Run: .venv/bin/python bench/webhook_throughput.py [--backend sqlite|postgresql|both]
     [--payments 1000] [--requests 2000] [--concurrency 16] [--workers 1]

Everything stays on 127.0.0.1. For each backend: a fresh database (SQLite file in a temp
directory; PostgreSQL database bench_webhooks_<random> on postgres@127.0.0.1:5432,
dropped WITH (FORCE) at the end, even after an error), migrated like the app; the Mollie
sandbox and the app server (granian like production, or uvicorn; serving webhooks.routes
and the bare handler side by side) each in their own process; N factures with one Mollie card payment each, created
through the services and the sandbox, then paid at the sandbox (its own webhooks go to a
dead port). Then, with C concurrent keep-alive connections (a minimal asyncio HTTP/1.1
client, far lighter than httpx, so the CPUs go to the servers measured): a warm-up of both
handlers, then K interleaved rounds (--rounds, so that a drift of the machine's load weighs
on every case alike) of: the app's first deliveries (one per payment, N/K requests: each
applies "Paiement reçu" and updates its invoice, what Mollie's webhooks almost always are);
the bare handler (R/K requests); the app's duplicates (R/K requests on the payments of the
round: the status is already Mollie's). Prints req/s, p50/p95 latency over all rounds,
PASS/MISS lines per run and the load average at start. Informational: always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SIMPLE_ERP_SECRET_KEY", Fernet.generate_key().decode())  # before importing simple_erp
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
BARE_PATH = "/bench/bare-webhook"
WEBHOOK_PATH = "/api/webhooks/mollie"
DEAD_URL = "http://127.0.0.1:9"
RATIO_GOAL, PG_RPS_GOAL = 0.8, 300.0


# --- the server side (runs in the uvicorn subprocess) ------------------------------------------


def make_app():
    """uvicorn --factory: the app's webhook routes plus the bare handler, one process."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from sqlalchemy import update
    from urllib.parse import parse_qs

    from simple_erp import db
    from simple_erp.api import webhooks
    from simple_erp.models.payment import Payment
    from simple_erp.models.types import utcnow
    from simple_erp.services.mollie import gateway as mollie_gateway

    engine = db.get_engine()
    api_key, endpoint = os.environ["BENCH_MOLLIE_KEY"], os.environ["MOLLIE_API_ENDPOINT"]

    def fetch_and_update(payment_id: str) -> None:
        mollie_gateway._default_gateway_factory(api_key, endpoint).get_payment(payment_id)  # same kept-alive gateway
        with engine.begin() as conn:
            conn.execute(update(Payment).where(Payment.provider_payment_id == payment_id)
                         .values(last_synced_at=utcnow()))

    async def bare(request: Request) -> PlainTextResponse:
        payment_id = parse_qs((await request.body()).decode()).get("id", [""])[0]
        await run_in_threadpool(fetch_and_update, payment_id)
        return PlainTextResponse("OK")

    return Starlette(routes=[*webhooks.routes, Route(BARE_PATH, bare, methods=["POST"])])


# --- the driver ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited ({process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start(args: list[str], port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_port(port, process)
    return process


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def serve(factory: str, port: int, workers: int, server: str) -> list[str]:
    """The command (after ``python``) serving an ASGI app factory on 127.0.0.1:port."""
    if server == "granian":
        return ["-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--log-level", "warning", "--no-access-log", factory]
    return ["-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--log-level", "warning", "--no-access-log"]


def seed(url: str, sandbox_url: str, api_key: str, count: int) -> list[str]:
    """N finalised factures of 12,34 € each with one Mollie card payment, paid at Mollie."""
    import httpx

    from simple_erp.db import make_engine, session_scope
    from simple_erp.domain.contact_rules import ContactInput
    from simple_erp.providers.mollie import MollieGateway
    from simple_erp.services import companies, contacts, documents, payments
    from simple_erp.services.mollie import payments as mollie_payments

    engine = make_engine(url)
    factory = lambda: session_scope(engine)  # noqa: E731
    mollie_payments.set_gateway_factory(lambda key, _endpoint: MollieGateway(key, sandbox_url))
    urls = mollie_payments.AppUrls(public_base="http://127.0.0.1:3000", api_base=DEAD_URL)
    today = date.today()
    with factory() as session:
        company = companies.save_company(session, None, {"name": "Bench SARL", "vat_regime": "franchise",
                                                         # what finalisation requires (issue 12)
                                                         "legal_form": "SARL", "siren": "732829320",
                                                         "rcs_city": "Paris", "address_line1": "3 rue de la Paix",
                                                         "postal_code": "75002", "city": "Paris"})
        mollie_payments.set_mollie_api_key(session, company.id, api_key)
        payments.save_preferences(session, True, True)
        card_type = next(t.id for t in payments.list_payment_types(session) if t.code == "carte_bancaire")
        account = payments.save_account(session, None, {"account_type": "mollie", "name": "Mollie", "identifier": "M"})
        method_id = payments.save_method(session, None, {"payment_type_id": str(card_type),
                                                         "account_id": str(account.id)}).id
        contact_id = contacts.create_contact(session, ContactInput(kind="particulier", last_name="Durand",
                                                                   first_name="Léa"), today).id
    ids = []
    for _ in range(count):
        with factory() as session:
            doc = documents.create_document(session, "facture", today, company_id=company.id)
            documents.link_contact(session, doc.id, contact_id)
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": "Prestation", "unit_price": "12.34"})
            documents.finalize(session, doc.id, today)
            payment_id = payments.request_payment(session, doc.id, method_id, Decimal("12.34"), None, today).id
        ids.append(mollie_payments.start_mollie_payment(factory, payment_id, urls).id)
    with httpx.Client(base_url=sandbox_url, trust_env=False) as client:
        for provider_id in ids:
            client.post(f"/sandbox/payments/{provider_id}/settle", data={"status": "paid"}).raise_for_status()
    mollie_payments.set_gateway_factory(None)
    engine.dispose()
    return ids


@dataclass
class Run:
    label: str
    requests: int
    seconds: float
    latencies: list[float]
    codes: dict[int, int]
    cpu: dict[str, float] = field(default_factory=dict)  # --cpu: CPU seconds per process group

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        q = statistics.quantiles(self.latencies, n=100)
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.codes.items()))
        text = (f"  {self.label:<34} {self.rps:8.1f} req/s   p50 {q[49] * 1000:6.1f} ms   "
                f"p95 {q[94] * 1000:6.1f} ms   ({codes})")
        if self.cpu:
            parts = "  ".join(f"{name} {seconds * 1000 / self.requests:.2f}" for name, seconds in self.cpu.items())
            text += (f"\n  {'':<34} CPU ms per request: {parts}  "
                     f"total {sum(self.cpu.values()) * 1000 / self.requests:.2f}")
        return text


def merge(total: Run | None, run: Run) -> Run:
    if total is None:
        return run
    codes = {code: total.codes.get(code, 0) + run.codes.get(code, 0) for code in {*total.codes, *run.codes}}
    cpu = {name: total.cpu.get(name, 0.0) + run.cpu.get(name, 0.0) for name in {**total.cpu, **run.cpu}}
    return Run(run.label, total.requests + run.requests, total.seconds + run.seconds,
               total.latencies + run.latencies, codes, cpu)


def cpu_seconds(app: subprocess.Popen, sandbox: subprocess.Popen) -> dict[str, dict[int, float]]:
    """CPU time (user + system) so far, per process, of: the app server and its workers,
    the sandbox, every PostgreSQL process of the machine, and this driver."""
    import psutil

    def used(processes) -> dict[int, float]:
        seconds = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:  # exited meanwhile
                continue
            seconds[process.pid] = times.user + times.system
        return seconds

    def tree(pid: int) -> list:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    driver = os.times()
    return {"app": used(tree(app.pid)), "sandbox": used(tree(sandbox.pid)), "postgres": used(postgres),
            "driver": {os.getpid(): driver.user + driver.system}}


def measured(coroutine, app: subprocess.Popen, sandbox: subprocess.Popen, cpu: bool) -> Run:
    """Run one load; with ``cpu``, record the CPU each process group spent meanwhile (a
    process that exits during the run is left out: its last CPU time cannot be read)."""
    before = cpu_seconds(app, sandbox) if cpu else {}
    run = asyncio.run(coroutine)
    if cpu:
        after = cpu_seconds(app, sandbox)
        run.cpu = {name: sum(seconds - before[name].get(pid, 0.0) for pid, seconds in after[name].items())
                   for name in after}
    return run


class Connection:
    """A minimal keep-alive HTTP/1.1 client over asyncio streams: a load generator that
    costs the machine far less CPU than httpx, so the servers measured get it."""

    def __init__(self, port: int):
        self.port, self.reader, self.writer = port, None, None

    async def post_form(self, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                          b"\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def load(port: int, path: str, ids: list[str], total: int, concurrency: int, label: str) -> Run:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    counter = itertools.count()

    async def worker():
        connection = Connection(port)
        try:
            while (i := next(counter)) < total:
                started = time.perf_counter()
                code = await connection.post_form(path, b"id=" + ids[i % len(ids)].encode())
                latencies.append(time.perf_counter() - started)
                codes[code] = codes.get(code, 0) + 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(label, total, time.perf_counter() - started, latencies, codes)


def count_received(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT count(*) FROM payment WHERE status = 'recu'")).scalar()
    engine.dispose()
    return value


def bench_backend(backend: str, args) -> list[str]:
    from sqlalchemy import create_engine, text

    from simple_erp.migrate import upgrade

    tmp = tempfile.TemporaryDirectory(prefix="bench_webhooks_")
    admin, db_name = None, f"bench_webhooks_{uuid.uuid4().hex[:10]}"
    sandbox = app = None
    try:
        if backend == "sqlite":
            url = f"sqlite:///{tmp.name}/bench.db"
        else:
            admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db_name}"'))
            url = f"{PG_SERVER}/{db_name}"
        upgrade(url)
        sandbox_port, app_port = free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        api_key = "test_bench" + uuid.uuid4().hex
        env = {**os.environ, "DATABASE_URL": url, "MOLLIE_API_ENDPOINT": sandbox_url, "MOLLIE_SANDBOX": "0",
               "SIMPLE_ERP_DATA_DIR": tmp.name, "BENCH_MOLLIE_KEY": api_key, "PYTHONPATH": str(ROOT)}
        sandbox = start(serve("simple_erp.sandbox.mollie:create_app", sandbox_port, 1, args.server), sandbox_port, env)
        started = time.perf_counter()
        ids = seed(url, sandbox_url, api_key, args.payments)
        print(f"  seeded {len(ids)} paid Mollie payments in {time.perf_counter() - started:.1f} s")
        time.sleep(4.5)  # the sandbox's own webhook retries (to a dead port) are over
        app = start(serve("bench.webhook_throughput:make_app", app_port, args.workers, args.server), app_port, env)
        c, rounds = args.concurrency, max(1, args.rounds)
        asyncio.run(load(app_port, BARE_PATH, ids, 200, c, "warm-up bare"))
        asyncio.run(load(app_port, WEBHOOK_PATH, ["tr_unknown"], 200, c, "warm-up app"))
        # Interleaved rounds, so that a drift of the machine's load weighs on every case alike.
        first = bare_run = repeat = None
        for number in range(rounds):
            chunk = ids[number * len(ids) // rounds:(number + 1) * len(ids) // rounds]
            first = merge(first, measured(load(app_port, WEBHOOK_PATH, chunk, len(chunk), c,
                                               "app: first deliveries (applied)"), app, sandbox, args.cpu))
            bare_run = merge(bare_run, measured(load(app_port, BARE_PATH, ids, args.requests // rounds, c,
                                                     "bare: fetch + one UPDATE"), app, sandbox, args.cpu))
            repeat = merge(repeat, measured(load(app_port, WEBHOOK_PATH, chunk, args.requests // rounds, c,
                                                 "app: duplicates (unchanged)"), app, sandbox, args.cpu))
        received = count_received(url)
        for run in (first, bare_run, repeat):
            print(run.line())
        ok = received == len(ids) and all(set(r.codes) == {200} for r in (first, bare_run, repeat))
        print(f"  payments 'Paiement reçu' after the first deliveries: {received}/{len(ids)}"
              f"{'' if ok else '   <- UNEXPECTED'}")
        verdicts = []
        for run, what in ((first, "first deliveries"), (repeat, "duplicates")):
            ratio = run.rps / bare_run.rps
            verdicts.append(f"{'PASS' if ratio >= RATIO_GOAL else 'MISS'} {backend}, {what}: "
                            f"{ratio:.2f}x the bare handler (goal >= {RATIO_GOAL}x)")
            if backend == "postgresql":
                verdicts.append(f"{'PASS' if run.rps >= PG_RPS_GOAL else 'MISS'} {backend}, {what}: "
                                f"{run.rps:.0f} webhooks/s (goal >= {PG_RPS_GOAL:.0f})")
        for verdict in verdicts:
            print("  " + verdict)
        return verdicts
    finally:
        stop(app)
        stop(sandbox)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()
        tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds of the three runs (each takes its share of the requests)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the app server")
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian",
                        help="ASGI server of the app and the sandbox (production runs granian)")
    parser.add_argument("--cpu", action="store_true",
                        help="also print the CPU time per request of the app, the sandbox, PostgreSQL and the driver")
    args = parser.parse_args()
    print(f"Mollie webhook throughput — {args.payments} payments, {args.requests} requests, concurrency "
          f"{args.concurrency}, {args.server} with {args.workers} app worker(s), {os.cpu_count()} CPUs, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    verdicts = []
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        print(f"\n{backend}")
        try:
            verdicts += bench_backend(backend, args)
        except Exception as exc:  # noqa: BLE001 - informational benchmark: report and go on
            print(f"  ERROR {type(exc).__name__}: {exc}")
            verdicts.append(f"MISS {backend}: the benchmark failed ({type(exc).__name__})")
    print("\nSummary")
    for verdict in verdicts:
        print("  " + verdict)


if __name__ == "__main__":
    main()
