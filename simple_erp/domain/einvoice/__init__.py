"""Electronic invoicing (Factur-X EN 16931), pure Python. The names here are ``model``'s:
what a finalised facture or avoir says in the standard's terms, built from the document's
frozen data. The other modules: ``cii`` (that model as CII XML), ``mentions`` (the 2026
reform's « catégorie de l'opération » and option for VAT on debits) and ``received`` (an
e-invoice received from a supplier, read back)."""

from simple_erp.domain.einvoice.model import (  # noqa: F401 - the package's API
    CARD,
    DEFAULT_BUSINESS_PROCESS,
    DEFAULT_EXEMPTION_TEXT,
    DEFAULT_UNIT,
    FRANCHISE_REASON_CODE,
    NO_INDEMNITY_TEXT,
    TAX_ON_INVOICE_DATE,
    address_from_lines,
    buyer_frame,
    check_einvoice_complete,
    DirectDebit,
    EInvoice,
    einvoice_from_view,
    InvoiceLine,
    missing_at_finalisation,
    missing_for_einvoice,
    Party,
    PaymentMeans,
    PostalAddress,
    unit_code,
    VatBreakdown,
)
