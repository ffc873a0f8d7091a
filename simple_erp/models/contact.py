"""Contacts (fiches contact), with their SEPA mandate."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, Text, false as sa_false
from sqlmodel import Field, SQLModel

from simple_erp.models.types import UTCDateTime, utcnow


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    # PostgreSQL: search_text included, so a search walks names without reading the table
    # (services.contacts.name_walk; migration f15a2b6c0001).
    __table_args__ = (Index("ix_contact_sort_name_id", "sort_name", "id", postgresql_include=["search_text"]),)

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
    # « Récurrent » or « Ponctuel » (domain.sepa.MANDATE_TYPES).
    mandate_type: str = Field(default="recurrent", max_length=20, sa_column_kwargs={"server_default": "recurrent"})
    # Relances: never sent an automatic reminder (services.reminders).
    reminders_excluded: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    # Lower-case, accent-free concatenation of the searchable fields.
    search_text: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def mandate_complete(self) -> bool:
        return bool(self.iban_encrypted and self.bic and self.rum and self.mandate_signed_on)


class ContactFile(SQLModel, table=True):
    """A file kept on a fiche contact (« Fichiers »): the SEPA mandate form it generated."""

    __tablename__ = "contact_file"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(sa_column=Column(Integer, ForeignKey("contact.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    filename: str = Field(max_length=200)
    content_type: str = Field(default="application/pdf", max_length=100)
    size: int = 0
    sha256: str = Field(max_length=64)
    origin: str = Field(default="mandat_sepa", max_length=20)  # mandat_sepa
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # load with defer() in lists
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
