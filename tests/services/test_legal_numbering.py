"""Legal numbering and immutability, on SQLite and PostgreSQL: numbers unique per company
across kinds (overlapping patterns refused), no issue date in the future, database
triggers refusing changes to finalised documents, the content hash checked before a PDF,
the cap on avoirs (and the migration's backfill computing the same hashes)."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.document import Document
from simple_erp.services import companies, contacts, credit_notes, documents, numbering
from simple_erp.services.documents import integrity as document_integrity

TODAY = date(2026, 11, 28)
PNG = b"\x89PNG\r\n\x1a\n" + b"logo-1" * 10
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + b"logo-2" * 10


def fake_render(view) -> bytes:
    return b"%PDF-1.4 fake " + (view.logo_png_or_jpeg or b"")


@pytest.fixture
def company_id(session_factory) -> int:
    form = {"name": "Atelier Martin", "legal_form": "SARL", "capital": "10 000", "address_line1": "3 rue de la Paix",
            "postal_code": "75002", "city": "Paris", "siren": "732829320", "rcs_city": "Paris",
            "vat_number": "FR44732829320", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"}
    with session_factory() as session:
        return companies.save_company(session, None, form).id


@pytest.fixture
def contact_id(session_factory) -> int:
    data = replace(ContactInput(kind="entreprise", company_name="Durand SAS"), address_line1="1 place Bellecour",
                   postal_code="69002", city="Lyon", siren="542065479")
    with session_factory() as session:
        return contacts.create_contact(session, data, TODAY).id


def make_draft(session_factory, contact_id, kind="facture", price="100", issue=TODAY) -> int:
    with session_factory() as session:
        doc = documents.create_document(session, kind, issue)
        documents.update_header(session, doc.id, {"delivery_date": issue.isoformat()})
        documents.link_contact(session, doc.id, contact_id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "quantity": "1",
                                                 "unit_price": price, "vat_rate": "20"})
        return doc.id


def finalize(session_factory, doc_id, today=TODAY, confirm=False) -> Document:
    with session_factory() as session:
        return documents.finalize(session, doc_id, today, confirm)


def final_invoice(session_factory, contact_id, price="100") -> int:
    doc_id = make_draft(session_factory, contact_id, price=price)
    finalize(session_factory, doc_id)
    return doc_id


def raw(session_factory, sql: str, **params) -> int:
    with session_factory() as session:
        return session.execute(text(sql), params).rowcount


# --- numbers unique per company across kinds ------------------------------------------------------


def test_a_facture_pattern_producing_avoir_numbers_is_refused(session_factory, company_id):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        companies.save_numbering_pattern(session, company_id, "facture", "AV-{year}-{seq:05d}")
    assert "mêmes numéros que celui des avoirs" in caught.value.message
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        numbering.save_patterns(session, company_id, {"facture": "AV-{year}-{seq:05d}", "devis": "DV{yy}-{seq}"})
    assert set(caught.value.errors) == {"facture", "avoir"}
    with session_factory() as session:  # nothing saved, not even the valid devis pattern
        assert companies.numbering_patterns(session, company_id)["devis"] == "{prefix}-{year}-{seq:05d}"
    with session_factory() as session:  # the prefixes exchanged in one form: no overlap left
        numbering.save_patterns(session, company_id, {"facture": "AV-{year}-{seq:05d}", "avoir": "CR-{year}-{seq:05d}"})
    with session_factory() as session:
        numbers = [numbering.next_number(session, company_id, kind, 2027) for kind in ("facture", "avoir")]
    assert numbers == ["AV-2027-00001", "CR-2027-00001"]


def test_the_database_refuses_one_number_for_two_kinds(session_factory, company_id, contact_id):
    invoice_id = final_invoice(session_factory, contact_id)
    devis_id = make_draft(session_factory, contact_id, kind="devis")
    with pytest.raises(DBAPIError):
        raw(session_factory, "UPDATE document SET number = 'F-2026-00001' WHERE id = :id", id=devis_id)
    with session_factory() as session:
        assert documents.get_document(session, invoice_id).number == "F-2026-00001"
        assert documents.get_document(session, devis_id).number is None


def test_a_number_already_given_under_another_kind_is_refused_in_french(session_factory, company_id, contact_id):
    devis_id = make_draft(session_factory, contact_id, kind="devis")
    finalize(session_factory, devis_id)  # D-2026-00001
    with session_factory() as session:
        companies.save_numbering_pattern(session, company_id, "devis", "DV-{year}-{seq:05d}")
        companies.save_numbering_pattern(session, company_id, "facture", "D-{year}-{seq:05d}")
    invoice_id = make_draft(session_factory, contact_id)
    with pytest.raises(DomainError) as caught:
        finalize(session_factory, invoice_id)
    assert "« D-2026-00001 » est déjà celui d'un document (devis)" in caught.value.message
    with session_factory() as session:
        assert documents.get_document(session, invoice_id).status == "brouillon"


# --- no issue date in the future ----------------------------------------------------------------


def test_an_issue_date_in_the_future_is_refused(session_factory, company_id, contact_id):
    doc_id = make_draft(session_factory, contact_id, issue=TODAY + timedelta(days=1))
    with pytest.raises(DomainError) as caught:
        finalize(session_factory, doc_id, today=TODAY)
    assert caught.value.message.startswith("La date d'émission (29/11/2026) est dans le futur")
    with session_factory() as session:
        assert documents.get_document(session, doc_id).number is None
    finalize(session_factory, doc_id, today=TODAY + timedelta(days=1))
    with session_factory() as session:
        assert documents.get_document(session, doc_id).number == "F-2026-00001"  # no number was lost


# --- immutability in the database -----------------------------------------------------------------


@pytest.mark.parametrize("sql", [
    "UPDATE document_line SET unit_price = 10000 WHERE document_id = :id",
    "DELETE FROM document_line WHERE document_id = :id",
    "INSERT INTO document_line (document_id, position, description, quantity, unit, unit_price, "
    "discount_percent, vat_rate) VALUES (:id, 9, 'Ajout', 1000, '', 10000, 0, 2000)",
    "UPDATE document SET total_ttc = 1 WHERE id = :id",
    "UPDATE document SET number = 'F-2026-99999' WHERE id = :id",
    "UPDATE document SET issue_date = '2026-01-01' WHERE id = :id",
    "UPDATE document SET snapshot = '{}' WHERE id = :id",
    "UPDATE document SET status = 'brouillon' WHERE id = :id",
    "UPDATE document SET content_sha256 = NULL WHERE id = :id",
    "DELETE FROM document_contact WHERE document_id = :id",
    "DELETE FROM document WHERE id = :id",
])
def test_raw_sql_cannot_change_a_finalised_document(session_factory, company_id, contact_id, sql):
    doc_id = final_invoice(session_factory, contact_id)
    with pytest.raises(DBAPIError) as caught:
        raw(session_factory, sql, id=doc_id)
    assert "finalise" in str(caught.value)
    with session_factory() as session:
        doc = documents.get_document(session, doc_id)
        assert (doc.number, doc.total_ttc, doc.status) == ("F-2026-00001", Decimal("120.00"), "finalise")
        assert [ln.unit_price for ln in documents.document_lines(session, doc_id)] == [Decimal("100.0000")]
        document_integrity.verify(session, doc)


def test_what_changes_after_finalisation_stays_free(session_factory, company_id, contact_id):
    doc_id = final_invoice(session_factory, contact_id)
    draft_id = make_draft(session_factory, contact_id, kind="devis")
    assert raw(session_factory, "UPDATE document SET amount_received = 5000, public_token = 'tok', "
               "updated_at = CURRENT_TIMESTAMP, contact_name = 'X' WHERE id = :id", id=doc_id) == 1
    # a draft's lines stay editable, by the service and in SQL
    assert raw(session_factory, "UPDATE document_line SET unit_price = 20000 WHERE document_id = :id", id=draft_id) == 1
    with session_factory() as session:
        line = documents.document_lines(session, draft_id)[0]
        documents.update_line(session, line.id, {"unit_price": "250"})
    with session_factory() as session:
        assert documents.get_document(session, draft_id).total_ht == Decimal("250.00")
        assert documents.get_document(session, doc_id).amount_received == Decimal("50.00")
        document_integrity.verify(session, documents.get_document(session, doc_id))
    with session_factory() as session:  # and a draft can still be deleted, lines and all
        documents.delete_draft(session, draft_id)


# --- content hash and frozen logo -------------------------------------------------------------------


def _disable_line_triggers(session_factory) -> None:
    with session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE document_line DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER document_line_frozen_update"))


def test_a_tampered_document_gets_no_pdf(session_factory, company_id, contact_id, caplog):
    doc_id = final_invoice(session_factory, contact_id)
    with session_factory() as session:
        assert documents.generate_pdf(session, doc_id, fake_render).filename == "F-2026-00001.pdf"
    _disable_line_triggers(session_factory)  # what a restored or hand-edited backup could do
    raw(session_factory, "UPDATE document_line SET quantity = 2000 WHERE document_id = :id", id=doc_id)
    with caplog.at_level(logging.ERROR), pytest.raises(DomainError) as caught, session_factory() as session:
        documents.generate_pdf(session, doc_id, fake_render)
    assert caught.value.message == document_integrity.TAMPERED
    assert "content hash mismatch" in caplog.text
    with session_factory() as session:
        assert len(documents.list_files(session, doc_id)) == 1


def test_the_logo_is_frozen_at_finalisation(session_factory, company_id, contact_id):
    with session_factory() as session:
        companies.set_logo(session, company_id, "logo.png", PNG)
    doc_id = final_invoice(session_factory, contact_id)
    second_id = final_invoice(session_factory, contact_id)
    with session_factory() as session:
        companies.set_logo(session, company_id, "nouveau.png", OTHER_PNG)
    with session_factory() as session:
        assert documents.document_view(session, doc_id).logo_png_or_jpeg == PNG
        content = documents.get_file_content(session, documents.generate_pdf(session, doc_id, fake_render).id)[1]
        assert content.endswith(PNG)
        assert session.execute(text("SELECT COUNT(*) FROM document_logo")).scalar_one() == 1  # stored once
        assert documents.get_document(session, second_id).logo_sha256 == documents.get_document(session, doc_id).logo_sha256
    draft_id = make_draft(session_factory, contact_id)
    with session_factory() as session:
        assert documents.document_view(session, draft_id).logo_png_or_jpeg == OTHER_PNG
    with pytest.raises(DBAPIError):
        raw(session_factory, "UPDATE document_logo SET content = :c", c=OTHER_PNG)


def test_the_migration_backfill_computes_the_same_hashes(session_factory, company_id, contact_id):
    with session_factory() as session:
        companies.set_logo(session, company_id, "logo.png", PNG)
    invoice_id = make_draft(session_factory, contact_id, price="99.99")
    with session_factory() as session:
        line = documents.add_line(session, invoice_id)
        documents.update_line(session, line.id, {"description": "Remisé", "quantity": "2,5", "unit_price": "12,3456",
                                                 "discount_percent": "10", "vat_rate": "5,5"})
    finalize(session_factory, invoice_id)
    with session_factory() as session:
        avoir_id = documents.create_credit_note(session, invoice_id, TODAY).id
    finalize(session_factory, avoir_id)
    with session_factory() as session:
        expected = {d: (documents.get_document(session, d).content_sha256, documents.get_document(session, d).logo_sha256)
                    for d in (invoice_id, avoir_id)}
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ALTER TABLE document DISABLE TRIGGER USER"))
            session.execute(text("ALTER TABLE document_logo DISABLE TRIGGER USER"))
        else:
            session.execute(text("DROP TRIGGER document_frozen_update"))
            session.execute(text("DROP TRIGGER document_logo_frozen_delete"))
        session.execute(text("UPDATE document SET content_sha256 = NULL, logo_sha256 = NULL"))
        session.execute(text("DELETE FROM document_logo"))
    path = next(Path(__file__).parents[2].glob("alembic/versions/*_e12b9d4a0002_*.py"))
    spec = importlib.util.spec_from_file_location("migration_e12b9d4a0002", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with session_factory() as session:
        migration._backfill(session.connection())
    with session_factory() as session:
        assert {d: (documents.get_document(session, d).content_sha256, documents.get_document(session, d).logo_sha256)
                for d in (invoice_id, avoir_id)} == expected
        for doc_id in (invoice_id, avoir_id):
            documents.generate_pdf(session, doc_id, fake_render)


# --- the cap on avoirs ----------------------------------------------------------------------------


def test_a_second_full_avoir_needs_a_confirmation(session_factory, company_id, contact_id):
    invoice_id = final_invoice(session_factory, contact_id)  # 100 € HT + 20 % = 120 €
    with session_factory() as session:
        first = documents.create_credit_note(session, invoice_id, TODAY).id
        second = documents.create_credit_note(session, invoice_id, TODAY).id
    with session_factory() as session:
        assert credit_notes.over_credit_warning(session, documents.get_document(session, first), Decimal("-120.00")) == ""
    finalize(session_factory, first)
    with session_factory() as session:
        doc = documents.get_document(session, second)
        assert credit_notes.over_credit_warning(session, doc, doc.total_ttc) == (
            "Cet avoir (120,00\u00a0€) dépasse le montant restant de la facture F-2026-00001 (0,00\u00a0€).")
    with pytest.raises(DomainError) as caught:
        finalize(session_factory, second)
    assert caught.value.message.startswith(
        "Cet avoir (120,00\u00a0€) dépasse le montant restant de la facture F-2026-00001 (0,00\u00a0€ : "
        "120,00\u00a0€ moins 120,00\u00a0€ d'avoirs déjà finalisés).")
    assert "« Je confirme un avoir supérieur au montant restant de la facture »" in caught.value.message
    with session_factory() as session:
        assert documents.get_document(session, second).status == "brouillon"
        assert credit_notes.credited_total(session, invoice_id) == Decimal("120.00")
    finalize(session_factory, second, confirm=True)
    with session_factory() as session:
        assert documents.get_document(session, second).number == "AV-2026-00002"
        assert credit_notes.credited_total(session, invoice_id) == Decimal("240.00")


def test_partial_avoirs_up_to_the_invoice_total_need_no_confirmation(session_factory, company_id, contact_id):
    invoice_id = final_invoice(session_factory, contact_id)
    ids = []
    with session_factory() as session:
        for _ in range(3):
            avoir = documents.create_credit_note(session, invoice_id, TODAY)
            line = documents.document_lines(session, avoir.id)[0]
            documents.update_line(session, line.id, {"unit_price": "40"})  # 48 € each: 96, then 144 > 120
            ids.append(avoir.id)
    finalize(session_factory, ids[0])
    finalize(session_factory, ids[1])
    with pytest.raises(DomainError) as caught:
        finalize(session_factory, ids[2])
    assert "(24,00\u00a0€ : 120,00\u00a0€ moins 96,00\u00a0€ d'avoirs déjà finalisés)" in caught.value.message
