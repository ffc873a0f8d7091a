"""Relances: automatic reminders of late invoices.

Each issuing company has a schedule of steps (``steps``: J-3 « rappel amical », J+7,
J+15, J+30 « mise en demeure » by default), each with its modèle d'email (rubrique
« Relances ») and on/off. The scheduler (``loop.reminder_loop``, every
SIMPLE_ERP_REMINDER_INTERVAL_SECONDS) sends each step due once per invoice
(``sending.run_due``); « Relancer maintenant » sends one by hand (``sending.send_now``).
Every reminder is recorded on its invoice with its e-mail, stored before it is sent
(``views.document_reminders`` shows them with their delivery status).
"""

from simple_erp.services.reminders.loop import ENV_INTERVAL, interval_seconds, reminder_loop
from simple_erp.services.reminders.sending import (
    NothingToSend,
    Queued,
    amount_due,
    payment_link,
    queue_due_reminder,
    reminder_values,
    run_due,
    send_now,
)
from simple_erp.services.reminders.steps import (
    TOPIC,
    StepRow,
    contact_excluded,
    ensure_steps,
    list_steps,
    save_step,
    set_contact_excluded,
    template_choices,
)
from simple_erp.services.reminders.views import (
    ReminderRow,
    UpcomingRow,
    company_reminders,
    document_reminders,
    upcoming,
)

__all__ = [
    "ENV_INTERVAL", "interval_seconds", "reminder_loop",
    "NothingToSend", "Queued", "amount_due", "payment_link", "queue_due_reminder", "reminder_values", "run_due", "send_now",
    "TOPIC", "StepRow", "contact_excluded", "set_contact_excluded", "ensure_steps", "list_steps", "save_step", "template_choices",
    "ReminderRow", "UpcomingRow", "company_reminders", "document_reminders", "upcoming",
]
