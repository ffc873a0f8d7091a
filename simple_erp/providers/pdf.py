"""Documents as HTML (on-screen preview) and as PDF bytes.

The only module importing xhtml2pdf. One template (templates/document.html, a
``string.Template`` loaded once) serves both outputs; every user-provided text
goes through ``html.escape`` before it reaches it. ``render_document_pdf`` is the
one function from a document to PDF bytes: xhtml2pdf, then PDF/A-3 (``providers.pdfa``),
with the Factur-X XML embedded when the view carries one (finalised facture or avoir).

ReportLab's defaults (canvas base font, table cell font) are the embedded DejaVu Sans
instead of Helvetica, which PDF/A forbids since it is not embedded.

The footer's « Page x / y » costs one layout pass, not two: xhtml2pdf's ``<pdf:pagecount>``
would lay the whole document out twice (a ReportLab multiBuild, a quarter to a third of the
render time) to learn y. The footer is laid out with a one-digit placeholder for y instead,
and ``_write_page_total`` replaces it on every page once the pages are counted, in the
pikepdf pass of ``providers.pdfa`` (same glyphs, same embedded font, re-centred).
"""

from __future__ import annotations

import base64
import html
import io
import re
from decimal import Decimal
from pathlib import Path
from string import Template

import pikepdf
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import tables
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from simple_erp.domain.document_view import DocumentView, PartyView
from simple_erp.domain.documents import (
    FRANCHISE_TEXT,
    RECOVERY_INDEMNITY_TEXT,
    avoir_reference_text,
    late_penalty_text,
)
from simple_erp.domain.einvoice.mentions import VAT_ON_DEBITS_TEXT, category_label, vat_on_debits_applies
from simple_erp.domain.money import decimal_places, format_date_fr, format_decimal_fr, format_eur
from simple_erp.providers.pdfa import to_pdfa3

FONTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT_REGULAR = FONTS_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
_TEMPLATE = Template((Path(__file__).parent / "templates" / "document.html").read_text("utf-8"))
BASE_FONT = "SimpleErpDejaVuSans"


def _embedded_default_font() -> None:
    """ReportLab selects its default font on every page (canvas) and table cell even when no
    glyph is drawn with it: make that default the embedded DejaVu Sans (PDF/A)."""
    if BASE_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(BASE_FONT, FONT_REGULAR.as_posix()))
    rl_config.canvas_basefontname = BASE_FONT
    tables.CellStyle.fontname = BASE_FONT


_embedded_default_font()

#: What a render may read: the font directory and data: URIs; never the network.
RESOURCE_POLICY = ResourceAccessPolicy(
    allow_remote=False, base_dir=FONTS_DIR, max_local_bytes=10_000_000, max_image_pixels=25_000_000
)
_ALLOWED_FILES = frozenset({FONT_REGULAR.as_posix(), FONT_BOLD.as_posix()})
_ALLOWED_DATA = ("data:image/png;", "data:image/jpeg;")
_BLOCKED = (FONTS_DIR / "blocked-resource").as_posix()  # never exists: resolves to nothing
_LOGO_MIMES = frozenset({"image/png", "image/jpeg"})
_PAYMENT_KINDS = frozenset({"facture", "avoir"})
_NBSP = "\u00a0"
_DASH = " — "

_PDF_CSS = Template("""
@font-face { font-family: DejaVu; src: url("$regular"); }
@font-face { font-family: DejaVu; src: url("$bold"); font-weight: bold; }
@page { size: a4 portrait; margin: 1.3cm 1.4cm 2.3cm 1.4cm;
  @frame footer { -pdf-frame-content: doc-footer; left: 1.4cm; width: 18.2cm; bottom: 0.6cm;
                  height: 1.4cm; }
  $watermark_frame }
#doc-footer { margin-top: 0; }""")
_WATERMARK_FRAME = """@frame watermark { -pdf-frame-content: doc-watermark; left: 1.4cm;
                  width: 18.2cm; top: 13cm; height: 5cm; }"""
_PDF_PAGE = Template('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
                     "<title>$title</title></head><body>$body</body></html>")
_COLUMNS = (("Désignation", "", 39), ("Qté", "doc-num", 7), ("Unité", "", 8),
            ("PU HT", "doc-num", 12), ("Remise %", "doc-num", 11), ("TVA %", "doc-num", 9),
            ("Total HT", "doc-num", 14))
_VAT_COLUMN = 5
#: y of « Page x / y » until the pages are counted (see the module docstring): one digit,
#: as wide as any digit in DejaVu Sans, so that a total under 10 keeps the line's layout.
_TOTAL_PLACEHOLDER = "0"
_PAGE_LINE = re.compile(rb"\(Page (\d+) / " + _TOTAL_PLACEHOLDER.encode() + rb"\) Tj")
_DIGIT_WIDTH = pdfmetrics.stringWidth("0", BASE_FONT, 1000)  # thousandths of the font size


# --- small formatters (all return HTML-safe text) -----------------------------------


def _e(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def _multiline(text: str | None) -> str:
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(_e(line) for line in lines)


def _join(sep: str, items: list[str]) -> str:
    return sep.join(x for x in items if x)


def _labelled(label: str, value: str) -> str:
    """"SIREN 123456789" (value escaped), or "" when there is no value."""
    return f"{label}{_e(value)}" if value else ""


def _pct(d: Decimal) -> str:
    return f"{format_decimal_fr(d, None)}{_NBSP}%"


def _amount(d: Decimal) -> str:
    return format_decimal_fr(d, max(2, decimal_places(d)))  # unit prices keep up to 4 decimals


def _paras(items: list[str]) -> str:
    return "".join(f"<p>{item}</p>" for item in items if item)  # empty items are left out


def _section(title: str, content: str) -> str:
    return f'<div class="doc-section"><div class="doc-section-title">{title}</div>{content}</div>'


# --- blocks ------------------------------------------------------------------------------


def _company_line(p: PartyView) -> str:
    """"SAS au capital de 10 000 €", or ""."""
    capital = ""
    if p.capital is not None:
        places = 0 if p.capital == p.capital.to_integral_value() else 2
        capital = f"au capital de {format_decimal_fr(p.capital, places)}{_NBSP}€"
    return _join(" ", [_e(p.legal_form), capital])


def _identifiers(p: PartyView, siret: bool = True) -> list[str]:
    return [_labelled("SIREN ", p.siren), _labelled("SIRET ", p.siret) if siret else "",
            _labelled("RCS ", p.rcs_city), _labelled("RM ", p.rm_city),
            _labelled("TVA intracommunautaire ", p.vat_number)]


def _seller_details(p: PartyView) -> str:
    address = [_e(a) for a in p.address_lines]
    return _join("<br>", [_company_line(p), *address, *_identifiers(p), _e(p.email), _e(p.phone)])


def _buyers(view: DocumentView) -> str:
    blocks = []
    for p in view.buyers:
        lines = [_e(a) for a in p.address_lines]
        if p.is_business:
            lines = [_company_line(p), *lines, *_identifiers(p)]
        blocks.append(f'<div class="doc-buyer"><div class="doc-party-name">{_e(p.name)}</div>'
                      f'{_join("<br>", lines)}</div>')
    caption = "Clients" if len(view.buyers) > 1 else "Client"
    if view.delivery_address_lines:  # only frozen when it differs from the billing address
        blocks.append('<div class="doc-caption" id="doc-delivery">Adresse de livraison</div>'
                      f'<p>{_join("<br>", [_e(a) for a in view.delivery_address_lines])}</p>')
    return f'<div class="doc-caption">{caption}</div>{"".join(blocks)}'


def _dates(view: DocumentView) -> str:
    rows = [("Date d'émission", view.issue_date),
            ("Date de livraison / prestation", view.delivery_date),
            ("Date d'échéance", view.due_date)]
    return "".join(f'<tr><td class="doc-label">{label}</td>'
                   f'<td class="doc-value">{format_date_fr(d)}</td></tr>'
                   for label, d in rows if d)


def _head_and_rows(view: DocumentView) -> tuple[str, str]:
    cols = list(_COLUMNS)
    if view.vat_exempt:  # franchise: no VAT column at all, the description takes its room
        cols[0] = ("Désignation", "", 39 + cols.pop(_VAT_COLUMN)[2])
    head = "".join(f'<th class="{c}" width="{w}%">{n}</th>' for n, c, w in cols)
    rows = []
    for i, line in enumerate(view.lines):
        cells = [_multiline(line.description), format_decimal_fr(line.quantity, None),
                 _e(line.unit), _amount(line.unit_price),
                 _pct(line.discount_percent) if line.discount_percent else "",
                 _pct(line.vat_rate), _amount(line.total_ht)]
        if view.vat_exempt:
            del cells[_VAT_COLUMN]
        tds = "".join(f'<td class="{c}">{v}</td>' for v, (_, c, _) in zip(cells, cols))
        rows.append(f'<tr class="{"doc-alt" if i % 2 else "doc-row"}">{tds}</tr>')
    return head, "\n".join(rows)


def _totals(view: DocumentView) -> str:
    t = view.totals
    rows = [("Total HT", t.total_ht, "doc-sub")]
    if not view.vat_exempt:
        rows += [(f"TVA {_pct(b.rate)} sur {format_eur(b.base_ht)}", b.vat, "doc-row")
                 for b in t.vat_buckets]
        rows.append(("Total TVA", t.total_vat, "doc-sub"))
    rows.append(("Total TTC", t.total_ttc, "doc-grand"))
    return "".join(f'<tr class="{cls}"><td width="64%">{label}</td>'
                   f'<td class="doc-num" width="36%">{format_eur(v)}</td></tr>'
                   for label, v, cls in rows)


def _reference(view: DocumentView) -> str:
    if view.kind != "avoir" or not view.corrected_number:
        return ""
    text = avoir_reference_text(view.corrected_number, view.corrected_date) \
        if view.corrected_date else f"Avoir relatif à la facture n°{_NBSP}{view.corrected_number}."
    return f'<div class="doc-caption">Référence</div><p><strong>{_e(text)}</strong></p>'


def _payment(view: DocumentView) -> str:
    if view.kind not in _PAYMENT_KINDS:
        return ""
    items = [
        _labelled("Conditions de paiement : ", view.payment_terms_label),
        f"Date d'échéance : {format_date_fr(view.due_date)}" if view.due_date else "",
        _e(view.escompte_text),
        _e(late_penalty_text(view.late_penalty_rate)),
        _e(RECOVERY_INDEMNITY_TEXT) if any(b.is_business for b in view.buyers) else "",
        _join(_DASH, [_labelled("IBAN : ", view.bank_iban), _labelled("BIC : ", view.bank_bic)]),
    ]
    return _section("Paiement", _paras(items))


def _footer(p: PartyView) -> str:
    return _join(_DASH, [_e(p.name), _company_line(p), *_identifiers(p, siret=False)])


def _logo(view: DocumentView) -> str:
    if not view.logo_png_or_jpeg or view.logo_mime not in _LOGO_MIMES:
        return ""
    data = base64.b64encode(view.logo_png_or_jpeg).decode("ascii")
    src = f"data:{view.logo_mime};base64,{data}"
    return f'<div><img class="doc-logo" src="{src}" height="45"></div>'


# --- public API ----------------------------------------------------------------------------


def render_document_html(view: DocumentView, for_pdf: bool = False) -> str:
    """The document as HTML: a ``<div class="doc-preview">`` fragment for the
    on-screen preview (``rx.html``), or (``for_pdf``) a full page for xhtml2pdf."""
    head, rows = _head_and_rows(view)
    draft = view.is_draft or not view.number
    if for_pdf:
        extra_css = _PDF_CSS.substitute(regular=FONT_REGULAR.as_posix(), bold=FONT_BOLD.as_posix(),
                                        watermark_frame=_WATERMARK_FRAME if draft else "")
    else:
        extra_css = (".doc-preview { background-color: #ffffff; padding: 16px; max-width: 900px; }"
                     ".doc-preview table { border-collapse: collapse; }")  # xhtml2pdf ignores it
    body = _TEMPLATE.substitute(
        draft_class=" doc-draft" if draft else "",
        extra_css=extra_css,
        font_family="DejaVu" if for_pdf else "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif",
        watermark='<div id="doc-watermark" class="doc-watermark">BROUILLON</div>'
        if draft and for_pdf else "",
        logo=_logo(view),
        seller_name=_e(view.seller.name),
        draft_label='<div class="doc-number"><span class="doc-draft-label">BROUILLON</span></div>'
        if draft else "",
        title=_e(view.kind_label),
        number="Brouillon — non numéroté" if draft else f"N°{_NBSP}{_e(view.number)}",
        seller_details=_seller_details(view.seller),
        dates=_dates(view),
        reference=_reference(view),
        buyers=_buyers(view),
        head=head,
        rows=rows,
        mentions=_paras([f"<strong>{_e(FRANCHISE_TEXT)}</strong>" if view.vat_exempt else "",
                         *(_e(m) for m in view.vat_exemption_mentions),
                         _labelled("Catégorie de l'opération : ", category_label(view.operation_category)),
                         _e(VAT_ON_DEBITS_TEXT) if vat_on_debits_applies(
                             view.vat_on_debits, view.operation_category, view.vat_exempt) else ""]),
        totals=_totals(view),
        payment=_payment(view),
        notes=_section("Notes", f"<p>{_multiline(view.notes)}</p>") if view.notes.strip() else "",
        footer=_footer(view.seller),
        page_numbers=f"<br>Page <pdf:pagenumber> / {_TOTAL_PLACEHOLDER}" if for_pdf else "",
    )
    if not for_pdf:
        return body
    # xhtml2pdf breaks lines at U+202F and prints it as a plain space; a no-break
    # space keeps "1 234,56 €" on one line.
    return _PDF_PAGE.substitute(title=_e(pdf_title(view)), body=body.replace("\u202f", _NBSP))


def link_callback(uri: str, rel: str | None = None) -> str:
    """Only the bundled fonts and inline PNG/JPEG data; anything else resolves to nothing."""
    if uri in _ALLOWED_FILES or uri.startswith(_ALLOWED_DATA):
        return uri
    return _BLOCKED


def _html_to_pdf(source: str) -> bytes:
    out = io.BytesIO()
    try:
        status = pisa.CreatePDF(source, dest=out, link_callback=link_callback,
                                encoding="utf-8", resource_policy=RESOURCE_POLICY)
    except Exception as exc:  # xhtml2pdf lets anything from its parsers through
        raise RuntimeError(f"Échec de la génération du PDF : {exc}") from exc
    if status.err:
        raise RuntimeError(f"Échec de la génération du PDF ({status.err} erreur(s)).")
    return out.getvalue()


def _write_page_total(document: pikepdf.Pdf) -> None:
    """Every page's footer « Page x / 0 » becomes « Page x / y ». ReportLab writes the line as
    one string of ASCII codes (``(Page 3 / 0) Tj``), the first text of the page since static
    frames are painted before the flow; its digits are in the embedded subset (page y prints
    them). A total of n digits is n - 1 digits wider than the placeholder: the line starts
    half of that further left (a TJ offset), so it stays centred."""
    total = len(document.pages)
    shift = (len(str(total)) - len(_TOTAL_PLACEHOLDER)) * _DIGIT_WIDTH / 2
    for number, page in enumerate(document.pages, start=1):
        page.contents_coalesce()
        data = page.obj.Contents.read_bytes()
        found = _PAGE_LINE.search(data)
        if found is None or int(found[1]) != number:
            raise RuntimeError(f"« Page {number} / … » introuvable dans le pied de page.")
        line = f"(Page {number} / {total})"
        line = f"[{shift:.3f} {line}] TJ" if shift else f"{line} Tj"
        page.obj.Contents.write(data[:found.start()] + line.encode("ascii") + data[found.end():])


def pdf_title(view: DocumentView) -> str:
    draft = view.is_draft or not view.number
    return f"{view.kind_label} (brouillon)" if draft else f"{view.kind_label} {view.number}"


def render_document_pdf(view: DocumentView) -> bytes:
    """The document as PDF/A-3 bytes (A4, DejaVu Sans embedded, "Page x / y"); a Factur-X
    EN 16931 PDF when ``view.einvoice_xml`` is set."""
    raw = _html_to_pdf(render_document_html(view, for_pdf=True))
    title = pdf_title(view)
    buyer = view.buyers[0].name if view.buyers else ""
    try:
        return to_pdfa3(
            raw, title=title, author=view.seller.name,
            subject=f"{title} — {view.seller.name}" + (f" pour {buyer}" if buyer else ""),
            keywords="Factur-X, EN 16931, facture électronique" if view.einvoice_xml else "",
            facturx_xml=view.einvoice_xml or None, edit_pages=_write_page_total,
        )
    except Exception as exc:  # factur-x raises a bare Exception on an XML outside its XSD
        raise RuntimeError(f"Échec de la génération du PDF/A (Factur-X) : {exc}") from exc
