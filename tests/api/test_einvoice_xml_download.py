"""« Fichiers » → the Factur-X XML alone: GET /api/documents/<id>/factur-x.xml through a
short-lived signed link (as the PDFs), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from simple_erp import db
from simple_erp.api.app import build_api
from simple_erp.services import documents, signed_urls
from tests.einvoice_check import failed_assertions
from tests.services.einvoice.test_document_xml import TODAY, make_invoice


@pytest.fixture
def client(engine, monkeypatch):
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    with TestClient(build_api(), follow_redirects=False) as test_client:
        yield test_client


def _url(doc_id: int, token: str | None = None) -> str:
    return f"/api/documents/{doc_id}/factur-x.xml?t={token or signed_urls.sign('facturx-xml', doc_id)}"


def test_a_finalised_facture_xml_downloads_and_is_valid(client, session_factory):
    doc_id = make_invoice(session_factory)
    answer = client.get(_url(doc_id))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert answer.headers["content-disposition"] == "attachment; filename*=UTF-8''F-2026-00001_factur-x.xml"
    assert answer.headers["cache-control"] == "private, no-store"
    assert failed_assertions(answer.content) == []


def test_a_forged_or_foreign_link_is_refused(client, session_factory):
    doc_id = make_invoice(session_factory)
    assert client.get(_url(doc_id, "faux")).status_code == 403
    assert client.get(_url(doc_id, signed_urls.sign("file", doc_id))).status_code == 403  # a PDF's token
    assert client.get(_url(doc_id + 1, signed_urls.sign("facturx-xml", doc_id))).status_code == 403
    assert client.get("/api/documents/abc/factur-x.xml?t=x").status_code == 404


def test_a_draft_has_no_xml(client, session_factory):
    make_invoice(session_factory)
    with session_factory() as session:
        draft_id = documents.create_document(session, "facture", TODAY).id
    answer = client.get(_url(draft_id))
    assert answer.status_code == 404
    assert "finalisés" in answer.text
