"""Form pieces: a field tied to its visible French label, with its error message beside it.

Every form control of the app goes through ``labelled`` (or ``check`` for a checkbox):
the label is a real ``<label for=…>`` and the control carries the matching ``id``, so a
click on the label focuses the field, a screen reader announces the label, and the
browser tests find the field with ``get_by_label("IBAN")``. Radix Themes puts ``id`` on
the real element: the ``<input>`` of ``rx.input``, the ``<textarea>``, the ``<button
role=checkbox>`` of ``rx.checkbox``; ``rx.el.select`` is a native ``<select>``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import reflex as rx
from reflex.vars import Var


def error_text(message: Var, id: Any = None) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color="red", size="2", class_name="field-error", id=id), rx.fragment())


def field_id(label: str) -> str:
    """A stable HTML id from a French label (accents dropped)."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return "champ-" + re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")


def _suffixed(control_id: Any, suffix: str) -> Any:
    return control_id + suffix if isinstance(control_id, Var) else f"{control_id}{suffix}"


def labelled(label: str, control: rx.Component, error: Var | None = None, hint: str = "", *, id: Any = None) -> rx.Component:
    """``label`` above ``control``, tied to it by ``id`` (given here, already on the control,
    or derived from the label).

    The hint and the error message describe the field (``aria-describedby``)."""
    control_id = next((i for i in (id, control.id) if i is not None), None)
    if control_id is None:  # derived from the label: « Date d'émission » -> "champ-date-d-emission"
        control_id = field_id(label)
    control.id = control_id
    described = []
    if hint:
        described.append(_suffixed(control_id, "-hint"))
    if error is not None:
        described.append(_suffixed(control_id, "-error"))
    if described:
        description = described[0]
        for other in described[1:]:
            description = description + " " + other
        control.custom_attrs["aria-describedby"] = description
    return rx.vstack(
        rx.el.label(rx.text(label, as_="span", size="2", weight="medium"), html_for=control_id),
        control,
        rx.text(hint, size="1", color="gray", id=_suffixed(control_id, "-hint")) if hint else rx.fragment(),
        error_text(error, id=_suffixed(control_id, "-error")) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def read_only(label: str, value: Any, id: str) -> rx.Component:
    """A value shown where a field would be (not a control: its label names it by aria-labelledby)."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium", id=f"{id}-label"),
        rx.text(value, id=id, aria_labelledby=f"{id}-label"),
        spacing="1",
        width="100%",
    )


def check(label: Any, checked: Any, on_change: Any, id: Any, **props) -> rx.Component:
    """A checkbox with its words beside it; clicking the words ticks it."""
    return rx.el.label(
        rx.hstack(rx.checkbox(checked=checked, on_change=on_change, id=id, **props), rx.text(label, size="2"), align="center"),
        html_for=id,
    )



def file_upload(label: str, *children: rx.Component, **props) -> rx.Component:
    """``rx.upload`` whose file input (visually hidden by react-dropzone, still announced) is named ``label``."""
    component = rx.upload(*children, **props)
    pending = [component]
    while pending:
        current = pending.pop()
        if current.tag == "input":
            current.custom_attrs["aria-label"] = label
            return component
        pending.extend(child for child in current.children if isinstance(child, rx.Component))
    raise LookupError("rx.upload renders no <input>: Reflex changed, name its file input another way")


# Date fields: typed and shown the French way (jj/mm/aaaa) whatever the browser's language
# (Chromium formats <input type=date> by its own UI language, not by <html lang>); the
# states keep ISO dates (AAAA-MM-JJ): a complete French date is converted in the browser,
# anything else is passed as typed (the service then says what is expected).
_TO_ISO = ("((t) => {{ const m = /^\\s*(\\d{{1,2}})\\/(\\d{{1,2}})\\/(\\d{{4}})\\s*$/.exec(t ?? \"\"); "
           "return m ? m[3] + \"-\" + m[2].padStart(2, \"0\") + \"-\" + m[1].padStart(2, \"0\") : (t ?? \"\"); }})({arg})")
_TO_FRENCH = ("((t) => {{ const m = /^(\\d{{4}})-(\\d{{2}})-(\\d{{2}})$/.exec(t ?? \"\"); "
              "return m ? m[3] + \"/\" + m[2] + \"/\" + m[1] : (t ?? \"\"); }})({arg})")


def _js_date(template: str, arg: Var) -> Var:
    arg = Var.create(arg)
    return Var(_js_expr=template.format(arg=arg), _var_type=str, _var_data=arg._get_all_var_data())


def iso_date(text: Var) -> Var:
    """« 28/11/2026 » -> "2026-11-28" in the browser (other text unchanged)."""
    return _js_date(_TO_ISO, text)


def french_date(iso: Var) -> Var:
    """"2026-11-28" -> « 28/11/2026 » in the browser (other text unchanged)."""
    return _js_date(_TO_FRENCH, iso)


def date_input(value: Var, on_change, id: str, *, on_blur_only: bool = False, **props) -> rx.Component:
    """A date field in jj/mm/aaaa. ``value`` is the state's ISO date; ``on_change(iso)``
    returns the event. ``on_blur_only``: the date is sent when the field is left (for
    handlers that save or query at once), not at each keystroke."""
    props = {"type": "text", "id": id, "placeholder": "jj/mm/aaaa", "max_length": 10, "auto_complete": "off", **props}
    if on_blur_only:
        return rx.input(default_value=french_date(value), key=f"{id}-" + Var.create(value).to(str),
                        on_blur=lambda text: on_change(iso_date(text)), **props)
    return rx.input(value=french_date(value), on_change=lambda text: on_change(iso_date(text)), **props)
