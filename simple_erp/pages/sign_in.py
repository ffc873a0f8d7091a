"""Sign-in and creation of the first administrator account."""

from __future__ import annotations

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.components.layout import centered_card
from simple_erp.config import get_settings
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import auth
from simple_erp.state.auth import HOME_ROUTE, SETUP_ROUTE, SIGN_IN_ROUTE, AuthState


class SignInState(AuthState):
    errors: dict[str, str] = {}

    @rx.event
    def load_sign_in(self):
        self.errors = {}
        if self._current_user() is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        with session_scope() as session:
            if not auth.has_any_user(session):
                return rx.redirect(SETUP_ROUTE, replace=True)
        return None

    @rx.event
    def load_setup(self):
        self.errors = {}
        if self._current_user() is not None:  # straight home, not through the sign-in page
            return rx.redirect(HOME_ROUTE, replace=True)
        with session_scope() as session:
            if auth.has_any_user(session):
                return rx.redirect(SIGN_IN_ROUTE, replace=True)
        return None

    def _start_session(self, session, user) -> None:
        self.session_token = auth.open_session(session, user, get_settings().session_days)
        self._show_user(user)

    @rx.event
    def sign_in(self, form: dict):
        try:
            with session_scope() as session:
                signed_in = auth.sign_in(
                    session, form.get("email", ""), form.get("password", ""), self.router.session.client_ip,
                    get_settings().session_days,
                )
        except DomainError as exc:
            self.errors = {"form": exc.message}
            return None
        self.session_token = signed_in.token
        self._show_user(signed_in.user)
        self.errors = {}
        notice = auth.failed_attempts_notice(signed_in.failed_attempts)
        redirect = rx.redirect(HOME_ROUTE, replace=True)
        return [rx.toast.warning(notice, duration=15000), redirect] if notice else redirect

    @rx.event
    def create_admin(self, form: dict):
        if form.get("password", "") != form.get("password_confirm", ""):
            self.errors = {"password_confirm": "Les deux mots de passe ne sont pas identiques."}
            return None
        try:
            with session_scope() as session:
                user = auth.create_first_admin(
                    session, form.get("email", ""), form.get("full_name", ""), form.get("password", "")
                )
                self._start_session(session, user)
        except ValidationErrors as exc:
            self.errors = exc.errors
            return None
        except DomainError as exc:
            self.errors = {"form": exc.message}
            return None
        self.errors = {}
        return [rx.toast.success("Compte administrateur créé. Bienvenue !"), rx.redirect(HOME_ROUTE, replace=True)]


def _error(key: str) -> rx.Var:
    return SignInState.errors.get(key, "")


def sign_in_page() -> rx.Component:
    return centered_card(
        rx.heading("Simple ERP", size="7"),
        rx.text("Connexion", size="4", color="gray"),
        rx.form(
            rx.vstack(
                labelled("Email", rx.input(name="email", type="email", id="email", width="100%", auto_complete="username")),
                labelled(
                    "Mot de passe",
                    rx.input(name="password", type="password", id="password", width="100%", auto_complete="current-password"),
                ),
                rx.cond(_error("form") != "", rx.callout(_error("form"), color_scheme="red", icon="triangle_alert", width="100%")),
                rx.button("Se connecter", type="submit", width="100%", id="sign-in"),
                spacing="3",
            ),
            on_submit=SignInState.sign_in,
            width="100%",
        ),
    )


def setup_page() -> rx.Component:
    return centered_card(
        rx.heading("Créer le compte administrateur", size="6"),
        rx.text(
            "Bienvenue dans Simple ERP. Ce premier compte administre l'application ; "
            "son adresse email sera l'expéditeur de vos envois.",
            size="2",
            color="gray",
        ),
        rx.form(
            rx.vstack(
                labelled("Nom complet", rx.input(name="full_name", id="full_name", width="100%"), _error("full_name")),
                labelled("Email", rx.input(name="email", type="email", id="email", width="100%"), _error("email")),
                labelled(
                    "Mot de passe",
                    rx.input(name="password", type="password", id="password", width="100%", auto_complete="new-password"),
                    _error("password"),
                    hint="Au moins 10 caractères, difficile à deviner (par exemple plusieurs mots séparés par des tirets).",
                ),
                labelled(
                    "Confirmer le mot de passe",
                    rx.input(name="password_confirm", type="password", id="password_confirm", width="100%", auto_complete="new-password"),
                    _error("password_confirm"),
                ),
                rx.cond(_error("form") != "", rx.callout(_error("form"), color_scheme="red", icon="triangle_alert", width="100%")),
                rx.button("Créer le compte administrateur", type="submit", width="100%", id="create-admin"),
                spacing="3",
            ),
            on_submit=SignInState.create_admin,
            width="100%",
        ),
    )
