"""The API keys' save handlers refuse a signed-in user who is not an administrator, on the
server (the locked form is only a courtesy: a client can send any event), and change
nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from simple_erp.pages.admin_email import EmailAdminState
from simple_erp.pages.admin_erp import AdminErpState
from simple_erp.services import emails
from simple_erp.services.mollie import payments as mollie_payments
from simple_erp.state.auth import ADMIN_ONLY, SESSION_EXPIRED, AuthState


@pytest.fixture
def saved(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(mollie_payments, "set_mollie_api_key", lambda *args: calls.append(("mollie", args)))
    monkeypatch.setattr(emails, "save_email_settings", lambda *args: calls.append(("sendgrid", args)))
    return calls


def _as(monkeypatch, user) -> None:
    monkeypatch.setattr(AuthState, "_current_user", lambda self: user)


def _toast_text(event) -> str:
    return str(event)


@pytest.mark.parametrize("user, message", [
    (SimpleNamespace(is_admin=False, full_name="Victor", email="v@exemple.fr"), ADMIN_ONLY),
    (None, SESSION_EXPIRED),
])
def test_a_non_administrator_cannot_save_an_api_key(monkeypatch, saved, user, message):
    _as(monkeypatch, user)
    erp = AdminErpState(_reflex_internal_init=True)
    erp.company_id = 3
    erp._mollie_key_input = "test_abcdefghijklmnopqrstuvwxyz0123"
    assert message in _toast_text(AdminErpState.save_mollie_key.fn(erp))
    crm = EmailAdminState(_reflex_internal_init=True)
    crm._key_input = "SG.abcdefghijklmnop.qrstuvwxyz"
    assert message in _toast_text(EmailAdminState.save_settings.fn(crm))
    assert saved == []  # nothing reached the services


def test_an_administrator_saves_them(monkeypatch, saved):
    monkeypatch.setattr(AdminErpState, "_show_mollie_key", lambda self, session: None)
    monkeypatch.setattr(EmailAdminState, "_refresh", lambda self, session: None)
    monkeypatch.setattr("simple_erp.pages.mollie_key.session_scope", _no_session)
    monkeypatch.setattr("simple_erp.pages.admin_email.session_scope", _no_session)
    _as(monkeypatch, SimpleNamespace(is_admin=True, full_name="Alice", email="a@exemple.fr"))
    erp = AdminErpState(_reflex_internal_init=True)
    erp.company_id = 3
    erp._mollie_key_input = "test_abcdefghijklmnopqrstuvwxyz0123"
    AdminErpState.save_mollie_key.fn(erp)
    crm = EmailAdminState(_reflex_internal_init=True)
    crm._key_input = "SG.abcdefghijklmnop.qrstuvwxyz"
    EmailAdminState.save_settings.fn(crm)
    assert [what for what, _args in saved] == ["mollie", "sendgrid"]


class _no_session:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
