"""Tableau de bord: what the company is owed and has collected, live.

The figures come from ``services.dashboard`` (SQL aggregates), computed in a worker thread
so that the event loop never waits for the database; the page registers for the
"documents" topic of the change feed (every document change and every payment change
announce it), so a payment recorded elsewhere or a Mollie webhook moves the figures
without a reload.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.domain.dashboard import days_label
from simple_erp.domain.money import format_date_fr, format_decimal_fr, format_eur
from simple_erp.services import clock, companies, dashboard, documents
from simple_erp.state import live
from simple_erp.state.auth import AuthState

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"
NO_INVOICE = "Aucune facture finalisée pour l'instant"


def _invoices(count: int) -> str:
    return f"{format_decimal_fr(count, 0)} facture{'s' if count > 1 else ''}"


def _delay_note(delay) -> str:
    plural = "s" if delay.invoices > 1 else ""
    if delay.limited:
        return f"sur les {_invoices(delay.invoices)} réglée{plural} les plus récemment"
    return f"sur {_invoices(delay.invoices)} réglée{plural} en 12 mois"


def _display(board: dashboard.Dashboard) -> dict:
    """The board as the page shows it: French strings; chart values as numbers (the edge)."""
    return {
        "has_invoices": board.has_invoices,
        "receivable": format_eur(board.receivable),
        "receivable_note": _invoices(board.receivable_count),
        "late": format_eur(board.late),
        "late_note": _invoices(board.late_count),
        "collected": format_eur(board.collected_this_month),
        "delay": days_label(board.payment_delay.average_days),
        "delay_note": _delay_note(board.payment_delay),
        "months": [{"mois": m.label, "facture": float(m.invoiced), "encaisse": float(m.collected)} for m in board.months],
        "ages": [{"tranche": b.label, "montant": float(b.amount), "factures": b.count} for b in board.ages],
        "late_rows": [{"id": r.document_id, "number": r.number, "contact": r.contact_name,
                       "due_date": format_date_fr(r.due_date), "amount": format_eur(r.amount_due),
                       "days": f"{r.days_late} j"} for r in board.oldest_late],
    }


def _compute(company_id: int) -> dict:
    with session_scope() as session:
        return _display(dashboard.dashboard(session, company_id, clock.today()))


def _company_choices() -> list[list[str]]:
    with session_scope() as session:
        return [[str(c.id), c.name] for c in companies.list_companies(session)]


class DashboardState(AuthState):
    company_id: str = ""
    companies: list[list[str]] = []
    loaded: bool = False
    has_invoices: bool = False
    receivable: str = ""
    receivable_note: str = ""
    late: str = ""
    late_note: str = ""
    collected: str = ""
    delay: str = ""
    delay_note: str = ""
    months: list[dict] = []
    ages: list[dict] = []
    late_rows: list[dict] = []

    async def _fetch(self) -> None:
        if self._current_user() is None:
            return
        self.companies = await asyncio.to_thread(_company_choices)
        ids = [c[0] for c in self.companies]
        if self.company_id not in ids:
            self.company_id = ids[0] if ids else ""
        if not self.company_id:
            self.loaded, self.has_invoices = True, False
            return
        for name, value in (await asyncio.to_thread(_compute, int(self.company_id))).items():
            setattr(self, name, value)
        self.loaded = True

    @rx.event
    async def load(self):
        await self._fetch()
        await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return "documents"  # payments announce their invoice's "documents" topic too

    async def _refresh_from_feed(self) -> None:
        await self._fetch()

    @rx.event
    async def set_company(self, company_id: str):
        self.company_id = company_id
        await self._fetch()

    @rx.event
    def create_invoice(self):
        doc_id, refusal = self._staff_do(lambda s: documents.create_document(
            s, "facture", clock.today(), int(self.company_id) if self.company_id else None).id)
        return refusal or rx.redirect(f"/erp/document/{doc_id}")


S = DashboardState


def _company_selector() -> rx.Component:
    return rx.cond(
        S.companies.length() > 1,
        rx.hstack(
            rx.el.label(rx.text("Société", size="2"), html_for="dashboard-company"),
            rx.el.select(rx.foreach(S.companies, lambda c: rx.el.option(c[1], value=c[0])),
                         value=S.company_id, on_change=S.set_company, id="dashboard-company",
                         class_name=_SELECT, style={"padding": "0 8px"}),
            align="center", margin_bottom="1em",
        ),
    )


def _stat(title: str, value, note, id: str, color: str = "var(--gray-12)") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, size="2", color="gray"),
            rx.text(value, size="6", weight="bold", color=color, class_name="stat-value"),
            rx.text(note, size="1", color="gray", class_name="stat-note"),
            spacing="1",
        ),
        id=id, class_name="stat-card", flex="1 1 200px",
    )


def _cards() -> rx.Component:
    return rx.flex(
        _stat("À encaisser", S.receivable, S.receivable_note, "stat-receivable"),
        _stat("En retard", S.late, S.late_note, "stat-late", "var(--red-11)"),
        _stat("Encaissé ce mois-ci", S.collected, "paiements reçus", "stat-collected", "var(--green-11)"),
        _stat("Délai moyen de paiement", S.delay, S.delay_note, "stat-delay"),
        spacing="3", wrap="wrap", margin_bottom="1.5em", width="100%",
    )


def _chart_card(title: str, chart: rx.Component, id: str) -> rx.Component:
    return rx.card(rx.heading(title, size="3", margin_bottom="0.5em"), rx.box(chart, height="280px"),
                   id=id, flex="1 1 420px", min_width="0")


def _months_chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="mois"),
        rx.recharts.y_axis(),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        rx.recharts.bar(data_key="facture", name="Facturé", fill="var(--accent-9)", is_animation_active=False),
        rx.recharts.bar(data_key="encaisse", name="Encaissé", fill="var(--green-9)", is_animation_active=False),
        data=S.months,
    )


def _ages_chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="tranche"),
        rx.recharts.y_axis(),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="montant", name="Montant dû", fill="var(--amber-9)", is_animation_active=False),
        data=S.ages,
    )


def _late_table() -> rx.Component:
    return rx.card(
        rx.heading("Les 10 factures en retard les plus anciennes", size="3", margin_bottom="0.5em"),
        rx.cond(
            S.late_rows.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Facture", "Contact", "Échéance", "Montant dû", "Retard")])),
                rx.table.body(rx.foreach(S.late_rows, lambda r: rx.table.row(
                    rx.table.cell(rx.link(r["number"], href="/erp/document/" + r["id"].to_string())),
                    rx.table.cell(r["contact"]), rx.table.cell(r["due_date"]),
                    rx.table.cell(rx.text(r["amount"], white_space="nowrap"), text_align="right"),
                    rx.table.cell(r["days"], text_align="right"),
                    class_name="late-row",
                ))),
                width="100%", variant="surface",
            ), overflow_x="auto"),
            rx.text("Aucune facture en retard.", size="2", color="gray"),
        ),
        id="late-invoices", width="100%",
    )


def dashboard_page() -> rx.Component:
    return staff_page(
        _company_selector(),
        rx.cond(
            ~S.loaded,
            rx.center(rx.spinner(size="3"), height="30vh"),
            rx.cond(
                S.has_invoices,
                rx.fragment(
                    _cards(),
                    rx.flex(
                        _chart_card("Facturé et encaissé sur 12 mois (TTC, €)", _months_chart(), "chart-months"),
                        _chart_card("Montants dus par ancienneté (€)", _ages_chart(), "chart-ages"),
                        spacing="3", wrap="wrap", margin_bottom="1.5em", width="100%",
                    ),
                    _late_table(),
                ),
                empty_state(
                    NO_INVOICE,
                    rx.button(rx.icon("plus", size=16), "Créer une facture", variant="soft", on_click=S.create_invoice,
                              id="dashboard-new-invoice"),
                    id="dashboard-empty",
                ),
            ),
        ),
        title="Tableau de bord",
    )
