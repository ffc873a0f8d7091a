"""Domain errors: each carries a French message meant for the user."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken. ``message`` is French and shown to the user.

    ``field`` names the form field the message belongs beside, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationErrors(DomainError):
    """Several field errors at once: ``errors`` maps field name -> French message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors.values()), "Données invalides.")
        super().__init__(first, next(iter(self.errors), None))
