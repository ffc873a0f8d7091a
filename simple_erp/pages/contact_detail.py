"""A fiche contact: view, "Modifier la fiche contact", create."""

from __future__ import annotations

import reflex as rx

from simple_erp.components.forms import date_input, error_text, labelled
from simple_erp.components.layout import staff_page
from simple_erp.db import session_scope
from simple_erp.domain.contact_rules import bic_from_iban, format_iban
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import clock, contacts
from simple_erp.state.auth import SESSION_EXPIRED, AuthState


class ContactState(AuthState):
    current_id: int = 0
    editing: bool = False
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    # Display values of the saved contact (the IBAN only masked).
    view: dict[str, str] = {}
    mandate_complete: bool = False
    not_found: bool = False

    def _show(self, contact) -> None:
        data = contacts.contact_input(contact)
        shown = contacts.form_from_input(data)
        shown["iban"] = contact.iban_masked
        shown["kind"] = contacts.KIND_LABELS.get(data.kind, data.kind)
        shown["display_name"] = contact.display_name
        if data.mandate_signed_on:
            shown["mandate_signed_on"] = data.mandate_signed_on.strftime("%d/%m/%Y")
        self.view = shown
        self.mandate_complete = contact.mandate_complete
        self.current_id = contact.id

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
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            data = contacts.input_from_form(self.form)
            with session_scope() as session:
                if self.current_id:
                    contact = contacts.update_contact(session, self.current_id, data, clock.today())
                else:
                    contact = contacts.create_contact(session, data, clock.today())
                self._show(contact)
        except ValidationErrors as exc:
            self.errors = exc.errors
            return rx.toast.error("Fiche non enregistrée : corrigez les champs signalés.")
        except DomainError as exc:
            return rx.toast.error(exc.message)
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
        rx.button("Modifier la fiche contact", on_click=ContactState.start_edit, id="edit-contact"),
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
                    _row("Date de signature mandat SEPA", "mandate_signed_on"), _row("Notes", "notes"),
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


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
