"""Reading the settings forms the services receive (``dict[str, str]`` from the pages), and
saving a row whose unique column a concurrent save may have taken."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from simple_erp.domain.errors import ValidationErrors

TRUE_VALUES = {"1", "true", "True", "on", "oui"}


def text(form: dict[str, str], name: str) -> str:
    """The field, stripped ("" when missing or None)."""
    return str(form.get(name, "") or "").strip()


def flag(form: dict[str, str], name: str, default: bool = True) -> bool:
    """A checkbox: ``default`` when the form does not carry it."""
    if name not in form:
        return default
    value = form.get(name)
    return value is True or str(value or "").strip() in TRUE_VALUES


def flush_unique(session: Session, obj, field: str, message: str) -> None:
    """Add and flush ``obj``; a unique constraint taken meanwhile becomes ``message`` on ``field``."""
    session.add(obj)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent save took the same value
        raise ValidationErrors({field: message}) from exc
