"""Test helper: a SEPA pre-notification already emailed ``days_ago`` days ago (what the
customer received before a Mollie SEPA debit, services.prenotification), so tests about the
debit itself need not wait the delay. The notice's own flow is tested in
tests/services/test_remittances_service.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from simple_erp.models.email import EmailMessage
from simple_erp.models.remittance import PreNotice
from simple_erp.models.types import utcnow
from simple_erp.services import clock, emails, payments, prenotification


def backdated_notice(session, doc_id: int, amount, days_ago: int = 30) -> int:
    sent_at = utcnow() - timedelta(days=days_ago)
    message = EmailMessage(document_id=doc_id, sender_email="test@example.org", to_addrs="client@example.org",
                           subject="Pré-notification de prélèvement", body_text="Pré-notification.",
                           status=emails.SENT, sent_at=sent_at, created_at=sent_at, reference=emails.new_reference())
    session.add(message)
    session.flush()
    notice = PreNotice(document_id=doc_id, amount=Decimal(amount), collection_date=clock.today(),
                       channel=prenotification.CHANNEL_MOLLIE, email_message_id=message.id, created_at=sent_at)
    session.add(notice)
    session.flush()
    return notice.id


def prenotify_if_debit(session_factory, doc_id: int, method_id: int, amount) -> None:
    """A backdated notice when ``method_id`` is a Mollie « Prélèvement SEPA »."""
    with session_factory() as session:
        row = payments.method_row(session, method_id)
        if row.is_mollie and row.type_code == payments.DIRECT_DEBIT_TYPE_CODE:
            backdated_notice(session, doc_id, amount)
