"""Business documents (interactions ERP): devis, bons de commande, factures, bons de
livraison, avoirs; their lines, linked contacts, files and number counters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from simple_erp.models.types import ScaledDecimal, UTCDateTime, utcnow


# Predicates of the partial indexes (the queries of services.dashboard repeat them).
OPEN_INVOICE = "kind = 'facture' AND status = 'finalise' AND amount_received < total_ttc"
FINAL_AVOIR = "kind = 'avoir' AND status = 'finalise'"


def _fk(target: str, nullable: bool = False, ondelete: str | None = None) -> Column:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


class Document(SQLModel, table=True):
    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("company_id", "kind", "number", name="uq_document_number"),
        # A number is unique per company across kinds (drafts have none: NULLs never clash).
        # It implies uq_document_number above, kept because dropping a constraint rebuilds
        # the table on SQLite (and would drop its immutability triggers).
        Index("uq_document_company_number", "company_id", "number", unique=True),
        Index("ix_document_kind_issue", "kind", "issue_date", "id"),
        Index("ix_document_kind_status_issue", "kind", "status", "issue_date", "id"),
        # Amount-range filters (and their capped count) in document lists.
        Index("ix_document_kind_ttc", "kind", "total_ttc", "status", "issue_date"),
        # Tableau de bord (services.dashboard): open invoices by company and due date, the
        # avoirs of an invoice, the invoiced total per month from the index alone.
        Index("ix_document_open_invoices", "company_id", "due_date", "id", "total_ttc", "amount_received",
              postgresql_where=text(OPEN_INVOICE), sqlite_where=text(OPEN_INVOICE)),
        Index("ix_document_avoir_source", "source_id", "total_ttc",
              postgresql_where=text(FINAL_AVOIR), sqlite_where=text(FINAL_AVOIR)),
        Index("ix_document_company_kind_status_issue", "company_id", "kind", "status", "issue_date", "total_ttc"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # domain.documents.DocumentKind
    status: str = Field(default="brouillon", max_length=20)
    company_id: int = Field(sa_column=_fk("company.id"))
    number: str | None = Field(default=None, max_length=35)  # given at finalisation only
    issue_date: date
    due_date: date | None = None
    delivery_date: date | None = None
    payment_terms: str = Field(default="30_jours_net", max_length=40)
    notes: str = Field(default="", sa_type=Text)
    # 2026 reform mentions, edited on the draft and frozen in the snapshot at finalisation:
    # the « catégorie de l'opération » chosen for this document ("" = from its lines and
    # the company's default) and the delivery address when it differs from the billing one.
    operation_category: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    delivery_line1: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    delivery_line2: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    delivery_postal_code: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    delivery_city: str = Field(default="", max_length=120, sa_column_kwargs={"server_default": ""})
    delivery_country: str = Field(default="", max_length=2, sa_column_kwargs={"server_default": ""})
    # Conversion chain (devis -> commande -> facture -> livraison) and avoir -> facture.
    source_id: int | None = Field(default=None, sa_column=_fk("document.id", nullable=True))
    # Totals, recomputed by the service on every change (for lists and filters).
    total_ht: Decimal = Field(default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False))
    total_vat: Decimal = Field(default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False))
    total_ttc: Decimal = Field(default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False))
    # Sum of the counted amounts of its payments (Simple Paiement), kept in sync by
    # services.payments, for lists; the payments themselves are the source of truth.
    amount_received: Decimal = Field(
        default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False, server_default="0")
    )
    # Frozen at finalisation: seller and buyer as printed (JSON).
    snapshot: str = Field(default="", sa_type=Text)
    # Denormalised name of the first linked contact, for lists.
    contact_name: str = Field(default="", max_length=420)
    # Public payment page /payer/<token>: random and unguessable, made on first need
    # (services.mollie.payments.ensure_public_token); None until then.
    public_token: str | None = Field(default=None, max_length=64, unique=True, index=True)
    finalized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Frozen at finalisation (services.documents.finalize): the logo printed (document_logo)
    # and the SHA-256 of the frozen content (domain.content_hash), checked before each PDF.
    # Database triggers (migration e12b9d4a0002) refuse changes to a finalised document's
    # frozen columns and lines.
    logo_sha256: str | None = Field(default=None, max_length=64)
    content_sha256: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DocumentLogo(SQLModel, table=True):
    """A logo as printed on finalised documents, by the SHA-256 of its bytes (shared by
    every document finalised with it; never changed or deleted)."""

    __tablename__ = "document_logo"

    sha256: str = Field(primary_key=True, max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DocumentContact(SQLModel, table=True):
    __tablename__ = "document_contact"
    __table_args__ = (
        UniqueConstraint("document_id", "contact_id"),
        # A client's documents from the index alone (services.documents.lists).
        Index("ix_document_contact_contact_document", "contact_id", "document_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=_fk("document.id", ondelete="CASCADE"))
    contact_id: int = Field(sa_column=_fk("contact.id"))
    position: int = 0


class DocumentSearch(SQLModel, table=True):
    """One row per document: the columns its list orders and filters by, and the search
    text of its contacts (each contact's ``search_text``, joined by a newline), for the
    search by client at scale (services.documents.lists). Kept in sync by triggers on
    document, document_contact and contact (migration f15b3c7d0002): a finalised document
    is immutable, this table is not (a renamed contact is found by its new name)."""

    __tablename__ = "document_search"
    __table_args__ = (
        # The list's order (newest first) walked with the filters and the text from the
        # index alone on PostgreSQL. The trigram index (PostgreSQL) and the FTS5 table
        # (SQLite) on search_text are created by the migration.
        Index("ix_document_search_walk", "kind", "issue_date", "document_id",
              postgresql_include=["status", "total_ttc", "search_text"]),
    )

    document_id: int = Field(sa_column=Column(Integer, ForeignKey("document.id", ondelete="CASCADE"),
                                              primary_key=True, autoincrement=False))
    company_id: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(max_length=20)
    status: str = Field(max_length=20)
    issue_date: date
    total_ttc: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))
    search_text: str = Field(default="", sa_type=Text)


class DocumentLine(SQLModel, table=True):
    __tablename__ = "document_line"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=_fk("document.id", ondelete="CASCADE"))
    position: int = 0
    product_id: int | None = Field(default=None, sa_column=_fk("product.id", nullable=True))
    description: str = Field(default="", sa_type=Text)
    quantity: Decimal = Field(sa_column=Column(ScaledDecimal(3), nullable=False))
    unit: str = Field(default="", max_length=20)
    unit_price: Decimal = Field(sa_column=Column(ScaledDecimal(4), nullable=False))  # HT
    discount_percent: Decimal = Field(default=Decimal(0), sa_column=Column(ScaledDecimal(2), nullable=False))
    vat_rate: Decimal = Field(sa_column=Column(ScaledDecimal(2), nullable=False))


class DocumentFile(SQLModel, table=True):
    """A generated PDF or an uploaded file. Never overwritten: a new generation adds one."""

    __tablename__ = "document_file"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=_fk("document.id", ondelete="CASCADE"))
    filename: str = Field(max_length=200)
    content_type: str = Field(default="application/pdf", max_length=100)
    size: int = 0
    sha256: str = Field(max_length=64)
    origin: str = Field(default="pdf", max_length=20)  # pdf | upload
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # load with defer() in lists
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NumberingPattern(SQLModel, table=True):
    __tablename__ = "numbering_pattern"
    __table_args__ = (UniqueConstraint("company_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=_fk("company.id", ondelete="CASCADE"))
    kind: str = Field(max_length=20)
    pattern: str = Field(max_length=60)


class NumberCounter(SQLModel, table=True):
    """Last number given per (company, kind, year); incremented in the finalising transaction."""

    __tablename__ = "number_counter"
    __table_args__ = (UniqueConstraint("company_id", "kind", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=_fk("company.id", ondelete="CASCADE"))
    kind: str = Field(max_length=20)
    year: int
    last_value: int = 0
