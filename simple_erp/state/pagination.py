"""Server-side pagination for list pages: the state defines ``_fetch()``."""

from __future__ import annotations

import reflex as rx


class PaginationMixin(rx.State, mixin=True):
    page: int = 1
    page_count: int = 1

    @rx.event
    def next_page(self):
        self.page += 1
        self._fetch()

    @rx.event
    def previous_page(self):
        self.page = max(1, self.page - 1)
        self._fetch()


def pager(state) -> rx.Component:
    return rx.hstack(
        rx.button("Précédent", on_click=state.previous_page, disabled=state.page <= 1, variant="soft"),
        rx.text("Page " + state.page.to_string() + " / " + state.page_count.to_string(), size="2"),
        rx.button("Suivant", on_click=state.next_page, disabled=state.page >= state.page_count, variant="soft"),
        align="center", spacing="3",
    )
