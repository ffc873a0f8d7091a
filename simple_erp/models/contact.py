"""Contacts (fiches contact), with their SEPA mandate."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from simple_erp.models.types import UTCDateTime, utcnow


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_sort_name_id", "sort_name", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="particulier", max_length=20)  # particulier | entreprise
    company_name: str = Field(default="", max_length=200)
    last_name: str = Field(default="", max_length=200)
    first_name: str = Field(default="", max_length=200)
    # Derived, for sorting and display: raison sociale, or "NOM Prénom".
    display_name: str = Field(default="", max_length=420)
    sort_name: str = Field(default="", max_length=420)  # lower-case, accent-free
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    address_line1: str = Field(default="", max_length=200)
    address_line2: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=120)
    country: str = Field(default="FR", max_length=2)
    siren: str = Field(default="", max_length=9)
    vat_number: str = Field(default="", max_length=20)
    notes: str = Field(default="", sa_type=Text)
    # SEPA mandate: the IBAN is encrypted at rest; only its mask is stored in clear.
    iban_encrypted: str = Field(default="", sa_type=Text)
    iban_masked: str = Field(default="", max_length=40)
    bic: str = Field(default="", max_length=11)
    rum: str | None = Field(default=None, max_length=35, unique=True)
    mandate_signed_on: date | None = Field(default=None)
    # Lower-case, accent-free concatenation of the searchable fields.
    search_text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def mandate_complete(self) -> bool:
        return bool(self.iban_encrypted and self.bic and self.rum and self.mandate_signed_on)
