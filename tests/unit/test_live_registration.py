"""state.live: a tab without a signed-in user is never registered for live updates, and
a worker finds a registered tab's page state by its name in the app's state tree, even
for a page it never served itself (several workers behind Redis)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from simple_erp.pages.document_editor import DocumentState
from simple_erp.state import live


class _Tab:
    """What watch() reads of a page state."""

    def __init__(self, token: str, user):
        self._user = user
        self.router = SimpleNamespace(session=SimpleNamespace(client_token=token))

    def _current_user(self):
        return self._user

    @classmethod
    def get_full_name(cls) -> str:
        return "tests.fake_tab_state"


def test_a_tab_without_a_session_is_not_registered(monkeypatch):
    registry = live.MemoryRegistry()
    monkeypatch.setattr(live, "_registry", registry)
    asyncio.run(live.watch(_Tab("anonyme", None), "documents"))
    asyncio.run(live.watch(_Tab("connecte", object()), "documents"))
    members = asyncio.run(registry.members("documents"))
    assert members == {"tests.fake_tab_state|connecte"}


def test_a_page_state_is_found_by_name_on_a_worker_that_never_served_it(monkeypatch):
    monkeypatch.setattr(live, "_state_classes", {})
    assert live.state_class(DocumentState.get_full_name()) is DocumentState
    assert live.state_class("reflex___state____state.no_such_state") is None
