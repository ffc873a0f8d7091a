"""AuthState._staff_do, the one path of the pages' changes: nothing is called without a
session; a refused change (DomainError) is a French toast and the reload does not run; a
ValidationErrors also shows its fields on the form."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.pages.admin_erp import AdminErpState
from simple_erp.state import auth
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

USER = SimpleNamespace(is_admin=False, full_name="Victor", email="v@exemple.fr")


@contextmanager
def _no_session():
    yield "session"


@pytest.fixture
def state(monkeypatch):
    monkeypatch.setattr(auth, "session_scope", _no_session)
    return AdminErpState(_reflex_internal_init=True)


def _signed_in(monkeypatch, user) -> None:
    monkeypatch.setattr(AuthState, "_current_user", lambda self: user)


def test_without_a_session_nothing_is_called(monkeypatch, state):
    _signed_in(monkeypatch, None)
    calls = []
    result, refusal = state._staff_do(lambda s: calls.append(s), after=lambda s: calls.append("reload"))
    assert result is None and SESSION_EXPIRED in str(refusal) and calls == []


def test_a_change_runs_then_the_reload(monkeypatch, state):
    _signed_in(monkeypatch, USER)
    calls = []
    result, refusal = state._staff_do(lambda s: calls.append(("save", s)) or 42, after=lambda s: calls.append("reload"))
    assert (result, refusal) == (42, None) and calls == [("save", "session"), "reload"]


def test_a_refused_change_is_a_french_toast_and_no_reload(monkeypatch, state):
    _signed_in(monkeypatch, USER)
    calls = []

    def refuse(session):
        raise DomainError("Ce taux de TVA est utilisé par des produits.")

    result, refusal = state._staff_do(refuse, after=lambda s: calls.append("reload"))
    assert result is None and "Ce taux de TVA est utilisé" in str(refusal) and calls == []


def test_invalid_fields_are_shown_on_the_form(monkeypatch, state):
    _signed_in(monkeypatch, USER)

    def invalid(session):
        raise ValidationErrors({"rate": "Taux invalide."})

    _, refusal = state._staff_do(invalid, errors_attr="vat_errors", invalid="Taux non enregistré : corrigez les champs signalés.")
    assert state.vat_errors == {"rate": "Taux invalide."}
    assert "Taux non enregistré" in str(refusal)
