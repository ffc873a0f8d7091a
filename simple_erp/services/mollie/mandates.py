"""SEPA direct debit through Mollie: the contact's Mollie customer and mandate, per company.
Part of ``services.mollie.payments`` (use it from there).

A Mollie customer belongs to the account (and mode) of the key that created it, and a
mandate to its creditor: ``mollie_customer`` holds one row per contact and company, with
the key that made the customer (a keyed digest) and the fingerprint of the mandate fields
(IBAN, BIC, RUM, signature date) the mandate was made from.

- First debit: a customer, then a mandate from the contact's fields; ids stored as soon as
  Mollie gives them.
- Same fields: the stored mandate is used again.
- Fields changed: a new mandate for the same customer; the former one is noted
  (``mandates_to_revoke``) and revoked once a debit exists at Mollie with the new one
  (never before: the old one stays usable if it fails); a failed revocation is tried
  again at the next debit.
- The company's key changed (or the row predates key digests): Mollie is asked once
  whether it knows the customer; if not, a customer and a mandate are made in the new
  account (the old account's mandate cannot be revoked with this key: it is left alone).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from simple_erp import crypto
from simple_erp.domain.errors import DomainError
from simple_erp.models.payment import MollieCustomer
from simple_erp.models.types import utcnow
from simple_erp.providers.mollie import MollieError, MollieGateway
from simple_erp.services.mollie.gateway import SessionFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mandate:
    """What a direct debit needs from the contact, and what is stored for its company."""

    contact_id: int
    company_id: int
    consumer_name: str
    email: str
    iban: str
    bic: str
    rum: str
    signed_on: date
    fingerprint: str
    customer_id: str  # "" when the contact has no Mollie customer for this company yet
    mandate_id: str  # "" when none, or made from other mandate fields
    to_revoke: tuple[str, ...]  # former mandates of customer_id, to revoke after the next debit
    key_known: bool  # the customer was made with the company's current key (else: ask Mollie)


def key_digest(api_key: str) -> str:
    """Which key made a customer: an HMAC under the app's secret (the key stays secret)."""
    return hmac.new(crypto.key_material(b"mollie-key-digest"), api_key.encode(), hashlib.sha256).hexdigest()


def known_customer(session: Session, contact_id: int, company_id: int, lock: bool = False) -> MollieCustomer | None:
    query = select(MollieCustomer).where(MollieCustomer.contact_id == contact_id,
                                         MollieCustomer.company_id == company_id)
    return session.exec(query.with_for_update() if lock else query).first()


def plan(session: Session, fields: dict, contact_id: int, company_id: int, api_key: str) -> Mandate:
    """The mandate to use, from the contact's mandate ``fields`` (consumer_name, email,
    iban, bic, rum, signed_on, fingerprint) and what is stored for this company."""
    known = known_customer(session, contact_id, company_id)
    same = known is not None and known.mandate_fingerprint == fields["fingerprint"]
    return Mandate(contact_id=contact_id, company_id=company_id, **fields,
                   customer_id=known.customer_id if known else "",
                   mandate_id=known.mandate_id if same else "",
                   to_revoke=tuple((known.mandates_to_revoke if known else "").split()),
                   key_known=known is None or known.key_digest == key_digest(api_key))


def _save_customer(session_factory: SessionFactory, m: Mandate, **values: str) -> None:
    """Store ids for the contact and company (a row made on first use)."""
    for _attempt in range(2):
        try:
            with session_factory() as session:
                row = known_customer(session, m.contact_id, m.company_id, lock=True)
                if row is None:
                    row = MollieCustomer(contact_id=m.contact_id, company_id=m.company_id, customer_id="")
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = utcnow()
                session.add(row)
            return
        except IntegrityError:  # another request made the row meanwhile: update it
            continue
    raise DomainError("Les identifiants Mollie du contact n'ont pas pu être enregistrés.")  # pragma: no cover


def _save_mandate(session_factory: SessionFactory, m: Mandate, customer_id: str,
                  mandate_id: str) -> tuple[str, ...]:
    """Store the new mandate if the row still names its customer (another request may
    have made another customer meanwhile: then the row is left to it), the one it
    replaces noted to revoke. Returns the mandates to revoke after the debit."""
    with session_factory() as session:
        row = known_customer(session, m.contact_id, m.company_id, lock=True)
        if row is None or row.customer_id != customer_id:
            return ()
        pending = row.mandates_to_revoke.split()
        if row.mandate_id and row.mandate_id != mandate_id and row.mandate_id not in pending:
            pending.append(row.mandate_id)
        row.mandate_id, row.mandate_fingerprint, row.updated_at = mandate_id, m.fingerprint, utcnow()
        row.mandates_to_revoke = " ".join(pending)
        session.add(row)
        return tuple(pending)


def ensure(session_factory: SessionFactory, gateway: MollieGateway, m: Mandate,
           api_key: str) -> tuple[str, str, tuple[str, ...]]:
    """(customer id, mandate id, mandates to revoke once the debit exists): the contact's
    customer in this company's account and a valid mandate made from its current fields."""
    customer_id, mandate_id, to_revoke, fresh = m.customer_id, m.mandate_id, m.to_revoke, False
    if customer_id and not m.key_known:  # another key made it: does this account know it?
        if gateway.has_customer(customer_id):
            _save_customer(session_factory, m, key_digest=key_digest(api_key))
        else:  # another account's: its mandates cannot be revoked with this key
            customer_id = mandate_id = ""
            _save_customer(session_factory, m, mandates_to_revoke="")
    for _attempt in range(2):
        if not customer_id:
            digest = hashlib.sha256(f"{m.consumer_name}|{m.email}".encode()).hexdigest()[:12]
            customer_id = gateway.create_customer(m.consumer_name, m.email or None,
                                                  f"customer-{m.company_id}-{m.contact_id}-{digest}")
            fresh, mandate_id, to_revoke = True, "", ()
            _save_customer(session_factory, m, customer_id=customer_id, mandate_id="", mandate_fingerprint="",
                           mandates_to_revoke="", key_digest=key_digest(api_key))
        if mandate_id:
            return customer_id, mandate_id, to_revoke
        try:
            mandate_id = gateway.create_mandate(customer_id, m.consumer_name, m.iban, m.bic, m.signed_on, m.rum,
                                                f"mandate-{customer_id}-{m.fingerprint[:32]}")
        except MollieError as err:
            if err.status != 404 or fresh:
                raise
            # The stored customer is unknown to this key after all (deleted at Mollie…): make one.
            logger.warning("Mollie customer of contact %s unknown to company %s's key: creating another",
                           m.contact_id, m.company_id)
            customer_id = ""
            continue
        return customer_id, mandate_id, _save_mandate(session_factory, m, customer_id, mandate_id)
    raise MollieError("Impossible de créer le mandat SEPA chez Mollie.")  # pragma: no cover


def revoke(session_factory: SessionFactory, gateway: MollieGateway, m: Mandate, customer_id: str,
           mandate_ids: tuple[str, ...]) -> None:
    """After a debit with the new mandate: revoke the ones made from the contact's former
    fields (they must no longer be debited) and forget them. A failure is logged and
    tried again after the next debit (the new mandate is in use either way)."""
    done = []
    for mandate_id in mandate_ids:
        try:
            gateway.revoke_mandate(customer_id, mandate_id)
        except MollieError as err:
            if err.status != 404:  # 404: already gone
                logger.warning("Mollie mandate %s of contact %s (replaced by new mandate fields) not revoked: %s",
                               mandate_id, m.contact_id, err.message)
                continue
        done.append(mandate_id)
    if done:
        with session_factory() as session:
            row = known_customer(session, m.contact_id, m.company_id, lock=True)
            if row is not None and row.customer_id == customer_id:
                row.mandates_to_revoke = " ".join(i for i in row.mandates_to_revoke.split() if i not in done)
                session.add(row)
