"""Staff users and their sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from simple_erp.models.types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    is_admin: bool = Field(default=False)
    is_active: bool = Field(default=True)
    # Failed sign-ins with this email since the last successful one (shown then, reset).
    failed_sign_ins: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the token is stored."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # Updated at most every few minutes (services.auth.TOUCH_INTERVAL): the idle timeout.
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignInFailure(SQLModel, table=True):
    """One failed sign-in, for throttling per email (known or not) and per client address.
    Cleared for an email by its next successful sign-in; purged when old."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_email_at", "email", "failed_at"),
        Index("ix_sign_in_failure_address_at", "client_address", "failed_at"),
        Index("ix_sign_in_failure_failed_at", "failed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)  # as typed, trimmed and lowercased
    client_address: str = Field(default="", max_length=64)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
