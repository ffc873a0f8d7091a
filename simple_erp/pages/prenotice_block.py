"""« Pré-notifications de prélèvement » on an invoice: the notices sent to the customer
before a SEPA debit (amount, date, email status), and « Envoyer la pré-notification »
that a Mollie SEPA debit needs N days before (a bank remittance sends its own)."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from simple_erp.db import session_scope
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_decimal_fr, format_eur, parse_amount
from simple_erp.services import clock, documents, payments, prenotification, remittances
from simple_erp.state import live
from simple_erp.state.auth import SESSION_EXPIRED, AuthState


class PrenoticeState(AuthState):
    prenotice_doc_id: int = 0
    prenotice_visible: bool = False
    prenotice_rows: list[dict[str, str]] = []
    prenotice_amount: str = ""
    prenotice_hint: str = ""
    prenotice_busy: bool = False
    collection_rows: list[dict[str, str]] = []

    def _fetch(self) -> None:
        doc_id = self.prenotice_doc_id
        if not doc_id or self._current_user() is None:
            self.prenotice_visible = False
            return
        with session_scope() as session:
            try:
                doc = documents.get_document(session, doc_id)
            except DomainError:
                self.prenotice_visible = False
                return
            enabled = payments.get_preferences(session).simple_paiement_enabled
            self.prenotice_visible = (enabled and doc.kind == DocumentKind.FACTURE.value
                                     and doc.status == DocumentStatus.FINAL.value)
            rows = prenotification.notices_of(session, doc_id)
            collections = remittances.document_collections(session, doc_id)
            amount, debit_on = prenotification.default_notice(session, doc_id, clock.today())
        self.prenotice_rows = [{k: ("1" if v is True else "" if v is False else str(v))
                                for k, v in dataclasses.asdict(r).items()} for r in rows]
        self.collection_rows = [{k: str(v) for k, v in dataclasses.asdict(c).items()} for c in collections]
        self.prenotice_visible = self.prenotice_visible or bool(rows) or bool(collections)
        self.prenotice_amount = format_decimal_fr(amount) if amount > 0 else ""
        self.prenotice_hint = f"Envoyée aujourd'hui, elle permet un prélèvement Mollie à partir du {format_date_fr(debit_on)}."

    @rx.event
    async def load_prenotices(self):
        self.prenotice_doc_id = int(self.router.page.params.get("doc_id", "0") or 0)
        self._fetch()
        if self.prenotice_doc_id:
            await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return f"document:{self.prenotice_doc_id}" if self.prenotice_doc_id else ""

    async def _refresh_from_feed(self) -> None:
        await asyncio.to_thread(self._fetch)  # the queries off the event loop (the state stays locked)

    @rx.event
    def set_prenotice_amount(self, value: str):
        self.prenotice_amount = value

    @rx.event(background=True)
    async def send_prenotice(self):
        async with self:
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            doc_id, raw = self.prenotice_doc_id, self.prenotice_amount
            self.prenotice_busy = True
        try:
            amount = parse_amount(raw)
            debit_on, failure = await asyncio.to_thread(prenotification.send_mollie_notice, session_scope, user.id,
                                                        doc_id, amount)
        except DomainError as exc:
            async with self:
                self.prenotice_busy = False
            yield rx.toast.error(exc.message)
            return
        async with self:
            self.prenotice_busy = False
            self._fetch()
        if failure:
            yield rx.toast.error(f"Pré-notification enregistrée mais non envoyée : {failure}")
        else:
            yield rx.toast.success(f"Pré-notification de {format_eur(amount)} envoyée : prélèvement possible à partir "
                                   f"du {format_date_fr(debit_on)}.")


S = PrenoticeState


def prenotice_block() -> rx.Component:
    """The card under the payment block of an invoice (loads itself on mount): its
    collections by remittance (with the bank's reject reason) and its pre-notifications."""
    rows = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "Envoyée le", "Montant", "Date du prélèvement", "Pour", "Destinataire", "Email")])),
        rx.table.body(rx.foreach(S.prenotice_rows, lambda r: rx.table.row(
            rx.table.cell(r["created_at"]), rx.table.cell(r["amount"]), rx.table.cell(r["collection_date"]),
            rx.table.cell(r["channel"]), rx.table.cell(r["to"]),
            rx.table.cell(rx.badge(r["email_status"], color_scheme=rx.cond(r["sent"] == "1", "green", "amber"))),
            class_name="prenotice-row",
        ))),
        width="100%", size="1",
    )
    return rx.box(rx.cond(S.prenotice_visible, rx.card(rx.vstack(
        rx.cond(S.collection_rows.length() > 0, rx.vstack(
            rx.heading("Remises de prélèvements", size="3"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Remise", "Date du prélèvement", "Montant", "Statut")])),
                rx.table.body(rx.foreach(S.collection_rows, lambda c: rx.table.row(
                    rx.table.cell(c["reference"]), rx.table.cell(c["collection_date"]), rx.table.cell(c["amount"]),
                    rx.table.cell(rx.badge(c["status_label"], color_scheme=rx.match(
                        c["status"], ("recu", "green"), ("rejete", "red"), ("annule", "gray"), "amber"),
                        class_name="collection-status")),
                    class_name="invoice-collection-row",
                ))),
                width="100%", size="1",
            ), overflow_x="auto", width="100%"),
            spacing="2", width="100%",
        )),
        rx.heading("Pré-notifications de prélèvement", size="3"),
        rx.cond(S.prenotice_rows.length() > 0, rx.box(rows, overflow_x="auto", width="100%"),
                rx.text("Aucune pré-notification envoyée pour cette facture.", size="2", color="gray")),
        rx.cond(S.prenotice_amount != "", rx.flex(
            rx.vstack(rx.el.label("Montant annoncé (€)", html_for="prenotice-amount",
                                  class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
                      rx.input(value=S.prenotice_amount, on_change=S.set_prenotice_amount, id="prenotice-amount",
                               width="9em"), spacing="1"),
            rx.button("Envoyer la pré-notification", variant="soft", on_click=S.send_prenotice,
                      loading=S.prenotice_busy, id="send-prenotice"),
            rx.text(S.prenotice_hint, size="1", color="gray"),
            spacing="3", wrap="wrap", align="end",
        )),
        spacing="3", width="100%",
    ), width="100%", id="prenotice-block")), on_mount=S.load_prenotices, width="100%")
