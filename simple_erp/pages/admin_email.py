"""Admin CRM, emails: "13. Paramètres" (SendGrid) and "14. Modèles d'email"
(rubriques and modèles with a live preview)."""

from __future__ import annotations

import asyncio

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.components.layout import empty_state
from simple_erp.db import session_scope
from simple_erp.domain.email_templates import PLACEHOLDERS, preview
from simple_erp.domain.errors import DomainError
from simple_erp.services import emails
from simple_erp.state.auth import ADMIN_ONLY, SESSION_EXPIRED, AuthState

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"


class EmailAdminState(AuthState):
    enabled: bool = False
    key_display: str = ""
    sandbox: bool = False
    key_error: str = ""
    _key_input: str = ""  # backend only
    testing: bool = False
    rubriques: list[list[str]] = []
    rubrique_id: str = ""
    templates: list[dict[str, str]] = []
    template_id: int = 0
    template: dict[str, str] = {}
    template_errors: dict[str, str] = {}
    new_rubrique: str = ""

    def _refresh(self, session) -> None:
        view = emails.email_settings_view(session)
        self.enabled, self.key_display, self.sandbox = view["enabled"], view["key_display"], view["sandbox"]
        self.rubriques = [[str(r.id), r.name] for r in emails.list_rubriques(session)]
        if self.rubrique_id not in {r[0] for r in self.rubriques}:
            self.rubrique_id = self.rubriques[0][0] if self.rubriques else ""
        self.templates = [{"id": str(t.id), "name": t.name, "subject": t.subject}
                          for t in emails.list_templates(session, int(self.rubrique_id))] if self.rubrique_id else []

    @rx.event
    def load(self):
        if self._current_user() is None:
            return
        self.key_error, self.template, self.template_id, self.template_errors = "", {}, 0, {}
        with session_scope() as session:
            self._refresh(session)

    # --- 13. Paramètres ------------------------------------------------------------------
    @rx.event
    def set_enabled(self, value: bool):
        self.enabled = value

    @rx.event
    def set_key_input(self, value: str):
        self._key_input = value.strip()
        self.key_error = ""

    @rx.event
    def save_settings(self):
        refusal = self._admin_refusal()  # the SendGrid key: administrators only
        if refusal:
            return rx.toast.error(refusal)
        try:
            with session_scope() as session:
                emails.save_email_settings(session, self.enabled, self._key_input or None)
            with session_scope() as session:
                self._refresh(session)
        except DomainError as exc:
            self.key_error = exc.message
            return rx.toast.error(exc.message)
        self._key_input = ""
        return [rx.set_value("sendgrid-api-key", ""), rx.toast.success("Paramètres enregistrés.")]

    @rx.event(background=True)
    async def send_test(self):
        async with self:
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            self.testing = True
        try:
            message = await asyncio.to_thread(emails.send_test_email, session_scope, user.id)
            ok = True
        except DomainError as exc:
            message, ok = exc.message, False
        async with self:
            self.testing = False
        yield rx.toast.success(message) if ok else rx.toast.error(message, duration=15000)

    # --- 14. Modèles d'email ---------------------------------------------------------------
    @rx.event
    def select_rubrique(self, rubrique_id: str):
        if self._current_user() is None:
            return
        self.rubrique_id, self.template, self.template_id = rubrique_id, {}, 0
        with session_scope() as session:
            self._refresh(session)

    @rx.event
    def set_new_rubrique(self, value: str):
        self.new_rubrique = value

    @rx.event
    def add_rubrique(self):
        def action(session):
            self.rubrique_id = str(emails.save_rubrique(session, None, self.new_rubrique).id)  # shown after the reload

        _, refusal = self._staff_do(action, after=self._refresh)
        if refusal:
            return refusal
        self.new_rubrique = ""
        return rx.toast.success("Rubrique ajoutée.")

    @rx.event
    def edit_template(self, template_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.template_errors = {}
        with session_scope() as session:
            if template_id == "new":
                self.template_id, self.template = 0, emails.template_form(None, int(self.rubrique_id))
            else:
                t = emails.get_template(session, int(template_id))
                self.template_id, self.template = t.id, emails.template_form(t)
        return None

    @rx.event
    def set_template_field(self, name: str, value: str):
        self.template[name] = value
        self.template_errors.pop(name, None)

    @rx.event
    def save_template(self):
        _, refusal = self._staff_do(lambda s: emails.save_template(s, self.template_id or None, dict(self.template)),
                                    after=self._refresh, errors_attr="template_errors")
        if refusal:
            return refusal
        self.template, self.template_id, self.template_errors = {}, 0, {}
        return rx.toast.success("Modèle enregistré.")

    @rx.event
    def close_template(self):
        self.template, self.template_id, self.template_errors = {}, 0, {}

    @rx.var
    def preview_subject(self) -> str:
        return preview(self.template.get("subject", ""), self.template.get("body", ""))[0] if self.template else ""

    @rx.var
    def preview_body(self) -> str:
        return preview(self.template.get("subject", ""), self.template.get("body", ""))[1] if self.template else ""


S = EmailAdminState


def settings_tab() -> rx.Component:
    return rx.card(rx.vstack(
        rx.cond(S.sandbox, rx.badge("Mode test — sandbox SendGrid", color_scheme="amber")),
        rx.el.label(rx.hstack(rx.checkbox(checked=S.enabled, on_change=S.set_enabled, id="email-enabled",
                                          disabled=~S.user_is_admin),
                              rx.text("Activer l'envoi de documents par email"), align="center")),
        labelled("Saisissez votre API Key Sendgrid", rx.input(
            type="password", id="sendgrid-api-key", auto_complete="off", width="100%", max_width="420px",
            placeholder=rx.cond(S.key_display != "", S.key_display, "SG.…"), on_blur=S.set_key_input,
            disabled=~S.user_is_admin),
            S.key_error, hint="La clé est chiffrée et n'est plus jamais affichée en clair."),
        rx.cond(~S.user_is_admin, rx.text(ADMIN_ONLY, size="2", color="gray", id="sendgrid-admin-only")),
        rx.text("Les emails partent de l'adresse de votre profil (menu utilisateur → Mon profil). "
                "SendGrid exige que cette adresse soit vérifiée (Single Sender Verification) ou que votre "
                "domaine soit authentifié (Domain Authentication).", size="2", color="gray"),
        rx.hstack(rx.button("Enregistrer", on_click=S.save_settings, id="email-settings-save", disabled=~S.user_is_admin),
                  rx.button("Envoyer un email de test", variant="outline", on_click=S.send_test, loading=S.testing,
                            id="email-test")),
        spacing="3",
    ), max_width="720px")


def _tfield(name: str, label: str) -> rx.Component:
    return labelled(label, rx.input(value=S.template.get(name, ""), on_change=lambda v: S.set_template_field(name, v),
                                    id=f"template-{name}", width="100%"), S.template_errors.get(name, ""))


def templates_tab() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.el.select(rx.foreach(S.rubriques, lambda r: rx.el.option(r[1], value=r[0])), value=S.rubrique_id,
                         on_change=S.select_rubrique, id="rubrique-select", aria_label="Rubrique",
                         class_name=_SELECT, style={"padding": "0 8px"}),
            rx.input(placeholder="Nouvelle rubrique", value=S.new_rubrique, on_change=S.set_new_rubrique, width="14em",
                     id="new-rubrique", aria_label="Nom de la nouvelle rubrique"),
            rx.button("Ajouter", variant="soft", on_click=S.add_rubrique),
            rx.spacer(),
            rx.button(rx.icon("plus", size=14), "Nouveau modèle", on_click=S.edit_template("new")),
            spacing="2", wrap="wrap", width="100%",
        ),
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Modèle"), rx.table.column_header_cell("Sujet"),
                                         rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(S.templates, lambda t: rx.table.row(
                rx.table.cell(t["name"]), rx.table.cell(t["subject"]),
                rx.table.cell(rx.button("Modifier", size="1", variant="ghost", on_click=S.edit_template(t["id"]))),
            ))),
            width="100%", variant="surface",
        ),
        rx.cond(S.templates.length() == 0, empty_state(
            "Aucun modèle d'email dans cette rubrique pour l'instant. Un modèle préremplit le sujet et le texte "
            "des emails envoyés depuis un document.",
            rx.button(rx.icon("plus", size=14), "Créer un modèle", variant="soft", on_click=S.edit_template("new")),
            id="templates-empty",
        )),
        rx.cond(S.template.length() > 0, rx.grid(
            rx.card(rx.vstack(
                _tfield("name", "Nom"), _tfield("subject", "Sujet"),
                labelled("Texte", rx.text_area(value=S.template.get("body", ""), rows="10", width="100%", id="template-body",
                                               on_change=lambda v: S.set_template_field("body", v)),
                         S.template_errors.get("body", "")),
                rx.text("Variables : " + ", ".join("{" + name + "}" for name in PLACEHOLDERS), size="1", color="gray"),
                rx.hstack(rx.button("Enregistrer", on_click=S.save_template, id="template-save"),
                          rx.button("Annuler", variant="soft", color_scheme="gray", on_click=S.close_template)),
                spacing="3", width="100%",
            )),
            rx.card(rx.vstack(
                rx.text("Aperçu", weight="bold"), rx.text(S.preview_subject, weight="medium"),
                rx.text(S.preview_body, white_space="pre-wrap", size="2"), spacing="2",
            )),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        )),
        spacing="3", width="100%",
    )
