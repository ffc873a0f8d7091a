"""Relances: queueing and sending the reminders of late invoices, by the scheduler or by
hand (« Relancer maintenant »).

Exactly once per (invoice, step): the reminder row (unique document + step) and its
e-mail (stored "en_file") are inserted in one transaction that first locks the invoice's
row (``payments.lock_document``: FOR UPDATE on PostgreSQL, the write lock on SQLite), and
that checks again, under the lock, what remains to pay, the customer's exclusion and the
steps already sent. A second worker waits for the lock, then sees the first one's row;
were it to get past, the unique constraint refuses its insert. The e-mail is sent after
the commit (``emails.send_queued``: its own claim never sends a message twice); one left
"en file" by a crash is sent by the next run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from simple_erp.domain import reminders as rules
from simple_erp.domain.contact_rules import validate_email
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.email_templates import render, text_to_html
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_eur
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact, DocumentFile
from simple_erp.models.email import EmailAttachment, EmailMessage, EmailTemplate
from simple_erp.models.reminder import Reminder, ReminderStep
from simple_erp.models.types import utcnow
from simple_erp.models.user import User
from simple_erp.services.advisory_lock import exclusive
from simple_erp.services import changes, clock, documents, payments
from simple_erp.services.mollie import public as mollie_public
from simple_erp.services.emails.compose import _values_and_facts
from simple_erp.services.emails.sending import send_queued
from simple_erp.services.emails.settings import (
    DISABLED,
    QUEUED,
    announce,
    get_settings_row,
    new_reference,
    sender_for,
    user_of,
)
from simple_erp.services.reminders.steps import TOPIC, ensure_steps

log = logging.getLogger(__name__)
_LOCK_ID = 7_214_314  # PostgreSQL advisory lock: one scheduler run at a time (as the Mollie reconciliation)
RESUME_AFTER = timedelta(minutes=1)  # a reminder e-mail still "en file" this long after its commit: send it
MANUAL_GAP = timedelta(minutes=1)  # two clicks on « Relancer maintenant »: one reminder
_BLANK_LINES = re.compile(r"\n{3,}")


class NothingToSend(DomainError):
    """No reminder for this invoice now (paid, excluded, not an open invoice…)."""


@dataclass(frozen=True)
class Queued:
    reminder_id: int
    message_id: int
    label: str  # « J+7 » / « Relance manuelle »


# --- what is due ---------------------------------------------------------------------------------


def _steps(session: Session, company_id: int) -> list[ReminderStep]:
    ensure_steps(session, company_id)
    return list(session.exec(select(ReminderStep).where(ReminderStep.company_id == company_id)
                             .order_by(ReminderStep.offset_days, ReminderStep.id)))


def _sent_offsets(session: Session, doc_id: int, steps: list[ReminderStep]) -> list[int]:
    """Offsets already reminded: as recorded when sent, and the current offset of every
    step sent (an edited step is not sent twice)."""
    rows = list(session.exec(select(Reminder.step_id, Reminder.offset_days).where(Reminder.document_id == doc_id)))
    sent_ids = {step_id for step_id, _offset in rows if step_id is not None}
    return [offset for step_id, offset in rows if step_id is not None and offset is not None] + \
        [s.offset_days for s in steps if s.id in sent_ids]


def _is_open_invoice(doc: Document) -> bool:
    return (doc.kind == DocumentKind.FACTURE.value and doc.status == DocumentStatus.FINAL.value
            and doc.due_date is not None and doc.total_ttc > 0)


def amount_due(session: Session, doc_id: int) -> Decimal:
    """What the customer still has to pay: ``payments.remaining_to_pay`` (net of received
    and in-flight payments) less the finalised avoirs correcting the invoice, ≥ 0."""
    to_pay = payments.remaining_to_pay(session, doc_id).to_pay
    credits = session.exec(select(func.coalesce(func.sum(Document.total_ttc), 0)).where(
        Document.source_id == doc_id, Document.kind == DocumentKind.AVOIR.value,
        Document.status == DocumentStatus.FINAL.value)).one()
    return max(to_pay + Decimal(credits or 0), Decimal("0.00")).quantize(Decimal("0.01"))


def _excluded(contacts: list[Contact]) -> bool:
    return any(c.reminders_excluded for c in contacts)


def _recipients(contacts: list[Contact]) -> list[str]:
    seen, found = set(), []
    for contact in contacts:
        email = (contact.email or "").strip()
        if email and email.lower() not in seen:
            seen.add(email.lower())
            found.append(email)
    return found


# --- the message -----------------------------------------------------------------------------------


def _automatic_sender(session: Session, company: Company) -> tuple[str, str]:
    """The company's e-mail address (Admin ERP), else the first administrator's."""
    try:
        return validate_email((company.contact_email or "").strip()), company.name
    except DomainError:
        pass
    admin = session.exec(select(User).where(User.is_admin, User.is_active).order_by(User.id)).first()
    if admin is None:
        raise DomainError("Aucune adresse d'expédition : renseignez l'email de la société (Admin ERP).")
    email, _name = sender_for(admin)
    return email, company.name


def payment_link(session: Session, doc: Document, public_base: str) -> str:
    """The public payment page of the invoice when Mollie can take its payment, else ""."""
    if not public_base or mollie_public.card_method_id(session, doc.company_id) is None:
        return ""
    token = mollie_public.ensure_public_token(session, doc.id)
    return f"{public_base.rstrip('/')}/payer/{token}"


def reminder_values(session: Session, doc: Document, author: User | None, today: date,
                    public_base: str) -> dict[str, str]:
    """The placeholders of a reminder: the document's, with {document_reste_du} as
    ``amount_due`` (net of payments and avoirs), plus {jours_retard}, {paiement_en_ligne}
    (Mollie on only) and {mentions_retard} (business customers only)."""
    values, _facts = _values_and_facts(session, doc, author, "")
    company = session.get(Company, doc.company_id)
    contacts = documents.document_contacts(session, doc.id)
    to_pay = amount_due(session, doc.id)
    values["document_reste_du"] = format_eur(to_pay)
    late = rules.days_late(doc.due_date, today) if doc.due_date else 0
    link = payment_link(session, doc, public_base)
    values["lien_paiement"] = link
    values["paiement_en_ligne"] = (
        f"Vous pouvez la régler en ligne, en toute sécurité, en suivant ce lien :\n{link}" if link else "")
    values["jours_retard"] = rules.late_days_text(late)
    values["mentions_retard"] = rules.late_mentions(contacts[0].kind if contacts else "", to_pay,
                                                    company.late_penalty_rate, late)
    if author is None:
        values["expediteur_nom"] = company.name
        values["expediteur_email"] = company.contact_email or ""
    return values


def _template_for(session: Session, step: ReminderStep | None, steps: list[ReminderStep], late: int) -> EmailTemplate:
    """The step's modèle; outside the schedule, the modèle of the latest step due (else the first)."""
    chosen = step
    if chosen is None:
        due = [s for s in steps if s.active and s.offset_days <= late and s.template_id]
        chosen = due[-1] if due else next((s for s in steps if s.template_id), None)
    template = session.get(EmailTemplate, chosen.template_id) if chosen and chosen.template_id else None
    if template is None:
        raise DomainError("Cette étape de relance n'a plus de modèle d'email : choisissez-en un (page Relances).")
    return template


def _queue(session: Session, doc: Document, step: ReminderStep | None, steps: list[ReminderStep],
           today: date, author: User | None, public_base: str, contacts: list[Contact]) -> Queued:
    to = _recipients(contacts)
    if not to:
        raise NothingToSend("Aucun contact de cette facture n'a d'adresse email : la relance ne peut pas partir.")
    company = session.get(Company, doc.company_id)
    sender_email, sender_name = sender_for(author) if author is not None else _automatic_sender(session, company)
    late = rules.days_late(doc.due_date, today)
    template = _template_for(session, step, steps, late)
    values = reminder_values(session, doc, author, today, public_base)
    subject = " ".join(render(template.subject, values).split())[:300]
    body = _BLANK_LINES.sub("\n\n", render(template.body, values)).strip("\n")
    reminder = Reminder(document_id=doc.id, step_id=step.id if step else None,
                        offset_days=step.offset_days if step else None, manual=author is not None,
                        days_late=late, created_by_id=author.id if author is not None else None)
    session.add(reminder)
    session.flush()  # the unique (document, step): a second worker stops here
    message = EmailMessage(
        document_id=doc.id, sender_email=sender_email, sender_name=sender_name, to_addrs=", ".join(to),
        subject=subject, body_text=body, body_html=text_to_html(body), include_payment_info=bool(values["lien_paiement"]),
        status=QUEUED, created_by_id=author.id if author is not None else None, reference=new_reference(),
    )
    session.add(message)
    session.flush()
    pdf = session.exec(select(DocumentFile.id, DocumentFile.filename, DocumentFile.content_type, DocumentFile.size)
                       .where(DocumentFile.document_id == doc.id, DocumentFile.origin == "pdf")
                       .order_by(DocumentFile.created_at.desc(), DocumentFile.id.desc()).limit(1)).first()
    if pdf is not None:
        session.add(EmailAttachment(message_id=message.id, document_file_id=pdf[0], filename=pdf[1],
                                    mime_type=pdf[2] or "application/pdf", size=pdf[3]))
    reminder.email_message_id = message.id
    session.add(reminder)
    announce(session, message)
    changes.touch(session, TOPIC, *changes.document_topics(doc.id))
    session.flush()
    label = rules.step_label(step.offset_days) if step else "Relance manuelle"
    return Queued(reminder.id, message.id, label)


def queue_due_reminder(session_factory, doc_id: int, today: date | None = None, public_base: str = "") -> Queued | None:
    """The scheduler's claim for one invoice: in one transaction, under the invoice's
    lock, the reminder due today (if any) is recorded and its e-mail stored. None when
    nothing is due (paid, excluded, step already sent — by another worker too)."""
    today = today or clock.today()
    try:
        with session_factory() as session:
            if not get_settings_row(session).enabled:
                return None
            doc = payments.lock_document(session, doc_id)
            if doc is None or not _is_open_invoice(doc):
                return None
            contacts = documents.document_contacts(session, doc.id)
            if _excluded(contacts) or amount_due(session, doc.id) <= 0:
                return None
            steps = _steps(session, doc.company_id)
            chosen = rules.step_to_send([rules.Step(s.id, s.offset_days, s.active) for s in steps],
                                        doc.due_date, today, _sent_offsets(session, doc.id, steps))
            if chosen is None:
                return None
            step = next(s for s in steps if s.id == chosen.id)
            try:
                return _queue(session, doc, step, steps, today, None, public_base, contacts)
            except NothingToSend:
                return None
    except IntegrityError:  # another worker recorded this step first
        log.info("reminder of document %s already recorded by another worker", doc_id)
        return None


def send_now(session_factory, user: User | int, doc_id: int, today: date | None = None,
             public_base: str = "") -> tuple[Queued, str]:
    """« Relancer maintenant »: the reminder the schedule would send today, else the next
    step, else one outside the schedule with the last step's modèle; recorded like the
    others, then sent. Returns (queued, e-mail status). Raises DomainError (French)."""
    today = today or clock.today()
    try:
        with session_factory() as session:
            if not get_settings_row(session).enabled:
                raise DomainError(DISABLED)
            author = user_of(session, user)
            doc = payments.lock_document(session, doc_id)
            if doc is None:
                raise DomainError("Ce document n'existe pas.")
            if not _is_open_invoice(doc):
                raise NothingToSend("Seule une facture finalisée, avec une échéance et un montant dû, peut être relancée.")
            contacts = documents.document_contacts(session, doc.id)
            if _excluded(contacts):
                raise NothingToSend("Ce client est exclu des relances (fiche contact).")
            if amount_due(session, doc.id) <= 0:
                raise NothingToSend("Cette facture n'a plus rien à régler : pas de relance.")
            recent = session.exec(select(Reminder.id).where(Reminder.document_id == doc.id,
                                                            Reminder.created_at > utcnow() - MANUAL_GAP)).first()
            if recent is not None:
                raise NothingToSend("Une relance vient de partir pour cette facture : patientez une minute.")
            steps = _steps(session, doc.company_id)
            chosen = rules.manual_step([rules.Step(s.id, s.offset_days, s.active) for s in steps],
                                       doc.due_date, today, _sent_offsets(session, doc.id, steps))
            step = next((s for s in steps if chosen is not None and s.id == chosen.id), None)
            queued = _queue(session, doc, step, steps, today, author, public_base, contacts)
    except IntegrityError:
        raise DomainError("Cette relance vient d'être envoyée par ailleurs : rechargez la page.") from None
    return queued, send_queued(session_factory, queued.message_id)


# --- the scheduler's run ---------------------------------------------------------------------------


def _candidates(session: Session, today: date, limit: int) -> list[int]:
    """Open invoices that some company's step may concern today (the rules decide, under lock)."""
    earliest = session.exec(select(ReminderStep.offset_days).where(ReminderStep.active)
                            .order_by(ReminderStep.offset_days).limit(1)).first()
    if earliest is None:
        return []
    excluded = exists().where(and_(DocumentContact.document_id == Document.id,
                                   DocumentContact.contact_id == Contact.id, Contact.reminders_excluded))
    query = (select(Document.id)
             .where(Document.kind == DocumentKind.FACTURE.value, Document.status == DocumentStatus.FINAL.value,
                    Document.due_date.is_not(None), Document.due_date <= today - timedelta(days=earliest),
                    Document.total_ttc > 0, Document.amount_received < Document.total_ttc, ~excluded)
             .order_by(Document.due_date, Document.id).limit(limit))
    return list(session.exec(query))


def _stranded(session: Session) -> list[int]:
    """Reminder e-mails committed but never attempted (the sender stopped after the commit)."""
    query = (select(EmailMessage.id).join(Reminder, Reminder.email_message_id == EmailMessage.id)
             .where(EmailMessage.status == QUEUED, EmailMessage.attempts == 0,
                    EmailMessage.created_at < utcnow() - RESUME_AFTER))
    return list(session.exec(query))


def run_due(session_factory, today: date | None = None, public_base: str = "", limit: int = 500) -> dict[str, int]:
    """One run of the scheduler: every reminder due today is recorded then sent, once.
    Counts: checked (invoices), sent, failed (e-mail refused: see its status), resumed,
    and skipped=1 when another worker is running it, disabled=1 when e-mail is off."""
    today = today or clock.today()
    counts = {"checked": 0, "sent": 0, "failed": 0, "resumed": 0}
    with exclusive(session_factory, _LOCK_ID) as mine:
        if not mine:
            return counts | {"skipped": 1}
        with session_factory() as session:
            if not get_settings_row(session).enabled:
                return counts | {"disabled": 1}
            for company_id in session.exec(select(Company.id)):
                ensure_steps(session, company_id)
        with session_factory() as session:
            stranded, candidates = _stranded(session), _candidates(session, today, limit)
        for message_id in stranded:
            counts["resumed"] += 1
            send_queued(session_factory, message_id)
        for doc_id in candidates:
            counts["checked"] += 1
            try:
                queued = queue_due_reminder(session_factory, doc_id, today, public_base)
                if queued is None:
                    continue
                status = send_queued(session_factory, queued.message_id)
                counts["sent" if status == "envoye" else "failed"] += 1
            except Exception:  # logged: one bad invoice must not stop the others
                counts["failed"] += 1
                log.exception("reminder of document %s failed", doc_id)
    return counts
