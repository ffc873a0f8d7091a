"""The database helpers: a single statement outside any transaction, and the pool handing out
a fresh connection when an idle one was lost (PostgreSQL restarted) — SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import bindparam, literal_column, select, text, type_coerce, update
from sqlalchemy.exc import DBAPIError, StatementError

from simple_erp import db
from simple_erp.models.company import Company
from simple_erp.models.types import ScaledDecimal
from simple_erp.services import companies

# The tests of psycopg2's fast paths: the PostgreSQL run of the ``engine`` fixture only.
POSTGRESQL_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)], indirect=True)


def company_name(session_factory, company_id: int) -> str:
    with session_factory() as session:
        return session.execute(select(Company.name).where(Company.id == company_id)).scalar_one()


@pytest.fixture
def company_id(session_factory) -> int:
    with session_factory() as session:
        return companies.save_company(session, None, {"name": "Avant", "vat_regime": "franchise"}).id


def rename(company_id: int, name: str):
    return update(Company).where(Company.id == company_id).values(name=name)


def test_execute_alone_commits_by_itself_on_postgresql(engine, session_factory, company_id):
    """First statement of a session: on PostgreSQL it is committed at once (no BEGIN, no
    COMMIT round trips), whatever the session does next; SQLite runs it in the session's
    transaction."""
    with db.Session(engine) as session:
        assert db.execute_alone(session, rename(company_id, "Après"), {}).rowcount == 1
        session.rollback()
    alone = engine.dialect.name == "postgresql"
    assert company_name(session_factory, company_id) == ("Après" if alone else "Avant")
    with db.Session(engine) as session:  # the connection went back to the pool as it came
        session.execute(rename(company_id, "Annulé"))
        session.rollback()
    assert company_name(session_factory, company_id) == ("Après" if alone else "Avant")


def test_execute_alone_joins_a_transaction_already_begun(engine, session_factory, company_id):
    with db.Session(engine) as session:
        session.execute(text("SELECT 1"))
        db.execute_alone(session, rename(company_id, "Après"), {})
        session.rollback()
    assert company_name(session_factory, company_id) == "Avant"


@pytest.mark.postgres
def test_an_idle_connection_that_was_lost_is_replaced(monkeypatch, postgres_admin_engine):
    """PostgreSQL restarted (here: our backend terminated) while a connection sat idle in
    the pool: the next checkout pings it, gives it up and opens another one."""
    engine = db.make_engine(postgres_admin_engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            lost_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with postgres_admin_engine.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost_pid}).scalar_one()
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", -1.0)  # every checkout counts as idle
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != lost_pid
    finally:
        engine.dispose()


def test_a_prepared_statement_gives_what_sqlalchemy_gives(engine, company_id):
    """PostgreSQL: PREPARE on a connection's first use, EXECUTE after, results typed as
    SQLAlchemy types them; prepared again on a new connection. SQLite: run as usual."""
    statement = select(Company.id, Company.name, type_coerce(literal_column("1234"), ScaledDecimal(2))).where(
        Company.id == bindparam("b_id"), Company.name != bindparam("b_not", value="Personne"))
    prepared = db.Prepared("simple_erp_test_company", statement)
    for _connection in range(2):
        for _use in range(3):
            with db.Session(engine) as session:
                row = db.execute_alone(session, statement, {"b_id": company_id}, prepared).first()
                assert tuple(row) == (company_id, "Avant", Decimal("12.34"))
                assert db.execute_alone(session, statement, {"b_id": company_id + 1}, prepared).first() is None
        engine.dispose()  # the next connection is new: prepared again
    with pytest.raises((KeyError, StatementError), match="b_id"), db.Session(engine) as session:
        db.execute_alone(session, statement, {}, prepared)


@POSTGRESQL_ONLY
def test_a_prepared_statement_the_server_forgot_is_prepared_again(engine, company_id):
    statement = select(Company.name).where(Company.id == bindparam("b_id"))
    prepared = db.Prepared("simple_erp_test_forgotten", statement)
    with db.Session(engine) as session:
        assert db.execute_alone(session, statement, {"b_id": company_id}, prepared).first() == ("Avant",)
        session.connection().exec_driver_sql("DEALLOCATE ALL")  # e.g. DISCARD ALL by a pooler
        session.commit()
    with db.Session(engine) as session:
        assert db.execute_alone(session, statement, {"b_id": company_id}, prepared).first() == ("Avant",)
    with db.Session(engine) as session:  # inside a transaction it cannot be retried: it says so
        session.connection().exec_driver_sql("DEALLOCATE ALL")
        with pytest.raises(DBAPIError, match="does not exist"):
            db.execute_alone(session, statement, {"b_id": company_id}, prepared)
        session.rollback()
        assert db.execute_alone(session, statement, {"b_id": company_id}, prepared).first() == ("Avant",)


def _one_connection_engine(engine):
    """The same database through a pool of exactly one connection (which one ran what is known)."""
    from sqlalchemy import create_engine

    return create_engine(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


@POSTGRESQL_ONLY
def test_a_statement_alone_runs_in_autocommit_and_hands_the_connection_back_as_it_came(engine, company_id):
    """PostgreSQL: on a fresh session, ``execute_alone`` of a prepared statement takes a
    pooled connection for itself (no SQLAlchemy Connection): committed at once, whatever the
    session does next, and the connection goes back to the pool out of autocommit."""
    statement = update(Company).where(Company.id == bindparam("b_id")).values(name=bindparam("b_name"))
    prepared = db.Prepared("simple_erp_test_alone", statement)
    single = _one_connection_engine(engine)
    try:
        with db.Session(single) as session:
            assert db.execute_alone(session, statement, {"b_id": company_id, "b_name": "Après"}, prepared).rowcount == 1
            assert db.execute_alone(session, statement, {"b_id": -1, "b_name": "Personne"}, prepared).rowcount == 0
            assert not session.in_transaction()
            session.rollback()
        with single.connect() as conn:
            assert conn.execute(select(Company.name).where(Company.id == company_id)).scalar_one() == "Après"
            assert conn.connection.dbapi_connection.autocommit is False
            conn.execute(update(Company).where(Company.id == company_id).values(name="Annulé"))
            conn.rollback()  # a transaction again: rolled back
            assert conn.execute(select(Company.name).where(Company.id == company_id)).scalar_one() == "Après"
    finally:
        single.dispose()


@POSTGRESQL_ONLY
def test_a_statement_alone_prepares_again_what_the_server_forgot(engine, company_id):
    statement = select(Company.name).where(Company.id == bindparam("b_id"))
    prepared = db.Prepared("simple_erp_test_alone_forgotten", statement)
    single = _one_connection_engine(engine)
    try:
        assert prepared.run_alone(single, {"b_id": company_id}).first() == ("Avant",)
        with single.connect() as conn:  # the same connection: the pool has only one
            assert conn.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = 'simple_erp_test_alone_forgotten'"
            ).scalar_one() == 1
            conn.exec_driver_sql("DEALLOCATE ALL")
            conn.commit()
        assert prepared.run_alone(single, {"b_id": company_id}).first() == ("Avant",)
    finally:
        single.dispose()


@POSTGRESQL_ONLY
def test_a_statement_alone_on_a_lost_connection_fails_cleanly_and_the_next_one_reconnects(
        engine, company_id, postgres_admin_engine):
    """The server restarted under a busy pool (no idle ping): the statement raises
    SQLAlchemy's DBAPIError marked as a lost connection, and the pool gives up all its
    connections of before, so the next statement runs on a new one instead of failing too."""
    from sqlalchemy import create_engine

    statement = select(Company.name).where(Company.id == bindparam("b_id"))
    prepared = db.Prepared("simple_erp_test_alone_lost", statement)
    pool_of_two = create_engine(engine.url.render_as_string(hide_password=False), pool_size=2, max_overflow=0)
    try:
        with pool_of_two.connect() as first, pool_of_two.connect() as second:  # both pooled, both used
            pids = [conn.execute(text("SELECT pg_backend_pid()")).scalar_one() for conn in (first, second)]
        assert prepared.run_alone(pool_of_two, {"b_id": company_id}).first() == ("Avant",)
        with postgres_admin_engine.connect() as admin:
            for pid in pids:
                assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        with pytest.raises(DBAPIError) as failure:
            prepared.run_alone(pool_of_two, {"b_id": company_id})
        assert failure.value.connection_invalidated
        assert prepared.run_alone(pool_of_two, {"b_id": company_id}).first() == ("Avant",)
        assert _backend_pid(pool_of_two) not in pids
    finally:
        pool_of_two.dispose()


@POSTGRESQL_ONLY
def test_a_statement_alone_with_a_database_error_changes_nothing_and_keeps_the_connection(engine, company_id):
    statement = update(Company).where(Company.id == bindparam("b_id")).values(name=bindparam("b_name"))
    prepared = db.Prepared("simple_erp_test_alone_error", statement)
    single = _one_connection_engine(engine)
    try:
        pid = _backend_pid(single)
        with pytest.raises(DBAPIError, match="null value"):
            prepared.run_alone(single, {"b_id": company_id, "b_name": None})
        assert _backend_pid(single) == pid  # not a lost connection: kept
        assert company_name(lambda: db.session_scope(single), company_id) == "Avant"
    finally:
        single.dispose()


def test_a_prepared_statement_in_a_transaction_reports_database_errors_as_sqlalchemy_does(engine, company_id):
    """Straight on the DBAPI cursor, yet a refused statement raises SQLAlchemy's DBAPIError
    (IntegrityError here) and the session's transaction rolls back as usual: nothing kept."""
    from sqlalchemy.exc import IntegrityError

    statement = update(Company).where(Company.id == bindparam("b_id")).values(name=bindparam("b_name"))
    prepared = db.Prepared("simple_erp_test_in_transaction_error", statement)
    with db.Session(engine) as session:
        session.execute(rename(company_id, "Pendant"))  # the transaction has begun: run inside it
        with pytest.raises(IntegrityError):
            db.execute_alone(session, statement, {"b_id": company_id, "b_name": None}, prepared)
        session.rollback()
        assert db.execute_alone(session, statement, {"b_id": company_id, "b_name": "Après"}, prepared).rowcount == 1
        session.rollback()
    assert company_name(lambda: db.session_scope(engine), company_id) == (
        "Après" if engine.dialect.name == "postgresql" else "Avant")  # PostgreSQL: the second one ran alone


@POSTGRESQL_ONLY
def test_a_statement_alone_leaves_an_autocommit_engine_in_autocommit(engine, company_id):
    from sqlalchemy import create_engine

    statement = select(Company.name).where(Company.id == bindparam("b_id"))
    prepared = db.Prepared("simple_erp_test_alone_autocommit", statement)
    autocommit = create_engine(engine.url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT",
                               pool_size=1, max_overflow=0)
    try:
        assert prepared.run_alone(autocommit, {"b_id": company_id}).first() == ("Avant",)
        with autocommit.connect() as conn:
            assert conn.connection.dbapi_connection.autocommit is True
    finally:
        autocommit.dispose()


def test_a_statement_alone_that_cannot_connect_raises_sqlalchemys_error():
    """Nothing listens on port 1: the same OperationalError as through SQLAlchemy."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    unreachable = create_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nothing",
                                connect_args={"connect_timeout": 2})
    prepared = db.Prepared("simple_erp_test_unreachable", select(Company.name).where(Company.id == bindparam("b_id")))
    try:
        with pytest.raises(OperationalError):
            prepared.run_alone(unreachable, {"b_id": 1})
    finally:
        unreachable.dispose()


def test_a_bad_parameter_of_a_prepared_statement_is_reported_as_sqlalchemy_does(engine, company_id):
    statement = select(Company.id).where(Company.id == bindparam("b_id"), literal_column("1") == bindparam(
        "b_amount", type_=ScaledDecimal(2)))
    prepared = db.Prepared("simple_erp_test_bad_parameter", statement)
    with db.Session(engine) as session, pytest.raises(StatementError, match="b_amount"):
        db.execute_alone(session, statement, {"b_id": company_id, "b_amount": "pas un montant"}, prepared)


def test_with_another_driver_a_prepared_statement_runs_through_sqlalchemy(monkeypatch, engine, company_id):
    """psycopg 3, say: no PREPARE/EXECUTE by hand (it sends parameters apart), the same result."""
    monkeypatch.setattr(db, "_CURSOR_DRIVERS", ())
    monkeypatch.setattr(db, "_ALONE_DRIVER", "none")
    statement = select(Company.id, Company.name).where(Company.id == bindparam("b_id"))
    prepared = db.Prepared("simple_erp_test_other_driver", statement)
    with db.Session(engine) as session:
        assert tuple(db.execute_alone(session, statement, {"b_id": company_id}, prepared).first()) == (
            company_id, "Avant")
        assert db.execute_alone(session, rename(company_id, "Après"), {}, db.Prepared(
            "simple_erp_test_other_driver_update", rename(company_id, "Après"))).rowcount == 1
        session.commit()
    assert company_name(lambda: db.session_scope(engine), company_id) == "Après"


@POSTGRESQL_ONLY
def test_postgresql_connections_compile_no_jit(engine):
    """A list's LIMIT over a filter passes jit_above_cost; compiling cost more than the search."""
    with engine.connect() as conn:
        conn.rollback()  # the setting outlives the first transaction: it was committed
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"


@POSTGRESQL_ONLY
def test_planner_switches_hold_inside_and_are_undone_after(session_factory):
    def shown(session, name):
        return session.execute(text(f"SHOW {name}")).scalar_one()

    names = ("enable_seqscan", "enable_indexscan", "enable_bitmapscan", "max_parallel_workers_per_gather")
    with session_factory() as session:
        before = [shown(session, n) for n in names]
        with db.planner(session, seqscan=False, indexscan=False):
            assert [shown(session, n) for n in names] == ["off", "off", before[2], "0"]
        assert [shown(session, n) for n in names] == before
