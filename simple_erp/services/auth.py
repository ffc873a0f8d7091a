"""Staff accounts and sign-in sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, delete, func, or_, select, update

from simple_erp.config import get_settings
from simple_erp.domain.contact_rules import validate_email
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.passwords import MIN_PASSWORD_LENGTH, password_problem
from simple_erp.models.user import User, UserSession
from simple_erp.services import sign_in_throttle as throttle
from simple_erp.services.sign_in_throttle import ThrottlePolicy

__all__ = ["MIN_PASSWORD_LENGTH", "ThrottlePolicy"]

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("simple-erp-dummy-password")
BAD_CREDENTIALS = "Email ou mot de passe incorrect."
# A session's last_seen_at is written at most this often (few writes; the idle timeout
# is therefore exact to within this interval).
TOUCH_INTERVAL = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(hours=get_settings().session_idle_hours)


def has_any_user(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() > 0


def _check_account_fields(email: str, full_name: str, password: str | None) -> str:
    errors: dict[str, str] = {}
    clean_email = ""
    try:
        clean_email = validate_email(email)
    except DomainError as exc:
        errors["email"] = exc.message
    if not email.strip():
        errors["email"] = "L'adresse email est obligatoire."
    if not full_name.strip():
        errors["full_name"] = "Le nom est obligatoire."
    elif len(full_name.strip()) > 200:
        errors["full_name"] = "Le nom ne peut pas dépasser 200 caractères."
    if password is not None:
        problem = password_problem(password, (email, full_name))
        if problem:
            errors["password"] = problem
    if errors:
        raise ValidationErrors(errors)
    return clean_email


def _email_taken(session: Session, email: str, except_id: int | None = None) -> bool:
    query = select(User.id).where(func.lower(User.email) == email.lower())
    if except_id is not None:
        query = query.where(User.id != except_id)
    return session.exec(query).first() is not None


def create_user(
    session: Session, email: str, full_name: str, password: str, is_admin: bool = False
) -> User:
    clean_email = _check_account_fields(email, full_name, password)
    if _email_taken(session, clean_email):
        raise ValidationErrors({"email": "Un utilisateur existe déjà avec cette adresse email."})
    user = User(
        email=clean_email,
        full_name=full_name.strip(),
        password_hash=_hasher.hash(password),
        is_admin=is_admin,
    )
    session.add(user)
    session.flush()
    return user


def create_first_admin(session: Session, email: str, full_name: str, password: str) -> User:
    """Only while no user exists: the first account is an administrator."""
    if has_any_user(session):
        raise DomainError("Le compte administrateur existe déjà : connectez-vous.")
    return create_user(session, email, full_name, password, is_admin=True)


# --- sign-in ------------------------------------------------------------------------------


def authenticate(
    session: Session, email: str, password: str, client_address: str = "",
    *, policy: ThrottlePolicy | None = None, now: datetime | None = None,
) -> User:
    """The active user with that email and password, else DomainError with one message
    whatever the cause (unknown email, wrong password, deactivated account), after the
    same argon2 work. While the email or the client address is throttled, attempts are
    refused without checking the password.

    Commits the session (call it first in its transaction): the attempt is recorded as a
    failure and committed *before* the password is checked, then the lock is judged
    again with every attempt committed meanwhile, so parallel attempts cannot get more
    than the allowed number of guesses; a success forgets it, a failure keeps it."""
    now = now or _now()
    policy = policy or ThrottlePolicy.from_settings()
    wait = throttle.lock_wait(session, email, client_address, now, policy)
    if wait is not None:
        raise DomainError(throttle.too_many_message(wait))
    throttle.purge_old_failures(session, now, policy)  # indexed, and keeps the table small under attack
    attempt_id = throttle.record_failure(session, email, client_address, now)
    session.commit()
    wait = throttle.lock_wait(session, email, client_address, now, policy, exclude_id=attempt_id)
    if wait is not None:  # attempts running in parallel used the allowance
        throttle.forget_attempt(session, attempt_id)
        session.commit()
        raise DomainError(throttle.too_many_message(wait))
    user = session.exec(
        select(User).where(func.lower(User.email) == throttle.normalize_email(email))
    ).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        verified = True
    except (VerificationError, InvalidHashError):
        verified = False
    if not verified or user is None or not user.is_active:
        if user is not None:
            session.exec(update(User).where(User.id == user.id).values(failed_sign_ins=User.failed_sign_ins + 1))
        session.commit()
        raise DomainError(BAD_CREDENTIALS)
    throttle.forget_attempt(session, attempt_id)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # for the browser's cookie
    failed_attempts: int  # failed sign-ins with this email since the previous successful one


def failed_attempts_notice(count: int) -> str:
    if count <= 0:
        return ""
    if count == 1:
        return "1 tentative de connexion échouée depuis votre dernière connexion."
    return f"{count} tentatives de connexion échouées depuis votre dernière connexion."


def sign_in(
    session: Session, email: str, password: str, client_address: str = "", days: int | None = None,
    *, policy: ThrottlePolicy | None = None, now: datetime | None = None,
) -> SignedIn:
    """Authenticate (throttled; day-old failures purged), clear the email's failures,
    purge expired and idle sessions, open a session."""
    now = now or _now()
    policy = policy or ThrottlePolicy.from_settings()
    user = authenticate(session, email, password, client_address, policy=policy, now=now)
    failed = user.failed_sign_ins
    user.failed_sign_ins = 0
    session.add(user)
    throttle.clear_failures(session, email)
    purge_expired_sessions(session, now=now)
    token = open_session(session, user, days, now=now)
    return SignedIn(user=user, token=token, failed_attempts=failed)


# --- sessions -----------------------------------------------------------------------------


def open_session(session: Session, user: User, days: int | None = None, *, now: datetime | None = None) -> str:
    """Returns the token for the browser; only its hash is stored."""
    now = now or _now()
    days = get_settings().session_days if days is None else days
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_hash_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def user_for_token(
    session: Session, token: str, *, now: datetime | None = None, idle: timedelta | None = None
) -> User | None:
    """The active user behind a session that has neither expired nor been idle longer
    than ``idle`` (default: the setting); its last_seen_at is moved on at most every
    TOUCH_INTERVAL."""
    if not token:
        return None
    now = now or _now()
    idle = _idle_limit() if idle is None else idle
    row = session.exec(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _hash_token(token))
    ).first()
    if row is None:
        return None
    user, user_session = row
    if user_session.expires_at <= now or user_session.last_seen_at <= now - idle or not user.is_active:
        return None
    if now - user_session.last_seen_at >= TOUCH_INTERVAL:
        user_session.last_seen_at = now
        session.add(user_session)
    return user


def close_session(session: Session, token: str) -> None:
    if token:
        session.exec(delete(UserSession).where(UserSession.token_hash == _hash_token(token)))


def close_all_sessions(session: Session, user_id: int, except_token: str = "") -> int:
    """Signs the user out of every browser (but the one holding ``except_token``)."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if except_token:
        query = query.where(UserSession.token_hash != _hash_token(except_token))
    return session.exec(query).rowcount or 0


def purge_expired_sessions(session: Session, *, now: datetime | None = None, idle: timedelta | None = None) -> int:
    now = now or _now()
    idle = _idle_limit() if idle is None else idle
    result = session.exec(
        delete(UserSession).where(or_(UserSession.expires_at <= now, UserSession.last_seen_at <= now - idle))
    )
    return result.rowcount or 0


# --- profile and password -----------------------------------------------------------------


def update_profile(session: Session, user_id: int, full_name: str, email: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise DomainError("Utilisateur introuvable.")
    clean_email = _check_account_fields(email, full_name, None)
    if _email_taken(session, clean_email, except_id=user_id):
        raise ValidationErrors({"email": "Un autre utilisateur utilise déjà cette adresse email."})
    user.email = clean_email
    user.full_name = full_name.strip()
    session.add(user)
    return user


def change_password(session: Session, user_id: int, current: str, new: str, keep_token: str = "") -> None:
    """Also closes the user's other sessions (all but the one holding ``keep_token``)."""
    user = session.get(User, user_id)
    if user is None:
        raise DomainError("Utilisateur introuvable.")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise ValidationErrors({"current_password": "Mot de passe actuel incorrect."}) from None
    problem = password_problem(new, (user.email, user.full_name))
    if problem:
        raise ValidationErrors({"new_password": problem})
    user.password_hash = _hasher.hash(new)
    session.add(user)
    close_all_sessions(session, user.id, except_token=keep_token)


# --- staff accounts (administrators) ------------------------------------------------------


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.full_name, User.id)).all())


def create_staff_user(
    session: Session, acting_user: User, email: str, full_name: str, password: str, is_admin: bool
) -> User:
    """Only an administrator adds staff accounts."""
    if not acting_user.is_admin:
        raise DomainError("Seul un administrateur peut créer des utilisateurs.")
    return create_user(session, email, full_name, password, is_admin=is_admin)


def set_user_active(session: Session, acting_user_id: int, user_id: int, active: bool) -> User:
    """« Désactiver » / « Réactiver »: administrators only, never oneself, never the last
    active administrator. Deactivating closes all of the user's sessions at once."""
    acting = session.get(User, acting_user_id)
    if acting is None or not acting.is_active or not acting.is_admin:
        raise DomainError("Seul un administrateur peut désactiver ou réactiver un utilisateur.")
    if user_id == acting.id and not active:
        raise DomainError("Vous ne pouvez pas désactiver votre propre compte.")
    # Locks the active administrators' rows (PostgreSQL): two administrators deactivating
    # each other at once cannot leave none.
    active_admin_ids = session.exec(
        select(User.id).where(User.is_admin, User.is_active).order_by(User.id).with_for_update()
    ).all()
    user = session.get(User, user_id)
    if user is None:
        raise DomainError("Utilisateur introuvable.")
    if not active and user.id in active_admin_ids and len(active_admin_ids) <= 1:
        raise DomainError("Impossible de désactiver le dernier administrateur actif.")
    user.is_active = active
    session.add(user)
    if not active:
        close_all_sessions(session, user.id)
    session.flush()
    return user
