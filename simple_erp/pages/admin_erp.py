"""Admin ERP: "1. Société émettrice", "2. Numérotation", "3. Produits", "4. Taux de TVA"."""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex.vars import Var
from reflex.vars.object import ObjectVar
from reflex.vars.sequence import ArrayVar

from simple_erp.components.forms import file_upload, labelled
from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.domain.documents import KIND_LABELS, PAYMENT_TERMS_LABELS, DocumentKind
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import decimal_places, format_decimal_fr, format_eur
from simple_erp.pages.admin_payments import (
    PaymentAdminState,
    accounts_tab,
    methods_tab,
    preferences_tab,
    types_tab,
)
from simple_erp.pages.mollie_key import MollieKeyMixin, mollie_key_card
from simple_erp.services import catalog, clock, companies, company_audit, numbering
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

COMPANY_ADMIN_ONLY = ("Réservé aux administrateurs : seul un administrateur peut modifier la société émettrice "
                      "(identité, coordonnées bancaires, logo).")


def _price(value) -> str:
    """12,50 € — or 0,1234 € when the price has more than two decimals."""
    return format_eur(value) if decimal_places(value) <= 2 else format_decimal_fr(value, None) + "\u00a0€"


def _flag(value: bool) -> str:
    return "1" if value else ""


class AdminErpState(MollieKeyMixin, AuthState):
    tab: str = "societe"
    companies: list[dict[str, str]] = []
    company_id: int = 0  # 0: a new company
    company: dict[str, str] = {}
    company_errors: dict[str, str] = {}
    company_changes: list[dict[str, str]] = []  # audit trail of identity and bank details
    patterns: dict[str, str] = {}
    pattern_errors: dict[str, str] = {}
    products: list[dict[str, str]] = []
    product_id: int = 0
    product: dict[str, str] = {}
    product_errors: dict[str, str] = {}
    vat_rates: list[dict[str, str]] = []
    vat_id: int = 0
    vat: dict[str, str] = {}
    vat_errors: dict[str, str] = {}

    # --- loading -----------------------------------------------------------------
    def _refresh(self, session) -> None:
        rows = companies.list_companies(session)
        self.companies = [
            {"id": str(c.id), "name": c.name, "city": c.city, "default": _flag(c.is_default)} for c in rows
        ]
        self.products = [
            {"id": str(p.id), "reference": p.reference, "name": p.name, "unit": p.unit,
             "price": _price(p.unit_price),
             "vat": format_decimal_fr(p.vat_rate, None) + " %", "active": "Oui" if p.active else "Non"}
            for p in catalog.list_products(session)
        ]
        self.vat_rates = [
            {"id": str(v.id), "rate": format_decimal_fr(v.rate, None) + " %", "label": v.label,
             "mention": v.exemption_mention, "active": "Oui" if v.active else "Non"}
            for v in catalog.list_vat_rates(session)
        ]
        if self.company_id:
            self.patterns = companies.numbering_patterns(session, self.company_id)
        self.company_changes = [
            {"at": c.at.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M"), "user": c.user_name, "field": c.label,
             "old": c.old_value or "—", "new": c.new_value or "—"}
            for c in (company_audit.list_changes(session, self.company_id) if self.company_id else [])
        ]
        self._show_mollie_key(session)

    @rx.event
    def load(self):
        if self._current_user() is None:
            return
        self.tab = "societe"
        with session_scope() as session:
            rows = companies.list_companies(session)
            chosen = next((c for c in rows if c.is_default), rows[0] if rows else None)
            self.company_id = chosen.id if chosen else 0
            self.company = companies.company_form(chosen) if chosen else companies.empty_company_form()
            self._refresh(session)
        self.company_errors, self.pattern_errors = {}, {}
        self.product_id, self.product, self.product_errors = 0, {}, {}
        self.vat_id, self.vat, self.vat_errors = 0, {}, {}

    @rx.event
    def set_tab(self, tab: str):
        self.tab = tab

    # --- 1. Société émettrice --------------------------------------------------------
    @rx.event
    def select_company(self, company_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        with session_scope() as session:
            if company_id == "new":
                self.company_id, self.company = 0, companies.empty_company_form()
            else:
                company = companies.get_company(session, int(company_id))
                self.company_id, self.company = company.id, companies.company_form(company)
            self._refresh(session)
        self.company_errors = {}
        return None

    @rx.event
    def set_company_field(self, name: str, value):
        self.company[name] = ("1" if value else "") if isinstance(value, bool) else str(value)
        self.company_errors.pop(name, None)

    @rx.event
    async def save_company(self):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        if not user.is_admin:  # the IBAN printed on every invoice: administrators only
            return rx.toast.error(COMPANY_ADMIN_ONLY)
        try:
            with session_scope() as session:
                company = companies.save_company(session, self.company_id or None, dict(self.company), changed_by=user)
                self.company_id, self.company = company.id, companies.company_form(company)
                self._refresh(session)
                notices = company_audit.take_iban_notices(session)
        except ValidationErrors as exc:
            self.company_errors = exc.errors
            return rx.toast.error("Société non enregistrée : corrigez les champs signalés.")
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.company_errors = {}
        if notices:  # the other administrators are told of an IBAN change (stored, then sent)
            await asyncio.to_thread(company_audit.send_iban_notices, session_scope, notices)
        return rx.toast.success("Société émettrice enregistrée.")

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        if not user.is_admin:
            return rx.toast.error(COMPANY_ADMIN_ONLY)
        if not files:  # every file was refused in the browser (logo_rejected says why)
            return None
        if not self.company_id:
            return rx.toast.error("Enregistrez d'abord la société, puis ajoutez son logo.")
        for upload in files[:1]:
            data = await upload.read()
            try:
                with session_scope() as session:
                    companies.set_logo(session, self.company_id, upload.filename or "logo", data, changed_by=user)
                    self._refresh(session)
                    self.company = companies.company_form(companies.get_company(session, self.company_id))
            except DomainError as exc:
                return rx.toast.error(exc.message)
        return rx.toast.success("Logo enregistré.")

    @rx.event
    def logo_rejected(self, codes: str):
        """The browser refused the file before sending it (too large, not PNG or JPEG);
        ``codes``: react-dropzone's error codes, comma-separated."""
        if "file-too-large" in codes.split(","):
            return rx.toast.error(f"Logo trop lourd : {companies.LOGO_MAX_BYTES // (1024 * 1024)} Mo au maximum.")
        return rx.toast.error("Le logo doit être une image PNG ou JPEG.")

    # --- 2. Numérotation --------------------------------------------------------------
    @rx.event
    def set_pattern(self, kind: str, value: str):
        self.patterns[kind] = value
        self.pattern_errors.pop(kind, None)

    @rx.event
    def save_patterns(self):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        if not self.company_id:
            return rx.toast.error("Créez d'abord une société émettrice.")
        try:
            with session_scope() as session:  # all or nothing: patterns are checked together
                numbering.save_patterns(session, self.company_id, dict(self.patterns))
        except ValidationErrors as exc:
            self.pattern_errors = exc.errors
            return rx.toast.error("Certains modèles de numéro sont invalides : rien n'a été enregistré.")
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.pattern_errors = {}
        return rx.toast.success("Numérotation enregistrée.")

    # --- 3. Produits ----------------------------------------------------------------------
    @rx.event
    def edit_product(self, product_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.product_errors = {}
        if product_id == "new":
            self.product_id = 0
            self.product = {"reference": "", "name": "", "description": "", "unit": "", "unit_price": "",
                            "vat_rate": "20", "active": "1", "kind": ""}
            return None
        with session_scope() as session:
            p = catalog.get_product(session, int(product_id))
        self.product_id = p.id
        self.product = {"reference": p.reference, "name": p.name, "description": p.description, "unit": p.unit,
                        "unit_price": format_decimal_fr(p.unit_price, None), "vat_rate": format_decimal_fr(p.vat_rate, None),
                        "active": _flag(p.active), "kind": p.kind or ""}
        return None

    @rx.event
    def set_product_field(self, name: str, value):
        self.product[name] = ("1" if value else "") if isinstance(value, bool) else str(value)
        self.product_errors.pop(name, None)

    @rx.event
    def save_product(self):
        _, refusal = self._staff_do(lambda s: catalog.save_product(s, self.product_id or None, dict(self.product)), after=self._refresh,
                                    errors_attr="product_errors", invalid="Produit non enregistré : corrigez les champs signalés.")
        if refusal:
            return refusal
        self.product_id, self.product, self.product_errors = 0, {}, {}
        return rx.toast.success("Produit enregistré.")

    @rx.event
    def close_product(self):
        self.product_id, self.product, self.product_errors = 0, {}, {}

    # --- 4. Taux de TVA -------------------------------------------------------------------
    @rx.event
    def edit_vat(self, vat_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.vat_errors = {}
        if vat_id == "new":
            self.vat_id, self.vat = 0, {"rate": "", "label": "", "exemption_mention": "", "active": "1"}
            return None
        with session_scope() as session:
            v = next((r for r in catalog.list_vat_rates(session) if str(r.id) == vat_id), None)
        if v is None:
            return rx.toast.error("Ce taux de TVA n'existe plus.")
        self.vat_id = v.id
        self.vat = {"rate": format_decimal_fr(v.rate, None), "label": v.label,
                    "exemption_mention": v.exemption_mention, "active": _flag(v.active)}
        return None

    @rx.event
    def set_vat_field(self, name: str, value):
        self.vat[name] = ("1" if value else "") if isinstance(value, bool) else str(value)
        self.vat_errors.pop(name, None)

    @rx.event
    def save_vat(self):
        _, refusal = self._staff_do(lambda s: catalog.save_vat_rate(s, self.vat_id or None, dict(self.vat)), after=self._refresh,
                                    errors_attr="vat_errors", invalid="Taux non enregistré : corrigez les champs signalés.")
        if refusal:
            return refusal
        self.vat_id, self.vat, self.vat_errors = 0, {}, {}
        return rx.toast.success("Taux de TVA enregistré.")

    @rx.event
    def close_vat(self):
        self.vat_id, self.vat, self.vat_errors = 0, {}, {}


KIND_CHOICES = [(k.value, KIND_LABELS[k]) for k in DocumentKind]
TERMS_CHOICES = [(terms.value, label) for terms, label in PAYMENT_TERMS_LABELS.items()]


def native_select(choices: list[tuple[str, str]], value, on_change, id: str, **props) -> rx.Component:
    """A plain <select>: simple to drive from tests and fine on tablets."""
    return rx.el.select(
        *[rx.el.option(label, value=key) for key, label in choices],
        value=value,
        on_change=on_change,
        id=id,
        class_name="rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface",
        style={"width": "100%", "padding": "0 8px"},
        **props,
    )


def _rejection_codes(rejected: Var) -> Var:
    """react-dropzone's rejections as "code,code" (plain text: the File objects stay in the browser)."""
    return (rejected.to(ArrayVar, list[dict])
            .map(lambda item: item.to(ObjectVar, dict)["errors"].to(ArrayVar, list[dict])
                 .map(lambda error: error.to(ObjectVar, dict)["code"].to(str)).join(","))
            .join(","))


def _cfield(name: str, label: str, hint: str = "", **props) -> rx.Component:
    return labelled(
        label,
        rx.input(
            value=AdminErpState.company.get(name, ""),
            on_change=lambda v: AdminErpState.set_company_field(name, v),
            id=f"company-{name.replace('_', '-')}",
            width="100%",
            **props,
        ),
        AdminErpState.company_errors.get(name, ""),
        hint=hint,
    )


def _grid(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="3", width="100%")


def _company_changes() -> rx.Component:
    """Who changed the identity or bank details, when, from what to what."""
    return rx.cond(AdminErpState.company_changes.length() > 0, rx.vstack(
        rx.heading("Historique des modifications", size="3"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Date", "Par", "Champ", "Avant", "Après")])),
            rx.table.body(rx.foreach(AdminErpState.company_changes, lambda c: rx.table.row(
                rx.table.cell(c["at"]), rx.table.cell(c["user"]), rx.table.cell(c["field"]),
                rx.table.cell(c["old"]), rx.table.cell(c["new"]), class_name="company-change"))),
            size="1", width="100%",
        ),
        spacing="2", width="100%", id="company-changes",
    ))


def company_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.foreach(
                AdminErpState.companies,
                lambda c: rx.button(
                    c["name"], rx.cond(c["default"] == "1", rx.badge("par défaut", size="1"), rx.fragment()),
                    variant=rx.cond(c["id"] == AdminErpState.company_id.to_string(), "solid", "soft"),
                    on_click=AdminErpState.select_company(c["id"]),
                ),
            ),
            rx.button(rx.icon("plus", size=14), "Nouvelle société", variant="outline", on_click=AdminErpState.select_company("new"), id="new-company"),
            wrap="wrap",
        ),
        rx.card(rx.vstack(
            rx.heading("Identité", size="3"),
            _grid(
                _cfield("name", "Raison sociale"), _cfield("legal_form", "Forme juridique", hint="SARL, SAS, EI…"),
                _cfield("capital", "Capital (€)"), _cfield("siren", "SIREN"), _cfield("siret", "SIRET"),
                _cfield("rcs_city", "RCS (ville)"),
                _cfield("rm_city", "RM (répertoire des métiers)", hint="Artisans : ville ou département de la chambre"),
                _cfield("vat_number", "TVA intracommunautaire"),
                labelled("Régime de TVA", native_select(
                    [("normal", "Normal"), ("franchise", "Franchise en base (art. 293 B du CGI)")],
                    AdminErpState.company.get("vat_regime", "normal"),
                    lambda v: AdminErpState.set_company_field("vat_regime", v), id="company-vat-regime")),
                _cfield("contact_email", "Email de contact", type="email"), _cfield("phone", "Téléphone"),
            ),
            rx.heading("Adresse", size="3"),
            _grid(_cfield("address_line1", "Adresse"), _cfield("address_line2", "Complément"),
                  _cfield("postal_code", "Code postal"), _cfield("city", "Ville"), _cfield("country", "Pays (code ISO)", max_length=2)),
            rx.heading("Banque et prélèvements", size="3"),
            _grid(_cfield("iban", "IBAN", auto_complete="off"), _cfield("bic", "BIC"),
                  _cfield("ics", "Numéro d'émetteur SEPA (ICS)", hint="Ex. FR72ZZZ123456"),
                  _cfield("rum_pattern", "Modèle de RUM (mandats SEPA)",
                          hint="Repères {year}, {yy}, {contact} et {seq} (obligatoire), ex. RUM-{year}-{seq:06d}")),
            rx.heading("Conditions de paiement et mentions", size="3"),
            _grid(
                labelled("Conditions de paiement par défaut", native_select(
                    TERMS_CHOICES, AdminErpState.company.get("payment_terms", "30_jours_net"),
                    lambda v: AdminErpState.set_company_field("payment_terms", v), id="company-payment-terms")),
                _cfield("late_penalty_rate", "Taux des pénalités de retard (%)"),
                _cfield("escompte_text", "Mention d'escompte"),
                labelled("Catégorie de l'opération par défaut", native_select(
                    [("biens", "Livraison de biens"), ("services", "Prestation de services"), ("mixte", "Mixte")],
                    AdminErpState.company.get("operation_category", "mixte"),
                    lambda v: AdminErpState.set_company_field("operation_category", v),
                    id="company-operation-category")),
            ),
            rx.checkbox("Option pour le paiement de la taxe d'après les débits",
                        checked=AdminErpState.company.get("vat_on_debits", "") == "1",
                        on_change=lambda v: AdminErpState.set_company_field("vat_on_debits", v),
                        id="company-vat-on-debits"),
            rx.hstack(
                rx.checkbox("Société par défaut", checked=AdminErpState.company.get("is_default", "") == "1",
                            on_change=lambda v: AdminErpState.set_company_field("is_default", v)),
            ),
            rx.hstack(
                file_upload(
                    "Logo de la société (PNG ou JPEG)",
                    rx.button("Choisir un logo (PNG ou JPEG)", variant="soft", type="button"),
                    id="logo-upload", accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"]},
                    max_files=1, max_size=companies.LOGO_MAX_BYTES, on_drop_rejected=lambda rejected: AdminErpState.logo_rejected(_rejection_codes(rejected)),
                    on_drop=AdminErpState.upload_logo(rx.upload_files(upload_id="logo-upload")),
                    border="none", padding="0",
                ),
                rx.text(AdminErpState.company.get("logo_filename", ""), size="2", color="gray", id="logo-filename"),
                align="center",
            ),
            rx.cond(~AuthState.user_is_admin, rx.text(COMPANY_ADMIN_ONLY, size="2", color="gray", id="company-admin-only")),
            rx.button("Enregistrer", on_click=AdminErpState.save_company, id="company-save",
                      disabled=~AuthState.user_is_admin),
            _company_changes(),
            spacing="3", width="100%",
        ), width="100%"),
        rx.cond(AdminErpState.company_id != 0, mollie_key_card(AdminErpState)),
        spacing="4", width="100%",
    )


def numbering_tab() -> rx.Component:
    return rx.card(rx.vstack(
        rx.text("Modèle de numéro par type de document, pour la société sélectionnée. "
                "Variables : {prefix}, {year}, {yy}, {seq} ou {seq:05d}. Exemple : F-2026-00042.", size="2", color="gray"),
        *[
            labelled(label, rx.input(value=AdminErpState.patterns.get(kind, ""),
                                     on_change=lambda v, kind=kind: AdminErpState.set_pattern(kind, v),
                                     id=f"pattern-{kind}", width="100%"),
                     AdminErpState.pattern_errors.get(kind, ""))
            for kind, label in KIND_CHOICES
        ],
        rx.button("Enregistrer", on_click=AdminErpState.save_patterns, id="patterns-save"),
        spacing="3", max_width="520px",
    ))


def _pfield(name: str, label: str, **props) -> rx.Component:
    return labelled(label, rx.input(value=AdminErpState.product.get(name, ""),
                                    on_change=lambda v: AdminErpState.set_product_field(name, v),
                                    id=f"product-{name.replace('_', '-')}", width="100%", **props),
                    AdminErpState.product_errors.get(name, ""))


def _vat_choices() -> rx.Component:
    return rx.el.select(
        rx.foreach(AdminErpState.vat_rates, lambda v: rx.el.option(v["rate"], value=v["rate"].replace(" %", ""))),
        value=AdminErpState.product.get("vat_rate", "20"),
        on_change=lambda v: AdminErpState.set_product_field("vat_rate", v),
        id="product-vat-rate",
        class_name="rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface",
        style={"width": "100%", "padding": "0 8px"},
    )


def products_tab() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("plus", size=14), "Nouveau produit", on_click=AdminErpState.edit_product("new"), id="new-product"),
        rx.cond(
            AdminErpState.product.length() > 0,
            rx.card(rx.vstack(
                _grid(_pfield("reference", "Référence"), _pfield("name", "Désignation"), _pfield("unit", "Unité"),
                      _pfield("unit_price", "Prix HT (€)"),
                      labelled("Taux de TVA (%)", _vat_choices(), AdminErpState.product_errors.get("vat_rate", "")),
                      labelled("Nature", native_select(
                          [("", "Non précisée"), ("bien", "Bien"), ("service", "Service")],
                          AdminErpState.product.get("kind", ""),
                          lambda v: AdminErpState.set_product_field("kind", v), id="product-kind"),
                          AdminErpState.product_errors.get("kind", ""))),
                labelled("Description", rx.text_area(value=AdminErpState.product.get("description", ""),
                                                     on_change=lambda v: AdminErpState.set_product_field("description", v),
                                                     width="100%", id="product-description")),
                rx.checkbox("Actif", checked=AdminErpState.product.get("active", "") == "1",
                            on_change=lambda v: AdminErpState.set_product_field("active", v)),
                rx.hstack(rx.button("Enregistrer", on_click=AdminErpState.save_product, id="product-save"),
                          rx.button("Annuler", variant="soft", color_scheme="gray", on_click=AdminErpState.close_product)),
                spacing="3", width="100%",
            ), width="100%"),
        ),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Référence", "Désignation", "Unité", "Prix HT", "TVA", "Actif", "")])),
            rx.table.body(rx.foreach(AdminErpState.products, lambda p: rx.table.row(
                rx.table.cell(p["reference"]), rx.table.cell(p["name"]), rx.table.cell(p["unit"]),
                rx.table.cell(p["price"]), rx.table.cell(p["vat"]), rx.table.cell(p["active"]),
                rx.table.cell(rx.button("Modifier", size="1", variant="ghost", on_click=AdminErpState.edit_product(p["id"]))),
            ))),
            width="100%", variant="surface",
        ),
        rx.cond(AdminErpState.products.length() == 0, empty_state(
            "Aucun produit pour l'instant. Un produit préremplit la désignation, le prix et la TVA des lignes de vos documents.",
            rx.button(rx.icon("plus", size=14), "Créer un produit", variant="soft", on_click=AdminErpState.edit_product("new")),
            id="products-empty",
        )),
        spacing="3", width="100%",
    )


def vat_tab() -> rx.Component:
    def vfield(name: str, label: str) -> rx.Component:
        return labelled(label, rx.input(value=AdminErpState.vat.get(name, ""), on_change=lambda v: AdminErpState.set_vat_field(name, v),
                                        id=f"vat-{name.replace('_', '-')}", width="100%"),
                        AdminErpState.vat_errors.get(name, ""))

    return rx.vstack(
        rx.button(rx.icon("plus", size=14), "Nouveau taux", on_click=AdminErpState.edit_vat("new")),
        rx.cond(
            AdminErpState.vat.length() > 0,
            rx.card(rx.vstack(
                _grid(vfield("rate", "Taux (%)"), vfield("label", "Libellé"), vfield("exemption_mention", "Mention d'exonération (taux 0 %)")),
                rx.checkbox("Actif", checked=AdminErpState.vat.get("active", "") == "1", on_change=lambda v: AdminErpState.set_vat_field("active", v)),
                rx.hstack(rx.button("Enregistrer", on_click=AdminErpState.save_vat),
                          rx.button("Annuler", variant="soft", color_scheme="gray", on_click=AdminErpState.close_vat)),
                spacing="3", width="100%",
            ), width="100%"),
        ),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Taux", "Libellé", "Mention d'exonération", "Actif", "")])),
            rx.table.body(rx.foreach(AdminErpState.vat_rates, lambda v: rx.table.row(
                rx.table.cell(v["rate"]), rx.table.cell(v["label"]), rx.table.cell(v["mention"]), rx.table.cell(v["active"]),
                rx.table.cell(rx.button("Modifier", size="1", variant="ghost", on_click=AdminErpState.edit_vat(v["id"]))),
            ))),
            width="100%", variant="surface",
        ),
        rx.cond(AdminErpState.vat_rates.length() == 0, empty_state(
            "Aucun taux de TVA pour l'instant. Ajoutez ceux que vous facturez (20 %, 10 %, 5,5 %…).",
            rx.button(rx.icon("plus", size=14), "Créer un taux", variant="soft", on_click=AdminErpState.edit_vat("new")),
            id="vat-empty",
        )),
        spacing="3", width="100%",
    )


def admin_erp_page() -> rx.Component:
    return staff_page(
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("1. Société émettrice", value="societe"),
                rx.tabs.trigger("2. Numérotation", value="numerotation"),
                rx.tabs.trigger("3. Produits", value="produits"),
                rx.tabs.trigger("4. Taux de TVA", value="tva"),
                rx.tabs.trigger("8. Préférences ERP", value="preferences"),
                rx.cond(PaymentAdminState.simple_paiement, rx.fragment(
                    rx.tabs.trigger("10. Comptes", value="comptes"),
                    rx.tabs.trigger("11. Types de paiement", value="types"),
                    rx.tabs.trigger("12. Moyens de paiement", value="moyens"),
                )),
                flex_wrap="wrap",
            ),
            rx.tabs.content(rx.box(company_tab(), padding_top="1em"), value="societe"),
            rx.tabs.content(rx.box(numbering_tab(), padding_top="1em"), value="numerotation"),
            rx.tabs.content(rx.box(products_tab(), padding_top="1em"), value="produits"),
            rx.tabs.content(rx.box(vat_tab(), padding_top="1em"), value="tva"),
            rx.tabs.content(rx.box(preferences_tab(), padding_top="1em"), value="preferences"),
            rx.tabs.content(rx.box(accounts_tab(), padding_top="1em"), value="comptes"),
            rx.tabs.content(rx.box(types_tab(), padding_top="1em"), value="types"),
            rx.tabs.content(rx.box(methods_tab(), padding_top="1em"), value="moyens"),
            value=AdminErpState.tab,
            on_change=AdminErpState.set_tab,
        ),
        title="Admin ERP",
    )
