"""E-mail: the "Envoyer par email" form: its defaults (rubrique, modèle, placeholders,
payment information), its checks, and the message stored before it is sent. Part of
``services.emails`` (use it from there).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain.contact_rules import format_iban, validate_email
from simple_erp.domain.documents import KIND_LABELS, DocumentKind, DocumentStatus
from simple_erp.domain.email_templates import render, text_to_html
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.domain.remaining_due import RemainingDue, in_flight_note, nothing_to_pay_message
from simple_erp.models.document import Document, DocumentFile
from simple_erp.models.email import (
    EmailAttachment,
    EmailMessage,
    EmailRubrique,
)
from simple_erp.models.payment import Account, Payment, PaymentMethod
from simple_erp.models.user import User
from simple_erp.services import documents, payments
from simple_erp.services.emails.rubriques import body_problem, get_template, subject_problem
from simple_erp.services.emails.settings import (
    ATTACHMENTS_MAX_BYTES,
    DISABLED,
    MAX_RECIPIENTS,
    QUEUED,
    announce,
    get_settings_row,
    new_reference,
    sender_for,
    user_of,
)

log = logging.getLogger(__name__)
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")


# --- the "Envoyer par email" form ------------------------------------------------------------------


@dataclass
class ComposeDefaults:
    to: str
    cc: str
    subject: str
    body: str
    files: list[tuple[int, str]]  # (document_file id, filename), newest first
    payment_info_available: bool
    payment_info_text: str  # what "Joindre les informations de paiement" appends
    default_file_ids: list[int] | None = None  # suggestion: the newest generated PDF
    default_rubrique_id: int | None = None  # Factures for a facture, Devis for a devis…


@dataclass
class SendRequest:
    doc_id: int
    to: str
    cc: str
    subject: str
    body: str
    file_ids: list[int]
    include_payment_info: bool


_RUBRIQUE_FOR_KIND = {DocumentKind.FACTURE.value: "Factures", DocumentKind.DEVIS.value: "Devis"}


def _payment_link(session: Session, doc: Document, public_payment_base: str,
                  remaining: RemainingDue | None) -> tuple[str, Decimal | None]:
    """(URL, its amount) to pay online: the newest pending Mollie card checkout that fits in
    what remains to pay, else the public payment page (which asks for what remains to pay);
    ("", None) when nothing remains to pay (e.g. a running direct debit covers it)."""
    if remaining is None or remaining.to_pay <= 0:
        return "", None
    debit_methods = payments.direct_debit_method_ids(session, session.exec(
        select(Payment.method_id).where(Payment.document_id == doc.id)).all())
    query = (
        select(Payment.checkout_url, Payment.amount, Payment.method_id)
        .where(Payment.document_id == doc.id, Payment.provider == "mollie",
               Payment.status == PaymentStatus.PENDING.value, Payment.checkout_url != "")
        .order_by(Payment.requested_at.desc(), Payment.id.desc())
    )
    for url, amount, method_id in session.exec(query):
        if method_id not in debit_methods and amount <= remaining.to_pay:
            return url, amount
    token = getattr(doc, "public_token", None)
    if (public_payment_base and token and doc.kind == DocumentKind.FACTURE.value
            and doc.status == DocumentStatus.FINAL.value):
        return f"{public_payment_base.rstrip('/')}/payer/{token}", remaining.to_pay
    return "", None


def _bank_lines(holder: str, iban: str, bic: str, bank_name: str = "") -> str:
    lines = [f"Titulaire : {holder}"] if holder else []
    lines.append(f"IBAN : {iban}")
    if bic:
        lines.append(f"BIC : {bic}")
    if bank_name:
        lines.append(f"Banque : {bank_name}")
    return "\n".join(lines)


def _bank_details(session: Session, doc: Document, holder: str, company_iban: str, company_bic: str) -> str:
    """IBAN/BIC of the account behind the newest manual request's moyen, else the company's."""
    query = (
        select(Account)
        .join(PaymentMethod, PaymentMethod.account_id == Account.id)
        .join(Payment, Payment.method_id == PaymentMethod.id)
        .where(Payment.document_id == doc.id, Payment.provider == "manuel")
        .order_by(Payment.requested_at.desc(), Payment.id.desc())
    )
    account = session.exec(query).first()
    if account is not None and account.iban_encrypted:
        return _bank_lines(holder, format_iban(crypto.decrypt(account.iban_encrypted)), account.bic,
                           account.bank_name)
    if company_iban:
        return _bank_lines(holder, company_iban, company_bic)
    return ""


@dataclass(frozen=True)
class _PaymentFacts:
    """What the payment information says, beside the placeholders."""

    remaining: RemainingDue | None  # None: not an invoice
    link_amount: Decimal | None  # what {lien_paiement} asks for


def _remaining(session: Session, doc: Document) -> RemainingDue | None:
    """What remains to pay on a finalised invoice, net of received and in-flight payments."""
    if (doc.kind != DocumentKind.FACTURE.value or doc.status != DocumentStatus.FINAL.value
            or doc.total_ttc <= 0):
        return None
    return payments.remaining_to_pay(session, doc.id)


def _values_and_facts(session: Session, doc: Document, user: User | None,
                      public_payment_base: str) -> tuple[dict[str, str], _PaymentFacts]:
    view = documents.document_view(session, doc.id)
    contacts = documents.document_contacts(session, doc.id)
    contact = contacts[0] if contacts else None
    remaining = _remaining(session, doc)
    if remaining is not None:
        reste_du = remaining.to_pay
    elif doc.kind == DocumentKind.FACTURE.value:
        reste_du = max(doc.total_ttc - doc.amount_received, Decimal(0))
    else:
        reste_du = doc.total_ttc
    seller = view.seller
    link, link_amount = _payment_link(session, doc, public_payment_base, remaining)
    bank = _bank_details(session, doc, seller.name, view.bank_iban, view.bank_bic)
    nothing = nothing_to_pay_message(remaining) if remaining is not None else ""
    if nothing:  # never a way to pay what is paid or already on its way
        link, bank = nothing, nothing
    values = {
        "contact_nom": contact.display_name if contact else "",
        "contact_prenom": contact.first_name if contact else "",
        "contact_email": contact.email if contact else "",
        "document_type": KIND_LABELS[DocumentKind(doc.kind)],
        "document_numero": doc.number if doc.status == DocumentStatus.FINAL.value and doc.number else "(brouillon)",
        "document_date": format_date_fr(doc.issue_date),
        "document_echeance": format_date_fr(doc.due_date) if doc.due_date else "",
        "document_total_ht": format_eur(doc.total_ht),
        "document_total_ttc": format_eur(doc.total_ttc),
        "document_reste_du": format_eur(reste_du),
        "societe_nom": seller.name,
        "societe_email": seller.email,
        "societe_telephone": seller.phone,
        "expediteur_nom": (user.full_name if user else "") or "",
        "expediteur_email": (user.email if user else "") or "",
        "lien_paiement": link,
        "coordonnees_bancaires": bank,
    }
    return values, _PaymentFacts(remaining, link_amount)


def _placeholder_values(session: Session, doc: Document, user: User | None,
                        public_payment_base: str) -> dict[str, str]:
    return _values_and_facts(session, doc, user, public_payment_base)[0]


def _payment_info_text(doc: Document, values: dict[str, str], facts: _PaymentFacts) -> str:
    """What "Joindre les informations de paiement" appends: on an invoice, what remains to
    pay net of received and in-flight payments (a running direct debit is never asked
    again), then a way to pay it (online link, else bank details); when nothing remains,
    only says so."""
    if doc.kind == DocumentKind.AVOIR.value:
        return ""
    remaining = facts.remaining
    if remaining is not None:
        nothing = nothing_to_pay_message(remaining)
        if nothing:
            return nothing
    how = ""
    if values["lien_paiement"]:
        amount = ""
        if remaining is not None and facts.link_amount is not None and facts.link_amount != remaining.to_pay:
            amount = f" {format_eur(facts.link_amount)}"
        how = f"Pour régler{amount} en ligne, en toute sécurité :\n{values['lien_paiement']}"
    elif values["coordonnees_bancaires"]:
        reference = (f"\nRéférence à indiquer dans le libellé du virement : {values['document_numero']}"
                     if doc.number else "")
        how = f"Pour régler par virement :\n{values['coordonnees_bancaires']}{reference}"
    if not how:
        return ""
    if remaining is None:
        return how
    lines = [f"Montant restant à régler : {format_eur(remaining.to_pay)}."]
    note = in_flight_note(remaining)
    if note:
        lines.append(note)
    return "\n".join(lines) + "\n" + how


def _recipient_emails(contacts) -> list[str]:
    seen, emails = set(), []
    for contact in contacts:
        email = (contact.email or "").strip()
        if email and email.lower() not in seen:
            seen.add(email.lower())
            emails.append(email)
    return emails


def compose_defaults(session: Session, doc_id: int, template_id: int | None = None, *,
                     user: User | int | None = None, public_payment_base: str = "") -> ComposeDefaults:
    """What the "Envoyer par email" form starts with: the linked contacts' addresses, the
    modèle's subject and text filled with the document's values, the document's files and
    the payment information. ``user`` fills {expediteur_nom}/{expediteur_email};
    ``public_payment_base`` (e.g. "https://erp.example.fr") allows the public payment page
    as {lien_paiement} when no Mollie request is pending."""
    doc = documents.get_document(session, doc_id)
    signed_in = user_of(session, user) if user is not None else None
    values, facts = _values_and_facts(session, doc, signed_in, public_payment_base)
    subject = body = ""
    if template_id:
        template = get_template(session, template_id)
        subject, body = render(template.subject, values), render(template.body, values)
    files = documents.list_files(session, doc_id)
    newest_pdf = next((f.id for f in files if f.origin == "pdf"), None)
    rubrique_name = _RUBRIQUE_FOR_KIND.get(doc.kind)
    rubrique_id = (session.exec(select(EmailRubrique.id).where(EmailRubrique.name == rubrique_name)).first()
                   if rubrique_name else None)
    payment_text = _payment_info_text(doc, values, facts)
    return ComposeDefaults(
        to=", ".join(_recipient_emails(documents.document_contacts(session, doc_id))),
        cc="", subject=subject, body=body,
        files=[(f.id, f.filename) for f in files],
        payment_info_available=bool(payment_text), payment_info_text=payment_text,
        default_file_ids=[newest_pdf] if newest_pdf else [], default_rubrique_id=rubrique_id,
    )


def parse_addresses(text: str) -> tuple[list[str], list[str]]:
    """(valid addresses, French problems) of a comma / semicolon / space separated list."""
    valid, problems, seen = [], [], set()
    for raw in _ADDRESS_SEPARATORS.split(text or ""):
        if not raw:
            continue
        try:
            address = validate_email(raw)
        except DomainError as exc:
            problems.append(f"« {raw} » : {exc.message}")
            continue
        if address.lower() not in seen:
            seen.add(address.lower())
            valid.append(address)
    return valid, problems


def check_envelope(to: str, cc: str, subject: str, body: str) -> tuple[list[str], list[str], dict[str, str]]:
    """(recipients, copies, field errors in French) of an email form: addresses, their
    number, subject and text. Shared by the document's and the fiche contact's forms."""
    errors: dict[str, str] = {}
    to_list, to_problems = parse_addresses(to)
    cc_list, cc_problems = parse_addresses(cc)
    if to_problems:
        errors["to"] = "Destinataire invalide " + " ; ".join(to_problems)
    elif not to_list:
        errors["to"] = "Indiquez au moins un destinataire."
    if cc_problems:
        errors["cc"] = "Adresse en copie invalide " + " ; ".join(cc_problems)
    if len(to_list) + len(cc_list) > MAX_RECIPIENTS:
        errors["to"] = f"Trop de destinataires : {MAX_RECIPIENTS} au plus."
    for field, problem in (("subject", subject_problem(subject or "")), ("body", body_problem(body or ""))):
        if problem:
            errors[field] = problem
    return to_list, cc_list, errors


def _check_request(session: Session, req: SendRequest) -> tuple[list[str], list[str], list[DocumentFile]]:
    to, cc, errors = check_envelope(req.to, req.cc, req.subject, req.body)
    try:
        wanted = list(dict.fromkeys(int(i) for i in req.file_ids or []))
    except (TypeError, ValueError):
        wanted, errors["files"] = [], "Pièces jointes invalides : rouvrez le document."
    files: list[DocumentFile] = []
    if wanted:
        query = select(DocumentFile).options(defer(DocumentFile.content)).where(DocumentFile.id.in_(wanted))
        found = {f.id: f for f in session.exec(query)}
        if any(i not in found or found[i].document_id != req.doc_id for i in wanted):
            errors["files"] = "Une pièce jointe cochée n'appartient pas à ce document : rouvrez-le."
        else:
            files = [found[i] for i in wanted]
            total = sum(f.size for f in files)
            if total > ATTACHMENTS_MAX_BYTES:
                errors["files"] = (f"Pièces jointes trop volumineuses ({total / 1_048_576:.1f} Mo) : "
                                   f"{ATTACHMENTS_MAX_BYTES // 1_048_576} Mo au plus.").replace(".", ",", 1)
    if errors:
        raise ValidationErrors(errors)
    return to, cc, files


def _with_payment_info(body: str, info: str, values: dict[str, str]) -> str:
    already = [v for v in (values["lien_paiement"], values["coordonnees_bancaires"]) if v]
    if any(v in body for v in already):
        return body
    return f"{body.rstrip()}\n\n{info}"


def queue_email(session: Session, user: User | int, req: SendRequest) -> int:
    """Check the form and store the message (status "en_file") with its attachments'
    references, in the caller's transaction; nothing is sent yet (see send_queued)."""
    if not get_settings_row(session).enabled:
        raise DomainError(DISABLED)
    author = user_of(session, user)
    sender_email, sender_name = sender_for(author)
    doc = documents.get_document(session, req.doc_id)
    to, cc, files = _check_request(session, req)
    body = (req.body or "").replace("\r\n", "\n")
    if req.include_payment_info:
        values, facts = _values_and_facts(session, doc, author, "")
        info = _payment_info_text(doc, values, facts)
        if not info:
            raise DomainError("Aucune information de paiement pour ce document : ni demande de paiement "
                              "Mollie en cours, ni coordonnées bancaires (Admin ERP).",
                              field="include_payment_info")
        body = _with_payment_info(body, info, values)
    message = EmailMessage(
        document_id=doc.id, sender_email=sender_email, sender_name=sender_name,
        to_addrs=", ".join(to), cc_addrs=", ".join(cc), subject=req.subject.strip(),
        body_text=body, body_html=text_to_html(body), include_payment_info=bool(req.include_payment_info),
        status=QUEUED, created_by_id=author.id, reference=new_reference(),
    )
    session.add(message)
    session.flush()
    for file in files:
        session.add(EmailAttachment(message_id=message.id, document_file_id=file.id, filename=file.filename,
                                    mime_type=file.content_type or "application/octet-stream", size=file.size))
    announce(session, message)
    session.flush()
    return message.id
