"""E-invoices received from suppliers (« Importer une facture électronique »): the file as
received, never changed, and what it says (read once, at import), per issuing company."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from simple_erp.models.types import ScaledDecimal, UTCDateTime, utcnow


class ReceivedInvoice(SQLModel, table=True):
    __tablename__ = "received_invoice"
    # The same file is imported once per company (its SHA-256).
    __table_args__ = (UniqueConstraint("company_id", "sha256", name="uq_received_invoice_file"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("company.id", ondelete="CASCADE"), nullable=False,
                                             index=True))
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int = 0
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # as received; defer() in lists
    source_format: str = Field(max_length=20)  # factur-x-pdf | cii-xml | ubl-xml
    syntax: str = Field(max_length=10)  # CII | UBL
    number: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # facture | avoir
    type_code: str = Field(default="", max_length=10)
    issue_date: date
    due_date: date | None = None
    currency: str = Field(default="EUR", max_length=3)
    seller_name: str = Field(default="", max_length=200)
    seller_siren: str = Field(default="", max_length=20)
    seller_vat: str = Field(default="", max_length=30)
    buyer_name: str = Field(default="", max_length=200)
    total_ht: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    total_vat: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    total_ttc: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    amount_due: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    valid: bool = False
    summary: str = Field(sa_column=Column(Text, nullable=False))  # domain.einvoice.received.to_json
    validation: str = Field(sa_column=Column(Text, nullable=False))  # ValidationReport.to_dict, as JSON
    imported_by_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
