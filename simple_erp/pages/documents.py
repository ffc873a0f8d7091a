"""Simple ERP: the list of documents of one kind, with filters and pagination."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

import reflex as rx

from simple_erp.components.forms import date_input
from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.domain.documents import DocumentKind
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import parse_amount
from simple_erp.services import clock, documents, payments
from simple_erp.state import live
from simple_erp.state.auth import AuthState
from simple_erp.state.pagination import PaginationMixin, pager

NEW_LABELS = {
    "devis": "Nouveau devis", "bon_de_commande": "Nouveau bon de commande", "facture": "Nouvelle facture",
    "bon_de_livraison": "Nouveau bon de livraison",
}
TAB_LABELS = {"devis": "Devis", "bon_de_commande": "Bons de commande", "facture": "Factures",
              "bon_de_livraison": "Bons de livraison", "avoir": "Avoirs"}
# What an empty list says, per kind: (nothing yet, nothing matching the filters).
EMPTY_LABELS = {
    "devis": ("Aucun devis pour l'instant.", "Aucun devis ne correspond à ces filtres."),
    "bon_de_commande": ("Aucun bon de commande pour l'instant.", "Aucun bon de commande ne correspond à ces filtres."),
    "facture": ("Aucune facture pour l'instant.", "Aucune facture ne correspond à ces filtres."),
    "bon_de_livraison": ("Aucun bon de livraison pour l'instant.", "Aucun bon de livraison ne correspond à ces filtres."),
    "avoir": ("Aucun avoir pour l'instant. Un avoir se crée depuis une facture finalisée : « Créer un avoir ».",
              "Aucun avoir ne correspond à ces filtres."),
}
FILTER_KEYS = ("status", "contact_query", "date_from", "date_to", "amount_min", "amount_max")


def _filters(values: dict[str, str]) -> documents.DocumentFilters:
    def day(key: str) -> date | None:
        return date.fromisoformat(values[key]) if values.get(key) else None

    def amount(key: str):
        return parse_amount(values[key]) if values.get(key, "").strip() else None

    return documents.DocumentFilters(
        status=values.get("status", ""), contact_query=values.get("contact_query", ""),
        date_from=day("date_from"), date_to=day("date_to"),
        amount_min=amount("amount_min"), amount_max=amount("amount_max"),
    )


class DocumentListState(PaginationMixin, AuthState):
    kind: str = "facture"
    filters: dict[str, str] = {}
    filter_error: str = ""
    rows: list[dict] = []
    total_label: str = ""
    simple_paiement: bool = False

    def _fetch(self) -> None:
        if self._current_user() is None:
            self.rows = []
            return
        try:
            filters = _filters(self.filters)
        except (ValueError, DomainError) as exc:
            self.filter_error = getattr(exc, "message", "Filtre invalide.")
            return
        self.filter_error = ""
        with session_scope() as session:
            result = documents.list_documents(session, self.kind, filters, self.page)
            self.simple_paiement = payments.get_preferences(session).simple_paiement_enabled
        self.rows = [dataclasses.asdict(row) for row in result.rows]
        self.page, self.page_count = result.page, result.page_count
        self.total_label = result.total_label

    @rx.var
    def filtered(self) -> bool:
        return any(str(value).strip() for value in self.filters.values())

    @rx.event
    async def load(self):
        requested = self.router.page.params.get("type", "")
        if requested in {k.value for k in DocumentKind}:
            self.kind = requested
        self.page = 1
        self._fetch()
        await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return "documents"

    async def _refresh_from_feed(self) -> None:
        await asyncio.to_thread(self._fetch)  # the queries off the event loop (the state stays locked)

    @rx.event
    def set_kind(self, kind: str):
        self.kind, self.page, self.filters = kind, 1, {}
        self._fetch()

    @rx.event
    def set_filter(self, key: str, value: str):
        if key in FILTER_KEYS:
            self.filters[key] = value
            self.page = 1
            self._fetch()

    @rx.event
    def create(self):
        doc_id, refusal = self._staff_do(lambda s: documents.create_document(s, self.kind, clock.today()).id)
        return refusal or rx.redirect(f"/erp/document/{doc_id}")


def _filter_input(key: str, placeholder: str, label: str = "", **props) -> rx.Component:
    """A filter field; named by ``label`` (aria-label) when it has no visible label."""
    if label:
        props["aria_label"] = label
    return rx.input(placeholder=placeholder, default_value=DocumentListState.filters.get(key, ""),
                    on_change=DocumentListState.set_filter(key).debounce(400), id=f"filter-{key.replace('_', '-')}", **props)


def _date_filter(key: str) -> rx.Component:
    return date_input(DocumentListState.filters.get(key, ""), lambda v: DocumentListState.set_filter(key, v),
                      f"filter-{key.replace('_', '-')}", on_blur_only=True, width="8.5em")


def filters_bar() -> rx.Component:
    return rx.flex(
        rx.el.select(
            rx.el.option("Tous les statuts", value=""), rx.el.option("Brouillon", value="brouillon"),
            rx.el.option("Finalisé", value="finalise"),
            value=DocumentListState.filters.get("status", ""),
            on_change=lambda v: DocumentListState.set_filter("status", v), id="filter-status", aria_label="Statut",
            class_name="rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface", style={"padding": "0 8px"},
        ),
        _filter_input("contact_query", "Contact", "Contact"),
        rx.hstack(rx.el.label(rx.text("Du", size="2"), html_for="filter-date-from"), _date_filter("date_from"),
                  rx.el.label(rx.text("au", size="2"), html_for="filter-date-to"), _date_filter("date_to"),
                  align="center"),
        _filter_input("amount_min", "Montant min (€)", "Montant minimum (€)", width="9em"),
        _filter_input("amount_max", "Montant max (€)", "Montant maximum (€)", width="9em"),
        spacing="2", wrap="wrap", align="center",
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["number"], href="/erp/document/" + row["id"].to_string())),
        rx.table.cell(row["contact_name"]),
        rx.table.cell(row["issue_date"]),
        rx.table.cell(row["due_date"]),
        rx.table.cell(row["status_label"]),
        rx.table.cell(rx.cond(row["payment_status_label"] != "", rx.badge(
            row["payment_status_label"], class_name="list-payment-status",
            color_scheme=rx.match(row["payment_status"], ("payee", "green"), ("partiellement_payee", "amber"),
                                  ("en_retard", "red"), "gray")))),
        rx.table.cell(rx.text(row["total_ttc"], white_space="nowrap"), text_align="right"),
        class_name="document-row",
    )


FIRST_LABELS = {
    "devis": "Créer le premier devis", "bon_de_commande": "Créer le premier bon de commande",
    "facture": "Créer la première facture", "bon_de_livraison": "Créer le premier bon de livraison",
}


def _first_button(kind: str) -> rx.Component:
    return rx.button(rx.icon("plus", size=16), FIRST_LABELS[kind], variant="soft", on_click=DocumentListState.create)


def empty_list() -> rx.Component:
    """Nothing yet: say so and offer the button that creates the first one; filtered: say so."""
    return rx.match(
        DocumentListState.kind,
        *[(kind, empty_state(rx.cond(DocumentListState.filtered, filtered, nothing),
                             *([] if kind not in FIRST_LABELS else [rx.cond(DocumentListState.filtered, rx.fragment(), _first_button(kind))]),
                             id="documents-empty"))
          for kind, (nothing, filtered) in EMPTY_LABELS.items()],
        rx.fragment(),
    )


def documents_page() -> rx.Component:
    return staff_page(
        rx.tabs.root(
            rx.tabs.list(*[rx.tabs.trigger(label, value=kind) for kind, label in TAB_LABELS.items()], flex_wrap="wrap"),
            value=DocumentListState.kind,
            on_change=DocumentListState.set_kind,
        ),
        rx.flex(
            filters_bar(),
            rx.spacer(),
            rx.match(
                DocumentListState.kind,
                *[(kind, rx.button(rx.icon("plus", size=16), label, on_click=DocumentListState.create, id="new-document"))
                  for kind, label in NEW_LABELS.items()],
                rx.text("Un avoir se crée depuis une facture finalisée : « Créer un avoir ».", size="2", color="gray"),
            ),
            rx.cond(DocumentListState.simple_paiement,
                    rx.link(rx.button(rx.icon("wallet", size=16), "Encaissements", variant="soft"), href="/encaissements")),
            rx.link(rx.button(rx.icon("file-input", size=16), "Importer une facture électronique", variant="soft"),
                    href="/erp/factures-recues", id="einvoice-import-link"),
            spacing="3", wrap="wrap", margin_y="1em",
        ),
        rx.cond(DocumentListState.filter_error != "", rx.callout(DocumentListState.filter_error, color_scheme="red")),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Numéro", "Contact", "Date", "Échéance", "Statut", "Paiement", "Total TTC")])),
                rx.table.body(rx.foreach(DocumentListState.rows, _row)),
                width="100%", variant="surface",
            ),
            overflow_x="auto",
        ),
        rx.cond((DocumentListState.rows.length() == 0) & (DocumentListState.filter_error == ""), empty_list()),
        rx.flex(
            rx.text(DocumentListState.total_label, size="2", color="gray"),
            rx.spacer(),
            pager(DocumentListState),
            spacing="3", align="center", margin_top="1em",
        ),
        title="Simple ERP",
    )
