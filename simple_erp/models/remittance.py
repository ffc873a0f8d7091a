"""Remises de prélèvements (bank-collected SEPA direct debits, pain.008) and the
pre-notifications sent to the customers before any debit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from simple_erp.models.types import ScaledDecimal, UTCDateTime, utcnow


def _fk(target: str, nullable: bool = False, ondelete: str | None = None, unique: bool = False) -> Column:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True, unique=unique)


class Remittance(SQLModel, table=True):
    """One pain.008 file: the collections of one issuing company on one date, credited to
    the bank account of a « Prélèvement SEPA » moyen. The file is kept as generated."""

    __tablename__ = "remittance"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=_fk("company.id"))
    method_id: int = Field(sa_column=_fk("payment_method.id"))
    reference: str = Field(max_length=35, unique=True)  # the file's MsgId
    collection_date: date
    status: str = Field(default="creee", max_length=20)  # domain.remittances.RemittanceStatus
    count: int = 0
    total: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    filename: str = Field(default="", max_length=100)
    file_xml: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, sa_column=_fk("app_user.id", nullable=True, ondelete="SET NULL"))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    canceled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RemittanceLine(SQLModel, table=True):
    """One collection of a remittance: one invoice, its payment, the mandate used.

    ``live_document_id`` is the invoice's id while the collection is live (its remittance not
    cancelled and the bank's answer not recorded), NULL otherwise: its unique constraint
    keeps an invoice out of two live remittances, on every database."""

    __tablename__ = "remittance_line"

    id: int | None = Field(default=None, primary_key=True)
    remittance_id: int = Field(sa_column=_fk("remittance.id", ondelete="CASCADE"))
    payment_id: int = Field(sa_column=_fk("payment.id", unique=True))
    document_id: int = Field(sa_column=_fk("document.id"))
    contact_id: int | None = Field(default=None, sa_column=_fk("contact.id", nullable=True, ondelete="SET NULL"))
    live_document_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("document.id"), nullable=True, unique=True))
    amount: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    sequence_type: str = Field(max_length=4)  # FRST | RCUR | OOFF
    rum: str = Field(max_length=35, index=True)
    mandate_signed_on: date
    debtor_name: str = Field(default="", max_length=420)
    iban_masked: str = Field(default="", max_length=40)
    end_to_end_id: str = Field(max_length=35)
    status: str = Field(default="en_cours", max_length=20)  # domain.remittances.LineStatus
    reject_code: str = Field(default="", max_length=4)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PreNotice(SQLModel, table=True):
    """A pre-notification: the customer told of a debit's amount and date, by email (the
    message is stored before it is sent). ``remittance_id`` for a bank remittance;
    ``payment_id`` once a Mollie debit used it."""

    __tablename__ = "prenotice"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=_fk("document.id"))
    contact_id: int | None = Field(default=None, sa_column=_fk("contact.id", nullable=True, ondelete="SET NULL"))
    amount: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    collection_date: date
    rum: str = Field(default="", max_length=35)
    channel: str = Field(default="remise", max_length=20)  # remise | mollie
    remittance_id: int | None = Field(default=None, sa_column=_fk("remittance.id", nullable=True, ondelete="SET NULL"))
    payment_id: int | None = Field(default=None, sa_column=_fk("payment.id", nullable=True, ondelete="SET NULL"))
    email_message_id: int | None = Field(default=None, sa_column=_fk("email_message.id", nullable=True,
                                                                      ondelete="SET NULL"))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, sa_column=_fk("app_user.id", nullable=True, ondelete="SET NULL"))
