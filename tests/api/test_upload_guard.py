"""The guard in front of Reflex's upload endpoint (POST /_upload, simple_erp.api.limits):
a declared size over SIMPLE_ERP_UPLOAD_MAX_BYTES is 413 and a browser tab without a valid
session 403, both before a byte of the body is read; a chunked body is cut at the cap
(413). The endpoint behind it is a stand-in that parses the multipart body as Reflex's
does (``request.form()``, an empty 200 when the client goes away); the session check is
the real one (``AuthState`` read from a Reflex state manager, the session in the database)
in its own tests."""

from __future__ import annotations

import asyncio

import pytest
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from sqlmodel import select
from starlette.testclient import TestClient

from simple_erp import db
from simple_erp.api import limits
from simple_erp.api.app import build_api
from simple_erp.config import get_settings
from simple_erp.models.user import User
from simple_erp.services import auth
from simple_erp.state.auth import AuthState, client_is_signed_in
from tests.api.body_helpers import asgi_post, post_raw, served

CAP = 256 * 1024
TAB = "0f1e2d3c-tab-signed-in"
HEADERS = {"Reflex-Client-Token": TAB, "Reflex-Event-Handler": "state.admin_erp_state.upload_logo"}
BOUNDARY = "----simpleerpboundary"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
PART_HEAD = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"logo.png\"\r\n"
             "Content-Type: image/png\r\n\r\n").encode()


class FakeReflexUpload:
    """What the guarded endpoint saw: calls and the file sizes it parsed."""

    def __init__(self) -> None:
        self.calls = 0

    async def endpoint(self, request: Request) -> Response:
        self.calls += 1
        try:
            form = await request.form(max_part_size=100 * 1024 * 1024)
        except ClientDisconnect:
            return Response()  # as reflex_components_core.core._upload does
        sizes = [len(await f.read()) for f in form.getlist("files")]
        return JSONResponse({"sizes": sizes})


@pytest.fixture
def reflex_upload():
    return FakeReflexUpload()


@pytest.fixture
def signed_in_tabs(monkeypatch):
    tabs = {TAB}

    async def check(token: str) -> bool:
        return token in tabs

    monkeypatch.setattr(limits, "_reflex_session_check", check)
    return tabs


@pytest.fixture
def app(monkeypatch, reflex_upload, signed_in_tabs):
    """The real API app with a stand-in of Reflex's backend mounted inside it, as
    ``rx.App(api_transformer=api)`` does."""
    monkeypatch.setenv("SIMPLE_ERP_UPLOAD_MAX_BYTES", str(CAP))
    get_settings.cache_clear()
    api = build_api()
    api.mount("", Starlette(routes=[Route("/_upload", reflex_upload.endpoint, methods=["POST"])]))
    yield api
    get_settings.cache_clear()


def test_the_default_cap_fits_a_1_mb_logo_and_not_much_more(monkeypatch):
    monkeypatch.delenv("SIMPLE_ERP_UPLOAD_MAX_BYTES", raising=False)
    get_settings.cache_clear()
    assert get_settings().upload_max_bytes == 2 * 1024 * 1024
    get_settings.cache_clear()


def test_a_logo_under_the_cap_reaches_the_handler(app, reflex_upload):
    with TestClient(app) as client:
        answer = client.post("/_upload", headers=HEADERS, files={"files": ("logo.png", b"\x89PNG" + b"x" * 100_000)})
    assert answer.status_code == 200 and answer.json() == {"sizes": [100_004]}
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_declared_size_over_the_cap_is_413_unread(app, reflex_upload):
    status, pulled = asgi_post(app, "/_upload", HEADERS | MULTIPART | {"Content-Length": str(CAP + 1)}, chunks=10)
    assert (status, pulled, reflex_upload.calls) == (413, 0, 0)
    with TestClient(app) as client:
        answer = client.post("/_upload", headers=HEADERS, files={"files": ("logo.png", b"x" * (CAP + 10))})
    assert answer.status_code == 413 and answer.text == limits.TOO_LARGE
    assert reflex_upload.calls == 0


@pytest.mark.parametrize("headers", [
    pytest.param({"Reflex-Event-Handler": "state.admin_erp_state.upload_logo"}, id="no-client-token"),
    pytest.param({**HEADERS, "Reflex-Client-Token": "random-token-never-signed-in"}, id="random-token"),
    pytest.param({**HEADERS, "Reflex-Client-Token": "x" * 5000}, id="absurd-token"),
])
def test_a_tab_without_a_session_is_403_unread(app, reflex_upload, headers):
    status, pulled = asgi_post(app, "/_upload", headers | MULTIPART, chunks=100_000)
    assert (status, pulled, reflex_upload.calls) == (403, 0, 0)


def test_a_failing_session_check_refuses(app, reflex_upload, monkeypatch):
    async def broken(token: str) -> bool:
        raise RuntimeError("state manager down")

    monkeypatch.setattr(limits, "_reflex_session_check", broken)
    status, pulled = asgi_post(app, "/_upload", HEADERS | MULTIPART, chunks=10)
    assert (status, pulled) == (403, 0)


def test_a_chunked_upload_is_cut_at_the_cap(app, reflex_upload):
    status, pulled = asgi_post(app, "/_upload", HEADERS | MULTIPART, chunks=100_000, chunk_size=1024,
                               prefix=PART_HEAD)
    assert status == 413
    assert pulled <= CAP // 1024 + 1
    assert reflex_upload.calls == 1  # it began, saw the client "go away", its answer replaced


def test_other_routes_are_not_capped(app):
    """The guard watches only the upload endpoint (the webhooks have their own caps)."""
    with TestClient(app) as client:
        answer = client.post("/api/webhooks/mollie", content=b"id=tr_" + b"a" * 10, headers={"Content-Type": "text/plain"})
    assert answer.status_code != 413


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_over_real_http_a_huge_upload_is_answered_long_before_its_end(app, chunked):
    total = 64 * 1024 * 1024
    with served(app) as port:
        status, sent = post_raw(port, "/_upload", HEADERS | MULTIPART, total, chunked, prefix=PART_HEAD)
        refused, refused_sent = post_raw(port, "/_upload", HEADERS | MULTIPART | {"Reflex-Client-Token": "nobody"},
                                         total, chunked, prefix=PART_HEAD)
    assert status == 413 and sent < total // 2
    assert refused == (403 if chunked else 413) and refused_sent < total // 2  # the size is judged first


# --- the real session check: the tab's AuthState in Reflex's state manager ------------------------


@pytest.fixture
def user_session(engine, session_factory, monkeypatch) -> str:
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    with session_factory() as session:
        user = auth.create_first_admin(session, "alice@atelier.fr", "Alice Martin", "Tr3s-l0ngue-phrase-de-passe!")
        return auth.open_session(session, user)


async def _tab(manager: StateManagerMemory, ident: str, session_token: str) -> None:
    root = await manager.get_state(BaseStateToken(ident=ident, cls=AuthState))
    (await root.get_state(AuthState)).session_token = session_token


def test_the_session_check_reads_the_tabs_auth_state(user_session, session_factory):
    async def scenario() -> list[bool]:
        manager = StateManagerMemory()
        await _tab(manager, "signed-in", user_session)
        await _tab(manager, "signed-out", "")
        await _tab(manager, "forged", "not-a-session-token")
        results = [await client_is_signed_in(t, manager=manager) for t in ("signed-in", "signed-out", "forged")]
        unknown = await client_is_signed_in("never-connected", manager=manager)
        assert "never-connected" not in manager.states  # nothing created for an unknown tab
        with session_factory() as session:
            auth.close_session(session, user_session)
        return [*results, unknown, await client_is_signed_in("signed-in", manager=manager)]

    assert asyncio.run(scenario()) == [True, False, False, False, False]


def test_a_deactivated_users_tab_is_refused(user_session, session_factory):
    with session_factory() as session:
        for user in session.exec(select(User)).all():
            user.is_active = False

    async def scenario() -> bool:
        manager = StateManagerMemory()
        await _tab(manager, "tab", user_session)
        return await client_is_signed_in("tab", manager=manager)

    assert asyncio.run(scenario()) is False
