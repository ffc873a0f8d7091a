"""Relances: each company's reminder steps, and every reminder sent for an invoice.

A reminder row is inserted (unique document + step) in the same transaction as its
e-mail (stored "en_file" before it is sent): two workers, or a restart, can never send
the same step of the same invoice twice (services.reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint, true as sa_true
from sqlmodel import Field, SQLModel

from simple_erp.models.types import UTCDateTime, utcnow


def _fk(target: str, nullable: bool = False, ondelete: str | None = None) -> Column:
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


class ReminderStep(SQLModel, table=True):
    """One step of a company's schedule: ``offset_days`` after the due date (J-3, J+7…)."""

    __tablename__ = "reminder_step"
    __table_args__ = (UniqueConstraint("company_id", "offset_days", name="uq_reminder_step_company_offset"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=_fk("company.id", ondelete="CASCADE"))
    offset_days: int
    template_id: int | None = Field(default=None,
                                    sa_column=_fk("email_template.id", nullable=True, ondelete="SET NULL"))
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})


class Reminder(SQLModel, table=True):
    """A reminder of an invoice: its step (NULL: « Relancer maintenant » outside the
    schedule) and the e-mail that carries it (its status is the delivery status)."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("document_id", "step_id", name="uq_reminder_document_step"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=_fk("document.id", ondelete="CASCADE"))
    step_id: int | None = Field(default=None, sa_column=_fk("reminder_step.id", nullable=True, ondelete="SET NULL"))
    offset_days: int | None = None  # the step's offset when sent (the step may change later)
    email_message_id: int | None = Field(default=None,
                                         sa_column=_fk("email_message.id", nullable=True, ondelete="SET NULL"))
    manual: bool = False  # « Relancer maintenant »
    days_late: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, sa_column=_fk("app_user.id", nullable=True, ondelete="SET NULL"))
