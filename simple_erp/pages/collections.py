"""Encaissements: every payment across invoices, with filters, totals per account, CSV."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from decimal import Decimal

import reflex as rx

from simple_erp.components.forms import date_input
from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.domain.money import format_decimal_fr
from simple_erp.domain.payment_rules import STATUS_LABELS
from simple_erp.services import payments
from simple_erp.state import live
from simple_erp.state.auth import SESSION_EXPIRED, AuthState
from simple_erp.state.pagination import PaginationMixin, pager

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"
FILTER_KEYS = ("date_from", "date_to", "account_id", "method_id", "status")


def _filters(values: dict[str, str]) -> payments.PaymentFilters:
    def day(key: str) -> date | None:  # a date not understood filters nothing
        try:
            return date.fromisoformat(values[key]) if values.get(key) else None
        except ValueError:
            return None

    def ident(key: str) -> int | None:
        return int(values[key]) if values.get(key) else None

    return payments.PaymentFilters(date_from=day("date_from"), date_to=day("date_to"), account_id=ident("account_id"),
                                   method_id=ident("method_id"), status=values.get("status", ""))


class CollectionsState(PaginationMixin, AuthState):
    filters: dict[str, str] = {}
    rows: list[dict] = []
    totals: list[list[str]] = []
    accounts: list[list[str]] = []
    methods: list[list[str]] = []
    total: int = 0
    total_label: str = ""

    def _fetch(self) -> None:
        if self._current_user() is None:
            self.rows, self.totals = [], []
            return
        with session_scope() as session:
            self.accounts = [[str(a.id), a.name] for a in payments.list_accounts(session)]
            self.methods = [[str(m.id), m.label] for m in payments.list_methods(session)]
            result = payments.list_collections(session, _filters(self.filters), self.page)
        self.rows = [dataclasses.asdict(r) for r in result.rows]
        self.totals = [[name, amount] for name, amount in result.totals_by_account]
        self.page, self.page_count, self.total = result.page, result.page_count, result.total
        count = format_decimal_fr(Decimal(result.total), 0)
        self.total_label = (f"plus de {count} paiements" if result.total_capped
                            else f"{count} paiement{'s' if result.total > 1 else ''}")

    @rx.var
    def filtered(self) -> bool:
        return any(str(value).strip() for value in self.filters.values())

    @rx.event
    async def load(self):
        self.page = 1
        self._fetch()
        await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return "payments"

    async def _refresh_from_feed(self) -> None:
        await asyncio.to_thread(self._fetch)  # the queries off the event loop (the state stays locked)

    @rx.event
    def set_filter(self, key: str, value: str):
        if key in FILTER_KEYS:
            self.filters[key] = value
            self.page = 1
            self._fetch()

    @rx.event
    def export_csv(self):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        with session_scope() as session:
            data = payments.collections_csv(session, _filters(self.filters))
        return rx.download(data=data, filename="encaissements.csv")


S = CollectionsState


def _choice(rows, key: str, empty: str, id: str, label: str) -> rx.Component:
    return rx.el.select(
        rx.el.option(empty, value=""), rx.foreach(rows, lambda r: rx.el.option(r[1], value=r[0])),
        value=S.filters.get(key, ""), on_change=lambda v: S.set_filter(key, v), id=id, aria_label=label,
        class_name=_SELECT, style={"padding": "0 8px"},
    )


def _date_filter(key: str) -> rx.Component:
    return date_input(S.filters.get(key, ""), lambda v: S.set_filter(key, v), f"filter-{key.replace('_', '-')}",
                      on_blur_only=True, width="8.5em")


def collections_page() -> rx.Component:
    statuses = [[s.value, label] for s, label in STATUS_LABELS.items()]
    return staff_page(
        rx.flex(
            rx.hstack(rx.el.label(rx.text("Du", size="2"), html_for="filter-date-from"), _date_filter("date_from"),
                      rx.el.label(rx.text("au", size="2"), html_for="filter-date-to"), _date_filter("date_to"),
                      align="center"),
            _choice(S.accounts, "account_id", "Tous les comptes", "filter-account", "Compte"),
            _choice(S.methods, "method_id", "Tous les moyens", "filter-method", "Moyen de paiement"),
            _choice(statuses, "status", "Tous les statuts", "filter-payment-status", "Statut du paiement"),
            rx.spacer(),
            rx.button(rx.icon("download", size=14), "Exporter en CSV", variant="soft", on_click=S.export_csv),
            spacing="2", wrap="wrap", align="center", margin_bottom="1em",
        ),
        rx.flex(rx.foreach(S.totals, lambda t: rx.card(rx.vstack(
            rx.text(t[0], size="2", color="gray"), rx.text(t[1], size="4", weight="bold"), spacing="1"))),
            spacing="3", wrap="wrap", margin_bottom="1em", id="collection-totals"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Facture", "Contact", "Moyen de paiement", "Compte", "Montant", "Statut", "Demandé le", "Reçu le")])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(rx.link(r["document_number"], href="/erp/document/" + r["document_id"].to_string())),
                rx.table.cell(r["contact_name"]), rx.table.cell(r["method_label"]), rx.table.cell(r["account_name"]),
                rx.table.cell(r["amount"]), rx.table.cell(r["status_label"]), rx.table.cell(r["requested_on"]),
                rx.table.cell(r["received_on"]), class_name="collection-row",
            ))),
            width="100%", variant="surface",
        ), overflow_x="auto"),
        rx.cond(S.total == 0, empty_state(
            rx.cond(S.filtered, "Aucun paiement ne correspond à ces filtres.",
                    "Aucun paiement pour l'instant. Un paiement se demande ou s'enregistre depuis une facture "
                    "finalisée, dans son bloc « Paiement »."),
            rx.cond(S.filtered, rx.fragment(),
                    rx.link(rx.button(rx.icon("file-text", size=16), "Voir les factures", variant="soft"), href="/erp?type=facture")),
            id="collections-empty",
        )),
        rx.flex(
            rx.text(S.total_label, size="2", color="gray", id="collection-count"),
            rx.spacer(),
            pager(S),
            spacing="3", align="center", margin_top="1em",
        ),
        title="Encaissements",
    )
