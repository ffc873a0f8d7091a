"""The local SendGrid sandbox for service tests: one server per module, and ``inbox``,
which points the email module at it (a fresh inbox per test) and reads what it received.

Import the fixtures into a test module: ``from tests.sendgrid_fixtures import inbox, sandbox``
(``api``: a client on the sandbox, for tests that read it themselves)."""

from __future__ import annotations

import httpx
import pytest

from simple_erp.providers.email import SendGridGateway
from simple_erp.sandbox.sendgrid import start_in_thread
from simple_erp.services import emails


@pytest.fixture(scope="module")
def sandbox():
    server = start_in_thread(port=0)
    yield server
    server.stop()


@pytest.fixture
def api(sandbox):
    """An HTTP client on the sandbox, its inbox emptied first."""
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as client:
        assert client.post("/sandbox/reset").status_code == 204
        yield client


@pytest.fixture
def inbox(sandbox):
    emails.set_gateway_factory(lambda key, host: SendGridGateway(key, host=sandbox.host, timeout=5))
    with httpx.Client(base_url=sandbox.base_url, trust_env=False, timeout=10) as client:
        assert client.post("/sandbox/reset").status_code == 204
        yield lambda: client.get("/sandbox/messages").json()["messages"]
    emails.set_gateway_factory(None)
