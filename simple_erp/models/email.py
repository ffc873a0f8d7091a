"""Sending documents by e-mail (SendGrid): settings, rubriques and modèles d'email, the
e-mails themselves (stored before they are sent), their attachments and the events the
SendGrid Event Webhook reports (delivered, bounce, open…)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint, false as sa_false
from sqlmodel import Field, SQLModel

from simple_erp.models.types import UTCDateTime, utcnow


def _fk(target: str, nullable: bool = False, ondelete: str | None = None) -> Column:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


class EmailSettings(SQLModel, table=True):
    """One row (id = 1): "Admin CRM → 13. Paramètres"."""

    __tablename__ = "email_settings"

    id: int | None = Field(default=None, primary_key=True)
    enabled: bool = Field(default=False)
    sendgrid_api_key_encrypted: str = Field(default="", sa_type=Text)  # crypto.encrypt
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EmailRubrique(SQLModel, table=True):
    """A folder of modèles: Factures, Devis, Relances…"""

    __tablename__ = "email_rubrique"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    position: int = 0


class EmailTemplate(SQLModel, table=True):
    """A modèle d'email: subject and body with {placeholders} (domain.email_templates)."""

    __tablename__ = "email_template"
    __table_args__ = (UniqueConstraint("rubrique_id", "name", name="uq_email_template_rubrique_name"),)

    id: int | None = Field(default=None, primary_key=True)
    rubrique_id: int = Field(sa_column=_fk("email_rubrique.id", ondelete="CASCADE"))
    name: str = Field(max_length=150)
    subject: str = Field(max_length=300)
    body: str = Field(default="", sa_type=Text)
    position: int = 0


class EmailMessage(SQLModel, table=True):
    """An e-mail, stored (status "en_file") before it is sent, then "envoye" or "echec".

    ``attempt_started_at`` is set while a send is in progress (claimed by an UPDATE), so two
    workers or a double click never send the same message twice."""

    __tablename__ = "email_message"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int | None = Field(default=None, sa_column=_fk("document.id", nullable=True, ondelete="SET NULL"))
    # An email sent from a fiche contact (e.g. its SEPA mandate form) instead of a document.
    contact_id: int | None = Field(default=None, sa_column=_fk("contact.id", nullable=True, ondelete="SET NULL"))
    sender_email: str = Field(max_length=254)
    sender_name: str = Field(default="", max_length=200)
    to_addrs: str = Field(default="", sa_type=Text)  # comma-separated
    cc_addrs: str = Field(default="", sa_type=Text)  # comma-separated
    subject: str = Field(default="", max_length=300)
    body_text: str = Field(default="", sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    include_payment_info: bool = Field(default=False)
    status: str = Field(default="en_file", max_length=20, index=True)  # en_file | envoye | echec
    provider_message_id: str | None = Field(default=None, max_length=100, index=True)  # X-Message-Id
    error: str = Field(default="", sa_type=Text)  # French reason of the last failure
    error_detail: str = Field(default="", sa_type=Text)  # the provider's own words (for support)
    # The last failure may not be one: the request left but its answer never came (timeout).
    # Its events (matched by ``reference``) turn it into "envoye"; a retry asks first.
    outcome_uncertain: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    # Random, sent as a SendGrid custom argument: its events name it even when the
    # X-Message-Id was never received. NULL for messages queued before it existed.
    reference: str | None = Field(default=None, max_length=32, unique=True, index=True)
    attempts: int = 0
    attempt_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, sa_column=_fk("app_user.id", nullable=True, ondelete="SET NULL"))
    last_event: str = Field(default="", max_length=20)  # "" | delivered | open | bounce | dropped
    last_event_detail: str = Field(default="", sa_type=Text)  # bounce reason, address
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bounced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EmailAttachment(SQLModel, table=True):
    """A file sent with a message: a reference to the document's file (its bytes are read
    again at each attempt), with its name, type and size as they were when queued."""

    __tablename__ = "email_attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(sa_column=_fk("email_message.id", ondelete="CASCADE"))
    document_file_id: int | None = Field(
        default=None, sa_column=_fk("document_file.id", nullable=True, ondelete="SET NULL")
    )
    contact_file_id: int | None = Field(  # or a file of a fiche contact (services.sepa_mandates)
        default=None, sa_column=_fk("contact_file.id", nullable=True, ondelete="SET NULL")
    )
    filename: str = Field(max_length=200)
    mime_type: str = Field(default="application/pdf", max_length=100)
    size: int = 0


class EmailEvent(SQLModel, table=True):
    """One SendGrid Event Webhook event, kept once (unique sg_event_id)."""

    __tablename__ = "email_event"

    id: int | None = Field(default=None, primary_key=True)
    sg_event_id: str = Field(max_length=100, unique=True)
    message_id: int | None = Field(
        default=None, sa_column=_fk("email_message.id", nullable=True, ondelete="SET NULL")
    )
    event: str = Field(max_length=30)
    email: str = Field(default="", max_length=254)
    at: datetime = Field(sa_type=UTCDateTime)
    raw: str = Field(default="", sa_type=Text)  # the event as received (JSON)
