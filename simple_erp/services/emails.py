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
argument, which comes back in its events: an event for an uncertain failure proves it was
accepted, and turns it into "envoye". Until then, ``retry`` asks for a confirmation
(``UncertainSend``) instead of perhaps sending it twice.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.config import get_settings
from simple_erp.domain.contact_rules import format_iban, validate_email
from simple_erp.domain.documents import KIND_LABELS, DocumentKind, DocumentStatus
from simple_erp.domain.email_templates import check_template, render, text_to_html
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.domain.payment_rules import PaymentStatus
from simple_erp.models.document import Document, DocumentFile
from simple_erp.models.email import (
    EmailAttachment,
    EmailEvent,
    EmailMessage,
    EmailRubrique,
    EmailSettings,
    EmailTemplate,
)
from simple_erp.models.payment import Account, Payment, PaymentMethod
from simple_erp.models.types import utcnow
from simple_erp.models.user import User
from simple_erp.providers.email import REFERENCE_ARG, Attachment, EmailError, OutgoingEmail, SendGridGateway
from simple_erp.services import changes, documents
from simple_erp.services.clock import PARIS

log = logging.getLogger(__name__)

QUEUED, SENT, FAILED = "en_file", "envoye", "echec"
STATUS_LABELS = {QUEUED: "En file", SENT: "Envoyé", FAILED: "Échec"}
UNCERTAIN_LABEL = "Envoi incertain"
UNCERTAIN_RETRY = ("SendGrid n'a pas répondu lors du dernier envoi : cet email est peut-être déjà parti. "
                   "Le renvoyer quand même ?")
EVENT_LABELS = {"delivered": "Délivré", "open": "Ouvert", "bounce": "Rejeté (bounce)",
                "dropped": "Non remis (dropped)"}
_EVENT_RANK = {"": 0, "delivered": 1, "open": 2, "bounce": 3, "dropped": 3}

SETTINGS_PLACE = "Admin CRM → 13. Paramètres"
DISABLED = f"Activez l'envoi de documents par email ({SETTINGS_PLACE})."
NO_KEY = f"Aucune clé API SendGrid n'est enregistrée : saisissez-la dans {SETTINGS_PLACE}."
NO_SENDER = ("Votre adresse email n'est pas renseignée : complétez « Mon profil » (menu utilisateur) "
             "avant d'envoyer des emails.")
BAD_KEY = "La clé API SendGrid commence par « SG. » : copiez-la entière depuis SendGrid (Settings → API Keys)."
TEST_SUBJECT = "Email de test — Simple ERP"
TEST_BODY = ("Bonjour,\n\nCeci est un email de test envoyé depuis Simple ERP : l'envoi de documents "
             "par email fonctionne avec votre clé SendGrid et votre adresse d'expédition.\n\n"
             "Simple ERP")

# A claimed send not finished after this long (crash, killed worker) may be claimed again.
SEND_CLAIM_TIMEOUT = timedelta(minutes=5)
# "Réessayer" is offered on a message still "en file" this long after it was queued.
STUCK_AFTER = timedelta(minutes=2)
MAX_RECIPIENTS = 50
SUBJECT_MAX, BODY_MAX, NAME_MAX, RUBRIQUE_MAX = 300, 100_000, 150, 100
ATTACHMENTS_MAX_BYTES = 20 * 1024 * 1024  # SendGrid: 30 MB per message once base64-encoded
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")

GatewayFactory = Callable[[str, str | None], SendGridGateway]


class UncertainSend(DomainError):
    """``retry`` of a message that may already have been sent: confirm first."""


def new_reference() -> str:
    return secrets.token_hex(16)
_gateway_factory: GatewayFactory | None = None


# --- settings ----------------------------------------------------------------------------------


def get_settings_row(session: Session) -> EmailSettings:
    row = session.get(EmailSettings, 1)
    if row is None:  # seeded by the migration; recreated if someone deleted it
        row = EmailSettings(id=1)
        session.add(row)
        session.flush()
    return row


def _api_key(row: EmailSettings) -> str:
    return crypto.decrypt(row.sendgrid_api_key_encrypted)


def mask_api_key(key: str) -> str:
    """``SG.xxxx…abcd`` -> ``SG.••••••••abcd`` ("" when no key)."""
    return f"SG.••••••••{key[-4:]}" if key else ""


def email_settings_view(session: Session) -> dict:
    """What the settings form shows: never the key itself, only its mask."""
    row = get_settings_row(session)
    key = _api_key(row)
    return {"enabled": bool(row.enabled), "key_display": mask_api_key(key), "has_key": bool(key),
            "sandbox": bool(get_settings().sendgrid_sandbox)}


def save_email_settings(session: Session, enabled: bool, api_key: str | None) -> dict:
    """Switch sending on or off and, when ``api_key`` is given, replace the key (None or ""
    keeps the current one). Returns the new ``email_settings_view``."""
    row = get_settings_row(session)
    key = (api_key or "").strip()
    if key:
        if not key.startswith("SG.") or any(char.isspace() for char in key) or len(key) > 200:
            raise DomainError(BAD_KEY, field="api_key")
        row.sendgrid_api_key_encrypted = crypto.encrypt(key)
    if enabled and not row.sendgrid_api_key_encrypted and not get_settings().sendgrid_sandbox:
        raise DomainError("Saisissez votre clé API SendGrid pour activer l'envoi par email.",
                          field="api_key")
    row.enabled = bool(enabled)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return email_settings_view(session)


def remove_api_key(session: Session) -> dict:
    """Forget the key (and switch sending off)."""
    row = get_settings_row(session)
    row.sendgrid_api_key_encrypted, row.enabled, row.updated_at = "", False, utcnow()
    session.add(row)
    session.flush()
    return email_settings_view(session)


def set_gateway_factory(factory: GatewayFactory | None) -> None:
    """Tests: ``factory(api_key, host) -> gateway`` replaces ``SendGridGateway``; None restores it."""
    global _gateway_factory
    _gateway_factory = factory


def gateway(session: Session) -> SendGridGateway:
    """The SendGrid adapter with the saved key (sandbox mode: a test key when none is saved)."""
    settings = get_settings()
    key = _api_key(get_settings_row(session))
    if not key and settings.sendgrid_sandbox:
        key = "SG.sandbox"
    if not key:
        raise DomainError(NO_KEY, field="api_key")
    host = settings.sendgrid_host or None
    if _gateway_factory is not None:
        return _gateway_factory(key, host)
    return SendGridGateway(key, host=host, timeout=settings.sendgrid_timeout)


def _user(session: Session, user: User | int | None) -> User:
    user_id = user if isinstance(user, int) else getattr(user, "id", None)
    found = session.get(User, user_id) if user_id else None
    if found is None:
        if isinstance(user, User):
            return user
        raise DomainError("Connectez-vous pour envoyer des emails.")
    return found


def sender_for(user: User) -> tuple[str, str]:
    """(email, name) the messages of ``user`` are sent from: the profile's address."""
    try:
        email = validate_email((getattr(user, "email", "") or "").strip())
    except DomainError:
        raise DomainError(NO_SENDER, field="sender") from None
    return email, (getattr(user, "full_name", "") or "").strip()


# --- rubriques and modèles ---------------------------------------------------------------------


def list_rubriques(session: Session) -> list[EmailRubrique]:
    return list(session.exec(select(EmailRubrique).order_by(EmailRubrique.position, EmailRubrique.id)))


def get_rubrique(session: Session, rubrique_id: int) -> EmailRubrique:
    rubrique = session.get(EmailRubrique, rubrique_id) if rubrique_id else None
    if rubrique is None:
        raise DomainError("Cette rubrique n'existe pas.", field="rubrique_id")
    return rubrique


def save_rubrique(session: Session, rubrique_id: int | None, name: str) -> EmailRubrique:
    name = (name or "").strip()
    if not name:
        raise ValidationErrors({"name": "Le nom de la rubrique est obligatoire."})
    if len(name) > RUBRIQUE_MAX:
        raise ValidationErrors({"name": f"Nom de rubrique trop long : {RUBRIQUE_MAX} caractères au plus."})
    query = select(EmailRubrique.id).where(func.lower(EmailRubrique.name) == name.lower())
    if rubrique_id:
        query = query.where(EmailRubrique.id != rubrique_id)
    if session.exec(query).first() is not None:
        raise ValidationErrors({"name": f"La rubrique « {name} » existe déjà."})
    if rubrique_id:
        rubrique = get_rubrique(session, rubrique_id)
    else:
        last = session.exec(select(func.max(EmailRubrique.position))).one()
        rubrique = EmailRubrique(position=(last or 0) + 1)
    rubrique.name = name
    session.add(rubrique)
    session.flush()
    return rubrique


def delete_rubrique(session: Session, rubrique_id: int) -> None:
    rubrique = get_rubrique(session, rubrique_id)
    if list_templates(session, rubrique_id):
        raise DomainError("Cette rubrique contient des modèles : supprimez-les d'abord.")
    session.delete(rubrique)
    session.flush()


def list_templates(session: Session, rubrique_id: int) -> list[EmailTemplate]:
    query = select(EmailTemplate).where(EmailTemplate.rubrique_id == rubrique_id)
    return list(session.exec(query.order_by(EmailTemplate.position, EmailTemplate.id)))


def get_template(session: Session, template_id: int) -> EmailTemplate:
    template = session.get(EmailTemplate, template_id) if template_id else None
    if template is None:
        raise DomainError("Ce modèle d'email n'existe pas.", field="template_id")
    return template


def template_form(template: EmailTemplate | None = None, rubrique_id: int | None = None) -> dict[str, str]:
    """The form of save_template: a modèle's values, or an empty one in ``rubrique_id``."""
    if template is None:
        return {"rubrique_id": str(rubrique_id or ""), "name": "", "subject": "", "body": ""}
    return {"rubrique_id": str(template.rubrique_id), "name": template.name,
            "subject": template.subject, "body": template.body}


def _subject_problem(subject: str) -> str | None:
    if not subject.strip():
        return "Le sujet est obligatoire."
    if "\n" in subject or "\r" in subject:
        return "Le sujet tient sur une seule ligne."
    if len(subject) > SUBJECT_MAX:
        return f"Sujet trop long : {SUBJECT_MAX} caractères au plus."
    return None


def _body_problem(body: str) -> str | None:
    if not body.strip():
        return "Le texte de l'email est obligatoire."
    if len(body) > BODY_MAX:
        return f"Texte trop long : {BODY_MAX} caractères au plus."
    return None


def save_template(session: Session, template_id: int | None, form: dict[str, str]) -> EmailTemplate:
    """Create or update a modèle (form keys: rubrique_id, name, subject, body); an unknown
    {placeholder} is refused (``ValidationErrors`` on "subject" / "body")."""
    errors: dict[str, str] = {}
    raw_rubrique = str(form.get("rubrique_id") or "").strip()
    rubrique_id = int(raw_rubrique) if raw_rubrique.isdigit() else None
    if rubrique_id is None or session.get(EmailRubrique, rubrique_id) is None:
        errors["rubrique_id"] = "Choisissez une rubrique."
    name = (form.get("name") or "").strip()
    subject = (form.get("subject") or "").strip()
    body = (form.get("body") or "").replace("\r\n", "\n").strip("\n")
    if not name:
        errors["name"] = "Le nom du modèle est obligatoire."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Nom trop long : {NAME_MAX} caractères au plus."
    elif rubrique_id is not None:
        query = select(EmailTemplate.id).where(EmailTemplate.rubrique_id == rubrique_id,
                                               func.lower(EmailTemplate.name) == name.lower())
        if template_id:
            query = query.where(EmailTemplate.id != template_id)
        if session.exec(query).first() is not None:
            errors["name"] = f"Un modèle « {name} » existe déjà dans cette rubrique."
    for field, problem in (("subject", _subject_problem(subject)), ("body", _body_problem(body))):
        if problem:
            errors[field] = problem
    try:
        check_template(subject, body)
    except ValidationErrors as exc:
        for field, message in exc.errors.items():
            errors.setdefault(field, message)
    if errors:
        raise ValidationErrors(errors)
    if template_id:
        template = get_template(session, template_id)
        if template.rubrique_id != rubrique_id:
            template.position = _next_template_position(session, rubrique_id)
    else:
        template = EmailTemplate(rubrique_id=rubrique_id, position=_next_template_position(session, rubrique_id))
    template.rubrique_id, template.name, template.subject, template.body = rubrique_id, name, subject, body
    session.add(template)
    session.flush()
    return template


def _next_template_position(session: Session, rubrique_id: int) -> int:
    last = session.exec(select(func.max(EmailTemplate.position)).where(EmailTemplate.rubrique_id == rubrique_id)).one()
    return (last or 0) + 1


def delete_template(session: Session, template_id: int) -> None:
    session.delete(get_template(session, template_id))
    session.flush()


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


def _payment_link(session: Session, doc: Document, public_payment_base: str) -> str:
    """The checkout URL of the newest pending Mollie request, else the public payment page."""
    query = (
        select(Payment.checkout_url)
        .where(Payment.document_id == doc.id, Payment.provider == "mollie",
               Payment.status == PaymentStatus.PENDING.value, Payment.checkout_url != "")
        .order_by(Payment.requested_at.desc(), Payment.id.desc())
    )
    url = session.exec(query).first()
    if url:
        return url
    token = getattr(doc, "public_token", None)
    if (public_payment_base and token and doc.kind == DocumentKind.FACTURE.value
            and doc.status == DocumentStatus.FINAL.value and doc.total_ttc > doc.amount_received):
        return f"{public_payment_base.rstrip('/')}/payer/{token}"
    return ""


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


def _placeholder_values(session: Session, doc: Document, user: User | None,
                        public_payment_base: str) -> dict[str, str]:
    view = documents.document_view(session, doc.id)
    contacts = documents.document_contacts(session, doc.id)
    contact = contacts[0] if contacts else None
    is_invoice = doc.kind == DocumentKind.FACTURE.value
    remaining = max(doc.total_ttc - doc.amount_received, Decimal(0)) if is_invoice else doc.total_ttc
    seller = view.seller
    return {
        "contact_nom": contact.display_name if contact else "",
        "contact_prenom": contact.first_name if contact else "",
        "contact_email": contact.email if contact else "",
        "document_type": KIND_LABELS[DocumentKind(doc.kind)],
        "document_numero": doc.number if doc.status == DocumentStatus.FINAL.value and doc.number else "(brouillon)",
        "document_date": format_date_fr(doc.issue_date),
        "document_echeance": format_date_fr(doc.due_date) if doc.due_date else "",
        "document_total_ht": format_eur(doc.total_ht),
        "document_total_ttc": format_eur(doc.total_ttc),
        "document_reste_du": format_eur(remaining),
        "societe_nom": seller.name,
        "societe_email": seller.email,
        "societe_telephone": seller.phone,
        "expediteur_nom": (user.full_name if user else "") or "",
        "expediteur_email": (user.email if user else "") or "",
        "lien_paiement": _payment_link(session, doc, public_payment_base),
        "coordonnees_bancaires": _bank_details(session, doc, seller.name, view.bank_iban, view.bank_bic),
    }


def _payment_info_text(doc: Document, values: dict[str, str]) -> str:
    if doc.kind == DocumentKind.AVOIR.value:
        return ""
    if values["lien_paiement"]:
        return f"Pour régler en ligne, en toute sécurité :\n{values['lien_paiement']}"
    if values["coordonnees_bancaires"]:
        reference = (f"\nRéférence à indiquer dans le libellé du virement : {values['document_numero']}"
                     if doc.number else "")
        return f"Pour régler par virement :\n{values['coordonnees_bancaires']}{reference}"
    return ""


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
    signed_in = _user(session, user) if user is not None else None
    values = _placeholder_values(session, doc, signed_in, public_payment_base)
    subject = body = ""
    if template_id:
        template = get_template(session, template_id)
        subject, body = render(template.subject, values), render(template.body, values)
    files = documents.list_files(session, doc_id)
    newest_pdf = next((f.id for f in files if f.origin == "pdf"), None)
    rubrique_name = _RUBRIQUE_FOR_KIND.get(doc.kind)
    rubrique_id = (session.exec(select(EmailRubrique.id).where(EmailRubrique.name == rubrique_name)).first()
                   if rubrique_name else None)
    payment_text = _payment_info_text(doc, values)
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


def _check_request(session: Session, req: SendRequest) -> tuple[list[str], list[str], list[DocumentFile]]:
    errors: dict[str, str] = {}
    to, to_problems = parse_addresses(req.to)
    cc, cc_problems = parse_addresses(req.cc)
    if to_problems:
        errors["to"] = "Destinataire invalide " + " ; ".join(to_problems)
    elif not to:
        errors["to"] = "Indiquez au moins un destinataire."
    if cc_problems:
        errors["cc"] = "Adresse en copie invalide " + " ; ".join(cc_problems)
    if len(to) + len(cc) > MAX_RECIPIENTS:
        errors["to"] = f"Trop de destinataires : {MAX_RECIPIENTS} au plus."
    for field, problem in (("subject", _subject_problem(req.subject or "")),
                           ("body", _body_problem(req.body or ""))):
        if problem:
            errors[field] = problem
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
    author = _user(session, user)
    sender_email, sender_name = sender_for(author)
    doc = documents.get_document(session, req.doc_id)
    to, cc, files = _check_request(session, req)
    body = (req.body or "").replace("\r\n", "\n")
    if req.include_payment_info:
        values = _placeholder_values(session, doc, author, "")
        info = _payment_info_text(doc, values)
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
    _announce(session, message)
    session.flush()
    return message.id


# --- sending -----------------------------------------------------------------------------------------


def _announce(session: Session, message: EmailMessage) -> None:
    topics = ["emails"] + ([f"document:{message.document_id}"] if message.document_id else [])
    changes.touch(session, *topics)


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


def _outgoing(session: Session, message: EmailMessage) -> OutgoingEmail:
    attachments = []
    query = select(EmailAttachment).where(EmailAttachment.message_id == message.id).order_by(EmailAttachment.id)
    for ref in session.exec(query):
        if ref.document_file_id is None:
            raise DomainError(f"La pièce jointe « {ref.filename} » n'existe plus : envoyez un nouvel email.")
        _file, content = documents.get_file_content(session, ref.document_file_id)
        attachments.append(Attachment(ref.filename, content, ref.mime_type))
    split = lambda text: tuple(a.strip() for a in (text or "").split(",") if a.strip())  # noqa: E731
    return OutgoingEmail(
        sender_email=message.sender_email, sender_name=message.sender_name, to=split(message.to_addrs),
        subject=message.subject, text=message.body_text,
        html=message.body_html or text_to_html(message.body_text), cc=split(message.cc_addrs),
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
    _announce(session, message)
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
                        _announce(session, message)
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
            if message.document_id is not None and not get_settings_row(session).enabled:
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
    except Exception as exc:  # noqa: BLE001 - a bug must not leave the message "in progress"
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
        author = _user(session, user)
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
    accepted the message: an uncertain failure becomes "envoye" (a send still waiting for
    its answer is left to finish: ``_finish`` then knows it went through)."""
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
            _announce(session, message)
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
            _announce(session, message)
    session.flush()
    return recorded
