"""Issuing companies (sociétés émettrices), products and VAT rates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from simple_erp.models.types import ScaledDecimal, UTCDateTime, utcnow


class Company(SQLModel, table=True):
    __tablename__ = "company"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)  # raison sociale
    legal_form: str = Field(default="", max_length=60)  # SARL, SAS, EI…
    capital: Decimal | None = Field(default=None, sa_column=Column(ScaledDecimal(2), nullable=True))
    address_line1: str = Field(default="", max_length=200)
    address_line2: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=120)
    country: str = Field(default="FR", max_length=2)
    siren: str = Field(default="", max_length=9)
    siret: str = Field(default="", max_length=14)
    rcs_city: str = Field(default="", max_length=120)
    rm_city: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})  # répertoire des métiers
    vat_number: str = Field(default="", max_length=20)
    vat_regime: str = Field(default="normal", max_length=20)  # normal | franchise
    logo_filename: str = Field(default="", max_length=200)
    logo: bytes | None = Field(default=None)
    iban_encrypted: str = Field(default="", sa_type=Text)
    iban_masked: str = Field(default="", max_length=40)
    bic: str = Field(default="", max_length=11)
    ics: str = Field(default="", max_length=35)  # numéro d'émetteur SEPA
    # How « Générer le mandat SEPA » numbers a new RUM (domain.sepa: {year} {yy} {contact} {seq}).
    rum_pattern: str = Field(default="RUM-{year}-{seq:06d}", max_length=60,
                             sa_column_kwargs={"server_default": "RUM-{year}-{seq:06d}"})
    payment_terms: str = Field(default="30_jours_net", max_length=40)
    late_penalty_rate: Decimal = Field(default=Decimal("12.15"), sa_column=Column(ScaledDecimal(2), nullable=False))
    escompte_text: str = Field(default="Pas d'escompte pour paiement anticipé.", max_length=300)
    contact_email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    mollie_api_key_encrypted: str = Field(default="", sa_type=Text)
    # SEPA pre-notification: days between the notice to the customer and the debit (14 by
    # default; fewer only if the company's mandates say so). domain.remittances.
    prenotification_days: int = Field(default=14, sa_column_kwargs={"server_default": "14"})
    # 2026 reform mentions (domain.einvoice.mentions): the default « catégorie de l'opération »
    # (biens | services | mixte) and the option for paying VAT on debits.
    operation_category: str = Field(default="mixte", max_length=20, sa_column_kwargs={"server_default": "mixte"})
    vat_on_debits: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    is_default: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VatRate(SQLModel, table=True):
    __tablename__ = "vat_rate"

    id: int | None = Field(default=None, primary_key=True)
    rate: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False, unique=True))
    label: str = Field(max_length=60)
    exemption_mention: str = Field(default="", max_length=300)
    active: bool = Field(default=True)


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=200)  # désignation
    description: str = Field(default="", sa_type=Text)
    unit: str = Field(default="", max_length=20)
    unit_price: Decimal = Field(sa_column=Column(ScaledDecimal(4), nullable=False))  # HT
    vat_rate: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    kind: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})  # bien | service | ""
    active: bool = Field(default=True)


class CompanyChange(SQLModel, table=True):
    """Audit trail of a company's identity and bank details: who changed what, when, from
    what to what (IBANs kept masked). Rows are only ever added."""

    __tablename__ = "company_change"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    user_name: str = Field(default="", max_length=200)  # as it was then (kept if the user goes)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    field: str = Field(max_length=40)
    old_value: str = Field(default="", sa_type=Text)
    new_value: str = Field(default="", sa_type=Text)
