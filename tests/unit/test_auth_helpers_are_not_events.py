"""The session helpers of AuthState are plain methods, not event handlers: a browser can
send any event over the websocket, and Reflex 0.10 registers every public method of a
state as one (``BaseState._item_is_event_handler``: a leading underscore opts out)."""

from __future__ import annotations

import simple_erp.simple_erp  # noqa: F401 - every page state registered
from simple_erp.state.auth import AuthState

HELPERS = {"_current_user", "_admin_refusal", "_staff_do", "current_user", "admin_refusal", "staff_do"}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_no_state_exposes_the_session_helpers_as_events():
    states = [AuthState, *_all_subclasses(AuthState)]
    assert len(states) > 5
    for state in states:
        assert not HELPERS & set(state.event_handlers), state.__name__
    assert callable(AuthState._current_user) and callable(AuthState._admin_refusal)
    assert "require_user" in AuthState.event_handlers  # public handlers still are events
