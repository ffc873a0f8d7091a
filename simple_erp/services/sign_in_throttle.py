"""Throttling of failed sign-ins, per email (whether or not the account exists) and per
client address: after ``max_failures`` failures within the window, attempts are refused
for the lock period, with one message that does not tell whether the account exists.

Part of services.auth (which calls it); kept apart to stay small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, delete, select

from simple_erp.config import get_settings
from simple_erp.models.user import SignInFailure

# Failures older than this are purged (the notice to the owner uses User.failed_sign_ins).
KEEP_FAILURES = timedelta(days=1)


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    lock: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls) -> "ThrottlePolicy":
        s = get_settings()
        return cls(
            max_failures=s.signin_max_failures,
            max_failures_per_address=s.signin_max_failures_per_address,
            window=timedelta(seconds=s.signin_window_seconds),
            lock=timedelta(seconds=s.signin_lock_seconds),
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()[:254]


def normalize_address(address: str) -> str:
    return (address or "").strip()[:64]


def too_many_message(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return f"Trop de tentatives : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."


def _locked_until(
    session: Session, column, value: str, limit: int, policy: ThrottlePolicy, exclude_id: int | None
) -> datetime | None:
    """When the last ``limit`` failures for that key all fall within the window, the lock
    runs from the latest of them."""
    query = select(SignInFailure.failed_at).where(column == value)
    if exclude_id is not None:
        query = query.where(SignInFailure.id != exclude_id)
    times = session.exec(query.order_by(SignInFailure.failed_at.desc()).limit(limit)).all()
    if len(times) < limit or times[0] - times[-1] > policy.window:
        return None
    return times[0] + policy.lock


def lock_wait(
    session: Session, email: str, address: str, now: datetime, policy: ThrottlePolicy,
    exclude_id: int | None = None,
) -> timedelta | None:
    """How long this email or address must still wait, or None when it may try.
    ``exclude_id``: the attempt being judged, already recorded (see record_failure)."""
    ends = [_locked_until(session, SignInFailure.email, normalize_email(email), policy.max_failures, policy, exclude_id)]
    if address:
        ends.append(
            _locked_until(session, SignInFailure.client_address, normalize_address(address),
                          policy.max_failures_per_address, policy, exclude_id)
        )
    latest = max((end for end in ends if end is not None), default=None)
    if latest is None or latest <= now:
        return None
    return latest - now


def record_failure(session: Session, email: str, address: str, now: datetime) -> int:
    row = SignInFailure(email=normalize_email(email), client_address=normalize_address(address), failed_at=now)
    session.add(row)
    session.flush()
    return row.id


def forget_attempt(session: Session, attempt_id: int) -> None:
    session.exec(delete(SignInFailure).where(SignInFailure.id == attempt_id))


def clear_failures(session: Session, email: str) -> None:
    session.exec(delete(SignInFailure).where(SignInFailure.email == normalize_email(email)))


def purge_old_failures(session: Session, now: datetime, policy: ThrottlePolicy) -> None:
    keep = max(KEEP_FAILURES, policy.window + policy.lock)
    session.exec(delete(SignInFailure).where(SignInFailure.failed_at < now - keep))
