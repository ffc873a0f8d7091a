"""Document numbers: per (company, kind, year), no gaps, no duplicates, under concurrency,
on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import text

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError
from simple_erp.services import companies, contacts, documents, numbering
from tests.legal_identity import SELLER

TODAY = date(2026, 11, 28)
THREADS = 20


class Boom(Exception):
    pass


@pytest.fixture
def company_id(session_factory) -> int:
    with session_factory() as session:
        return companies.save_company(session, None, {"name": "Atelier Martin", **SELLER}).id


def _number(session_factory, company_id: int, kind: str = "facture", year: int = 2026) -> str:
    with session_factory() as session:
        return numbering.next_number(session, company_id, kind, year)


def _ready_invoice(session_factory, company_id: int, contact_id: int) -> int:
    with session_factory() as session:
        doc = documents.create_document(session, "facture", TODAY, company_id)
        documents.link_contact(session, doc.id, contact_id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": "100"})
        return doc.id


@pytest.fixture
def contact_id(session_factory) -> int:
    with session_factory() as session:
        return contacts.create_contact(session, ContactInput(kind="particulier", last_name="Durand"), TODAY).id


def test_numbers_follow_each_other(session_factory, company_id):
    assert [_number(session_factory, company_id) for _ in range(3)] == ["F-2026-00001", "F-2026-00002", "F-2026-00003"]


def test_each_kind_and_year_has_its_own_counter(session_factory, company_id):
    assert _number(session_factory, company_id, "facture", 2026) == "F-2026-00001"
    assert _number(session_factory, company_id, "avoir", 2026) == "AV-2026-00001"
    assert _number(session_factory, company_id, "devis", 2026) == "D-2026-00001"
    assert _number(session_factory, company_id, "facture", 2027) == "F-2027-00001"
    assert _number(session_factory, company_id, "facture", 2026) == "F-2026-00002"


def test_each_company_has_its_own_counter(session_factory, company_id):
    with session_factory() as session:
        other = companies.save_company(session, None, {"name": "Autre SAS", **SELLER}).id
    assert _number(session_factory, company_id) == "F-2026-00001"
    assert _number(session_factory, other) == "F-2026-00001"


def test_the_company_pattern_is_used(session_factory, company_id):
    with session_factory() as session:
        companies.save_numbering_pattern(session, company_id, "facture", "FA{yy}/{seq:03d}")
    assert _number(session_factory, company_id) == "FA26/001"
    assert _number(session_factory, company_id, "bon_de_livraison") == "BL-2026-00001"


def test_a_rolled_back_transaction_consumes_no_number(session_factory, company_id):
    with pytest.raises(Boom), session_factory() as session:
        assert numbering.next_number(session, company_id, "facture", 2026) == "F-2026-00001"
        raise Boom
    assert _number(session_factory, company_id) == "F-2026-00001"
    with pytest.raises(Boom), session_factory() as session:
        assert numbering.next_number(session, company_id, "facture", 2026) == "F-2026-00002"
        raise Boom
    assert _number(session_factory, company_id) == "F-2026-00002"


def test_a_failed_finalisation_consumes_no_number(session_factory, company_id, contact_id):
    doc_id = _ready_invoice(session_factory, company_id, contact_id)
    with pytest.raises(Boom), session_factory() as session:
        assert documents.finalize(session, doc_id, TODAY).number == "F-2026-00001"
        raise Boom  # e.g. the PDF or the e-mail after finalisation failed: all is rolled back
    with session_factory() as session:
        doc = documents.get_document(session, doc_id)
        assert (doc.status, doc.number) == ("brouillon", None)
        assert documents.finalize(session, doc_id, TODAY).number == "F-2026-00001"


def test_unknown_kind_is_refused(session_factory, company_id):
    with pytest.raises(ValueError), session_factory() as session:
        numbering.next_number(session, company_id, "ticket", 2026)


def _run_in_threads(worker, count: int) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = worker(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_concurrent_finalisations_give_distinct_consecutive_numbers(session_factory, company_id, contact_id):
    doc_ids = [_ready_invoice(session_factory, company_id, contact_id) for _ in range(THREADS)]

    def finalize(i: int) -> str:
        with session_factory() as session:  # its own session and connection
            return documents.finalize(session, doc_ids[i], TODAY).number

    numbers = _run_in_threads(finalize, THREADS)
    assert not [n for n in numbers if isinstance(n, BaseException)], numbers
    assert sorted(numbers) == [f"F-2026-{i:05d}" for i in range(1, THREADS + 1)]
    with session_factory() as session:
        stored = {documents.get_document(session, d).number for d in doc_ids}
        counter = session.execute(text("SELECT last_value FROM number_counter")).scalar_one()
    assert stored == set(numbers) and counter == THREADS


def test_concurrent_numbers_on_a_new_counter_with_failures(session_factory, company_id):
    """Counter row created concurrently; every other transaction fails after taking a number."""

    def take(i: int) -> str:
        with session_factory() as session:
            number = numbering.next_number(session, company_id, "devis", 2027)
            if i % 2:
                raise Boom(number)
            return number

    results = _run_in_threads(take, THREADS)
    numbers = [r for r in results if isinstance(r, str)]
    assert all(isinstance(r, (str, Boom)) for r in results), results
    assert sorted(numbers) == [f"D-2027-{i:05d}" for i in range(1, THREADS // 2 + 1)]


def test_finalising_the_same_draft_twice_concurrently_gives_one_number(session_factory, company_id, contact_id):
    doc_id = _ready_invoice(session_factory, company_id, contact_id)

    def finalize(_i: int) -> str:
        with session_factory() as session:
            return documents.finalize(session, doc_id, TODAY).number

    results = _run_in_threads(finalize, 4)
    assert [r for r in results if isinstance(r, str)] == ["F-2026-00001"]
    assert all(isinstance(r, DomainError) and "finalisé" in r.message for r in results if not isinstance(r, str))
