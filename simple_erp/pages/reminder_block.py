"""« Relances » on an invoice: the history of its reminders (with their e-mail's delivery
status) and « Relancer maintenant »; and, on the fiche contact, « Exclure des relances ».
Both load themselves on mount and stay live (change feed)."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from simple_erp.db import session_scope
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.services import documents, emails, reminders
from simple_erp.state import live
from simple_erp.state.auth import SESSION_EXPIRED, AuthState
from simple_erp.state.urls import app_urls


def _rows(rows) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in dataclasses.asdict(r).items()} for r in rows]


class ReminderBlockState(AuthState):
    reminder_doc_id: int = 0
    reminder_visible: bool = False
    reminder_rows: list[dict[str, str]] = []
    reminder_busy: bool = False

    def _fetch(self) -> None:
        doc_id = self.reminder_doc_id
        if not doc_id or self._current_user() is None:
            self.reminder_visible = False
            return
        with session_scope() as session:
            try:
                doc = documents.get_document(session, doc_id)
            except DomainError:
                self.reminder_visible = False
                return
            self.reminder_visible = (doc.kind == DocumentKind.FACTURE.value
                                     and doc.status == DocumentStatus.FINAL.value)
            self.reminder_rows = _rows(reminders.document_reminders(session, doc_id)) if self.reminder_visible else []

    @rx.event
    async def load_reminders(self):
        self.reminder_doc_id = int(self.router.page.params.get("doc_id", "0") or 0)
        self._fetch()
        if self.reminder_doc_id:
            await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return f"document:{self.reminder_doc_id}" if self.reminder_doc_id else ""

    async def _refresh_from_feed(self) -> None:
        await asyncio.to_thread(self._fetch)  # the queries off the event loop (the state stays locked)

    @rx.event(background=True)
    async def remind_now(self):
        async with self:
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            doc_id = self.reminder_doc_id
            self.reminder_busy = True
        try:
            queued, status = await asyncio.to_thread(reminders.send_now, session_scope, user.id, doc_id,
                                                     None, app_urls().public_base)
        except DomainError as exc:
            async with self:
                self.reminder_busy = False
            yield rx.toast.error(exc.message)
            return
        async with self:
            self.reminder_busy = False
            self._fetch()
        if status == emails.SENT:
            yield rx.toast.success(f"Relance envoyée ({queued.label}).")
        else:
            yield rx.toast.error("Relance enregistrée mais non envoyée : voir son statut dans l'historique.")


S = ReminderBlockState


def reminder_block() -> rx.Component:
    """The « Relances » card of a finalised invoice (loads itself on mount)."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "Date", "Étape", "Retard", "Envoi", "Destinataire", "Statut")])),
        rx.table.body(rx.foreach(S.reminder_rows, lambda r: rx.table.row(
            rx.table.cell(r["date"]), rx.table.cell(r["label"]), rx.table.cell(r["days_late"] + " j"),
            rx.table.cell(r["how"]), rx.table.cell(r["to"]),
            rx.table.cell(rx.badge(r["status_label"], color_scheme=rx.match(
                r["status"], ("envoye", "green"), ("echec", "red"), "amber"), class_name="reminder-status"),
                rx.cond(r["error"] != "", rx.text(r["error"], size="1", color="red"))),
            class_name="reminder-row",
        ))),
        width="100%", size="1",
    )
    return rx.box(rx.cond(S.reminder_visible, rx.card(rx.vstack(
        rx.flex(
            rx.heading("Relances", size="3"),
            rx.spacer(),
            rx.button(rx.icon("bell-ring", size=16), "Relancer maintenant", variant="soft",
                      on_click=S.remind_now, loading=S.reminder_busy, id="remind-now"),
            width="100%", align="center",
        ),
        rx.cond(S.reminder_rows.length() > 0, rx.box(table, overflow_x="auto", width="100%"),
                rx.text("Aucune relance envoyée pour cette facture.", size="2", color="gray")),
        spacing="3", width="100%",
    ), width="100%", id="reminder-block")), on_mount=S.load_reminders, width="100%")


# --- fiche contact: « Exclure des relances » ------------------------------------------------------


class ContactReminderState(AuthState):
    reminder_contact_id: int = 0
    reminders_excluded: bool = False

    @rx.event
    def load_exclusion(self):
        raw = str(self.router.page.params.get("contact_id", "") or "")
        self.reminder_contact_id = int(raw) if raw.isdigit() else 0
        if not self.reminder_contact_id or self._current_user() is None:
            return
        try:
            with session_scope() as session:
                self.reminders_excluded = reminders.contact_excluded(session, self.reminder_contact_id)
        except DomainError:
            self.reminder_contact_id = 0

    @rx.event
    def set_exclusion(self, value: bool):
        excluded, refusal = self._staff_do(
            lambda s: reminders.set_contact_excluded(s, self.reminder_contact_id, bool(value)))
        if refusal:
            return refusal
        self.reminders_excluded = excluded
        return rx.toast.success("Ce contact ne recevra plus de relances." if self.reminders_excluded
                                else "Ce contact recevra de nouveau les relances.")


def contact_exclusion_switch() -> rx.Component:
    """The checkbox of the fiche contact (existing contacts only; saved at once)."""
    C = ContactReminderState
    return rx.box(rx.cond(C.reminder_contact_id > 0, rx.text(
        rx.flex(
            rx.checkbox(checked=C.reminders_excluded, on_change=C.set_exclusion, id="reminders-excluded"),
            "Exclure des relances automatiques de factures",
            spacing="2", align="center",
        ),
        as_="label", size="2",
    )), on_mount=C.load_exclusion)
