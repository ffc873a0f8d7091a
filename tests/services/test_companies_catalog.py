"""Issuing companies, numbering patterns, VAT rates and products, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.services import catalog, companies

SIREN, SIRET, VAT = "732829320", "73282932000074", "FR44732829320"
IBAN, BIC, ICS = "FR7630006000011234567890189", "AGRIFRPP", "FR72ZZZ123456"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def company_form(**changes: str) -> dict[str, str]:
    form = companies.empty_company_form()
    form.update(
        name="Atelier Martin SARL", legal_form="SARL", capital="10 000", address_line1="3 rue de la Paix",
        postal_code="75002", city="Paris", siren=SIREN, siret=SIRET, rcs_city="Paris", vat_number=VAT,
        iban=IBAN, bic=BIC, ics=ICS, contact_email="compta@atelier-martin.fr", phone="01 42 00 00 00",
    )
    form.update(changes)
    return form


def save(session_factory, company_id=None, **changes):
    with session_factory() as session:
        return companies.save_company(session, company_id, company_form(**changes))


def errors_of(session_factory, company_id=None, **changes) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        companies.save_company(session, company_id, company_form(**changes))
    return caught.value.errors


# --- companies ------------------------------------------------------------------------------


def test_empty_form_has_french_defaults():
    form = companies.empty_company_form()
    assert form["country"] == "FR" and form["vat_regime"] == "normal"
    assert form["payment_terms"] == "30_jours_net" and form["late_penalty_rate"] == "12,15"
    assert form["is_default"] == "" and form["iban"] == ""


def test_save_and_read_back_a_company(session_factory, engine):
    company = save(session_factory, capital="10 000,50", late_penalty_rate="10,5")
    with session_factory() as session:
        stored = companies.get_company(session, company.id)
        form = companies.company_form(stored)
    assert (stored.siren, stored.siret, stored.vat_number, stored.bic, stored.ics) == (SIREN, SIRET, VAT, BIC, ICS)
    assert stored.capital == Decimal("10000.50") and stored.late_penalty_rate == Decimal("10.50")
    assert stored.iban_masked == "FR76 •••• •••• 0189"
    assert form["iban"] == "FR76 3000 6000 0112 3456 7890 189"
    assert form["capital"] == "10\u202f000,50" and form["late_penalty_rate"] == "10,5"
    assert form["is_default"] == "1"
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT iban_encrypted FROM company")).scalar_one()
    assert raw and IBAN not in raw
    # The form gives back what was saved: saving it again changes nothing.
    with session_factory() as session:
        again = companies.save_company(session, company.id, form)
        assert companies.company_form(again) == form


def test_name_is_the_only_required_field(session_factory):
    form = {"name": "  Mon entreprise  "}
    with session_factory() as session:
        company = companies.save_company(session, None, form)
    assert company.name == "Mon entreprise" and company.iban_encrypted == "" and company.capital is None
    assert company.payment_terms == "30_jours_net" and company.vat_regime == "normal"


def test_every_invalid_field_is_reported_at_once(session_factory):
    errors = errors_of(
        session_factory, name=" ", siren="123456789", siret="12345678901234", vat_number="FR00123",
        iban="FR7630006000011234567890188", bic="AGRIFRPPX", ics="FR00ZZZ123456", contact_email="compta@",
        capital="-5", late_penalty_rate="150", payment_terms="90_jours", vat_regime="micro",
        postal_code="7500", country="France",
    )
    assert set(errors) == {
        "name", "siren", "siret", "vat_number", "iban", "bic", "ics", "contact_email", "capital",
        "late_penalty_rate", "payment_terms", "vat_regime", "country",
    }
    assert errors["name"] == "La raison sociale est obligatoire."
    assert errors["siren"] == "SIREN invalide : la clé de contrôle est incorrecte."
    assert errors["siret"] == "SIRET invalide : la clé de contrôle est incorrecte."
    assert errors["capital"] == "Le capital social ne peut pas être négatif."
    assert "entre 0 et 100" in errors["late_penalty_rate"]
    with session_factory() as session:
        assert companies.list_companies(session) == []


def test_penalty_rate_has_at_most_two_decimals(session_factory):
    assert "2 décimales au maximum" in errors_of(session_factory, late_penalty_rate="12,155")["late_penalty_rate"]
    assert errors_of(session_factory, late_penalty_rate="")["late_penalty_rate"].endswith("obligatoire.")


def test_siret_must_start_with_the_siren(session_factory):
    errors = errors_of(session_factory, siren="552100554", vat_number="")
    assert errors == {"siret": "Le SIRET doit commencer par le SIREN (ses 9 premiers chiffres)."}


def test_siren_is_taken_from_the_siret_when_empty(session_factory):
    assert save(session_factory, siren="").siren == SIREN


def test_vat_number_must_match_the_siren(session_factory):
    errors = errors_of(session_factory, vat_number="FR96552100554")  # valid, but another SIREN's
    assert errors == {"vat_number": "Le numéro de TVA ne correspond pas au SIREN saisi."}


def test_iban_and_bic_go_together(session_factory):
    assert set(errors_of(session_factory, bic="")) == {"bic"}
    assert set(errors_of(session_factory, iban="")) == {"iban"}
    company = save(session_factory, iban="", bic="")
    assert (company.iban_encrypted, company.iban_masked, company.bic) == ("", "", "")


def test_bic_of_another_country_than_the_iban_is_refused(session_factory):
    assert "incohérent" in errors_of(session_factory, bic="DEUTDEFF")["bic"]


def test_first_company_is_the_default_and_the_default_can_move(session_factory):
    first = save(session_factory)
    second = save(session_factory, name="Seconde SAS")
    with session_factory() as session:
        assert companies.default_company(session).id == first.id
        assert [c.id for c in companies.list_companies(session)] == [first.id, second.id]
    save(session_factory, second.id, name="Seconde SAS", is_default="1")
    with session_factory() as session:
        assert companies.default_company(session).id == second.id
        flags = {c.id: c.is_default for c in companies.list_companies(session)}
    assert flags == {first.id: False, second.id: True}
    # Unticking the only default keeps it: there is always one default company.
    save(session_factory, second.id, name="Seconde SAS", is_default="")
    with session_factory() as session:
        assert companies.default_company(session).id == second.id


def test_no_default_company_without_companies(session_factory):
    with session_factory() as session:
        assert companies.default_company(session) is None
        with pytest.raises(DomainError, match="Cette société n'existe pas."):
            companies.get_company(session, 42)


# --- logo ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, mime", [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_png_and_jpeg_logos_are_accepted(session_factory, data, mime):
    company = save(session_factory)
    with session_factory() as session:
        companies.set_logo(session, company.id, "C:\\images\\logo.bin", data)
    with session_factory() as session:
        stored = companies.get_company(session, company.id)
        assert stored.logo == data and stored.logo_filename == "logo.bin"
        assert companies.logo_mime(stored.logo) == mime


@pytest.mark.parametrize(
    "data, message",
    [
        (b"GIF89a" + b"\x00" * 10, "Le logo doit être une image PNG ou JPEG."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Le logo doit être une image PNG ou JPEG."),
        (b"", "Le fichier du logo est vide."),
        (PNG + b"\x00" * (1024 * 1024), "Logo trop lourd"),
    ],
)
def test_other_logos_are_refused(session_factory, data, message):
    company = save(session_factory)
    with pytest.raises(DomainError, match=message), session_factory() as session:
        companies.set_logo(session, company.id, "logo.png", data)


# --- numbering patterns ----------------------------------------------------------------------------


def test_numbering_patterns_default_and_change(session_factory):
    company = save(session_factory)
    with session_factory() as session:
        patterns = companies.numbering_patterns(session, company.id)
    assert patterns == {k: "{prefix}-{year}-{seq:05d}" for k in
                        ("devis", "bon_de_commande", "facture", "bon_de_livraison", "avoir")}
    with session_factory() as session:
        companies.save_numbering_pattern(session, company.id, "facture", "FA{yy}/{seq:04d}")
    with session_factory() as session:
        assert companies.numbering_patterns(session, company.id)["facture"] == "FA{yy}/{seq:04d}"
        companies.save_numbering_pattern(session, company.id, "facture", " ")
    with session_factory() as session:
        assert companies.numbering_patterns(session, company.id)["facture"] == "{prefix}-{year}-{seq:05d}"


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("{prefix}-{year}", "il doit contenir {seq}"),
        ("{prefix}-{annee}-{seq}", "le champ « {annee} » est inconnu"),
        ("F-{seq:05d}", "il doit contenir l'année"),
        ("Facture n° {year}-{seq}", "caractères autorisés"),
    ],
)
def test_invalid_numbering_patterns_are_refused(session_factory, pattern, message):
    company = save(session_factory)
    with pytest.raises(DomainError) as caught, session_factory() as session:
        companies.save_numbering_pattern(session, company.id, "facture", pattern)
    assert message in caught.value.message


# --- VAT rates ---------------------------------------------------------------------------------------


def test_seeded_vat_rates_are_listed_highest_first(session_factory):
    with session_factory() as session:
        rates = catalog.list_vat_rates(session)
    assert [r.rate for r in rates] == [Decimal(20), Decimal(10), Decimal("5.5"), Decimal("2.1"), Decimal(0)]
    assert rates[-1].exemption_mention


def test_deactivate_a_vat_rate(session_factory):
    with session_factory() as session:
        rate = next(r for r in catalog.list_vat_rates(session) if r.rate == Decimal("2.1"))
        form = catalog.vat_rate_form(rate) | {"active": "", "label": "2,1 % (presse)"}
        catalog.save_vat_rate(session, rate.id, form)
    with session_factory() as session:
        active = [r.rate for r in catalog.list_vat_rates(session, active_only=True)]
        assert Decimal("2.1") not in active and len(active) == 4
        assert any(r.label == "2,1 % (presse)" for r in catalog.list_vat_rates(session))


def test_vat_rate_errors(session_factory):
    with session_factory() as session:
        zero = next(r for r in catalog.list_vat_rates(session) if r.rate == 0)
        twenty = next(r for r in catalog.list_vat_rates(session) if r.rate == 20)

    def errors(rate_id, **form):
        with pytest.raises(ValidationErrors) as caught, session_factory() as session:
            catalog.save_vat_rate(session, rate_id, {"label": "x", "active": "1"} | form)
        return caught.value.errors

    assert errors(None, rate="20") == {"rate": "Ce taux de TVA existe déjà."}
    assert errors(twenty.id, rate="10") == {"rate": "Ce taux de TVA existe déjà."}
    assert errors(None, rate="150")["rate"] == "Le taux doit être compris entre 0 et 100 %."
    assert "2 décimales au maximum" in errors(None, rate="5,555")["rate"]
    assert "non pris en charge" in errors(None, rate="7")["rate"]
    assert set(errors(None, rate="abc", label="")) == {"rate", "label"}
    assert "mention d'exonération" in errors(zero.id, rate="0", exemption_mention="")["exemption_mention"]


def test_deleted_rate_can_be_created_again_with_its_mention(session_factory, engine):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM vat_rate WHERE rate = 0"))
    with session_factory() as session:
        created = catalog.save_vat_rate(session, None, {"rate": "0", "label": "Exonéré",
                                                        "exemption_mention": "Art. 261 du CGI", "active": "1"})
    assert created.rate == Decimal("0.00") and created.active


# --- products ------------------------------------------------------------------------------------------


def product(**changes) -> dict[str, str]:
    return {"reference": "PRD-001", "name": "Clavier mécanique", "description": "Switches bruns",
            "unit": "pièce", "unit_price": "89,9", "vat_rate": "20", "active": "1"} | changes


def add_product(session_factory, **changes):
    with session_factory() as session:
        return catalog.save_product(session, None, product(**changes))


def test_save_a_product(session_factory):
    created = add_product(session_factory, unit_price="1 234,5678", vat_rate="5,5")
    with session_factory() as session:
        stored = catalog.get_product(session, created.id)
        form = catalog.product_form(stored)
    assert stored.unit_price == Decimal("1234.5678") and stored.vat_rate == Decimal("5.50")
    assert form["unit_price"] == "1\u202f234,5678" and form["vat_rate"] == "5,5"
    with session_factory() as session:
        catalog.save_product(session, created.id, form | {"name": "Clavier"})
        assert catalog.get_product(session, created.id).name == "Clavier"


def test_product_errors_are_all_reported(session_factory):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        catalog.save_product(session, None, product(reference="", name="", unit_price="-1", vat_rate="7"))
    assert set(caught.value.errors) == {"reference", "name", "unit_price", "vat_rate"}
    assert caught.value.errors["reference"] == "La référence est obligatoire."
    assert caught.value.errors["unit_price"] == "Le prix unitaire HT ne peut pas être négatif."
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        catalog.save_product(session, None, product(unit_price="0,12345", vat_rate=""))
    assert "4 décimales au maximum" in caught.value.errors["unit_price"]
    assert caught.value.errors["vat_rate"] == "Taux de TVA : champ obligatoire."


def test_product_reference_is_unique_ignoring_case(session_factory):
    first = add_product(session_factory)
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        catalog.save_product(session, None, product(reference="prd-001"))
    assert caught.value.errors == {"reference": "Cette référence est déjà utilisée par un autre produit."}
    with session_factory() as session:  # saving the product itself keeps its reference
        catalog.save_product(session, first.id, product(name="Autre nom"))


def test_product_vat_rate_must_be_an_active_rate(session_factory):
    with session_factory() as session:
        rate = next(r for r in catalog.list_vat_rates(session) if r.rate == 10)
        catalog.save_vat_rate(session, rate.id, catalog.vat_rate_form(rate) | {"active": ""})
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        catalog.save_product(session, None, product(vat_rate="10"))
    assert caught.value.errors["vat_rate"].startswith("Ce taux de TVA n'est pas actif.")


def test_list_and_search_products(session_factory):
    add_product(session_factory, reference="CLA-01", name="Clavier AZERTY")
    add_product(session_factory, reference="SOU-01", name="Souris sans fil")
    add_product(session_factory, reference="CLA-02", name="Clavier QWERTY", active="")
    with session_factory() as session:
        assert [p.reference for p in catalog.list_products(session)] == ["CLA-01", "CLA-02", "SOU-01"]
        assert [p.reference for p in catalog.list_products(session, include_inactive=False)] == ["CLA-01", "SOU-01"]
        assert [p.reference for p in catalog.list_products(session, "clavier")] == ["CLA-01", "CLA-02"]
        assert [p.reference for p in catalog.search_products(session, "CLAVIER")] == ["CLA-01"]
        assert [p.reference for p in catalog.search_products(session, "sou")] == ["SOU-01"]
        assert [p.reference for p in catalog.search_products(session, "cla azer")] == ["CLA-01"]
        assert [p.reference for p in catalog.search_products(session, "-01", limit=1)] == ["CLA-01"]
        assert catalog.search_products(session, "100%") == []
        assert catalog.search_products(session, "  ") == []
