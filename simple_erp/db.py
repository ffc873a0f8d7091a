"""Database engine and session scope for services, states and API routes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlmodel import Session, create_engine

from simple_erp.config import get_settings


def make_engine(url: str) -> Engine:
    """An engine with the pragmas this app relies on (SQLite: WAL, FKs, busy wait)."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_idle_connections(engine)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling, only where it matters: a pooled connection that
    sat idle for more than ``IDLE_PING_SECONDS`` answers ``SELECT 1`` before it is handed
    out (a database restarted meanwhile: the pool opens a new one). A busy connection is
    not pinged (``pool_pre_ping`` would add a round trip to every transaction); if the
    database goes away under load, the failing statement invalidates the whole pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at <= IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_conn.rollback()
        except Exception as err:  # noqa: BLE001 - any failure: give this connection up
            raise DisconnectionError(f"idle connection lost: {err}") from err


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def execute_alone(session: Session, statement, params: dict, prepared: Prepared | None = None):
    """Run one statement that is atomic by itself in a transaction of its own (PostgreSQL
    with psycopg2: in autocommit, which spares the BEGIN and COMMIT round trips), when the
    session has not started a transaction on the database yet; otherwise inside it.

    For a single read, or a single write whose effect needs no other statement of the
    session: its result is committed (or not) before this returns, whatever the session
    does later. The caller consumes the result (``first()``, ``rowcount``) as usual.
    ``prepared``: run it as that prepared statement on PostgreSQL (see ``Prepared``)."""
    conn = session.connection()
    raw = conn.connection.dbapi_connection
    if conn.dialect.driver != "psycopg2":
        return conn.execute(statement, params)
    alone = not raw.autocommit and raw.status == _PSYCOPG2_READY
    if alone:
        raw.autocommit = True
    try:
        return prepared.execute(conn, params) if prepared is not None else conn.execute(statement, params)
    finally:
        if alone and not raw.closed:
            try:
                raw.autocommit = False
            except Exception:  # noqa: BLE001 - never hand an autocommit connection back to the pool
                conn.invalidate()


@dataclass(frozen=True)
class PreparedResult:
    rows: list[tuple]
    rowcount: int

    def first(self) -> tuple | None:
        return self.rows[0] if self.rows else None


class Prepared:
    """A Core statement that PostgreSQL plans once per connection. psycopg2 sends every
    query as text, which PostgreSQL parses and plans each time; for the few statements run
    on every Mollie webhook, planning costs more than running them. On its first use on a
    connection the statement is sent as ``PREPARE name (types) AS …`` (parameters typed
    from their SQLAlchemy types), then as ``EXECUTE name(…)``; parameters and result
    columns go through the same type processing as SQLAlchemy's. psycopg2 only."""

    def __init__(self, name: str, statement) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"bad prepared statement name {name!r}")
        self.name, self.statement = name, statement
        self._forms: dict = {}  # per dialect

    def _form(self, dialect):
        form = self._forms.get(dialect)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)
            if compiled.insert_prefetch or compiled.update_prefetch:
                raise ValueError(f"{self.name}: column defaults computed in Python are not supported")
            order: list[str] = []

            def placeholder(match: re.Match) -> str:
                if match.group(1) not in order:
                    order.append(match.group(1))
                return f"${order.index(match.group(1)) + 1}"

            body = re.sub(r"%\((\w+)\)s", placeholder, compiled.string).replace("%%", "%")  # sent as is
            binds = [compiled.binds[name] for name in order]
            types = ", ".join(bind.type.compile(dialect=dialect) for bind in binds)
            prepare = f"PREPARE {self.name} ({types}) AS {body}"
            execute = f"EXECUTE {self.name}({', '.join(f'%({name})s' for name in order)})"
            processors = [(name, bind.type._cached_bind_processor(dialect), bind.required, bind.effective_value)
                          for name, bind in zip(order, binds)]
            results = [column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns]
            form = self._forms[dialect] = (prepare, execute, processors, results)
        return form

    def execute(self, conn, params: dict) -> PreparedResult:
        """On ``conn`` (SQLAlchemy Connection, psycopg2). A statement the server forgot
        (``DEALLOCATE``/``DISCARD ALL`` behind our back) is prepared again, outside a
        transaction only; a pooler in transaction mode (pgbouncer) is not supported."""
        try:
            return self._execute(conn, params)
        except DBAPIError as err:
            forgotten = getattr(err.orig, "pgcode", None) == _UNDEFINED_PREPARED_STATEMENT
            if not forgotten:
                raise
            conn.connection.info.get(_PREPARED_KEY, set()).discard(self.name)
            if not conn.connection.dbapi_connection.autocommit:
                raise
            return self._execute(conn, params)

    def _execute(self, conn, params: dict) -> PreparedResult:
        prepare, execute, processors, results = self._form(conn.dialect)
        done = conn.connection.info.setdefault(_PREPARED_KEY, set())  # cleared with the connection
        if self.name not in done:
            conn.exec_driver_sql(prepare, execution_options={"no_parameters": True})
            done.add(self.name)
        values = {}
        for name, process, required, literal in processors:
            if name not in params and required:
                raise KeyError(f"{self.name}: no value for the parameter {name!r}")
            value = params[name] if name in params else literal
            values[name] = process(value) if process else value
        result = conn.exec_driver_sql(execute, values)
        rows = result.fetchall() if result.returns_rows else []
        if any(results):
            rows = [tuple(process(value) if process else value for process, value in zip(results, row))
                    for row in rows]
        return PreparedResult(rows, result.rowcount)


_PREPARED_KEY = "simple_erp_prepared"
_UNDEFINED_PREPARED_STATEMENT = "26000"  # SQLSTATE invalid_sql_statement_name

try:  # the driver of PostgreSQL URLs; absent, only SQLite is used
    from psycopg2.extensions import STATUS_READY as _PSYCOPG2_READY
except ImportError:  # pragma: no cover
    _PSYCOPG2_READY = None
