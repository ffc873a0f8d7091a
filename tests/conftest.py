"""Shared fixtures: one freshly migrated database per test, on SQLite and on PostgreSQL.

The environment is prepared at import time, before anything imports ``simple_erp``
(settings and the Fernet key are cached on first use):

* ``SIMPLE_ERP_SECRET_KEY``: a fresh Fernet key, unless one is already set;
* ``SIMPLE_ERP_DATA_DIR``: a throw-away directory, so tests never write into ``data/``.

The migrations run once per test run and database engine, into a template; each test
gets a copy of it (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL):
the same schema as a fresh ``upgrade``, for a fraction of its cost.

PostgreSQL: each test gets its own database ``simple_erp_test_<hex>`` on the server at
``TEST_POSTGRES_URL`` (default ``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``),
dropped afterwards. An unreachable server fails the run, unless
``SIMPLE_ERP_SKIP_POSTGRES=1`` (then those tests are skipped). ``-m "not postgres"``
runs SQLite only.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid

from cryptography.fernet import Fernet

if not os.environ.get("SIMPLE_ERP_SECRET_KEY", "").strip():
    os.environ["SIMPLE_ERP_SECRET_KEY"] = Fernet.generate_key().decode()
_DATA_DIR = tempfile.mkdtemp(prefix="simple_erp_test_data_")
os.environ["SIMPLE_ERP_DATA_DIR"] = _DATA_DIR
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from simple_erp.db import make_engine, session_scope  # noqa: E402
from simple_erp.migrate import upgrade  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _postgres_server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_admin_engine():
    """AUTOCOMMIT engine on the server's maintenance database (for CREATE/DROP DATABASE)."""
    url = _postgres_server_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        shown = make_url(url).render_as_string(hide_password=True)
        reason = f"PostgreSQL unreachable at {shown}: {exc.orig}"
        if os.environ.get("SIMPLE_ERP_SKIP_POSTGRES") == "1":
            pytest.skip(reason)
        pytest.fail(
            f"{reason}\nStart PostgreSQL, set TEST_POSTGRES_URL, or set SIMPLE_ERP_SKIP_POSTGRES=1.",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """A SQLite file brought to the latest schema once, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite_template") / "template.db"
    upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path)  # fold the write-ahead log into the file before copying it
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path


@pytest.fixture(scope="session")
def _postgres_template(postgres_admin_engine):
    """A PostgreSQL database brought to the latest schema once, the template of each test's."""
    name = f"simple_erp_tpl_{uuid.uuid4().hex[:12]}"
    with postgres_admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(make_url(_postgres_server_url()).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        with postgres_admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request, tmp_path):
    """URL of an empty database at the latest schema (a copy of the migrated template)."""
    if request.param == "sqlite":
        path = tmp_path / "simple_erp.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return

    admin = request.getfixturevalue("postgres_admin_engine")
    template = request.getfixturevalue("_postgres_template")
    name = f"simple_erp_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(_postgres_server_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    """``with session_factory() as session:`` is one committed (or rolled back) transaction."""

    def factory():
        return session_scope(engine)

    return factory


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the item (``item.rep_call``…): browser fixtures keep a
    screenshot of a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
