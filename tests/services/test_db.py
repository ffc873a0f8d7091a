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


def test_a_prepared_statement_the_server_forgot_is_prepared_again(engine, company_id):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite runs the statement as usual")
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
