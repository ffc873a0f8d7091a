"""Admin CRM: staff accounts (administrators only)."""

from __future__ import annotations

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.components.layout import staff_page
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.pages.admin_email import settings_tab, templates_tab
from simple_erp.services import auth
from simple_erp.state.auth import SESSION_EXPIRED, AuthState


class AdminCrmState(AuthState):
    users: list[dict] = []
    errors: dict[str, str] = {}

    def _refresh(self) -> None:
        with session_scope() as session:
            self.users = [
                {"id": u.id, "name": u.full_name, "email": u.email,
                 "role": "Administrateur" if u.is_admin else "Utilisateur",
                 "active": "Oui" if u.is_active else "Non", "is_active": u.is_active}
                for u in auth.list_users(session)
            ]

    @rx.event
    def load(self):
        if self._current_user() is None:
            return
        self.errors = {}
        self._refresh()

    @rx.event
    def add_user(self, form: dict):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                auth.create_staff_user(
                    session, user, form.get("email", ""), form.get("full_name", ""),
                    form.get("password", ""), form.get("is_admin") == "on",
                )
        except ValidationErrors as exc:
            self.errors = exc.errors
            return None
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.errors = {}
        self._refresh()
        return [rx.toast.success("Utilisateur créé."), *[rx.set_value(f"new-user-{k}", "") for k in ("full_name", "email", "password")]]

    @rx.event
    def set_active(self, user_id: int, active: bool):
        """« Désactiver » / « Réactiver »: the service checks the rights (administrators
        only, not oneself, never the last active administrator) and closes the sessions."""
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                target = auth.set_user_active(session, user.id, int(user_id), bool(active))
                name = target.full_name
        except (DomainError, ValueError, TypeError) as exc:
            self._refresh()
            return rx.toast.error(getattr(exc, "message", "Utilisateur introuvable."))
        self._refresh()
        if active:
            return rx.toast.success(f"{name} est réactivé : il peut se connecter.")
        return rx.toast.success(f"{name} est désactivé : ses sessions sont fermées.")


def _active_button(u) -> rx.Component:
    return rx.cond(
        u["is_active"],
        rx.button("Désactiver", size="1", variant="soft", color_scheme="red",
                  on_click=AdminCrmState.set_active(u["id"], False)),
        rx.button("Réactiver", size="1", variant="soft", on_click=AdminCrmState.set_active(u["id"], True)),
    )


def _user_row(u) -> rx.Component:
    return rx.table.row(
        rx.table.cell(u["name"]), rx.table.cell(u["email"]), rx.table.cell(u["role"]), rx.table.cell(u["active"]),
        rx.table.cell(rx.cond(AuthState.user_is_admin & (u["email"] != AuthState.user_email), _active_button(u), "")),
    )


def _error(key: str) -> rx.Var:
    return AdminCrmState.errors.get(key, "")


def admin_crm_page() -> rx.Component:
    return staff_page(
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("1. Utilisateurs", value="users"),
                         rx.tabs.trigger("13. Paramètres", value="parametres"),
                         rx.tabs.trigger("14. Modèles d'email", value="modeles"), flex_wrap="wrap"),
            rx.tabs.content(rx.box(settings_tab(), padding_top="1em"), value="parametres"),
            rx.tabs.content(rx.box(templates_tab(), padding_top="1em"), value="modeles"),
            rx.tabs.content(
                rx.vstack(
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Nom", "Email", "Rôle", "Actif", "")])),
                        rx.table.body(rx.foreach(AdminCrmState.users, _user_row)),
                        width="100%",
                        variant="surface",
                    ),
                    rx.cond(
                        AuthState.user_is_admin,
                        rx.card(
                            rx.form(
                                rx.vstack(
                                    rx.heading("Ajouter un utilisateur", size="3"),
                                    labelled("Nom complet", rx.input(name="full_name", id="new-user-full_name", width="100%"), _error("full_name")),
                                    labelled("Email", rx.input(name="email", id="new-user-email", type="email", width="100%"), _error("email")),
                                    labelled("Mot de passe", rx.input(name="password", id="new-user-password", type="password", width="100%"), _error("password"), hint="Au moins 10 caractères."),
                                    rx.checkbox("Administrateur", name="is_admin", id="new-user-is-admin"),
                                    rx.button("Enregistrer", type="submit"),
                                    spacing="3",
                                ),
                                on_submit=AdminCrmState.add_user,
                                reset_on_submit=False,
                                id="new-user-form",
                            ),
                            max_width="480px",
                        ),
                        rx.text("Seul un administrateur peut ajouter des utilisateurs.", color="gray", size="2"),
                    ),
                    spacing="4",
                    padding_top="1em",
                ),
                value="users",
            ),
            default_value="users",
        ),
        title="Admin CRM",
    )
