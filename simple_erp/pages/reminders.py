"""« Relances »: per issuing company, the schedule of reminder steps (offset from the due
date, modèle d'email, on/off), the reminders sent (with their e-mail's status) and those
coming. The scheduler itself runs in the background (services.reminders.loop)."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from simple_erp.components.layout import staff_page
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import clock, companies, reminders
from simple_erp.state import live
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"


def _strings(rows) -> list[dict[str, str]]:
    return [{k: ("1" if v is True else "" if v is False else "" if v is None else str(v))
             for k, v in dataclasses.asdict(r).items()} for r in rows]


def _load(company_id: str) -> dict:
    with session_scope() as session:
        choices = [[str(c.id), c.name] for c in companies.list_companies(session)]
        ids = [c[0] for c in choices]
        company_id = company_id if company_id in ids else (ids[0] if ids else "")
        if not company_id:
            return {"companies": choices, "company_id": "", "steps": [], "templates": [], "sent": [], "coming": []}
        cid = int(company_id)
        return {
            "companies": choices, "company_id": company_id,
            "steps": _strings(reminders.list_steps(session, cid)),
            "templates": [[str(i), name] for i, name in reminders.template_choices(session)],
            "sent": _strings(reminders.company_reminders(session, cid)),
            "coming": _strings(reminders.upcoming(session, cid, clock.today())),
        }


class ReminderPageState(AuthState):
    company_id: str = ""
    companies: list[list[str]] = []
    steps: list[dict[str, str]] = []
    templates: list[list[str]] = []
    sent: list[dict[str, str]] = []
    coming: list[dict[str, str]] = []
    step_errors: dict[str, str] = {}
    loaded: bool = False

    async def _fetch(self) -> None:
        if self._current_user() is None:
            return
        for name, value in (await asyncio.to_thread(_load, self.company_id)).items():
            setattr(self, name, value)
        self.loaded = True

    @rx.event
    async def load(self):
        self.step_errors = {}
        await self._fetch()
        await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return "documents"  # reminders and payments announce it

    async def _refresh_from_feed(self) -> None:
        await self._fetch()

    @rx.event
    async def set_company(self, company_id: str):
        self.company_id = company_id
        self.step_errors = {}
        await self._fetch()

    @rx.event
    async def save_step(self, form: dict):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        raw_id = str(form.get("step_id", ""))
        try:
            with session_scope() as session:
                row = reminders.save_step(session, int(raw_id) if raw_id.isdigit() else 0, form.get("offset_days", ""),
                                          form.get("template_id", ""), bool(form.get("active")))
        except ValidationErrors as exc:
            self.step_errors = {raw_id: " ".join(exc.errors.values())}
            return rx.toast.error(" ".join(exc.errors.values()))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.step_errors = {}
        await self._fetch()
        return rx.toast.success(f"Étape {row.label} enregistrée.")


S = ReminderPageState


def _company_selector() -> rx.Component:
    return rx.cond(
        S.companies.length() > 1,
        rx.hstack(
            rx.el.label(rx.text("Société", size="2"), html_for="reminders-company"),
            rx.el.select(rx.foreach(S.companies, lambda c: rx.el.option(c[1], value=c[0])),
                         value=S.company_id, on_change=S.set_company, id="reminders-company",
                         class_name=_SELECT, style={"padding": "0 8px"}),
            align="center", margin_bottom="1em",
        ),
    )


def _step_form(step) -> rx.Component:
    return rx.form(
        rx.flex(
            rx.el.input(type="hidden", name="step_id", value=step["id"]),
            rx.text(step["label"], weight="bold", width="4em", class_name="step-label"),
            rx.vstack(
                rx.el.label("Jours après l'échéance", class_name="rt-Text rt-r-size-1"),
                rx.input(name="offset_days", default_value=step["offset_days"], width="6em",
                         aria_label="Jours après l'échéance (négatif : avant)"),
                spacing="1",
            ),
            rx.vstack(
                rx.el.label("Modèle d'email", class_name="rt-Text rt-r-size-1"),
                rx.el.select(
                    rx.el.option("— choisir —", value=""),
                    rx.foreach(S.templates, lambda t: rx.el.option(t[1], value=t[0])),
                    name="template_id", default_value=step["template_id"], class_name=_SELECT,
                    style={"padding": "0 8px"}, aria_label="Modèle d'email",
                ),
                spacing="1",
            ),
            rx.el.label(
                rx.flex(rx.el.input(type="checkbox", name="active", default_checked=step["active"] == "1"),
                        rx.text("Active", size="2"), spacing="1", align="center"),
            ),
            rx.button("Enregistrer", type="submit", variant="soft", size="2"),
            rx.cond(S.step_errors.contains(step["id"]),
                    rx.text(S.step_errors[step["id"]], size="1", color="red", width="100%")),
            spacing="4", align="end", wrap="wrap",
        ),
        # Re-mounted (showing the saved values) only when they change: a live refresh
        # leaves a row being typed in alone.
        on_submit=S.save_step, key=step["id"] + "|" + step["offset_days"] + "|" + step["template_id"] + "|" + step["active"],
        class_name="reminder-step", padding_y="0.5em", border_bottom="1px solid var(--gray-a4)",
    )


def _steps_card() -> rx.Component:
    return rx.card(
        rx.heading("Étapes de relance", size="3", margin_bottom="0.25em"),
        rx.text("J-3 : trois jours avant l'échéance ; J+30 : trente jours après. Chaque étape part une fois par "
                "facture, tant qu'il reste à payer et que le client n'est pas exclu des relances (fiche contact). "
                "Les modèles se modifient dans Admin CRM → Modèles d'email, rubrique « Relances ».",
                size="2", color="gray"),
        rx.foreach(S.steps, _step_form),
        id="reminder-steps", width="100%", margin_bottom="1.5em",
    )


def _status_badge(r) -> rx.Component:
    return rx.badge(r["status_label"], color_scheme=rx.match(r["status"], ("envoye", "green"), ("echec", "red"),
                                                             "amber"), class_name="reminder-status")


def _sent_card() -> rx.Component:
    return rx.card(
        rx.heading("Relances envoyées", size="3", margin_bottom="0.5em"),
        rx.cond(S.sent.length() > 0, rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Date", "Facture", "Client", "Étape", "Envoi", "Statut")])),
            rx.table.body(rx.foreach(S.sent, lambda r: rx.table.row(
                rx.table.cell(r["date"]),
                rx.table.cell(rx.link(r["number"], href="/erp/document/" + r["document_id"])),
                rx.table.cell(r["contact"]), rx.table.cell(r["label"]), rx.table.cell(r["how"]),
                rx.table.cell(_status_badge(r)),
                class_name="sent-reminder-row",
            ))),
            width="100%", size="1",
        ), overflow_x="auto"), rx.text("Aucune relance envoyée.", size="2", color="gray")),
        id="reminders-sent", width="100%", margin_bottom="1.5em",
    )


def _coming_card() -> rx.Component:
    return rx.card(
        rx.heading("Prochaines relances", size="3", margin_bottom="0.5em"),
        rx.cond(S.coming.length() > 0, rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Facture", "Client", "Échéance", "Reste à payer", "Étape", "Date prévue")])),
            rx.table.body(rx.foreach(S.coming, lambda r: rx.table.row(
                rx.table.cell(rx.link(r["number"], href="/erp/document/" + r["document_id"])),
                rx.table.cell(r["contact"]), rx.table.cell(r["due_date"]),
                rx.table.cell(rx.text(r["amount_due"], white_space="nowrap"), text_align="right"),
                rx.table.cell(r["label"]), rx.table.cell(r["when"]),
                class_name="coming-reminder-row",
            ))),
            width="100%", size="1",
        ), overflow_x="auto"), rx.text("Aucune relance prévue.", size="2", color="gray")),
        id="reminders-coming", width="100%",
    )


def reminders_page() -> rx.Component:
    return staff_page(
        _company_selector(),
        rx.cond(~S.loaded, rx.center(rx.spinner(size="3"), height="30vh"),
                rx.fragment(_steps_card(), _coming_card(), rx.box(height="1.5em"), _sent_card())),
        title="Relances",
    )
