"""Tests for simple_erp.providers.pdf: HTML preview and PDF of a DocumentView.

The PDFs are read back with pypdf. xhtml2pdf prints U+202F / U+00A0 as plain
spaces and wraps long lines, so ``text()`` collapses every run of whitespace
(including those two) into one space, and ``norm()`` does the same to the
expected strings.
"""

from __future__ import annotations

import dataclasses
import io
import re
import socket
from datetime import date
from decimal import Decimal as D

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from simple_erp.domain.document_view import DocumentView, LineView, PartyView
from simple_erp.domain.documents import (
    FRANCHISE_TEXT,
    RECOVERY_INDEMNITY_TEXT,
    avoir_reference_text,
    late_penalty_text,
)
from simple_erp.domain.einvoice import einvoice_from_view
from simple_erp.domain.einvoice.cii import cii_xml
from simple_erp.domain.money import format_eur
from simple_erp.domain.totals import Line, compute_totals, line_total_ht
from simple_erp.providers import pdf as pdf_provider
from simple_erp.providers.pdf import link_callback, render_document_html, render_document_pdf

FOOTER_WIDTH = 18.2 / 2.54 * 72  # the footer frame, 18.2 cm
EVIL = '<img src=x> <a href="http://evil">clic</a>'
ACCENTS = "Crème brûlée à la façon de Noël"

SELLER = PartyView(
    name="Atelier Éloïse",
    address_lines=("12 rue de la Paix", "75002 Paris"),
    legal_form="SARL",
    capital=D(10000),
    siren="123456789",
    siret="12345678900012",
    rcs_city="Paris",
    vat_number="FR12123456789",
    email="contact@eloise.fr",
    phone="01 23 45 67 89",
)
COMPANY = PartyView(
    name="Garçon & Fils",
    address_lines=("3 place du Marché", "69003 Lyon"),
    legal_form="SAS",
    siren="987654321",
    rcs_city="Lyon",
    vat_number="FR98987654321",
    is_business=True,
)
PERSON = PartyView(name="Hélène Dupré", address_lines=("8 allée des Tilleuls", "44000 Nantes"),
                   is_business=False)

# (description, quantity, unit, unit price HT, discount %, VAT %)
MIXED = [
    (f"Développement site vitrine\n{ACCENTS}", "1", "forfait", "1234.56", "0", "20"),
    (EVIL, "3", "u", "12.50", "10", "5.5"),
    ("Formation à distance (août)", "2.5", "jour", "400", "0", "10"),
]


def make_view(spec=MIXED, *, kind="facture", number="F-2026-00042", draft=False,
              buyers=(COMPANY,), vat_exempt=False, **extra) -> DocumentView:
    sign = -1 if kind == "avoir" else 1
    lines = [Line(D(q), D(p), D(r), D(d)) for _, q, _u, p, d, r in spec]
    line_views = tuple(
        LineView(desc, D(q), unit, D(p), D(d), D(0) if vat_exempt else D(r),
                 sign * line_total_ht(ln))
        for (desc, q, unit, p, d, r), ln in zip(spec, lines, strict=True)
    )
    fields = dict(
        kind=kind,
        kind_label={"facture": "Facture", "avoir": "Avoir", "devis": "Devis"}[kind],
        number=None if draft else number,
        is_draft=draft,
        issue_date=date(2026, 11, 28),
        due_date=date(2026, 12, 28),
        delivery_date=date(2026, 11, 20),
        seller=SELLER,
        buyers=buyers,
        lines=line_views,
        totals=compute_totals(lines, vat_exempt=vat_exempt, sign=sign),
        vat_exempt=vat_exempt,
        payment_terms_label="30 jours net",
        late_penalty_rate=D("12.15"),
        escompte_text="Pas d'escompte pour paiement anticipé.",
        bank_iban="FR76 3000 6000 0112 3456 7890 189",
        bank_bic="AGRIFRPP",
        notes="Merci de votre confiance.\nÀ bientôt !",
    )
    fields.update(extra)
    return DocumentView(**fields)


def norm(s: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", s).strip()


def text(data: bytes) -> str:
    return norm(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 40), (30, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def business_view() -> DocumentView:
    return make_view(logo_png_or_jpeg=png_bytes(), logo_mime="image/png")


@pytest.fixture(scope="module")
def business_pdf(business_view) -> bytes:
    return render_document_pdf(business_view)


@pytest.fixture(scope="module")
def business_text(business_pdf) -> str:
    return text(business_pdf)


@pytest.fixture(scope="module")
def franchise_text() -> str:
    view = make_view(buyers=(PERSON,), vat_exempt=True, number="F-2026-00007")
    return text(render_document_pdf(view))


# --- business buyer, three VAT rates --------------------------------------------------


def test_is_a_pdf_with_title_and_number(business_pdf, business_text):
    assert business_pdf.startswith(b"%PDF-")
    assert "Facture" in business_text
    assert "N° F-2026-00042" in business_text
    assert "BROUILLON" not in business_text
    assert PdfReader(io.BytesIO(business_pdf)).metadata.title == "Facture F-2026-00042"


def test_totals_as_printed(business_view, business_text):
    # 1234.56 + 3 × 12.50 × 0.9 = 33.75 + 2.5 × 400 = 1000 -> HT 2268.31
    t = business_view.totals
    assert (t.total_ht, t.total_vat, t.total_ttc) == (D("2268.31"), D("348.77"), D("2617.08"))
    assert norm("Total HT 2\u202f268,31\u00a0€") in business_text
    assert norm("TVA 20\u00a0% sur 1\u202f234,56\u00a0€ 246,91\u00a0€") in business_text
    assert norm("TVA 10\u00a0% sur 1\u202f000,00\u00a0€ 100,00\u00a0€") in business_text
    assert norm("TVA 5,5\u00a0% sur 33,75\u00a0€ 1,86\u00a0€") in business_text
    assert norm(f"Total TVA {format_eur(t.total_vat)}") in business_text
    assert norm(f"Total TTC {format_eur(t.total_ttc)}") in business_text
    assert "Total TTC 2 617,08 €" in business_text


def test_lines_table(business_text):
    for header in ("Désignation", "Qté", "Unité", "PU HT", "Remise %", "TVA %", "Total HT"):
        assert header in business_text
    assert "1 forfait 1 234,56 20 % 1 234,56" in business_text
    assert "3 u 12,50 10 % 5,5 % 33,75" in business_text
    assert "2,5 jour 400,00 10 % 1 000,00" in business_text


def test_seller_mentions(business_text):
    for mention in ("Atelier Éloïse", "SARL au capital de 10 000 €", "12 rue de la Paix",
                    "75002 Paris", "SIREN 123456789", "SIRET 12345678900012", "RCS Paris",
                    "TVA intracommunautaire FR12123456789", "contact@eloise.fr",
                    "01 23 45 67 89"):
        assert mention in business_text


def test_footer_repeats_seller_identity_with_page_numbers(business_text):
    footer = ("Atelier Éloïse — SARL au capital de 10 000 € — SIREN 123456789 — RCS Paris — "
              "TVA intracommunautaire FR12123456789 Page 1 / 1")
    assert footer in business_text


def test_business_buyer_block(business_text):
    for mention in ("CLIENT", "Garçon & Fils", "3 place du Marché", "69003 Lyon",
                    "SIREN 987654321", "TVA intracommunautaire FR98987654321"):
        assert mention in business_text


def test_dates(business_text):
    assert "Date d'émission 28/11/2026" in business_text
    assert "Date de livraison / prestation 20/11/2026" in business_text
    assert "Date d'échéance 28/12/2026" in business_text


def test_payment_mentions_for_business_buyer(business_text):
    assert "Conditions de paiement : 30 jours net" in business_text
    assert "Date d'échéance : 28/12/2026" in business_text
    assert "Pas d'escompte pour paiement anticipé." in business_text
    assert norm(late_penalty_text(D("12.15"))) in business_text
    assert norm(RECOVERY_INDEMNITY_TEXT) in business_text
    assert "40 €" in business_text
    assert "IBAN : FR76 3000 6000 0112 3456 7890 189" in business_text
    assert "BIC : AGRIFRPP" in business_text
    assert FRANCHISE_TEXT not in business_text


def test_notes_and_accents(business_text):
    assert "Notes Merci de votre confiance. À bientôt !" in business_text
    assert ACCENTS in business_text
    assert "Formation à distance (août)" in business_text
    for ch in "éèàçÉ":
        assert ch in business_text


def test_font_is_embedded(business_pdf):
    reader = PdfReader(io.BytesIO(business_pdf))
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                embedded.add(str(font["/BaseFont"]).split("+")[-1])
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= embedded


def test_logo_is_embedded_as_image(business_pdf):
    page = PdfReader(io.BytesIO(business_pdf)).pages[0]
    xobjects = page["/Resources"].get("/XObject", {})
    assert any(x.get_object()["/Subtype"] == "/Image" for x in xobjects.values())


# --- escaping -------------------------------------------------------------------------


def test_markup_in_description_prints_as_text(business_text, business_pdf):
    assert EVIL in business_text
    reader = PdfReader(io.BytesIO(business_pdf))
    assert all("/Annots" not in page for page in reader.pages)  # no link was made


@pytest.mark.parametrize("for_pdf", [False, True])
def test_markup_in_user_text_is_escaped_in_html(for_pdf):
    view = make_view(
        spec=[(EVIL, "1", "<b>u</b>", "10", "0", "20")],
        seller=PartyView(name='Evil "&" <script>x</script>', address_lines=("<i>rue</i>",)),
        notes="ligne 1\n<a href=http://evil>2</a>",
        payment_terms_label="<u>30</u>",
    )
    out = render_document_html(view, for_pdf=for_pdf)
    assert "<img" not in out and "<a " not in out and "<script" not in out
    assert "<b>" not in out and "<i>" not in out and "<u>" not in out
    assert "&lt;img src=x&gt; &lt;a href=&quot;http://evil&quot;&gt;clic&lt;/a&gt;" in out
    assert "Evil &quot;&amp;&quot; &lt;script&gt;x&lt;/script&gt;" in out
    assert "ligne 1<br>&lt;a href=http://evil&gt;2&lt;/a&gt;" in out


def test_description_newlines_become_br():
    out = render_document_html(make_view())
    assert f"Développement site vitrine<br>{ACCENTS}" in out


# --- preview vs PDF HTML --------------------------------------------------------------


def test_preview_is_an_embeddable_fragment():
    out = render_document_html(make_view())
    assert out.startswith('<div class="doc-preview')
    assert out.rstrip().endswith("</div>")
    for pdf_only in ("<html", "<body", "@font-face", "@page", "pdf:pagenumber", ".ttf"):
        assert pdf_only not in out


def test_pdf_html_is_a_full_page_with_fonts_and_page_numbers():
    out = render_document_html(make_view(), for_pdf=True)
    assert out.startswith("<!DOCTYPE html>")
    assert "@page" in out and "a4" in out
    assert "@font-face" in out
    assert pdf_provider.FONT_REGULAR.as_posix() in out
    # « Page x / y » in one layout pass: y is written in once the pages are counted
    assert "Page <pdf:pagenumber> / 0</div>" in out and "pdf:pagecount" not in out
    assert "\u202f" not in out  # no-break spaces only: xhtml2pdf would wrap there


# --- franchise, private buyer ---------------------------------------------------------


def test_franchise_mention_and_no_vat(franchise_text):
    assert FRANCHISE_TEXT in franchise_text
    assert "TVA non applicable, art. 293 B du CGI" in franchise_text
    assert "Total TVA" not in franchise_text
    assert "TVA 20" not in franchise_text and "TVA %" not in franchise_text
    assert "Total HT 2 268,31 €" in franchise_text
    assert "Total TTC 2 268,31 €" in franchise_text


def test_private_buyer_has_no_recovery_indemnity(franchise_text):
    assert "Hélène Dupré" in franchise_text
    assert "8 allée des Tilleuls" in franchise_text
    assert norm(RECOVERY_INDEMNITY_TEXT) not in franchise_text
    assert "40 €" not in franchise_text
    assert norm(late_penalty_text(D("12.15"))) in franchise_text


def test_indemnity_when_one_of_several_buyers_is_a_business():
    view = make_view(buyers=(PERSON, COMPANY))
    html = render_document_html(view)
    assert ">Clients<" in html
    assert RECOVERY_INDEMNITY_TEXT in html


def test_exemption_mentions_are_printed():
    mention = "Exonération de TVA, article 262 ter I du CGI"
    view = make_view(spec=[("Livraison intracommunautaire", "1", "u", "100", "0", "0")],
                     vat_exemption_mentions=(mention,))
    assert mention in text(render_document_pdf(view))


# --- avoir ----------------------------------------------------------------------------


def test_avoir():
    view = make_view(kind="avoir", number="AV-2026-00003",
                     corrected_number="F-2026-00042", corrected_date=date(2026, 11, 1))
    got = text(render_document_pdf(view))
    assert "Avoir" in got and "N° AV-2026-00003" in got
    assert norm(avoir_reference_text("F-2026-00042", date(2026, 11, 1))) in got
    assert "Avoir relatif à la facture n° F-2026-00042 du 01/11/2026." in got
    assert "Total HT -2 268,31 €" in got
    assert "Total TTC -2 617,08 €" in got
    assert "TVA 20 % sur -1 234,56 € -246,91 €" in got
    assert "Conditions de paiement : 30 jours net" in got
    assert norm(RECOVERY_INDEMNITY_TEXT) in got


# --- draft, devis ---------------------------------------------------------------------


def test_draft_has_no_number_and_says_brouillon():
    got = text(render_document_pdf(make_view(draft=True)))
    assert "BROUILLON" in got
    assert "Brouillon — non numéroté" in got
    assert "F-2026-00042" not in got
    assert "Total TTC 2 617,08 €" in got


def test_devis_has_no_payment_section():
    got = text(render_document_pdf(make_view(kind="devis", number="D-2026-00001")))
    assert "Devis" in got and "N° D-2026-00001" in got
    assert "Conditions de paiement" not in got
    assert norm(RECOVERY_INDEMNITY_TEXT) not in got


# --- long documents -------------------------------------------------------------------


def test_200_lines_span_several_pages():
    spec = [(f"Article n°{i} — réf. é{i}", "2", "u", "10.25", "0", "20") for i in range(1, 201)]
    data = render_document_pdf(make_view(spec=spec))
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages > 1
    got = text(data)
    assert "Article n°1 — réf. é1 " in got and "Article n°200 — réf. é200 " in got
    assert f"Page 1 / {pages}" in got and f"Page {pages} / {pages}" in got
    # 200 × 20,50 = 4 100,00 HT, VAT 820,00
    assert "Total TTC 4 920,00 €" in got
    assert "Désignation" in norm(reader.pages[1].extract_text())  # header row repeated


def page_footers(data: bytes) -> list[list[str]]:
    return [re.findall(r"Page \d+ / \d+", norm(page.extract_text()))
            for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize("xml", [False, True], ids=["pdfa", "facturx"])
def test_every_page_says_page_x_of_the_total(xml):
    spec = [(f"Article n°{i}", "1", "u", "10", "0", "20") for i in range(1, 56)]
    view = make_view(spec=spec)
    if xml:
        xml = cii_xml(einvoice_from_view(view, seller_iban=view.bank_iban))
        view = dataclasses.replace(view, einvoice_xml=xml)
    data = render_document_pdf(view)
    assert page_footers(data) == [["Page 1 / 3"], ["Page 2 / 3"], ["Page 3 / 3"]]


def test_a_two_digit_total_stays_centred_under_the_footer():
    spec = [(f"Article n°{i} — réf. é{i}", "2", "u", "10.25", "0", "20") for i in range(1, 361)]
    data = render_document_pdf(make_view(spec=spec))
    pages = len(PdfReader(io.BytesIO(data)).pages)
    assert pages >= 10
    assert page_footers(data) == [[f"Page {n} / {pages}"] for n in range(1, pages + 1)]
    with pikepdf.open(io.BytesIO(data)) as document:
        stream = document.pages[0].Contents.read_bytes().decode("latin-1")
    # the line was centred for « Page 1 / 0 »: one digit more starts half a digit further left
    line = re.search(r"([\d.]+) [\d.]+ Tm \[([\d.]+) \(Page 1 / ", stream)
    x, offset = float(line[1]), float(line[2])
    width = pdfmetrics.stringWidth(f"Page 1 / {pages}", pdf_provider.BASE_FONT, 7)
    assert x - offset / 1000 * 7 == pytest.approx((FOOTER_WIDTH - width) / 2, abs=0.01)


# --- resources and errors -------------------------------------------------------------


def test_link_callback_allows_only_fonts_and_inline_images():
    regular = pdf_provider.FONT_REGULAR.as_posix()
    assert link_callback(regular, None) == regular
    assert link_callback("data:image/png;base64,AAAA", None) == "data:image/png;base64,AAAA"
    for uri in ("http://evil/x.png", "https://example.com/a.css", "/etc/passwd",
                "file:///etc/passwd", "data:text/html;base64,PGI+", "x.png"):
        assert link_callback(uri, None) not in {uri, ""}


def test_unsupported_logo_mime_is_ignored():
    view = make_view(logo_png_or_jpeg=b"<svg/>", logo_mime="image/svg+xml")
    assert "<img" not in render_document_html(view)


def test_pisa_errors_raise_runtime_error(monkeypatch):
    class Failed:
        err = 1

    monkeypatch.setattr(pdf_provider.pisa, "CreatePDF", lambda *a, **k: Failed())
    with pytest.raises(RuntimeError):
        render_document_pdf(make_view())


def test_pisa_exceptions_raise_runtime_error(monkeypatch):
    def boom(*a, **k):
        raise ValueError("parse error")

    monkeypatch.setattr(pdf_provider.pisa, "CreatePDF", boom)
    with pytest.raises(RuntimeError, match="parse error"):
        render_document_pdf(make_view())


def test_pdf_never_fetches_network_or_local_files():
    """Defence in depth: even markup that is not escaped reaches nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    source = (f'<html><body><p>x</p><img src="http://127.0.0.1:{port}/a.png">'
              f'<link rel="stylesheet" href="http://127.0.0.1:{port}/s.css">'
              '<img src="/etc/passwd"><img src="file:///etc/hostname"></body></html>')
    try:
        data = pdf_provider._html_to_pdf(source)
        with pytest.raises(TimeoutError):
            server.accept()  # nobody connected
    finally:
        server.close()
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert "/XObject" not in page["/Resources"]  # no image was embedded
