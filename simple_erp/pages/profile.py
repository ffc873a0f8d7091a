"""The user's profile: name and email address (the sender of emails), password."""

from __future__ import annotations

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.components.layout import staff_page
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import auth
from simple_erp.state.auth import SESSION_EXPIRED, SIGN_IN_ROUTE, AuthState


class ProfileState(AuthState):
    full_name: str = ""
    email: str = ""
    errors: dict[str, str] = {}

    @rx.event
    def load(self):
        user = self._current_user()
        if user is None:
            return
        self.full_name, self.email, self.errors = user.full_name, user.email, {}

    @rx.event
    def set_full_name(self, value: str):
        self.full_name = value

    @rx.event
    def set_email(self, value: str):
        self.email = value

    @rx.event
    def save(self):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                updated = auth.update_profile(session, user.id, self.full_name, self.email)
                self._show_user(updated)
        except ValidationErrors as exc:
            self.errors = exc.errors
            return rx.toast.error("Profil non enregistré : corrigez les champs signalés.")
        self.errors = {}
        return rx.toast.success("Profil enregistré.")

    @rx.event
    def change_password(self, form: dict):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        if form.get("new_password", "") != form.get("new_password_confirm", ""):
            self.errors = {"new_password_confirm": "Les deux mots de passe ne sont pas identiques."}
            return None
        try:
            with session_scope() as session:
                auth.change_password(session, user.id, form.get("current_password", ""), form.get("new_password", ""),
                                     keep_token=self.session_token)
        except ValidationErrors as exc:
            self.errors = exc.errors
            return None
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.errors = {}
        return [rx.toast.success("Mot de passe modifié. Vos autres appareils sont déconnectés."), rx.set_value("current_password", ""),
                rx.set_value("new_password", ""), rx.set_value("new_password_confirm", "")]

    @rx.event
    def sign_out_everywhere(self):
        """Closes every session of the user, this browser's included."""
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        with session_scope() as session:
            auth.close_all_sessions(session, user.id)
        self.session_token = ""
        self._show_user(None)
        return [rx.toast.success("Vous êtes déconnecté de tous les appareils."), rx.redirect(SIGN_IN_ROUTE, replace=True)]


def _error(key: str) -> rx.Var:
    return ProfileState.errors.get(key, "")


def profile_page() -> rx.Component:
    return staff_page(
        rx.grid(
            rx.card(
                rx.vstack(
                    rx.heading("Identité", size="4"),
                    labelled("Nom complet", rx.input(value=ProfileState.full_name, on_change=ProfileState.set_full_name, id="profile-name", width="100%"), _error("full_name")),
                    labelled(
                        "Email",
                        rx.input(value=ProfileState.email, on_change=ProfileState.set_email, id="profile-email", type="email", width="100%"),
                        _error("email"),
                        hint="C'est l'adresse d'expédition des emails envoyés depuis Simple ERP.",
                    ),
                    rx.button("Enregistrer", on_click=ProfileState.save, id="profile-save"),
                    spacing="3",
                ),
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("Mot de passe", size="4"),
                        labelled("Mot de passe actuel", rx.input(name="current_password", id="current_password", type="password", width="100%"), _error("current_password")),
                        labelled("Nouveau mot de passe", rx.input(name="new_password", id="new_password", type="password", width="100%"), _error("new_password"), hint="Au moins 10 caractères, difficile à deviner."),
                        labelled("Confirmer", rx.input(name="new_password_confirm", id="new_password_confirm", type="password", width="100%"), _error("new_password_confirm")),
                        rx.button("Changer le mot de passe", type="submit"),
                        spacing="3",
                    ),
                    on_submit=ProfileState.change_password,
                ),
            ),
            rx.card(
                rx.vstack(
                    rx.heading("Sessions", size="4"),
                    rx.text("Ferme la session sur tous les navigateurs où vous êtes connecté, celui-ci compris.",
                            size="2", color="gray"),
                    rx.button("Se déconnecter de tous les appareils", on_click=ProfileState.sign_out_everywhere,
                              color_scheme="red", variant="soft", id="sign-out-everywhere"),
                    spacing="3",
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
        ),
        title="Mon profil",
    )
