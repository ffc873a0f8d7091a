"""The staff shell: top menu, user menu, page frame."""

from __future__ import annotations

import reflex as rx

from simple_erp.state.auth import HOME_ROUTE, AuthState

MENU = [
    ("Tableau de bord", "/tableau-de-bord"),
    ("Contacts", "/contacts"),
    ("Simple ERP", "/erp"),
    ("Encaissements", "/encaissements"),
    ("Remises de prélèvements", "/remises-prelevements"),
    ("Relances", "/relances"),
    ("Admin ERP", "/admin-erp"),
    ("Admin CRM", "/admin-crm"),
]


def _menu_link(label: str, href: str) -> rx.Component:
    """The current page's item is in the accent colour, bold and underlined (aria-current="page")."""
    path = rx.State.router.url.path.to(str)
    active = (path == href) | path.startswith(href + "/")
    return rx.link(
        label, href=href, size="3", high_contrast=True,
        weight=rx.cond(active, "bold", "medium"),
        underline=rx.cond(active, "always", "hover"),
        color=rx.cond(active, "var(--accent-11)", "var(--gray-12)"),
        aria_current=rx.cond(active, "page", "false"),
    )


def _user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(rx.icon("user", size=16), AuthState.user_name, variant="soft", id="user-menu")
        ),
        rx.menu.content(
            rx.menu.item("Mon profil", on_select=rx.redirect("/profil")),
            rx.menu.separator(),
            rx.menu.item("Se déconnecter", color="red", on_select=AuthState.sign_out),
        ),
    )


def top_bar() -> rx.Component:
    return rx.flex(
        rx.link(rx.heading("Simple ERP", size="5"), href=HOME_ROUTE, underline="none"),
        rx.el.nav(
            rx.flex(*[_menu_link(label, href) for label, href in MENU], spacing="4", wrap="wrap", align="center"),
            aria_label="Menu principal",
        ),
        rx.spacer(),
        _user_menu(),
        align="center",
        spacing="5",
        wrap="wrap",
        padding_x="1.5em",
        padding_y="0.75em",
        border_bottom="1px solid var(--gray-a5)",
        background="var(--color-panel-solid)",
        width="100%",
    )


def staff_page(*children: rx.Component, title: str) -> rx.Component:
    """Frame of every staff page; the content shows only once the user is checked."""
    return rx.box(
        rx.cond(
            AuthState.signed_in,
            rx.fragment(
                top_bar(),
                rx.box(
                    rx.heading(title, size="6", margin_bottom="0.75em"),
                    *children,
                    padding="1.5em",
                    max_width="1200px",
                    margin_x="auto",
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), height="60vh"),
        ),
        min_height="100vh",
    )


def centered_card(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(rx.vstack(*children, spacing="4", width="100%"), width="100%", max_width="420px"),
        min_height="100vh",
        padding="1em",
    )


def empty_state(message, *actions: rx.Component, id: str | None = None) -> rx.Component:
    """What an empty list shows: why it is empty and what to do next (the button to do it)."""
    return rx.card(
        rx.flex(
            rx.icon("inbox", size=20, color="var(--gray-9)"),
            rx.text(message, size="2", color="gray"),
            *actions,
            spacing="3", align="center", wrap="wrap",
        ),
        id=id, class_name="empty-state", width="100%", margin_top="1em",
    )
