"""Database engine and session scope for services, states and API routes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, StatementError
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

    @event.listens_for(engine, "connect")
    def _no_jit(dbapi_conn, _record):
        """No JIT: it pays off for long analytical queries only. The cost estimate of a
        list's LIMIT over a filter with a subquery passes jit_above_cost, and compiling took
        6-9 ms of a 3 ms search at 1 000 000 rows (bench/search_scale.py); the dashboard's
        overestimated partial-index rows, ~75 ms for ~18 ms of work (bench/dashboard.py).
        A SET on each new connection, not a startup option, which poolers may refuse."""
        cur = dbapi_conn.cursor()
        cur.execute("SET jit = off")
        cur.close()
        dbapi_conn.commit()

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
        except Exception as err:  # any failure: give this connection up (re-raised)
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
    ``prepared``: that statement as a ``Prepared`` (straight on the DBAPI cursor)."""
    if prepared is not None and not session.in_transaction():
        engine = session.get_bind()
        if engine.dialect.driver == _ALONE_DRIVER:  # not even a Connection: the webhook's hot path
            return prepared.run_alone(engine, params)
    conn = session.connection()
    raw = conn.connection.dbapi_connection
    if conn.dialect.driver != "psycopg2":
        return prepared.execute(conn, params) if prepared is not None else conn.execute(statement, params)
    alone = not raw.autocommit and raw.status == _PSYCOPG2_READY
    if alone:
        raw.autocommit = True
    try:
        return prepared.execute(conn, params) if prepared is not None else conn.execute(statement, params)
    finally:
        if alone:
            _leave_autocommit(raw, conn.invalidate)


def _leave_autocommit(raw, invalidate) -> None:
    """Never hand an autocommit connection back to the pool."""
    if not raw.closed:
        try:
            raw.autocommit = False
        except Exception:  # noqa: BLE001 - the connection is unusable: give it up
            invalidate()


@dataclass(frozen=True)
class PreparedResult:
    rows: list[tuple]
    rowcount: int

    def first(self) -> tuple | None:
        return self.rows[0] if self.rows else None


@dataclass(frozen=True)
class _Form:
    """A statement compiled once for one dialect, to run on the DBAPI cursor."""

    prepare: str | None  # PostgreSQL: PREPARE name (types) AS …
    sql: str  # PostgreSQL: EXECUTE name(%(p)s, …); SQLite: the statement, ? placeholders
    binds: tuple  # (name, bind processor, required, default value) in placeholder order
    results: tuple  # result processor per column (None: as is)
    positional: bool


class Prepared:
    """A Core statement run straight on the DBAPI cursor, for the few statements of every
    Mollie webhook: SQLAlchemy's Connection, execution context and result objects cost
    more CPU than running them. The statement is compiled once per dialect; parameters
    and result columns go through the same type processing as SQLAlchemy's, and errors
    come out as SQLAlchemy's (``DBAPIError``, ``StatementError`` for a parameter). With
    another driver than psycopg2 or sqlite3 the statement simply runs through SQLAlchemy.
    SQLAlchemy's cursor events, echo and ``hide_parameters`` do not apply.

    PostgreSQL (psycopg2, which sends every query as text, parsed and planned each time):
    the statement is also planned once per connection, sent as ``PREPARE name (types) AS
    …`` on its first use there, then as ``EXECUTE name(…)``. SQLite keeps its own cache of
    compiled statements. Column defaults computed in Python are refused."""

    def __init__(self, name: str, statement) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"bad prepared statement name {name!r}")
        self.name, self.statement = name, statement
        self._forms: dict = {}  # per dialect

    def _form(self, dialect) -> _Form:
        form = self._forms.get(dialect)
        if form is None:
            form = self._forms[dialect] = self._compile(dialect)
        return form

    def _compile(self, dialect) -> _Form:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError(f"{self.name}: column defaults computed in Python are not supported")
        results = tuple(column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns)
        if dialect.name == "postgresql":
            order: list[str] = []

            def placeholder(match: re.Match) -> str:
                if match.group(1) not in order:
                    order.append(match.group(1))
                return f"${order.index(match.group(1)) + 1}"

            body = re.sub(r"%\((\w+)\)s", placeholder, compiled.string).replace("%%", "%")  # sent as is
            types = ", ".join(compiled.binds[name].type.compile(dialect=dialect) for name in order)
            prepare = f"PREPARE {self.name} ({types}) AS {body}"
            sql = f"EXECUTE {self.name}({', '.join(f'%({name})s' for name in order)})"
        elif compiled.positional:
            prepare, sql, order = None, compiled.string, list(compiled.positiontup)
        else:
            raise ValueError(f"{self.name}: {dialect.name} with named parameters is not supported")
        binds = tuple((name, compiled.binds[name].type._cached_bind_processor(dialect), compiled.binds[name].required,
                       compiled.binds[name].effective_value) for name in order)
        return _Form(prepare, sql, binds, results, compiled.positional)

    def _values(self, form: _Form, params: dict):
        values = {}
        for name, process, required, literal in form.binds:
            if name not in params and required:
                raise StatementError(f"A value is required for bind parameter {name!r}", form.sql, params,
                                     KeyError(name))
            value = params.get(name, literal)
            try:
                values[name] = process(value) if process else value
            except Exception as err:  # re-raised as SQLAlchemy reports a bad parameter
                raise StatementError(f"bind parameter {name!r}: {err}", form.sql, params, err) from err
        return tuple(values[name] for name, *_ in form.binds) if form.positional else values

    def execute(self, conn, params: dict) -> PreparedResult:
        """On ``conn`` (a SQLAlchemy Connection), in its transaction if it has one. A
        statement the PostgreSQL server forgot (``DEALLOCATE``/``DISCARD ALL`` behind our
        back) is prepared again, outside a transaction only; a pooler in transaction mode
        (pgbouncer) is not supported."""
        if conn.dialect.driver not in _CURSOR_DRIVERS:
            result = conn.execute(self.statement, params)
            return PreparedResult(list(result) if result.returns_rows else [], result.rowcount)

        def lost(err):  # what a SQLAlchemy Connection does on a disconnect
            conn.engine.pool._invalidate(conn.connection, err)
            conn.invalidate(err)

        return self._run(conn.connection, conn.dialect, params, lost)

    def run_alone(self, engine: Engine, params: dict) -> PreparedResult:
        """PostgreSQL with psycopg2: on a connection of ``engine``'s pool, in autocommit
        (committed when this returns), without even a SQLAlchemy Connection. A lost
        connection is given up, with the connections of the pool opened before it."""
        dialect = engine.dialect
        if dialect.driver != _ALONE_DRIVER:
            raise ValueError(f"{self.name}: run_alone needs psycopg2, not {dialect.driver}")
        try:
            fairy = engine.raw_connection()
            try:
                raw = fairy.dbapi_connection
                was_autocommit = raw.autocommit
                raw.autocommit = True
                try:
                    return self._run(fairy, dialect, params,
                                     lambda err: engine.pool._invalidate(fairy, err))
                finally:
                    if not was_autocommit:
                        _leave_autocommit(raw, fairy.invalidate)
            finally:
                fairy.close()
        except dialect.loaded_dbapi.Error as err:  # connecting (the statement's own errors are wrapped)
            raise DBAPIError.instance(None, None, err, dialect.loaded_dbapi.Error,
                                      connection_invalidated=dialect.is_disconnect(err, None, None),
                                      dialect=dialect) from err

    def _run(self, fairy, dialect, params: dict, on_disconnect) -> PreparedResult:
        form = self._form(dialect)
        values = self._values(form, params)
        raw = fairy.dbapi_connection
        try:
            try:
                return self._on_cursor(fairy, form, values)
            except dialect.loaded_dbapi.Error as err:
                if getattr(err, "pgcode", None) != _UNDEFINED_PREPARED_STATEMENT:
                    raise
                fairy.info[_PREPARED_KEY].discard(self.name)  # forgotten by the server
                if not raw.autocommit:
                    raise  # the transaction is aborted: the caller rolls back
                return self._on_cursor(fairy, form, values)
        except dialect.loaded_dbapi.Error as err:
            disconnected = dialect.is_disconnect(err, raw, None)
            if disconnected:
                on_disconnect(err)
            raise DBAPIError.instance(form.sql, values, err, dialect.loaded_dbapi.Error,
                                      connection_invalidated=disconnected, dialect=dialect) from err

    def _on_cursor(self, fairy, form: _Form, values) -> PreparedResult:
        cursor = fairy.dbapi_connection.cursor()
        try:
            if form.prepare is not None:
                done = fairy.info.setdefault(_PREPARED_KEY, set())  # cleared with the connection
                if self.name not in done:
                    cursor.execute(form.prepare)
                    done.add(self.name)
            cursor.execute(form.sql, values)
            rows = cursor.fetchall() if cursor.description is not None else []
            if any(form.results):
                rows = [tuple(process(value) if process else value for process, value in zip(form.results, row))
                        for row in rows]
            return PreparedResult(rows, cursor.rowcount)
        finally:
            cursor.close()


_ALONE_DRIVER = "psycopg2"
_CURSOR_DRIVERS = ("psycopg2", "pysqlite")  # the drivers Prepared runs on the cursor
_PREPARED_KEY = "simple_erp_prepared"
_UNDEFINED_PREPARED_STATEMENT = "26000"  # SQLSTATE invalid_sql_statement_name

try:  # the driver of PostgreSQL URLs; absent, only SQLite is used
    from psycopg2.extensions import STATUS_READY as _PSYCOPG2_READY
except ImportError:  # pragma: no cover
    _PSYCOPG2_READY = None


@contextmanager
def planner(session: Session, **switches: bool):
    """PostgreSQL, for the statements run inside: planner switches (``seqscan=False``…) for
    the current transaction only, and no parallel workers (starting them cost 200 ms on a
    busy 2-core machine, for queries that read a few thousand rows), back to their
    defaults after, each way in one round trip. SQLite: nothing."""
    postgres = session.get_bind().dialect.name == "postgresql"
    settings = {f"enable_{name}": "on" if on else "off" for name, on in switches.items()}
    settings["max_parallel_workers_per_gather"] = "0"
    if postgres:
        session.execute(text("; ".join(f"SET LOCAL {name} = {value}" for name, value in settings.items())))
    yield  # on an error the transaction is aborted and its SET LOCAL undone: nothing to reset
    if postgres:
        session.execute(text("; ".join(f"SET LOCAL {name} TO DEFAULT" for name in settings)))
