"""The SEPA mandate form (« Mandat de prélèvement SEPA ») as PDF bytes.

Same pipeline as the documents (``providers.pdf``): a ``string.Template``
(templates/sepa_mandate.html) filled with escaped text, xhtml2pdf with the embedded DejaVu
fonts and no network access, then PDF/A-3B (``providers.pdfa``).
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from simple_erp.domain.contact_rules import format_iban
from simple_erp.domain.money import format_date_fr
from simple_erp.domain.sepa import (
    MANDATE_AUTHORISATION,
    MANDATE_INFO,
    MANDATE_ONE_OFF,
    MANDATE_RIGHTS,
    MandateForm,
)
from simple_erp.providers.pdf import FONT_BOLD, FONT_REGULAR, _html_to_pdf
from simple_erp.providers.pdfa import to_pdfa3

_TEMPLATE = Template((Path(__file__).parent / "templates" / "sepa_mandate.html").read_text("utf-8"))
_CHECKED, _UNCHECKED = "\u2612", "\u2610"
TITLE = "Mandat de prélèvement SEPA"


def _e(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def _lines(lines: tuple[str, ...]) -> str:
    return "<br>".join(_e(line) for line in lines) or "&nbsp;"


def render_mandate_html(form: MandateForm) -> str:
    one_off = form.mandate_type == MANDATE_ONE_OFF
    return _TEMPLATE.substitute(
        title=_e(f"{TITLE} {form.rum}"),
        regular=FONT_REGULAR.as_posix(), bold=FONT_BOLD.as_posix(),
        type_subtitle="Paiement ponctuel" if one_off else "Paiement récurrent / répétitif",
        rum=_e(form.rum), ics=_e(form.ics),
        authorisation=_e(MANDATE_AUTHORISATION.format(creditor=form.creditor.name)),
        rights=_e(MANDATE_RIGHTS), info=_e(MANDATE_INFO),
        debtor_name=_e(form.debtor.name), debtor_address=_lines(form.debtor.address_lines),
        iban=_e(format_iban(form.iban)), bic=_e(form.bic),
        creditor_name=_e(form.creditor.name), creditor_address=_lines(form.creditor.address_lines),
        box_recurrent=_UNCHECKED if one_off else _CHECKED, box_one_off=_CHECKED if one_off else _UNCHECKED,
        place=_e(form.place) or "&nbsp;",
        date=_e(format_date_fr(form.signed_on)) if form.signed_on else "&nbsp;",
    ).replace("\u202f", "\u00a0")


def render_mandate_pdf(form: MandateForm) -> bytes:
    """The mandate as PDF/A-3B bytes (A4, DejaVu Sans embedded)."""
    raw = _html_to_pdf(render_mandate_html(form))
    return to_pdfa3(raw, title=f"{TITLE} {form.rum}", author=form.creditor.name,
                    subject=f"{TITLE} {form.rum} — {form.creditor.name} / {form.debtor.name}")
