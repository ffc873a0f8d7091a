"""Admin ERP, Simple Paiement: "8. Préférences ERP", "10. Comptes",
"11. Types de paiement", "12. Moyens de paiement"."""

from __future__ import annotations

import reflex as rx

from simple_erp.components.forms import labelled
from simple_erp.components.layout import empty_state
from simple_erp.db import session_scope
from simple_erp.services import payments
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"


class PaymentAdminState(AuthState):
    loaded: bool = False
    simple_paiement: bool = False
    mollie: bool = False
    accounts: list[dict[str, str]] = []
    account_id: int = 0
    account: dict[str, str] = {}
    account_errors: dict[str, str] = {}
    types: list[dict[str, str]] = []
    type_id: int = 0
    type_form: dict[str, str] = {}
    type_errors: dict[str, str] = {}
    methods: list[dict[str, str]] = []
    method: dict[str, str] = {}
    method_id: int = 0
    method_errors: dict[str, str] = {}

    def _refresh(self, session) -> None:
        prefs = payments.get_preferences(session)
        self.simple_paiement, self.mollie = prefs.simple_paiement_enabled, prefs.mollie_enabled
        self.accounts = [
            {"id": str(a.id), "type": payments.ACCOUNT_TYPES.get(a.account_type, a.account_type), "name": a.name,
             "identifier": a.identifier, "iban": a.iban_masked, "active": "Oui" if a.active else "Non"}
            for a in payments.list_accounts(session)
        ]
        self.types = [{"id": str(t.id), "name": t.name, "active": "Oui" if t.active else "Non"}
                      for t in payments.list_payment_types(session)]
        self.methods = [{"id": str(m.id), "label": m.label, "type": m.type_name, "account": m.account_name,
                         "active": "Oui" if m.active else "Non"} for m in payments.list_methods(session)]

    @rx.event
    def load(self):
        if self._current_user() is None:
            return
        with session_scope() as session:
            self._refresh(session)
        self.loaded = True
        self.account, self.account_id, self.account_errors = {}, 0, {}
        self.type_form, self.type_id, self.type_errors = {}, 0, {}
        self.method, self.method_id, self.method_errors = {}, 0, {}

    def _save(self, action, success: str, errors_attr: str, reset):
        _, refusal = self._staff_do(action, after=self._refresh, errors_attr=errors_attr)
        if refusal:
            return refusal
        reset()
        return rx.toast.success(success)

    # --- 8. Préférences ERP ------------------------------------------------------------
    @rx.event
    def set_simple_paiement(self, value: bool):
        self.simple_paiement = value
        if not value:
            self.mollie = False

    @rx.event
    def set_mollie(self, value: bool):
        self.mollie = value

    @rx.event
    def save_preferences(self):
        return self._save(lambda s: payments.save_preferences(s, self.simple_paiement, self.mollie),
                          "Préférences enregistrées.", "account_errors", lambda: None)

    # --- 10. Comptes ---------------------------------------------------------------------
    @rx.event
    def edit_account(self, account_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.account_errors = {}
        if account_id == "new":
            self.account_id, self.account = 0, payments.empty_account_form()
            return None
        with session_scope() as session:
            account = next(a for a in payments.list_accounts(session) if a.id == int(account_id))
            self.account_id, self.account = account.id, payments.account_form(account)
        return None

    @rx.event
    def set_account_field(self, name: str, value):
        self.account[name] = ("1" if value else "") if isinstance(value, bool) else str(value)
        self.account_errors.pop(name, None)

    def _close_account(self) -> None:
        self.account_id, self.account, self.account_errors = 0, {}, {}

    @rx.event
    def save_account(self):
        return self._save(lambda s: payments.save_account(s, self.account_id or None, dict(self.account)),
                          "Compte enregistré.", "account_errors", self._close_account)

    @rx.event
    def close_account(self):
        self._close_account()

    # --- 11. Types de paiement ---------------------------------------------------------------
    @rx.event
    def edit_type(self, type_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.type_errors = {}
        if type_id == "new":
            self.type_id, self.type_form = 0, {"name": "", "active": "1"}
            return None
        row = next(t for t in self.types if t["id"] == type_id)
        self.type_id, self.type_form = int(type_id), {"name": row["name"], "active": "1" if row["active"] == "Oui" else ""}
        return None

    @rx.event
    def set_type_field(self, name: str, value):
        self.type_form[name] = ("1" if value else "") if isinstance(value, bool) else str(value)
        self.type_errors.pop(name, None)

    def _close_type(self) -> None:
        self.type_id, self.type_form, self.type_errors = 0, {}, {}

    @rx.event
    def save_type(self):
        return self._save(lambda s: payments.save_payment_type(s, self.type_id or None, dict(self.type_form)),
                          "Type de paiement enregistré.", "type_errors", self._close_type)

    @rx.event
    def close_type(self):
        self._close_type()

    # --- 12. Moyens de paiement ---------------------------------------------------------------
    @rx.event
    def edit_method(self, method_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.method_errors = {}
        if method_id == "new":
            first_type = self.types[0]["id"] if self.types else ""
            first_account = self.accounts[0]["id"] if self.accounts else ""
            self.method_id, self.method = 0, {"payment_type_id": first_type, "account_id": first_account, "active": "1"}
            return None
        with session_scope() as session:
            from simple_erp.models.payment import PaymentMethod

            m = session.get(PaymentMethod, int(method_id)) if method_id.isdigit() else None
            if m is None:
                return rx.toast.error("Ce moyen de paiement n'existe plus.")
            self.method_id = m.id
            self.method = {"payment_type_id": str(m.payment_type_id), "account_id": str(m.account_id),
                           "active": "1" if m.active else ""}
        return None

    @rx.event
    def set_method_field(self, name: str, value):
        self.method[name] = ("1" if value else "") if isinstance(value, bool) else str(value)
        self.method_errors.pop(name, None)

    def _close_method(self) -> None:
        self.method_id, self.method, self.method_errors = 0, {}, {}

    @rx.event
    def save_method(self):
        return self._save(lambda s: payments.save_method(s, self.method_id or None, dict(self.method)),
                          "Moyen de paiement enregistré.", "method_errors", self._close_method)

    @rx.event
    def close_method(self):
        self._close_method()


S = PaymentAdminState


def _checkbox(label: str, checked, on_change, id: str) -> rx.Component:
    return rx.el.label(rx.hstack(rx.checkbox(checked=checked, on_change=on_change, id=id), rx.text(label), align="center"))


def _table(headers: tuple[str, ...], rows, cells, edit, empty: str, create_label: str) -> rx.Component:
    """The list, or when it is empty, what to do next and the button that does it."""
    return rx.fragment(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers], rx.table.column_header_cell(""))),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
            *[rx.table.cell(r[c]) for c in cells],
            rx.table.cell(rx.button("Modifier", size="1", variant="ghost", on_click=edit(r["id"]))),
        ))),
        width="100%", variant="surface",
    ), rx.cond(rows.length() == 0, empty_state(
        empty, rx.button(rx.icon("plus", size=14), create_label, variant="soft", on_click=edit("new")),
    )))


def _buttons(save, close, save_id: str) -> rx.Component:
    return rx.hstack(rx.button("Enregistrer", on_click=save, id=save_id),
                     rx.button("Annuler", variant="soft", color_scheme="gray", on_click=close))


def preferences_tab() -> rx.Component:
    return rx.card(rx.vstack(
        rx.cond(S.loaded, rx.box(id="preferences-loaded", display="none")),
        _checkbox("Activer Simple Paiement", S.simple_paiement, S.set_simple_paiement, "pref-simple-paiement"),
        _checkbox("Activation du module de paiement Mollie", S.mollie, S.set_mollie, "pref-mollie"),
        rx.text("Simple Paiement ajoute les onglets « 10. Comptes », « 11. Types de paiement » et "
                "« 12. Moyens de paiement », et le bloc de paiement sous le total des factures.", size="2", color="gray"),
        rx.button("Enregistrer", on_click=S.save_preferences, id="preferences-save"),
        spacing="3",
    ), max_width="640px")


def _afield(name: str, label: str) -> rx.Component:
    return labelled(label, rx.input(value=S.account.get(name, ""), on_change=lambda v: S.set_account_field(name, v),
                                    id=f"account-{name.replace('_', '-')}", width="100%"), S.account_errors.get(name, ""))


def accounts_tab() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("plus", size=14), "Nouveau compte", on_click=S.edit_account("new"), id="new-account"),
        rx.cond(S.account.length() > 0, rx.card(rx.vstack(
            rx.grid(
                labelled("Type de compte", rx.el.select(
                    *[rx.el.option(label, value=key) for key, label in payments.ACCOUNT_TYPES.items()],
                    value=S.account.get("account_type", "compte_bancaire"),
                    on_change=lambda v: S.set_account_field("account_type", v), id="account-type",
                    class_name=_SELECT, style={"width": "100%", "padding": "0 8px"}), S.account_errors.get("account_type", "")),
                _afield("name", "Désignation du compte"), _afield("identifier", "Numéro de compte ou identifiant"),
                _afield("bank_name", "Banque"), _afield("iban", "IBAN"), _afield("bic", "BIC"), _afield("notes", "Notes"),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="3", width="100%",
            ),
            _checkbox("Actif", S.account.get("active", "") == "1", lambda v: S.set_account_field("active", v), "account-active"),
            _buttons(S.save_account, S.close_account, "account-save"),
            spacing="3", width="100%",
        ), width="100%")),
        _table(("Type de compte", "Désignation", "Numéro ou identifiant", "IBAN", "Actif"), S.accounts,
               ("type", "name", "identifier", "iban", "active"), S.edit_account,
               "Aucun compte pour l'instant. Un compte (banque, caisse, Mollie) reçoit les paiements de vos factures.",
               "Créer un compte"),
        spacing="3", width="100%",
    )


def types_tab() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("plus", size=14), "Nouveau type de paiement", on_click=S.edit_type("new")),
        rx.cond(S.type_form.length() > 0, rx.card(rx.vstack(
            labelled("Nom", rx.input(value=S.type_form.get("name", ""), on_change=lambda v: S.set_type_field("name", v),
                                     id="type-name", width="100%"), S.type_errors.get("name", "")),
            _checkbox("Actif", S.type_form.get("active", "") == "1", lambda v: S.set_type_field("active", v), "type-active"),
            _buttons(S.save_type, S.close_type, "type-save"),
            spacing="3", max_width="420px",
        ))),
        _table(("Type de paiement", "Actif"), S.types, ("name", "active"), S.edit_type,
               "Aucun type de paiement pour l'instant (chèque, virement, espèces…).", "Créer un type de paiement"),
        spacing="3", width="100%",
    )


def methods_tab() -> rx.Component:
    def choice(rows, key: str, label_key: str, id: str) -> rx.Component:
        return rx.el.select(
            rx.foreach(rows, lambda r: rx.el.option(r[label_key], value=r["id"])),
            value=S.method.get(key, ""), on_change=lambda v: S.set_method_field(key, v), id=id,
            class_name=_SELECT, style={"width": "100%", "padding": "0 8px"},
        )

    return rx.vstack(
        rx.button(rx.icon("plus", size=14), "Nouveau moyen de paiement", on_click=S.edit_method("new"), id="new-method"),
        rx.text("« Prélèvement SEPA » sur un compte bancaire (avec son IBAN, et l'ICS de la société émettrice) : "
                "les prélèvements se font par le menu « Remises de prélèvements » (fichier pain.008 pour la banque). "
                "Sur un compte Mollie : depuis le bloc « Paiement » des factures.", size="2", color="gray"),
        rx.cond(S.method.length() > 0, rx.card(rx.vstack(
            rx.grid(
                labelled("Type de paiement", choice(S.types, "payment_type_id", "name", "method-type"),
                         S.method_errors.get("payment_type_id", "")),
                labelled("Compte", choice(S.accounts, "account_id", "name", "method-account"),
                         S.method_errors.get("account_id", "")),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
            ),
            _checkbox("Actif", S.method.get("active", "") == "1", lambda v: S.set_method_field("active", v), "method-active"),
            _buttons(S.save_method, S.close_method, "method-save"),
            spacing="3", width="100%",
        ), width="100%")),
        _table(("Moyen de paiement", "Type de paiement", "Compte", "Actif"), S.methods,
               ("label", "type", "account", "active"), S.edit_method,
               "Aucun moyen de paiement pour l'instant. Un moyen associe un type de paiement (chèque, virement…) "
               "à un compte ; il apparaît ensuite dans le bloc « Paiement » des factures.", "Créer un moyen de paiement"),
        spacing="3", width="100%",
    )
