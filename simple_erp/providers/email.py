"""E-mail through SendGrid (v3 Mail Send) and Event Webhook signature checks.

The only module importing ``sendgrid``. ``SendGridGateway.send`` builds the request with
``sendgrid.helpers.mail``, posts it with a timeout (the SDK has none by default) and turns every
failure into an ``EmailError`` carrying a French message for the user, the HTTP status, whether a
retry may succeed and SendGrid's own detail (for logs). ``host`` points it at the local sandbox
(``simple_erp.sandbox.sendgrid``). The API key is never logged: the SDK's HTTP client logs its
request headers at DEBUG level, so a filter on its logger masks the ``Authorization`` value.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import urllib.error
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from python_http_client.exceptions import HTTPError as SendGridHTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.mail import ApiKeyIncludedException, Cc, Disposition, FileContent, FileName
from sendgrid.helpers.mail import Attachment as SendGridAttachment
from sendgrid.helpers.mail import CustomArg, FileType, From, Mail, To

logger = logging.getLogger(__name__)

SENDGRID_HOST = "https://api.sendgrid.com"
# The custom argument every message carries: SendGrid repeats it in each Event Webhook
# event, so an e-mail whose answer was lost can still be recognised in its events.
REFERENCE_ARG = "simple_erp_ref"
SETTINGS_HINT = "Admin CRM → 13. Paramètres"
_DETAIL_MAX = 600
# After a request whose answer never came (it may have been accepted):
MAYBE_SENT = ("l'email est peut-être parti quand même. Attendez quelques minutes : s'il est parti, "
              "il passera de lui-même à « Envoyé » ; sinon, réessayez.")
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")  # shape only: SendGrid checks the rest


class EmailError(Exception):
    """A send that did not go through. ``message``: French, for the user."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 provider_detail: str = "", uncertain: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.provider_detail = provider_detail
        self.uncertain = uncertain  # the request left: SendGrid may have accepted it (no answer)

    def __repr__(self) -> str:
        return (f"EmailError(status={self.status!r}, retryable={self.retryable!r}, "
                f"uncertain={self.uncertain!r}, message={self.message!r})")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class OutgoingEmail:
    sender_email: str
    sender_name: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reference: str = ""  # sent as the custom argument REFERENCE_ARG ("" : none)


@dataclass(frozen=True)
class SendResult:
    message_id: str


class _MaskAuthorization(logging.Filter):
    """Masks bearer tokens and SendGrid keys in the SDK HTTP client's DEBUG records, and the
    request bodies it logs too (recipients' data, whole attachments)."""

    _SECRET = re.compile(r"(Bearer\s+)[^\s'\",}]+|SG\.[\w-]+\.[\w-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        if text.startswith("PAYLOAD: "):
            masked = f"PAYLOAD: ({len(text) - 9} caractères, masqués)"
        else:
            masked = self._SECRET.sub(lambda m: f"{m[1]}***" if m[1] else "SG.***", text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


_http_logger = logging.getLogger("python_http_client.client")
if not any(isinstance(f, _MaskAuthorization) for f in _http_logger.filters):
    _http_logger.addFilter(_MaskAuthorization())


def _unique(addresses, exclude: set[str] = frozenset()) -> list[str]:
    """Trimmed, without blanks and duplicates (SendGrid refuses an address twice in to/cc)."""
    seen, kept = set(exclude), []
    for address in (a.strip() for a in addresses):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            kept.append(address)
    return kept


def _sendgrid_detail(body: bytes | str | None) -> str:
    """SendGrid's ``{"errors": [{message, field}]}`` as one line (else the raw body, cut)."""
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        errors = json.loads(raw).get("errors") or []
        parts = [f"{e.get('message')}" + (f" (champ {e['field']})" if e.get("field") else "")
                 for e in errors if isinstance(e, dict) and e.get("message")]
    except (ValueError, AttributeError):
        parts = []
    return ("; ".join(parts) or raw.strip())[:_DETAIL_MAX]


class SendGridGateway:
    """Sends ``OutgoingEmail`` through SendGrid's v3 Mail Send API."""

    def __init__(self, api_key: str, host: str | None = None, timeout: float = 15.0) -> None:
        self._api_key = (api_key or "").strip()
        self.host = (host or SENDGRID_HOST).rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:  # never shows the key
        return f"SendGridGateway(host={self.host!r}, timeout={self.timeout!r})"

    def build_mail(self, email: OutgoingEmail) -> Mail:
        to = _unique(email.to)
        cc = _unique(email.cc, exclude={a.lower() for a in to})
        if not to:
            raise EmailError("Aucun destinataire : indiquez au moins une adresse e-mail.")
        for address in (email.sender_email.strip(), *to, *cc):
            if not _ADDRESS.match(address):
                raise EmailError(f"Adresse e-mail invalide : « {address} ».")
        if not email.text.strip() and not email.html.strip():
            raise EmailError("Le message est vide : saisissez un texte avant l'envoi.")
        mail = Mail(from_email=From(email.sender_email.strip(), email.sender_name.strip() or None),
                    to_emails=[To(address) for address in to], subject=email.subject,
                    plain_text_content=email.text if email.text.strip() else None,
                    html_content=email.html if email.html.strip() else None)
        for address in cc:
            mail.add_cc(Cc(address))
        if email.reference:
            mail.add_custom_arg(CustomArg(REFERENCE_ARG, email.reference))
        for attachment in reversed(email.attachments):  # add_attachment() inserts in front
            mail.add_attachment(SendGridAttachment(
                FileContent(base64.b64encode(attachment.content).decode("ascii")),
                FileName(attachment.filename), FileType(attachment.mime_type),
                Disposition("attachment")))
        return mail

    def send(self, email: OutgoingEmail) -> SendResult:
        """Posts the message; returns SendGrid's ``X-Message-Id``; raises ``EmailError``."""
        if not self._api_key:
            raise EmailError(f"Aucune clé API SendGrid n'est configurée : saisissez-la dans "
                             f"{SETTINGS_HINT}.")
        try:
            body = self.build_mail(email).get()
        except ApiKeyIncludedException as exc:
            raise EmailError("Le texte du message contient une clé API SendGrid (SG.…) : envoi "
                             "bloqué par sécurité, retirez-la du message.") from exc
        client = SendGridAPIClient(api_key=self._api_key, host=self.host)
        client.client.timeout = self.timeout  # python_http_client passes it to urllib
        try:
            response = client.client.mail.send.post(request_body=body)
        except SendGridHTTPError as exc:
            error = self._http_error(exc.status_code, exc.body, email)
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            error = self._network_error(exc)
        else:
            message_id = (response.headers.get("X-Message-Id") or "").strip()
            logger.info("E-mail accepted by SendGrid (%s), X-Message-Id %s",
                        response.status_code, message_id or "absent")
            return SendResult(message_id=message_id)
        logger.warning("SendGrid send failed: status=%s retryable=%s detail=%s",
                       error.status, error.retryable, error.provider_detail)
        raise error

    def _http_error(self, status: int, body, email: OutgoingEmail) -> EmailError:
        detail = _sendgrid_detail(body)
        provider = f"HTTP {status} : {detail}"
        if status == 401:
            message = f"Clé API SendGrid refusée (401) : vérifiez la clé saisie dans {SETTINGS_HINT}."
        elif status == 403 and ("sender identity" in detail.lower() or "(champ from)" in detail):
            message = (f"L'adresse d'expédition {email.sender_email.strip()} n'est pas vérifiée "
                       "chez SendGrid (403). Vérifiez-la (Settings → Sender Authentication : "
                       "Single Sender Verification) ou authentifiez votre domaine (Domain "
                       "Authentication).")
        elif status == 403:
            message = (f"SendGrid refuse l'envoi (403) : {detail or 'accès refusé'}. Vérifiez que "
                       "la clé API a la permission « Mail Send » et que le compte est actif.")
        elif status == 413:
            message = ("Message trop volumineux pour SendGrid (413) : 30 Mo au plus, pièces "
                       "jointes comprises.")
        elif status == 429:
            return EmailError("SendGrid limite les envois (429) : trop d'envois, réessayez dans "
                              "quelques minutes.", status=status, retryable=True,
                              provider_detail=provider)
        elif status in (502, 504):  # a gateway's answer: SendGrid behind it may have taken it
            return EmailError(f"SendGrid n'a pas répondu correctement ({status}) : {MAYBE_SENT}", status=status,
                              retryable=True, uncertain=True, provider_detail=provider)
        elif status >= 500:
            return EmailError(f"SendGrid est momentanément indisponible ({status}) : réessayez "
                              "dans quelques minutes.", status=status, retryable=True,
                              provider_detail=provider)
        elif status == 400:
            message = f"SendGrid a refusé le message (400) : {detail or 'requête invalide'}"
        else:
            message = f"SendGrid a renvoyé une erreur ({status}) : {detail or 'sans détail'}"
        return EmailError(message, status=status, retryable=False, provider_detail=provider)

    def _network_error(self, exc: BaseException) -> EmailError:
        # urllib wraps what fails while connecting and sending in URLError: the message did
        # not leave. What fails while waiting for the answer comes raw: it may have arrived.
        seconds = f"{self.timeout:g}".replace(".", ",")
        if isinstance(exc, http.client.InvalidURL):  # before anything was sent
            return EmailError(f"Adresse du serveur SendGrid invalide ({self.host}) : vérifiez SENDGRID_HOST.",
                              provider_detail=f"InvalidURL: {exc}")
        if not isinstance(exc, urllib.error.URLError):
            what = (f"n'a pas répondu à temps (plus de {seconds} s)" if isinstance(exc, TimeoutError)
                    else "a coupé la connexion sans répondre")
            return EmailError(
                f"SendGrid {what} : {MAYBE_SENT}", retryable=True, uncertain=True,
                provider_detail=f"{type(exc).__name__} while waiting for {self.host}'s answer (the "
                                "message may have been accepted)")
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return EmailError(
                f"SendGrid n'a pas répondu à temps (plus de {seconds} s) : l'email n'est pas parti, "
                "réessayez dans quelques minutes.", retryable=True,
                provider_detail=f"timeout after {self.timeout:g}s connecting or sending to {self.host} (not sent)")
        return EmailError("Impossible de joindre SendGrid : vérifiez la connexion Internet du "
                          "serveur, puis réessayez.", retryable=True,
                          provider_detail=f"{type(reason).__name__}: {reason} ({self.host})")


def verify_event_signature(public_key: str, payload: bytes, signature: str,
                           timestamp: str) -> bool:
    """True when ``signature`` is SendGrid's ECDSA signature of ``timestamp + payload``.

    ``public_key``: the verification key shown in SendGrid (Mail Settings → Event Webhook), base64
    DER; ``payload``: the raw request body, untouched (SendGrid signs its exact bytes); signature
    and timestamp: the X-Twilio-Email-Event-Webhook-Signature / -Timestamp headers. A malformed
    key, signature or body gives False. No check of the timestamp's age is made here.
    """
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        verifier = EventWebhook(public_key.strip())
        return bool(verifier.verify_signature(text, signature.strip(), timestamp.strip()))
    except (ValueError, TypeError, AttributeError, UnsupportedAlgorithm):
        return False
