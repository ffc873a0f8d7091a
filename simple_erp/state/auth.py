"""The signed-in user. Every state that reads or changes business data inherits
from AuthState and checks ``self._current_user()`` on the server in each handler:
a client can send any event over the websocket."""

from __future__ import annotations

import asyncio

import reflex as rx

from simple_erp.config import get_settings
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.user import User
from simple_erp.services import auth

SIGN_IN_ROUTE = "/connexion"
SETUP_ROUTE = "/installation"
HOME_ROUTE = "/tableau-de-bord"  # « Tableau de bord »: where a signed-in user lands
SESSION_EXPIRED = "Session expirée : reconnectez-vous."
ADMIN_ONLY = "Réservé aux administrateurs : seul un administrateur peut modifier les clés API."


class AuthState(rx.State):
    # The session token lives in a cookie; the server keeps only its hash.
    session_token: str = rx.Cookie("", name="simple_erp_session", same_site="strict", max_age=get_settings().session_days * 86400)
    user_name: str = ""
    user_email: str = ""
    user_is_admin: bool = False
    signed_in: bool = False

    def _current_user(self) -> User | None:
        """The user behind this browser's session, checked against the database."""
        with session_scope() as session:
            user = auth.user_for_token(session, self.session_token)
        self._show_user(user)
        return user

    def _admin_refusal(self) -> str:
        """"" when the signed-in user is an administrator, else why not (French)."""
        user = self._current_user()
        if user is None:
            return SESSION_EXPIRED
        return "" if user.is_admin else ADMIN_ONLY

    def _staff_do(self, action, *, after=None, errors_attr: str = "", invalid: str = ""):
        """A change by the signed-in user: ``action(session)`` in one transaction, then
        ``after(session)`` (a reload) in another. Returns ``(result, None)`` when it ran, or
        ``(None, toast)`` when it did not: no session (nothing is called), or a DomainError
        (nothing was changed; its French message is the toast). A ValidationErrors also
        fills the ``errors_attr`` dict with its fields, and ``invalid``, when given, is its
        toast."""
        if self._current_user() is None:
            return None, rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                result = action(session)
            if after is not None:
                with session_scope() as session:
                    after(session)
        except ValidationErrors as exc:
            if errors_attr:
                setattr(self, errors_attr, exc.errors)
            return None, rx.toast.error(invalid or exc.message)
        except DomainError as exc:
            return None, rx.toast.error(exc.message)
        return result, None

    def _show_user(self, user: User | None) -> None:
        self.signed_in = user is not None
        self.user_name = user.full_name if user else ""
        self.user_email = user.email if user else ""
        self.user_is_admin = bool(user and user.is_admin)

    @rx.event
    def require_user(self):
        """on_load guard of every staff page."""
        if self._current_user() is not None:
            return None
        with session_scope() as session:
            any_user = auth.has_any_user(session)
        return rx.redirect(SIGN_IN_ROUTE if any_user else SETUP_ROUTE, replace=True)

    @rx.event
    def sign_out(self):
        with session_scope() as session:
            auth.close_session(session, self.session_token)
        self.session_token = ""
        self._show_user(None)
        return rx.redirect(SIGN_IN_ROUTE, replace=True)


def _user_for_session_token(session_token: str) -> User | None:
    with session_scope() as session:
        return auth.user_for_token(session, session_token)


async def client_is_signed_in(client_token: str, manager=None) -> bool:
    """Whether the browser tab behind a Reflex client token has a valid session, for the
    upload guard (simple_erp.api.limits), before Reflex reads the upload's body.

    Its AuthState is read from Reflex's state manager without taking the tab's lock, and
    its session checked in the database. With the in-process state managers (memory, disk:
    one worker) a tab the process does not hold is not signed in and nothing is created for
    it; with Redis, an unknown tab reads as a fresh state (not stored), so not signed in.
    """
    from reflex.istate.manager import get_state_manager
    from reflex.istate.manager.token import BaseStateToken

    manager = manager or get_state_manager()
    token = BaseStateToken(ident=client_token, cls=AuthState)
    held = getattr(manager, "states", None)
    if isinstance(held, dict) and token.cache_key not in held:
        return False
    root = await manager.get_state(token)
    state = await root.get_state(AuthState)
    session_token = state.session_token
    if not session_token:
        return False
    return await asyncio.to_thread(_user_for_session_token, session_token) is not None
