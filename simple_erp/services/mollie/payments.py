"""Mollie payments: the company's API key, card and SEPA direct debit requests sent to
Mollie, the public payment page, and the one sync used by the webhook, the periodic
reconciliation and the "Resynchroniser" button. This module's names, re-exported by the
package ``services.mollie``, are the API for the UI and the routes; it gathers the
package's ``gateway`` (keys, gateway), ``sync`` (webhook, reconciliation), ``mandates``
(SEPA: the contact's customer and mandate per company) and ``public`` (public page).

Rules kept here:

* Mollie is never called inside a database transaction: each use case reads what it
  needs in a short transaction, calls Mollie, then writes the result in another one.
* A payment's idempotency key is stored (committed) before the first Mollie call, so a
  retry after any failure (timeout, lost answer, crash) replays the same request and
  never creates a second Mollie payment.
* Statuses only ever change through ``services.payments`` (``apply_status`` and its one-statement
  form ``apply_status_if_unchanged``; see ``sync``).

The ``session_factory`` of the use cases is a zero-argument callable returning a
``session_scope`` context manager (``simple_erp.db.session_scope`` in the app). The
functions taking a session factory call Mollie: run them in a background event or a thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.config import get_settings
from simple_erp.domain.contact_rules import compact, missing_mandate_fields, validate_sepa_fields
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.mollie_status import UnknownMollieStatus
from simple_erp.domain.payment_rules import PaymentStatus, TransitionError
from simple_erp.domain.remaining_due import nothing_to_pay_message
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document
from simple_erp.models.payment import Payment
from simple_erp.models.types import utcnow
from simple_erp.providers.mollie import MollieError, PaymentInfo, PaymentRequest
from simple_erp.services import clock, documents, payments, prenotification
from simple_erp.services.mollie import mandates as mollie_mandates
from simple_erp.services.mollie.gateway import (  # noqa: F401 - part of this module's API
    API_KEY_RE,
    NO_KEY,
    SessionFactory,
    api_endpoint,
    check_company_connection,
    company_api_key,
    gateway_for_company,
    gateway_for_key,
    mollie_key_display,
    record_error,
    sandbox_mode,
    set_gateway_factory,
    set_mollie_api_key,
)
from simple_erp.services.mollie.public import (  # noqa: F401 - part of this module's API
    CARD,
    INVOICE_NOT_FOUND,
    SEPA,
    PublicInvoice,
    PublicInvoiceNotFound,
    card_method_id,
    document_by_token,
    ensure_public_token,
    mollie_payments_of,
    public_invoice,
    refresh_public_status,
)
from simple_erp.services.mollie.sync import (  # noqa: F401 - part of this module's API
    OUTCOME_MESSAGES,
    OUTCOMES,
    SyncResult,
    apply_info,
    outcome_message,
    reconcile,
    resync_payment,
    sync_from_provider,
)

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/webhooks/mollie"
MOLLIE_METHOD = {CARD: "creditcard", SEPA: "directdebit"}
ONLINE_UNAVAILABLE = "Le paiement en ligne n'est pas disponible pour cette facture."
ONLINE_DOWN = "Le paiement en ligne est momentanément indisponible : réessayez dans quelques instants."
ALREADY_PAID = "Cette facture est déjà réglée."
_S = PaymentStatus


# --- URLs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppUrls:
    """Where Mollie sends the payer back (public site) and its webhooks (API)."""

    public_base: str
    api_base: str

    @property
    def webhook_url(self) -> str:
        return self.api_base.rstrip("/") + WEBHOOK_PATH

    def payment_page_url(self, token: str) -> str:
        return f"{self.public_base.rstrip('/')}/payer/{token}"

    def redirect_url(self, token: str) -> str:
        return f"{self.payment_page_url(token)}/retour"

    @classmethod
    def from_settings(cls) -> AppUrls:
        """PUBLIC_BASE_URL, and PUBLIC_API_URL (else REFLEX_API_URL, else localhost:8000)."""
        settings = get_settings()
        api = settings.public_api_url or os.environ.get("REFLEX_API_URL") or "http://localhost:8000"
        return cls(public_base=settings.public_base_url, api_base=api)


def _webhook_for(url: str, endpoint: str | None) -> str:
    """The real Mollie refuses a webhook it cannot reach (localhost): leave it out then;
    the reconciliation brings the status instead."""
    host = (urlsplit(url).hostname or "").lower()
    local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".local")
    real_mollie = not endpoint or "api.mollie.com" in endpoint
    return "" if local and real_mollie else url


# --- SEPA direct debit: mandate checks --------------------------------------------------------


def mandate_fingerprint(iban: str, bic: str, rum: str, signed_on: date) -> str:
    return hashlib.sha256(f"{compact(iban)}|{compact(bic)}|{rum.strip()}|{signed_on.isoformat()}".encode()).hexdigest()


def _mandate_problem(contact: Contact, today: date) -> str:
    """"" when the contact's mandate is complete and valid, else why not (French)."""
    iban = crypto.decrypt(contact.iban_encrypted)
    name = contact.display_name or f"n° {contact.id}"
    missing = missing_mandate_fields(iban, contact.bic, contact.rum or "", contact.mandate_signed_on)
    if missing:
        return f"le mandat du contact {name} est incomplet (manque : {', '.join(missing)})"
    try:
        validate_sepa_fields(iban, contact.bic, contact.rum or "", contact.mandate_signed_on, today)
    except ValidationErrors as err:
        return f"le mandat du contact {name} n'est pas valide ({'; '.join(m.rstrip('.') for m in err.errors.values())})"
    except DomainError as err:
        return f"le mandat du contact {name} n'est pas valide ({err.message.rstrip('.')})"
    return ""


def check_direct_debit_allowed(session: Session, doc_id: int) -> Contact:
    """The first linked contact whose SEPA mandate is complete and valid; otherwise a
    DomainError naming what is missing (or invalid) on the first contact."""
    linked = documents.document_contacts(session, doc_id)
    if not linked:
        raise DomainError("Prélèvement SEPA impossible : la facture n'a aucun contact. Ajoutez le contact "
                          "qui a signé le mandat.", field="method_id")
    today, first_problem = clock.today(), ""
    for contact in linked:
        problem = _mandate_problem(contact, today)
        if not problem:
            return contact
        first_problem = first_problem or problem
    raise DomainError(f"Prélèvement SEPA impossible : {first_problem}.", field="method_id")


def check_mollie_request(session: Session, doc_id: int, method_id: int, amount: Decimal):
    """Before ``payments.request_payment`` on a Mollie moyen (same transaction): the company
    can reach Mollie (key or sandbox) and, for "Prélèvement SEPA", a mandate is usable and
    the customer was pre-notified of ``amount`` N days before (``services.prenotification``).
    Returns that pre-notification (None for a card): give it to ``request_checked``."""
    row = payments.method_row(session, method_id)
    if not row.is_mollie:
        return None
    doc = documents.get_document(session, doc_id)
    company_api_key(session.get(Company, doc.company_id))
    if row.type_code == SEPA:
        check_direct_debit_allowed(session, doc_id)
        return prenotification.usable_notice_for_debit(session, doc_id, Decimal(amount), clock.today())
    return None


def request_checked(session: Session, doc_id: int, method_id: int, amount: Decimal, user_id: int | None,
                    today: date, allow_overpay: bool = False, idempotency_key: str | None = None) -> Payment:
    """``check_mollie_request`` then ``payments.request_payment`` (same transaction); a SEPA
    debit uses up its pre-notification. The same ``idempotency_key`` again: the first payment."""
    if idempotency_key:
        existing = session.exec(select(Payment).where(Payment.idempotency_key == idempotency_key)).first()
        if existing is not None and existing.document_id == doc_id:
            return existing
    notice = check_mollie_request(session, doc_id, method_id, amount)
    payment = payments.request_payment(session, doc_id, method_id, amount, user_id, today,
                                       allow_overpay=allow_overpay, idempotency_key=idempotency_key)
    if notice is not None:
        prenotification.attach_debit(session, notice.id, payment.id)
    return payment


# --- creating a payment at Mollie -------------------------------------------------------------


@dataclass(frozen=True)
class _Start:
    payment_id: int
    company_id: int
    api_key: str
    request: PaymentRequest
    mandate: mollie_mandates.Mandate | None
    provider_payment_id: str | None  # already created: fetch it instead


def _store_idempotency_key(session: Session, payment: Payment) -> str:
    """The payment's idempotency key, stored on first need (also under a double click)."""
    if not payment.idempotency_key:
        session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.idempotency_key.is_(None))
            .values(idempotency_key=f"mollie-{payment.id}-{secrets.token_hex(12)}")
            .execution_options(synchronize_session=False)
        )
        payment.idempotency_key = session.exec(select(Payment.idempotency_key).where(Payment.id == payment.id)).one()
    return payment.idempotency_key


def _mandate_plan(session: Session, doc: Document, api_key: str) -> mollie_mandates.Mandate:
    contact = check_direct_debit_allowed(session, doc.id)
    iban, signed_on = compact(crypto.decrypt(contact.iban_encrypted)), contact.mandate_signed_on
    fields = {"consumer_name": contact.display_name or f"Contact {contact.id}", "email": contact.email,
              "iban": iban, "bic": compact(contact.bic), "rum": (contact.rum or "").strip(), "signed_on": signed_on,
              "fingerprint": mandate_fingerprint(iban, contact.bic, contact.rum or "", signed_on)}
    return mollie_mandates.plan(session, fields, contact.id, doc.company_id, api_key)


def _prepare_start(session: Session, payment_id: int, urls: AppUrls) -> _Start | None:
    payment = payments.get_payment(session, payment_id)
    if payment.provider != payments.PROVIDER_MOLLIE:
        return None
    row = payments.method_row(session, payment.method_id)
    method = MOLLIE_METHOD.get(row.type_code)
    if method is None:
        raise DomainError("Ce moyen de paiement Mollie n'est ni la carte bancaire ni le prélèvement SEPA.")
    payments.lock_document(session, payment.document_id)  # the invoice before the payment, as every change
    session.refresh(payment)  # as committed once the invoice is ours
    doc = documents.get_document(session, payment.document_id)
    company = session.get(Company, doc.company_id)
    api_key = company_api_key(company)
    key = _store_idempotency_key(session, payment)
    if payment.provider_payment_id:
        return _Start(payment.id, company.id, api_key, None, None, payment.provider_payment_id)
    if payment.status != _S.PENDING.value:
        raise DomainError(f"Cette demande de paiement est « {payments.status_label(payment.status)} » : "
                          "elle ne peut plus être envoyée à Mollie.")
    mandate = _mandate_plan(session, doc, api_key) if method == "directdebit" else None
    token = ensure_public_token(session, doc.id)
    description = f"Facture {doc.number}" + (f" – {company.name}" if company.name else "")
    request = PaymentRequest(
        amount=payment.amount, description=description[:255],
        redirect_url="" if mandate else urls.redirect_url(token),
        webhook_url=urls.webhook_url,
        metadata={"invoice_id": str(doc.id), "invoice_number": doc.number or "", "payment_id": str(payment.id)},
        idempotency_key=key, method=method, locale="fr_FR",
        sequence_type="recurring" if mandate else None,
    )
    return _Start(payment.id, company.id, api_key, request, mandate, None)


def _attach(session: Session, plan: _Start, info: PaymentInfo) -> None:
    payment = payments.get_payment(session, plan.payment_id)
    payments.lock_document(session, payment.document_id)  # the invoice before the payment, as every change
    session.refresh(payment)
    checkout_url = info.checkout_url or payment.checkout_url or ""
    if (payment.provider_payment_id, payment.checkout_url) != (info.id, checkout_url):
        payments.attach_provider_payment(session, plan.payment_id, info.id, checkout_url)
    payment.provider_error, payment.last_synced_at = "", utcnow()
    session.add(payment)
    session.flush()
    try:
        with session.begin_nested():  # the link is kept even if the status cannot follow
            apply_info(session, plan.payment_id, info, payments.SOURCE_USER)
    except (TransitionError, UnknownMollieStatus) as err:
        logger.warning("Mollie payment %s (payment %s): status %s not applied: %s",
                       info.id, plan.payment_id, info.status, err)


def start_mollie_payment(session_factory: SessionFactory, payment_id: int, urls: AppUrls) -> PaymentInfo | None:
    """Create at Mollie the payment that ``payments.request_payment`` made on a Mollie moyen
    (None for a manual moyen): card → a checkout link; SEPA → the contact's customer and
    mandate, then a recurring direct debit ("Prélèvement en cours"). Calling it again after
    a failure reuses the stored idempotency key: never a second Mollie payment. A Mollie
    failure is stored on the payment (``provider_error``) and raised as DomainError."""
    try:
        with session_factory() as session:
            plan = _prepare_start(session, payment_id, urls)
        if plan is None:
            return None
        gateway = gateway_for_key(plan.api_key)
        if plan.provider_payment_id:
            info = gateway.get_payment(plan.provider_payment_id)
        else:
            request = replace(plan.request, webhook_url=_webhook_for(plan.request.webhook_url, gateway.api_endpoint))
            to_revoke = ()
            if plan.mandate is not None:
                customer_id, mandate_id, to_revoke = mollie_mandates.ensure(session_factory, gateway, plan.mandate,
                                                                            plan.api_key)
                request = replace(request, customer_id=customer_id, mandate_id=mandate_id)
            info = gateway.create_payment(request)
            if to_revoke:  # the debit exists with the new mandate: the former ones go
                mollie_mandates.revoke(session_factory, gateway, plan.mandate, request.customer_id, to_revoke)
    except MollieError as err:
        record_error(session_factory, payment_id, err.message)
        raise DomainError(err.message) from err
    except DomainError as err:
        record_error(session_factory, payment_id, err.message)
        raise
    with session_factory() as session:
        _attach(session, plan, info)
    return info


def request_mollie_payment(session_factory: SessionFactory, doc_id: int, method_id: int, amount: Decimal,
                           user_id: int | None, today: date, urls: AppUrls, allow_overpay: bool = False,
                           idempotency_key: str | None = None) -> Payment:
    """The "Enregistrer" of the payment block in one call: checks (SEPA mandate, key), the
    request (``payments.request_payment``), then, on a Mollie moyen, ``start_mollie_payment``.
    A Mollie failure leaves the request "En attente" with its error: calling
    ``start_mollie_payment`` again retries it."""
    with session_factory() as session:
        payment = request_checked(session, doc_id, method_id, amount, user_id, today,
                                  allow_overpay=allow_overpay, idempotency_key=idempotency_key)
        payment_id = payment.id
    start_mollie_payment(session_factory, payment_id, urls)
    with session_factory() as session:
        return payments.get_payment(session, payment_id)


# --- public payment page: paying online ------------------------------------------------------


def _online_candidate(session_factory: SessionFactory, token: str) -> tuple[int, str, str]:
    """(payment id, its Mollie id or "", its checkout URL or "") to pay the invoice online:
    the newest pending Mollie card payment, else a new request for the amount due."""
    with session_factory() as session:
        doc = document_by_token(session, token)
        if doc is None:
            raise PublicInvoiceNotFound(INVOICE_NOT_FOUND)
        payments.lock_document(session, doc.id)  # two clicks at once: one request
        remaining = payments.remaining_to_pay(session, doc.id)
        if remaining.due <= 0:
            raise DomainError(ALREADY_PAID)
        if remaining.to_pay <= 0:  # a running direct debit (or card authorisation) covers the rest
            raise DomainError(nothing_to_pay_message(remaining))
        method_id = card_method_id(session, doc.company_id)
        if method_id is None:
            raise DomainError(ONLINE_UNAVAILABLE)
        pending = [p for p in mollie_payments_of(session, doc.id, card_only=True)
                   if p.status == _S.PENDING.value and p.amount <= remaining.to_pay]
        if pending:
            return pending[0].id, pending[0].provider_payment_id or "", pending[0].checkout_url
        # allow_overpay only lets it past other pending requests (e.g. a cheque announced):
        # the amount is what remains to pay, so it is never recorded as a trop-perçu.
        payment = payments.request_payment(session, doc.id, method_id, remaining.to_pay, None, clock.today(),
                                           allow_overpay=True)
        return payment.id, "", ""


def pay_online(session_factory: SessionFactory, token: str, urls: AppUrls) -> str:
    """"Payer par carte bancaire" on the public page: the Mollie checkout URL to go to.
    Reuses the invoice's pending Mollie card payment when it is still open at Mollie,
    otherwise requests the amount due (no user). DomainError (French, for the payer):
    PublicInvoiceNotFound, already paid, not available, or Mollie momentarily down."""
    for _attempt in range(3):
        payment_id, provider_id, checkout_url = _online_candidate(session_factory, token)
        if provider_id and checkout_url:
            try:  # still open at Mollie? (an expired one is synced, then replaced)
                sync_from_provider(session_factory, provider_id, source="resynchronisation")
            except MollieError:
                return checkout_url  # cannot tell: Mollie's page will say
            with session_factory() as session:
                payment = payments.get_payment(session, payment_id)
                if payment.status == _S.PENDING.value and payment.checkout_url:
                    return payment.checkout_url
            continue
        try:
            info = start_mollie_payment(session_factory, payment_id, urls)
        except DomainError as err:  # kept on the payment for the staff; the payer gets a plain message
            logger.warning("online payment of payment %s: %s", payment_id, err.message)
            raise DomainError(ONLINE_DOWN) from err
        if info is not None and info.checkout_url and info.status == "open":
            return info.checkout_url
    raise DomainError(ONLINE_UNAVAILABLE)


__all__ = [
    # keys and gateway (gateway)
    "API_KEY_RE", "NO_KEY", "check_company_connection", "gateway_for_company", "mollie_key_display",
    "sandbox_mode", "set_gateway_factory", "set_mollie_api_key",
    # requests (here)
    "ALREADY_PAID", "AppUrls", "MOLLIE_METHOD", "ONLINE_DOWN", "ONLINE_UNAVAILABLE", "WEBHOOK_PATH", "check_direct_debit_allowed", "check_mollie_request",
    "request_checked",
    "mandate_fingerprint", "pay_online", "request_mollie_payment", "start_mollie_payment",
    # public page (public)
    "PublicInvoice", "PublicInvoiceNotFound", "ensure_public_token", "public_invoice", "refresh_public_status",
    # sync (sync)
    "OUTCOMES", "OUTCOME_MESSAGES", "SyncResult", "outcome_message", "reconcile", "resync_payment",
    "sync_from_provider",
]
