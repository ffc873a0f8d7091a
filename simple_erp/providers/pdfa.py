"""PDF/A-3 and Factur-X: the step after xhtml2pdf in ``providers.pdf``.

- ``facturx.generate_from_binary`` embeds the CII XML as ``factur-x.xml`` (AFRelationship
  Data, in the catalog's /AF) and writes the XMP with the Factur-X extension schema;
- pikepdf then adds the sRGB OutputIntent (the ICC profile pikepdf ships), declares PDF/A-3B
  when there is no XML, and writes the Info dictionary from the XMP (Producer, dates…), as
  PDF/A requires them to agree. (``pikepdf.pdfa.prepare`` would drop the Factur-X extension
  schema from the XMP, so it is not used.)

xhtml2pdf never writes transparency or encryption, and ``providers.pdf`` makes ReportLab
use only the embedded DejaVu fonts; ``tests/unit/test_facturx_pdf.py`` checks the result
with pikepdf's PDF/A validator.
"""

from __future__ import annotations

import functools
import io
import logging
from datetime import datetime, timezone
from importlib import resources

import facturx
import pikepdf

CREATOR = "Simple ERP"
PRODUCER = "Simple ERP (xhtml2pdf, factur-x, pikepdf)"

logging.getLogger("factur-x").setLevel(logging.WARNING)  # it logs every step at INFO


def to_pdfa3(pdf: bytes, *, title: str, author: str, subject: str, keywords: str = "",
             facturx_xml: bytes | None = None) -> bytes:
    """``pdf`` as PDF/A-3B; with ``facturx_xml``, a Factur-X EN 16931 PDF embedding it.
    Raises when the XML does not pass the Factur-X XSD."""
    if facturx_xml is not None:
        pdf = facturx.generate_from_binary(
            pdf, facturx_xml, flavor="factur-x", level="en16931", check_xsd=True,
            pdf_metadata={"author": author, "title": title, "subject": subject, "keywords": keywords},
            lang="fr-FR", xmp_compression=False,
        )
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root
        root.Lang = pikepdf.String("fr-FR")
        if root.get("/PageMode") == pikepdf.Name.UseAttachments:
            del root["/PageMode"]  # valid since PDF 1.6, but outside what validators vouch for
        _drop_page_transitions(document)
        _add_srgb_output_intent(document)
        with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
            if facturx_xml is None:
                meta["pdfaid:part"], meta["pdfaid:conformance"] = "3", "B"
                meta["dc:title"], meta["dc:creator"], meta["dc:description"] = title, [author], subject
            meta["pdf:Keywords"] = keywords
            meta["pdf:Producer"] = PRODUCER
            meta["xmp:CreatorTool"] = CREATOR
            meta["xmp:CreateDate"] = meta["xmp:ModifyDate"] = meta["xmp:MetadataDate"] = now
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


def _add_srgb_output_intent(document: pikepdf.Pdf) -> None:
    """The one PDF/A OutputIntent: sRGB, with the ICC profile shipped by pikepdf."""
    icc = pikepdf.Stream(document, _srgb_icc())
    icc.N = 3
    intent = pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String("sRGB IEC61966-2.1"),
        Info=pikepdf.String("sRGB IEC61966-2.1"), DestOutputProfile=icc,
    )
    document.Root.OutputIntents = pikepdf.Array([document.make_indirect(intent)])


@functools.cache
def _srgb_icc() -> bytes:
    return (resources.files("pikepdf") / "pdfa" / "data" / "sRGB.icc").read_bytes()


def _drop_page_transitions(document: pikepdf.Pdf) -> None:
    """ReportLab writes an empty /Trans (page transition) on every page: harmless, but not
    something a PDF/A validator can vouch for."""
    for page in document.pages:
        if "/Trans" in page.obj and not page.obj.Trans.keys():
            del page.obj["/Trans"]
