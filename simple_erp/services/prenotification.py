"""SEPA pre-notification: before any direct debit (a bank remittance or a Mollie SEPA
debit), the customer is told the amount and the date, by email, at least N days ahead
(``Company.prenotification_days``, 14 by default). Each notice is a ``PreNotice`` on the
invoice and an ``EmailMessage`` stored (status « en file ») before it is sent, through the
email module, from the stock modèle « Pré-notification de prélèvement » (rubrique
« Prélèvements SEPA »; the user may edit it in Admin CRM → 14. Modèles d'email).

``queue_notice`` stores in the caller's transaction; ``send_notices`` sends after commit
(outside any transaction). ``usable_notice_for_debit`` is the check of a Mollie SEPA debit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain import remittances as rules
from simple_erp.domain.sepa import validate_creditor_id
from simple_erp.domain.email_templates import render, text_to_html
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document
from simple_erp.models.email import EmailMessage, EmailRubrique, EmailTemplate
from simple_erp.models.remittance import PreNotice
from simple_erp.services import clock, documents, emails, payments
from simple_erp.services.clock import PARIS
from simple_erp.services.emails.compose import _placeholder_values  # the document's own placeholders

RUBRIQUE = "Prélèvements SEPA"
TEMPLATE_NAME = "Pré-notification de prélèvement"
# Used only when the stock modèle was deleted (the migration seeds the same text).
DEFAULT_SUBJECT = "Prélèvement SEPA de {prelevement_montant} le {prelevement_date} – facture {document_numero}"
DEFAULT_BODY = (
    "Bonjour {contact_nom},\n\n"
    "Conformément à votre mandat de prélèvement SEPA, nous prélèverons {prelevement_montant} sur votre compte "
    "le {prelevement_date} (ou le premier jour ouvré suivant), en règlement de notre facture {document_numero} "
    "du {document_date}.\n\n"
    "Référence unique du mandat (RUM) : {mandat_rum}\n"
    "Identifiant créancier SEPA (ICS) : {creancier_ics}\n\n"
    "Merci de veiller à ce que votre compte soit approvisionné à cette date. "
    "Pour toute question, n'hésitez pas à nous contacter.\n\n"
    "Cordialement,\n{societe_nom}"
)
CHANNEL_REMITTANCE, CHANNEL_MOLLIE = "remise", "mollie"
EMAIL_OFF = ("La pré-notification des prélèvements part par email : activez l'envoi de documents par email "
             "(Admin CRM → 13. Paramètres).")


def company_days(company: Company) -> int:
    days = company.prenotification_days
    return rules.DEFAULT_PRENOTIFICATION_DAYS if days is None else int(days)


def save_prenotification_days(session: Session, company_id: int, value) -> Company:
    """The company's pre-notification delay (0 to 60 days; 14 by default)."""
    company = session.get(Company, company_id) if company_id else None
    if company is None:
        raise DomainError("Cette société n'existe pas.")
    company.prenotification_days = rules.check_prenotification_days(value)
    session.add(company)
    session.flush()
    return company


def company_ics(company: Company) -> str:
    """The company's SEPA creditor id (ICS), checked; a French refusal when missing or malformed."""
    if not (company.ics or "").strip():
        raise DomainError(f"La société « {company.name} » n'a pas d'identifiant créancier SEPA (ICS) : "
                          "renseignez-le dans Admin ERP → 1. Société émettrice.", field="ics")
    try:
        return validate_creditor_id(company.ics)
    except DomainError as err:
        raise DomainError(f"{err.message} (société « {company.name} », Admin ERP → 1. Société émettrice).",
                          field="ics") from None


def _template(session: Session) -> tuple[str, str]:
    row = session.exec(
        select(EmailTemplate.subject, EmailTemplate.body)
        .join(EmailRubrique, EmailRubrique.id == EmailTemplate.rubrique_id)
        .where(EmailRubrique.name == RUBRIQUE, EmailTemplate.name == TEMPLATE_NAME)
    ).first()
    return (row[0], row[1]) if row else (DEFAULT_SUBJECT, DEFAULT_BODY)


def queue_notice(session: Session, user_id: int, doc: Document, contact: Contact, amount: Decimal,
                 collection_date: date, ics: str, channel: str, remittance_id: int | None = None) -> PreNotice:
    """Store the notice and its email (« en file »), in the caller's transaction."""
    rules.check_amount(amount)
    if not emails.get_settings_row(session).enabled:
        raise DomainError(EMAIL_OFF)
    name = contact.display_name or f"n° {contact.id}"
    if not (contact.email or "").strip():
        raise DomainError(f"Le contact {name} n'a pas d'adresse email : la pré-notification du prélèvement "
                          "ne peut pas lui être envoyée. Ajoutez-la sur sa fiche contact.")
    author = emails.user_of(session, user_id)
    sender_email, sender_name = emails.sender_for(author)
    values = _placeholder_values(session, doc, author, "")
    values.update(contact_nom=contact.display_name, contact_prenom=contact.first_name, contact_email=contact.email,
                  prelevement_montant=format_eur(amount), prelevement_date=format_date_fr(collection_date),
                  mandat_rum=contact.rum or "", creancier_ics=ics)
    subject_template, body_template = _template(session)
    subject, body = render(subject_template, values).replace("\n", " ").strip(), render(body_template, values)
    message = EmailMessage(
        document_id=doc.id, sender_email=sender_email, sender_name=sender_name, to_addrs=contact.email.strip(),
        subject=subject[:300], body_text=body, body_html=text_to_html(body), status=emails.QUEUED,
        created_by_id=author.id, reference=emails.new_reference(),
    )
    session.add(message)
    session.flush()
    emails.announce(session, message)
    notice = PreNotice(document_id=doc.id, contact_id=contact.id, amount=amount, collection_date=collection_date,
                       rum=contact.rum or "", channel=channel, remittance_id=remittance_id,
                       email_message_id=message.id, created_by_id=author.id)
    session.add(notice)
    session.flush()
    return notice


def send_notices(session_factory, notice_ids: list[int]) -> list[str]:
    """Send the stored notices' emails (after commit); returns the French failures."""
    failures = []
    for notice_id in notice_ids:
        with session_factory() as session:
            notice = session.get(PreNotice, notice_id)
            message_id = notice.email_message_id if notice else None
            message = session.get(EmailMessage, message_id) if message_id else None
            if message is None or message.status == emails.SENT:
                continue
            to = message.to_addrs
        status = emails.send_queued(session_factory, message_id)
        if status != emails.SENT:
            with session_factory() as session:
                error = session.get(EmailMessage, message_id).error
            failures.append(f"{to} : {error or 'non envoyée'}")
    return failures


def notified_on(session: Session, notice: PreNotice) -> date | None:
    """The day (Paris) the notice's email was sent; None while it is not."""
    message = session.get(EmailMessage, notice.email_message_id) if notice.email_message_id else None
    if message is None or message.status != emails.SENT or message.sent_at is None:
        return None
    return message.sent_at.astimezone(PARIS).date()


# --- Mollie SEPA debits -------------------------------------------------------------------------


def send_mollie_notice(session_factory, user_id: int, doc_id: int, amount: Decimal) -> tuple[date, str]:
    """« Envoyer la pré-notification » on an invoice (before a Mollie SEPA debit): the notice
    of ``amount`` for today + N, stored then sent. Returns (the first day the debit is
    possible, the French failure or "")."""
    from simple_erp.services.mollie import payments as mollie_payments  # the mandate check lives there

    rules.check_amount(amount)
    today = clock.today()
    with session_factory() as session:
        doc = payments.lock_document(session, doc_id)
        remaining = payments.remaining_to_pay(session, doc.id)
        if amount > remaining.unrequested:
            raise DomainError(f"Le montant annoncé dépasse ce qui reste à prélever ({format_eur(remaining.unrequested)}).",
                              field="amount")
        contact = mollie_payments.check_direct_debit_allowed(session, doc.id)
        rules.check_sepa_iban(crypto.decrypt(contact.iban_encrypted), contact.display_name)
        company = session.get(Company, doc.company_id)
        debit_on = rules.earliest_collection_date(today, company_days(company))
        notice = queue_notice(session, user_id, doc, contact, amount, debit_on, (company.ics or "").strip(),
                              CHANNEL_MOLLIE)
        notice_id = notice.id
    failures = send_notices(session_factory, [notice_id])
    return debit_on, "; ".join(failures)


def usable_notice_for_debit(session: Session, doc_id: int, amount: Decimal, today: date) -> PreNotice:
    """The sent, unused Mollie notice of ``amount`` that allows a SEPA debit today; else a
    French refusal saying what to do and from which date the debit is possible."""
    doc = documents.get_document(session, doc_id)
    days = company_days(session.get(Company, doc.company_id))
    notices = session.exec(select(PreNotice).where(
        PreNotice.document_id == doc_id, PreNotice.channel == CHANNEL_MOLLIE, PreNotice.payment_id.is_(None),
        PreNotice.amount == amount).order_by(PreNotice.created_at, PreNotice.id)).all()
    sent = [(notified_on(session, n), n) for n in notices]
    sent = [(day, n) for day, n in sent if day is not None]
    ready = [n for day, n in sent if rules.earliest_collection_date(day, days) <= today]
    if ready:
        return ready[0]
    rules.check_debit_notified(min((day for day, _n in sent), default=None), days, today, amount)
    raise AssertionError("unreachable")  # check_debit_notified refused


def attach_debit(session: Session, notice_id: int, payment_id: int) -> None:
    notice = session.get(PreNotice, notice_id)
    notice.payment_id = payment_id
    session.add(notice)
    session.flush()


# --- on the invoice screen ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeRow:
    id: int
    created_at: str  # "04/12/2026 10:15" (Paris)
    amount: str
    collection_date: str
    channel: str  # « Remise bancaire » | « Mollie »
    to: str
    email_status: str  # « Envoyé », « Échec », « En file »…
    sent: bool
    used: bool  # a debit was made with it


def notices_of(session: Session, doc_id: int) -> list[NoticeRow]:
    """The invoice's pre-notifications, newest first."""
    notices = session.exec(select(PreNotice).where(PreNotice.document_id == doc_id)
                           .order_by(PreNotice.created_at.desc(), PreNotice.id.desc())).all()
    rows = []
    for notice in notices:
        message = session.get(EmailMessage, notice.email_message_id) if notice.email_message_id else None
        status = message.status if message else ""
        rows.append(NoticeRow(
            id=notice.id, created_at=notice.created_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
            amount=format_eur(notice.amount), collection_date=format_date_fr(notice.collection_date),
            channel="Remise bancaire" if notice.channel == CHANNEL_REMITTANCE else "Mollie",
            to=message.to_addrs if message else "",
            email_status=emails.STATUS_LABELS.get(status, status) if message else "Email supprimé",
            sent=status == emails.SENT, used=notice.payment_id is not None or notice.remittance_id is not None,
        ))
    return rows


def default_notice(session: Session, doc_id: int, today: date) -> tuple[Decimal, date]:
    """What the invoice's « Envoyer la pré-notification » proposes: what remains to be
    requested, and the first date a debit would then be possible."""
    doc = documents.get_document(session, doc_id)
    days = company_days(session.get(Company, doc.company_id))
    return payments.remaining_to_pay(session, doc_id).unrequested, rules.earliest_collection_date(today, days)
