"""Mollie payments through mollie-api-python: the only module importing ``mollie``.

A small, typed surface: frozen dataclasses in and out, amounts as ``Decimal`` (the
amount string ``"12.30"`` is built here and nowhere else), times as aware UTC
datetimes, and one exception, ``MollieError``, whose message is French and safe to
show (it never contains the API key). ``retryable`` tells the caller whether trying
again later may help (timeouts, connection errors, 409, 429, 5xx).

``api_endpoint`` points the SDK at another server, e.g. the local sandbox
(``simple_erp.sandbox.mollie``); plain http works there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlsplit

import requests
from mollie.api.client import Client
from mollie.api.error import (
    ConflictError,
    IdentifierError,
    NotFoundError,
    RequestError,
    RequestSetupError,
    ResponseError,
    ResponseHandlingError,
    UnauthorizedError,
)
from mollie.api.error import Error as SdkError
from mollie.api.objects.customer import Customer
from mollie.api.objects.payment import Payment

logger = logging.getLogger(__name__)

API_KEY_RE = re.compile(r"^(live|test)_\w+$")
CENT = Decimal("0.01")
CURRENCY = "EUR"
MAX_LIST_LIMIT = 250
_HTTP_STATUS_RE = re.compile(r"status code: (\d{3})")


class MollieError(Exception):
    """A Mollie call that did not succeed; ``message`` is French, for the user."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False,
                 field: str | None = None):
        super().__init__(message)
        self.message, self.status, self.retryable, self.field = message, status, retryable, field


@dataclass(frozen=True)
class PaymentRequest:
    amount: Decimal
    description: str
    redirect_url: str
    webhook_url: str
    metadata: dict[str, str]
    idempotency_key: str
    method: str | None = None
    locale: str = "fr_FR"
    customer_id: str | None = None
    mandate_id: str | None = None
    sequence_type: str | None = None


@dataclass(frozen=True)
class PaymentInfo:
    id: str
    status: str
    amount: Decimal
    checkout_url: str | None
    paid_at: datetime | None
    method: str | None
    metadata: dict = field(default_factory=dict)
    amount_refunded: Decimal = Decimal("0.00")
    amount_charged_back: Decimal = Decimal("0.00")
    customer_id: str | None = None
    mandate_id: str | None = None
    sequence_type: str | None = None


def format_amount(amount: Decimal) -> str:
    """``Decimal("12.3")`` -> ``"12.30"``; refuses more than two decimals, NaN and infinities."""
    try:
        cents = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise MollieError(f"Montant invalide pour Mollie : {amount!r}.", field="amount.value") from None
    if cents != amount:
        raise MollieError(f"Montant invalide pour Mollie : {amount} a plus de deux décimales.",
                          field="amount.value")
    return f"{cents:.2f}"


def _decimal(money: dict | None) -> Decimal:
    return Decimal(money["value"]) if money else Decimal("0.00")


def _utc(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None


def _payment_info(p: Payment) -> PaymentInfo:
    return PaymentInfo(
        id=p.id, status=p.status, amount=_decimal(p.amount), checkout_url=p.checkout_url,
        paid_at=_utc(p.paid_at), method=p.method, metadata=dict(p.metadata or {}),
        amount_refunded=_decimal(p.amount_refunded), amount_charged_back=_decimal(p.amount_chargedback),
        customer_id=p.customer_id, mandate_id=p.mandate_id, sequence_type=p.sequence_type)


def _unavailable(status: int) -> MollieError:
    if status == 429:
        return MollieError("Trop de requêtes envoyées à Mollie (429) : réessayez dans quelques instants.",
                           status, retryable=True)
    return MollieError(f"Mollie est momentanément indisponible ({status}) : réessayez plus tard.",
                       status, retryable=True)


def _from_response_error(err: ResponseError) -> MollieError:
    status, detail, fld = err.status, str(err), err.field
    if isinstance(err, UnauthorizedError):
        return MollieError("Clé API Mollie refusée par Mollie (401) : vérifiez-la dans votre tableau de "
                           "bord Mollie.", status)
    if isinstance(err, NotFoundError):
        return MollieError(f"Introuvable chez Mollie (404) : {detail}", status)
    if isinstance(err, ConflictError):
        return MollieError("Mollie traite déjà une demande identique (409) : réessayez dans quelques "
                           "instants.", status, retryable=True)
    if status in (400, 422):
        where = f" (champ : {fld})" if fld else ""
        return MollieError(f"Mollie a refusé la demande ({status}) : {detail}{where}", status, field=fld)
    if status == 429 or (isinstance(status, int) and status >= 500):
        return _unavailable(status)
    return MollieError(f"Erreur Mollie ({status}) : {detail}", status)


def _to_mollie_error(err: Exception, endpoint: str, timeout: float) -> MollieError:
    """Translate an SDK exception (see mollie/api/error.py) into a French ``MollieError``."""
    host = urlsplit(endpoint).netloc or endpoint
    if isinstance(err, ResponseError):
        return _from_response_error(err)
    if isinstance(err, ResponseHandlingError):  # a non-JSON answer (proxy page, HTML 502…)
        found = _HTTP_STATUS_RE.search(str(err))
        status = int(found.group(1)) if found else None
        if status and (status == 429 or status >= 500):
            return _unavailable(status)
        return MollieError(f"Réponse illisible de Mollie ({status or 'statut inconnu'}).", status)
    if isinstance(err, IdentifierError):
        return MollieError(f"Identifiant Mollie invalide : {err}", None)
    if isinstance(err, RequestError) and not isinstance(err, RequestSetupError):
        cause = err.__context__  # the SDK raises RequestError from inside `except RequestException`
        if isinstance(cause, requests.exceptions.Timeout):
            return MollieError(f"Mollie n'a pas répondu à temps (plus de {timeout:g} s) : réessayez plus "
                               "tard.", retryable=True)
        return MollieError(f"Impossible de joindre Mollie ({host}) : connexion refusée ou réseau "
                           "indisponible. Réessayez plus tard.", retryable=True)
    return MollieError(f"Erreur inattendue avec Mollie : {type(err).__name__}.")


class MollieGateway:
    """Mollie calls for one API key. Every method raises ``MollieError`` on failure."""

    def __init__(self, api_key: str, api_endpoint: str | None = None, timeout: float = 10.0):
        key = (api_key or "").strip()
        if not API_KEY_RE.match(key):
            raise MollieError("Clé API Mollie invalide : elle doit commencer par test_ ou live_.")
        # retry=1: one more connection attempt on https (the SDK never retries a sent request).
        self._client = Client(api_endpoint=api_endpoint or "", timeout=timeout, retry=1)
        self._client.set_api_key(key)
        self._client.set_user_agent_component("SimpleERP", "1")
        self.api_endpoint = self._client.api_endpoint
        self.timeout = timeout
        self.mode = key.split("_", 1)[0]

    def __repr__(self) -> str:  # never shows the key
        return f"MollieGateway(mode={self.mode!r}, api_endpoint={self.api_endpoint!r})"

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SdkError as err:
            error = _to_mollie_error(err, self.api_endpoint, self.timeout)
            logger.warning("Mollie %s failed: status=%s retryable=%s: %s",
                           what, error.status, error.retryable, error.message)
            raise error from err
        except (KeyError, TypeError, ValueError) as err:  # an answer without the expected fields
            logger.warning("Mollie %s: unexpected answer (%s)", what, type(err).__name__)
            raise MollieError("Réponse inattendue de Mollie : données incomplètes.") from err

    def create_payment(self, req: PaymentRequest) -> PaymentInfo:
        data: dict = {"amount": {"currency": CURRENCY, "value": format_amount(req.amount)},
                      "description": req.description, "redirectUrl": req.redirect_url,
                      "webhookUrl": req.webhook_url, "metadata": dict(req.metadata), "locale": req.locale}
        optional = {"method": req.method, "customerId": req.customer_id, "mandateId": req.mandate_id,
                    "sequenceType": req.sequence_type}
        data.update({k: v for k, v in optional.items() if v is not None})
        if req.sequence_type == "recurring" and not req.redirect_url:
            data.pop("redirectUrl")
        if not req.webhook_url:
            data.pop("webhookUrl")
        payment = self._call("create_payment", self._client.payments.create, data,
                             idempotency_key=req.idempotency_key)
        return self._call("create_payment", _payment_info, payment)

    def get_payment(self, payment_id: str) -> PaymentInfo:
        payment = self._call("get_payment", self._client.payments.get, payment_id)
        return self._call("get_payment", _payment_info, payment)

    def cancel_payment(self, payment_id: str) -> PaymentInfo:
        payment = self._call("cancel_payment", self._client.payments.delete, payment_id)
        return self._call("cancel_payment", _payment_info, payment)

    def list_payments(self, limit: int = 50) -> list[PaymentInfo]:
        """The most recent payments, newest first (first page only, at most 250)."""
        page = self._call("list_payments", self._client.payments.list,
                          limit=max(1, min(int(limit), MAX_LIST_LIMIT)))
        return self._call("list_payments", lambda: [_payment_info(p) for p in page])

    def create_customer(self, name: str, email: str, idempotency_key: str) -> str:
        customer = self._call("create_customer", self._client.customers.create,
                              {"name": name, "email": email}, idempotency_key=idempotency_key)
        return customer.id

    def has_customer(self, customer_id: str) -> bool:
        """Whether this key's account knows the customer (False on Mollie's 404)."""
        try:
            self._call("get_customer", self._client.customers.get, customer_id)
        except MollieError as err:
            if err.status == 404:
                return False
            raise
        return True

    def create_mandate(self, customer_id: str, consumer_name: str, iban: str, bic: str, signed_on: date,
                       reference: str, idempotency_key: str) -> str:
        """A SEPA direct debit mandate signed outside Mollie; returns its ``mdt_`` id."""
        if not str(customer_id).startswith("cst_"):
            raise MollieError(f"Identifiant de client Mollie invalide : {customer_id!r}.")
        mandates = Customer({"id": customer_id}, self._client).mandates  # no GET of the customer
        data = {"method": "directdebit", "consumerName": consumer_name,
                "consumerAccount": iban.replace(" ", "").upper(), "consumerBic": bic or None,
                "signatureDate": signed_on.isoformat(), "mandateReference": reference}
        mandate = self._call("create_mandate", mandates.create, {k: v for k, v in data.items() if v},
                             idempotency_key=idempotency_key)
        return mandate.id

    def revoke_mandate(self, customer_id: str, mandate_id: str) -> None:
        """Revoke a mandate (Mollie answers 204): it can no longer be debited."""
        if not str(customer_id).startswith("cst_"):
            raise MollieError(f"Identifiant de client Mollie invalide : {customer_id!r}.")
        mandates = Customer({"id": customer_id}, self._client).mandates  # no GET of the customer
        self._call("revoke_mandate", mandates.delete, mandate_id)

    def check_connection(self) -> None:
        """One cheap authenticated call (list one payment): raises ``MollieError`` when it fails."""
        self._call("check_connection", self._client.payments.list, limit=1)
