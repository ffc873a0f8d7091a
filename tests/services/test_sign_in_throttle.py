"""Throttling of failed sign-ins (services.auth.sign_in / authenticate with
services.sign_in_throttle), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from simple_erp.domain.errors import DomainError
from simple_erp.models.types import utcnow
from simple_erp.models.user import SignInFailure, User
from simple_erp.services import auth
from simple_erp.services.sign_in_throttle import ThrottlePolicy

ADMIN_EMAIL = "claire.martin@boulangerie-dupre.fr"
ADMIN_PASSWORD = "Croissant-2024!"
BAD_CREDENTIALS = "Email ou mot de passe incorrect."
POLICY = ThrottlePolicy(max_failures=5, max_failures_per_address=8,
                        window=timedelta(minutes=15), lock=timedelta(minutes=15))
T0 = utcnow()


@pytest.fixture
def admin(session_factory) -> User:
    with session_factory() as session:
        return auth.create_first_admin(session, ADMIN_EMAIL, "Claire Martin", ADMIN_PASSWORD)


def _sign_in(session_factory, email, password, address="203.0.113.7", at=T0) -> auth.SignedIn:
    with session_factory() as session:
        return auth.sign_in(session, email, password, address, policy=POLICY, now=at)


def _refused(session_factory, email, password, address="203.0.113.7", at=T0) -> str:
    with pytest.raises(DomainError) as caught:
        _sign_in(session_factory, email, password, address, at)
    return caught.value.message


def _fail(session_factory, times, email=ADMIN_EMAIL, address="203.0.113.7", start=T0, step=timedelta(seconds=10)):
    for i in range(times):
        assert _refused(session_factory, email, "Pas-le-bon-2024", address, start + i * step) == BAD_CREDENTIALS


def test_failures_are_recorded_although_the_sign_in_is_refused(session_factory, admin):
    _fail(session_factory, 2)
    with session_factory() as session:
        rows = session.exec(select(SignInFailure)).all()
        assert [(r.email, r.client_address) for r in rows] == [(ADMIN_EMAIL, "203.0.113.7")] * 2
        assert session.get(User, admin.id).failed_sign_ins == 2


def test_five_failures_lock_the_account_even_with_the_right_password(session_factory, admin):
    _fail(session_factory, 5)
    at = T0 + timedelta(minutes=1)
    assert _refused(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=at) == (
        "Trop de tentatives : réessayez dans 15 minutes."
    )
    # From another address too: the lock is the account's.
    message = _refused(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.1", at + timedelta(minutes=10))
    assert message == "Trop de tentatives : réessayez dans 5 minutes."
    with session_factory() as session:  # refused attempts during the lock are not recorded
        assert session.exec(select(func.count()).select_from(SignInFailure)).one() == 5


def test_the_lock_passes_then_the_right_password_works_and_tells_of_the_failures(session_factory, admin):
    _fail(session_factory, 5)
    last_failure = T0 + 4 * timedelta(seconds=10)
    assert _refused(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=last_failure + timedelta(minutes=14, seconds=59))
    signed_in = _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=last_failure + timedelta(minutes=15))
    assert signed_in.user.id == admin.id and signed_in.token
    assert signed_in.failed_attempts == 5
    assert auth.failed_attempts_notice(5) == "5 tentatives de connexion échouées depuis votre dernière connexion."
    with session_factory() as session:  # the success cleared the counter
        assert session.exec(select(func.count()).select_from(SignInFailure)).one() == 0
        assert session.get(User, admin.id).failed_sign_ins == 0
    again = _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=last_failure + timedelta(minutes=16))
    assert again.failed_attempts == 0 and auth.failed_attempts_notice(0) == ""


def test_a_success_before_the_limit_resets_the_count(session_factory, admin):
    _fail(session_factory, 4)
    assert _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=T0 + timedelta(minutes=1)).failed_attempts == 4
    _fail(session_factory, 4, start=T0 + timedelta(minutes=2))
    assert _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=T0 + timedelta(minutes=3)).failed_attempts == 4


def test_failures_spread_beyond_the_window_do_not_lock(session_factory, admin):
    _fail(session_factory, 6, step=timedelta(minutes=4))  # any five span 16 minutes > 15
    assert _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=T0 + timedelta(minutes=21)).failed_attempts == 6


def test_an_unknown_email_is_locked_with_the_same_message(session_factory, admin):
    _fail(session_factory, 5, email="personne@boulangerie-dupre.fr")
    known = "Trop de tentatives : réessayez dans 15 minutes."
    assert _refused(session_factory, "personne@boulangerie-dupre.fr", "x", at=T0 + timedelta(seconds=40)) == known
    # The email is compared trimmed and lowercased.
    assert _refused(session_factory, " Personne@Boulangerie-Dupre.fr ", "x", at=T0 + timedelta(seconds=40)) == known
    # Another account from another address is not affected.
    assert _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.1", T0 + timedelta(seconds=41)).user


def test_one_address_trying_many_accounts_is_locked(session_factory, admin):
    for i in range(8):  # 8 different emails, 1 failure each, from one address
        _fail(session_factory, 1, email=f"essai{i}@exemple.fr", start=T0 + i * timedelta(seconds=5))
    at = T0 + timedelta(minutes=1)
    assert _refused(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=at).startswith("Trop de tentatives")
    # The same account from elsewhere still works.
    assert _sign_in(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.1", at).user.id == admin.id


def test_a_deactivated_account_fails_like_a_wrong_password_and_counts(session_factory, admin):
    with session_factory() as session:
        clerk = auth.create_staff_user(session, admin, "paul@boulangerie-dupre.fr", "Paul Durand", "Baguette-2024!", False)
        auth.set_user_active(session, admin.id, clerk.id, False)
    assert _refused(session_factory, "paul@boulangerie-dupre.fr", "Baguette-2024!") == BAD_CREDENTIALS
    with session_factory() as session:
        assert session.exec(select(func.count()).select_from(SignInFailure)).one() == 1


def test_old_failures_are_purged_at_each_attempt(session_factory, admin):
    _fail(session_factory, 3, email="vieux@exemple.fr", start=T0 - timedelta(days=2))
    _fail(session_factory, 1, email="recent@exemple.fr", start=T0 - timedelta(minutes=1))
    _fail(session_factory, 1, email="autre@exemple.fr", start=T0)
    with session_factory() as session:
        emails = sorted(r.email for r in session.exec(select(SignInFailure)).all())
    assert emails == ["autre@exemple.fr", "recent@exemple.fr"]


def test_unknown_email_and_wrong_password_take_about_the_same_time(session_factory, admin):
    import time

    def timed(email):
        start = time.perf_counter()
        _refused(session_factory, email, "Pas-le-bon-2024", address="")
        return time.perf_counter() - start

    for email in (ADMIN_EMAIL, "personne@exemple.fr"):  # warm up
        timed(email)
    known = min(timed(ADMIN_EMAIL) for _ in range(3))
    unknown = min(timed("personne@exemple.fr") for _ in range(3))
    assert unknown > known * 0.5 and known > unknown * 0.5  # both run argon2 (tens of ms)


def test_the_lock_setting_is_read_from_the_environment(monkeypatch):
    from simple_erp.config import Settings

    monkeypatch.setenv("SIMPLE_ERP_SIGNIN_LOCK_SECONDS", "3")
    assert Settings().signin_lock_seconds == 3
    assert Settings().signin_max_failures == 5


def test_parallel_attempts_get_no_more_than_the_allowed_guesses(session_factory, admin):
    """Twelve wrong passwords sent at once: each attempt is recorded before its password is
    checked and the lock judged again, so at most five reach argon2."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(12)

    def attempt(i):
        barrier.wait()
        return _refused(session_factory, ADMIN_EMAIL, f"Pas-le-bon-{i}", f"198.51.100.{i}", T0)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(attempt, range(12)))
    assert answers.count(BAD_CREDENTIALS) <= 5
    assert all(a == BAD_CREDENTIALS or a.startswith("Trop de tentatives") for a in answers)
    with session_factory() as session:
        failures = session.exec(select(func.count()).select_from(SignInFailure)).one()
        assert failures == answers.count(BAD_CREDENTIALS) == session.get(User, admin.id).failed_sign_ins
    # Attempts refused for the race are forgotten (never checked): the guesses left are
    # used one at a time, up to five in all.
    later = T0 + timedelta(seconds=1)
    for i in range(5 - answers.count(BAD_CREDENTIALS)):
        assert _refused(session_factory, ADMIN_EMAIL, f"Encore-faux-{i}", at=later) == BAD_CREDENTIALS
    assert _refused(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD, at=later).startswith("Trop de tentatives")
