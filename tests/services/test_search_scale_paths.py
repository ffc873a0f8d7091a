"""The query paths chosen for large tables (issue 15) give the same rows, in the same order,
as each other, on SQLite and PostgreSQL: contacts (name walk, trigram count, every match
sorted), documents by client (read by id, or the date index walked), Encaissements (capped
count, order index)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import update

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.models.payment import Payment
from simple_erp.services import contacts, documents, payments
from simple_erp.services.documents import lists as document_lists
from simple_erp.services.payments import collections as payment_collections
from tests.services.payments import test_payments_service as pay

TODAY = date(2026, 12, 4)


def make_contact(session_factory, last_name, first_name="Léa", city="Lyon", kind="particulier", company=""):
    data = ContactInput(kind=kind, last_name=last_name, first_name=first_name, city=city, company_name=company)
    with session_factory() as session:
        return contacts.create_contact(session, data, TODAY).id


def search(session_factory, query, page=1, page_size=3):
    with session_factory() as session:
        result = contacts.search_contacts(session, query, page, page_size)
    return [r.id for r in result.rows], result.total, result.total_capped, result.page_count


@pytest.fixture
def people(session_factory):
    """Twelve contacts: « lyon » in 8 (spread over the alphabet), « durand » in 3."""
    rows = [("Abel", "Lyon"), ("Durand", "Lyon"), ("Bruno", "Brest"), ("Zoé", "Lyon"), ("Durand", "Brest"),
            ("Martin", "Lyon"), ("Éloïse", "Lyon"), ("Carle", "Paris"), ("Durand", "Lyon"), ("Yves", "Lyon"),
            ("Olive", "Lyon"), ("Quentin", "Nice")]
    return [make_contact(session_factory, name, city=city) for name, city in rows]


def test_contact_search_paths_give_the_same_pages(session_factory, people, monkeypatch):
    def every_page(query):
        return [search(session_factory, query, page) for page in (1, 2, 3, 4)]

    exact = {q: every_page(q) for q in ("lyon", "durand lyon", "dur", "ly")}
    assert exact["lyon"][0][1:] == (8, False, 3)  # counted exactly: 8 matches, 3 pages of 3
    assert exact["durand lyon"][0][1] == 2 and exact["ly"][0][1] == 8
    lyon_order = [i for page in exact["lyon"][:3] for i in page[0]]
    assert sorted(lyon_order) == sorted(people[i] for i in (0, 1, 3, 5, 6, 8, 9, 10))

    # More matches than COUNT_CAP: "plus de 4", and the pages come from the name walk…
    monkeypatch.setattr(contacts, "COUNT_CAP", 4)
    walked = [search(session_factory, "lyon", page) for page in (1, 2, 3)]
    assert [w[0] for w in walked] == [e[0] for e in exact["lyon"][:3]]
    assert all(w[1:3] == (4, True) for w in walked)
    # … or, the walk holding too few of them, from every match sorted.
    monkeypatch.setattr(contacts, "NAME_WALK", 3)
    sorted_all = [search(session_factory, "lyon", page) for page in (1, 2, 3)]
    assert [s[0] for s in sorted_all] == [e[0] for e in exact["lyon"][:3]]
    assert search(session_factory, "lyon", 4)[0] == []  # past the last match: an empty page
    monkeypatch.setattr(contacts, "NAME_WALK_MORE", 2)  # PostgreSQL: the walk continued, too short
    assert [search(session_factory, "lyon", page) for page in (1, 2, 3)] == sorted_all
    assert search(session_factory, "durand lyon")[:3] == exact["durand lyon"][0][:3]  # under the cap: exact
    assert search(session_factory, "ly")[:3] == (exact["ly"][0][0], 4, True)  # a 2-letter word: no trigram


def test_contact_search_without_words_walks_names(session_factory, people, monkeypatch):
    first = search(session_factory, "", 1, 5)
    assert first[1:3] == (12, False)
    monkeypatch.setattr(contacts, "COUNT_CAP", 5)
    capped = search(session_factory, "", 1, 5)
    assert capped[0] == first[0] and capped[1:3] == (5, True)


def make_invoice(session_factory, contact_id, day, price="100"):
    with session_factory() as session:
        doc = documents.create_document(session, "facture", date(2026, 3, day))
        documents.link_contact(session, doc.id, contact_id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "X", "quantity": "1", "unit_price": price,
                                                 "vat_rate": "20"})
        return doc.id


def test_documents_by_client_paths_give_the_same_pages(session_factory, people, monkeypatch):
    from tests.services.documents.test_documents_service import make_company

    make_company(session_factory)
    docs = [make_invoice(session_factory, people[i % len(people)], 1 + i % 27, str(10 * (i + 1))) for i in range(30)]
    assert len(docs) == 30

    def listing(query, page=1, **filters):
        with session_factory() as session:
            result = document_lists.list_documents(
                session, "facture", document_lists.DocumentFilters(contact_query=query, **filters), page, 4)
        return [r.id for r in result.rows], result.total, result.total_capped, result.total_label

    cases = [("lyon", {}), ("durand lyon", {}), ("lyon", {"amount_min": Decimal(100), "date_to": date(2026, 3, 20)}),
             ("zzqxw", {}), ("dur", {"status": "brouillon"}),
             ("lyon", {"date_from": date(2026, 3, 5), "date_to": date(2026, 3, 18)})]  # a short range
    by_id = {(q, tuple(f.items()), p): listing(q, p, **f) for q, f in cases for p in (1, 2, 3)}
    assert by_id[("lyon", (), 1)][1:3] == (20, False)  # 8 of 12 contacts, 30 invoices in turn: 20 of them
    assert by_id[("zzqxw", (), 1)] == ([], 0, False, "0 document")
    short = by_id[("lyon", (("date_from", date(2026, 3, 5)), ("date_to", date(2026, 3, 18))), 1)]
    assert 0 < short[1] < 20 and not short[2]

    # PostgreSQL: the walk of the newest documents too short to hold them all: from the text
    # index (fenced from the filters, or, for the short range, not).
    monkeypatch.setattr(document_lists, "CLIENT_WALK", 3)
    for (query, filters, page), (ids, total, _capped, _label) in by_id.items():
        assert listing(query, page, **dict(filters))[:2] == (ids, total), (query, filters, page)
    # More matches than the cap: "5+ documents", the pages from the walk (PostgreSQL: of 3
    # documents, then continued; SQLite: its own walk, here of 7, then continued).
    monkeypatch.setattr(document_lists, "BROAD_COUNT_CAP", 5)
    monkeypatch.setattr(document_lists, "SQLITE_CLIENT_WALK", 7)
    broad = [listing("lyon", page) for page in (1, 2)]
    assert broad[0][0] == by_id[("lyon", (), 1)][0] and broad[0][1:] == (6, True, "5+ documents")
    assert broad[1][0] == by_id[("lyon", (), 2)][0]
    monkeypatch.setattr(document_lists, "CLIENT_WALK", 100)  # the walk finds more than the cap
    assert listing("lyon", 2) == broad[1]
    assert listing("durand lyon")[:2] == by_id[("durand lyon", (), 1)][:2]  # under the cap: exact


@pytest.fixture
def setup(session_factory):
    """As test_payments_service's: Simple Paiement on, a bank account with « Chèque »."""
    from simple_erp.services import companies

    with session_factory() as session:
        companies.save_company(session, None, {"name": "Atelier Martin", "vat_regime": "franchise", **pay.SELLER})
        payments.save_preferences(session, True, False)
    account_id = pay.make_account(session_factory)
    return {"cheque": pay.make_method(session_factory, account_id, "cheque")}


def test_collections_order_index_and_capped_count(session_factory, setup, monkeypatch):
    doc_a, doc_b = pay.make_invoice(session_factory, "500"), pay.make_invoice(session_factory, "500")
    made = []  # (payment id, received on or None, request hour)
    for k, (doc, received) in enumerate([(doc_a, 3), (doc_b, None), (doc_a, 5), (doc_b, 3), (doc_a, None),
                                         (doc_b, 1), (doc_a, None)]):
        payment_id = pay.request(session_factory, doc, setup["cheque"], "10").id
        if received:
            pay.receive(session_factory, payment_id, on=date(2026, 11, received))
        with session_factory() as session:  # requests 1 hour apart, not in id order
            session.execute(update(Payment).where(Payment.id == payment_id)
                            .values(requested_at=datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
                                    + timedelta(hours=(k * 5) % 7)))
        made.append((payment_id, received, (k * 5) % 7))
    expected = [p for p, _r, _h in sorted(made, key=lambda m: (m[1] is None, -(m[1] or 0), -m[2], -m[0]))]

    def listed(page, **filters):
        with session_factory() as session:
            return payments.list_collections(session, payments.PaymentFilters(**filters), page, page_size=3)

    pages = [listed(p) for p in (1, 2, 3)]
    assert [r.payment_id for page in pages for r in page.rows] == expected
    assert (pages[0].total, pages[0].total_capped, pages[0].page_count) == (7, False, 3)
    pending = listed(1, status="en_attente")
    assert [r.payment_id for r in pending.rows] == [p for p in expected if dict((m[0], m[1]) for m in made)[p] is None]
    assert pending.totals_by_account == [("Banque Populaire", "0,00\u00a0€")]
    assert listed(1).totals_by_account == [("Banque Populaire", "40,00\u00a0€")]

    monkeypatch.setattr(payment_collections, "COUNT_CAP", 4)
    capped = listed(2)
    assert (capped.total, capped.total_capped, capped.page, capped.page_count) == (4, True, 2, 3)
    assert [r.payment_id for r in capped.rows] == expected[3:6]
    assert [r.payment_id for r in listed(3).rows] == expected[6:]
