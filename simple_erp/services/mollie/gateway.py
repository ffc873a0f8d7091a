"""Which Mollie gateway a company uses: its API key (encrypted at rest), the sandbox
mode, the gateway factory hook (tests, benchmarks), and recording a Mollie error on a
payment. Part of ``services.mollie.payments`` (use it from there)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import lru_cache

from sqlmodel import Session

from simple_erp import crypto
from simple_erp.config import get_settings
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.company import Company
from simple_erp.models.payment import Payment
from simple_erp.providers.mollie import MollieError, MollieGateway
from simple_erp.services import changes, companies

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]
GatewayFactory = Callable[[str, "str | None"], MollieGateway]

API_KEY_RE = re.compile(r"(live|test)_\w{20,}", re.ASCII)  # fullmatch
NO_KEY = "Saisissez la clé API Mollie de la société (Admin ERP → 1. Société émettrice)."
BAD_KEY = ("Clé API Mollie invalide : elle commence par test_ ou live_, suivie d'au moins 20 lettres "
           "ou chiffres (tableau de bord Mollie → Développeurs → Clés API).")


def sandbox_mode() -> bool:
    return get_settings().mollie_sandbox


def api_endpoint() -> str | None:
    return get_settings().mollie_api_endpoint or None


_local = threading.local()


def _default_gateway_factory(api_key: str, endpoint: str | None) -> MollieGateway:
    """One gateway per (thread, key, endpoint): its HTTP connection is kept alive and
    never shared between threads (a requests Session is not meant to be)."""
    cache: dict = _local.__dict__.setdefault("gateways", {})
    gateway = cache.get((api_key, endpoint))
    if gateway is None:
        if len(cache) >= 32:
            cache.clear()
        gateway = cache[(api_key, endpoint)] = MollieGateway(api_key, endpoint)
    return gateway


_gateway_factory: GatewayFactory = _default_gateway_factory


def set_gateway_factory(factory: GatewayFactory | None) -> None:
    """Tests and benchmarks: ``factory(api_key, api_endpoint) -> MollieGateway``; None
    restores the default (settings' endpoint, one kept-alive gateway per thread)."""
    global _gateway_factory
    _gateway_factory = factory or _default_gateway_factory


@lru_cache(maxsize=256)
def _decrypt_key(encrypted: str) -> str:
    return crypto.decrypt(encrypted)


def api_key_for(company_id: int, encrypted_key: str) -> str:
    """The key of company ``company_id`` from its encrypted column; in sandbox mode a test
    key of its own when it has none."""
    key = _decrypt_key(encrypted_key) if encrypted_key else ""
    if key:
        return key
    if sandbox_mode():
        return f"test_sandbox_company_{company_id}"
    raise DomainError(NO_KEY, field="mollie_api_key")


def company_api_key(company: Company) -> str:
    return api_key_for(company.id, company.mollie_api_key_encrypted)


def gateway_for_key(api_key: str) -> MollieGateway:
    try:
        return _gateway_factory(api_key, api_endpoint())
    except MollieError as err:  # a stored key of the wrong shape
        raise DomainError(err.message, field="mollie_api_key") from err


def gateway_for_company(company: Company) -> MollieGateway:
    """The gateway for the company's own key (a test key per company in sandbox mode)."""
    return gateway_for_key(company_api_key(company))


def set_mollie_api_key(session: Session, company_id: int, key: str) -> None:
    """Store the company's Mollie API key, encrypted; an empty key removes it."""
    company = companies.get_company(session, company_id)
    key = (key or "").strip()
    if key and not API_KEY_RE.fullmatch(key):
        raise ValidationErrors({"mollie_api_key": BAD_KEY})
    company.mollie_api_key_encrypted = crypto.encrypt(key)
    session.add(company)
    session.flush()


def mollie_key_display(company: Company) -> str:
    """The key masked for the form ("test_••••••••1234"), "" when none: the UI never gets it."""
    key = _decrypt_key(company.mollie_api_key_encrypted) if company.mollie_api_key_encrypted else ""
    if not key:
        return ""
    return f"{key.split('_', 1)[0]}_••••••••{key[-4:]}"


def check_company_connection(session: Session, company_id: int) -> str:
    """One authenticated call to Mollie with the company's key: a French success text, or
    DomainError with Mollie's (French) message. Calls Mollie: run it in a background event."""
    company = companies.get_company(session, company_id)
    own_key = bool(company.mollie_api_key_encrypted)
    gateway = gateway_for_company(company)
    try:
        gateway.check_connection()
    except MollieError as err:
        raise DomainError(err.message, field="mollie_api_key") from err
    mode = "test" if gateway.mode == "test" else "live : paiements réels"
    where = "" if own_key else ", bac à sable local sans clé"
    return f"Connexion à Mollie réussie (mode {mode}{where})."


def record_error(session_factory: SessionFactory, payment_id: int, message: str) -> None:
    """Keep the last Mollie error on the payment (shown in its block); never raises."""
    try:
        with session_factory() as session:
            payment = session.get(Payment, payment_id)
            if payment is not None and payment.provider_error != message:
                payment.provider_error = message
                session.add(payment)
                changes.touch(session, *changes.document_topics(payment.document_id))
    except Exception:  # noqa: BLE001 - never hide the original error behind this one
        logger.exception("could not record the Mollie error of payment %s", payment_id)
