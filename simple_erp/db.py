"""Database engine and session scope for services, states and API routes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
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


def execute_alone(session: Session, statement, params: dict):
    """Run one statement that is atomic by itself in a transaction of its own (PostgreSQL
    with psycopg2: in autocommit, which spares the BEGIN and COMMIT round trips), when the
    session has not started a transaction on the database yet; otherwise inside it.

    For a single read, or a single write whose effect needs no other statement of the
    session: its result is committed (or not) before this returns, whatever the session
    does later. The caller consumes the result (rows, rowcount) as usual."""
    conn = session.connection()
    raw = conn.connection.dbapi_connection
    if conn.dialect.driver != "psycopg2" or raw.autocommit or raw.status != _PSYCOPG2_READY:
        return conn.execute(statement, params)
    raw.autocommit = True
    try:
        return conn.execute(statement, params)
    finally:
        if not raw.closed:
            raw.autocommit = False


try:  # the driver of PostgreSQL URLs; absent, only SQLite is used
    from psycopg2.extensions import STATUS_READY as _PSYCOPG2_READY
except ImportError:  # pragma: no cover
    _PSYCOPG2_READY = None
