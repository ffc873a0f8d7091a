"""The document editor (interaction ERP): header, contacts, lines, totals, actions, files."""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex.config import get_config
from reflex.event import EventSpec

from simple_erp.db import session_scope
from simple_erp.domain.documents import CREDIT_OVER_REMAINING_CONFIRMATION, PAYMENT_TERMS_LABELS
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import format_eur
from simple_erp.pages.email_form import EmailFormMixin, email_dialog, emails_block
from simple_erp.pages.payment_block import PaymentBlockMixin, payment_block
from simple_erp.pages.prenotice_block import prenotice_block
from simple_erp.pages.reminder_block import reminder_block
from simple_erp.services import catalog, clock, contacts, documents
from simple_erp.services.documents import editor as document_editor
from simple_erp.state import live
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

LINE_FIELDS = ("description", "quantity", "unit", "unit_price", "discount_percent", "vat_rate")


def _generate_pdf(doc_id: int):
    from simple_erp.providers.pdf import render_document_pdf

    with session_scope() as session:
        return documents.generate_pdf(session, doc_id, render_document_pdf).filename


class DocumentState(EmailFormMixin, PaymentBlockMixin, AuthState):
    doc_id: int = 0
    not_found: bool = False
    kind: str = ""
    title: str = ""
    editable: bool = True
    status_label: str = ""
    header: dict[str, str] = {}
    due_date_label: str = ""
    company_choices: list[list[str]] = []
    terms_choices: list[list[str]] = [[t.value, label] for t, label in PAYMENT_TERMS_LABELS.items()]
    vat_choices: list[str] = []
    linked: list[dict[str, str]] = []
    contact_results: list[dict[str, str]] = []
    product_results: list[dict[str, str]] = []
    lines: list[dict[str, str]] = []
    line_errors: dict[str, str] = {}
    total_ht: str = ""
    vat_rows: list[dict[str, str]] = []
    total_vat: str = ""
    total_ttc: str = ""
    vat_exempt: bool = False
    files: list[dict[str, str]] = []
    xml_file: dict[str, str] = {}  # the Factur-X XML alone of a finalised facture or avoir
    conversions: list[list[str]] = []
    can_credit: bool = False
    over_credit_warning: str = ""  # an avoir draft above what its invoice still carries
    confirm_over_credit: bool = False
    source_label: str = ""
    preview_html: str = ""
    preview_open: bool = False
    generating: bool = False
    # the 2026 reform's mentions: the category this document gets, the company's debit option
    category_choices: list[list[str]] = []
    category_shown: str = ""
    vat_on_debits_text: str = ""
    finalize_error: str = ""  # what finalisation lacks, shown under « Finaliser »

    def _reload(self, session) -> None:
        view = document_editor.editor_view(session, self.doc_id, get_config().api_url)
        for name in document_editor.field_names():
            setattr(self, name, getattr(view, name))
        if not self.editable:
            self.finalize_error = ""
        if not self.over_credit_warning:
            self.confirm_over_credit = False
        self._reload_payments(session)
        self._reload_emails(session)

    def _run(self, action, success: str = ""):
        """Checks the user, runs one service call in a transaction, reloads, reports."""
        result, refusal = self._staff_do(action, after=self._reload)
        if refusal:
            return refusal
        if isinstance(result, EventSpec):
            return result
        return rx.toast.success(success) if success else None

    @rx.event
    async def load(self):
        self.not_found, self.preview_open, self.line_errors = False, False, {}
        self.finalize_error = ""
        self.contact_results, self.product_results = [], []
        if self._current_user() is None:
            return
        try:
            self.doc_id = int(self.router.page.params.get("doc_id", "0"))
            with session_scope() as session:
                self._reload(session)
        except (ValueError, DomainError):
            self.not_found = True
            return
        await live.watch(self, self._live_topic())

    def _live_topic(self) -> str:
        return f"document:{self.doc_id}" if self.doc_id else ""

    async def _refresh_from_feed(self) -> None:
        """Another tab, user or a webhook changed this document: show it (the queries off the
        event loop; the state stays locked meanwhile)."""
        await asyncio.to_thread(self._refresh_now)

    def _refresh_now(self) -> None:
        if not self.doc_id or self._current_user() is None:
            return
        with session_scope() as session:
            self._reload(session)

    # --- header ------------------------------------------------------------------------
    @rx.event
    def set_header(self, key: str, value: str):
        self.header[key] = value
        return self._run(lambda s: documents.update_header(s, self.doc_id, dict(self.header)) and None)

    # --- contacts ----------------------------------------------------------------------
    @rx.event
    def search_contacts(self, query: str):
        if self._current_user() is None or len(query.strip()) < 2:
            self.contact_results = []
            return
        with session_scope() as session:
            page = contacts.search_contacts(session, query, 1, page_size=8)
        self.contact_results = [{"id": str(r.id), "name": r.display_name, "city": r.city} for r in page.rows]

    @rx.event
    def link_contact(self, contact_id: str):
        self.contact_results = []
        outcome = self._run(lambda s: documents.link_contact(s, self.doc_id, int(contact_id)))
        return [e for e in (outcome, rx.set_value("contact-search", "")) if e is not None]

    @rx.event
    def unlink_contact(self, contact_id: str):
        return self._run(lambda s: documents.unlink_contact(s, self.doc_id, int(contact_id)))

    # --- lines -----------------------------------------------------------------------------
    @rx.event
    def search_products(self, query: str):
        if self._current_user() is None or not query.strip():
            self.product_results = []
            return
        with session_scope() as session:
            found = catalog.search_products(session, query)
        self.product_results = [{"id": str(p.id), "label": f"{p.reference} — {p.name}",
                                 "price": format_eur(p.unit_price)} for p in found]

    @rx.event
    def add_product_line(self, product_id: str):
        self.product_results = []
        outcome = self._run(lambda s: documents.add_line(s, self.doc_id, int(product_id)))
        return [e for e in (outcome, rx.set_value("product-search", "")) if e is not None]

    @rx.event
    def add_free_line(self):
        return self._run(lambda s: documents.add_line(s, self.doc_id))

    @rx.event
    def update_line_field(self, line_id: str, field: str, value: str):
        if field not in LINE_FIELDS:
            return None
        line = next((l for l in self.lines if l["id"] == line_id), None)
        if line is None or line.get(field) == value:
            return None
        form = {k: line[k] for k in LINE_FIELDS} | {field: value}
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                documents.update_line(session, int(line_id), form)
        except ValidationErrors as exc:
            self.line_errors = {f"{line_id}.{k}": v for k, v in exc.errors.items()}
            return rx.toast.error(exc.message)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.line_errors = {}
        with session_scope() as session:
            self._reload(session)
        return None

    @rx.event
    def move_line(self, line_id: str, delta: int):
        return self._run(lambda s: documents.move_line(s, int(line_id), delta))

    @rx.event
    def delete_line(self, line_id: str):
        return self._run(lambda s: documents.delete_line(s, int(line_id)))

    # --- actions -------------------------------------------------------------------------
    @rx.event
    def show_preview(self):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        from simple_erp.providers.pdf import render_document_html

        try:
            with session_scope() as session:
                self.preview_html = render_document_html(documents.document_view(session, self.doc_id))
        except DomainError as exc:  # deleted meanwhile, or none loaded
            return rx.toast.error(exc.message)
        self.preview_open = True
        return None

    @rx.event
    def set_preview_open(self, value: bool):
        self.preview_open = value

    @rx.event
    def set_confirm_over_credit(self, value: bool):
        self.confirm_over_credit = bool(value)

    @rx.event
    def finalize(self):
        """Finalise; what is missing (seller, customer, dates…) stays shown under the button."""
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        confirm = self.confirm_over_credit
        try:
            with session_scope() as session:
                documents.finalize(session, self.doc_id, clock.today(), confirm)
        except DomainError as exc:
            self.finalize_error = exc.message
            return rx.toast.error(exc.message)
        self.finalize_error = ""
        with session_scope() as session:
            self._reload(session)
        return rx.toast.success("Document finalisé : son numéro est attribué.")

    @rx.event
    def convert(self, target: str):
        def action(session):
            new = documents.convert(session, self.doc_id, target, clock.today())
            return rx.redirect(f"/erp/document/{new.id}")
        return self._run(action)

    @rx.event
    def create_credit_note(self):
        def action(session):
            new = documents.create_credit_note(session, self.doc_id, clock.today())
            return rx.redirect(f"/erp/document/{new.id}")
        return self._run(action)

    @rx.event
    def delete_draft(self):
        _, refusal = self._staff_do(lambda s: documents.delete_draft(s, self.doc_id))
        return refusal or [rx.toast.success("Brouillon supprimé."), rx.redirect(f"/erp?type={self.kind}")]

    @rx.event(background=True)
    async def generate_pdf(self):
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            self.generating = True
            doc_id = self.doc_id
        try:
            filename = await asyncio.to_thread(_generate_pdf, doc_id)
        except DomainError as exc:
            async with self:
                self.generating = False
            yield rx.toast.error(exc.message)
            return
        except Exception:  # noqa: BLE001 - reported to the user, details in the log
            import logging

            logging.getLogger(__name__).exception("PDF generation failed for document %s", doc_id)
            async with self:
                self.generating = False
            yield rx.toast.error("La génération du PDF a échoué. Réessayez ; si cela persiste, contactez le support.")
            return
        async with self:
            self.generating = False
            with session_scope() as session:
                self._reload(session)
        yield rx.toast.success(f"PDF généré : {filename}")


# --- UI ------------------------------------------------------------------------------------

from simple_erp.components.forms import date_input, labelled, read_only  # noqa: E402
from simple_erp.components.layout import staff_page  # noqa: E402

_SELECT_CLASS = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"


def _select(options, value, on_change, id: str, disabled=False) -> rx.Component:
    return rx.el.select(
        rx.foreach(options, lambda o: rx.el.option(o[1], value=o[0])),
        value=value, on_change=on_change, id=id, disabled=disabled,
        class_name=_SELECT_CLASS, style={"width": "100%", "padding": "0 8px"},
    )


def header_block() -> rx.Component:
    s = DocumentState
    return rx.card(rx.grid(
        labelled("Société émettrice", _select(s.company_choices, s.header.get("company_id", ""),
                                              lambda v: s.set_header("company_id", v), "doc-company", ~s.editable)),
        labelled("Date d'émission", date_input(s.header.get("issue_date", ""), lambda v: s.set_header("issue_date", v),
                                               "doc-issue-date", on_blur_only=True, disabled=~s.editable, width="100%")),
        labelled("Date de livraison / prestation", date_input(s.header.get("delivery_date", ""),
                                                              lambda v: s.set_header("delivery_date", v), "doc-delivery-date",
                                                              on_blur_only=True, disabled=~s.editable, width="100%")),
        labelled("Conditions de paiement", _select(s.terms_choices, s.header.get("payment_terms", ""),
                                                   lambda v: s.set_header("payment_terms", v), "doc-terms", ~s.editable)),
        read_only("Date d'échéance", s.due_date_label, "doc-due-date"),
        columns=rx.breakpoints(initial="1", sm="2", lg="5"), spacing="3", width="100%",
    ), width="100%")


def _mention_input(key: str, label: str, width: str = "100%", **props) -> rx.Component:
    s = DocumentState
    return labelled(label, rx.input(default_value=s.header.get(key, ""), key=s.doc_id.to_string() + "-" + key,
                                    on_blur=lambda v: s.set_header(key, v), disabled=~s.editable,
                                    id=f"doc-{key.replace('_', '-')}", width=width, **props))


def mentions_block() -> rx.Component:
    """The 2026 reform's mentions: category of the operation, delivery address, debit option."""
    s = DocumentState
    return rx.card(rx.vstack(
        rx.heading("Mentions de la facture électronique", size="3"),
        rx.grid(
            labelled("Catégorie de l'opération", _select(s.category_choices, s.header.get("operation_category", ""),
                                                        lambda v: s.set_header("operation_category", v),
                                                        "doc-operation-category", ~s.editable)),
            read_only("Catégorie imprimée", s.category_shown, "doc-category-shown"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        rx.text("Adresse de livraison (si elle diffère de l'adresse de facturation du client)", size="2", weight="medium"),
        rx.grid(
            _mention_input("delivery_line1", "Adresse de livraison"),
            _mention_input("delivery_line2", "Complément (livraison)"),
            _mention_input("delivery_postal_code", "Code postal (livraison)"),
            _mention_input("delivery_city", "Ville (livraison)"),
            _mention_input("delivery_country", "Pays (livraison, code ISO)", max_length=2, placeholder="FR"),
            columns=rx.breakpoints(initial="1", sm="2", lg="5"), spacing="3", width="100%",
        ),
        rx.cond(s.vat_on_debits_text != "", rx.text(s.vat_on_debits_text, size="2", id="doc-vat-on-debits")),
        spacing="2", width="100%",
    ), width="100%")


def contacts_block() -> rx.Component:
    s = DocumentState
    return rx.card(rx.vstack(
        rx.heading("Contacts", size="3"),
        rx.hstack(
            rx.foreach(s.linked, lambda c: rx.badge(
                rx.link(c["name"], href="/contacts/" + c["id"]),
                rx.cond(s.editable, rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", radius="full",
                                                   on_click=s.unlink_contact(c["id"]), aria_label="Retirer " + c["name"],
                                                   class_name="unlink-contact"), rx.fragment()),
                size="2", variant="soft", class_name="linked-contact",
            )),
            rx.cond(s.linked.length() == 0, rx.text("Aucun contact lié.", size="2", color="gray")),
            wrap="wrap",
        ),
        rx.cond(s.editable, rx.vstack(
            rx.input(placeholder="Lier un contact : tapez son nom…", id="contact-search", aria_label="Lier un contact",
                     on_change=s.search_contacts.debounce(250), width="100%", max_width="420px"),
            rx.foreach(s.contact_results, lambda c: rx.button(
                c["name"], rx.text(c["city"], size="1", color="gray"), variant="ghost", size="2",
                on_click=s.link_contact(c["id"]), class_name="contact-result")),
            spacing="1", width="100%",
        )),
        spacing="2", width="100%",
    ), width="100%")


# Each line field is named by its column and its line number: « Quantité ligne 2 ».
LINE_FIELD_NAMES = {"description": "Désignation", "quantity": "Quantité", "unit": "Unité", "unit_price": "Prix unitaire HT",
                    "discount_percent": "Remise %", "vat_rate": "Taux de TVA"}


def _line_name(field: str, index) -> rx.Var:
    return LINE_FIELD_NAMES[field] + " ligne " + (index + 1).to_string()


def _line_input(line: rx.Var, index, field: str, width: str, align: str = "right") -> rx.Component:
    return rx.input(
        default_value=line[field], key=line["id"] + "-" + field + "-" + line[field],
        on_blur=lambda v: DocumentState.update_line_field(line["id"], field, v),
        disabled=~DocumentState.editable, width=width, min_width=width, text_align=align, size="2",
        class_name=f"line-{field.replace('_', '-')}", aria_label=_line_name(field, index),
    )


def _line_row(line: rx.Var, index) -> rx.Component:
    s = DocumentState
    return rx.table.row(
        rx.table.cell(rx.text_area(
            default_value=line["description"], key=line["id"] + "-d-" + line["description"],
            on_blur=lambda v: s.update_line_field(line["id"], "description", v), disabled=~s.editable,
            rows="2", min_width="16em", size="1", class_name="line-description",
            aria_label=_line_name("description", index))),
        rx.table.cell(_line_input(line, index, "quantity", "6.5em")),
        rx.table.cell(_line_input(line, index, "unit", "7em", "left")),
        rx.table.cell(_line_input(line, index, "unit_price", "8em")),
        rx.table.cell(_line_input(line, index, "discount_percent", "5.5em")),
        rx.table.cell(rx.el.select(
            rx.foreach(s.vat_choices, lambda r: rx.el.option(r + " %", value=r)),
            value=line["vat_rate"], disabled=~s.editable,
            on_change=lambda v: s.update_line_field(line["id"], "vat_rate", v), aria_label=_line_name("vat_rate", index),
            class_name=_SELECT_CLASS + " line-vat-rate", style={"padding": "0 6px"})),
        rx.table.cell(rx.text(line["total_ht"], white_space="nowrap", class_name="line-total"), text_align="right"),
        rx.table.cell(rx.cond(s.editable, rx.hstack(
            rx.icon_button(rx.icon("arrow-up", size=14), size="1", variant="ghost", on_click=s.move_line(line["id"], -1),
                           aria_label="Monter la ligne " + (index + 1).to_string()),
            rx.icon_button(rx.icon("arrow-down", size=14), size="1", variant="ghost", on_click=s.move_line(line["id"], 1),
                           aria_label="Descendre la ligne " + (index + 1).to_string()),
            rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                           on_click=s.delete_line(line["id"]), aria_label="Supprimer la ligne " + (index + 1).to_string()),
            spacing="1"))),
        class_name="document-line",
    )


def lines_block() -> rx.Component:
    s = DocumentState
    return rx.card(rx.vstack(
        rx.heading("Lignes", size="3"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("Désignation", "Qté", "Unité", "PU HT", "Remise %", "TVA", "Total HT", "")])),
            rx.table.body(rx.foreach(s.lines, _line_row)),
            width="100%", size="1",
        ), overflow_x="auto", width="100%"),
        rx.cond(s.lines.length() == 0, rx.text(
            "Aucune ligne pour l'instant : ajoutez un produit ou une « Ligne libre ».", size="2", color="gray",
            id="lines-empty")),
        rx.cond(s.editable, rx.flex(
            rx.input(placeholder="Ajouter un produit : référence ou désignation…", id="product-search", aria_label="Ajouter un produit",
                     on_change=s.search_products.debounce(250), width="100%", max_width="420px"),
            rx.button(rx.icon("plus", size=14), "Ligne libre", variant="soft", on_click=s.add_free_line, id="add-free-line"),
            spacing="2", wrap="wrap", width="100%",
        )),
        rx.foreach(s.product_results, lambda p: rx.button(
            p["label"], rx.text(p["price"], size="1", color="gray"), variant="ghost", size="2",
            on_click=s.add_product_line(p["id"]), class_name="product-result")),
        rx.cond(s.line_errors.length() > 0, rx.vstack(rx.foreach(s.line_errors.values(), lambda m: rx.text(m, color="red", size="2")))),
        spacing="2", width="100%",
    ), width="100%")


def totals_block() -> rx.Component:
    s = DocumentState
    row = lambda label, value, id_, weight="regular": rx.hstack(  # noqa: E731
        rx.text(label, weight=weight), rx.spacer(), rx.text(value, weight=weight, id=id_), width="100%")
    return rx.card(rx.vstack(
        row("Total HT", s.total_ht, "total-ht"),
        rx.foreach(s.vat_rows, lambda r: rx.hstack(rx.text(r["label"]), rx.spacer(), rx.text(r["vat"]), width="100%", class_name="vat-row")),
        rx.cond(s.vat_exempt, rx.text("TVA non applicable, art. 293 B du CGI", size="2", color="gray")),
        row("Total TVA", s.total_vat, "total-vat"),
        row("Total TTC", s.total_ttc, "total-ttc", "bold"),
        spacing="2", width="100%",
    ), width="100%", max_width="420px", margin_left="auto")


def actions_block() -> rx.Component:
    s = DocumentState
    return rx.card(rx.vstack(
        rx.heading("Action", size="3"),
        rx.flex(
            rx.button(rx.icon("eye", size=14), "Aperçu", variant="soft", on_click=s.show_preview, id="preview"),
            rx.button(rx.icon("file-text", size=14), "Générer le PDF", on_click=s.generate_pdf, loading=s.generating, id="generate-pdf"),
            rx.button(rx.icon("mail", size=14), "Envoyer par email", variant="soft", on_click=s.open_email_form, id="email-open"),
            rx.cond(s.editable, rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Finaliser", color_scheme="green", id="finalize")),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Finaliser le document ?"),
                    rx.alert_dialog.description("Un numéro définitif lui sera attribué et il ne pourra plus être modifié."),
                    rx.cond(s.over_credit_warning != "", rx.vstack(
                        rx.text(s.over_credit_warning, color="orange", size="2"),
                        rx.checkbox(CREDIT_OVER_REMAINING_CONFIRMATION, checked=s.confirm_over_credit,
                                    on_change=s.set_confirm_over_credit, id="confirm-over-credit"),
                        spacing="2", padding_y="0.5em")),
                    rx.flex(rx.alert_dialog.cancel(rx.button("Annuler", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(rx.button("OK", on_click=s.finalize)), spacing="3", justify="end"),
                ),
            )),
            rx.cond(s.editable & (s.finalize_error != ""),
                    rx.callout(s.finalize_error, color_scheme="red", icon="triangle_alert", size="1",
                               id="finalize-error", role="alert", width="100%")),
            rx.foreach(s.conversions, lambda c: rx.button(c[1], variant="outline", on_click=s.convert(c[0]))),
            rx.cond(s.editable & (s.over_credit_warning != ""),
                    rx.text(s.over_credit_warning, color="orange", size="2", id="over-credit-warning")),
            rx.cond(s.can_credit, rx.button("Créer un avoir", variant="outline", color_scheme="orange", on_click=s.create_credit_note)),
            rx.cond(s.editable, rx.button("Supprimer le brouillon", variant="ghost", color_scheme="red", on_click=s.delete_draft)),
            spacing="2", wrap="wrap",
        ),
        spacing="2", width="100%",
    ), width="100%")


def files_block() -> rx.Component:
    s = DocumentState
    return rx.card(rx.vstack(
        rx.heading("Fichiers", size="3"),
        rx.cond(s.files.length() == 0, rx.text("Aucun fichier. « Générer le PDF » en ajoute un.", size="2", color="gray")),
        rx.table.root(rx.table.body(rx.foreach(s.files, lambda f: rx.table.row(
            rx.table.cell(rx.link(f["name"], href=f["url"], is_external=True, class_name="file-link")),
            rx.table.cell(f["date"]), rx.table.cell(f["size"]),
            class_name="file-row",
        ))), width="100%", size="1"),
        rx.cond(s.xml_file.get("url", "") != "", rx.hstack(
            rx.el.a(s.xml_file["name"], href=s.xml_file["url"], id="facturx-xml-link",
                    style={"color": "var(--accent-11)", "text_decoration": "underline", "font_size": "14px"}),
            rx.text("XML Factur-X (CII, EN 16931), le même que celui du PDF", size="1", color="gray"),
            align="center", wrap="wrap")),
        spacing="2", width="100%",
    ), width="100%")


def preview_dialog() -> rx.Component:
    s = DocumentState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Aperçu"),
            rx.box(rx.html(s.preview_html), id="preview-content", background="white", color="black", padding="1em"),
            rx.dialog.close(rx.button("Fermer", variant="soft", margin_top="1em")),
            max_width="900px",
        ),
        open=s.preview_open,
        on_open_change=s.set_preview_open,
    )


def document_page() -> rx.Component:
    s = DocumentState
    return staff_page(
        rx.cond(
            s.not_found,
            rx.callout("Ce document n'existe pas.", color_scheme="red", icon="triangle_alert"),
            rx.vstack(
                rx.hstack(
                    rx.link("← Liste", href="/erp?type=" + s.kind, size="2"),
                    rx.heading(s.title, size="5", id="document-title"),
                    rx.badge(s.status_label, color_scheme=rx.cond(s.editable, "gray", "green"), id="document-status"),
                    rx.text(s.source_label, size="2", color="gray"),
                    align="center", wrap="wrap",
                ),
                header_block(), contacts_block(), mentions_block(), lines_block(), totals_block(), payment_block(DocumentState),
                prenotice_block(), reminder_block(),
                labelled("Notes", rx.text_area(default_value=s.header.get("notes", ""), key=s.doc_id.to_string() + "-notes",
                                               on_blur=lambda v: s.set_header("notes", v), disabled=~s.editable,
                                               width="100%", id="doc-notes")),
                actions_block(), files_block(), emails_block(DocumentState), preview_dialog(), email_dialog(DocumentState),
                spacing="4", width="100%",
            ),
        ),
        title="Document",
    )
