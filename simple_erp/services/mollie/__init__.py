"""Mollie: card and SEPA direct debit requests, the public payment page, the webhook and
the reconciliation. Import the API from here; its modules are ``payments`` (the requests,
and the API gathered), ``gateway`` (the company's key and its gateway), ``mandates`` (SEPA:
the contact's Mollie customer and mandate per company), ``public`` (the public payment
page) and ``sync`` (the one sync behind the webhook, the reconciliation and
« Resynchroniser »)."""

from simple_erp.services.mollie.payments import (  # noqa: F401 - the package's API
    ALREADY_PAID,
    API_KEY_RE,
    MOLLIE_METHOD,
    NO_KEY,
    ONLINE_DOWN,
    ONLINE_UNAVAILABLE,
    OUTCOME_MESSAGES,
    OUTCOMES,
    WEBHOOK_PATH,
    AppUrls,
    check_company_connection,
    check_direct_debit_allowed,
    check_mollie_request,
    ensure_public_token,
    gateway_for_company,
    mandate_fingerprint,
    mollie_key_display,
    outcome_message,
    pay_online,
    public_invoice,
    PublicInvoice,
    PublicInvoiceNotFound,
    reconcile,
    refresh_public_status,
    request_checked,
    request_mollie_payment,
    resync_payment,
    sandbox_mode,
    set_gateway_factory,
    set_mollie_api_key,
    start_mollie_payment,
    sync_from_provider,
    SyncResult,
)
