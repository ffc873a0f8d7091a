"""Production-mode end-to-end: `reflex run --env prod` with Redis and two granian
backend workers, on a fresh PostgreSQL database. Run in its own pytest invocation."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
_DB_NAME = f"simple_erp_prod_{uuid.uuid4().hex[:10]}"
_TMP = Path(tempfile.mkdtemp(prefix="simple_erp_prod_"))
os.environ["DATABASE_URL"] = PG_SERVER.rsplit("/", 1)[0] + "/" + _DB_NAME
os.environ["SIMPLE_ERP_DATA_DIR"] = str(_TMP)
os.environ.setdefault("SIMPLE_ERP_SECRET_KEY", Fernet.generate_key().decode())
# The Redis database of this run: the app's workers', and this process's (a test joins
# them as another process: test_live_other_process.py).
REDIS_URL = os.environ["REFLEX_REDIS_URL"] = f"redis://127.0.0.1:6379/{1 + uuid.uuid4().int % 14}"

import pytest  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tests.browser_helpers import chromium, french_page  # noqa: E402

expect.set_options(timeout=20_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def prod_app():
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{_DB_NAME}"'))
    port = _free_port()
    env = {
        **os.environ,
        "REFLEX_REDIS_URL": REDIS_URL,
        "GRANIAN_WORKERS": "2",
        "REFLEX_API_URL": f"http://127.0.0.1:{port}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = open(_TMP / "prod.log", "w")
    process = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--backend-host", "127.0.0.1",
         "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the prod app stopped:\n" + (_TMP / "prod.log").read_text()[-3000:])
            try:
                import httpx

                if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise RuntimeError("the prod app did not start in time")
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_DB_NAME}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def base_url(prod_app) -> str:
    return prod_app


@pytest.fixture(scope="session")
def browser() -> Browser:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, base_url: str, request) -> Page:
    with french_page(browser, base_url, request) as page:
        yield page


@pytest.fixture
def signed_in(page: Page) -> Page:
    from tests.browser_helpers import sign_in

    sign_in(page)
    return page
