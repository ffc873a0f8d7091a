"""Sessions (idle timeout, sign-out everywhere, closed on password change, purge) and
deactivation of staff accounts (services.auth), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from simple_erp.domain.errors import DomainError
from simple_erp.models.types import utcnow
from simple_erp.models.user import User, UserSession
from simple_erp.services import auth

ADMIN_EMAIL = "claire.martin@boulangerie-dupre.fr"
ADMIN_PASSWORD = "Croissant-2024!"
CLERK_PASSWORD = "Baguette-2024!"
IDLE = timedelta(hours=8)


@pytest.fixture
def admin(session_factory) -> User:
    with session_factory() as session:
        return auth.create_first_admin(session, ADMIN_EMAIL, "Claire Martin", ADMIN_PASSWORD)


@pytest.fixture
def clerk(session_factory, admin) -> User:
    with session_factory() as session:
        return auth.create_staff_user(session, admin, "paul@boulangerie-dupre.fr", "Paul Durand", CLERK_PASSWORD, False)


def _open(session_factory, user, at=None, days=14) -> str:
    with session_factory() as session:
        return auth.open_session(session, user, days, now=at)


def _user_for(session_factory, token, at=None):
    with session_factory() as session:
        return auth.user_for_token(session, token, now=at, idle=IDLE)


def _session_rows(session_factory) -> list[UserSession]:
    with session_factory() as session:
        return list(session.exec(select(UserSession).order_by(UserSession.id)).all())


# --- idle timeout ---------------------------------------------------------------------------


def test_a_session_idle_longer_than_the_limit_ends(session_factory, admin):
    t0 = utcnow()
    token = _open(session_factory, admin, t0)
    assert _user_for(session_factory, token, t0 + IDLE - timedelta(minutes=1)) is not None
    token2 = _open(session_factory, admin, t0)
    assert _user_for(session_factory, token2, t0 + IDLE) is None


def test_activity_keeps_a_session_alive_up_to_the_absolute_limit(session_factory, admin):
    t0 = utcnow()
    token = _open(session_factory, admin, t0, days=2)
    at = t0
    while at < t0 + timedelta(days=2) - timedelta(hours=7):
        at += timedelta(hours=7)
        assert _user_for(session_factory, token, at) is not None  # each visit moves last_seen_at
    assert _user_for(session_factory, token, t0 + timedelta(days=2)) is None  # absolute limit


def test_last_seen_is_written_at_most_every_few_minutes(session_factory, admin):
    t0 = utcnow()
    token = _open(session_factory, admin, t0)
    _user_for(session_factory, token, t0 + auth.TOUCH_INTERVAL - timedelta(seconds=1))
    assert _session_rows(session_factory)[0].last_seen_at == t0
    _user_for(session_factory, token, t0 + auth.TOUCH_INTERVAL)
    assert _session_rows(session_factory)[0].last_seen_at == t0 + auth.TOUCH_INTERVAL


def test_session_length_and_idle_limit_follow_the_settings(session_factory, admin, monkeypatch):
    from simple_erp.config import get_settings

    monkeypatch.setenv("SIMPLE_ERP_SESSION_DAYS", "3")
    monkeypatch.setenv("SIMPLE_ERP_SESSION_IDLE_HOURS", "1")
    get_settings.cache_clear()
    try:
        t0 = utcnow()
        with session_factory() as session:
            token = auth.open_session(session, admin, now=t0)
        assert _session_rows(session_factory)[0].expires_at == t0 + timedelta(days=3)
        with session_factory() as session:
            assert auth.user_for_token(session, token, now=t0 + timedelta(minutes=59)) is not None
        with session_factory() as session:
            assert auth.user_for_token(session, token, now=t0 + timedelta(hours=2)) is None
    finally:
        get_settings.cache_clear()


def test_expired_and_idle_sessions_are_purged_at_sign_in(session_factory, admin, clerk):
    t0 = utcnow()
    _open(session_factory, clerk, t0 - timedelta(days=15))  # past the absolute limit
    _open(session_factory, clerk, t0 - timedelta(days=1))  # idle for a day
    alive = _open(session_factory, clerk, t0 - timedelta(hours=1))
    with session_factory() as session:
        signed_in = auth.sign_in(session, ADMIN_EMAIL, ADMIN_PASSWORD, now=t0)
    tokens = {row.token_hash for row in _session_rows(session_factory)}
    assert len(tokens) == 2
    assert _user_for(session_factory, alive, t0).id == clerk.id
    assert _user_for(session_factory, signed_in.token, t0).id == admin.id


# --- sign out everywhere, password change --------------------------------------------------


def test_sign_out_of_all_devices(session_factory, admin, clerk):
    mine = [_open(session_factory, admin) for _ in range(3)]
    theirs = _open(session_factory, clerk)
    with session_factory() as session:
        assert auth.close_all_sessions(session, admin.id) == 3
    assert all(_user_for(session_factory, token) is None for token in mine)
    assert _user_for(session_factory, theirs).id == clerk.id


def test_a_password_change_closes_the_other_sessions_only(session_factory, admin, clerk):
    current, other = _open(session_factory, admin), _open(session_factory, admin)
    theirs = _open(session_factory, clerk)
    with session_factory() as session:
        auth.change_password(session, admin.id, ADMIN_PASSWORD, "Pain-au-chocolat-2025", keep_token=current)
    assert _user_for(session_factory, current).id == admin.id
    assert _user_for(session_factory, other) is None
    assert _user_for(session_factory, theirs).id == clerk.id


# --- deactivation ---------------------------------------------------------------------------


def _set_active(session_factory, acting, user, active):
    with session_factory() as session:
        return auth.set_user_active(session, acting.id, user.id, active)


def _refusal(session_factory, acting, user, active) -> str:
    with pytest.raises(DomainError) as caught:
        _set_active(session_factory, acting, user, active)
    return caught.value.message


def test_deactivation_closes_sessions_and_blocks_sign_in_until_reactivated(session_factory, admin, clerk):
    tokens = [_open(session_factory, clerk), _open(session_factory, clerk)]
    assert _set_active(session_factory, admin, clerk, False).is_active is False
    assert all(_user_for(session_factory, token) is None for token in tokens)
    with session_factory() as session:
        assert session.exec(select(func.count()).select_from(UserSession).where(UserSession.user_id == clerk.id)).one() == 0
    with pytest.raises(DomainError) as caught, session_factory() as session:
        auth.sign_in(session, clerk.email, CLERK_PASSWORD)
    assert caught.value.message == "Email ou mot de passe incorrect."
    _set_active(session_factory, admin, clerk, True)
    with session_factory() as session:
        assert auth.sign_in(session, clerk.email, CLERK_PASSWORD).user.id == clerk.id


def test_only_an_administrator_deactivates(session_factory, admin, clerk):
    message = "Seul un administrateur peut désactiver ou réactiver un utilisateur."
    assert _refusal(session_factory, clerk, admin, False) == message
    with session_factory() as session:
        assert session.get(User, admin.id).is_active


def test_an_administrator_cannot_deactivate_themself(session_factory, admin):
    assert _refusal(session_factory, admin, admin, False) == "Vous ne pouvez pas désactiver votre propre compte."


def test_never_the_last_active_administrator(session_factory, admin, clerk):
    with session_factory() as session:
        other = auth.create_staff_user(session, admin, "luc@boulangerie-dupre.fr", "Luc Bernard", "Fougasse-2024!", True)
    _set_active(session_factory, admin, other, False)  # two active admins: allowed
    _set_active(session_factory, admin, other, True)
    # A deactivated administrator can no longer act.
    _set_active(session_factory, other, admin, False)
    assert _refusal(session_factory, admin, other, False) == (
        "Seul un administrateur peut désactiver ou réactiver un utilisateur."
    )
    with session_factory() as session:
        assert session.exec(select(func.count()).select_from(User).where(User.is_admin, User.is_active)).one() == 1


def test_deactivating_an_unknown_user(session_factory, admin):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        auth.set_user_active(session, admin.id, admin.id + 1000, False)
    assert caught.value.message == "Utilisateur introuvable."
