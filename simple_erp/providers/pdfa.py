"""PDF/A-3 and Factur-X: the step after xhtml2pdf in ``providers.pdf``.

- the CII XML is checked against the Factur-X XSD (``facturx.xml_check_xsd``), then embedded
  as ``factur-x.xml`` (AFRelationship Data, in the catalog's /AF and /Names) as
  ``facturx.generate_from_binary`` does it, with the XMP that library writes (the Factur-X
  extension schema, ``facturx.generate_xmp_bytes``); but in the one pikepdf pass below, as
  that function's pypdf parse, clone and write cost more than the rest of the step;
- pikepdf adds the sRGB OutputIntent (the ICC profile pikepdf ships), declares PDF/A-3B
  when there is no XML, and writes the Info dictionary from the XMP (Producer, dates…), as
  PDF/A requires them to agree. (``pikepdf.pdfa.prepare`` would drop the Factur-X extension
  schema from the XMP, so it is not used.)

xhtml2pdf never writes transparency or encryption, and ``providers.pdf`` makes ReportLab
use only the embedded DejaVu fonts; ``tests/unit/test_facturx_pdf.py`` checks the result
with pikepdf's PDF/A validator.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import resources

import facturx
import pikepdf

CREATOR = "Simple ERP"
PRODUCER = "Simple ERP (xhtml2pdf, factur-x, pikepdf)"

logging.getLogger("factur-x").setLevel(logging.WARNING)  # it logs every step at INFO


def to_pdfa3(pdf: bytes, *, title: str, author: str, subject: str, keywords: str = "",
             facturx_xml: bytes | None = None,
             edit_pages: Callable[[pikepdf.Pdf], None] | None = None) -> bytes:
    """``pdf`` as PDF/A-3B; with ``facturx_xml``, a Factur-X EN 16931 PDF embedding it.
    ``edit_pages`` gets the open document before it is saved, in the one pikepdf pass
    (``providers.pdf`` writes the page total in the footers there).
    Raises when the XML does not pass the Factur-X XSD."""
    if facturx_xml is not None:
        facturx.xml_check_xsd(facturx_xml, flavor="factur-x", level="en16931")
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    now = moment.isoformat()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root
        root.Lang = pikepdf.String("fr-FR")
        if facturx_xml is not None:
            _embed_facturx(document, facturx_xml, moment, {
                "author": author, "title": title, "subject": subject, "keywords": keywords})
        _drop_page_transitions(document)
        if edit_pages is not None:
            edit_pages(document)
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


def _embed_facturx(document: pikepdf.Pdf, xml: bytes, moment: datetime, info: dict[str, str]) -> None:
    """``factur-x.xml`` as the Factur-X rules (and ``facturx``) attach it, and its XMP."""
    name = pikepdf.String("factur-x.xml")
    data = pikepdf.Stream(document, xml)
    data.Type, data.Subtype = pikepdf.Name.EmbeddedFile, pikepdf.Name("/text/xml")
    data.Params = pikepdf.Dictionary(CheckSum=pikepdf.String(hashlib.md5(xml).digest()),
                                     ModDate=pikepdf.String(moment.strftime("D:%Y%m%d%H%M%S+00'00'")),
                                     Size=len(xml))
    spec = document.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec, F=name, UF=name, Desc=pikepdf.String("Factur-X XML file"),
        AFRelationship=pikepdf.Name.Data, EF=pikepdf.Dictionary(F=data, UF=data)))
    root = document.Root
    if "/Names" not in root:
        root.Names = pikepdf.Dictionary()
    root.Names.EmbeddedFiles = pikepdf.Dictionary(Names=pikepdf.Array([name, spec]))
    root.AF = document.make_indirect(pikepdf.Array([spec]))
    xmp = pikepdf.Stream(document, facturx.generate_xmp_bytes("factur-x", "en16931", None, info))
    xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    root.Metadata = xmp


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
