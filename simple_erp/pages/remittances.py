"""« Remises de prélèvements »: SEPA direct debits through the company's bank. Choose the
issuing company, the bank's « Prélèvement SEPA » moyen, the collection date and the
invoices → « Créer la remise » (the pain.008 file and the customers' pre-notifications);
then download the file, « Marquer comme transmise à la banque », and record the bank's
answer per collection or for the whole remittance."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

import reflex as rx

from simple_erp.components.forms import date_input
from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.domain import remittances as remittance_rules
from simple_erp.domain.remittances import REJECT_REASONS, LineStatus, RemittanceStatus
from simple_erp.services import clock, companies, prenotification, remittances
from simple_erp.state import live
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"
STATUS_COLORS = {RemittanceStatus.CREATED.value: "amber", RemittanceStatus.SENT.value: "blue",
                 RemittanceStatus.DONE.value: "green", RemittanceStatus.CANCELED.value: "gray"}
LINE_COLORS = {LineStatus.PENDING.value: "amber", LineStatus.PAID.value: "green", LineStatus.REJECTED.value: "red",
               LineStatus.CANCELED.value: "gray"}
REASONS = [[code, f"{code} — {label}"] for code, label in REJECT_REASONS.items()]


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _count(n: int) -> str:
    return f"{n} prélèvement" + ("s" if n > 1 else "")


class RemittanceState(AuthState):
    company_id: str = ""
    companies: list[list[str]] = []
    methods: list[list[str]] = []
    method_id: str = ""
    collection_date: str = ""
    delay_days: str = "14"
    candidates: list[dict[str, str]] = []
    chosen: list[str] = []
    remittances: list[dict[str, str]] = []
    selected_id: str = ""
    selected: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    received_on: str = ""
    reject_codes: dict[str, str] = {}
    all_code: str = "AM04"
    busy: bool = False

    # --- loading -----------------------------------------------------------------------------------

    def _fetch(self) -> None:
        if self._current_user() is None:
            return
        today = clock.today()
        with session_scope() as session:
            rows = companies.list_companies(session)
            self.companies = [[str(c.id), c.name] for c in rows]
            if self.company_id not in {c[0] for c in self.companies}:
                self.company_id = self.companies[0][0] if self.companies else ""
            company = next((c for c in rows if str(c.id) == self.company_id), None)
            days = prenotification.company_days(company) if company else 14
            self.delay_days = str(days)
            earliest = remittance_rules.first_collection_date(today, days)
            if not _date(self.collection_date):  # the first possible date, until the user picks one
                self.collection_date = earliest.isoformat()
            self.methods = [[str(m.id), m.label] for m in remittances.bank_debit_methods(session)]
            if self.method_id not in {m[0] for m in self.methods}:
                self.method_id = self.methods[0][0] if self.methods else ""
            found = (remittances.list_candidates(session, int(self.company_id), _date(self.collection_date), today)
                     if self.company_id else [])
            self.remittances = [{**{k: str(v) for k, v in dataclasses.asdict(r).items()}, "count_label": _count(r.count)}
                                for r in remittances.list_remittances(session)]
            self._load_selected(session)
        self.candidates = [{"id": str(c.doc_id), "number": c.number, "contact": c.contact_name, "due": c.due_date,
                            "amount": c.amount_label, "sequence": c.sequence_type, "problem": c.problem}
                           for c in found]
        eligible = {c["id"] for c in self.candidates if not c["problem"]}
        self.chosen = [i for i in self.chosen if i in eligible]
        self.received_on = self.received_on or today.isoformat()

    def _load_selected(self, session) -> None:
        row = next((r for r in self.remittances if r["id"] == self.selected_id), None)
        if row is None:
            self.selected_id, self.selected, self.lines = "", {}, []
            return
        self.selected = row
        self.lines = [{k: ("1" if v is True else "" if v is False else str(v)) for k, v in dataclasses.asdict(line).items()}
                      for line in remittances.remittance_lines(session, int(self.selected_id))]

    @rx.event
    async def load(self):
        self._fetch()
        await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return remittances.TOPIC

    async def _refresh_from_feed(self) -> None:
        await asyncio.to_thread(self._fetch)  # the queries off the event loop (the state stays locked)

    # --- the form ------------------------------------------------------------------------------------

    @rx.event
    def set_company(self, value: str):
        self.company_id, self.chosen, self.collection_date = value, [], ""
        self._fetch()

    @rx.event
    def set_method(self, value: str):
        self.method_id = value

    @rx.event
    def set_collection_date(self, value: str):
        self.collection_date = value
        self._fetch()

    @rx.event
    def set_delay_days(self, value: str):
        self.delay_days = value

    @rx.event
    def toggle(self, doc_id: str, checked: bool):
        self.chosen = [i for i in self.chosen if i != doc_id] + ([doc_id] if checked else [])

    @rx.event
    def save_delay(self):
        refusal = self._admin_refusal()
        if refusal:
            return rx.toast.error(refusal if refusal == SESSION_EXPIRED else
                                  "Réservé aux administrateurs : seul un administrateur modifie ce délai.")
        try:
            with session_scope() as session:
                company = prenotification.save_prenotification_days(session, int(self.company_id or 0), self.delay_days)
                days = company.prenotification_days
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.collection_date = ""
        self._fetch()
        return rx.toast.success(f"Délai de pré-notification enregistré : {days} jours.")

    @rx.event(background=True)
    async def create(self):
        async with self:
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            when = _date(self.collection_date)
            args = (user.id, int(self.company_id or 0), int(self.method_id or 0), [int(i) for i in self.chosen])
            self.busy = True
        try:
            if when is None:
                raise DomainError("Date de prélèvement invalide : saisissez-la au format jj/mm/aaaa.")
            created = await asyncio.to_thread(remittances.create_remittance, session_scope, *args, when)
        except DomainError as exc:
            async with self:
                self.busy = False
            yield rx.toast.error(exc.message)
            return
        async with self:
            self.busy, self.chosen, self.selected_id = False, [], str(created.remittance_id)
            self._fetch()
            summary = f"{self.selected.get('count_label', '')}, {self.selected.get('total', '')}"
        if created.notice_failures:
            yield rx.toast.warning(f"Remise créée ({summary}), mais des pré-notifications ne sont pas parties : "
                                   + " ; ".join(created.notice_failures) + ". Renvoyez-les avant de la transmettre.")
        else:
            yield rx.toast.success(f"Remise créée : {summary}. Pré-notifications envoyées aux clients.")

    # --- one remittance ------------------------------------------------------------------------------

    @rx.event
    def open_remittance(self, remittance_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.selected_id = remittance_id
        self._fetch()

    @rx.event
    def download(self):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                filename, data = remittances.remittance_file(session, int(self.selected_id or 0))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return rx.download(data=data.decode("utf-8"), filename=filename, mime_type="application/xml")

    def _change(self, action, message: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                result = action(session)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._fetch()
        return rx.toast.success(message.format(result=result))

    @rx.event
    def mark_sent(self):
        remittance_id = int(self.selected_id or 0)
        return self._change(lambda s: remittances.mark_sent(s, remittance_id, clock.today()),
                            "Remise transmise à la banque : les prélèvements sont « Prélèvement en cours ».")

    @rx.event
    def cancel(self):
        remittance_id = int(self.selected_id or 0)
        return self._change(lambda s: remittances.cancel_remittance(s, remittance_id),
                            "Remise annulée : ses factures peuvent entrer dans une autre remise.")

    @rx.event
    def set_received_on(self, value: str):
        self.received_on = value

    @rx.event
    def set_reject_code(self, line_id: str, value: str):
        self.reject_codes[line_id] = value

    @rx.event
    def set_all_code(self, value: str):
        self.all_code = value

    @rx.event
    def line_paid(self, line_id: str):
        received_on = _date(self.received_on)
        return self._change(lambda s: remittances.record_line(s, int(line_id), True, received_on, today=clock.today()),
                            "Paiement reçu enregistré.")

    @rx.event
    def line_rejected(self, line_id: str):
        code = self.reject_codes.get(line_id, "")
        return self._change(lambda s: remittances.record_line(s, int(line_id), False, code=code, today=clock.today()),
                            "Rejet enregistré.")

    @rx.event
    def all_paid(self):
        remittance_id, received_on = int(self.selected_id or 0), _date(self.received_on)
        return self._change(lambda s: _count(remittances.record_all(s, remittance_id, True, received_on,
                                                                    today=clock.today())),
                            "Paiement reçu enregistré pour {result}.")

    @rx.event
    def all_rejected(self):
        remittance_id, code = int(self.selected_id or 0), self.all_code
        return self._change(lambda s: _count(remittances.record_all(s, remittance_id, False, code=code,
                                                                    today=clock.today())),
                            "Rejet enregistré pour {result}.")

    @rx.event(background=True)
    async def resend_notices(self):
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            remittance_id = int(self.selected_id or 0)
        try:
            failures = await asyncio.to_thread(remittances.resend_notices, session_scope, remittance_id)
        except DomainError as exc:
            yield rx.toast.error(exc.message)
            return
        async with self:
            self._fetch()
        if failures:
            yield rx.toast.error("Pré-notifications non envoyées : " + " ; ".join(failures))
        else:
            yield rx.toast.success("Pré-notifications envoyées.")


S = RemittanceState


def _labelled(label: str, control_id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=control_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
                     control, spacing="1")


def _select(rows, value, on_change, id: str, **props) -> rx.Component:
    return rx.el.select(rx.foreach(rows, lambda r: rx.el.option(r[1], value=r[0])), value=value,
                        on_change=on_change, id=id, class_name=_SELECT, style={"padding": "0 8px"}, **props)


def _candidate_row(c: rx.Var) -> rx.Component:
    box_id = "choose-" + c["id"]
    return rx.table.row(
        rx.table.cell(rx.cond(c["problem"] == "", rx.checkbox(
            checked=S.chosen.contains(c["id"]), on_change=lambda v: S.toggle(c["id"], v), id=box_id,
            aria_label="Prélever la facture " + c["number"]))),
        rx.table.cell(rx.link(c["number"], href="/erp/document/" + c["id"])),
        rx.table.cell(c["contact"]), rx.table.cell(c["due"]), rx.table.cell(c["amount"]),
        rx.table.cell(rx.cond(c["problem"] == "", rx.badge(c["sequence"]),
                              rx.text(c["problem"], size="1", color="red"))),
        class_name="candidate-row",
    )


def _new_remittance() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Nouvelle remise", size="4"),
        rx.flex(
            _labelled("Société émettrice", "remit-company", _select(S.companies, S.company_id, S.set_company,
                                                                     "remit-company")),
            _labelled("Moyen de paiement", "remit-method", _select(S.methods, S.method_id, S.set_method,
                                                                    "remit-method", min_width="16em")),
            _labelled("Date de prélèvement", "remit-date", date_input(S.collection_date, S.set_collection_date,
                                                                      "remit-date", on_blur_only=True, width="9em")),
            rx.text("Pré-notification : ", S.delay_days, " jours avant le prélèvement.", size="2", color="gray"),
            spacing="3", wrap="wrap", align="end",
        ),
        rx.cond(S.methods.length() == 0, rx.callout(
            "Aucun moyen « Prélèvement SEPA » sur un compte bancaire : créez-le dans Admin ERP → 10. Comptes "
            "(avec l'IBAN du compte) puis 12. Moyens de paiement.", color_scheme="orange", width="100%")),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "", "Facture", "Contact", "Échéance", "Montant à prélever", "Séquence")])),
            rx.table.body(rx.foreach(S.candidates, _candidate_row)),
            width="100%", size="1",
        ), overflow_x="auto", width="100%"),
        rx.cond(S.candidates.length() == 0, empty_state(
            "Aucune facture à prélever pour cette société : les factures finalisées non réglées de contacts "
            "ayant un mandat SEPA complet apparaissent ici.", id="candidates-empty")),
        rx.button(rx.icon("file-plus", size=16), "Créer la remise", on_click=S.create, loading=S.busy,
                  disabled=S.chosen.length() == 0, id="create-remittance"),
        spacing="3", width="100%",
    ), width="100%")


def _line_actions(line: rx.Var) -> rx.Component:
    code_id = "reject-code-" + line["id"]
    return rx.cond(line["can_answer"] == "1", rx.hstack(
        rx.button("Payé", size="1", color_scheme="green", on_click=S.line_paid(line["id"]), class_name="line-paid"),
        rx.el.select(rx.foreach(REASONS, lambda r: rx.el.option(r[1], value=r[0])),
                     value=S.reject_codes.get(line["id"], "AM04"), on_change=lambda v: S.set_reject_code(line["id"], v),
                     id=code_id, aria_label="Motif de rejet", class_name=_SELECT, style={"padding": "0 8px"}),
        rx.button("Rejeté", size="1", color_scheme="red", variant="soft", on_click=S.line_rejected(line["id"]),
                  class_name="line-rejected"),
        spacing="2", align="center",
    ))


def _detail() -> rx.Component:
    status = S.selected.get("status", "")
    lines = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "Facture", "Débiteur", "IBAN", "RUM", "Séquence", "Montant", "Pré-notification", "Statut", "")])),
        rx.table.body(rx.foreach(S.lines, lambda line: rx.table.row(
            rx.table.cell(rx.link(line["number"], href="/erp/document/" + line["document_id"])),
            rx.table.cell(line["debtor"]), rx.table.cell(line["iban_masked"]), rx.table.cell(line["rum"]),
            rx.table.cell(line["sequence_type"]), rx.table.cell(line["amount"]), rx.table.cell(line["notice"]),
            rx.table.cell(rx.badge(line["status_label"], color_scheme=rx.match(line["status"], *LINE_COLORS.items(),
                                                                               "gray"), class_name="line-status")),
            rx.table.cell(_line_actions(line)),
            class_name="remittance-line",
        ))),
        width="100%", size="1",
    )
    return rx.cond(S.selected_id != "", rx.card(rx.vstack(
        rx.hstack(
            rx.heading("Remise ", S.selected.get("reference", ""), size="4"),
            rx.badge(S.selected.get("status_label", ""), color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"),
                     id="remittance-status", size="2"),
            rx.spacer(),
            rx.text("Prélèvement le ", S.selected.get("collection_date", ""), " — ", S.selected.get("count_label", ""),
                    ", ", S.selected.get("total", ""), size="2", id="remittance-summary"),
            width="100%", align="center", wrap="wrap",
        ),
        rx.flex(
            rx.cond(status != RemittanceStatus.CANCELED.value, rx.button(rx.icon("download", size=14), "Télécharger le fichier (pain.008)",
                                                   variant="soft", on_click=S.download, id="download-remittance")),
            rx.cond(status == RemittanceStatus.CREATED.value, rx.fragment(
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button("Marquer comme transmise à la banque", id="mark-sent")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("La remise a-t-elle été transmise à la banque ?"),
                        rx.alert_dialog.description("Ses prélèvements passeront « Prélèvement en cours » ; elle ne "
                                                    "pourra plus être annulée."),
                        rx.flex(rx.alert_dialog.cancel(rx.button("Annuler", variant="soft", color_scheme="gray")),
                                rx.alert_dialog.action(rx.button("OK", on_click=S.mark_sent)), spacing="3",
                                justify="end"),
                    ),
                ),
                rx.button("Renvoyer les pré-notifications", variant="soft", on_click=S.resend_notices),
                rx.button("Annuler la remise", variant="soft", color_scheme="red", on_click=S.cancel,
                          id="cancel-remittance"),
            )),
            spacing="2", wrap="wrap",
        ),
        rx.cond(status == RemittanceStatus.SENT.value, rx.flex(
            _labelled("Date de réception du paiement", "remit-received-on", date_input(
                S.received_on, S.set_received_on, "remit-received-on", width="9em")),
            rx.button("Tout marquer payé", color_scheme="green", variant="soft", on_click=S.all_paid, id="all-paid"),
            _labelled("Motif de rejet (toute la remise)", "remit-all-code", _select(
                REASONS, S.all_code, S.set_all_code, "remit-all-code")),
            rx.button("Tout marquer rejeté", color_scheme="red", variant="soft", on_click=S.all_rejected),
            spacing="3", wrap="wrap", align="end",
        )),
        rx.box(lines, overflow_x="auto", width="100%"),
        spacing="3", width="100%",
    ), width="100%", id="remittance-detail"))


def _list() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Remises", size="4"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Référence", "Société", "Prélèvement le", "Nombre", "Total", "Statut", "Créée le", "")])),
            rx.table.body(rx.foreach(S.remittances, lambda r: rx.table.row(
                rx.table.cell(r["reference"]), rx.table.cell(r["company"]), rx.table.cell(r["collection_date"]),
                rx.table.cell(r["count"]), rx.table.cell(r["total"]),
                rx.table.cell(rx.badge(r["status_label"], color_scheme=rx.match(r["status"], *STATUS_COLORS.items(),
                                                                                "gray"))),
                rx.table.cell(r["created_at"]),
                rx.table.cell(rx.button("Ouvrir", size="1", variant="soft", on_click=S.open_remittance(r["id"]))),
                class_name="remittance-row",
            ))),
            width="100%", size="1",
        ), overflow_x="auto", width="100%"),
        rx.cond(S.remittances.length() == 0, empty_state(
            "Aucune remise pour l'instant : cochez des factures ci-dessus et « Créer la remise ».",
            id="remittances-empty")),
        spacing="3", width="100%",
    ), width="100%")


def _settings() -> rx.Component:
    return rx.card(rx.flex(
        _labelled("Délai de pré-notification (jours)", "prenotice-days", rx.input(
            value=S.delay_days, on_change=S.set_delay_days, id="prenotice-days", width="6em")),
        rx.button("Enregistrer", variant="soft", on_click=S.save_delay, disabled=~S.user_is_admin, id="save-delay"),
        rx.text("14 jours par défaut ; moins seulement si vos mandats le prévoient. Réservé aux administrateurs.",
                size="1", color="gray"),
        spacing="3", wrap="wrap", align="end",
    ), width="100%")


def remittances_page() -> rx.Component:
    return staff_page(
        rx.vstack(_new_remittance(), _detail(), _list(), _settings(), spacing="4", width="100%"),
        title="Remises de prélèvements",
    )

