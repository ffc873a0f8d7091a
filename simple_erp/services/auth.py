"""Staff accounts and sign-in sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, delete, func, select

from simple_erp.domain.contact_rules import validate_email
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.user import User, UserSession

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("simple-erp-dummy-password")
MIN_PASSWORD_LENGTH = 10
BAD_CREDENTIALS = "Email ou mot de passe incorrect."


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = (
            f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
        )
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


def authenticate(session: Session, email: str, password: str) -> User:
    user = session.exec(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise DomainError(BAD_CREDENTIALS) from None
    if user is None or not user.is_active:
        raise DomainError(BAD_CREDENTIALS)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def open_session(session: Session, user: User, days: int = 14) -> str:
    """Returns the token for the browser; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_hash_token(token),
            user_id=user.id,
            expires_at=_now() + timedelta(days=days),
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    row = session.exec(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _hash_token(token))
    ).first()
    if row is None:
        return None
    user, user_session = row
    if user_session.expires_at <= _now() or not user.is_active:
        return None
    return user


def close_session(session: Session, token: str) -> None:
    if token:
        session.exec(delete(UserSession).where(UserSession.token_hash == _hash_token(token)))


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


def change_password(session: Session, user_id: int, current: str, new: str) -> None:
    user = session.get(User, user_id)
    if user is None:
        raise DomainError("Utilisateur introuvable.")
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise ValidationErrors({"current_password": "Mot de passe actuel incorrect."}) from None
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationErrors(
            {"new_password": f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."}
        )
    user.password_hash = _hasher.hash(new)
    session.add(user)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.full_name, User.id)).all())


def create_staff_user(
    session: Session, acting_user: User, email: str, full_name: str, password: str, is_admin: bool
) -> User:
    """Only an administrator adds staff accounts."""
    if not acting_user.is_admin:
        raise DomainError("Seul un administrateur peut créer des utilisateurs.")
    return create_user(session, email, full_name, password, is_admin=is_admin)
