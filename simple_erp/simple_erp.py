"""The Reflex app: pages and the custom API routes."""

from __future__ import annotations

import reflex as rx

from simple_erp import migrate
from simple_erp.api.app import api
from simple_erp.api.webhooks import reconcile_loop
from simple_erp.services.reminders import reminder_loop
from simple_erp.components import connection
from simple_erp.pages.admin_crm import AdminCrmState, admin_crm_page
from simple_erp.pages.admin_email import EmailAdminState
from simple_erp.pages.admin_erp import AdminErpState, admin_erp_page
from simple_erp.pages.admin_payments import PaymentAdminState
from simple_erp.pages.contact_detail import ContactState, contact_page, new_contact_page
from simple_erp.pages.collections import CollectionsState, collections_page
from simple_erp.pages.contacts import ContactListState, contacts_page
from simple_erp.pages.dashboard import DashboardState, dashboard_page
from simple_erp.pages.document_editor import DocumentState, document_page
from simple_erp.pages.documents import DocumentListState, documents_page
from simple_erp.pages.einvoice_import import EinvoiceImportState, einvoice_import_page
from simple_erp.pages.profile import ProfileState, profile_page
from simple_erp.pages.remittances import RemittanceState, remittances_page
from simple_erp.pages.reminders import ReminderPageState, reminders_page
from simple_erp.pages.sign_in import SignInState, setup_page, sign_in_page
from simple_erp.state import live
from simple_erp.state.auth import HOME_ROUTE, AuthState

# The app upgrades its database on start (an advisory lock serialises workers).
migrate.upgrade_once()


class IndexState(AuthState):
    @rx.event
    def route(self):
        if self._current_user() is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        return AuthState.require_user


def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


app = rx.App(
    api_transformer=api,
    head_components=[rx.el.meta(name="viewport", content="width=device-width, initial-scale=1")],
    html_lang="fr",  # <html lang="fr">: French screen reading, date inputs as jj/mm/aaaa
)
connection.install(app)  # the connection-lost notice in French
live.install(app)  # committed changes are pushed to every open screen showing them
app.register_lifespan_task(reconcile_loop)  # a missed Mollie webhook never leaves an invoice unpaid
app.register_lifespan_task(reminder_loop)  # Relances: each due reminder once (SIMPLE_ERP_REMINDER_INTERVAL_SECONDS)
app.add_page(index, route="/", title="Simple ERP", on_load=IndexState.route)
app.add_page(sign_in_page, route="/connexion", title="Connexion — Simple ERP", on_load=SignInState.load_sign_in)
app.add_page(setup_page, route="/installation", title="Créer le compte administrateur — Simple ERP", on_load=SignInState.load_setup)
app.add_page(profile_page, route="/profil", title="Mon profil — Simple ERP", on_load=[AuthState.require_user, ProfileState.load])
app.add_page(contacts_page, route="/contacts", title="Contacts — Simple ERP", on_load=[AuthState.require_user, ContactListState.load])
app.add_page(new_contact_page, route="/contacts/nouveau", title="Nouveau contact — Simple ERP", on_load=[AuthState.require_user, ContactState.load_new])
app.add_page(contact_page, route="/contacts/[contact_id]", title="Fiche contact — Simple ERP", on_load=[AuthState.require_user, ContactState.load_contact])
app.add_page(admin_crm_page, route="/admin-crm", title="Admin CRM — Simple ERP", on_load=[AuthState.require_user, AdminCrmState.load, EmailAdminState.load])
app.add_page(documents_page, route="/erp", title="Simple ERP", on_load=[AuthState.require_user, DocumentListState.load])
app.add_page(document_page, route="/erp/document/[doc_id]", title="Document — Simple ERP", on_load=[AuthState.require_user, DocumentState.load])
app.add_page(einvoice_import_page, route="/erp/factures-recues", title="Importer une facture électronique — Simple ERP", on_load=[AuthState.require_user, EinvoiceImportState.load])
app.add_page(admin_erp_page, route="/admin-erp", title="Admin ERP — Simple ERP", on_load=[AuthState.require_user, AdminErpState.load, PaymentAdminState.load])
app.add_page(collections_page, route="/encaissements", title="Encaissements — Simple ERP", on_load=[AuthState.require_user, CollectionsState.load])
app.add_page(remittances_page, route="/remises-prelevements", title="Remises de prélèvements — Simple ERP", on_load=[AuthState.require_user, RemittanceState.load])
app.add_page(dashboard_page, route="/tableau-de-bord", title="Tableau de bord — Simple ERP", on_load=[AuthState.require_user, DashboardState.load])
app.add_page(reminders_page, route="/relances", title="Relances — Simple ERP", on_load=[AuthState.require_user, ReminderPageState.load])
