"""The pain.008.001.08 file of a remittance (SEPA Core direct debit initiation), built
with the ``sepaxml`` library and validated against the XSD it ships, then checked once
more here: the group header's number of transactions and control sum must equal the
collections', to the cent.

No database here: ``build`` takes plain values and returns the file's bytes."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sepaxml
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaValidationError

from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import to_cents
from simple_erp.domain.remittances import totals

SCHEMA = "pain.008.001.08"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
XSD_PATH = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", f"{SCHEMA}.xsd")
# The SEPA character set (EPC): what the text fields of the file may hold.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str  # "" when unknown (the file then says NOTPROVIDED)
    ics: str


@dataclass(frozen=True)
class Collection:
    debtor_name: str
    iban: str
    bic: str
    amount: Decimal
    sequence_type: str  # FRST | RCUR | OOFF
    rum: str
    mandate_signed_on: date
    end_to_end_id: str
    description: str


def sepa_text(value: str, limit: int) -> str:
    """``value`` in the SEPA character set (accents dropped, other characters as spaces)."""
    from text_unidecode import unidecode

    return _NOT_SEPA.sub(" ", unidecode(value or "")).strip()[:limit] or "-"


def build(message_id: str, creditor: Creditor, collection_date: date, collections: list[Collection]) -> bytes:
    """The XSD-valid pain.008.001.08 file; DomainError (French) if it cannot be made."""
    if not collections:
        raise DomainError("Une remise doit contenir au moins un prélèvement.")
    expected = totals([c.amount for c in collections])
    config = {"name": sepa_text(creditor.name, 70), "IBAN": creditor.iban, "batch": True,
              "creditor_id": creditor.ics, "currency": "EUR", "instrument": "CORE"}
    if creditor.bic:
        config["BIC"] = creditor.bic
    debit = SepaDD(config, schema=SCHEMA, clean=True)
    debit._xml.find("CstmrDrctDbtInitn/GrpHdr/MsgId").text = message_id  # ours, kept on the remittance
    for item in collections:
        payment = {
            "name": sepa_text(item.debtor_name, 70), "IBAN": item.iban, "amount": to_cents(item.amount),
            "type": item.sequence_type, "collection_date": collection_date, "mandate_id": item.rum,
            "mandate_date": item.mandate_signed_on, "description": sepa_text(item.description, 140),
            "endtoend_id": item.end_to_end_id,
        }
        if item.bic:
            payment["BIC"] = item.bic
        debit.add_payment(payment)
    try:
        data = debit.export(validate=True)
    except SepaValidationError as err:
        cause = err.__cause__
        raise DomainError("Le fichier de remise n'est pas conforme au format pain.008 : "
                          f"{getattr(cause, 'reason', None) or cause or err}") from err
    count, control_sum = header_totals(data)
    if (count, control_sum) != (expected.count, expected.total):
        raise DomainError("Le fichier de remise est incohérent : totaux de l'en-tête différents des prélèvements.")
    return data


def header_totals(data: bytes) -> tuple[int, Decimal]:
    """(NbOfTxs, CtrlSum) of the group header."""
    root = ET.fromstring(data)
    header = root.find(f"{{{NAMESPACE}}}CstmrDrctDbtInitn/{{{NAMESPACE}}}GrpHdr")
    return (int(header.find(f"{{{NAMESPACE}}}NbOfTxs").text),
            Decimal(header.find(f"{{{NAMESPACE}}}CtrlSum").text))


def validation_errors(data: bytes) -> list[str]:
    """The XSD's complaints about a pain.008.001.08 file ([] when valid)."""
    import xmlschema

    schema = xmlschema.XMLSchema(XSD_PATH)
    try:
        return [str(error.reason or error) for error in schema.iter_errors(data.decode("utf-8"))]
    except (ET.ParseError, xmlschema.XMLSchemaException, UnicodeDecodeError) as err:
        return [str(err)]
