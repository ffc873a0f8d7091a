"""Benchmark: PDF generation (providers.pdf.render_document_pdf) against raw xhtml2pdf.

For invoices of 1, 20 and 200 lines, in the same run and interleaved:
- app: what « Générer le PDF » does for a finalised facture: the Factur-X XML built from the
  view (domain.einvoice + einvoice_cii), then ``render_document_pdf`` (HTML rendering +
  xhtml2pdf + Factur-X embedding + PDF/A-3: OutputIntent, XMP, Info);
- pdfa: ``render_document_pdf`` of the same view without XML (PDF/A-3 only, as for a devis);
- raw: ``pisa.CreatePDF`` on the very HTML string ``render_document_html(view, for_pdf=True)``
  returns, with the same link callback, resource policy and fonts (one layout pass: the footer
  says « Page x / 0 » there, the app writes the total in afterwards);
- 2-pass (for reference): raw on the same HTML with xhtml2pdf's ``<pdf:pagecount>`` in place of
  that placeholder, i.e. the footer as it was rendered before (two layout passes).
Goal: app <= 1.25 x raw (median of 10 runs after 2 warmups). Both wall-clock and
process CPU time are shown; the verdict uses CPU time, which a busy machine
(other processes taking the cores) disturbs far less than wall-clock time.
Run: .venv/bin/python bench/pdf_generation.py [--runs N]. Informational: always exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader  # noqa: E402
from xhtml2pdf import pisa  # noqa: E402

from simple_erp.domain.document_view import DocumentView, LineView, PartyView  # noqa: E402
from simple_erp.domain.einvoice import einvoice_from_view  # noqa: E402
from simple_erp.domain.einvoice.cii import cii_xml  # noqa: E402
from simple_erp.domain.totals import Line, compute_totals, line_total_ht  # noqa: E402
from simple_erp.providers import pdf  # noqa: E402

GOAL_RATIO = 1.25
WARMUPS = 2
SIZES = (1, 20, 200)
RATES = (Decimal(20), Decimal(10), Decimal("5.5"))

SELLER = PartyView(
    name="Atelier Éloïse", address_lines=("12 rue de la Paix", "75002 Paris"), legal_form="SARL",
    capital=Decimal(10000), siren="123456789", rcs_city="Paris", vat_number="FR12123456789",
    email="contact@eloise.fr", phone="01 23 45 67 89",
)
BUYER = PartyView(
    name="Garçon & Fils", address_lines=("3 place du Marché", "69003 Lyon"), legal_form="SAS",
    siren="987654321", vat_number="FR98987654321",
)


def invoice(n_lines: int) -> DocumentView:
    lines, views = [], []
    for i in range(n_lines):
        line = Line(Decimal(i % 7 + 1), Decimal("123.45") + i, RATES[i % 3], Decimal(i % 2 * 5))
        lines.append(line)
        views.append(LineView(f"Prestation n°{i + 1} — réglage, câblage et mise en œuvre",
                              line.quantity, "h", line.unit_price, line.discount_percent,
                              line.vat_rate, line_total_ht(line)))
    return DocumentView(
        kind="facture", kind_label="Facture", number="F-2026-00042", is_draft=False,
        issue_date=date(2026, 11, 28), due_date=date(2026, 12, 28),
        delivery_date=date(2026, 11, 20), seller=SELLER, buyers=(BUYER,), lines=tuple(views),
        totals=compute_totals(lines), vat_exempt=False, payment_terms_label="30 jours net",
        late_penalty_rate=Decimal("12.15"), escompte_text="Pas d'escompte pour paiement anticipé.",
        bank_iban="FR76 3000 6000 0112 3456 7890 189", bank_bic="AGRIFRPP",
        notes="Merci de votre confiance.",
    )


def facturx_pdf(view: DocumentView) -> bytes:
    """The XML (as services.einvoice builds it from the view) and the Factur-X PDF/A-3."""
    xml = cii_xml(einvoice_from_view(view, seller_iban=view.bank_iban))
    return pdf.render_document_pdf(dataclasses.replace(view, einvoice_xml=xml))


def raw(source: str) -> bytes:
    out = io.BytesIO()
    status = pisa.CreatePDF(source, dest=out, link_callback=pdf.link_callback,
                            encoding="utf-8", resource_policy=pdf.RESOURCE_POLICY)
    assert not status.err
    return out.getvalue()


def with_pagecount(source: str) -> str:
    """The HTML with the total as xhtml2pdf counts it (a multiBuild: two layout passes)."""
    placeholder = "Page <pdf:pagenumber> / 0</div>"
    assert source.count(placeholder) == 1
    return source.replace(placeholder, "Page <pdf:pagenumber> / <pdf:pagecount></div>")


def timed(fn, arg) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(arg)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def median(samples: list[tuple[float, float]], i: int) -> float:
    return statistics.median(s[i] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"PDF generation: app (Factur-X + PDF/A-3) and pdfa (PDF/A-3, no XML) vs raw xhtml2pdf "
          f"(and raw with <pdf:pagecount>: 2-pass), {WARMUPS} warmups + {runs} runs, interleaved; "
          f"load average at start: {load}")
    print(f"{'':11} {'wall-clock median (ms)':^44} {'CPU time median (ms)':^44}")
    print(f"{'lines':>5} {'pages':>5} "
          + f"{'app':>8} {'pdfa':>8} {'raw':>8} {'2-pass':>8} {'app/raw':>8} " * 2
          + f" goal: CPU app <= {GOAL_RATIO}x raw")
    for n in SIZES:
        view = invoice(n)
        source = pdf.render_document_html(view, for_pdf=True)  # raw gets the HTML for free
        calls = {"app": (facturx_pdf, view), "pdfa": (pdf.render_document_pdf, view), "raw": (raw, source),
                 "2-pass": (raw, with_pagecount(source))}
        for _ in range(WARMUPS):
            for fn, arg in calls.values():
                fn(arg)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
        order = list(calls)
        for i in range(runs):  # interleaved, rotating which goes first
            for name in order[i % len(order):] + order[:i % len(order)]:
                fn, arg = calls[name]
                samples[name].append(timed(fn, arg))
        pages = len(PdfReader(io.BytesIO(facturx_pdf(view))).pages)
        cols = ""
        for i in (0, 1):
            a, p, r, r2 = (median(samples[name], i) for name in ("app", "pdfa", "raw", "2-pass"))
            cols += f"{a:>8.1f} {p:>8.1f} {r:>8.1f} {r2:>8.1f} {a / r:>7.2f}x "
        verdict = "PASS" if median(samples["app"], 1) <= GOAL_RATIO * median(samples["raw"], 1) else "MISS"
        print(f"{n:>5} {pages:>5} {cols} {verdict}")


if __name__ == "__main__":
    main()
