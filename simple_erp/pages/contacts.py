"""Contacts list: server-side search and pagination."""

from __future__ import annotations

import dataclasses

import reflex as rx

from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.pages.contact_detail import mandate_badge
from simple_erp.services import contacts
from simple_erp.state.auth import AuthState
from simple_erp.state.pagination import PaginationMixin


class ContactListState(PaginationMixin, AuthState):
    query: str = ""
    total: int = 0
    total_label: str = ""
    rows: list[dict] = []

    def _fetch(self) -> None:
        if self._current_user() is None:
            self.rows, self.total = [], 0
            return
        with session_scope() as session:
            result = contacts.search_contacts(session, self.query, self.page)
        self.rows = [dataclasses.asdict(row) for row in result.rows]
        self.total, self.page, self.page_count = result.total, result.page, result.page_count
        count = f"{result.total:,}".replace(",", "\u202f")
        plural = "s" if result.total > 1 else ""
        self.total_label = f"plus de {count} contacts" if result.total_capped else f"{count} contact{plural}"

    @rx.event
    def load(self):
        self._fetch()

    @rx.event
    def search(self, value: str):
        self.query, self.page = value, 1
        self._fetch()


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["display_name"], href="/contacts/" + row["id"].to_string())),
        rx.table.cell(row["kind"]),
        rx.table.cell(row["email"]),
        rx.table.cell(row["phone"]),
        rx.table.cell(row["city"]),
        rx.table.cell(rx.text(row["iban_masked"], font_family="monospace", size="2")),
        rx.table.cell(rx.cond(row["mandate_complete"], mandate_badge(True), rx.fragment())),
        class_name="contact-row",
    )


def contacts_page() -> rx.Component:
    return staff_page(
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                placeholder="Rechercher (nom, email, ville, SIREN…)",
                default_value=ContactListState.query,
                on_change=ContactListState.search.debounce(300),
                id="contact-search",
                aria_label="Rechercher un contact",
                width="100%",
                max_width="420px",
            ),
            rx.spacer(),
            rx.link(rx.button(rx.icon("plus", size=16), "Nouveau contact", id="new-contact"), href="/contacts/nouveau"),
            spacing="3",
            wrap="wrap",
            margin_bottom="1em",
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Nom / raison sociale", "Type", "Email", "Téléphone", "Ville", "IBAN", "SEPA")]
                    )
                ),
                rx.table.body(rx.foreach(ContactListState.rows, _row)),
                width="100%",
                variant="surface",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.cond(ContactListState.total == 0, empty_state(
            rx.cond(ContactListState.query != "",
                    "Aucun contact ne correspond à cette recherche. Essayez un autre nom, une ville ou un SIREN.",
                    "Aucun contact pour l'instant. Créez le premier : client, fournisseur ou prospect."),
            rx.cond(ContactListState.query == "",
                    rx.link(rx.button(rx.icon("plus", size=16), "Créer le premier contact", variant="soft"), href="/contacts/nouveau")),
            id="contacts-empty",
        )),
        rx.flex(
            rx.text(ContactListState.total_label, size="2", color="gray", id="contact-count"),
            rx.spacer(),
            rx.button("Précédent", on_click=ContactListState.previous_page, disabled=ContactListState.page <= 1, variant="soft"),
            rx.text("Page " + ContactListState.page.to_string(), size="2"),
            rx.button("Suivant", on_click=ContactListState.next_page, disabled=ContactListState.page >= ContactListState.page_count, variant="soft"),
            spacing="3",
            align="center",
            margin_top="1em",
        ),
        title="Contacts",
    )
