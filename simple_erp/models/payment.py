"""Simple Paiement: ERP preferences, accounts (comptes), payment types, payment methods
(moyens de paiement = type × compte), payments (demandes de paiement) and their audit trail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from simple_erp.models.types import ScaledDecimal, UTCDateTime, utcnow


# Predicate of a partial index: the statuses of domain.payment_rules.COUNTS_AS_RECEIVED
# (services.dashboard repeats it).
COUNTED_PAYMENT = "status IN ('partiellement_rembourse', 'recu')"


def _fk(target: str, nullable: bool = False, ondelete: str | None = None) -> Column:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


def _money(default: bool = False) -> Column:
    return Column(ScaledDecimal(2), nullable=False, server_default="0" if default else None)


class ErpPreferences(SQLModel, table=True):
    """One row (id = 1): the ERP modules switched on in "Admin ERP → 8. Préférences ERP"."""

    __tablename__ = "erp_preferences"

    id: int | None = Field(default=None, primary_key=True)
    simple_paiement_enabled: bool = Field(default=False)
    mollie_enabled: bool = Field(default=False)  # only with simple_paiement_enabled


class Account(SQLModel, table=True):
    """Where money lands: a bank account, a Mollie account, a cash box (caisse)…"""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    account_type: str = Field(max_length=20)  # compte_bancaire | mollie | caisse | autre
    name: str = Field(max_length=200)  # Désignation du compte
    identifier: str = Field(max_length=100)  # Numéro de compte ou identifiant
    bank_name: str = Field(default="", max_length=200)
    iban_encrypted: str = Field(default="", sa_type=Text)
    iban_masked: str = Field(default="", max_length=40)
    bic: str = Field(default="", max_length=11)
    notes: str = Field(default="", sa_type=Text)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentType(SQLModel, table=True):
    """Chèque, Virement, Espèces, Carte bancaire, Prélèvement SEPA (system) or user-added."""

    __tablename__ = "payment_type"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # cheque… or custom_<n>
    name: str = Field(max_length=100)
    active: bool = Field(default=True)
    is_system: bool = Field(default=False)  # seeded: can be renamed or deactivated, never deleted


class PaymentMethod(SQLModel, table=True):
    """A moyen de paiement: one payment type on one account ("Chèque — Banque Populaire")."""

    __tablename__ = "payment_method"
    __table_args__ = (UniqueConstraint("payment_type_id", "account_id", name="uq_payment_method_type_account"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_type_id: int = Field(sa_column=_fk("payment_type.id"))
    account_id: int = Field(sa_column=_fk("account.id"))
    active: bool = Field(default=True)


class Payment(SQLModel, table=True):
    """A demande de paiement on a finalised facture. Its status follows
    ``domain.payment_rules``; every change goes through ``services.payments`` (``apply_status``
    and the functions beside it), never through this model directly."""

    __tablename__ = "payment"
    __table_args__ = (
        # Encaissements: period filters on received_on (received) or requested_at (others).
        Index("ix_payment_received_on", "received_on"),
        Index("ix_payment_requested_at", "requested_at"),
        # Encaissements' order, walked backwards for a page: the received payments (newest
        # reception first), then those not received (received_on NULL, newest request first).
        Index("ix_payment_collections", "received_on", "requested_at", "id"),
        Index("ix_payment_status_collections", "status", "received_on", "requested_at", "id"),
        # Tableau de bord: a company's payments that count as received, per day, from the
        # index alone. Kept narrow (32-byte entries): PostgreSQL prefers ix_payment_received_on
        # (the table is in reception order) over a wider one (with id and document_id).
        Index("ix_payment_received_counted", "company_id", "received_on", "amount", "amount_refunded",
              postgresql_where=text(COUNTED_PAYMENT), sqlite_where=text(COUNTED_PAYMENT)),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=_fk("document.id"))
    # The invoice's company, copied when the payment is created (a payment never moves, a
    # finalised invoice keeps its company). NOT NULL on PostgreSQL; on SQLite nullable in
    # the table (no rebuild) and a trigger refuses NULL (migration b14f1c0d0002). No index
    # of its own: the dashboard's partial index leads with it.
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id"), nullable=False))
    method_id: int = Field(sa_column=_fk("payment_method.id"))
    amount: Decimal = Field(sa_column=_money())
    status: str = Field(default="en_attente", max_length=30)  # domain.payment_rules.PaymentStatus
    # The user confirmed a trop-perçu: the amount exceeded what remained due when requested.
    allow_overpay: bool = Field(default=False)
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    received_on: date | None = None
    debit_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    authorized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    refunded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    charged_back_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    amount_refunded: Decimal = Field(default=Decimal(0), sa_column=_money(default=True))
    amount_charged_back: Decimal = Field(default=Decimal(0), sa_column=_money(default=True))
    provider: str = Field(default="manuel", max_length=20)  # manuel | mollie
    provider_payment_id: str | None = Field(default=None, max_length=100, unique=True, index=True)
    checkout_url: str = Field(default="", sa_type=Text)
    idempotency_key: str | None = Field(default=None, max_length=100, unique=True)
    created_by_id: int | None = Field(default=None, sa_column=_fk("app_user.id", nullable=True, ondelete="SET NULL"))
    # Mollie: the last error met creating or syncing it (French, for the user; "" when none)
    # and when it was last fetched from Mollie (webhook, reconciliation, "Resynchroniser").
    provider_error: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentTotal(SQLModel, table=True):
    """Encaissements' totals: per payment method, status and day, how many payments and the
    sums of their amounts (cents). ``day`` is received_on for a received payment, otherwise
    the request's date in Europe/Paris (the list's period filter). Kept exactly in sync by
    database triggers on ``payment`` (migration b14f1c0d0002), never written by the app;
    a bulk load without triggers rebuilds it (services.payments.collections)."""

    __tablename__ = "payment_total"

    method_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    status: str = Field(primary_key=True, max_length=30)
    day: date = Field(primary_key=True)
    payment_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # cents
    amount_refunded: int = Field(sa_column=Column(BigInteger, nullable=False))  # cents


class PaymentEvent(SQLModel, table=True):
    """Audit trail: one row per status change of a payment (and per refund amount change)."""

    __tablename__ = "payment_event"

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(sa_column=_fk("payment.id", ondelete="CASCADE"))
    from_status: str = Field(max_length=30)
    to_status: str = Field(max_length=30)
    at: datetime = Field(sa_type=UTCDateTime)
    source: str = Field(max_length=20)  # utilisateur | webhook | resynchronisation
    note: str = Field(default="", sa_type=Text)


class MollieCustomer(SQLModel, table=True):
    """A contact's Mollie customer (cst_…) in one company's Mollie account, and the SEPA
    direct debit mandate (mdt_…) made there from the contact's mandate fields, with the
    sha256 of "iban|bic|rum|date" it was made from: when those fields change, a new mandate
    is made and this one revoked (services.mollie.payments). A Mollie customer belongs to
    the account (and mode) of the key that created it, and a mandate to its creditor, so
    there is one per contact and company, made again when the company's key changes."""

    __tablename__ = "mollie_customer"
    __table_args__ = (UniqueConstraint("contact_id", "company_id", name="uq_mollie_customer_contact_company"),)

    id: int | None = Field(default=None, primary_key=True)
    # contact_id: no index of its own, the unique (contact_id, company_id) serves.
    contact_id: int = Field(sa_column=Column(Integer, ForeignKey("contact.id", ondelete="CASCADE"), nullable=False))
    company_id: int = Field(sa_column=_fk("company.id", ondelete="CASCADE"))
    customer_id: str = Field(max_length=40)
    mandate_id: str = Field(default="", max_length=40)
    mandate_fingerprint: str = Field(default="", max_length=64)
    # Mandates made from the contact's former fields (space-separated mdt_ ids): revoked
    # once a debit exists with the new one (a failed revocation is tried again then).
    mandates_to_revoke: str = Field(default="", sa_type=Text)
    # Keyed digest (services.mollie.mandates.key_digest) of the company's API key the
    # customer was made with: with another key, Mollie is asked whether it knows it
    # (another account, or test vs live mode, does not). "" when not known (older rows).
    key_digest: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
