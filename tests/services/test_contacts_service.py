"""Contacts and their SEPA mandate (simple_erp.services.contacts), on a real migrated database."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import contacts

TODAY = date(2026, 11, 28)
IBAN = "FR7630006000011234567890189"
BIC = "AGRIFRPP"
SIREN = "732829320"
VAT = "FR44732829320"

COMPANY = ContactInput(
    kind="entreprise",
    company_name="Boulangerie Dupré",
    email="contact@boulangerie-dupre.fr",
    phone="01 42 27 15 89",
    address_line1="12 rue des Martyrs",
    postal_code="75009",
    city="Paris",
    siren=SIREN,
    vat_number=VAT,
)
PERSON = ContactInput(
    kind="particulier",
    last_name="Lefèvre",
    first_name="Éloïse",
    email="eloise.lefevre@example.fr",
    postal_code="69002",
    city="Lyon",
)
MANDATE = {"iban": IBAN, "bic": BIC, "rum": "RUM-2026-0001", "mandate_signed_on": date(2026, 3, 15)}


def _create(session_factory, data: ContactInput) -> contacts.Contact:
    with session_factory() as session:
        return contacts.create_contact(session, data, TODAY)


def _count(session_factory) -> int:
    with session_factory() as session:
        return contacts.search_contacts(session).total


def _search(session_factory, query: str = "", page: int = 1, page_size: int = contacts.PAGE_SIZE):
    with session_factory() as session:
        return contacts.search_contacts(session, query, page, page_size)


def _names(page: contacts.ContactPage) -> list[str]:
    return [row.display_name for row in page.rows]


# --- create --------------------------------------------------------------------------------


def test_create_a_company(session_factory):
    created = _create(session_factory, COMPANY)
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
    assert contact.display_name == "Boulangerie Dupré"
    assert (contact.siren, contact.vat_number, contact.city) == (SIREN, VAT, "Paris")
    assert contact.rum is None and not contact.mandate_complete
    assert contact.created_at.tzinfo is not None


def test_create_a_person_shows_last_name_in_capitals_first(session_factory):
    created = _create(session_factory, PERSON)
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
    assert contact.display_name == "LEFÈVRE Éloïse"
    assert contact.sort_name == "lefevre eloise"


def test_input_is_cleaned_before_it_is_stored(session_factory):
    data = replace(COMPANY, company_name="  Boulangerie Dupré  ", siren="732 829 320", vat_number="fr 44 732829320")
    created = _create(session_factory, data)
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
    assert (contact.company_name, contact.siren, contact.vat_number) == ("Boulangerie Dupré", SIREN, VAT)


def test_contacts_are_listed_in_alphabetical_order_ignoring_accents_and_case(session_factory):
    for data in (
        replace(COMPANY, company_name="Fromagerie Vallée", siren="", vat_number=""),
        PERSON,
        replace(COMPANY, company_name="école Montessori", siren="", vat_number=""),
        replace(PERSON, last_name="Durand", first_name="Paul"),
        replace(COMPANY, company_name="Atelier Zoé", siren="", vat_number=""),
    ):
        _create(session_factory, data)
    assert _names(_search(session_factory)) == [
        "Atelier Zoé",
        "DURAND Paul",
        "école Montessori",
        "Fromagerie Vallée",
        "LEFÈVRE Éloïse",
    ]


def test_get_contact_of_an_unknown_id(session_factory):
    with pytest.raises(DomainError) as caught, session_factory() as session:
        contacts.get_contact(session, 4242)
    assert caught.value.message == "Ce contact n'existe pas."


# --- SEPA mandate and IBAN at rest ---------------------------------------------------------


def test_full_iban_is_encrypted_at_rest_and_given_back_for_editing(session_factory, engine):
    created = _create(session_factory, replace(COMPANY, **{**MANDATE, "iban": "FR76 3000 6000 0112 3456 7890 189"}))
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT * FROM contact WHERE id = :id"), {"id": created.id}).one()
    stored = " ".join(str(value) for value in raw)
    assert IBAN not in stored
    assert "3000600001123456789" not in stored
    assert raw.iban_encrypted  # something is stored, just not readable
    assert raw.iban_masked == "FR76 •••• •••• 0189"

    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
        assert contacts.contact_input(contact).iban == IBAN


def test_list_shows_the_masked_iban_and_mandate_status(session_factory):
    _create(session_factory, replace(COMPANY, **MANDATE))
    _create(session_factory, PERSON)
    rows = {row.display_name: row for row in _search(session_factory).rows}
    assert rows["Boulangerie Dupré"].iban_masked == "FR76 •••• •••• 0189"
    assert rows["Boulangerie Dupré"].mandate_complete is True
    assert rows["Boulangerie Dupré"].kind == "Entreprise"
    assert rows["LEFÈVRE Éloïse"].iban_masked == ""
    assert rows["LEFÈVRE Éloïse"].mandate_complete is False
    assert rows["LEFÈVRE Éloïse"].kind == "Particulier"


def test_contact_input_gives_back_what_was_saved(session_factory):
    data = replace(COMPANY, **MANDATE, notes="Livraison le mardi")
    created = _create(session_factory, data)
    with session_factory() as session:
        assert contacts.contact_input(contacts.get_contact(session, created.id)) == data


def test_mandate_is_complete_only_with_all_four_fields(session_factory):
    with_mandate = _create(session_factory, replace(COMPANY, **MANDATE))
    without = _create(session_factory, PERSON)
    with session_factory() as session:
        assert contacts.get_contact(session, with_mandate.id).mandate_complete is True
        assert contacts.get_contact(session, without.id).mandate_complete is False


@pytest.mark.parametrize(("given", "lacking"), [
    ("iban", {"bic"}), ("bic", {"iban"}), ("rum", {"iban", "bic"}),
    ("mandate_signed_on", {"iban", "bic", "rum"}),  # signed: all four
])
def test_a_partial_mandate_names_what_it_lacks(session_factory, given, lacking):
    data = replace(COMPANY, **{given: MANDATE[given]})
    with pytest.raises(ValidationErrors) as caught:
        _create(session_factory, data)
    assert set(caught.value.errors) == lacking
    assert _count(session_factory) == 0


def test_a_mandate_not_signed_yet_is_kept_without_rum_nor_date(session_factory):
    """IBAN and BIC first; « Générer le mandat SEPA » gives the RUM; the date once signed."""
    created = _create(session_factory, replace(COMPANY, iban=MANDATE["iban"], bic=MANDATE["bic"]))
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
        assert contact.rum is None and contact.mandate_signed_on is None and contact.bic == MANDATE["bic"]
        assert contact.mandate_complete is False


def test_removing_the_whole_mandate_is_allowed(session_factory):
    created = _create(session_factory, replace(COMPANY, **MANDATE))
    with session_factory() as session:
        contacts.update_contact(session, created.id, COMPANY, TODAY)
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
        assert (contact.iban_encrypted, contact.iban_masked, contact.bic, contact.rum) == ("", "", "", None)
        assert contact.mandate_complete is False


def test_mandate_signed_in_the_future_is_refused(session_factory):
    with pytest.raises(ValidationErrors) as caught:
        _create(session_factory, replace(COMPANY, **{**MANDATE, "mandate_signed_on": date(2026, 11, 29)}))
    assert set(caught.value.errors) == {"mandate_signed_on"}


# --- validation errors change nothing ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"company_name": ""}, {"company_name"}),
        ({"email": "contact@"}, {"email"}),
        ({"siren": "732829321"}, {"siren"}),
        ({"vat_number": "FR00732829320"}, {"vat_number"}),
        ({**MANDATE, "iban": "FR7630006000011234567890188"}, {"iban"}),
        ({"postal_code": "7509", "kind": "société"}, {"postal_code", "kind"}),
    ],
    ids=["no-company-name", "bad-email", "bad-siren", "bad-vat", "bad-iban", "several"],
)
def test_invalid_contact_is_not_saved(session_factory, changes, fields):
    _create(session_factory, PERSON)
    with pytest.raises(ValidationErrors) as caught:
        _create(session_factory, replace(COMPANY, **changes))
    assert set(caught.value.errors) == fields
    assert _count(session_factory) == 1


def test_invalid_update_leaves_the_contact_unchanged(session_factory):
    created = _create(session_factory, replace(COMPANY, **MANDATE))
    with pytest.raises(ValidationErrors), session_factory() as session:
        contacts.update_contact(session, created.id, replace(COMPANY, company_name="Nouveau nom", bic="XXXX"), TODAY)
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
        assert contact.display_name == "Boulangerie Dupré"
        assert contacts.contact_input(contact) == replace(COMPANY, **MANDATE)


def test_failure_later_in_the_same_transaction_undoes_the_contact(session_factory):
    """session_scope is one transaction: an error after create_contact saves nothing."""
    with pytest.raises(RuntimeError), session_factory() as session:
        contacts.create_contact(session, replace(COMPANY, **MANDATE), TODAY)
        raise RuntimeError("envoi du mail impossible")
    assert _count(session_factory) == 0


# --- RUM uniqueness -------------------------------------------------------------------------


def test_a_rum_cannot_be_used_by_two_contacts(session_factory):
    _create(session_factory, replace(COMPANY, **MANDATE))
    with pytest.raises(ValidationErrors) as caught:
        _create(session_factory, replace(PERSON, **MANDATE))
    assert caught.value.errors == {"rum": contacts.RUM_TAKEN}
    assert _count(session_factory) == 1


def test_contacts_without_mandate_do_not_clash_on_the_empty_rum(session_factory):
    _create(session_factory, COMPANY)
    _create(session_factory, PERSON)
    assert _count(session_factory) == 2


def test_update_keeps_its_own_rum(session_factory):
    created = _create(session_factory, replace(COMPANY, **MANDATE))
    with session_factory() as session:
        moved = replace(COMPANY, **MANDATE, city="Versailles", postal_code="78000")
        contacts.update_contact(session, created.id, moved, TODAY)
    with session_factory() as session:
        contact = contacts.get_contact(session, created.id)
        assert (contact.city, contact.rum) == ("Versailles", MANDATE["rum"])


def test_update_cannot_take_another_contacts_rum(session_factory):
    _create(session_factory, replace(COMPANY, **MANDATE))
    other = _create(session_factory, replace(PERSON, **{**MANDATE, "rum": "RUM-2026-0002"}))
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        contacts.update_contact(session, other.id, replace(PERSON, **MANDATE), TODAY)
    assert set(caught.value.errors) == {"rum"}
    with session_factory() as session:
        assert contacts.get_contact(session, other.id).rum == "RUM-2026-0002"


def test_two_simultaneous_saves_with_the_same_rum(session_factory, monkeypatch):
    """Both users pass the "RUM free?" check before either saves: the database decides,
    exactly one contact is saved and the other user gets the RUM message."""
    both_checked = threading.Barrier(2, timeout=20)
    check_rum_free = contacts._check_rum_free

    def check_then_wait(session, rum, contact_id):
        check_rum_free(session, rum, contact_id)
        both_checked.wait()

    monkeypatch.setattr(contacts, "_check_rum_free", check_then_wait)
    outcomes: dict[str, object] = {}

    def save(name: str) -> None:
        try:
            _create(session_factory, replace(COMPANY, company_name=name, **MANDATE))
            outcomes[name] = "saved"
        except Exception as exc:  # noqa: BLE001 - reported below
            outcomes[name] = exc

    threads = [threading.Thread(target=save, args=(name,)) for name in ("Dupré Paris", "Dupré Lyon")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["Dupré Lyon", "Dupré Paris"]
    saved = [name for name, outcome in outcomes.items() if outcome == "saved"]
    refused = [outcome for outcome in outcomes.values() if outcome != "saved"]
    assert len(saved) == 1, outcomes
    assert isinstance(refused[0], ValidationErrors), repr(refused[0])
    assert refused[0].errors == {"rum": contacts.RUM_TAKEN}
    assert isinstance(refused[0].__cause__, IntegrityError)  # the unique constraint decided
    assert _names(_search(session_factory)) == saved


# --- search and pagination -------------------------------------------------------------------


@pytest.fixture
def directory(session_factory):
    for data in (
        COMPANY,
        PERSON,
        replace(
            PERSON, last_name="Dupré", first_name="Jean-Pierre",
            email="jp_dupre@example.fr", city="Paris", postal_code="75011",
        ),
        replace(
            COMPANY, company_name="100% Bio", siren="", vat_number="",
            email="bonjour@100bio.fr", city="Nantes", postal_code="44000",
        ),
        replace(
            COMPANY, company_name="Café Crème", siren="", vat_number="",
            email="cafe@creme.fr", city="Lyon", postal_code="69001", **MANDATE,
        ),
    ):
        _create(session_factory, data)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["100% Bio", "Boulangerie Dupré", "Café Crème", "DUPRÉ Jean-Pierre", "LEFÈVRE Éloïse"]),
        ("dupre", ["Boulangerie Dupré", "DUPRÉ Jean-Pierre"]),
        ("DUPRÉ", ["Boulangerie Dupré", "DUPRÉ Jean-Pierre"]),
        ("eloise", ["LEFÈVRE Éloïse"]),
        ("  cafe   CREME ", ["Café Crème"]),
        ("dupre paris", ["Boulangerie Dupré", "DUPRÉ Jean-Pierre"]),
        ("dupre 75011", ["DUPRÉ Jean-Pierre"]),
        ("dupre lyon", []),
        ("lyon", ["Café Crème", "LEFÈVRE Éloïse"]),
        (SIREN, ["Boulangerie Dupré"]),
        ("rum-2026", ["Café Crème"]),
        ("%", ["100% Bio"]),
        ("0%", ["100% Bio"]),
        ("_", ["DUPRÉ Jean-Pierre"]),
        ("p_d", ["DUPRÉ Jean-Pierre"]),
        ("e_e", []),
        ("\\", []),
        ("zzz", []),
    ],
)
def test_search(session_factory, directory, query, expected):
    result = _search(session_factory, query)
    assert _names(result) == expected
    assert result.total == len(expected)


def test_search_follows_every_change_of_a_contact(session_factory, engine):
    """On SQLite the words are looked up in an FTS5 index kept by triggers: it must follow
    a new contact, a renamed one and a deleted one (as PostgreSQL's index does)."""
    created = _create(session_factory, PERSON)
    assert _names(_search(session_factory, "lefevre lyon")) == ["LEFÈVRE Éloïse"]
    assert _names(_search(session_factory, "efev")) == ["LEFÈVRE Éloïse"]  # inside a word
    with session_factory() as session:
        contacts.update_contact(session, created.id, replace(PERSON, last_name="Moreau", city="Quimper",
                                                                     email="eloise@moreau.fr"), TODAY)
    assert _search(session_factory, "lefevre").total == 0
    assert _search(session_factory, "lyon").total == 0
    assert _names(_search(session_factory, "moreau quimper")) == ["MOREAU Éloïse"]
    assert _names(_search(session_factory, "mo qui")) == ["MOREAU Éloïse"]  # a short word, a long one
    with session_factory() as session:
        session.delete(session.get(contacts.Contact, created.id))
    assert _search(session_factory, "moreau").total == 0
    if engine.dialect.name == "sqlite":  # the index is what answered
        with engine.connect() as conn:
            plan = " ".join(str(row) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM contact WHERE id IN "
                "(SELECT rowid FROM contact_search WHERE contact_search MATCH '\"moreau\"')"))
        assert "VIRTUAL TABLE INDEX" in plan and "contact_search" in plan


def test_search_does_not_find_the_iban(session_factory, directory):
    assert _search(session_factory, "30006000011234567890189").total == 0


def test_empty_directory_has_one_empty_page(session_factory):
    result = _search(session_factory, page=3)
    assert (result.rows, result.total, result.page, result.page_count) == ([], 0, 1, 1)


def test_pagination(session_factory):
    for number in range(1, 8):
        _create(session_factory, replace(PERSON, last_name=f"Client {number:02d}", first_name=""))

    first = _search(session_factory, page=1, page_size=3)
    assert (first.total, first.page, first.page_count) == (7, 1, 3)
    assert _names(first) == ["CLIENT 01", "CLIENT 02", "CLIENT 03"]

    last = _search(session_factory, page=3, page_size=3)
    assert (last.page, _names(last)) == (3, ["CLIENT 07"])

    beyond = _search(session_factory, page=99, page_size=3)
    assert (beyond.page, _names(beyond)) == (3, ["CLIENT 07"])

    before = _search(session_factory, page=0, page_size=3)
    assert (before.page, _names(before)) == (1, ["CLIENT 01", "CLIENT 02", "CLIENT 03"])


def test_pagination_counts_only_matching_contacts(session_factory):
    for number in range(1, 5):
        client = replace(PERSON, last_name=f"Client {number}", first_name="")
        _create(session_factory, replace(client, city="Lyon"))
        _create(session_factory, replace(client, city="Paris", postal_code="75001"))
    result = _search(session_factory, "lyon", page=2, page_size=3)
    assert (result.total, result.page_count, len(result.rows)) == (4, 2, 1)


def test_default_page_size_is_25(session_factory):
    for number in range(1, 27):
        _create(session_factory, replace(PERSON, last_name=f"Client {number:02d}", first_name=""))
    result = _search(session_factory)
    assert (len(result.rows), result.page_count) == (25, 2)


# --- form helpers ---------------------------------------------------------------------------


def test_form_round_trip():
    data = replace(COMPANY, **MANDATE)
    form = contacts.form_from_input(data)
    assert form["mandate_signed_on"] == "2026-03-15"
    assert all(isinstance(value, str) for value in form.values())
    assert contacts.input_from_form(form) == data


def test_empty_form_is_a_company_in_france():
    form = contacts.empty_form()
    assert set(form) == set(contacts.FORM_FIELDS)
    assert (form["kind"], form["country"], form["mandate_signed_on"]) == ("entreprise", "FR", "")
    assert contacts.input_from_form(form) == ContactInput(kind="entreprise")


def test_form_with_missing_or_none_values_gives_empty_strings():
    data = contacts.input_from_form({"kind": "particulier", "last_name": "Lefèvre", "city": None})
    assert (data.kind, data.last_name, data.city, data.mandate_signed_on) == ("particulier", "Lefèvre", "", None)


def test_form_accepts_a_french_typed_date():
    form = {**contacts.form_from_input(COMPANY), "mandate_signed_on": "15/03/2026"}
    assert contacts.input_from_form(form).mandate_signed_on == date(2026, 3, 15)


@pytest.mark.parametrize("bad_date", ["31/02/2026", "2026-02-30", "hier"])
def test_form_with_a_bad_date(bad_date):
    form = {**contacts.form_from_input(COMPANY), "mandate_signed_on": bad_date}
    with pytest.raises(ValidationErrors) as caught:
        contacts.input_from_form(form)
    assert caught.value.errors == {
        "mandate_signed_on": "Date de signature invalide (format attendu : jj/mm/aaaa)."
    }


def test_form_to_database_and_back(session_factory):
    form = {**contacts.form_from_input(replace(COMPANY, **MANDATE)), "iban": "fr76 3000 6000 0112 3456 7890 189"}
    created = _create(session_factory, contacts.input_from_form(form))
    with session_factory() as session:
        saved = contacts.form_from_input(contacts.contact_input(contacts.get_contact(session, created.id)))
    assert saved == {**form, "iban": IBAN}


def test_count_is_capped_on_large_lists_but_paging_goes_on(session_factory, monkeypatch):
    from simple_erp.services import contacts as service

    monkeypatch.setattr(service, "COUNT_CAP", 3)
    with session_factory() as session:
        for i in range(5):
            service.create_contact(session, ContactInput(kind="particulier", last_name=f"Capé{i}"), date(2026, 11, 28))
    with session_factory() as session:
        page = service.search_contacts(session, "cape", page=1, page_size=2)
        assert page.total_capped and page.total == 3
        assert page.page_count >= 2
        last = service.search_contacts(session, "cape", page=3, page_size=2)
        assert [r.display_name for r in last.rows] == ["CAPÉ4"]
        small = service.search_contacts(session, "cape4", page=1, page_size=2)
        assert not small.total_capped and small.total == 1
