"""Documents: drafts, lines and totals, contacts, finalisation and immutability, conversions,
avoirs, snapshot, views, PDF files, lists — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import catalog, companies, contacts, documents
from simple_erp.services.documents import lists as document_lists

TODAY = date(2026, 11, 28)
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
EDIT_REFUSED = "Ce document est finalisé : il ne peut plus être modifié."
FAKE_PDF = b"%PDF-1.4 fake"


def fake_render(view) -> bytes:
    return FAKE_PDF


# --- helpers -----------------------------------------------------------------------------------


def make_company(session_factory, **changes) -> int:
    form = {"name": "Atelier Martin", "legal_form": "SARL", "capital": "10 000", "address_line1": "3 rue de la Paix",
            "postal_code": "75002", "city": "Paris", "siren": "732829320", "iban": IBAN, "bic": BIC,
            "rcs_city": "Paris", "vat_number": "FR44732829320"} | changes
    with session_factory() as session:
        return companies.save_company(session, None, form).id


def make_contact(session_factory, last_name="Durand", **changes) -> int:
    data = replace(ContactInput(kind="particulier", last_name=last_name, first_name="Léa", city="Lyon"), **changes)
    with session_factory() as session:
        return contacts.create_contact(session, data, TODAY).id


def make_draft(session_factory, kind="facture", contact_id=None, lines=(("Prestation", "1", "100", "20"),),
               issue=TODAY) -> int:
    with session_factory() as session:
        doc = documents.create_document(session, kind, issue)
        if contact_id:
            documents.link_contact(session, doc.id, contact_id)
        for description, quantity, price, rate in lines:
            line = documents.add_line(session, doc.id)
            documents.update_line(session, line.id, {"description": description, "quantity": quantity,
                                                     "unit_price": price, "vat_rate": rate})
        return doc.id


def finalize(session_factory, doc_id, today=TODAY):
    with session_factory() as session:
        return documents.finalize(session, doc_id, today)


def get(session_factory, doc_id):
    with session_factory() as session:
        return documents.get_document(session, doc_id)


@pytest.fixture
def company_id(session_factory) -> int:
    return make_company(session_factory)


@pytest.fixture
def contact_id(session_factory) -> int:
    return make_contact(session_factory)


# --- creating drafts ----------------------------------------------------------------------------


def test_no_document_without_an_issuing_company(session_factory):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        documents.create_document(session, "facture", TODAY)
    assert caught.value.message == "Créez d'abord une société émettrice (Admin ERP → 1. Société émettrice)."


def test_create_a_draft_invoice(session_factory, company_id):
    with session_factory() as session:
        companies.save_company(session, company_id, {"payment_terms": "30_jours_fin_de_mois"})
        doc = documents.create_document(session, "facture", date(2026, 1, 15))
    assert (doc.kind, doc.status, doc.number, doc.company_id) == ("facture", "brouillon", None, company_id)
    assert doc.payment_terms == "30_jours_fin_de_mois" and doc.due_date == date(2026, 2, 28)
    with session_factory() as session:
        devis = documents.create_document(session, "devis", TODAY, company_id)
    assert devis.due_date is None


def test_create_for_another_company_and_unknown_kinds(session_factory, company_id):
    other = make_company(session_factory, name="Autre SAS")
    with session_factory() as session:
        assert documents.create_document(session, "devis", TODAY, other).company_id == other
        with pytest.raises(DomainError, match="Type de document inconnu."):
            documents.create_document(session, "ticket", TODAY)
        with pytest.raises(DomainError, match="Un avoir se crée à partir d'une facture finalisée"):
            documents.create_document(session, "avoir", TODAY)


def test_get_unknown_document(session_factory):
    with pytest.raises(DomainError, match="Ce document n'existe pas."), session_factory() as session:
        documents.get_document(session, 404)


# --- header --------------------------------------------------------------------------------------------


def test_update_header_recomputes_the_due_date(session_factory, company_id):
    doc_id = make_draft(session_factory)
    other = make_company(session_factory, name="Autre SAS")
    with session_factory() as session:
        doc = documents.update_header(session, doc_id, {
            "company_id": str(other), "issue_date": "2026-01-31", "delivery_date": "2026-01-20",
            "payment_terms": "30_jours_net", "notes": "Merci de votre confiance.",
        })
        form = documents.header_form(doc)
    assert (doc.company_id, doc.issue_date, doc.delivery_date) == (other, date(2026, 1, 31), date(2026, 1, 20))
    assert doc.due_date == date(2026, 3, 2) and doc.notes == "Merci de votre confiance."
    assert form["issue_date"] == "2026-01-31" and form["company_id"] == str(other)
    with session_factory() as session:
        doc = documents.update_header(session, doc_id, form | {"delivery_date": "", "payment_terms": "a_reception"})
    assert doc.delivery_date is None and doc.due_date == date(2026, 1, 31)


def test_header_errors(session_factory, company_id):
    doc_id = make_draft(session_factory)
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        documents.update_header(session, doc_id, {"company_id": "999", "issue_date": "31/01/2026",
                                                  "delivery_date": "demain", "payment_terms": "jamais"})
    assert set(caught.value.errors) == {"company_id", "issue_date", "delivery_date", "payment_terms"}
    assert caught.value.errors["issue_date"] == "Date d'émission invalide (format attendu : AAAA-MM-JJ)."
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        documents.update_header(session, doc_id, {"issue_date": ""})
    assert caught.value.errors == {"issue_date": "La date d'émission est obligatoire."}


# --- contacts ----------------------------------------------------------------------------------------------


def test_link_and_unlink_contacts_keeps_the_list_name(session_factory, company_id):
    durand = make_contact(session_factory, "Durand")
    acme = make_contact(session_factory, kind="entreprise", company_name="ACME SA", last_name="")
    doc_id = make_draft(session_factory)
    with session_factory() as session:
        documents.link_contact(session, doc_id, durand)
        documents.link_contact(session, doc_id, acme)
        documents.link_contact(session, doc_id, durand)  # twice: no change
        assert [c.display_name for c in documents.document_contacts(session, doc_id)] == ["DURAND Léa", "ACME SA"]
        assert documents.get_document(session, doc_id).contact_name == "DURAND Léa"
        documents.unlink_contact(session, doc_id, durand)
        assert [c.display_name for c in documents.document_contacts(session, doc_id)] == ["ACME SA"]
        assert documents.get_document(session, doc_id).contact_name == "ACME SA"
        documents.unlink_contact(session, doc_id, acme)
        assert documents.get_document(session, doc_id).contact_name == ""
        with pytest.raises(DomainError, match="Ce contact n'existe pas."):
            documents.link_contact(session, doc_id, 999)


# --- lines and totals ------------------------------------------------------------------------------------


def test_add_a_line_from_a_product(session_factory, company_id):
    with session_factory() as session:
        product = catalog.save_product(session, None, {
            "reference": "FORM-1", "name": "Formation Python", "description": "1 journée, 7 heures",
            "unit": "jour", "unit_price": "650,5", "vat_rate": "20", "active": "1"})
        plain = catalog.save_product(session, None, {"reference": "LIV", "name": "Livre", "unit_price": "20",
                                                      "vat_rate": "5,5", "active": "1"})
    doc_id = make_draft(session_factory, lines=())
    with session_factory() as session:
        line = documents.add_line(session, doc_id, product.id)
        documents.add_line(session, doc_id, plain.id)
    assert line.description == "Formation Python\n1 journée, 7 heures"
    assert (line.unit, line.unit_price, line.vat_rate, line.quantity) == ("jour", Decimal("650.5"), 20, 1)
    with session_factory() as session:
        lines = documents.document_lines(session, doc_id)
        doc = documents.get_document(session, doc_id)
    assert [ln.description for ln in lines] == ["Formation Python\n1 journée, 7 heures", "Livre"]
    assert (doc.total_ht, doc.total_vat, doc.total_ttc) == (Decimal("670.50"), Decimal("131.20"), Decimal("801.70"))


def test_inactive_product_cannot_be_added(session_factory, company_id):
    with session_factory() as session:
        product = catalog.save_product(session, None, {"reference": "OLD", "name": "Ancien", "unit_price": "1",
                                                        "vat_rate": "20", "active": ""})
    doc_id = make_draft(session_factory, lines=())
    with pytest.raises(DomainError, match="désactivé"), session_factory() as session:
        documents.add_line(session, doc_id, product.id)


def test_empty_line_defaults(session_factory, company_id):
    doc_id = make_draft(session_factory, lines=())
    with session_factory() as session:
        line = documents.add_line(session, doc_id)
    assert (line.description, line.quantity, line.unit_price, line.vat_rate) == ("", 1, 0, 20)


def test_franchise_regime_lines_have_no_vat(session_factory):
    make_company(session_factory, vat_regime="franchise")
    with session_factory() as session:
        product = catalog.save_product(session, None, {"reference": "P", "name": "P", "unit_price": "100",
                                                        "vat_rate": "20", "active": "1"})
    doc_id = make_draft(session_factory, lines=())
    with session_factory() as session:
        empty = documents.add_line(session, doc_id)
        from_product = documents.add_line(session, doc_id, product.id)
        totals = documents.document_totals(session, doc_id)
    assert empty.vat_rate == 0 and from_product.vat_rate == 0
    assert (totals.total_ht, totals.total_vat, totals.total_ttc) == (Decimal("100.00"), 0, Decimal("100.00"))


def test_update_line_with_french_decimals_stores_totals(session_factory, company_id):
    doc_id = make_draft(session_factory, lines=())
    with session_factory() as session:
        line = documents.add_line(session, doc_id)
        line = documents.update_line(session, line.id, {
            "description": "  Câble  ", "quantity": "2,5", "unit": "m", "unit_price": "1 234,5678",
            "discount_percent": "10", "vat_rate": "5,5"})
        form = documents.line_form(line)
    assert (line.description, line.quantity, line.unit_price) == ("Câble", Decimal("2.500"), Decimal("1234.5678"))
    assert (line.discount_percent, line.vat_rate) == (Decimal("10.00"), Decimal("5.50"))
    assert form == {"description": "Câble", "quantity": "2,5", "unit": "m", "unit_price": "1\u202f234,5678",
                    "discount_percent": "10", "vat_rate": "5,5"}
    doc = get(session_factory, doc_id)
    # 2.5 × 1234.5678 × 0.9 = 2777.77755 -> 2777.78 HT; VAT 5.5 % = 152.78
    assert (doc.total_ht, doc.total_vat, doc.total_ttc) == (Decimal("2777.78"), Decimal("152.78"), Decimal("2930.56"))
    with session_factory() as session:  # one field at a time, as the UI does on blur
        documents.update_line(session, line.id, {"discount_percent": ""})
    assert get(session_factory, doc_id).total_ht == Decimal("3086.42")


def test_update_line_errors_are_keyed_by_field(session_factory, company_id):
    doc_id = make_draft(session_factory)
    with session_factory() as session:
        line_id = documents.document_lines(session, doc_id)[0].id
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        documents.update_line(session, line_id, {"quantity": "0", "unit_price": "abc", "discount_percent": "120",
                                                 "vat_rate": "7"})
    errors = caught.value.errors
    assert set(errors) == {"quantity", "unit_price", "discount_percent", "vat_rate"}
    assert errors["quantity"] == "La quantité doit être supérieure à zéro."
    assert errors["unit_price"] == "Prix unitaire HT invalide : « abc » n'est pas un nombre."
    assert errors["discount_percent"] == "La remise doit être comprise entre 0 et 100\u00a0%."
    assert errors["vat_rate"].startswith("Taux de TVA non autorisé.")
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        documents.update_line(session, line_id, {"quantity": "1,2345", "unit_price": ""})
    assert "3 décimales au maximum" in caught.value.errors["quantity"]
    assert caught.value.errors["unit_price"] == "Prix unitaire HT : champ obligatoire."
    assert get(session_factory, doc_id).total_ttc == Decimal("120.00")  # unchanged
    with pytest.raises(DomainError, match="Cette ligne n'existe pas."), session_factory() as session:
        documents.update_line(session, 999, {"quantity": "1"})


def test_delete_and_move_lines_store_totals(session_factory, company_id):
    doc_id = make_draft(session_factory, lines=[("A", "1", "10", "20"), ("B", "1", "20", "10"),
                                                ("C", "1", "30", "5,5")])
    with session_factory() as session:
        a, b, c = documents.document_lines(session, doc_id)
        documents.move_line(session, c.id, -1)
        assert [ln.description for ln in documents.document_lines(session, doc_id)] == ["A", "C", "B"]
        documents.move_line(session, a.id, +1)
        assert [ln.description for ln in documents.document_lines(session, doc_id)] == ["C", "A", "B"]
        documents.move_line(session, c.id, -1)  # already first
        documents.move_line(session, b.id, +5)  # already last
        assert [ln.description for ln in documents.document_lines(session, doc_id)] == ["C", "A", "B"]
    assert get(session_factory, doc_id).total_ttc == Decimal("12.00") + Decimal("22.00") + Decimal("31.65")
    with session_factory() as session:
        documents.delete_line(session, a.id)
        lines = documents.document_lines(session, doc_id)
    assert [(ln.description, ln.position) for ln in lines] == [("C", 0), ("B", 1)]
    doc = get(session_factory, doc_id)
    assert (doc.total_ht, doc.total_vat, doc.total_ttc) == (Decimal("50.00"), Decimal("3.65"), Decimal("53.65"))
    with session_factory() as session:
        totals = documents.document_totals(session, doc_id)
    assert [(b.rate, b.base_ht, b.vat) for b in totals.vat_buckets] == [
        (Decimal("10.00"), Decimal("20.00"), Decimal("2.00")), (Decimal("5.50"), Decimal("30.00"), Decimal("1.65"))]


# --- finalisation and immutability ---------------------------------------------------------------------------


def test_finalize_needs_a_contact_and_a_line(session_factory, company_id, contact_id):
    no_contact = make_draft(session_factory)
    no_line = make_draft(session_factory, contact_id=contact_id, lines=())
    empty_description = make_draft(session_factory, contact_id=contact_id, lines=[("", "1", "10", "20")])
    for doc_id, message in [(no_contact, "Liez au moins un contact."), (no_line, "Ajoutez au moins une ligne."),
                            (empty_description, "Ligne 1 : la désignation est obligatoire.")]:
        with pytest.raises(DomainError) as caught, session_factory() as session:
            documents.finalize(session, doc_id, TODAY)
        assert caught.value.message == message
        assert get(session_factory, doc_id).status == "brouillon"


def test_finalize_gives_a_number_and_freezes_the_document(session_factory, company_id, contact_id):
    doc_id = make_draft(session_factory, contact_id=contact_id)
    doc = finalize(session_factory, doc_id)
    assert (doc.number, doc.status) == ("F-2026-00001", "finalise")
    assert doc.finalized_at is not None and doc.finalized_at.tzinfo is not None and doc.snapshot
    with pytest.raises(DomainError, match=EDIT_REFUSED), session_factory() as session:
        documents.finalize(session, doc_id, TODAY)


def test_every_editing_service_refuses_a_finalised_document(session_factory, company_id, contact_id):
    doc_id = make_draft(session_factory, contact_id=contact_id)
    other = make_contact(session_factory, "Petit")
    with session_factory() as session:
        line_id = documents.document_lines(session, doc_id)[0].id
    finalize(session_factory, doc_id)
    edits = {
        "update_header": lambda s: documents.update_header(s, doc_id, {"notes": "modifié"}),
        "link_contact": lambda s: documents.link_contact(s, doc_id, other),
        "unlink_contact": lambda s: documents.unlink_contact(s, doc_id, contact_id),
        "add_line": lambda s: documents.add_line(s, doc_id),
        "update_line": lambda s: documents.update_line(s, line_id, {"quantity": "2"}),
        "delete_line": lambda s: documents.delete_line(s, line_id),
        "move_line": lambda s: documents.move_line(s, line_id, 1),
    }
    before = get(session_factory, doc_id)
    for name, edit in edits.items():
        with pytest.raises(DomainError) as caught, session_factory() as session:
            edit(session)
        assert caught.value.message.startswith(EDIT_REFUSED), name
    with pytest.raises(DomainError) as caught, session_factory() as session:
        documents.delete_draft(session, doc_id)
    assert caught.value.message == "Une facture finalisée ne peut pas être supprimée. Créez un avoir pour l'annuler."
    with session_factory() as session:
        after = documents.get_document(session, doc_id)
        assert (after.notes, after.total_ttc, after.updated_at) == (before.notes, before.total_ttc, before.updated_at)
        assert [c.id for c in documents.document_contacts(session, doc_id)] == [contact_id]
        assert len(documents.document_lines(session, doc_id)) == 1


def test_finalised_devis_cannot_be_deleted(session_factory, company_id, contact_id):
    doc_id = make_draft(session_factory, "devis", contact_id=contact_id)
    assert finalize(session_factory, doc_id).number == "D-2026-00001"
    with pytest.raises(DomainError, match="Ce document est finalisé : il ne peut pas être supprimé."):
        with session_factory() as session:
            documents.delete_draft(session, doc_id)


def test_invoice_dates_follow_the_numbering(session_factory, company_id, contact_id):
    finalize(session_factory, make_draft(session_factory, contact_id=contact_id, issue=date(2026, 11, 20)))
    earlier = make_draft(session_factory, contact_id=contact_id, issue=date(2026, 11, 10))
    with pytest.raises(DomainError, match="ordre chronologique"), session_factory() as session:
        documents.finalize(session, earlier, TODAY)
    with session_factory() as session:
        documents.update_header(session, earlier, {"issue_date": "2026-11-20"})
    assert finalize(session_factory, earlier).number == "F-2026-00002"  # the failed attempt took no number


def test_delete_a_draft(session_factory, company_id, contact_id):
    devis = make_draft(session_factory, "devis", contact_id=contact_id)
    with session_factory() as session:
        commande = documents.convert(session, devis, "bon_de_commande", TODAY).id
        documents.generate_pdf(session, devis, fake_render)
    with session_factory() as session:
        documents.delete_draft(session, devis)
    with pytest.raises(DomainError, match="Ce document n'existe pas."):
        get(session_factory, devis)
    with session_factory() as session:
        assert documents.document_lines(session, devis) == [] and documents.list_files(session, devis) == []
        assert documents.get_document(session, commande).source_id is None  # the converted draft stays


# --- conversions and avoirs ----------------------------------------------------------------------------------


def test_devis_to_commande_to_facture(session_factory, company_id, contact_id):
    devis = make_draft(session_factory, "devis", contact_id=contact_id,
                       lines=[("A", "2", "50", "20"), ("B", "1", "10", "5,5")])
    with session_factory() as session:
        documents.update_header(session, devis, {"notes": "Devis valable 30 jours.", "payment_terms": "60_jours_net"})
    later = date(2026, 12, 5)
    with session_factory() as session:
        commande = documents.convert(session, devis, "bon_de_commande", later)
        facture = documents.convert(session, commande.id, "facture", later)
        lines = documents.document_lines(session, facture.id)
        names = [c.display_name for c in documents.document_contacts(session, facture.id)]
    assert (commande.kind, commande.status, commande.source_id, commande.issue_date) == (
        "bon_de_commande", "brouillon", devis, later)
    assert (facture.kind, facture.source_id, facture.number, facture.contact_name) == (
        "facture", commande.id, None, "DURAND Léa")
    assert facture.due_date == date(2027, 2, 3) and facture.notes == "Devis valable 30 jours."
    assert [(ln.description, ln.quantity, ln.vat_rate) for ln in lines] == [("A", 2, 20), ("B", 1, Decimal("5.5"))]
    assert names == ["DURAND Léa"]
    assert facture.total_ttc == get(session_factory, devis).total_ttc == Decimal("130.55")


@pytest.mark.parametrize(
    "source_kind, target_kind, message",
    [
        ("devis", "bon_de_livraison", "Impossible de transformer un devis en bon de livraison."),
        ("bon_de_commande", "devis", "Impossible de transformer un bon de commande en devis."),
        ("bon_de_livraison", "facture", "Impossible de transformer un bon de livraison en facture."),
        ("facture", "avoir", "Un avoir ne peut être créé qu'à partir d'une facture finalisée."),
        ("facture", "devis", "Impossible de transformer une facture en devis."),
    ],
)
def test_forbidden_conversions(session_factory, company_id, source_kind, target_kind, message):
    doc_id = make_draft(session_factory, source_kind)
    with pytest.raises(DomainError) as caught, session_factory() as session:
        documents.convert(session, doc_id, target_kind, TODAY)
    assert caught.value.message == message


def test_credit_note_from_a_finalised_invoice(session_factory, company_id, contact_id):
    invoice = make_draft(session_factory, contact_id=contact_id, lines=[("A", "3", "33,33", "20"), ("B", "1", "10", "10")])
    with pytest.raises(DomainError, match="Un avoir ne peut être créé qu'à partir d'une facture finalisée."):
        with session_factory() as session:
            documents.create_credit_note(session, invoice, TODAY)
    finalized = finalize(session_factory, invoice)
    with session_factory() as session:
        avoir = documents.create_credit_note(session, invoice, date(2026, 12, 1))
        lines = documents.document_lines(session, avoir.id)
    assert (avoir.kind, avoir.status, avoir.source_id, avoir.contact_name) == ("avoir", "brouillon", invoice, "DURAND Léa")
    assert (avoir.total_ht, avoir.total_vat, avoir.total_ttc) == (
        -finalized.total_ht, -finalized.total_vat, -finalized.total_ttc)
    assert avoir.total_ttc == Decimal("-130.99") and len(lines) == 2
    with session_factory() as session:
        view = documents.document_view(session, avoir.id)
    assert (view.corrected_number, view.corrected_date) == ("F-2026-00001", TODAY)
    assert [ln.total_ht for ln in view.lines] == [Decimal("-99.99"), Decimal("-10.00")]
    assert view.totals.total_ttc == Decimal("-130.99")
    done = finalize(session_factory, avoir.id, date(2026, 12, 1))
    assert done.number == "AV-2026-00001" and done.total_ttc == Decimal("-130.99")
    with session_factory() as session:
        view = documents.document_view(session, avoir.id)
        quote = documents.create_document(session, "devis", TODAY)
    assert view.corrected_number == "F-2026-00001" and view.kind_label == "Avoir"
    with pytest.raises(DomainError, match="Un avoir ne peut être créé qu'à partir d'une facture finalisée."):
        with session_factory() as session:
            documents.create_credit_note(session, quote.id, TODAY)


# --- snapshot and view ---------------------------------------------------------------------------------------------


def test_finalised_view_ignores_later_changes_of_company_and_contact(session_factory, company_id, contact_id):
    doc_id = make_draft(session_factory, contact_id=contact_id)
    draft_twin = make_draft(session_factory, contact_id=contact_id)
    finalize(session_factory, doc_id)
    with session_factory() as session:
        frozen = documents.document_view(session, doc_id)
    with session_factory() as session:
        form = companies.company_form(companies.get_company(session, company_id))
        companies.save_company(session, company_id, form | {
            "name": "Nouveau Nom SAS", "address_line1": "1 avenue Foch", "vat_regime": "franchise",
            "late_penalty_rate": "20", "iban": "FR1420041010050500013M02606", "bic": "PSSTFRPP"})
        contact = contacts.get_contact(session, contact_id)
        contacts.update_contact(session, contact_id, replace(contacts.contact_input(contact), last_name="Martin",
                                                             city="Nantes"), TODAY)
    with session_factory() as session:
        assert documents.document_view(session, doc_id) == frozen
        live = documents.document_view(session, draft_twin)
        assert documents.document_totals(session, doc_id).total_vat == Decimal("20.00")
    assert frozen.seller.name == "Atelier Martin" and frozen.buyers[0].name == "DURAND Léa"
    assert frozen.bank_iban == "FR76 3000 6000 0112 3456 7890 189" and not frozen.vat_exempt
    assert frozen.seller.capital == Decimal("10000.00") and frozen.late_penalty_rate == Decimal("12.15")
    assert live.seller.name == "Nouveau Nom SAS" and live.buyers[0].name == "MARTIN Léa"
    assert live.vat_exempt and live.totals.total_vat == 0 and live.bank_iban.startswith("FR14 2004")


def test_draft_view(session_factory, company_id, contact_id):
    with session_factory() as session:
        companies.set_logo(session, company_id, "logo.png", b"\x89PNG\r\n\x1a\n1234")
    doc_id = make_draft(session_factory, contact_id=contact_id, lines=[("A", "1", "100", "20"), ("B", "1", "50", "0")])
    with session_factory() as session:
        view = documents.document_view(session, doc_id)
    assert (view.kind, view.kind_label, view.number, view.is_draft) == ("facture", "Facture", None, True)
    assert view.seller.address_lines == ("3 rue de la Paix", "75002 Paris") and view.seller.legal_form == "SARL"
    assert view.buyers[0].address_lines == ("Lyon",) and not view.buyers[0].is_business
    assert view.payment_terms_label == "30 jours net" and view.due_date == date(2026, 12, 28)
    assert view.bank_bic == BIC and view.logo_mime == "image/png" and view.logo_png_or_jpeg.startswith(b"\x89PNG")
    assert view.vat_exemption_mentions == ("Exonération de TVA, article 262 ter I du CGI",)
    assert view.totals.total_ttc == Decimal("170.00") and [ln.total_ht for ln in view.lines] == [100, 50]


# --- PDF files --------------------------------------------------------------------------------------------------------


def test_generate_pdf_keeps_every_file(session_factory, company_id, contact_id):
    doc_id = make_draft(session_factory, contact_id=contact_id)
    seen = []
    with session_factory() as session:
        first = documents.generate_pdf(session, doc_id, lambda view: seen.append(view) or FAKE_PDF)
        second = documents.generate_pdf(session, doc_id, fake_render)
    assert seen[0].is_draft and first.filename == f"brouillon-facture-{doc_id}.pdf"
    assert second.filename == f"brouillon-facture-{doc_id}-2.pdf"
    assert first.size == len(FAKE_PDF) and len(first.sha256) == 64 and first.content_type == "application/pdf"
    finalize(session_factory, doc_id)
    with session_factory() as session:
        names = [documents.generate_pdf(session, doc_id, fake_render).filename for _ in range(3)]
    assert names == ["F-2026-00001.pdf", "F-2026-00001-2.pdf", "F-2026-00001-3.pdf"]
    with session_factory() as session:
        files = documents.list_files(session, doc_id)
        assert len(files) == 5 and all("content" in inspect(f).unloaded for f in files)
        meta, content = documents.get_file_content(session, files[0].id)
    assert content == FAKE_PDF and meta.filename == "F-2026-00001-3.pdf"
    with pytest.raises(DomainError, match="Ce fichier n'existe pas."), session_factory() as session:
        documents.get_file_content(session, 999)


# --- lists -------------------------------------------------------------------------------------------------------------


def test_list_filters_and_pagination(session_factory, company_id):
    alice = make_contact(session_factory, "Éléonore", first_name="Alice", city="Quimper")
    bob = make_contact(session_factory, "Bernard", first_name="Bob", city="Lyon")
    ids = {}
    for day, who, price in [(1, alice, "10"), (2, bob, "20"), (3, alice, "30"), (4, bob, "40"), (5, alice, "50"),
                            (6, bob, "60")]:
        ids[day] = make_draft(session_factory, contact_id=who, issue=date(2026, 3, day), lines=[("X", "1", price, "20")])
    for day in (1, 2, 3):
        finalize(session_factory, ids[day], date(2026, 3, 10))
    make_draft(session_factory, "devis", contact_id=alice)

    def listing(page=1, page_size=25, **filters):
        with session_factory() as session:
            return documents.list_documents(session, "facture", documents.DocumentFilters(**filters), page, page_size)

    everything = listing()
    assert [r.id for r in everything.rows] == [ids[d] for d in (6, 5, 4, 3, 2, 1)]
    assert (everything.total, everything.page, everything.page_count, everything.total_capped) == (6, 1, 1, False)
    assert everything.total_label == "6 documents"
    row = everything.rows[3]
    assert (row.number, row.status_label, row.contact_name, row.issue_date, row.due_date, row.total_ttc) == (
        "F-2026-00003", "Finalisé", "ÉLÉONORE Alice", "03/03/2026", "02/04/2026", "36,00\u00a0€")
    assert everything.rows[0].number == "Brouillon" and everything.rows[0].status == "brouillon"

    assert [r.id for r in listing(status="finalise").rows] == [ids[3], ids[2], ids[1]]
    assert [r.id for r in listing(status="brouillon").rows] == [ids[6], ids[5], ids[4]]
    assert [r.id for r in listing(contact_query="eleonore").rows] == [ids[5], ids[3], ids[1]]
    assert [r.id for r in listing(contact_query="BOB lyon").rows] == [ids[6], ids[4], ids[2]]
    assert listing(contact_query="bob quimper").rows == []
    assert [r.id for r in listing(date_from=date(2026, 3, 2), date_to=date(2026, 3, 4)).rows] == [ids[4], ids[3], ids[2]]
    assert [r.id for r in listing(amount_min=Decimal(36), amount_max=Decimal(60)).rows] == [ids[5], ids[4], ids[3]]
    combined = listing(status="finalise", date_from=date(2026, 3, 2), amount_min=Decimal(30), contact_query="alice")
    assert [r.id for r in combined.rows] == [ids[3]] and combined.total == 1 and combined.total_label == "1 document"

    page2 = listing(page=2, page_size=4)
    assert [r.id for r in page2.rows] == [ids[2], ids[1]] and (page2.page, page2.page_count, page2.total) == (2, 2, 6)
    assert listing(page=9, page_size=4).page == 2 and listing(page=0, page_size=4).page == 1
    with session_factory() as session:
        devis = documents.list_documents(session, "devis", documents.DocumentFilters())
    assert devis.total == 1 and devis.rows[0].due_date == ""
    with pytest.raises(DomainError, match="Type de document inconnu."), session_factory() as session:
        documents.list_documents(session, "ticket", documents.DocumentFilters())


def test_list_count_is_capped(session_factory, company_id, monkeypatch):
    for _ in range(4):
        make_draft(session_factory)
    monkeypatch.setattr(document_lists, "COUNT_CAP", 3)
    with session_factory() as session:
        page = documents.list_documents(session, "facture", documents.DocumentFilters(), 1, 2)
    assert (page.total, page.total_capped, page.page_count, page.total_label) == (4, True, 2, "3+ documents")


def test_contact_search_matching_many_contacts_gives_the_same_rows(session_factory, company_id, monkeypatch):
    lyon = [make_contact(session_factory, name, city="Lyon") for name in ("Abel", "Bruno", "Carle")]
    make_contact(session_factory, "Dorian", city="Brest")
    ids = [make_draft(session_factory, contact_id=c, issue=date(2026, 5, i + 1)) for i, c in enumerate(lyon)]

    def search():
        with session_factory() as session:
            page = documents.list_documents(session, "facture", documents.DocumentFilters(contact_query="lyon"))
        return [r.id for r in page.rows], page.total

    assert search() == (ids[::-1], 3)  # the newest documents walked (PostgreSQL), or the text index
    monkeypatch.setattr(document_lists, "CLIENT_WALK", 2)
    assert search() == (ids[::-1], 3)  # the walk too short: from the text index
