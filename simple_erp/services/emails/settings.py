"""E-mail: the shared constants, the SendGrid settings (Admin CRM → 13. Paramètres),
the gateway and the sender. Part of ``services.emails`` (use it from there).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from simple_erp import crypto
from simple_erp.config import get_settings
from simple_erp.domain.contact_rules import validate_email
from simple_erp.domain.errors import DomainError
from simple_erp.models.email import (
    EmailMessage,
    EmailSettings,
)
from simple_erp.models.types import utcnow
from simple_erp.models.user import User
from simple_erp.providers.email import SendGridGateway
from simple_erp.services import changes

log = logging.getLogger(__name__)


QUEUED, SENT, FAILED = "en_file", "envoye", "echec"
STATUS_LABELS = {QUEUED: "En file", SENT: "Envoyé", FAILED: "Échec"}
UNCERTAIN_LABEL = "Envoi incertain"
UNCERTAIN_RETRY = ("SendGrid n'a pas répondu lors du dernier envoi : cet email est peut-être déjà parti. "
                   "Le renvoyer quand même ?")
EVENT_LABELS = {"delivered": "Délivré", "open": "Ouvert", "bounce": "Rejeté (bounce)",
                "dropped": "Non remis (dropped)"}

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


def user_of(session: Session, user: User | int | None) -> User:
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


def announce(session: Session, message: EmailMessage) -> None:
    topics = ["emails"] + ([f"document:{message.document_id}"] if message.document_id else [])
    changes.touch(session, *topics)
