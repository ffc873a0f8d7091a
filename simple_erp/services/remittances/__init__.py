"""Remises de prélèvements (SEPA direct debits through the company's bank, pain.008).
The use cases live in ``service``, the file in ``pain008``; import them from here."""

from simple_erp.services.remittances.pain008 import (
    SCHEMA,
    XSD_PATH,
    Collection,
    Creditor,
    build,
    header_totals,
    validation_errors,
)
from simple_erp.services.remittances.service import (
    ALREADY_IN_REMITTANCE,
    PROVIDER_REMITTANCE,
    TOPIC,
    Candidate,
    Created,
    DocumentCollection,
    LineRow,
    RemittanceRow,
    bank_debit_methods,
    cancel_remittance,
    check_manual_request,
    create_remittance,
    document_collections,
    get_remittance,
    is_bank_debit_method,
    list_candidates,
    list_remittances,
    mandate_use,
    mark_sent,
    record_all,
    record_line,
    remittance_file,
    remittance_lines,
    resend_notices,
)

__all__ = [
    "SCHEMA", "XSD_PATH", "Collection", "Creditor", "build", "header_totals", "validation_errors",
    "ALREADY_IN_REMITTANCE", "PROVIDER_REMITTANCE", "TOPIC", "Candidate", "Created", "DocumentCollection", "LineRow", "RemittanceRow",
    "bank_debit_methods", "cancel_remittance", "check_manual_request", "create_remittance", "document_collections", "get_remittance",
    "is_bank_debit_method", "list_candidates", "list_remittances", "mandate_use", "mark_sent", "record_all",
    "record_line", "remittance_file", "remittance_lines", "resend_notices",
]
