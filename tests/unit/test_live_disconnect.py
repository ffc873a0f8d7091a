"""A tab's live-update registrations disappear when its websocket closes, with the
in-process registry and with Redis (several workers): the real app's socket namespace
(Reflex 0.10's EventNamespace) links a client token to a socket, the socket disconnects
through python-socketio's own dispatch, and the tab is no longer registered — while
another tab still is. Fails if Reflex changes what simple_erp.state.live_disconnect
relies on."""

from __future__ import annotations

import asyncio
import inspect
import uuid

import pytest

import simple_erp.simple_erp as main
from simple_erp.pages.document_editor import DocumentState
from simple_erp.pages.documents import DocumentListState
from simple_erp.state import live, live_disconnect

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_or_skip() -> live.RedisRegistry:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (scripts/test.sh starts it)")
    return live.RedisRegistry(REDIS_URL)


@pytest.fixture(params=["memory", "redis"])
def registry(request, monkeypatch):
    reg = live.MemoryRegistry() if request.param == "memory" else _redis_or_skip()
    monkeypatch.setattr(live, "_registry", reg)
    return reg


def test_reflex_still_offers_what_the_hook_relies_on():
    from reflex.app import EventNamespace

    assert list(inspect.signature(EventNamespace.on_disconnect).parameters) == ["self", "sid"]
    namespace = main.app.event_namespace
    assert namespace is not None
    assert isinstance(namespace.sid_to_token, dict) and hasattr(namespace, "token_to_sid")


def test_the_registrations_of_a_closed_tab_disappear(registry):
    async def scenario():
        namespace = main.app.event_namespace
        assert live_disconnect.on_tab_disconnect(main.app, live.forget_tab)
        assert live_disconnect.on_tab_disconnect(main.app, live.forget_tab)  # once only
        closing, staying = str(uuid.uuid4()), str(uuid.uuid4())
        sid, other_sid = uuid.uuid4().hex, uuid.uuid4().hex
        await namespace.link_token_to_sid(sid, closing, update_state=False)
        await namespace.link_token_to_sid(other_sid, staying, update_state=False)
        topic = f"document:{uuid.uuid4().hex[:8]}"
        await registry.watch(f"{DocumentState.get_full_name()}|{closing}", topic)
        await registry.watch(f"{DocumentListState.get_full_name()}|{closing}", f"{topic}-liste")
        await registry.watch(f"{DocumentState.get_full_name()}|{staying}", topic)
        assert len(await registry.members(topic)) == 2

        # As python-socketio dispatches a closed socket (with its reason).
        await namespace.trigger_event("disconnect", sid, "transport close")
        await live_disconnect.settle()

        assert await registry.members(topic) == {f"{DocumentState.get_full_name()}|{staying}"}
        assert await registry.members(f"{topic}-liste") == set()
        assert sid not in namespace.sid_to_token  # Reflex's own cleanup still ran
        assert await registry.forget_tab(closing) == 0  # nothing left of it
        if isinstance(registry, live.RedisRegistry):
            keys = await registry._redis.keys(f"simple_erp:live:*{closing}*")
            assert keys == []
        await namespace.trigger_event("disconnect", other_sid, "transport close")
        await live_disconnect.settle()
        assert await registry.members(topic) == set()

    asyncio.run(scenario())


def test_a_socket_without_a_linked_tab_changes_nothing(registry):
    async def scenario():
        live_disconnect.on_tab_disconnect(main.app, live.forget_tab)
        member = f"{DocumentState.get_full_name()}|{uuid.uuid4()}"
        await registry.watch(member, "documents-test")
        await main.app.event_namespace.trigger_event("disconnect", uuid.uuid4().hex, "transport close")
        await live_disconnect.settle()
        assert member in await registry.members("documents-test")
        await registry.forget(member, "documents-test")

    asyncio.run(scenario())
