"""Electronic invoicing (Factur-X EN 16931): what the rest of the app may call.

- ``facturx_xml(session, doc, view)``: the CII XML of a finalised facture or avoir, from its
  frozen snapshot and its SEPA direct-debit request, if any (``services.documents.generate_pdf``
  puts it in the view that ``providers.pdf`` renders and embeds);
- ``with_facturx(session, doc, view)``: the view with that XML when the document is a
  finalised facture or avoir whose frozen data makes a valid one (else unchanged, logged);
- ``needs_facturx(doc)``: whether a document should carry one;
- ``mentions``: the 2026 reform's mentions of a draft (operation category from the products'
  kinds, delivery address) and their header fields, used by ``services.documents``;
- ``card_requested(session, doc)``: a Mollie card request exists (payment means 54);
- ``direct_debit_of(session, doc)``: the SEPA direct debit requested on a facture;
- ``document_xml_file(session, doc_id)``: that XML alone, for « Fichiers » (``xml_available``);
- ``import_received_invoice(session, company_id, filename, content)``: a supplier's e-invoice
  read, validated (``validation.validate``: XSD, EN 16931, BR-FR) and stored.
"""

from simple_erp.services.einvoice.document_xml import (
    card_requested,
    direct_debit_of,
    facturx_xml,
    needs_facturx,
    with_facturx,
)
from simple_erp.services.einvoice.reception import (
    IMPORT_MAX_BYTES,
    SOURCE_LABELS,
    import_received_invoice,
    list_received,
    read_received_file,
    received_detail,
)
from simple_erp.services.einvoice.validation import ValidationReport, validate
from simple_erp.services.einvoice.xml_file import XML_CONTENT_TYPE, document_xml_file, xml_available, xml_filename

__all__ = ["card_requested", "direct_debit_of", "facturx_xml", "needs_facturx", "with_facturx",
           # the XML alone for « Fichiers », and received e-invoices (« Importer une facture électronique »)
           "XML_CONTENT_TYPE", "document_xml_file", "xml_available", "xml_filename",
           "IMPORT_MAX_BYTES", "SOURCE_LABELS", "import_received_invoice", "list_received", "read_received_file",
           "received_detail", "ValidationReport", "validate"]
