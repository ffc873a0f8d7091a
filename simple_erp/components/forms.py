"""Form pieces: a labelled field with its French error message beside it."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var


def error_text(message: Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color="red", size="2", class_name="field-error"), rx.fragment())


def labelled(label: str, control: rx.Component, error: Var | None = None, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        rx.text(hint, size="1", color="gray") if hint else rx.fragment(),
        error_text(error) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )
