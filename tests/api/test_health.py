"""The load balancer's health check: GET /api/health (simple_erp.api.app)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

import simple_erp.api.app as api_app
from simple_erp.db import make_engine

# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE_URL = "postgresql+psycopg2://postgres@127.0.0.1:1/simple_erp?connect_timeout=2"


@pytest.fixture
def client():
    with TestClient(api_app.api) as client:
        yield client


def test_health_is_ok_when_the_database_answers(client, engine, monkeypatch):
    monkeypatch.setattr(api_app, "get_engine", lambda: engine)
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_is_503_when_the_database_is_unreachable(client, monkeypatch):
    unreachable = make_engine(UNREACHABLE_URL)
    monkeypatch.setattr(api_app, "get_engine", lambda: unreachable)
    try:
        response = client.get("/api/health")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_health_only_answers_get(client):
    assert client.post("/api/health").status_code == 405
