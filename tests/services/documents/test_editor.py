"""The document editor's view from one service call (services.documents.editor): what a
user reads on the page, for a finalised facture and for a draft, on both databases."""

from __future__ import annotations

from urllib.parse import urlparse

from simple_erp.services import companies, documents
from simple_erp.services.documents.editor import editor_view, field_names
from simple_erp.pages.document_editor import DocumentState
from tests.services.einvoice.test_document_xml import COMPANY, TODAY, generate, make_invoice

API = "http://127.0.0.1:8000/"


def plain(texts: list[str]) -> list[str]:
    """As read on screen: the French narrow and non-breaking spaces as spaces."""
    return [t.replace("\u202f", " ").replace("\xa0", " ") for t in texts]


def test_a_finalised_facture_reads_as_on_the_page(session_factory):
    doc_id = make_invoice(session_factory)
    generate(session_factory, doc_id)
    with session_factory() as session:
        view = editor_view(session, doc_id, API)
    assert view.title.startswith("Facture F-") and not view.editable
    assert [line["description"] for line in view.lines] == ["Développement\nsite vitrine", "Livre", "Formation"]
    assert plain([line["total_ht"] for line in view.lines]) == ["1 234,56 €", "33,75 €", "1 000,00 €"]
    assert [line["quantity"] for line in view.lines] == ["1", "3", "2,5"]
    assert plain([view.total_ht]) == ["2 268,31 €"]
    assert plain([row["label"] for row in view.vat_rows]) == ["TVA 20 % sur 1 234,56 €", "TVA 10 % sur 1 000,00 €",
                                                              "TVA 5,5 % sur 33,75 €"]
    assert [c["name"] for c in view.linked] == ["Garçon & Fils"]
    assert view.can_credit and view.over_credit_warning == ""
    assert view.conversions == [["bon_de_livraison", "Transformer en bon de livraison"]]
    assert view.xml_file["name"].endswith(".xml")
    assert urlparse(view.xml_file["url"]).path == f"/api/documents/{doc_id}/factur-x.xml"
    assert len(view.files) == 1 and view.files[0]["name"].endswith(".pdf") and view.files[0]["size"].endswith("Ko")
    assert view.files[0]["url"].startswith("http://127.0.0.1:8000/api/files/")
    assert view.vat_on_debits_text == ""  # the company did not opt


def test_a_draft_devis_offers_its_conversions(session_factory):
    with session_factory() as session:
        companies.save_company(session, None, COMPANY)
        doc = documents.create_document(session, "devis", TODAY)
        view = editor_view(session, doc.id, API)
    assert view.editable and view.title == "Devis (brouillon)" and not view.can_credit
    assert [label for _, label in view.conversions] == ["Transformer en bon de commande", "Transformer en facture"]
    assert view.lines == [] and plain([view.total_ttc]) == ["0,00 €"] and view.files == [] and view.xml_file == {}


def test_every_field_is_a_field_of_the_page_state():
    assert set(field_names()) <= set(DocumentState.base_vars)
