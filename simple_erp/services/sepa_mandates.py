"""« Générer le mandat SEPA » on a fiche contact: the RUM (generated once, unique), the
mandate form as PDF kept in the contact's « Fichiers », and « Envoyer par email » of those
files from the fiche contact (through the email module: stored first, then sent).

Nothing is written when an input is missing or wrong (no IBAN, an IBAN outside SEPA, a
company without ICS or address…): every check runs before the RUM is stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain import sepa
from simple_erp.domain.email_templates import text_to_html
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact, ContactFile
from simple_erp.models.email import EmailAttachment, EmailMessage
from simple_erp.models.user import User
from simple_erp.services import changes, companies, contacts
from simple_erp.services.emails.compose import check_envelope
from simple_erp.services.emails.settings import (
    ATTACHMENTS_MAX_BYTES,
    DISABLED,
    QUEUED,
    announce,
    get_settings_row,
    new_reference,
    sender_for,
    user_of,
)

ORIGIN = "mandat_sepa"
_RUM_RETRIES = 5
Renderer = Callable[[sepa.MandateForm], bytes]


def _default_renderer() -> Renderer:
    from simple_erp.providers.sepa_mandate_pdf import render_mandate_pdf

    return render_mandate_pdf


def _creditor(session: Session, company_id: int | None) -> Company:
    if company_id:
        return companies.get_company(session, company_id)
    company = companies.default_company(session)
    if company is None:
        raise DomainError("Aucune société émettrice : créez-la dans Admin ERP → « 1. Société émettrice ».")
    return company


def _rum_taken(session: Session, contact_id: int) -> Callable[[str], bool]:
    def taken(rum: str) -> bool:
        return session.exec(select(Contact.id).where(Contact.rum == rum, Contact.id != contact_id)).first() is not None
    return taken


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def new_rum(session: Session, company: Company, contact_id: int, year: int) -> str:
    """The next free RUM of the company's pattern (read only: nothing is stored)."""
    pattern = sepa.validate_rum_pattern(company.rum_pattern)
    prefix = sepa.rum_prefix(pattern, year, contact_id)
    query = select(Contact.rum).where(Contact.rum.is_not(None))
    if prefix:
        query = query.where(Contact.rum.like(f"{_like_escape(prefix)}%", escape="\\"))
    used = [sepa.rum_seq(pattern, year, contact_id, rum) for rum in session.exec(query)]
    start = max([n for n in used if n is not None], default=0) + 1
    return sepa.next_rum(pattern, year, contact_id, _rum_taken(session, contact_id), start=start)


def _form(company: Company, contact: Contact, rum: str) -> sepa.MandateForm:
    return sepa.mandate_form(
        rum=rum, creditor_name=company.name,
        creditor_address=(company.address_line1, company.address_line2, company.postal_code, company.city,
                          company.country),
        ics=company.ics, debtor_name=contact.display_name,
        debtor_address=(contact.address_line1, contact.address_line2, contact.postal_code, contact.city,
                        contact.country),
        iban=crypto.decrypt(contact.iban_encrypted) if contact.iban_encrypted else "", bic=contact.bic,
        mandate_type=contact.mandate_type, signed_on=contact.mandate_signed_on,
    )


def _check_iban_present(contact: Contact) -> None:
    if not contact.iban_encrypted:
        raise DomainError("Ce contact n'a pas d'IBAN : complétez son mandat SEPA (IBAN, BIC) avec « Modifier la "
                          "fiche contact » avant de générer le mandat.", field="iban")


def _store_rum(session: Session, company: Company, contact: Contact, year: int) -> str:
    """Give the contact a new RUM; a concurrent save of the same RUM makes it take the next one."""
    for _ in range(_RUM_RETRIES):
        rum = new_rum(session, company, contact.id, year)
        try:
            with session.begin_nested():
                contact.rum = rum
                session.add(contact)
                session.flush()
        except IntegrityError:
            session.refresh(contact)
            continue
        return rum
    raise DomainError("Impossible d'attribuer une référence de mandat (RUM) libre : réessayez.", field="rum")


def _filename(session: Session, contact_id: int, rum: str) -> str:
    base = "Mandat_SEPA_" + (re.sub(r"[^A-Za-z0-9-]+", "_", rum).strip("_") or str(contact_id))
    taken = set(session.exec(select(ContactFile.filename).where(ContactFile.contact_id == contact_id)))
    filename, suffix = f"{base}.pdf", 2
    while filename in taken:
        filename, suffix = f"{base}-{suffix}.pdf", suffix + 1
    return filename


def generate_mandate(session: Session, contact_id: int, *, today, company_id: int | None = None,
                     render: Renderer | None = None) -> ContactFile:
    """The contact's mandate form as a new PDF in its « Fichiers »; a RUM is generated (from
    the company's pattern) and stored on the contact when it has none. Every input is checked
    first: on a refusal (French message) nothing is stored."""
    contact = contacts.get_contact(session, contact_id)
    company = _creditor(session, company_id)
    _check_iban_present(contact)
    rum = contact.rum or new_rum(session, company, contact.id, today.year)
    form = _form(company, contact, rum)  # raises before anything is written
    content = (render or _default_renderer())(form)
    if not isinstance(content, (bytes, bytearray)) or not content:
        raise DomainError("La génération du PDF n'a produit aucun contenu.")
    if not contact.rum:
        rum = _store_rum(session, company, contact, today.year)
        if rum != form.rum:  # taken meanwhile: print the one stored
            form = _form(company, contact, rum)
            content = (render or _default_renderer())(form)
    content = bytes(content)
    file = ContactFile(contact_id=contact.id, filename=_filename(session, contact.id, rum),
                       content_type="application/pdf", size=len(content),
                       sha256=hashlib.sha256(content).hexdigest(), origin=ORIGIN, content=content)
    session.add(file)
    changes.touch(session, f"contact:{contact.id}")
    session.flush()
    return file


def list_files(session: Session, contact_id: int) -> list[ContactFile]:
    """The contact's files, newest first, without their content."""
    query = (select(ContactFile).options(defer(ContactFile.content)).where(ContactFile.contact_id == contact_id)
             .order_by(ContactFile.created_at.desc(), ContactFile.id.desc()))
    return list(session.exec(query))


def get_file_content(session: Session, file_id: int) -> tuple[ContactFile, bytes]:
    file = session.get(ContactFile, file_id) if file_id else None
    if file is None:
        raise DomainError("Ce fichier n'existe pas.")
    return file, file.content


# --- « Envoyer par email » from the fiche contact ------------------------------------------


@dataclass
class ContactEmailDefaults:
    to: str
    subject: str
    body: str
    files: list[tuple[int, str]]  # (contact_file id, filename), newest first
    default_file_ids: list[int]


def email_defaults(session: Session, contact_id: int, user: User | int | None = None) -> ContactEmailDefaults:
    """What the fiche contact's « Envoyer par email » starts with: the contact's address, a
    text asking to return the signed mandate, and the newest mandate form ticked."""
    contact = contacts.get_contact(session, contact_id)
    company = companies.default_company(session)
    sender = user_of(session, user) if user is not None else None
    company_name = company.name if company else ""
    files = list_files(session, contact_id)
    newest = next((f.id for f in files if f.origin == ORIGIN), None)
    rum = f" (RUM {contact.rum})" if contact.rum else ""
    body = (f"Bonjour {contact.display_name},\n\n"
            f"Veuillez trouver ci-joint votre mandat de prélèvement SEPA{rum}. Merci de le compléter, de le "
            "signer et de nous le renvoyer accompagné d'un relevé d'identité bancaire (RIB).\n\n"
            "Cordialement,\n" + "\n".join(x for x in ((sender.full_name if sender else ""), company_name) if x))
    return ContactEmailDefaults(
        to=contact.email or "", subject=f"Mandat de prélèvement SEPA – {company_name}".rstrip(" –"),
        body=body, files=[(f.id, f.filename) for f in files], default_file_ids=[newest] if newest else [],
    )


def queue_contact_email(session: Session, user: User | int, contact_id: int, *, to: str, cc: str, subject: str,
                        body: str, file_ids: list[int]) -> int:
    """Check the form and store the message (« En file ») with the contact's files as its
    attachments; ``emails.send_queued`` sends it."""
    if not get_settings_row(session).enabled:
        raise DomainError(DISABLED)
    author = user_of(session, user)
    sender_email, sender_name = sender_for(author)
    contact = contacts.get_contact(session, contact_id)
    to_list, cc_list, errors = check_envelope(to, cc, subject, body)
    wanted = list(dict.fromkeys(int(i) for i in file_ids or []))
    files: list[ContactFile] = []
    if wanted:
        found = {f.id: f for f in session.exec(select(ContactFile).options(defer(ContactFile.content))
                                               .where(ContactFile.id.in_(wanted)))}
        if any(i not in found or found[i].contact_id != contact.id for i in wanted):
            errors["files"] = "Une pièce jointe cochée n'appartient pas à ce contact : rouvrez la fiche."
        else:
            files = [found[i] for i in wanted]
            if sum(f.size for f in files) > ATTACHMENTS_MAX_BYTES:
                errors["files"] = f"Pièces jointes trop volumineuses : {ATTACHMENTS_MAX_BYTES // 1_048_576} Mo au plus."
    if errors:
        raise ValidationErrors(errors)
    text = (body or "").replace("\r\n", "\n")
    message = EmailMessage(contact_id=contact.id, sender_email=sender_email, sender_name=sender_name,
                           to_addrs=", ".join(to_list), cc_addrs=", ".join(cc_list), subject=subject.strip(),
                           body_text=text, body_html=text_to_html(text), status=QUEUED, created_by_id=author.id,
                           reference=new_reference())
    session.add(message)
    session.flush()
    for file in files:
        session.add(EmailAttachment(message_id=message.id, contact_file_id=file.id, filename=file.filename,
                                    mime_type=file.content_type, size=file.size))
    announce(session, message)
    session.flush()
    return message.id


def contact_emails(session: Session, contact_id: int) -> list[tuple[EmailMessage, list[str]]]:
    """The emails sent from the fiche contact, newest first, with their attachments' names."""
    messages = list(session.exec(select(EmailMessage).where(EmailMessage.contact_id == contact_id)
                                 .order_by(EmailMessage.created_at.desc(), EmailMessage.id.desc())))
    names: dict[int, list[str]] = {}
    if messages:
        query = (select(EmailAttachment.message_id, EmailAttachment.filename)
                 .where(EmailAttachment.message_id.in_([m.id for m in messages])).order_by(EmailAttachment.id))
        for message_id, filename in session.exec(query):
            names.setdefault(message_id, []).append(filename)
    return [(m, names.get(m.id, [])) for m in messages]
