"""Every event handler of every state, sent over a raw websocket by a tab without a
session, against the real backend (ws_backend_run.py: the app served by uvicorn, its
database seeded with business records): none answers with business data (no name,
email, amount, IBAN of the seeded records in any delta or event) and none writes (row
counts and a checksum of every business table unchanged).

The handlers are read from the app's state tree (``rx.State`` and its substates, their
``event_handlers``): a new handler is covered by itself. Each is sent as Reflex 0.10's
client does (socket.io on /_event, ``{"name": "state.sub_state.handler", "payload",
"router_data"}``, the client token in the connection's query), with plausible
arguments: ids of the seeded records, a word of the seeded contact's name for a search,
empty strings and forms otherwise. A control tab that sends the session cookie (as a
signed-in browser does in its hydrate) does receive the data: the detection works.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import queue
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import socketio
from sqlalchemy import create_engine, inspect as sa_inspect, text

ROOT = Path(__file__).resolve().parents[2]
# Tables a tab without a session may write to: the record of a refused sign-in.
NOT_BUSINESS = {"sign_in_failure", "alembic_version"}
_ID_PARAMS = {"contact_id": "contact", "doc_id": "doc", "line_id": "line", "company_id": "company",
              "product_id": "product", "user_id": "user"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _handlers() -> list[tuple[str, inspect.Signature]]:
    """(full event name, signature) of every handler of every state of the app."""
    import simple_erp.simple_erp  # noqa: F401 - every page state registered
    from reflex.state import State

    def walk(cls):
        yield cls
        for sub in sorted(cls.get_substates(), key=lambda s: s.get_full_name()):
            yield from walk(sub)

    return [(f"{cls.get_full_name()}.{name}", inspect.signature(handler.fn))
            for cls in walk(State) for name, handler in sorted(cls.event_handlers.items())]


def _argument(name: str, annotation, ids: dict[str, int], word: str):
    kind = str(annotation)
    if name in _ID_PARAMS or name.endswith("_id") or kind == "int":
        value = ids.get(_ID_PARAMS.get(name, ""), 1)
        return str(value) if kind == "str" else value
    if kind == "bool":
        return True
    if kind.startswith("dict"):
        return {}
    if kind.startswith("list"):
        return []
    if name in {"query", "value"}:
        return word  # a search for the seeded contact, a field set to it
    return ""


def _checksum(engine) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of the sorted rows of every business table."""
    result = {}
    with engine.connect() as conn:
        for table in sorted(set(sa_inspect(conn).get_table_names()) - NOT_BUSINESS):
            rows = sorted(repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return result


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    data = tmp_path_factory.mktemp("ws_backend")
    database_url = f"sqlite:///{data / 'erp.db'}"
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database_url, "SIMPLE_ERP_DATA_DIR": str(data), "REFLEX_REDIS_URL": "",
                        "REFLEX_STATE_MANAGER_MODE": "memory", "PYTHONPATH": str(ROOT),
                        "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    log = open(data / "backend.log", "w")
    process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("ws_backend_run.py")), str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=30)
            raise RuntimeError("the backend stopped:\n" + (data / "backend.log").read_text()[-3000:])
        seed = json.loads(line)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the backend did not listen:\n" + (data / "backend.log").read_text()[-3000:])
                time.sleep(0.3)
        engine = create_engine(database_url)
        yield {"url": f"http://127.0.0.1:{port}", "engine": engine, **seed}
        engine.dispose()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Tab:
    """A browser tab as Reflex 0.10's client speaks to the backend, without the browser."""

    PROBE = "reflex___state____state.set_is_hydrated"

    def __init__(self, url: str, query: dict[str, str] | None = None):
        self.query = query or {}
        self.token = str(uuid.uuid4())
        self.updates: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("event", self.updates.put, namespace="/_event")
        self.client.connect(f"{url}?token={self.token}", socketio_path="/_event", namespaces=["/_event"],
                            transports=["websocket"], wait_timeout=20)

    def send(self, name: str, payload: dict) -> None:
        self.client.emit("event", {"name": name, "payload": payload,
                                   "router_data": {"pathname": "/erp", "asPath": "/erp", "query": self.query}},
                         namespace="/_event")

    def answers(self, name: str, payload: dict, timeout: float = 20) -> list[dict]:
        """Send one event, then probes (``set_is_hydrated`` True, False, True); every update
        received until the last probe's, which the backend sends once the event has been
        processed (one queue per tab). An event the handler chains comes later: ``drain``."""
        self.send(name, payload)
        for value in (True, False, True):  # whatever the handler left: a False, then a True
            self.send(self.PROBE, {"value": value})
        received, seen_false, deadline = [], False, time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                update = self.updates.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            received.append(update)
            hydrated = (update.get("delta") or {}).get("reflex___state____state", {}).get("is_hydrated_rx_state_")
            if hydrated is False:
                seen_false = True
            elif hydrated is True and seen_false:
                return received
        raise AssertionError(f"no answer to {name} within {timeout} s: {received!r}"[:2000])

    def drain(self, quiet: float = 1.5) -> list[dict]:
        """Every update still arriving, until none came for ``quiet`` seconds."""
        received = []
        while True:
            try:
                received.append(self.updates.get(timeout=quiet))
            except queue.Empty:
                return received

    def close(self) -> None:
        self.client.disconnect()


def _leaks(updates: list[dict], secrets: list[str]) -> list[str]:
    """The secrets found in the updates, whatever their case (names are shown in capitals)."""
    text_ = json.dumps(updates, ensure_ascii=False).lower()
    return [secret for secret in secrets if secret.lower() in text_]


def test_no_handler_answers_a_tab_without_a_session_with_data_or_writes(backend):
    handlers = _handlers()
    assert len(handlers) > 150  # the whole tree, Reflex's own states included
    before = _checksum(backend["engine"])
    assert before["contact"][0] == 1 and before["document"][0] == 1  # the seeded records are there

    word = "quimperl"  # the contact is « Quimperlé »: the echo of the search is not a leak
    # The route parameters of a fiche contact and a document, as the pages' URLs give them.
    ids = backend["ids"]
    leaks, tab = {}, Tab(backend["url"], {"contact_id": str(ids["contact"]), "doc_id": str(ids["doc"])})
    try:
        for name, signature in handlers:
            params = list(signature.parameters.values())[1:]
            payload = {p.name: _argument(p.name, p.annotation, backend["ids"], word) for p in params
                       if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
            found = _leaks(tab.answers(name, payload), backend["secrets"])
            if found:
                leaks[name] = found
        if found := _leaks(tab.drain(), backend["secrets"]):  # a background or chained handler's
            leaks["(late updates)"] = found
    finally:
        tab.close()

    assert leaks == {}
    after = _checksum(backend["engine"])
    assert {t: v for t, v in after.items() if before.get(t) != v} == {}


def test_a_signed_in_tab_does_receive_the_data(backend):
    """The control: the same client with the session cookie in its hydrate (what a signed-in
    browser sends) gets the contact list, so the check above would see a leak."""
    from simple_erp.pages.documents import DocumentListState
    from simple_erp.state.auth import AuthState

    cookie = f"{AuthState.get_full_name()}.session_token_rx_state_"
    tab = Tab(backend["url"])
    try:
        # The hydrate queues the page's on_load events (after the probes): every update counts.
        updates = tab.answers("reflex___state____state.hydrate_and_load", {"vars": {cookie: backend["session_token"]}})
        updates += tab.answers(f"{DocumentListState.get_full_name()}.load", {})
        updates += tab.drain()
    finally:
        tab.close()
    found = _leaks(updates, backend["secrets"])
    assert "Quimperlé" in found and "481,47" in found and "alice.secret@atelier-kerbrat.fr" in found
