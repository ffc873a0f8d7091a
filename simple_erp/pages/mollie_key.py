"""The "Mollie API Key" of a société émettrice: typed once, kept encrypted on the
server, shown masked, never sent back to the browser; "Tester la connexion"."""

from __future__ import annotations

import asyncio

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.services import companies
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.state.auth import ADMIN_ONLY, SESSION_EXPIRED, AuthState


def _check_connection(company_id: int) -> str:
    with session_scope() as session:
        return mollie_payments.check_company_connection(session, company_id)


class MollieKeyMixin(rx.State, mixin=True):
    _mollie_key_input: str = ""  # backend only: the key typed, until saved
    mollie_key_display: str = ""
    mollie_key_error: str = ""
    mollie_sandbox: bool = False
    mollie_testing: bool = False

    def _show_mollie_key(self, session) -> None:
        self.mollie_sandbox = mollie_payments.sandbox_mode()
        if self.company_id:
            company = companies.get_company(session, self.company_id)
            self.mollie_key_display = mollie_payments.mollie_key_display(company)
        else:
            self.mollie_key_display = ""
        self.mollie_key_error = ""

    @rx.event
    def set_mollie_key_input(self, value: str):
        self._mollie_key_input = value.strip()
        self.mollie_key_error = ""

    @rx.event
    def save_mollie_key(self):
        refusal = self._admin_refusal()  # API keys: administrators only
        if refusal:
            return rx.toast.error(refusal)
        if not self.company_id:
            return rx.toast.error("Enregistrez d'abord la société.")
        try:
            with session_scope() as session:
                mollie_payments.set_mollie_api_key(session, self.company_id, self._mollie_key_input)
            with session_scope() as session:
                self._show_mollie_key(session)
        except DomainError as exc:
            self.mollie_key_error = exc.message
            return rx.toast.error(exc.message)
        self._mollie_key_input = ""
        return [rx.set_value("mollie-api-key", ""), rx.toast.success("Clé API Mollie enregistrée.")]

    @rx.event(background=True)
    async def test_mollie_connection(self):
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            self.mollie_testing = True
            company_id = self.company_id
        try:
            message = await asyncio.to_thread(_check_connection, company_id)
        except DomainError as exc:
            async with self:
                self.mollie_testing, self.mollie_key_error = False, exc.message
            yield rx.toast.error(exc.message)
            return
        async with self:
            self.mollie_testing = False
        yield rx.toast.success(message)


def mollie_key_card(state) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(
            rx.heading("Mollie", size="3"),
            rx.cond(state.mollie_sandbox, rx.badge("Mode test — sandbox Mollie", color_scheme="amber", id="mollie-sandbox-badge")),
            align="center",
        ),
        labelled(
            "Mollie API Key",
            rx.input(type="password", id="mollie-api-key", auto_complete="off", width="100%", max_width="420px",
                     placeholder=rx.cond(state.mollie_key_display != "", state.mollie_key_display, "test_… ou live_…"),
                     on_blur=state.set_mollie_key_input, disabled=~AuthState.user_is_admin),
            state.mollie_key_error,
            hint="La clé est chiffrée et n'est plus jamais affichée en clair. Laissez vide et enregistrez pour la retirer.",
        ),
        rx.cond(state.mollie_key_display != "", rx.text("Clé enregistrée : ", state.mollie_key_display, size="2", id="mollie-key-display")),
        rx.cond(~AuthState.user_is_admin, rx.text(ADMIN_ONLY, size="2", color="gray", id="mollie-key-admin-only")),
        rx.hstack(
            rx.button("Enregistrer la clé", on_click=state.save_mollie_key, variant="soft", id="mollie-key-save",
                      disabled=~AuthState.user_is_admin),
            rx.button("Tester la connexion", on_click=state.test_mollie_connection, loading=state.mollie_testing,
                      variant="outline", id="mollie-test"),
        ),
        spacing="3", width="100%",
    ), width="100%")
