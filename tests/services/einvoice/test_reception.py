"""Received e-invoices stored per company, on SQLite and PostgreSQL: a supplier's Factur-X
PDF is kept byte for byte with what it says and its validation; the same file is imported
once; a file that is not an invoice stores nothing. And the XML alone of a finalised facture
(« Fichiers »): the very XML its PDF embeds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import facturx
import pytest
from sqlmodel import func, select

from simple_erp.domain.errors import DomainError
from simple_erp.models.received_invoice import ReceivedInvoice
from simple_erp.services import companies, documents, einvoice
from tests.einvoice_check import failed_assertions
from tests.einvoice_samples import SUPPLIER_CII, SUPPLIER_UBL, facturx_pdf, plain_pdf
from tests.services.einvoice.test_document_xml import TODAY, generate, make_invoice


def _company(session_factory, name: str = "Atelier Martin") -> int:
    with session_factory() as session:
        return companies.save_company(session, None, {"name": name}).id


def _count(session_factory) -> int:
    with session_factory() as session:
        return session.exec(select(func.count()).select_from(ReceivedInvoice)).one()


def test_a_supplier_factur_x_is_stored_with_what_it_says(session_factory):
    company_id = _company(session_factory)
    pdf = facturx_pdf(SUPPLIER_CII)
    with session_factory() as session:
        row = einvoice.import_received_invoice(session, company_id, "C:\\Scans\\F20260023.pdf", pdf)
        row_id = row.id
    with session_factory() as session:
        stored = session.get(ReceivedInvoice, row_id)
        assert stored.content == pdf and stored.size == len(pdf) and stored.filename == "F20260023.pdf"
        assert (stored.source_format, stored.syntax, stored.number, stored.kind, stored.content_type) == (
            "factur-x-pdf", "CII", "F20260023", "facture", "application/pdf")
        assert (stored.seller_name, stored.seller_siren, stored.seller_vat, stored.buyer_name) == (
            "FOURNISSEUR F SARL", "732829320", "FR44732829320", "Ma jolie boutique SARL")
        assert (stored.issue_date, stored.due_date) == (date(2026, 1, 31), date(2026, 3, 2))
        assert (stored.total_ht, stored.total_vat, stored.total_ttc, stored.amount_due) == (
            Decimal("255.00"), Decimal("31.43"), Decimal("286.43"), Decimal("286.43"))
        assert stored.valid
        listed = einvoice.list_received(session, company_id)
        assert [r.id for r in listed] == [row_id]
        row, read = einvoice.received_detail(session, row_id, company_id)
        assert read.data == einvoice.read_received_file(pdf).data
        assert read.report.valid and len(read.report.checks) == 3


def test_the_same_file_is_imported_once_per_company(session_factory):
    first, second = _company(session_factory), _company(session_factory, "Boulangerie Léa")
    with session_factory() as session:
        einvoice.import_received_invoice(session, first, "f.xml", SUPPLIER_UBL)
    with pytest.raises(DomainError, match="déjà été importé : facture F124212 de Au bon moulin"):
        with session_factory() as session:
            einvoice.import_received_invoice(session, first, "copie.xml", SUPPLIER_UBL)
    with session_factory() as session:  # another company may receive it too
        einvoice.import_received_invoice(session, second, "f.xml", SUPPLIER_UBL)
        assert len(einvoice.list_received(session, first)) == 1
        assert len(einvoice.list_received(session, second)) == 1
        other_id = einvoice.list_received(session, second)[0].id
        with pytest.raises(DomainError, match="n'existe pas"):
            einvoice.received_detail(session, other_id, first)
    assert _count(session_factory) == 2


def test_the_same_invoice_in_another_file_is_refused(session_factory):
    company_id = _company(session_factory)
    with session_factory() as session:
        einvoice.import_received_invoice(session, company_id, "F20260023.xml", SUPPLIER_CII)
    again = facturx_pdf(SUPPLIER_CII)  # the same invoice, as a PDF
    with pytest.raises(DomainError, match="déjà importée : facture F20260023 de FOURNISSEUR F SARL "
                                          "\\(fichier « F20260023.xml »\\)"):
        with session_factory() as session:
            einvoice.import_received_invoice(session, company_id, "F20260023.pdf", again)
    other_number = SUPPLIER_CII.replace(b"F20260023", b"F20260024")
    with session_factory() as session:  # the supplier's next invoice is welcome
        einvoice.import_received_invoice(session, company_id, "F20260024.xml", other_number)
    assert _count(session_factory) == 2


def test_an_invalid_invoice_is_stored_as_not_valid(session_factory):
    company_id = _company(session_factory)
    wrong = SUPPLIER_CII.replace(b"<ram:GrandTotalAmount>286.43<", b"<ram:GrandTotalAmount>286.53<")
    with session_factory() as session:
        row = einvoice.import_received_invoice(session, company_id, "f.xml", wrong)
        assert not row.valid and row.total_ttc == Decimal("286.53")


@pytest.mark.parametrize("content", [b"", b"pas une facture", b"<html/>", plain_pdf(), b"%PDF-1.4 cass\xe9"],
                         ids=["empty", "text", "html", "pdf-without-xml", "broken-pdf"])
def test_what_is_not_an_invoice_stores_nothing(session_factory, content):
    company_id = _company(session_factory)
    with pytest.raises(DomainError):
        with session_factory() as session:
            einvoice.import_received_invoice(session, company_id, "x", content)
    assert _count(session_factory) == 0


def test_an_unknown_company_is_refused(session_factory):
    with pytest.raises(DomainError, match="Choisissez la société"):
        with session_factory() as session:
            einvoice.import_received_invoice(session, 999, "f.xml", SUPPLIER_CII)
    assert _count(session_factory) == 0


def test_the_xml_alone_is_the_one_its_pdf_embeds(session_factory):
    doc_id = make_invoice(session_factory)
    with session_factory() as session:
        filename, xml = einvoice.document_xml_file(session, doc_id)
    assert filename == "F-2026-00001_factur-x.xml"
    assert failed_assertions(xml) == []
    _name, embedded = facturx.get_xml_from_pdf(generate(session_factory, doc_id), check_xsd=True)
    assert xml == embedded
    with session_factory() as session:  # and the XML download offers it
        doc = documents.get_document(session, doc_id)
        assert einvoice.xml_available(doc, documents.document_view(session, doc_id))


def test_a_draft_has_no_xml(session_factory):
    _company(session_factory)
    with session_factory() as session:
        draft = documents.create_document(session, "facture", TODAY)
        assert not einvoice.xml_available(draft, documents.document_view(session, draft.id))
        with pytest.raises(DomainError, match="finalisés"):
            einvoice.document_xml_file(session, draft.id)
        with pytest.raises(DomainError, match="n'existe pas"):
            einvoice.document_xml_file(session, 4242)


def test_the_database_refuses_the_same_file_twice_for_a_company(session_factory):
    """Two imports of one file at the same moment: the unique (company, SHA-256) decides."""
    from sqlalchemy.exc import IntegrityError

    company_id = _company(session_factory)
    with session_factory() as session:
        first = einvoice.import_received_invoice(session, company_id, "f.xml", SUPPLIER_CII)
        fields = first.model_dump(exclude={"id"})
    with pytest.raises(IntegrityError):
        with session_factory() as session:
            session.add(ReceivedInvoice(**fields))
            session.flush()
    assert _count(session_factory) == 1
