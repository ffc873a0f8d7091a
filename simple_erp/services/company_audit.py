"""Audit trail of an issuing company's identity and bank details.

The IBAN of « 1. Société émettrice » is printed on every invoice and sent in the payment
information: whoever changes it redirects the customers' money. Each change of these
fields is kept (who, when, old → new; IBANs masked) and shown under the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import logging

from sqlmodel import Session, select

from simple_erp.domain.contact_rules import compact, mask_iban
from simple_erp.domain.email_templates import text_to_html
from simple_erp.domain.errors import DomainError
from simple_erp.models.company import Company, CompanyChange
from simple_erp.models.email import EmailMessage
from simple_erp.models.types import utcnow
from simple_erp.models.user import User
from simple_erp.services.clock import PARIS

log = logging.getLogger(__name__)
_NOTICES_KEY = "simple_erp_iban_notices"

# Fields whose changes are kept, with their French label (the form's).
AUDITED_FIELDS: dict[str, str] = {
    "name": "Raison sociale", "legal_form": "Forme juridique", "capital": "Capital (€)",
    "siren": "SIREN", "siret": "SIRET", "rcs_city": "RCS (ville)", "vat_number": "TVA intracommunautaire",
    "vat_regime": "Régime de TVA", "address_line1": "Adresse", "address_line2": "Complément",
    "postal_code": "Code postal", "city": "Ville", "country": "Pays (code ISO)",
    "iban": "IBAN", "bic": "BIC", "ics": "Numéro d'émetteur SEPA (ICS)", "logo_filename": "Logo",
    "rm_city": "RM (répertoire des métiers)", "vat_on_debits": "Option pour le paiement de la TVA d'après les débits",
}


@dataclass(frozen=True)
class Change:
    at: datetime
    user_name: str
    label: str
    old_value: str
    new_value: str


def _shown(field: str, value: str) -> str:
    value = (value or "").strip()
    if field == "iban" and value:
        return mask_iban(value.replace(" ", ""))
    return value


def record_changes(session: Session, company_id: int, before: dict[str, str], after: dict[str, str],
                   user: User | None) -> list[str]:
    """Add one row per audited field whose value changed; the fields changed."""
    changed = []
    for field in AUDITED_FIELDS:
        old, new = _shown(field, before.get(field, "")), _shown(field, after.get(field, ""))
        # Two IBANs can share their mask (same country, key and last 4): compare them whole.
        differs = compact(before.get(field, "")) != compact(after.get(field, "")) if field == "iban" else old != new
        if differs:
            session.add(CompanyChange(company_id=company_id, user_id=user.id if user else None,
                                      user_name=user.full_name if user else "", field=field,
                                      old_value=old, new_value=new))
            changed.append(field)
    if changed:
        session.flush()
    if "iban" in changed:
        _queue_iban_notices(session, company_id, _shown("iban", before.get("iban", "")),
                            _shown("iban", after.get("iban", "")), user)
    return changed


# --- the other administrators are told when the IBAN changes ---------------------------------------


def _notice_text(company_name: str, author: str, at, old: str, new: str) -> tuple[str, str]:
    when = at.astimezone(PARIS)
    subject = f"Sécurité : l'IBAN de {company_name} a été modifié"
    body = (
        "Bonjour,\n\n"
        f"L'IBAN de la société émettrice « {company_name} » a été modifié par {author}, "
        f"le {when:%d/%m/%Y} à {when:%H:%M} (heure de Paris).\n\n"
        f"Ancien IBAN : {old or '(aucun)'}\n"
        f"Nouvel IBAN : {new or '(aucun)'}\n\n"
        "Cet IBAN est imprimé sur chaque facture et envoyé dans les informations de paiement. "
        "Si ce changement n'était pas prévu, vérifiez-le sans attendre dans Admin ERP, "
        "« 1. Société émettrice », où l'historique des modifications est affiché.\n\n"
        "Message automatique de Simple ERP, envoyé à chaque administrateur sauf l'auteur du changement."
    )
    return subject[:300], body


def _queue_iban_notices(session: Session, company_id: int, old: str, new: str, user: User | None) -> list[int]:
    """Store one email per other active administrator (status "en_file"), in the caller's
    transaction; their ids are kept on the session for ``take_iban_notices``."""
    # Imported here: services.emails imports documents, which imports companies (and us).
    from simple_erp.services.emails.settings import QUEUED, announce, new_reference, sender_for

    admins = list(session.exec(select(User).where(User.is_admin, User.is_active).order_by(User.id)))
    recipients = [a for a in admins if (user is None or a.id != user.id) and (a.email or "").strip()]
    if not recipients:
        return []
    sender_user = user if user is not None and (user.email or "").strip() else recipients[0]
    try:
        sender_email, sender_name = sender_for(sender_user)
    except DomainError:
        log.warning("IBAN change of company %s: no sender address, no notice stored", company_id)
        return []
    company = session.get(Company, company_id)
    author = (user.full_name or user.email) if user is not None else "le système"
    subject, body = _notice_text(company.name if company else "", author, utcnow(), old, new)
    ids = []
    for admin in recipients:
        message = EmailMessage(sender_email=sender_email, sender_name=sender_name, to_addrs=admin.email.strip(),
                               subject=subject, body_text=body, body_html=text_to_html(body), status=QUEUED,
                               created_by_id=user.id if user is not None else None, reference=new_reference())
        session.add(message)
        session.flush()
        announce(session, message)
        ids.append(message.id)
    session.info.setdefault(_NOTICES_KEY, []).extend(ids)
    return ids


def take_iban_notices(session: Session) -> list[int]:
    """The ids of the IBAN-change emails stored in this session (and forget them): send
    them with ``send_iban_notices`` once the transaction has committed."""
    return session.info.pop(_NOTICES_KEY, [])


def send_iban_notices(session_factory, message_ids: list[int]) -> list[str]:
    """Send the stored notices (after commit); a failure stays in « Emails envoyés »
    (retry there) and never undoes the change. Returns the statuses."""
    from simple_erp.services.emails.sending import send_queued

    statuses = []
    for message_id in message_ids:
        try:
            statuses.append(send_queued(session_factory, message_id))
        except Exception:  # noqa: BLE001 - the change is saved; the email is kept for a retry
            log.exception("IBAN change notice %s could not be sent", message_id)
            statuses.append("")
    return statuses


def list_changes(session: Session, company_id: int, limit: int = 20) -> list[Change]:
    """The company's latest changes, newest first."""
    rows = session.exec(select(CompanyChange).where(CompanyChange.company_id == company_id)
                        .order_by(CompanyChange.at.desc(), CompanyChange.id.desc()).limit(limit))
    return [Change(at=r.at, user_name=r.user_name or "—", label=AUDITED_FIELDS.get(r.field, r.field),
                   old_value=r.old_value, new_value=r.new_value) for r in rows]
