"""Run a callback when a browser tab's websocket closes (Reflex 0.10).

Reflex offers no public hook for a socket's disconnection: its ``EventNamespace`` (a
python-socketio namespace, ``app.event_namespace``) handles ``on_disconnect(sid)`` and
forgets the sid → client token link. This module — the only place that touches it —
wraps that one method on the app's namespace instance (no private function is
replaced): the tab's client token is read before Reflex forgets it, then Reflex's own
handler runs unchanged. tests/unit/test_live_disconnect.py fails if Reflex changes
what this relies on (``on_disconnect(sid)``, ``sid_to_token``, ``token_to_sid``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import reflex as rx

log = logging.getLogger(__name__)
_MARK = "_simple_erp_disconnect_hooks"
_pending: set[asyncio.Task] = set()  # strong references until each callback is done


def on_tab_disconnect(app: rx.App, callback: Callable[[str], Awaitable[None]]) -> bool:
    """Call ``await callback(client_token)`` after a tab's websocket closes (the socket
    that currently serves that tab: an older socket of a reconnected tab is ignored).
    Idempotent per callback; False when the app has no socket namespace."""
    namespace = app.event_namespace
    if namespace is None:
        log.warning("live: no socket namespace, closed tabs are not forgotten")
        return False
    hooks: list = namespace.__dict__.setdefault(_MARK, [])
    if callback in hooks:
        return True
    if not hooks:
        original = namespace.on_disconnect

        def on_disconnect(sid: str, *_reason):
            token = namespace.sid_to_token.get(sid)
            current = token is not None and namespace.token_to_sid.get(token) == sid
            result = original(sid)
            if current:
                for hook in list(hooks):
                    task = asyncio.get_running_loop().create_task(hook(token))
                    _pending.add(task)
                    task.add_done_callback(_pending.discard)
            return result

        namespace.on_disconnect = on_disconnect
    hooks.append(callback)
    return True


async def settle() -> None:
    """Wait for the callbacks of the sockets closed so far (tests)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)
