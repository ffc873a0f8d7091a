"""Remises de prélèvements: SEPA direct debits collected through the company's own bank.

* ``create_remittance``: the chosen invoices (finalised factures of one issuing company,
  whose contact has a complete, valid, unexpired mandate and an email address), a
  collection date at least N days away (the pre-notification delay) → one payment per
  invoice on the bank's « Prélèvement SEPA » moyen (« En attente », counted as on its way),
  the pain.008.001.08 file (XSD-valid, kept), and one pre-notification per invoice, all
  stored in one transaction; the notices are then emailed.
* ``mark_sent``: the user gave the file to the bank: payments « Prélèvement en cours ».
  Refused while a notice is not sent, or sent less than N days before the date.
* ``cancel_remittance``: only before it is marked sent; the payments are cancelled.
* ``record_paid`` / ``record_rejected`` (one collection) and ``record_all`` (every collection
  still waiting): « Paiement reçu », or « Échoué » with the bank's reason code.

An invoice is never in two live remittances: ``RemittanceLine.live_document_id`` (unique)
holds the invoice while its collection is live. Statuses change only through
``services.payments.apply_status``. Every change locks the invoices first (as payments do).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain import remittances as rules
from simple_erp.domain.contact_rules import compact, mask_iban, validate_bic, validate_iban
from simple_erp.domain.documents import DocumentKind, DocumentStatus
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document
from simple_erp.models.payment import Account, PaymentMethod, PaymentType
from simple_erp.models.remittance import PreNotice, Remittance, RemittanceLine
from simple_erp.models.types import utcnow
from simple_erp.services import changes, clock, documents, emails, payments, prenotification
from simple_erp.services.clock import PARIS
from simple_erp.services.remittances import pain008

BANK_ACCOUNT = "compte_bancaire"  # payments.ACCOUNT_TYPES: the remittance credits a bank account
PROVIDER_REMITTANCE = "remise"  # a payment collected by a remittance: changed only from it
TOPIC = "remittances"
_R, _L = rules.RemittanceStatus, rules.LineStatus
LIVE_REMITTANCES = (_R.CREATED.value, _R.SENT.value)
ALREADY_IN_REMITTANCE = "La facture {number} est déjà dans une remise de prélèvements en cours."


def _announce(session: Session, *doc_ids: int) -> None:
    topics = [TOPIC, "payments"]
    for doc_id in doc_ids:
        topics.extend(changes.document_topics(doc_id))
    changes.touch(session, *topics)


# --- the bank's « Prélèvement SEPA » moyens -------------------------------------------------------


def bank_debit_methods(session: Session) -> list[payments.MethodRow]:
    """Active « Prélèvement SEPA » moyens on a bank account (not Mollie)."""
    return [m for m in payments.list_methods(session, active_only=True)
            if m.type_code == payments.DIRECT_DEBIT_TYPE_CODE and m.account_type == BANK_ACCOUNT]


def is_bank_debit_method(session: Session, method_id: int) -> bool:
    row = payments.method_row(session, method_id)
    return row.type_code == payments.DIRECT_DEBIT_TYPE_CODE and not row.is_mollie


def check_manual_request(session: Session, method_id: int) -> None:
    """The payment block does not take a bank « Prélèvement SEPA »: it goes in a remittance."""
    if method_id and is_bank_debit_method(session, method_id):
        raise DomainError("Un prélèvement SEPA par la banque se fait dans une remise : menu « Remises de "
                          "prélèvements ».", field="method_id")


def _creditor(session: Session, company: Company, method_id: int) -> tuple[PaymentMethod, pain008.Creditor]:
    method = session.get(PaymentMethod, method_id) if method_id else None
    if method is None:
        raise DomainError("Choisissez le moyen « Prélèvement SEPA » du compte bancaire à créditer.", field="method_id")
    ptype, account = session.get(PaymentType, method.payment_type_id), session.get(Account, method.account_id)
    if ptype.code != payments.DIRECT_DEBIT_TYPE_CODE or account.account_type != BANK_ACCOUNT:
        raise DomainError("Ce moyen de paiement n'est pas un « Prélèvement SEPA » sur un compte bancaire.",
                          field="method_id")
    if not (method.active and ptype.active and account.active):
        raise DomainError("Ce moyen de paiement est désactivé : choisissez-en un autre.", field="method_id")
    iban = crypto.decrypt(account.iban_encrypted)
    if not iban:
        raise DomainError(f"Le compte « {account.name} » n'a pas d'IBAN : renseignez-le dans Admin ERP → "
                          "10. Comptes.", field="method_id")
    iban = validate_iban(iban)
    rules.check_sepa_iban(iban, f"compte « {account.name} »")
    bic = validate_bic(account.bic, iban) if account.bic else ""
    ics = prenotification.company_ics(company)
    return method, pain008.Creditor(company.name, iban, bic, ics)


# --- mandates --------------------------------------------------------------------------------------


def _mandate_kind(contact: Contact) -> str:
    """« ponctuel » (one-off) or « recurrent », as the fiche contact records it."""
    kind = (contact.mandate_type or "").strip().lower()
    return rules.MANDATE_ONE_OFF if kind == rules.MANDATE_ONE_OFF else rules.MANDATE_RECURRENT


def mandate_use(session: Session, contact: Contact) -> rules.MandateUse:
    """What the remittances say about the contact's mandate (its RUM)."""
    rum = (contact.rum or "").strip()
    counted = session.exec(
        select(func.count(RemittanceLine.id)).join(Remittance, Remittance.id == RemittanceLine.remittance_id)
        .where(RemittanceLine.rum == rum, Remittance.status != _R.CANCELED.value,
               RemittanceLine.status.in_([_L.PENDING.value, _L.PAID.value]))).one()
    last = session.exec(
        select(func.max(Remittance.collection_date)).join(RemittanceLine, RemittanceLine.remittance_id == Remittance.id)
        .where(RemittanceLine.rum == rum, Remittance.status.in_([_R.SENT.value, _R.DONE.value]))).one()
    return rules.MandateUse(kind=_mandate_kind(contact), signed_on=contact.mandate_signed_on,
                            collections=int(counted or 0), last_presented_on=last)


def _debtor(session: Session, doc: Document, today: date) -> Contact:
    """The invoice's first contact with a complete, valid mandate (else why not, French)."""
    from simple_erp.services.mollie.payments import _mandate_problem

    linked = documents.document_contacts(session, doc.id)
    if not linked:
        raise DomainError(f"Facture {doc.number} : aucun contact. Ajoutez le contact qui a signé le mandat SEPA.")
    problems = []
    for contact in linked:
        problem = _mandate_problem(contact, today)
        if not problem:
            return contact
        problems.append(problem)
    raise DomainError(f"Facture {doc.number} : {problems[0]}.")


# --- candidates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    doc_id: int
    number: str
    contact_name: str
    due_date: str
    amount: Decimal  # what remains to be requested
    amount_label: str
    sequence_type: str  # FRST | RCUR | OOFF, "" when not eligible
    problem: str  # "" when the invoice can be collected


def list_candidates(session: Session, company_id: int, collection_date: date | None, today: date,
                    limit: int = 200) -> list[Candidate]:
    """The company's finalised factures with something left to request, oldest due first:
    eligible ones (problem "") and the others with why not."""
    live = select(RemittanceLine.live_document_id).where(RemittanceLine.live_document_id.is_not(None))
    query = (select(Document).where(
        Document.company_id == company_id, Document.kind == DocumentKind.FACTURE.value,
        Document.status == DocumentStatus.FINAL.value, Document.total_ttc > Document.amount_received,
        Document.id.not_in(live))
        .order_by(Document.due_date, Document.id).limit(limit))
    when = collection_date or today
    result = []
    for doc in session.exec(query):
        remaining = payments.remaining_to_pay(session, doc.id).unrequested
        if remaining <= 0:
            continue
        contacts = documents.document_contacts(session, doc.id)
        name, problem, seq = (contacts[0].display_name if contacts else ""), "", ""
        try:
            contact = _debtor(session, doc, today)
            name = contact.display_name
            seq = _check_contact(session, contact, when).value
        except DomainError as err:
            problem = err.message
        result.append(Candidate(doc.id, doc.number or "", name, format_date_fr(doc.due_date) if doc.due_date else "",
                                remaining, format_eur(remaining), seq, problem))
    return result


def _check_contact(session: Session, contact: Contact, collection_date: date) -> rules.SequenceType:
    name = contact.display_name or f"n° {contact.id}"
    if not (contact.email or "").strip():
        raise DomainError(f"Le contact {name} n'a pas d'adresse email : la pré-notification ne peut pas lui être "
                          "envoyée.")
    rules.check_sepa_iban(compact(crypto.decrypt(contact.iban_encrypted)), name)
    return rules.check_mandate_usable(mandate_use(session, contact), collection_date, name)


# --- creating a remittance ---------------------------------------------------------------------------


def _reference(company_id: int) -> str:
    return f"PRLV-{company_id}-{datetime.now(PARIS):%Y%m%d%H%M%S}-{secrets.token_hex(3).upper()}"[:35]


@dataclass(frozen=True)
class Created:
    remittance_id: int
    notice_failures: list[str]


def create_remittance(session_factory, user_id: int, company_id: int, method_id: int, doc_ids: list[int],
                      collection_date: date, today: date | None = None) -> Created:
    """Store the remittance (payments, file, notices) in one transaction, then email the
    notices. Any bad input: a French DomainError, nothing stored nor sent."""
    today = today or clock.today()
    with session_factory() as session:
        remittance_id, notice_ids = _store(session, user_id, company_id, method_id, doc_ids, collection_date, today)
    return Created(remittance_id, prenotification.send_notices(session_factory, notice_ids))


def _store(session: Session, user_id: int, company_id: int, method_id: int, doc_ids: list[int],
           collection_date: date, today: date) -> tuple[int, list[int]]:
    company = session.get(Company, company_id) if company_id else None
    if company is None:
        raise DomainError("Choisissez la société émettrice.", field="company_id")
    wanted = sorted({int(i) for i in doc_ids or []})
    if not wanted:
        raise DomainError("Cochez au moins une facture à prélever.")
    if not payments.get_preferences(session).simple_paiement_enabled:
        raise DomainError(payments.NOT_ENABLED)
    method, creditor = _creditor(session, company, method_id)
    if not emails.get_settings_row(session).enabled:
        raise DomainError(prenotification.EMAIL_OFF)
    days = prenotification.company_days(company)
    rules.check_collection_date(collection_date, today, days)
    now = utcnow()
    remittance = Remittance(company_id=company.id, method_id=method.id, reference=_reference(company.id),
                            collection_date=collection_date, status=_R.CREATED.value, total=Decimal("0.00"),
                            created_by_id=user_id, created_at=now)
    session.add(remittance)
    session.flush()
    collections, planned, seen_rums = [], [], {}
    for doc_id in wanted:  # locked in id order: no deadlock between two remittances
        doc = payments.lock_document(session, doc_id)
        label = doc.number or f"n° {doc.id}"
        if doc.kind != DocumentKind.FACTURE.value or doc.status != DocumentStatus.FINAL.value:
            raise DomainError(f"Le document {label} n'est pas une facture finalisée.")
        if doc.company_id != company.id:
            raise DomainError(f"La facture {label} est émise par une autre société.")
        if session.exec(select(RemittanceLine.id).where(RemittanceLine.live_document_id == doc.id)).first():
            raise DomainError(ALREADY_IN_REMITTANCE.format(number=label))
        amount = payments.remaining_to_pay(session, doc.id).unrequested
        if amount <= 0:
            raise DomainError(f"La facture {label} n'a plus rien à prélever (réglée, ou déjà demandée).")
        rules.check_amount(amount)
        contact = _debtor(session, doc, today)
        rum = (contact.rum or "").strip()
        if rum in seen_rums:  # the same mandate twice in one file: the same sequence
            if seen_rums[rum] is rules.SequenceType.ONE_OFF:
                raise DomainError(f"{contact.display_name} : ce mandat SEPA est ponctuel, il ne sert qu'une fois.")
            sequence = seen_rums[rum]
        else:
            sequence = seen_rums[rum] = _check_contact(session, contact, collection_date)
        iban = validate_iban(crypto.decrypt(contact.iban_encrypted))
        payment = payments.request_payment(session, doc.id, method.id, amount, user_id, today)
        payment.provider = PROVIDER_REMITTANCE
        session.add(payment)
        end_to_end = f"{remittance.id}-{doc.number or doc.id}"[:35]
        line = RemittanceLine(
            remittance_id=remittance.id, payment_id=payment.id, document_id=doc.id, contact_id=contact.id,
            live_document_id=doc.id, amount=amount, sequence_type=sequence.value, rum=rum,
            mandate_signed_on=contact.mandate_signed_on, debtor_name=contact.display_name,
            iban_masked=mask_iban(iban), end_to_end_id=end_to_end, status=_L.PENDING.value)
        try:
            with session.begin_nested():
                session.add(line)
                session.flush()
        except IntegrityError:  # another remittance took it meanwhile
            raise DomainError(ALREADY_IN_REMITTANCE.format(number=label)) from None
        collections.append(pain008.Collection(
            contact.display_name, iban, compact(contact.bic), amount, sequence.value, rum,
            contact.mandate_signed_on, end_to_end, f"Facture {doc.number}"))
        planned.append((doc, contact, amount))
    data = pain008.build(remittance.reference, creditor, collection_date, collections)
    sums = rules.totals([c.amount for c in collections])
    remittance.count, remittance.total = sums.count, sums.total
    remittance.file_xml = data.decode("utf-8")
    remittance.filename = f"{remittance.reference}.xml"
    session.add(remittance)
    notice_ids = [prenotification.queue_notice(session, user_id, doc, contact, amount, collection_date, creditor.ics,
                                               prenotification.CHANNEL_REMITTANCE, remittance.id).id
                  for doc, contact, amount in planned]
    _announce(session, *wanted)
    session.flush()
    return remittance.id, notice_ids


# --- the remittance's life --------------------------------------------------------------------------


def get_remittance(session: Session, remittance_id: int) -> Remittance:
    remittance = session.get(Remittance, remittance_id) if remittance_id else None
    if remittance is None:
        raise DomainError("Cette remise n'existe pas.")
    return remittance


def _lines(session: Session, remittance_id: int) -> list[RemittanceLine]:
    return list(session.exec(select(RemittanceLine).where(RemittanceLine.remittance_id == remittance_id)
                             .order_by(RemittanceLine.id).execution_options(populate_existing=True)))


def _lock(session: Session, remittance_id: int) -> tuple[Remittance, list[RemittanceLine]]:
    """Lock the remittance's invoices (id order), then read it again."""
    remittance = get_remittance(session, remittance_id)
    lines = _lines(session, remittance_id)
    for doc_id in sorted({line.document_id for line in lines}):
        payments.lock_document(session, doc_id)
    session.refresh(remittance)
    return remittance, _lines(session, remittance_id)


def _label(remittance: Remittance) -> str:
    return f"Remise {remittance.reference}"


def mark_sent(session: Session, remittance_id: int, today: date | None = None) -> Remittance:
    """The file went to the bank: the payments become « Prélèvement en cours »."""
    today = today or clock.today()
    remittance, lines = _lock(session, remittance_id)
    if remittance.status != _R.CREATED.value:
        raise DomainError(f"Cette remise est « {rules.REMITTANCE_LABELS[_R(remittance.status)]} » : "
                          "elle ne peut plus être transmise.")
    if remittance.collection_date <= today:
        raise DomainError(f"La date de prélèvement ({format_date_fr(remittance.collection_date)}) est passée : "
                          "annulez cette remise et créez-en une nouvelle.")
    days = prenotification.company_days(session.get(Company, remittance.company_id))
    notices = session.exec(select(PreNotice).where(PreNotice.remittance_id == remittance.id)).all()
    by_doc = {n.document_id: n for n in notices}
    for line in lines:
        notice = by_doc.get(line.document_id)
        sent_on = prenotification.notified_on(session, notice) if notice else None
        if sent_on is None:
            raise DomainError(f"La pré-notification de {line.debtor_name} n'est pas encore envoyée : "
                              "renvoyez-la avant de transmettre la remise.")
        try:
            rules.check_debit_notified(sent_on, days, remittance.collection_date, line.amount)
        except DomainError as err:
            raise DomainError(f"{line.debtor_name} : {err.message}") from None
    now = utcnow()
    for line in lines:
        payments.apply_status(session, line.payment_id, PaymentStatus.DEBIT_IN_PROGRESS, now, payments.SOURCE_USER,
                              note=f"{_label(remittance)} transmise à la banque.")
    remittance.status, remittance.sent_at = _R.SENT.value, now
    session.add(remittance)
    _announce(session, *[line.document_id for line in lines])
    session.flush()
    return remittance


def cancel_remittance(session: Session, remittance_id: int) -> Remittance:
    """Before it is marked sent: the remittance and its payments are cancelled; the
    invoices may go in another remittance."""
    remittance, lines = _lock(session, remittance_id)
    if remittance.status == _R.CANCELED.value:
        return remittance
    if remittance.status != _R.CREATED.value:
        raise DomainError("Cette remise est déjà transmise à la banque : elle ne peut plus être annulée. "
                          "Enregistrez la réponse de la banque pour chaque prélèvement.")
    now = utcnow()
    for line in lines:
        payments.apply_status(session, line.payment_id, PaymentStatus.CANCELED, now, payments.SOURCE_USER,
                              note=f"{_label(remittance)} annulée.")
        line.status, line.live_document_id, line.answered_at = _L.CANCELED.value, None, now
        session.add(line)
    remittance.status, remittance.canceled_at = _R.CANCELED.value, now
    session.add(remittance)
    _announce(session, *[line.document_id for line in lines])
    session.flush()
    return remittance


def _answer(session: Session, remittance: Remittance, line: RemittanceLine, paid: bool, received_on: date | None,
            code: str, now: datetime) -> None:
    if line.status != _L.PENDING.value:
        raise DomainError(f"Le prélèvement de {line.debtor_name} a déjà sa réponse "
                          f"(« {rules.LINE_LABELS[_L(line.status)]} »).")
    if paid:
        payments.apply_status(session, line.payment_id, PaymentStatus.RECEIVED, now, payments.SOURCE_USER,
                              received_on=received_on, note=f"{_label(remittance)} : prélèvement payé.")
        line.status = _L.PAID.value
    else:
        payments.apply_status(session, line.payment_id, PaymentStatus.FAILED, now, payments.SOURCE_USER,
                              note=f"{_label(remittance)} : rejeté par la banque ({rules.reject_label(code)}).")
        line.status, line.reject_code = _L.REJECTED.value, code
    line.live_document_id, line.answered_at = None, now
    session.add(line)


def _check_answer(remittance: Remittance, paid: bool, received_on: date | None, code: str,
                  today: date) -> tuple[date | None, str]:
    if remittance.status not in (_R.SENT.value, _R.DONE.value):
        raise DomainError("Marquez d'abord la remise comme transmise à la banque.")
    if paid:
        if received_on is None:
            raise DomainError("Indiquez la date de réception du paiement.", field="received_on")
        if received_on > today:
            raise DomainError("La date de réception ne peut pas être dans le futur.", field="received_on")
        return received_on, ""
    return None, rules.check_reject_code(code)


def _finish(session: Session, remittance: Remittance, lines: list[RemittanceLine]) -> Remittance:
    remittance.status = rules.remittance_status_after([_L(line.status) for line in lines]).value
    session.add(remittance)
    _announce(session, *[line.document_id for line in lines])
    session.flush()
    return remittance


def record_line(session: Session, line_id: int, paid: bool, received_on: date | None = None, code: str = "",
                today: date | None = None) -> RemittanceLine:
    """The bank's answer for one collection: paid (on ``received_on``) or rejected (``code``)."""
    line = session.get(RemittanceLine, line_id) if line_id else None
    if line is None:
        raise DomainError("Ce prélèvement n'existe pas.")
    remittance, lines = _lock(session, line.remittance_id)
    received_on, code = _check_answer(remittance, paid, received_on, code, today or clock.today())
    line = next(one for one in lines if one.id == line_id)
    _answer(session, remittance, line, paid, received_on, code, utcnow())
    _finish(session, remittance, lines)
    return line


def record_all(session: Session, remittance_id: int, paid: bool, received_on: date | None = None, code: str = "",
               today: date | None = None) -> int:
    """The same answer for every collection of the remittance still waiting; how many."""
    remittance, lines = _lock(session, remittance_id)
    received_on, code = _check_answer(remittance, paid, received_on, code, today or clock.today())
    waiting = [line for line in lines if line.status == _L.PENDING.value]
    if not waiting:
        raise DomainError("Tous les prélèvements de cette remise ont déjà leur réponse.")
    now = utcnow()
    for line in waiting:
        _answer(session, remittance, line, paid, received_on, code, now)
    _finish(session, remittance, lines)
    return len(waiting)


def resend_notices(session_factory, remittance_id: int) -> list[str]:
    """Send again the remittance's notices not sent yet; returns the French failures."""
    with session_factory() as session:
        get_remittance(session, remittance_id)
        ids = [n.id for n in session.exec(select(PreNotice).where(PreNotice.remittance_id == remittance_id))]
    return prenotification.send_notices(session_factory, ids)


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemittanceRow:
    id: int
    reference: str
    company: str
    collection_date: str
    count: int
    total: str
    status: str
    status_label: str
    created_at: str


def list_remittances(session: Session, limit: int = 100) -> list[RemittanceRow]:
    query = (select(Remittance, Company.name).join(Company, Company.id == Remittance.company_id)
             .order_by(Remittance.created_at.desc(), Remittance.id.desc()).limit(limit))
    return [RemittanceRow(r.id, r.reference, name, format_date_fr(r.collection_date), r.count, format_eur(r.total),
                          r.status, rules.REMITTANCE_LABELS[_R(r.status)],
                          r.created_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"))
            for r, name in session.exec(query)]


@dataclass(frozen=True)
class LineRow:
    id: int
    document_id: int
    number: str
    debtor: str
    iban_masked: str
    rum: str
    sequence_type: str
    amount: str
    status: str
    status_label: str  # « Rejeté — AM04 Provision insuffisante »…
    notice: str  # the pre-notification's email status
    can_answer: bool


def remittance_lines(session: Session, remittance_id: int) -> list[LineRow]:
    remittance = get_remittance(session, remittance_id)
    notices = {n.document_id: n for n in session.exec(select(PreNotice).where(PreNotice.remittance_id == remittance_id))}
    rows = []
    for line in _lines(session, remittance_id):
        doc = session.get(Document, line.document_id)
        notice = notices.get(line.document_id)
        sent_on = prenotification.notified_on(session, notice) if notice else None
        label = rules.LINE_LABELS[_L(line.status)]
        if line.status == _L.PENDING.value and remittance.status == _R.CREATED.value:
            label = "À transmettre"
        if line.reject_code:
            label = f"{label} — {rules.reject_label(line.reject_code)}"
        rows.append(LineRow(
            id=line.id, document_id=line.document_id, number=doc.number or "", debtor=line.debtor_name,
            iban_masked=line.iban_masked, rum=line.rum, sequence_type=line.sequence_type,
            amount=format_eur(line.amount), status=line.status, status_label=label,
            notice=f"Envoyée le {format_date_fr(sent_on)}" if sent_on else "Non envoyée",
            can_answer=remittance.status == _R.SENT.value and line.status == _L.PENDING.value,
        ))
    return rows


def remittance_file(session: Session, remittance_id: int) -> tuple[str, bytes]:
    """(filename, bytes) of the pain.008 file, as generated."""
    remittance = get_remittance(session, remittance_id)
    if remittance.status == _R.CANCELED.value:
        raise DomainError("Cette remise est annulée : son fichier ne doit pas être transmis à la banque.")
    return remittance.filename, remittance.file_xml.encode("utf-8")


@dataclass(frozen=True)
class DocumentCollection:
    """One collection of an invoice in a remittance, for the invoice screen."""

    reference: str
    collection_date: str
    amount: str
    status: str
    status_label: str  # « Rejeté — AM04 — Provision insuffisante »…


def document_collections(session: Session, doc_id: int) -> list[DocumentCollection]:
    """The invoice's collections by remittance, newest first (with the bank's reject reason)."""
    query = (select(RemittanceLine, Remittance).join(Remittance, Remittance.id == RemittanceLine.remittance_id)
             .where(RemittanceLine.document_id == doc_id)
             .order_by(Remittance.created_at.desc(), RemittanceLine.id.desc()))
    rows = []
    for line, remittance in session.exec(query):
        label = rules.LINE_LABELS[_L(line.status)]
        if line.status == _L.PENDING.value and remittance.status == _R.CREATED.value:
            label = "À transmettre"
        if line.reject_code:
            label = f"{label} — {rules.reject_label(line.reject_code)}"
        rows.append(DocumentCollection(remittance.reference, format_date_fr(remittance.collection_date),
                                       format_eur(line.amount), line.status, label))
    return rows
