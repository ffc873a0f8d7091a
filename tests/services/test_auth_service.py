"""Staff accounts and sign-in sessions (simple_erp.services.auth), on a real migrated database."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.types import utcnow
from simple_erp.models.user import User, UserSession
from simple_erp.services import auth

ADMIN_EMAIL = "claire.martin@boulangerie-dupre.fr"
ADMIN_PASSWORD = "Croissant-2024!"
BAD_CREDENTIALS = "Email ou mot de passe incorrect."


@pytest.fixture
def admin(session_factory) -> User:
    with session_factory() as session:
        return auth.create_first_admin(session, ADMIN_EMAIL, "Claire Martin", ADMIN_PASSWORD)


@pytest.fixture
def clerk(session_factory, admin) -> User:
    """A non-administrator staff account."""
    with session_factory() as session:
        return auth.create_staff_user(
            session, admin, "paul.durand@boulangerie-dupre.fr", "Paul Durand", "Baguette-2024!", False
        )


def _authenticate(session_factory, email: str, password: str) -> User:
    with session_factory() as session:
        return auth.authenticate(session, email, password)


def _user_count(session_factory) -> int:
    with session_factory() as session:
        return len(auth.list_users(session))


# --- first administrator ----------------------------------------------------------------


def test_has_any_user_is_false_on_an_empty_database_then_true(session_factory):
    with session_factory() as session:
        assert auth.has_any_user(session) is False
        auth.create_first_admin(session, ADMIN_EMAIL, "Claire Martin", ADMIN_PASSWORD)
    with session_factory() as session:
        assert auth.has_any_user(session) is True


def test_first_admin_is_an_active_administrator_with_a_hashed_password(session_factory, admin):
    with session_factory() as session:
        [user] = auth.list_users(session)
    assert (user.email, user.full_name) == (ADMIN_EMAIL, "Claire Martin")
    assert user.is_admin and user.is_active
    assert ADMIN_PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2")


def test_a_second_first_admin_is_refused(session_factory, admin):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        auth.create_first_admin(session, "intrus@example.fr", "Intrus", "Intrusion-2024!")
    assert caught.value.message == "Le compte administrateur existe déjà : connectez-vous."
    assert _user_count(session_factory) == 1


# --- account validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "full_name", "password", "fields"),
    [
        ("claire.martin", "Claire Martin", ADMIN_PASSWORD, {"email"}),
        ("", "Claire Martin", ADMIN_PASSWORD, {"email"}),
        (ADMIN_EMAIL, "Claire Martin", "court", {"password"}),
        (ADMIN_EMAIL, "   ", ADMIN_PASSWORD, {"full_name"}),
        ("claire@", "", "123", {"email", "full_name", "password"}),
    ],
    ids=["bad-email", "empty-email", "short-password", "empty-name", "everything-wrong"],
)
def test_invalid_account_fields_are_reported_per_field(session_factory, email, full_name, password, fields):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.create_first_admin(session, email, full_name, password)
    assert set(caught.value.errors) == fields
    assert _user_count(session_factory) == 0


def test_validation_messages_are_the_french_ones_shown_to_the_user(session_factory):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.create_first_admin(session, "", "", "123456789")
    assert caught.value.errors == {
        "email": "L'adresse email est obligatoire.",
        "full_name": "Le nom est obligatoire.",
        "password": "Le mot de passe doit contenir au moins 10 caractères.",
    }


def test_email_is_stored_with_a_lowercase_domain_and_trimmed_name(session_factory):
    with session_factory() as session:
        user = auth.create_first_admin(session, "  Claire.Martin@Boulangerie-Dupre.FR ", "  Claire Martin ", ADMIN_PASSWORD)
    assert user.email == "Claire.Martin@boulangerie-dupre.fr"
    assert user.full_name == "Claire Martin"


def test_duplicate_email_is_refused_whatever_the_case(session_factory, admin):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.create_staff_user(
            session, admin, ADMIN_EMAIL.upper(), "Claire Bis", "Autre-mot-2024!", False
        )
    assert caught.value.errors == {"email": "Un utilisateur existe déjà avec cette adresse email."}
    assert _user_count(session_factory) == 1


# --- authentication -----------------------------------------------------------------------


def test_authenticate_with_the_right_password(session_factory, admin):
    user = _authenticate(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert user.id == admin.id


def test_authenticate_ignores_email_case_and_surrounding_spaces(session_factory, admin):
    user = _authenticate(session_factory, f"  {ADMIN_EMAIL.upper()} ", ADMIN_PASSWORD)
    assert user.id == admin.id


@pytest.mark.parametrize(
    ("email", "password"),
    [(ADMIN_EMAIL, "Mauvais-mot-de-passe"), ("inconnu@boulangerie-dupre.fr", ADMIN_PASSWORD), (ADMIN_EMAIL, "")],
    ids=["bad-password", "unknown-email", "empty-password"],
)
def test_authenticate_refuses_with_one_generic_message(session_factory, admin, email, password):
    with pytest.raises(DomainError) as caught:
        _authenticate(session_factory, email, password)
    assert caught.value.message == BAD_CREDENTIALS


def test_an_inactive_user_cannot_sign_in_even_with_the_right_password(session_factory, clerk):
    with session_factory() as session:
        session.get(User, clerk.id).is_active = False
    with pytest.raises(DomainError) as caught:
        _authenticate(session_factory, clerk.email, "Baguette-2024!")
    assert caught.value.message == BAD_CREDENTIALS


# --- sessions -----------------------------------------------------------------------------


def _open(session_factory, user: User) -> str:
    with session_factory() as session:
        return auth.open_session(session, user)


def _user_for(session_factory, token: str) -> User | None:
    with session_factory() as session:
        return auth.user_for_token(session, token)


def test_open_session_gives_a_token_that_finds_the_user(session_factory, admin):
    token = _open(session_factory, admin)
    user = _user_for(session_factory, token)
    assert user is not None and user.id == admin.id


def test_session_lasts_fourteen_days_by_default(session_factory, admin):
    before = utcnow()
    _open(session_factory, admin)
    with session_factory() as session:
        [row] = session.exec(select(UserSession)).all()
    assert before + timedelta(days=14) <= row.expires_at <= utcnow() + timedelta(days=14)


def test_only_the_sha256_of_the_token_is_stored(session_factory, engine, admin):
    token = _open(session_factory, admin)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM user_session")).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert token not in stored
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_unknown_or_empty_token_finds_nobody(session_factory, admin):
    _open(session_factory, admin)
    assert _user_for(session_factory, "not-a-real-token") is None
    assert _user_for(session_factory, "") is None


def test_expired_session_finds_nobody(session_factory, admin):
    token = _open(session_factory, admin)
    with session_factory() as session:
        row = session.exec(select(UserSession)).one()
        row.expires_at = utcnow() - timedelta(minutes=1)
    assert _user_for(session_factory, token) is None


def test_session_of_a_deactivated_user_finds_nobody(session_factory, clerk):
    token = _open(session_factory, clerk)
    with session_factory() as session:
        session.get(User, clerk.id).is_active = False
    assert _user_for(session_factory, token) is None


def test_close_session_signs_out_that_browser_only(session_factory, admin):
    kept, closed = _open(session_factory, admin), _open(session_factory, admin)
    with session_factory() as session:
        auth.close_session(session, closed)
    assert _user_for(session_factory, closed) is None
    assert _user_for(session_factory, kept).id == admin.id


# --- profile and password -----------------------------------------------------------------


def test_update_profile_changes_name_and_email(session_factory, admin):
    with session_factory() as session:
        auth.update_profile(session, admin.id, " Claire Dupré ", "claire@Dupre.FR")
    with session_factory() as session:
        user = session.get(User, admin.id)
    assert (user.full_name, user.email) == ("Claire Dupré", "claire@dupre.fr")
    assert _authenticate(session_factory, "claire@dupre.fr", ADMIN_PASSWORD).id == admin.id


def test_update_profile_may_keep_its_own_email(session_factory, admin):
    with session_factory() as session:
        auth.update_profile(session, admin.id, "Claire M.", ADMIN_EMAIL.upper())
    with session_factory() as session:
        assert session.get(User, admin.id).full_name == "Claire M."


def test_update_profile_refuses_another_users_email(session_factory, admin, clerk):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.update_profile(session, clerk.id, "Paul Durand", ADMIN_EMAIL)
    assert caught.value.errors == {"email": "Un autre utilisateur utilise déjà cette adresse email."}
    with session_factory() as session:
        assert session.get(User, clerk.id).email == "paul.durand@boulangerie-dupre.fr"


def test_update_profile_validates_fields(session_factory, admin):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.update_profile(session, admin.id, "", "pas-un-email")
    assert set(caught.value.errors) == {"full_name", "email"}


def test_update_profile_of_an_unknown_user(session_factory, admin):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        auth.update_profile(session, admin.id + 1000, "Fantôme", "fantome@example.fr")
    assert caught.value.message == "Utilisateur introuvable."


def test_change_password_then_only_the_new_one_works(session_factory, admin):
    with session_factory() as session:
        auth.change_password(session, admin.id, ADMIN_PASSWORD, "Pain-au-chocolat-2025")
    assert _authenticate(session_factory, ADMIN_EMAIL, "Pain-au-chocolat-2025").id == admin.id
    with pytest.raises(DomainError):
        _authenticate(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD)


def test_change_password_needs_the_current_one(session_factory, admin):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.change_password(session, admin.id, "Pas-le-bon-2024", "Pain-au-chocolat-2025")
    assert caught.value.errors == {"current_password": "Mot de passe actuel incorrect."}
    assert _authenticate(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD).id == admin.id


def test_change_password_refuses_a_short_new_password(session_factory, admin):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.change_password(session, admin.id, ADMIN_PASSWORD, "court")
    assert set(caught.value.errors) == {"new_password"}
    assert _authenticate(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD).id == admin.id


# --- staff accounts -----------------------------------------------------------------------


def test_an_admin_creates_staff_users(session_factory, admin, clerk):
    with session_factory() as session:
        names = [(u.full_name, u.is_admin) for u in auth.list_users(session)]
    assert names == [("Claire Martin", True), ("Paul Durand", False)]
    assert _authenticate(session_factory, clerk.email, "Baguette-2024!").id == clerk.id


def test_a_non_admin_cannot_create_staff_users(session_factory, clerk):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        auth.create_staff_user(
            session, clerk, "complice@boulangerie-dupre.fr", "Complice", "Complice-2024!", True
        )
    assert caught.value.message == "Seul un administrateur peut créer des utilisateurs."
    assert _user_count(session_factory) == 2


# --- password policy (domain.passwords) at every entry point ------------------------------

WEAK = "Mot de passe trop facile à deviner"


@pytest.mark.parametrize("password", [" " * 10, "0123456789", "password12", ADMIN_EMAIL])
def test_the_first_admin_cannot_use_a_common_or_trivial_password(session_factory, password):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.create_first_admin(session, ADMIN_EMAIL, "Claire Martin", password)
    assert caught.value.errors["password"].startswith(WEAK)
    assert _user_count(session_factory) == 0


def test_a_new_staff_user_cannot_use_a_trivial_password(session_factory, admin):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.create_staff_user(session, admin, "paul@boulangerie-dupre.fr", "Paul Durand", "aaaaaaaaaaaa", False)
    assert caught.value.errors["password"].startswith(WEAK)
    assert _user_count(session_factory) == 1


def test_change_password_refuses_a_common_new_password(session_factory, admin):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        auth.change_password(session, admin.id, ADMIN_PASSWORD, "password12")
    assert caught.value.errors["new_password"].startswith(WEAK)
    assert _authenticate(session_factory, ADMIN_EMAIL, ADMIN_PASSWORD).id == admin.id
