"""A fiche contact: view, "Modifier la fiche contact", create."""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex.config import get_config
from sqlalchemy.orm import object_session

from simple_erp.components.forms import date_input, error_text, labelled
from simple_erp.components.layout import staff_page
from simple_erp.db import session_scope
from simple_erp.domain.contact_rules import bic_from_iban, format_iban
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import format_size_fr
from simple_erp.domain.sepa import MANDATE_TYPES, mandate_type_label
from simple_erp.services import clock, companies, contacts, emails, sepa_mandates, signed_urls
from simple_erp.pages.reminder_block import contact_exclusion_switch
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

_SELECT = "rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface"




def _generate_mandate(contact_id: int, company_id: int | None) -> str:
    with session_scope() as session:
        return sepa_mandates.generate_mandate(session, contact_id, today=clock.today(),
                                              company_id=company_id).filename


def _queue_contact_email(user_id: int, contact_id: int, fields: dict, file_ids: list[int]) -> int:
    with session_scope() as session:
        return sepa_mandates.queue_contact_email(session, user_id, contact_id, file_ids=file_ids, **fields)


class ContactState(AuthState):
    current_id: int = 0
    editing: bool = False
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    # Display values of the saved contact (the IBAN only masked).
    view: dict[str, str] = {}
    mandate_complete: bool = False
    not_found: bool = False
    # « Fichiers » of the fiche contact (the SEPA mandate forms) and its emails.
    files: list[dict[str, str]] = []
    mandate_generating: bool = False
    # The creditor of « Générer le mandat SEPA » when there are several issuing companies.
    mandate_companies: list[list[str]] = []
    mandate_company_id: str = ""
    mail_open: bool = False
    mail_to: str = ""
    mail_cc: str = ""
    mail_subject: str = ""
    mail_body: str = ""
    mail_files: list[list[str]] = []
    mail_checked: list[str] = []
    mail_errors: dict[str, str] = {}
    mail_sending: bool = False
    mail_rows: list[dict[str, str]] = []

    def _show(self, contact) -> None:
        data = contacts.contact_input(contact)
        shown = contacts.form_from_input(data)
        shown["iban"] = contact.iban_masked
        shown["kind"] = contacts.KIND_LABELS.get(data.kind, data.kind)
        shown["display_name"] = contact.display_name
        if data.mandate_signed_on:
            shown["mandate_signed_on"] = data.mandate_signed_on.strftime("%d/%m/%Y")
        shown["mandate_type"] = mandate_type_label(data.mandate_type)
        self.view = shown
        self.mandate_complete = contact.mandate_complete
        self.current_id = contact.id
        session = object_session(contact)
        if session is not None:
            self._load_files(session)

    def _load_files(self, session) -> None:
        self.mandate_companies = [[str(c.id), c.name] for c in companies.list_companies(session)]
        if self.mandate_company_id not in {c[0] for c in self.mandate_companies}:
            self.mandate_company_id = self.mandate_companies[0][0] if self.mandate_companies else ""
        api = get_config().api_url.rstrip("/")
        self.files = [
            {"id": str(f.id), "name": f.filename, "size": format_size_fr(f.size),
             "date": f.created_at.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M"),
             "url": f"{api}/api/contact-files/{f.id}?t={signed_urls.sign('contact-file', f.id)}"}
            for f in sepa_mandates.list_files(session, self.current_id)
        ]
        self.mail_rows = [
            {"id": str(m.id), "date": m.created_at.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M"),
             "to": m.to_addrs, "subject": m.subject, "attachments": ", ".join(names),
             "status_label": emails.STATUS_LABELS.get(m.status, m.status), "error": m.error}
            for m, names in sepa_mandates.contact_emails(session, self.current_id)
        ]

    @rx.event(background=True)
    async def generate_mandate(self):
        """« Générer le mandat SEPA »: the RUM when missing, then the PDF in « Fichiers »."""
        async with self:
            if self._current_user() is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            contact_id, self.mandate_generating = self.current_id, True
            company_id = int(self.mandate_company_id) if self.mandate_company_id.isdigit() else None
        try:
            filename = await asyncio.to_thread(_generate_mandate, contact_id, company_id)
        except DomainError as exc:
            async with self:
                self.mandate_generating = False
            yield rx.toast.error(exc.message, duration=15000)
            return
        async with self:
            self.mandate_generating = False
            with session_scope() as session:
                self._show(contacts.get_contact(session, contact_id))
        yield rx.toast.success(f"Mandat SEPA généré : {filename} (dans « Fichiers »).")

    @rx.event
    def set_mandate_company(self, value: str):
        self.mandate_company_id = value

    @rx.event
    def open_mail(self):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                defaults = sepa_mandates.email_defaults(session, self.current_id, user.id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.mail_to, self.mail_cc, self.mail_subject, self.mail_body = defaults.to, "", defaults.subject, defaults.body
        self.mail_files = [[str(i), name] for i, name in defaults.files]
        self.mail_checked = [str(i) for i in defaults.default_file_ids]
        self.mail_errors, self.mail_open = {}, True
        return None

    @rx.event
    def set_mail_open(self, value: bool):
        self.mail_open = value

    @rx.event
    def set_mail_field(self, name: str, value: str):
        if name in {"to", "cc", "subject", "body"}:
            setattr(self, f"mail_{name}", value)
            self.mail_errors.pop(name, None)

    @rx.event
    def toggle_mail_file(self, file_id: str, checked: bool):
        others = [f for f in self.mail_checked if f != file_id]
        self.mail_checked = [*others, file_id] if checked else others

    @rx.event(background=True)
    async def send_mail(self):
        async with self:
            user = self._current_user()
            if user is None:
                yield rx.toast.error(SESSION_EXPIRED)
                return
            contact_id = self.current_id
            fields = {"to": self.mail_to, "cc": self.mail_cc, "subject": self.mail_subject, "body": self.mail_body}
            file_ids = [int(f) for f in self.mail_checked]
            self.mail_sending, self.mail_errors = True, {}
        try:
            message_id = await asyncio.to_thread(_queue_contact_email, user.id, contact_id, fields, file_ids)
        except ValidationErrors as exc:
            async with self:
                self.mail_sending, self.mail_errors = False, exc.errors
            yield rx.toast.error(exc.message)
            return
        except DomainError as exc:
            async with self:
                self.mail_sending = False
            yield rx.toast.error(exc.message)
            return
        status = await asyncio.to_thread(emails.send_queued, session_scope, message_id)
        async with self:
            self.mail_sending = False
            with session_scope() as session:
                self._load_files(session)
            if status == "envoye":
                self.mail_open = False
        if status == "envoye":
            yield rx.toast.success("Email envoyé.")
        else:
            error = next((r["error"] for r in self.mail_rows if r["id"] == str(message_id)), "")
            yield rx.toast.error(error or "L'email n'est pas parti : il reste enregistré.", duration=15000)

    @rx.event
    def load_contact(self):
        self.editing, self.errors, self.form, self.not_found = False, {}, {}, False
        if self._current_user() is None:
            return
        try:
            contact_id = int(self.router.page.params.get("contact_id", "0"))
            with session_scope() as session:
                self._show(contacts.get_contact(session, contact_id))
        except (ValueError, DomainError):
            self.not_found, self.view, self.current_id = True, {}, 0

    @rx.event
    def load_new(self):
        if self._current_user() is None:
            return
        self.current_id, self.view, self.mandate_complete, self.not_found = 0, {}, False, False
        self.files, self.mail_rows = [], []
        self.form, self.errors, self.editing = contacts.empty_form(), {}, True

    @rx.event
    def start_edit(self):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            with session_scope() as session:
                data = contacts.contact_input(contacts.get_contact(session, self.current_id))
        except DomainError as exc:  # deleted meanwhile, or none loaded
            return rx.toast.error(exc.message)
        self.form = contacts.form_from_input(data)
        self.form["iban"] = format_iban(self.form["iban"])
        self.errors, self.editing = {}, True
        return None

    @rx.event
    def cancel_edit(self):
        self.form, self.errors, self.editing = {}, {}, False
        if self.current_id == 0:
            return rx.redirect("/contacts")
        return None

    @rx.event
    def set_field(self, name: str, value: str):
        if name in contacts.FORM_FIELDS:
            self.form[name] = value
            self.errors.pop(name, None)

    @rx.event
    def derive_bic(self):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            self.form["bic"] = bic_from_iban(self.form.get("iban", ""))
            self.errors.pop("bic", None)
            self.errors.pop("iban", None)
        except DomainError as exc:
            self.errors[exc.field or "bic"] = exc.message
        return None

    @rx.event
    def save(self):
        def action(session):
            data = contacts.input_from_form(self.form)
            if self.current_id:
                contact = contacts.update_contact(session, self.current_id, data, clock.today())
            else:
                contact = contacts.create_contact(session, data, clock.today())
            self._show(contact)

        _, refusal = self._staff_do(action, errors_attr="errors",
                                    invalid="Fiche non enregistrée : corrigez les champs signalés.")
        if refusal:
            return refusal
        was_new = self.router.page.path.endswith("/nouveau")
        self.form, self.errors, self.editing = {}, {}, False
        events = [rx.toast.success("Fiche contact enregistrée.")]
        if was_new:
            events.append(rx.redirect(f"/contacts/{self.current_id}"))
        return events


def _input(name: str, label: str, hint: str = "", **props) -> rx.Component:
    return labelled(
        label,
        rx.input(
            value=ContactState.form.get(name, ""),
            on_change=lambda value: ContactState.set_field(name, value),
            id=f"contact-{name.replace('_', '-')}",
            width="100%",
            **props,
        ),
        ContactState.errors.get(name, ""),
        hint=hint,
    )


def _section(title: str, *children: rx.Component, columns: str = "2") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="3"),
            rx.grid(*children, columns=rx.breakpoints(initial="1", sm=columns), spacing="3", width="100%"),
            spacing="3",
        ),
        width="100%",
    )


def contact_form() -> rx.Component:
    is_company = ContactState.form.get("kind", "") == "entreprise"
    return rx.vstack(
        _section(
            "Identité",
            rx.vstack(
                rx.text("Type", size="2", weight="medium", id="contact-kind-label"),
                rx.radio_group.root(
                    rx.flex(
                        *[rx.el.label(rx.flex(rx.radio_group.item(value=value, id=f"kind-{value}"), rx.text(word, size="2"),
                                              spacing="2", align="center"),
                                      html_for=f"kind-{value}", cursor="pointer")
                          for value, word in (("entreprise", "Entreprise"), ("particulier", "Particulier"))],
                        spacing="4", align="center",
                    ),
                    value=ContactState.form.get("kind", "entreprise"),
                    on_change=lambda value: ContactState.set_field("kind", value),
                    aria_labelledby="contact-kind-label",
                ),
                error_text(ContactState.errors.get("kind", "")),
                spacing="1", width="100%",
            ),
            rx.cond(is_company, _input("company_name", "Raison sociale"), rx.fragment()),
            _input("last_name", "Nom"),
            _input("first_name", "Prénom"),
            _input("email", "Email", type="email"),
            _input("phone", "Téléphone", type="tel"),
            rx.cond(is_company, _input("siren", "SIREN"), rx.fragment()),
            rx.cond(is_company, _input("vat_number", "Numéro de TVA intracommunautaire"), rx.fragment()),
        ),
        _section(
            "Adresse",
            _input("address_line1", "Adresse"),
            _input("address_line2", "Complément d'adresse"),
            _input("postal_code", "Code postal"),
            _input("city", "Ville"),
            _input("country", "Pays (code ISO)", max_length=2),
        ),
        _section(
            "Mandat de prélèvement SEPA",
            rx.vstack(
                _input("iban", "IBAN", auto_complete="off"),
                rx.button("Déduire le BIC de l'IBAN", on_click=ContactState.derive_bic, variant="soft", size="1", type="button", id="derive-bic"),
                width="100%",
            ),
            _input("bic", "BIC", auto_complete="off"),
            _input("rum", "Réf mandat SEPA", hint="Référence unique du mandat (RUM), 35 caractères au plus."),
            labelled("Date de signature mandat SEPA",
                     date_input(ContactState.form.get("mandate_signed_on", ""),
                                lambda value: ContactState.set_field("mandate_signed_on", value),
                                "contact-mandate-signed-on", width="100%"),
                     ContactState.errors.get("mandate_signed_on", "")),
            labelled("Type de mandat SEPA",
                     rx.el.select(*[rx.el.option(label, value=key) for key, label in MANDATE_TYPES.items()],
                                  value=ContactState.form.get("mandate_type", "recurrent"),
                                  on_change=lambda value: ContactState.set_field("mandate_type", value),
                                  id="contact-mandate-type", class_name=_SELECT,
                                  style={"width": "100%", "padding": "0 8px"}),
                     ContactState.errors.get("mandate_type", "")),
        ),
        rx.card(
            labelled(
                "Notes",
                rx.text_area(
                    value=ContactState.form.get("notes", ""),
                    on_change=lambda value: ContactState.set_field("notes", value),
                    id="contact-notes", width="100%", rows="4",
                ),
                ContactState.errors.get("notes", ""),
            ),
            width="100%",
        ),
        rx.hstack(
            rx.button("Enregistrer", on_click=ContactState.save, id="contact-save"),
            rx.button("Annuler", on_click=ContactState.cancel_edit, variant="soft", color_scheme="gray", type="button"),
        ),
        spacing="4",
        width="100%",
    )


def mandate_badge(complete) -> rx.Component:
    return rx.cond(
        complete,
        rx.badge("Mandat SEPA complet", color_scheme="green", class_name="mandate-badge"),
        rx.badge("Pas de mandat SEPA", color_scheme="gray", class_name="mandate-badge"),
    )


def _row(label: str, key: str) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label),
        rx.data_list.value(rx.text(ContactState.view.get(key, ""), id=f"view-{key.replace('_', '-')}")),
    )


def contact_view() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(ContactState.view.get("display_name", ""), size="5", id="contact-title"),
            mandate_badge(ContactState.mandate_complete),
            align="center",
            wrap="wrap",
        ),
        rx.hstack(
            rx.button("Modifier la fiche contact", on_click=ContactState.start_edit, id="edit-contact"),
            rx.button("Générer le mandat SEPA", on_click=ContactState.generate_mandate, variant="soft",
                      loading=ContactState.mandate_generating, id="generate-mandate"),
            rx.cond(ContactState.mandate_companies.length() > 1, labelled(
                "Créancier du mandat", rx.el.select(
                    rx.foreach(ContactState.mandate_companies, lambda c: rx.el.option(c[1], value=c[0])),
                    value=ContactState.mandate_company_id, on_change=ContactState.set_mandate_company,
                    id="mandate-company", class_name=_SELECT, style={"padding": "0 8px"}))),
            rx.button("Envoyer par email", on_click=ContactState.open_mail, variant="soft", id="contact-send-email"),
            wrap="wrap", align="end",
        ),
        rx.grid(
            rx.card(
                rx.data_list.root(
                    _row("Type", "kind"), _row("Email", "email"), _row("Téléphone", "phone"),
                    _row("Adresse", "address_line1"), _row("Complément", "address_line2"),
                    _row("Code postal", "postal_code"), _row("Ville", "city"), _row("Pays", "country"),
                    _row("SIREN", "siren"), _row("TVA intracommunautaire", "vat_number"),
                ),
            ),
            rx.card(
                rx.data_list.root(
                    _row("IBAN", "iban"), _row("BIC", "bic"), _row("Réf mandat SEPA", "rum"),
                    _row("Date de signature mandat SEPA", "mandate_signed_on"),
                    _row("Type de mandat SEPA", "mandate_type"), _row("Notes", "notes"),
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        contact_exclusion_switch(),
        contact_files_block(),
        contact_mail_dialog(),
        spacing="4",
        width="100%",
    )


def contact_files_block() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Fichiers", size="3"),
        rx.cond(ContactState.files.length() == 0, rx.text(
            "Aucun fichier : « Générer le mandat SEPA » y ajoute le formulaire de mandat à faire signer.",
            size="2", color="gray", id="contact-files-empty")),
        rx.foreach(ContactState.files, lambda f: rx.hstack(
            rx.link(f["name"], href=f["url"], is_external=True, class_name="contact-file-link"),
            rx.text(f["date"], size="1", color="gray"), rx.text(f["size"], size="1", color="gray"),
            align="center", class_name="contact-file-row")),
        rx.cond(ContactState.mail_rows.length() > 0, rx.vstack(
            rx.heading("Emails envoyés", size="3"),
            rx.foreach(ContactState.mail_rows, lambda r: rx.hstack(
                rx.text(r["date"], size="2"), rx.text(r["to"], size="2"), rx.text(r["subject"], size="2"),
                rx.text(r["attachments"], size="2", color="gray"),
                rx.badge(r["status_label"], class_name="contact-email-status"),
                rx.text(r["error"], size="1", color="red"), wrap="wrap", align="center", class_name="contact-email-row")),
            spacing="2", width="100%")),
        spacing="2", width="100%",
    ), width="100%")


def contact_mail_dialog() -> rx.Component:
    err = ContactState.mail_errors

    def field(name: str, label: str) -> rx.Component:
        return labelled(label, rx.input(value=getattr(ContactState, f"mail_{name}"), width="100%",
                                        id=f"contact-email-{name}",
                                        on_change=lambda v: ContactState.set_mail_field(name, v)), err.get(name, ""))

    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Envoyer par email"),
        rx.vstack(
            field("to", "Destinataire"), field("cc", "Copie (cc)"), field("subject", "Sujet"),
            labelled("Texte", rx.text_area(value=ContactState.mail_body, rows="9", width="100%", id="contact-email-body",
                                           on_change=lambda v: ContactState.set_mail_field("body", v)),
                     err.get("body", "")),
            rx.text("Pièces jointes", weight="medium", size="2"),
            rx.cond(ContactState.mail_files.length() == 0,
                    rx.text("Aucun fichier : générez d'abord le mandat SEPA.", size="2", color="gray")),
            rx.foreach(ContactState.mail_files, lambda f: rx.el.label(rx.hstack(
                rx.checkbox(checked=ContactState.mail_checked.contains(f[0]),
                            on_change=lambda v: ContactState.toggle_mail_file(f[0], v), class_name="contact-email-file"),
                rx.text(f[1], size="2"), align="center"))),
            error_text(err.get("files", "")),
            rx.hstack(
                rx.button("Envoyer l'email avec les pièces jointes cochées", on_click=ContactState.send_mail,
                          loading=ContactState.mail_sending, id="contact-email-send"),
                rx.dialog.close(rx.button("Fermer", variant="soft", color_scheme="gray")),
            ),
            spacing="3", width="100%",
        ),
        max_width="760px",
    ), open=ContactState.mail_open, on_open_change=ContactState.set_mail_open)


def contact_page() -> rx.Component:
    return staff_page(
        rx.link("← Contacts", href="/contacts", size="2"),
        rx.cond(
            ContactState.not_found,
            rx.callout("Ce contact n'existe pas.", color_scheme="red", icon="triangle_alert"),
            rx.cond(ContactState.editing, contact_form(), contact_view()),
        ),
        title="Fiche contact",
    )


def new_contact_page() -> rx.Component:
    return staff_page(rx.link("← Contacts", href="/contacts", size="2"), contact_form(), title="Nouveau contact")
