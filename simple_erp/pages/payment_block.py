"""The payment block under an invoice's total (Simple Paiement): choose a moyen de
paiement, "Enregistrer" the demande de paiement, then on receipt "Date de réception du
paiement" → "Enregistrer" → confirmation OK / Annuler → "Paiement reçu"."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import reflex as rx

from simple_erp.components.forms import date_input
from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_decimal_fr, format_eur, parse_amount
from simple_erp.domain.payment_rules import OverpaymentError
from simple_erp.services import clock, payments, remittances
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.state.auth import SESSION_EXPIRED
from simple_erp.state.urls import app_urls

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"
STATUS_COLORS = {"recu": "green", "en_attente": "amber", "prelevement_en_cours": "amber", "annule": "gray",
                 "echoue": "red", "expire": "gray", "rembourse": "gray", "retrofacture": "red"}
INVOICE_COLORS = {"payee": "green", "partiellement_payee": "amber", "en_retard": "red", "non_payee": "gray"}
SEPA_CODE = payments.DIRECT_DEBIT_TYPE_CODE
FULLY_REQUESTED = "Tout le montant dû est déjà demandé : aucune nouvelle demande à faire."
NOTHING_DUE = "Facture réglée : aucun montant à demander."


def _amount_label(raw: str) -> str:
    """« 600,00 € » for what was typed (the app's French money format); as typed when invalid."""
    try:
        return format_eur(parse_amount(raw))
    except DomainError:
        return f"{raw.strip()}\u00a0€"


def _mandate_words(session, doc_id: int) -> str:
    """« RUM-… de Client SA » for the SEPA confirmation; "" when no usable mandate."""
    try:
        contact = mollie_payments.check_direct_debit_allowed(session, doc_id)
    except DomainError:
        return ""
    name = contact.display_name or ""
    return f"{contact.rum} de {name}" if name else (contact.rum or "")


def _labelled(label: str, control_id, control: rx.Component) -> rx.Component:
    """A visible label tied to its control (``html_for`` = the control's ``id``)."""
    return rx.vstack(rx.el.label(label, html_for=control_id, class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
                     control, spacing="1")


def _store_request(doc_id: int, method_id: int, amount, user_id: int) -> int:
    with session_scope() as session:
        # SEPA: refuse up front when the contact's mandate is incomplete or the customer was
        # not pre-notified N days before (nothing stored).
        return mollie_payments.request_checked(session, doc_id, method_id, amount, user_id, clock.today()).id


class PaymentBlockMixin(rx.State, mixin=True):
    pay_visible: bool = False  # Simple Paiement on and the document is an invoice
    pay_applicable: bool = False
    pay_reason: str = ""
    pay_methods: list[list[str]] = []
    pay_method_id: str = ""
    pay_method_is_mollie: bool = False
    pay_method_is_sepa: bool = False
    pay_mandate: str = ""  # « RUM-… de Client SA » (SEPA confirmation), "" when none usable
    pay_amount_label: str = ""  # « 600,00 € »: pay_amount in the app's money format
    pay_form_note: str = ""  # why no new request is proposed (all requested, or paid)
    mollie_confirm_open: bool = False
    mollie_busy: bool = False
    public_url: str = ""  # the customer's payment page, when online payment is possible
    pay_amount: str = ""
    pay_rows: list[dict[str, str]] = []
    pay_due: str = ""
    pay_received: str = ""
    invoice_status: str = ""
    invoice_status_label: str = ""
    overpay_message: str = ""
    receive_dates: dict[str, str] = {}

    def _reload_payments(self, session) -> None:
        block = payments.payment_block(session, self.doc_id, clock.today())
        self.pay_visible = block.enabled and self.kind == "facture"
        self.pay_applicable, self.pay_reason = block.applicable, block.reason
        self.invoice_status, self.invoice_status_label = block.invoice_status.value, block.invoice_status_label
        self.pay_due = format_decimal_fr(block.amount_due) + "\u00a0€"
        self.pay_received = format_decimal_fr(block.received) + "\u00a0€"
        methods = payments.list_methods(session, active_only=True)
        self.pay_methods = [[str(m.id), m.label, "1" if m.is_mollie else "",
                             "1" if m.is_mollie and m.type_code == SEPA_CODE else ""] for m in methods]
        if self.pay_method_id not in {m[0] for m in self.pay_methods}:
            self.pay_method_id = self.pay_methods[0][0] if self.pay_methods else ""
        self._method_flags()
        self.pay_amount = format_decimal_fr(block.default_amount)
        self.pay_amount_label = _amount_label(self.pay_amount)
        self.pay_form_note = (NOTHING_DUE if block.applicable and block.amount_due <= 0
                              else FULLY_REQUESTED if block.fully_requested else "")
        self.pay_mandate = (_mandate_words(session, self.doc_id)
                            if block.applicable and any(m[3] == "1" for m in self.pay_methods) else "")
        self.pay_rows = [
            {"id": str(r.id), "method": r.method_label, "amount": r.amount, "status": r.status,
             "status_label": r.status_label, "requested_at": r.requested_at, "received_on": r.received_on,
             "can_receive": "1" if r.can_receive else "", "can_cancel": "1" if r.can_cancel else "",
             "checkout_url": r.checkout_url, "color": STATUS_COLORS.get(r.status, "gray"),
             "is_mollie": "" if r.is_manual else "1",
             "can_retry": "1" if (not r.is_manual and not r.checkout_url and r.status == "en_attente") else ""}
            for r in block.rows
        ]
        self.public_url = ""
        if block.applicable and any(m[2] == "1" for m in self.pay_methods):
            token = mollie_payments.ensure_public_token(session, self.doc_id)
            self.public_url = f"{app_urls().public_base}/payer/{token}"
        today = clock.today().isoformat()
        self.receive_dates = {r["id"]: self.receive_dates.get(r["id"], today) for r in self.pay_rows}

    def _after_payment_change(self, message: str):
        with session_scope() as session:
            self._reload(session)
        return rx.toast.success(message)

    def _method_flags(self) -> None:
        chosen = next((m for m in self.pay_methods if m[0] == self.pay_method_id), None)
        self.pay_method_is_mollie = bool(chosen and chosen[2] == "1")
        self.pay_method_is_sepa = bool(chosen and chosen[3] == "1")

    @rx.event
    def set_pay_method(self, value: str):
        self.pay_method_id = value
        self._method_flags()

    @rx.event
    def set_mollie_confirm_open(self, value: bool):
        self.mollie_confirm_open = value

    @rx.event(background=True)
    async def request_mollie_payment(self):
        """After "OK": the demande de paiement is stored first, then created at Mollie."""
        async with self:
            self.mollie_confirm_open = False
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            doc_id, method_id, raw_amount = self.doc_id, int(self.pay_method_id or 0), self.pay_amount
            is_sepa, mandate = self.pay_method_is_sepa, self.pay_mandate
            self.mollie_busy = True
        try:
            amount = parse_amount(raw_amount)
            payment_id = await asyncio.to_thread(_store_request, doc_id, method_id, amount, user.id)
            await asyncio.to_thread(mollie_payments.start_mollie_payment, session_scope, payment_id, app_urls())
        except DomainError as exc:
            async with self:
                self.mollie_busy = False
                with session_scope() as session:
                    self._reload(session)
            yield rx.toast.error(exc.message)
            return
        async with self:
            self.mollie_busy = False
            with session_scope() as session:
                self._reload(session)
        if is_sepa:  # a direct debit: no link, the money is taken from the mandate
            on = f" sur le mandat {mandate}" if mandate else ""
            yield rx.toast.success(f"Prélèvement SEPA demandé : {format_eur(amount)}{on}.")
        else:
            yield rx.toast.success("Demande de paiement Mollie créée : le lien de paiement est prêt.")

    @rx.event(background=True)
    async def retry_mollie(self, payment_id: str):
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            self.mollie_busy = True
        try:
            await asyncio.to_thread(mollie_payments.start_mollie_payment, session_scope, int(payment_id), app_urls())
            message, ok = "Demande de paiement Mollie créée.", True
        except DomainError as exc:
            message, ok = exc.message, False
        async with self:
            self.mollie_busy = False
            with session_scope() as session:
                self._reload(session)
        yield rx.toast.success(message) if ok else rx.toast.error(message)

    @rx.event(background=True)
    async def resync_payment(self, payment_id: str):
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
        try:
            await asyncio.to_thread(mollie_payments.resync_payment, session_scope, int(payment_id))
            message, ok = "Paiement resynchronisé avec Mollie.", True
        except Exception as exc:  # noqa: BLE001 - MollieError or DomainError, shown to the user
            message, ok = getattr(exc, "message", "Mollie ne répond pas : réessayez plus tard."), False
        async with self:
            with session_scope() as session:
                self._reload(session)
        yield rx.toast.success(message) if ok else rx.toast.error(message)

    @rx.event
    def set_pay_amount(self, value: str):
        self.pay_amount = value
        self.pay_amount_label = _amount_label(value)

    @rx.event
    def set_receive_date(self, payment_id: str, value: str):
        self.receive_dates[payment_id] = value

    def _request(self, allow_overpay: bool):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.overpay_message = ""
        try:
            amount = parse_amount(self.pay_amount)
            with session_scope() as session:
                remittances.check_manual_request(session, int(self.pay_method_id or 0))  # a bank debit: a remittance
                payments.request_payment(session, self.doc_id, int(self.pay_method_id or 0), amount, user.id,
                                         clock.today(), allow_overpay=allow_overpay)
        except OverpaymentError as exc:
            self.overpay_message = exc.message
            return None
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return self._after_payment_change("Demande de paiement enregistrée : en attente de paiement.")

    @rx.event
    def request_payment(self):
        return self._request(allow_overpay=False)

    @rx.event
    def confirm_overpay(self):
        return self._request(allow_overpay=True)

    @rx.event
    def dismiss_overpay(self):
        self.overpay_message = ""

    @rx.event
    def record_reception(self, payment_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        raw = self.receive_dates.get(payment_id, "")
        try:
            received_on = date.fromisoformat(raw)
        except ValueError:
            return rx.toast.error("Date de réception du paiement invalide : saisissez-la au format jj/mm/aaaa.")
        try:
            with session_scope() as session:
                payments.record_reception(session, int(payment_id), received_on, clock.today())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return self._after_payment_change("Paiement reçu : l'état du paiement est mis à jour.")

    @rx.event
    def cancel_payment(self, payment_id: str):
        _, refusal = self._staff_do(lambda s: payments.cancel_request(s, int(payment_id), datetime.now(timezone.utc)))
        return refusal or self._after_payment_change("Demande de paiement annulée.")


def _reception(state, row: rx.Var) -> rx.Component:
    return rx.cond(row["can_receive"] == "1", rx.hstack(
        _labelled("Date de réception du paiement", "receive-date-" + row["id"], date_input(
            state.receive_dates.get(row["id"], ""), lambda iso: state.set_receive_date(row["id"], iso),
            "receive-date-" + row["id"], size="1", class_name="receive-date", width="8.5em")),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(rx.button("Enregistrer", size="1", class_name="receive-save")),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Enregistrer la réception du paiement ?"),
                rx.alert_dialog.description("Le paiement de " + row["amount"] + " sera marqué « Paiement reçu »."),
                rx.flex(rx.alert_dialog.cancel(rx.button("Annuler", variant="soft", color_scheme="gray")),
                        rx.alert_dialog.action(rx.button("OK", on_click=state.record_reception(row["id"]))),
                        spacing="3", justify="end"),
            ),
        ),
        align="end",
    ))


def payment_block(state) -> rx.Component:
    """``state`` is the page state that mixes in PaymentBlockMixin."""
    rows = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                       ("Moyen de paiement", "Montant", "Statut", "Demandé le", "Reçu le", "")])),
        rx.table.body(rx.foreach(state.pay_rows, lambda r: rx.table.row(
            rx.table.cell(r["method"]), rx.table.cell(r["amount"]),
            rx.table.cell(rx.badge(r["status_label"], color_scheme=r["color"], class_name="payment-status")),
            rx.table.cell(r["requested_at"]), rx.table.cell(r["received_on"], class_name="payment-received-on"),
            rx.table.cell(rx.vstack(
                _reception(state, r),
                rx.cond(r["checkout_url"] != "", rx.hstack(
                    rx.link("Lien de paiement", href=r["checkout_url"], is_external=True, size="1", class_name="checkout-link"),
                    rx.icon_button(rx.icon("copy", size=12), size="1", variant="ghost", aria_label="Copier le lien",
                                   on_click=[rx.set_clipboard(r["checkout_url"]), rx.toast.info("Lien copié.")]),
                    spacing="1", align="center")),
                rx.cond(r["can_retry"] == "1", rx.button("Réessayer", size="1", variant="soft", on_click=state.retry_mollie(r["id"]))),
                rx.cond(r["is_mollie"] == "1", rx.button("Resynchroniser", size="1", variant="ghost",
                                                        on_click=state.resync_payment(r["id"]), class_name="resync")),
                rx.cond(r["can_cancel"] == "1", rx.button("Annuler la demande", size="1", variant="ghost", color_scheme="red",
                                                          on_click=state.cancel_payment(r["id"]))),
                spacing="1",
            )),
            class_name="payment-row",
        ))),
        width="100%", size="1",
    )
    request_form = rx.flex(
        _labelled("Moyen de paiement", "pay-method", rx.el.select(
            rx.foreach(state.pay_methods, lambda m: rx.el.option(m[1], value=m[0])),
            value=state.pay_method_id, on_change=state.set_pay_method, id="pay-method",
            class_name=_SELECT, style={"padding": "0 8px", "min_width": "16em"})),
        _labelled("Montant (€)", "pay-amount",
                  rx.input(value=state.pay_amount, on_change=state.set_pay_amount, id="pay-amount", width="9em")),
        rx.cond(
            state.pay_method_is_mollie,
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Enregistrer", id="pay-request", loading=state.mollie_busy)),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Envoyer la demande de paiement via Mollie ?"),
                    rx.alert_dialog.description(rx.cond(
                        state.pay_method_is_sepa,
                        rx.cond(state.pay_mandate != "",
                                "Le prélèvement de " + state.pay_amount_label + " sera demandé à Mollie sur le mandat "
                                + state.pay_mandate + " : le compte du client sera débité, sans lien de paiement.",
                                "Le prélèvement de " + state.pay_amount_label + " sera demandé à Mollie sur le mandat "
                                "SEPA du contact de la facture : le compte du client sera débité, sans lien de paiement."),
                        "Un paiement par carte de " + state.pay_amount_label + " sera créé chez Mollie ; son lien de "
                        "paiement pourra être joint à l'email envoyé au client."), id="mollie-confirm-text"),
                    rx.flex(rx.alert_dialog.cancel(rx.button("Annuler", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(rx.button("OK", on_click=state.request_mollie_payment)),
                            spacing="3", justify="end"),
                ),
            ),
            rx.button("Enregistrer", on_click=state.request_payment, id="pay-request"),
        ),
        spacing="3", wrap="wrap", align="end",
    )
    return rx.cond(state.pay_visible, rx.card(rx.vstack(
        rx.hstack(
            rx.heading("Paiement", size="3"),
            rx.badge(state.invoice_status_label, color_scheme=rx.match(
                state.invoice_status, *INVOICE_COLORS.items(), "gray"), id="invoice-payment-status", size="2"),
            rx.spacer(),
            rx.text("Reçu : ", state.pay_received, " — reste dû : ", state.pay_due, size="2", id="pay-summary"),
            width="100%", align="center", wrap="wrap",
        ),
        rx.cond(state.public_url != "", rx.hstack(
            rx.text("Page de paiement client :", size="2"),
            rx.link(state.public_url, href=state.public_url, is_external=True, size="2", id="public-pay-link"),
            rx.icon_button(rx.icon("copy", size=12), size="1", variant="ghost", aria_label="Copier le lien",
                           on_click=[rx.set_clipboard(state.public_url), rx.toast.info("Lien copié.")]),
            align="center", wrap="wrap",
        )),
        rx.cond(state.pay_applicable,
                rx.cond(state.pay_form_note != "",
                        rx.text(state.pay_form_note, size="2", color="gray", id="pay-form-note"),
                        rx.cond(state.pay_methods.length() > 0, request_form,
                                rx.text("Aucun moyen de paiement actif : créez-en un dans Admin ERP → "
                                        "12. Moyens de paiement.", size="2", color="gray"))),
                rx.text(state.pay_reason, size="2", color="gray")),
        rx.cond(state.overpay_message != "", rx.callout(rx.vstack(
            rx.text(state.overpay_message),
            rx.hstack(rx.button("Confirmer", size="1", color_scheme="orange", on_click=state.confirm_overpay, id="confirm-overpay"),
                      rx.button("Annuler", size="1", variant="soft", color_scheme="gray", on_click=state.dismiss_overpay)),
        ), color_scheme="orange", width="100%")),
        rx.cond(state.pay_rows.length() > 0, rx.box(rows, overflow_x="auto", width="100%")),
        spacing="3", width="100%",
    ), width="100%", id="payment-block"))
