"""E-mail: sending a stored message and retrying it, the "Emails envoyés" history and
the SendGrid Event Webhook's events. Part of ``services.emails`` (use it from there).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from simple_erp.domain.email_templates import text_to_html
from simple_erp.domain.errors import DomainError
from simple_erp.models.contact import ContactFile
from simple_erp.models.email import (
    EmailAttachment,
    EmailEvent,
    EmailMessage,
    EmailSettings,
)
from simple_erp.models.types import utcnow
from simple_erp.models.user import User
from simple_erp.providers.email import REFERENCE_ARG, Attachment, EmailError, OutgoingEmail
from simple_erp.services import documents
from simple_erp.services.clock import PARIS
from simple_erp.services.emails.compose import SendRequest, queue_email
from simple_erp.services.emails.settings import (
    DISABLED,
    EVENT_LABELS,
    FAILED,
    QUEUED,
    SEND_CLAIM_TIMEOUT,
    SENT,
    STATUS_LABELS,
    STUCK_AFTER,
    TEST_BODY,
    TEST_SUBJECT,
    UNCERTAIN_LABEL,
    UNCERTAIN_RETRY,
    UncertainSend,
    announce,
    gateway,
    get_settings_row,
    new_reference,
    sender_for,
    user_of,
)

log = logging.getLogger(__name__)
_EVENT_RANK = {"": 0, "delivered": 1, "open": 2, "bounce": 3, "dropped": 3}


# --- sending -----------------------------------------------------------------------------------------


def _claim(session: Session, message_id: int, now: datetime) -> bool:
    """Mark an attempt in progress; False when the message is sent or being sent."""
    result = session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id, EmailMessage.status != SENT,
               or_(EmailMessage.attempt_started_at.is_(None),
                   EmailMessage.attempt_started_at < now - SEND_CLAIM_TIMEOUT))
        .values(attempt_started_at=now, attempts=EmailMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _addresses(text: str | None) -> tuple[str, ...]:
    """A stored comma-separated address list."""
    return tuple(a.strip() for a in (text or "").split(",") if a.strip())


def _outgoing(session: Session, message: EmailMessage) -> OutgoingEmail:
    attachments = []
    query = select(EmailAttachment).where(EmailAttachment.message_id == message.id).order_by(EmailAttachment.id)
    for ref in session.exec(query):
        if ref.contact_file_id is not None:  # a fiche contact's file (services.sepa_mandates)
            contact_file = session.get(ContactFile, ref.contact_file_id)
            attachments.append(Attachment(ref.filename, contact_file.content, ref.mime_type))
            continue
        if ref.document_file_id is None:
            raise DomainError(f"La pièce jointe « {ref.filename} » n'existe plus : envoyez un nouvel email.")
        _file, content = documents.get_file_content(session, ref.document_file_id)
        attachments.append(Attachment(ref.filename, content, ref.mime_type))
    return OutgoingEmail(
        sender_email=message.sender_email, sender_name=message.sender_name, to=_addresses(message.to_addrs),
        subject=message.subject, text=message.body_text,
        html=message.body_html or text_to_html(message.body_text), cc=_addresses(message.cc_addrs),
        attachments=tuple(attachments), reference=message.reference or "",
    )


def _record(session: Session, message: EmailMessage, message_id: str | None, error: str, detail: str,
            uncertain: bool = False) -> str:
    message.attempt_started_at = None
    # An uncertain attempt stays so until the message is known sent (a later, certain
    # failure does not prove the earlier attempt did not go through).
    message.outcome_uncertain = bool(error) and (message.outcome_uncertain or uncertain)
    if error:
        message.status, message.error, message.error_detail = FAILED, error, detail
    else:
        message.status, message.error, message.error_detail = SENT, "", ""
        message.provider_message_id = message_id or None
        message.sent_at = utcnow()
    session.add(message)
    announce(session, message)
    session.flush()
    return message.status


def _finish(session_factory, message_id: int, provider_id: str | None, error: str, detail: str,
            uncertain: bool = False) -> str:
    for attempt in range(3):  # SendGrid has the message (or refused it): keep trying to say so
        try:
            with session_factory() as session:
                if error:  # unless its events proved it sent meanwhile (compare and set)
                    values = {"status": FAILED, "error": error, "error_detail": detail, "attempt_started_at": None}
                    if uncertain:
                        values["outcome_uncertain"] = True
                    changed = session.execute(
                        update(EmailMessage).where(EmailMessage.id == message_id, EmailMessage.status != SENT)
                        .values(**values).execution_options(synchronize_session=False)).rowcount
                    message = session.get(EmailMessage, message_id, populate_existing=True)
                    if changed:
                        announce(session, message)
                    return message.status
                message = session.get(EmailMessage, message_id, populate_existing=True)
                return _record(session, message, provider_id, error, detail, uncertain)
        except Exception:
            log.exception("could not record the outcome of e-mail %s (X-Message-Id %s, error %r)",
                          message_id, provider_id, error)
            if attempt == 2:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def send_queued(session_factory, message_id: int) -> str:
    """Send a stored message once and record the outcome; returns its status afterwards.

    A message already sent, or being sent by someone else, is not sent again (its current
    status is returned). SendGrid is called outside any database transaction."""
    now = utcnow()
    with session_factory() as session:
        message = session.get(EmailMessage, message_id) if message_id else None
        if message is None:
            raise DomainError("Cet email n'existe pas.")
        if not _claim(session, message_id, now):
            return session.get(EmailMessage, message_id, populate_existing=True).status
        message = session.get(EmailMessage, message_id, populate_existing=True)
        if not message.reference:  # queued before references existed
            message.reference = new_reference()
            session.add(message)
        try:
            if (message.document_id is not None or message.contact_id is not None) \
                    and not get_settings_row(session).enabled:
                raise DomainError(DISABLED)
            outgoing = _outgoing(session, message)
            sender = gateway(session)
        except DomainError as exc:  # nothing to send: recorded as a failure at once
            return _record(session, message, None, exc.message, "")
    provider_id, error, detail, uncertain = None, "", "", False
    try:
        provider_id = sender.send(outgoing).message_id
    except EmailError as exc:
        error, detail, uncertain = exc.message, exc.provider_detail, exc.uncertain
    except Exception as exc:  # a bug must not leave the message "in progress" (logged)
        log.exception("unexpected error while sending e-mail %s", message_id)
        error, detail = "Erreur inattendue pendant l'envoi : réessayez, ou contactez le support.", repr(exc)[:600]
    return _finish(session_factory, message_id, provider_id, error, detail, uncertain)


def _in_progress(message: EmailMessage, now: datetime) -> bool:
    started = message.attempt_started_at
    return started is not None and started >= now - SEND_CLAIM_TIMEOUT


def _maybe_sent(message: EmailMessage) -> bool:
    """Its last attempt may have gone through: no answer came, or the sender stopped
    while waiting for it (still "en file" after an attempt)."""
    return message.status != SENT and (message.outcome_uncertain
                                       or (message.status == QUEUED and message.attempts > 0))


def retry(session_factory, message_id: int, confirmed: bool = False, document_id: int | None = None) -> str:
    """"Réessayer": send a failed (or stuck "en file") message again; returns its status.
    A message whose last attempt may have gone through raises UncertainSend unless
    ``confirmed`` (the user chose to send it again anyway). ``document_id``: the message
    must be one of this document's."""
    with session_factory() as session:
        message = session.get(EmailMessage, message_id) if message_id else None
        if message is None or (document_id is not None and message.document_id != document_id):
            raise DomainError("Cet email n'existe pas.")
        if message.status == SENT:
            raise DomainError("Cet email a déjà été envoyé : il n'est pas renvoyé.")
        if _in_progress(message, utcnow()):
            raise DomainError("Cet email est en cours d'envoi : patientez quelques secondes.")
        if _maybe_sent(message) and not confirmed:
            raise UncertainSend(UNCERTAIN_RETRY)
    return send_queued(session_factory, message_id)


def queue_and_send(session_factory, user: User | int, req: SendRequest) -> tuple[int, str]:
    """queue_email in its own transaction, then send_queued: (message id, status)."""
    with session_factory() as session:
        message_id = queue_email(session, user, req)
    return message_id, send_queued(session_factory, message_id)


def send_test_email(session_factory, user: User | int) -> str:
    """"Envoyer un email de test" to the signed-in user's own address. Returns a French
    confirmation; raises DomainError with SendGrid's reason (the test email stays stored)."""
    with session_factory() as session:
        author = user_of(session, user)
        email, name = sender_for(author)
        gateway(session)  # no key: say so before storing anything
        message = EmailMessage(sender_email=email, sender_name=name, to_addrs=email, subject=TEST_SUBJECT,
                               body_text=TEST_BODY, body_html=text_to_html(TEST_BODY), status=QUEUED,
                               created_by_id=author.id, reference=new_reference())
        session.add(message)
        session.flush()
        message_id = message.id
    if send_queued(session_factory, message_id) == SENT:
        return f"Email de test envoyé à {email} : vérifiez votre boîte de réception."
    with session_factory() as session:
        raise DomainError(session.get(EmailMessage, message_id).error or "L'email de test n'est pas parti.")


# --- history ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailRow:
    id: int
    date: str  # queued at, "28/11/2026 14:05" (Paris)
    to: str
    subject: str
    status: str  # en_file | envoye | echec
    status_label: str  # En file | Envoyé | Échec
    error: str
    last_event: str  # "" | delivered | open | bounce | dropped
    last_event_label: str  # "" | Délivré | Ouvert | Rejeté (bounce) | Non remis (dropped)
    can_retry: bool
    cc: str = ""
    uncertain: bool = False  # the last failure may not be one: a retry asks first
    sent_at: str = ""
    sender: str = ""
    attachments: str = ""  # "F-2026-00001.pdf, plan.png"
    attempts: int = 0
    sending: bool = False  # an attempt is in progress
    last_event_detail: str = ""


def _paris(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value else ""


def _row(message: EmailMessage, filenames: list[str], now: datetime) -> EmailRow:
    sending = _in_progress(message, now)
    stuck = message.status == QUEUED and message.created_at < now - STUCK_AFTER
    return EmailRow(
        id=message.id, date=_paris(message.created_at), to=message.to_addrs, subject=message.subject,
        status=message.status,
        status_label=UNCERTAIN_LABEL if message.status == FAILED and message.outcome_uncertain
        else STATUS_LABELS.get(message.status, message.status),
        error=message.error, last_event=message.last_event,
        last_event_label=EVENT_LABELS.get(message.last_event, message.last_event),
        can_retry=not sending and (message.status == FAILED or stuck),
        cc=message.cc_addrs, sent_at=_paris(message.sent_at), sender=message.sender_email,
        attachments=", ".join(filenames), attempts=message.attempts, sending=sending,
        last_event_detail=message.last_event_detail, uncertain=_maybe_sent(message),
    )


def list_document_emails(session: Session, doc_id: int) -> list[EmailRow]:
    """The document's "Emails envoyés", newest first."""
    messages = list(session.exec(
        select(EmailMessage).where(EmailMessage.document_id == doc_id)
        .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())
    ))
    names: dict[int, list[str]] = {}
    if messages:
        query = (select(EmailAttachment.message_id, EmailAttachment.filename)
                 .where(EmailAttachment.message_id.in_([m.id for m in messages])).order_by(EmailAttachment.id))
        for message_id, filename in session.exec(query):
            names.setdefault(message_id, []).append(filename)
    now = utcnow()
    return [_row(m, names.get(m.id, []), now) for m in messages]


def get_email(session: Session, message_id: int) -> EmailMessage:
    message = session.get(EmailMessage, message_id) if message_id else None
    if message is None:
        raise DomainError("Cet email n'existe pas.")
    return message


# --- SendGrid Event Webhook --------------------------------------------------------------------------


def _event_time(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _apply_event(message: EmailMessage, event: str, at: datetime, data: dict) -> bool:
    if event == "delivered":
        message.delivered_at = message.delivered_at or at
    elif event == "open":
        message.opened_at = message.opened_at or at
    elif event in ("bounce", "dropped"):
        if event == "bounce":
            message.bounced_at = message.bounced_at or at
        reason = str(data.get("reason") or data.get("type") or "")[:500]
        message.last_event_detail = f"{data.get('email') or ''} : {reason}".strip(" :")
    else:
        return False
    if _EVENT_RANK[event] >= _EVENT_RANK.get(message.last_event, 0):
        message.last_event = event
    return True


def _event_message(session: Session, data: dict, provider_id: str) -> EmailMessage | None:
    """The message an event is about: by X-Message-Id, else by the reference it carries
    (its X-Message-Id was never received: the answer was lost). Any event means SendGrid
    accepted the message: one not yet "envoye" becomes so, whatever its attempts recorded
    (a send still waiting for its answer then finds it so and keeps it: ``_finish``)."""
    message = (session.exec(select(EmailMessage).where(EmailMessage.provider_message_id == provider_id)).first()
               if provider_id else None)
    reference = str(data.get(REFERENCE_ARG) or "").strip()
    if message is None and reference:
        message = session.exec(select(EmailMessage).where(EmailMessage.reference == reference)).first()
        if message is not None and not message.provider_message_id and provider_id:
            message.provider_message_id = provider_id[:100]
            session.add(message)
    if message is not None and message.status != SENT:
        # SendGrid has it: "envoye", whatever our attempts recorded (a send still waiting
        # for its answer then finds it so, and keeps it: see _finish).
        session.flush()
        changed = session.execute(
            update(EmailMessage).where(EmailMessage.id == message.id, EmailMessage.status != SENT)
            .values(status=SENT, error="", error_detail="", outcome_uncertain=False,
                    sent_at=func.coalesce(EmailMessage.sent_at, _event_time(data.get("timestamp"))))
            .execution_options(synchronize_session=False)).rowcount
        session.refresh(message)
        if changed:
            announce(session, message)
            log.info("e-mail %s: SendGrid's events show it was accepted", message.id)
    return message


def record_events(session: Session, events: list[dict]) -> int:
    """Store the Event Webhook's events once each (by sg_event_id) and update their
    messages (matched by X-Message-Id = sg_message_id before its first ".", else by the
    reference they carry: ``_event_message``). Returns how many events were new."""
    if session.get_bind().dialect.name == "sqlite":  # take the write lock before reading ids
        session.execute(update(EmailSettings).where(EmailSettings.id == 1).values(id=1))
    batch: dict[str, dict] = {}
    for data in events:
        if isinstance(data, dict) and str(data.get("sg_event_id") or "").strip():
            batch.setdefault(str(data["sg_event_id"]).strip()[:100], data)
    if not batch:
        return 0
    known = set(session.exec(select(EmailEvent.sg_event_id).where(EmailEvent.sg_event_id.in_(list(batch)))))
    recorded = 0
    for event_id, data in batch.items():
        if event_id in known:
            continue
        provider_id = str(data.get("sg_message_id") or "").split(".", 1)[0].strip()
        message = _event_message(session, data, provider_id)
        kind, at = str(data.get("event") or "")[:30], _event_time(data.get("timestamp"))
        row = EmailEvent(sg_event_id=event_id, message_id=message.id if message else None, event=kind,
                         email=str(data.get("email") or "")[:254], at=at,
                         raw=json.dumps(data, ensure_ascii=False, default=str))
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the same event, recorded meanwhile by another request
            continue
        recorded += 1
        if message is not None and _apply_event(message, kind, at, data):
            session.add(message)
            announce(session, message)
    session.flush()
    return recorded
