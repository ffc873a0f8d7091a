"""Sending documents by e-mail through SendGrid: settings (Admin CRM → 13. Paramètres),
rubriques and modèles d'email, the "Envoyer par email" form, sending and retrying, the
"Emails envoyés" history and the Event Webhook's events.

Nothing is lost: ``queue_email`` stores the message first (status "en_file"), in the
caller's transaction; ``send_queued`` then claims it (an UPDATE that only one caller can
win: a message being sent, or already sent, is never sent again), calls SendGrid outside
any database transaction and records "envoye" (with the X-Message-Id) or "echec" (with
SendGrid's reason, in French). A failed message is sent again with ``retry``.

When the request left but no answer came (timeout), SendGrid may have accepted it: the
failure is "uncertain". Every message carries a random ``reference`` as a SendGrid custom
argument, which comes back in its events: any event for a message not yet "envoye" proves
SendGrid accepted it, and makes it so. Until then, ``retry`` asks for a confirmation
(``UncertainSend``) instead of perhaps sending it twice.

This package's names here are the API for the UI and the routes; its modules are
``settings`` (constants, SendGrid settings, gateway, sender), ``rubriques`` (rubriques and
modèles), ``compose`` (the form and ``queue_email``) and ``sending`` (sending, retries,
history, events).
"""

from __future__ import annotations

from simple_erp.services.emails.compose import (  # noqa: F401 - this module's API
    ComposeDefaults,
    SendRequest,
    compose_defaults,
    parse_addresses,
    queue_email,
)
from simple_erp.services.emails.rubriques import (  # noqa: F401 - this module's API
    body_problem,
    delete_rubrique,
    delete_template,
    get_rubrique,
    get_template,
    list_rubriques,
    list_templates,
    save_rubrique,
    save_template,
    subject_problem,
    template_form,
)
from simple_erp.services.emails.sending import (  # noqa: F401 - this module's API
    EmailRow,
    get_email,
    list_document_emails,
    queue_and_send,
    record_events,
    retry,
    send_queued,
    send_test_email,
)
from simple_erp.services.emails.settings import (  # noqa: F401 - this module's API
    ATTACHMENTS_MAX_BYTES,
    BAD_KEY,
    BODY_MAX,
    DISABLED,
    EVENT_LABELS,
    FAILED,
    MAX_RECIPIENTS,
    NAME_MAX,
    NO_KEY,
    NO_SENDER,
    QUEUED,
    RUBRIQUE_MAX,
    SEND_CLAIM_TIMEOUT,
    SENT,
    SETTINGS_PLACE,
    STATUS_LABELS,
    STUCK_AFTER,
    SUBJECT_MAX,
    TEST_BODY,
    TEST_SUBJECT,
    UNCERTAIN_LABEL,
    UNCERTAIN_RETRY,
    GatewayFactory,
    UncertainSend,
    announce,
    email_settings_view,
    gateway,
    get_settings_row,
    mask_api_key,
    new_reference,
    remove_api_key,
    save_email_settings,
    sender_for,
    set_gateway_factory,
    user_of,
)
