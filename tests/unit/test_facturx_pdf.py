"""The PDF of a document is PDF/A-3B, and a Factur-X EN 16931 PDF when its view carries the
CII XML: only embedded fonts, an sRGB OutputIntent, XMP with the Factur-X extension schema
consistent with the Info dictionary, no encryption or transparency; the XML is read back
with ``facturx.get_xml_from_pdf``. PDF/A rules are checked with pikepdf's validator."""

from __future__ import annotations

import dataclasses
import io

import facturx
import pikepdf
import pytest
from lxml import etree
from pikepdf import pdfa

from simple_erp.domain.einvoice import einvoice_from_view
from simple_erp.domain.einvoice.cii import cii_xml
from simple_erp.providers.pdf import render_document_pdf
from tests.einvoice_check import failed_assertions
from tests.unit.test_pdf import make_view, png_bytes

FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NS = {"rdf": RDF, "fx": FX, "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
          "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#", "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
          "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
          "dc": "http://purl.org/dc/elements/1.1/"}
# pikepdf's validator approves only what it knows: it cannot read embedded files, nor
# extension schemas (the XMP properties they declare are then reported as not permitted,
# so the test below checks the declaration itself).
EXTENSION_NAMESPACES = ("pdfaExtension", "pdfaSchema", "pdfaProperty", "fx")


def facturx_view(**extra):
    view = make_view(logo_png_or_jpeg=png_bytes(), logo_mime="image/png", **extra)
    return dataclasses.replace(view, einvoice_xml=cii_xml(einvoice_from_view(view, seller_iban="FR7630006000011234567890189")))


@pytest.fixture(scope="module")
def facturx_pdf() -> bytes:
    return render_document_pdf(facturx_view())


@pytest.fixture(scope="module")
def draft_pdf() -> bytes:
    return render_document_pdf(make_view(draft=True))


def xmp(data: bytes):
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return etree.fromstring(pdf.Root.Metadata.read_bytes()), dict(pdf.docinfo)


def test_the_embedded_xml_is_read_back_and_valid(facturx_pdf):
    filename, xml = facturx.get_xml_from_pdf(facturx_pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == facturx_view().einvoice_xml
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    assert failed_assertions(xml) == []


def test_the_xml_is_an_associated_file_with_data_relationship(facturx_pdf):
    with pikepdf.open(io.BytesIO(facturx_pdf)) as pdf:
        (spec,) = list(pdf.Root.AF)
        assert spec.AFRelationship == pikepdf.Name.Data and str(spec.UF) == "factur-x.xml"
        assert spec.EF.F.Subtype == pikepdf.Name("/text/xml")
        assert "/Encrypt" not in pdf.trailer


def all_fonts(pdf: pikepdf.Pdf):
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.Font:
            yield obj


@pytest.mark.parametrize("which", ["facturx_pdf", "draft_pdf"])
def test_only_embedded_fonts(which, request):
    with pikepdf.open(io.BytesIO(request.getfixturevalue(which))) as pdf:
        names = []
        for font in all_fonts(pdf):
            if font.Subtype == pikepdf.Name.Type0:
                continue  # its descendant CIDFont is checked
            descriptor = font.get("/FontDescriptor")
            assert descriptor is not None, font.BaseFont
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font.BaseFont
            names.append(str(font.BaseFont).split("+")[-1])
        assert names and set(names) <= {"DejaVuSans", "DejaVuSans-Bold"}
        for page in pdf.pages:
            used = page.Resources.Font.values()
            assert all("Helvetica" not in str(f.BaseFont) for f in used)


@pytest.mark.parametrize("which", ["facturx_pdf", "draft_pdf"])
def test_srgb_output_intent(which, request):
    with pikepdf.open(io.BytesIO(request.getfixturevalue(which))) as pdf:
        (intent,) = list(pdf.Root.OutputIntents)
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert intent.DestOutputProfile.N == 3
        assert b"sRGB" in intent.DestOutputProfile.read_bytes()[:400] or "sRGB" in str(intent.OutputConditionIdentifier)


def test_xmp_declares_pdfa3_and_the_factur_x_extension(facturx_pdf):
    root, _ = xmp(facturx_pdf)
    assert root.xpath("string(//pdfaid:part)", namespaces=XMP_NS) == "3"
    assert root.xpath("string(//pdfaid:conformance)", namespaces=XMP_NS) == "B"
    values = {name: root.xpath(f"string(//fx:{name})", namespaces=XMP_NS)
              for name in ("DocumentType", "DocumentFileName", "Version", "ConformanceLevel")}
    assert values == {"DocumentType": "INVOICE", "DocumentFileName": "factur-x.xml", "Version": "1.0",
                      "ConformanceLevel": "EN 16931"}
    schema = root.xpath(f"//rdf:li[pdfaSchema:namespaceURI='{FX}']", namespaces=XMP_NS)
    assert len(schema) == 1 and schema[0].xpath("string(pdfaSchema:prefix)", namespaces=XMP_NS) == "fx"
    declared = set(schema[0].xpath(".//pdfaProperty:name/text()", namespaces=XMP_NS))
    assert declared == set(values)


@pytest.mark.parametrize("which", ["facturx_pdf", "draft_pdf"])
def test_info_dictionary_agrees_with_xmp(which, request):
    root, info = xmp(request.getfixturevalue(which))

    def x(path):
        return root.xpath(f"string({path})", namespaces=XMP_NS)

    assert str(info["/Title"]) == x("//dc:title//rdf:li")
    assert str(info["/Author"]) == x("//dc:creator//rdf:li") == "Atelier Éloïse"
    assert str(info["/Subject"]) == x("//dc:description//rdf:li")
    assert str(info["/Producer"]) == x("//pdf:Producer")
    assert str(info["/Creator"]) == x("//xmp:CreatorTool") == "Simple ERP"
    assert str(info.get("/Keywords", "")) == x("//pdf:Keywords")
    created = x("//xmp:CreateDate")  # 2026-12-04T06:00:38+00:00 <-> D:20261204060038+00'00
    assert str(info["/CreationDate"]).startswith("D:" + created[:19].replace("-", "").replace("T", "").replace(":", ""))
    assert str(info["/ModDate"]).startswith("D:" + x("//xmp:ModifyDate")[:19].replace("-", "").replace("T", "")
                                            .replace(":", ""))


def test_title_of_the_facture(facturx_pdf):
    _, info = xmp(facturx_pdf)
    assert str(info["/Title"]) == "Facture F-2026-00042"
    assert "Factur-X" in str(info["/Keywords"])


def test_pdfa_validator_passes_a_pdf_without_xml(draft_pdf):
    report = pdfa.validate_written(io.BytesIO(draft_pdf), "3b")
    assert report.passed, report.findings


def test_pdfa_validator_finds_nothing_but_what_it_cannot_read(facturx_pdf):
    report = pdfa.validate_written(io.BytesIO(facturx_pdf), "3b")
    unexpected = []
    for finding in report.findings:
        text = str(finding)
        if "embedded files are not supported" in text:
            continue
        if "6.6.2.3.1-1" in text and any(f"{ns}:" in text or f"{ns}=" in text for ns in EXTENSION_NAMESPACES):
            continue  # declared by the extension schema (test above)
        unexpected.append(text)
    assert unexpected == []


def test_no_transparency_or_encryption(facturx_pdf):
    with pikepdf.open(io.BytesIO(facturx_pdf)) as pdf:
        assert not pdf.is_encrypted
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            assert "/SMask" not in obj or obj.SMask == pikepdf.Name("/None")
            if obj.get("/Type") == pikepdf.Name.ExtGState:
                assert float(obj.get("/CA", 1)) == 1 and float(obj.get("/ca", 1)) == 1
            group = obj.get("/Group")
            assert group is None or group.get("/S") != pikepdf.Name.Transparency


def test_an_xml_outside_the_xsd_is_refused():
    view = dataclasses.replace(make_view(), einvoice_xml=b"<?xml version='1.0'?><Invoice/>")
    with pytest.raises(RuntimeError, match="Factur-X"):
        render_document_pdf(view)
