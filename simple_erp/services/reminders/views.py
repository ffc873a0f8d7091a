"""Relances: what the screens show: an invoice's reminders (with their e-mail's delivery
status), a company's reminders sent and coming."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists
from sqlmodel import Session, select

from simple_erp.domain import reminders as rules
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact
from simple_erp.models.email import EmailMessage
from simple_erp.models.reminder import Reminder, ReminderStep
from simple_erp.models.user import User
from simple_erp.services import clock
from simple_erp.services.clock import PARIS
from simple_erp.services.emails.settings import EVENT_LABELS, STATUS_LABELS
from simple_erp.services.reminders.sending import amount_due
from simple_erp.services.reminders.steps import ensure_steps


@dataclass(frozen=True)
class ReminderRow:
    id: int
    document_id: int
    number: str
    contact: str
    date: str  # « 04/12/2026 10:05 » (Paris)
    label: str  # « J+7 », « Relance manuelle »
    how: str  # « Automatique » / « Manuelle (Paul Martin) »
    to: str
    status: str  # en_file | envoye | echec
    status_label: str  # « Envoyé · Délivré »
    days_late: int
    error: str = ""


@dataclass(frozen=True)
class UpcomingRow:
    document_id: int
    number: str
    contact: str
    amount_due: str
    due_date: str
    label: str  # the next step, « J+15 »
    when: str  # « 19/12/2026 » or « aujourd'hui »


def _paris(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def _status_label(message: EmailMessage | None) -> tuple[str, str]:
    if message is None:
        return "echec", "Email supprimé"
    label = STATUS_LABELS.get(message.status, message.status)
    if message.last_event:
        label += " · " + EVENT_LABELS.get(message.last_event, message.last_event)
    return message.status, label


def _rows(session: Session, query) -> list[ReminderRow]:
    rows = []
    for reminder, doc, message, author in session.exec(query):
        status, label = _status_label(message)
        step = rules.step_label(reminder.offset_days) if reminder.offset_days is not None else "Relance manuelle"
        how = (f"Manuelle ({author.full_name or author.email})" if author is not None
               else ("Manuelle" if reminder.manual else "Automatique"))
        rows.append(ReminderRow(
            id=reminder.id, document_id=doc.id, number=doc.number or "", contact=doc.contact_name or "",
            date=_paris(reminder.created_at), label=step, how=how, to=message.to_addrs if message else "",
            status=status, status_label=label, days_late=reminder.days_late,
            error=(message.error if message is not None and status == "echec" else ""),
        ))
    return rows


def _base_query():
    return (select(Reminder, Document, EmailMessage, User)
            .join(Document, Document.id == Reminder.document_id)
            .join(EmailMessage, EmailMessage.id == Reminder.email_message_id, isouter=True)
            .join(User, User.id == Reminder.created_by_id, isouter=True))


def document_reminders(session: Session, doc_id: int) -> list[ReminderRow]:
    """The invoice's reminders, newest first."""
    return _rows(session, _base_query().where(Reminder.document_id == doc_id)
                 .order_by(Reminder.created_at.desc(), Reminder.id.desc()))


def company_reminders(session: Session, company_id: int, limit: int = 50) -> list[ReminderRow]:
    """The company's latest reminders, newest first."""
    return _rows(session, _base_query().where(Document.company_id == company_id)
                 .order_by(Reminder.created_at.desc(), Reminder.id.desc()).limit(limit))


def upcoming(session: Session, company_id: int, today: date | None = None, limit: int = 50) -> list[UpcomingRow]:
    """The next reminder of each open invoice of the company (customers excluded and
    invoices with nothing left to pay left out), soonest first."""
    today = today or clock.today()
    ensure_steps(session, company_id)
    steps = list(session.exec(select(ReminderStep).where(ReminderStep.company_id == company_id)))
    rule_steps = [rules.Step(s.id, s.offset_days, s.active) for s in steps]
    excluded = exists().where(and_(DocumentContact.document_id == Document.id,
                                   DocumentContact.contact_id == Contact.id, Contact.reminders_excluded))
    docs = session.exec(select(Document).where(
        Document.company_id == company_id, Document.kind == DocumentKind.FACTURE.value,
        Document.status == DocumentStatus.FINAL.value, Document.due_date.is_not(None), Document.total_ttc > 0,
        Document.amount_received < Document.total_ttc, ~excluded).order_by(Document.due_date, Document.id).limit(500))
    found: list[tuple[date, UpcomingRow]] = []
    for doc in docs:
        sent_rows = list(session.exec(select(Reminder.step_id, Reminder.offset_days)
                                      .where(Reminder.document_id == doc.id)))
        sent_ids = {sid for sid, _o in sent_rows if sid is not None}
        sent = [o for sid, o in sent_rows if sid is not None and o is not None] + \
            [s.offset_days for s in steps if s.id in sent_ids]
        nxt = rules.next_step(rule_steps, doc.due_date, today, sent)
        if nxt is None:
            continue
        to_pay = amount_due(session, doc.id)
        if to_pay <= 0:
            continue
        step, day = nxt
        found.append((day, UpcomingRow(
            document_id=doc.id, number=doc.number or "", contact=doc.contact_name or "",
            amount_due=format_eur(to_pay), due_date=format_date_fr(doc.due_date),
            label=rules.step_label(step.offset_days),
            when="aujourd'hui" if day <= today else format_date_fr(day))))
        if len(found) >= limit:
            break
    found.sort(key=lambda item: (item[0], item[1].document_id))
    return [row for _day, row in found]
