"""Electronic invoicing (Factur-X EN 16931): what the rest of the app may call.

- ``facturx_xml(session, doc, view)``: the CII XML of a finalised facture or avoir, from its
  frozen snapshot and its SEPA direct-debit request, if any (``services.documents.generate_pdf``
  puts it in the view that ``providers.pdf`` renders and embeds);
- ``with_facturx(session, doc, view)``: the view with that XML when the document is a
  finalised facture or avoir whose frozen data makes a valid one (else unchanged, logged);
- ``needs_facturx(doc)``: whether a document should carry one;
- ``direct_debit_of(session, doc)``: the SEPA direct debit requested on a facture.
"""

from simple_erp.services.einvoice.document_xml import direct_debit_of, facturx_xml, needs_facturx, with_facturx

__all__ = ["direct_debit_of", "facturx_xml", "needs_facturx", "with_facturx"]
