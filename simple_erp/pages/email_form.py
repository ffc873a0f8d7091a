"""A document's "Envoyer par email" form (Action block) and its "Emails envoyés".

The email is stored first ("En file"), then sent through SendGrid in a background
event; on failure the form keeps everything typed and the history offers "Réessayer"."""

from __future__ import annotations

import asyncio

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import emails
from simple_erp.state.auth import SESSION_EXPIRED
from simple_erp.state.urls import app_urls

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"


def _queue(user_id: int, request: emails.SendRequest) -> int:
    with session_scope() as session:
        return emails.queue_email(session, user_id, request)


class EmailFormMixin(rx.State, mixin=True):
    email_open: bool = False
    email_rubriques: list[list[str]] = []
    email_rubrique_id: str = ""
    email_templates: list[list[str]] = []
    email_template_id: str = ""
    email_to: str = ""
    email_cc: str = ""
    email_subject: str = ""
    email_body: str = ""
    email_files: list[list[str]] = []
    email_checked: list[str] = []
    email_payment_available: bool = False
    email_include_payment: bool = False
    email_sending: bool = False
    email_errors: dict[str, str] = {}
    email_rows: list[dict[str, str]] = []

    def _reload_emails(self, session) -> None:
        self.email_rows = [
            {"id": str(r.id), "date": r.date, "to": r.to, "subject": r.subject, "status": r.status,
             "status_label": r.status_label, "error": r.error, "event": r.last_event_label,
             "attachments": r.attachments, "can_retry": "1" if r.can_retry else "",
             "uncertain": "1" if r.uncertain else ""}
            for r in emails.list_document_emails(session, self.doc_id)
        ]

    def _templates(self, session) -> None:
        rows = emails.list_templates(session, int(self.email_rubrique_id)) if self.email_rubrique_id else []
        self.email_templates = [[str(t.id), t.name] for t in rows]

    def _apply_defaults(self, session, template_id: int | None, user_id: int) -> None:
        defaults = emails.compose_defaults(session, self.doc_id, template_id, user=user_id,
                                           public_payment_base=app_urls().public_base)
        if template_id:
            self.email_subject, self.email_body = defaults.subject, defaults.body
            return
        self.email_to, self.email_cc = defaults.to, defaults.cc
        self.email_files = [[str(i), name] for i, name in defaults.files]
        self.email_checked = [str(i) for i in (defaults.default_file_ids or [])]
        self.email_payment_available = defaults.payment_info_available
        self.email_include_payment = False  # ticked by the user, as the seed describes
        self.email_rubrique_id = str(defaults.default_rubrique_id or "")

    @rx.event
    def open_email_form(self):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                self.email_rubriques = [[str(r.id), r.name] for r in emails.list_rubriques(session)]
                self._apply_defaults(session, None, user.id)
                if not self.email_rubrique_id and self.email_rubriques:
                    self.email_rubrique_id = self.email_rubriques[0][0]
                self._templates(session)
                self.email_template_id = self.email_templates[0][0] if self.email_templates else ""
                if self.email_template_id:
                    self._apply_defaults(session, int(self.email_template_id), user.id)
        except DomainError as exc:  # the document was deleted meanwhile, or none loaded
            return rx.toast.error(exc.message)
        self.email_errors, self.email_open = {}, True
        return None

    @rx.event
    def set_email_open(self, value: bool):
        self.email_open = value

    @rx.event
    def select_email_rubrique(self, value: str):
        if self._current_user() is None:
            return
        self.email_rubrique_id = value
        with session_scope() as session:
            self._templates(session)
        self.email_template_id = ""

    @rx.event
    def select_email_template(self, value: str):
        user = self._current_user()
        if user is None or not value:
            return
        self.email_template_id = value
        with session_scope() as session:
            self._apply_defaults(session, int(value), user.id)

    @rx.event
    def set_email_field(self, name: str, value: str):
        if name in {"to", "cc", "subject", "body"}:
            setattr(self, f"email_{name}", value)
            self.email_errors.pop(name, None)

    @rx.event
    def toggle_email_file(self, file_id: str, checked: bool):
        others = [f for f in self.email_checked if f != file_id]
        self.email_checked = [*others, file_id] if checked else others

    @rx.event
    def set_email_include_payment(self, value: bool):
        self.email_include_payment = value

    @rx.event(background=True)
    async def send_email(self):
        async with self:
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            request = emails.SendRequest(
                doc_id=self.doc_id, to=self.email_to, cc=self.email_cc, subject=self.email_subject,
                body=self.email_body, file_ids=[int(f) for f in self.email_checked],
                include_payment_info=self.email_include_payment and self.email_payment_available)
            self.email_sending, self.email_errors = True, {}
        try:
            message_id = await asyncio.to_thread(_queue, user.id, request)
        except ValidationErrors as exc:
            async with self:
                self.email_sending, self.email_errors = False, exc.errors
            yield rx.toast.error(exc.message)
            return
        except DomainError as exc:
            async with self:
                self.email_sending = False
            yield rx.toast.error(exc.message)
            return
        status = await asyncio.to_thread(emails.send_queued, session_scope, message_id)
        async with self:
            self.email_sending = False
            with session_scope() as session:
                self._reload_emails(session)
            if status == "envoye":
                self.email_open = False
        if status == "envoye":
            yield rx.toast.success("Email envoyé.")
        else:
            error = next((r["error"] for r in self.email_rows if r["id"] == str(message_id)), "")
            yield rx.toast.error(error or "L'email n'est pas parti : il reste enregistré, vous pouvez réessayer.",
                                 duration=15000)

    @rx.event(background=True)
    async def retry_email(self, message_id: str, confirmed: bool = False):
        """"Réessayer"; ``confirmed``: the user chose to send again an email that may
        already have gone (its last send got no answer)."""
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            doc_id = self.doc_id
        try:
            status = await asyncio.to_thread(emails.retry, session_scope, int(message_id), bool(confirmed), doc_id)
        except emails.UncertainSend:  # the list was out of date: it shows the question now
            status = None
            yield rx.toast.error("Cet email est peut-être déjà parti : cliquez de nouveau sur « Réessayer » "
                                 "pour confirmer le renvoi.", duration=15000)
        except (DomainError, ValueError) as exc:
            status = None
            yield rx.toast.error(getattr(exc, "message", "Cet email n'existe pas."), duration=15000)
        async with self:
            with session_scope() as session:
                self._reload_emails(session)
            error = next((r["error"] for r in self.email_rows if r["id"] == message_id), "")
        if status == "envoye":
            yield rx.toast.success("Email envoyé.")
        elif status is not None:
            yield rx.toast.error(error or "Nouvel échec de l'envoi.", duration=15000)


def email_dialog(state) -> rx.Component:
    err = state.email_errors

    def field(name: str, label: str) -> rx.Component:
        return labelled(label, rx.input(value=getattr(state, f"email_{name}"), width="100%", id=f"email-{name}",
                                        on_change=lambda v: state.set_email_field(name, v)), err.get(name, ""))

    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Envoyer par email"),
        rx.vstack(
            rx.grid(
                labelled("Rubrique", rx.el.select(rx.foreach(state.email_rubriques, lambda r: rx.el.option(r[1], value=r[0])),
                                                  value=state.email_rubrique_id, on_change=state.select_email_rubrique,
                                                  id="email-rubrique", class_name=_SELECT, style={"width": "100%", "padding": "0 8px"})),
                labelled("Modèle d'email", rx.el.select(
                    rx.el.option("— choisir —", value=""),
                    rx.foreach(state.email_templates, lambda t: rx.el.option(t[1], value=t[0])),
                    value=state.email_template_id, on_change=state.select_email_template, id="email-template",
                    class_name=_SELECT, style={"width": "100%", "padding": "0 8px"})),
                columns="2", spacing="3", width="100%",
            ),
            field("to", "Destinataire"), field("cc", "Copie (cc)"), field("subject", "Sujet"),
            labelled("Texte", rx.text_area(value=state.email_body, rows="9", width="100%", id="email-body",
                                           on_change=lambda v: state.set_email_field("body", v)), err.get("body", "")),
            rx.text("Pièces jointes", weight="medium", size="2"),
            rx.cond(state.email_files.length() == 0, rx.text("Aucun fichier : générez d'abord le PDF.", size="2", color="gray")),
            rx.foreach(state.email_files, lambda f: rx.el.label(rx.hstack(
                rx.checkbox(checked=state.email_checked.contains(f[0]), on_change=lambda v: state.toggle_email_file(f[0], v),
                            class_name="email-file"),
                rx.text(f[1], size="2", class_name="email-file-name"), align="center"), class_name="email-file-row")),
            rx.cond(state.email_payment_available, rx.el.label(rx.hstack(
                rx.checkbox(checked=state.email_include_payment, on_change=state.set_email_include_payment, id="email-payment-info"),
                rx.text("Joindre les informations de paiement", size="2"), align="center"))),
            rx.cond(err.get("form", "") != "", rx.callout(err.get("form", ""), color_scheme="red")),
            rx.hstack(
                rx.button("Envoyer l'email avec les pièces jointes cochées", on_click=state.send_email,
                          loading=state.email_sending, id="email-send"),
                rx.dialog.close(rx.button("Fermer", variant="soft", color_scheme="gray")),
            ),
            spacing="3", width="100%",
        ),
        max_width="760px",
    ), open=state.email_open, on_open_change=state.set_email_open)


def emails_block(state) -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Emails envoyés", size="3"),
        rx.cond(state.email_rows.length() == 0, rx.text(
            "Aucun email envoyé pour l'instant : « Envoyer par email » ci-dessus l'envoie à vos contacts.",
            size="2", color="gray", id="emails-empty")),
        rx.table.root(rx.table.body(rx.foreach(state.email_rows, lambda r: rx.table.row(
            rx.table.cell(r["date"]), rx.table.cell(r["to"]), rx.table.cell(r["subject"]),
            rx.table.cell(r["attachments"], max_width="14em"),
            rx.table.cell(rx.vstack(rx.badge(r["status_label"], class_name="email-status",
                                             color_scheme=rx.cond(r["uncertain"] == "1", "amber", rx.match(
                                                 r["status"], ("envoye", "green"), ("echec", "red"), "amber"))),
                                    rx.text(r["event"], size="1", color="gray"),
                                    rx.text(r["error"], size="1", color="red"), spacing="1")),
            rx.table.cell(rx.cond(r["can_retry"] == "1", rx.cond(
                r["uncertain"] == "1",
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button("Réessayer", size="1", variant="soft", class_name="email-retry")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Renvoyer cet email ?"),
                        rx.alert_dialog.description(emails.UNCERTAIN_RETRY),
                        rx.flex(rx.alert_dialog.cancel(rx.button("Annuler", variant="soft", color_scheme="gray")),
                                rx.alert_dialog.action(rx.button("Renvoyer quand même",
                                                                 on_click=state.retry_email(r["id"], True))),
                                spacing="3", justify="end", margin_top="12px"),
                    ),
                ),
                rx.button("Réessayer", size="1", variant="soft", class_name="email-retry",
                          on_click=state.retry_email(r["id"], False)),
            ))),
            class_name="email-row",
        ))), width="100%", size="1"),
        spacing="2", width="100%",
    ), width="100%")
