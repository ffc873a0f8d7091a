"""The client search of the document lists reads document_search (migration f15b3c7d0002):
its triggers keep it right for every change a user makes — a contact renamed (finalised
documents included), contacts linked and unlinked, a draft's date, amount and status —
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy import create_engine, delete, select, text

from simple_erp.models.document import DocumentSearch
from simple_erp.services import contacts, documents
from simple_erp.services.documents import lists as document_lists
from tests.services.documents.test_documents_service import TODAY, company_id, finalize, make_contact, make_draft  # noqa: F401

DocumentFilters = document_lists.DocumentFilters


def found(session_factory, query, kind="facture", **filters):
    with session_factory() as session:
        page = document_lists.list_documents(session, kind, DocumentFilters(contact_query=query, **filters))
    return [r.id for r in page.rows]


def rename(session_factory, contact_id, **changes):
    with session_factory() as session:
        data = replace(contacts.contact_input(contacts.get_contact(session, contact_id)), **changes)
        contacts.update_contact(session, contact_id, data, TODAY)


def test_renaming_a_contact_moves_its_documents_to_the_new_name(session_factory, company_id):
    durand = make_contact(session_factory, "Durand", city="Quimper")
    other = make_contact(session_factory, "Petit", city="Brest")
    draft = make_draft(session_factory, contact_id=durand, issue=date(2026, 3, 2))
    final = make_draft(session_factory, contact_id=durand, issue=date(2026, 3, 1))
    finalize(session_factory, final)
    elsewhere = make_draft(session_factory, contact_id=other, issue=date(2026, 3, 3))
    assert found(session_factory, "durand") == [draft, final]
    assert found(session_factory, "durand quimper") == [draft, final]

    rename(session_factory, durand, last_name="Lefèvre", city="Rennes")
    assert found(session_factory, "lefevre") == [draft, final]  # the finalised one too
    assert found(session_factory, "lefevre rennes") == [draft, final]
    assert found(session_factory, "durand") == [] and found(session_factory, "quimper") == []
    assert found(session_factory, "petit brest") == [elsewhere]  # the others unchanged
    assert found(session_factory, "lefevre", status="finalise") == [final]


def test_linking_and_unlinking_contacts_follows(session_factory, company_id):
    alice = make_contact(session_factory, "Martin", first_name="Alice", city="Lyon")
    bob = make_contact(session_factory, "Bernard", first_name="Bob", city="Quimper")
    doc = make_draft(session_factory, contact_id=alice)
    assert found(session_factory, "bob") == []
    with session_factory() as session:
        documents.link_contact(session, doc, bob)
    assert found(session_factory, "bob") == [doc] and found(session_factory, "alice") == [doc]
    # Two words must be in one contact, as on a document with one contact.
    assert found(session_factory, "alice lyon") == [doc] and found(session_factory, "bob quimper") == [doc]
    assert found(session_factory, "alice quimper") == [] and found(session_factory, "bob lyon") == []
    assert found(session_factory, "lyon quimper") == []
    with session_factory() as session:
        documents.unlink_contact(session, doc, alice)
    assert found(session_factory, "alice") == [] and found(session_factory, "bob quimper") == [doc]
    # A finalised document keeps its contacts; renaming one of them still follows.
    with session_factory() as session:
        documents.link_contact(session, doc, alice)
    finalize(session_factory, doc)
    rename(session_factory, bob, first_name="Robert")
    assert found(session_factory, "robert quimper") == [doc] and found(session_factory, "bob") == []
    assert found(session_factory, "alice lyon") == [doc] and found(session_factory, "alice quimper") == []


def test_a_drafts_date_amount_status_and_kind_follow(session_factory, company_id):
    who = make_contact(session_factory, "Durand", city="Quimper")
    doc = make_draft(session_factory, contact_id=who, issue=date(2026, 3, 5), lines=[("X", "1", "100", "20")])
    assert found(session_factory, "quimper", amount_min=Decimal(120), amount_max=Decimal(120)) == [doc]
    with session_factory() as session:
        documents.update_header(session, doc, {"issue_date": "2026-04-10"})
        line = documents.add_line(session, doc)
        documents.update_line(session, line.id, {"description": "Y", "quantity": "1", "unit_price": "50",
                                                 "vat_rate": "20"})
    assert found(session_factory, "quimper", date_to=date(2026, 3, 31)) == []
    assert found(session_factory, "quimper", date_from=date(2026, 4, 10), amount_min=Decimal(180)) == [doc]
    assert found(session_factory, "quimper", status="finalise") == []
    finalize(session_factory, doc)
    assert found(session_factory, "quimper", status="finalise") == [doc]
    assert found(session_factory, "quimper", status="brouillon") == []
    with session_factory() as session:
        devis = documents.create_document(session, "devis", TODAY)
        documents.link_contact(session, devis.id, who)
        devis_id = devis.id
    assert found(session_factory, "quimper", kind="devis") == [devis_id]
    with session_factory() as session:
        documents.delete_draft(session, devis_id)
        assert session.get(DocumentSearch, devis_id) is None
    assert found(session_factory, "quimper", kind="devis") == []


def test_converted_documents_get_their_contacts_text(session_factory, company_id):
    who = make_contact(session_factory, "Durand", city="Quimper")
    devis = make_draft(session_factory, "devis", contact_id=who)
    finalize(session_factory, devis)
    with session_factory() as session:
        facture = documents.convert(session, devis, "facture", TODAY).id
    assert found(session_factory, "durand quimper") == [facture]
    assert found(session_factory, "durand quimper", kind="devis") == [devis]


def test_backfill_gives_the_rows_the_triggers_keep(session_factory, company_id, db_url):
    """The migration's (and the bench's) set-based fill equals what the triggers wrote."""
    import importlib.util
    from pathlib import Path

    path = next((Path(__file__).parents[3] / "alembic" / "versions").glob("*_f15b3c7d0002_*.py"))
    spec = importlib.util.spec_from_file_location("_rev_f15b3c7d0002", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)

    a, b = make_contact(session_factory, "Durand", city="Quimper"), make_contact(session_factory, "Petit")
    docs = [make_draft(session_factory, contact_id=a), make_draft(session_factory, contact_id=b),
            make_draft(session_factory)]
    with session_factory() as session:
        documents.link_contact(session, docs[0], b)
    finalize(session_factory, docs[1])

    def rows():
        with session_factory() as session:
            return [tuple(r) for r in session.execute(select(DocumentSearch.__table__).order_by(
                DocumentSearch.document_id))]

    kept = rows()
    assert len(kept) == 3 and "\n" in kept[0][-1] and kept[2][-1] == ""
    with session_factory() as session:
        session.execute(delete(DocumentSearch))
    assert found(session_factory, "quimper") == []
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(revision.backfill_sql(engine.dialect.name)))
    finally:
        engine.dispose()
    assert rows() == kept
    assert found(session_factory, "quimper") == [docs[0]] and found(session_factory, "petit") == docs[1::-1]


def test_the_sync_triggers_exist(db_url):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
                expected = {"document_search_fts_insert", "document_search_fts_delete", "document_search_fts_update",
                            "document_search_insert", "document_search_update", "document_search_delete",
                            "document_search_link_insert", "document_search_link_delete",
                            "document_search_link_update", "document_search_contact_update"}
            else:
                names = set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
                expected = {"document_search_insert", "document_search_update", "document_search_links",
                            "document_search_contact"}
                indexes = set(conn.execute(text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'document_search'")).scalars())
                assert {"ix_document_search_trgm", "ix_document_search_walk"} <= indexes
        assert expected <= names
    finally:
        engine.dispose()
