"""Live updates: push a committed change to every open screen showing it.

Each page state that shows a record calls ``await watch(self, topic)`` when it loads:
its browser tab's client token is registered for that topic (a Redis set per topic
when REFLEX_REDIS_URL is set, so every worker sees it; an in-process map otherwise).
When services.changes announces a topic, the worker that committed the change opens
each registered tab's state with ``app.modify_state`` and calls its
``_refresh_from_feed()``; Reflex delivers the delta to the browser even when its
websocket lives on another worker. Pushes run as background tasks: a busy tab never
delays the request (a webhook) that made the change. When a tab's websocket closes, its
registrations are removed (``forget_tab``, called by simple_erp.state.live_disconnect); a
tab that reconnects sends its page's on_load again (Reflex's hydrate_and_load), which
registers it anew.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Protocol

import reflex as rx

from simple_erp.config import get_settings
from simple_erp.services import changes

log = logging.getLogger(__name__)
_PREFIX = "simple_erp:live:"
_TTL_SECONDS = 24 * 3600


class Registry(Protocol):
    async def watch(self, member: str, topic: str) -> None: ...
    async def members(self, topic: str) -> set[str]: ...
    async def forget(self, member: str, topic: str) -> None: ...
    async def forget_tab(self, token: str) -> int: ...


def _token_of(member: str) -> str:
    return member.partition("|")[2]


class MemoryRegistry:
    def __init__(self) -> None:
        self._by_topic: dict[str, set[str]] = defaultdict(set)
        self._topic_of: dict[str, str] = {}

    async def watch(self, member: str, topic: str) -> None:
        previous = self._topic_of.get(member)
        if previous and previous != topic:
            self._by_topic[previous].discard(member)
        self._topic_of[member] = topic
        self._by_topic[topic].add(member)

    async def members(self, topic: str) -> set[str]:
        return set(self._by_topic.get(topic, ()))

    async def forget(self, member: str, topic: str) -> None:
        self._by_topic[topic].discard(member)
        if self._topic_of.get(member) == topic:
            del self._topic_of[member]

    async def forget_tab(self, token: str) -> int:
        """Remove every registration of the tab ``token``; how many there were."""
        members = [m for m in self._topic_of if _token_of(m) == token]
        for member in members:
            await self.forget(member, self._topic_of[member])
        return len(members)


class RedisRegistry:
    def __init__(self, url: str) -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url, decode_responses=True)

    async def watch(self, member: str, topic: str) -> None:
        previous = await self._redis.getset(f"{_PREFIX}of:{member}", topic)
        pipe = self._redis.pipeline()
        if previous and previous != topic:
            pipe.srem(f"{_PREFIX}{previous}", member)
        pipe.sadd(f"{_PREFIX}{topic}", member)
        pipe.sadd(f"{_PREFIX}tab:{_token_of(member)}", member)  # for forget_tab
        pipe.expire(f"{_PREFIX}{topic}", _TTL_SECONDS)
        pipe.expire(f"{_PREFIX}of:{member}", _TTL_SECONDS)
        pipe.expire(f"{_PREFIX}tab:{_token_of(member)}", _TTL_SECONDS)
        await pipe.execute()

    async def members(self, topic: str) -> set[str]:
        return set(await self._redis.smembers(f"{_PREFIX}{topic}"))

    async def forget(self, member: str, topic: str) -> None:
        await self._redis.srem(f"{_PREFIX}{topic}", member)

    async def forget_tab(self, token: str) -> int:
        """Remove every registration of the tab ``token`` (whichever worker made it)."""
        tab_key = f"{_PREFIX}tab:{token}"
        members = await self._redis.smembers(tab_key)
        pipe = self._redis.pipeline()
        for member in members:
            topic = await self._redis.get(f"{_PREFIX}of:{member}")
            if topic:
                pipe.srem(f"{_PREFIX}{topic}", member)
            pipe.delete(f"{_PREFIX}of:{member}")
        pipe.delete(tab_key)
        await pipe.execute()
        return len(members)


_registry: Registry | None = None
_app: rx.App | None = None
_loop: asyncio.AbstractEventLoop | None = None
_state_classes: dict[str, type[rx.State]] = {}


def registry() -> Registry:
    global _registry
    if _registry is None:
        url = get_settings().redis_url
        _registry = RedisRegistry(url) if url else MemoryRegistry()
    return _registry


def _member(state: rx.State) -> str:
    return f"{type(state).get_full_name()}|{state.router.session.client_token}"


async def watch(state: rx.State, topic: str) -> None:
    """Register this tab for ``topic`` (and drop the topic it showed before); a tab with
    no signed-in user is never registered (nothing to show it, and no Redis entry for it)."""
    current_user = getattr(state, "_current_user", None)
    if current_user is None or current_user() is None:
        return
    _state_classes[type(state).get_full_name()] = type(state)
    try:
        await registry().watch(_member(state), topic)
    except Exception:  # noqa: BLE001 - live updates are a comfort, never a failure
        log.exception("live: could not register a tab for %s", topic)


async def forget_tab(token: str) -> None:
    """The tab ``token`` closed its websocket: it no longer receives pushes."""
    try:
        await registry().forget_tab(token)
    except Exception:  # noqa: BLE001 - the 24 h expiry still cleans up
        log.exception("live: could not forget a closed tab")


def state_class(full_name: str) -> type[rx.State] | None:
    """The page state class a registered tab belongs to, found by its full name in the
    app's state tree: the worker that pushes may never have served that page itself."""
    cls = _state_classes.get(full_name)
    if cls is None:
        try:
            cls = rx.State.get_class_substate(full_name)
        except ValueError:
            log.warning("live: no state class named %s", full_name)
            return None
        _state_classes[full_name] = cls
    return cls


async def _push_one(topic: str, member: str) -> None:
    from reflex.istate.manager.token import BaseStateToken

    class_name, _, token = member.partition("|")
    cls = state_class(class_name)
    if cls is None or _app is None:
        return
    async with _app.modify_state(BaseStateToken(ident=token, cls=cls)) as root:
        state = await root.get_state(cls)
        if state._live_topic() not in (topic, ""):  # the tab now shows another record
            await registry().forget(member, topic)
            return
        await state._refresh_from_feed()


async def _push(topics: frozenset[str]) -> None:
    for topic in topics:
        for member in await registry().members(topic):
            try:
                await _push_one(topic, member)
            except Exception:  # noqa: BLE001
                log.exception("live: push of %s to a tab failed", topic)


def _on_change(topics: frozenset[str]) -> None:
    loop = _loop
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(_push(topics))
    else:
        loop.call_soon_threadsafe(lambda: loop.create_task(_push(topics)))


async def _capture_loop() -> None:
    global _loop
    _loop = asyncio.get_running_loop()
    if _app is not None:  # the socket namespace exists once the server runs
        from simple_erp.state.live_disconnect import on_tab_disconnect

        on_tab_disconnect(_app, forget_tab)


def install(app: rx.App) -> None:
    """Called once by the app module: remember the app, listen to the change feed."""
    global _app
    _app = app
    app.register_lifespan_task(_capture_loop)
    changes.subscribe(_on_change)
