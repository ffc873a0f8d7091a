"""SEPA mandate rules (domain.sepa): RUM generation, ICS and creditor ids, SEPA IBANs,
mandate types, the checks behind « Générer le mandat SEPA »."""

from __future__ import annotations

import re
from datetime import date

import pytest

from simple_erp.domain import sepa
from simple_erp.domain.errors import DomainError

SEPA_CHARSET = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")


def _ics(national_id: str, business_code: str = "ZZZ", country: str = "FR") -> str:
    """A creditor id computed here from the algorithm (ISO 7064 MOD 97-10, as for an IBAN:
    national id + country code + "00", letters as 10..35, 98 - remainder), business code
    left out."""
    digits = "".join(str(int(ch, 36)) for ch in national_id + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{business_code}{national_id}"


# --- RUM -----------------------------------------------------------------------------------


def test_default_pattern_gives_the_first_free_number():
    assert sepa.next_rum(sepa.DEFAULT_RUM_PATTERN, 2026, 42, set().__contains__) == "RUM-2026-000001"
    taken = {"RUM-2026-000001", "RUM-2026-000002"}
    assert sepa.next_rum(sepa.DEFAULT_RUM_PATTERN, 2026, 42, taken.__contains__) == "RUM-2026-000003"
    assert sepa.next_rum(sepa.DEFAULT_RUM_PATTERN, 2026, 42, set().__contains__, start=57) == "RUM-2026-000057"


def test_pattern_with_the_contact_number_and_collisions():
    pattern = "CLI{contact:06d}/{yy}-{seq:02d}"
    assert sepa.next_rum(pattern, 2026, 42, set().__contains__) == "CLI000042/26-01"
    taken = {"CLI000042/26-01", "CLI000042/26-02"}
    assert sepa.next_rum(pattern, 2026, 42, taken.__contains__) == "CLI000042/26-03"
    assert sepa.rum_prefix(pattern, 2026, 42) == "CLI000042/26-"
    assert sepa.rum_seq(pattern, 2026, 42, "CLI000042/26-17") == 17
    assert sepa.rum_seq(pattern, 2026, 43, "CLI000042/26-17") is None  # another contact's


def test_generated_rums_are_unique_in_charset_and_at_most_35_characters():
    pattern = "Mandat (SEPA) {yy}.{seq}"
    taken: set[str] = set()
    for _ in range(300):
        rum = sepa.next_rum(pattern, 2026, 7, taken.__contains__)
        assert SEPA_CHARSET.fullmatch(rum) and len(rum) <= 35
        assert not rum.startswith("/") and not rum.endswith("/") and "//" not in rum
        assert rum not in taken
        taken.add(rum)
    assert len(taken) == 300


def test_a_pattern_that_gives_more_than_35_characters_is_refused():
    with pytest.raises(DomainError, match="trop longue") as caught:
        sepa.validate_rum_pattern("SOCIETE-DUPONT-ET-FILS-{year}-{contact:08d}-{seq:06d}")
    assert caught.value.field == "rum_pattern"
    with pytest.raises(DomainError, match="35"):
        sepa.next_rum("XYZ-{year}-{contact:12d}-{seq:12d}-AB", 2026, 1, set().__contains__)


@pytest.mark.parametrize(("pattern", "message"), [
    ("RUM-{year}", "{seq}"),
    ("RUM-{seq}-{seq}", "{seq}"),
    ("RÜM-{seq}", "seuls"),
    ("RUM_{seq}", "seuls"),
    ("RUM-{annee}-{seq}", "reconnus"),
    ("/RUM-{seq}", "« / »"),
    ("RUM//{seq}", "« // »"),
    ("RUM-{seq}/", "« / »"),
])
def test_bad_patterns_are_refused_in_french(pattern, message):
    with pytest.raises(DomainError) as caught:
        sepa.validate_rum_pattern(pattern)
    assert message in caught.value.message


def test_empty_pattern_means_the_default():
    assert sepa.validate_rum_pattern("  ") == sepa.DEFAULT_RUM_PATTERN


@pytest.mark.parametrize("rum", ["/RUM1", "RUM1/", "RUM//1", "RUM-é", " RUM", "R" * 36, "RUM_1", ""])
def test_rum_text_outside_the_rules_is_refused(rum):
    assert not sepa.is_sepa_rum(rum)
    with pytest.raises(DomainError):
        sepa.check_rum_text(rum)


@pytest.mark.parametrize("rum", ["RUM-2026-000001", "A/B", "x?y:z(1).2,3'4+5 6", "R" * 35])
def test_rum_text_inside_the_rules_is_accepted(rum):
    assert sepa.check_rum_text(rum) == rum


def test_next_rum_gives_up_when_every_candidate_is_taken():
    with pytest.raises(DomainError, match="RUM"):
        sepa.next_rum("R{seq}", 2026, 1, lambda _rum: True, attempts=5)


# --- ICS -------------------------------------------------------------------------------------


def test_ics_computed_from_the_algorithm_is_valid():
    assert _ics("123456") == "FR72ZZZ123456"  # the example every French bank prints
    for national_id in ("000001", "532197", "9A8B7C", "ABCDEF"):
        ics = _ics(national_id)
        assert sepa.validate_ics(ics) == ics
        assert sepa.validate_ics(f"{ics[:4]} {ics[4:7]} {ics[7:]}".lower()) == ics


def test_the_business_code_is_not_part_of_the_check_digits():
    assert sepa.validate_ics("FR72ABC123456") == "FR72ABC123456"


def test_published_german_test_creditor_id_is_valid():
    # The Deutsche Bundesbank's published test Gläubiger-ID.
    assert sepa.validate_creditor_id("DE98ZZZ09999999999") == "DE98ZZZ09999999999"
    with pytest.raises(DomainError, match="clé de contrôle"):
        sepa.validate_creditor_id("DE97ZZZ09999999999")


@pytest.mark.parametrize(("ics", "message"), [
    ("FR73ZZZ123456", "clé de contrôle"),
    ("FR72ZZZ123457", "clé de contrôle"),
    ("FR72ZZZ12345", "format attendu"),
    ("DE72ZZZ123456", "format attendu"),
    ("FRXXZZZ123456", "format attendu"),
    ("", "vide"),
])
def test_malformed_ics_is_refused(ics, message):
    with pytest.raises(DomainError) as caught:
        sepa.validate_ics(ics)
    assert message in caught.value.message and caught.value.field == "ics"


# --- IBAN, mandate type --------------------------------------------------------------------------


@pytest.mark.parametrize("iban", ["FR76 3000 6000 0112 3456 7890 189", "DE89370400440532013000",
                                  "CH9300762011623852957", "GB29NWBK60161331926819", "MC5811222000010123456789030"])
def test_sepa_ibans_are_accepted(iban):
    assert sepa.check_sepa_iban(iban) == iban.replace(" ", "")


@pytest.mark.parametrize(("iban", "message"), [
    ("TR330006100519786457841326", "zone SEPA"),  # Turkey: valid IBAN, outside SEPA
    ("BR1800360305000010009795493C1", "zone SEPA"),
    ("FR7630006000011234567890188", "invalide"),
    ("", "Aucun IBAN"),
])
def test_other_ibans_are_refused(iban, message):
    with pytest.raises(DomainError) as caught:
        sepa.check_sepa_iban(iban)
    assert message in caught.value.message


def test_sepa_countries_cover_the_eu_and_leave_out_the_pacific_territories():
    assert {"FR", "DE", "IT", "ES", "CH", "GB", "NO", "MC", "GP", "RE"} <= sepa.SEPA_COUNTRIES
    assert not {"US", "TR", "NC", "PF", "WF"} & sepa.SEPA_COUNTRIES


def test_mandate_types():
    assert sepa.validate_mandate_type("") == sepa.MANDATE_RECURRENT
    assert sepa.validate_mandate_type("Ponctuel") == sepa.MANDATE_ONE_OFF
    assert sepa.mandate_type_label("ponctuel") == "Ponctuel"
    assert sepa.mandate_type_label("recurrent") == "Récurrent"
    with pytest.raises(DomainError, match="Récurrent"):
        sepa.validate_mandate_type("mensuel")


# --- the form's checks -----------------------------------------------------------------------------

COMPANY_ADDRESS = ("12 rue des Lilas", "", "69003", "Lyon", "FR")
DEBTOR_ADDRESS = ("3 place Bellecour", "", "69002", "Lyon", "FR")


def _form(**changes):
    values = dict(rum="RUM-2026-000001", creditor_name="Atelier Dupont", creditor_address=COMPANY_ADDRESS,
                  ics="FR72ZZZ123456", debtor_name="Martin Jeanne", debtor_address=DEBTOR_ADDRESS,
                  iban="FR7630006000011234567890189", bic="AGRIFRPP", mandate_type="ponctuel",
                  signed_on=date(2026, 11, 2))
    values.update(changes)
    return sepa.mandate_form(**values)


def test_complete_inputs_give_the_form():
    form = _form()
    assert form.ics == "FR72ZZZ123456" and form.iban == "FR7630006000011234567890189"
    assert form.creditor.address_lines == ("12 rue des Lilas", "69003 Lyon")
    assert form.mandate_type == "ponctuel" and form.place == "Lyon"


@pytest.mark.parametrize(("changes", "message"), [
    ({"ics": ""}, "pas d'identifiant créancier SEPA (ICS)"),
    ({"ics": "FR73ZZZ123456"}, "clé de contrôle est incorrecte. Corrigez-le"),
    ({"iban": ""}, "Aucun IBAN"),
    ({"iban": "TR330006100519786457841326"}, "zone SEPA"),
    ({"creditor_address": ("", "", "", "", "FR")}, "adresse de la société émettrice est incomplète"),
    ({"creditor_address": ("12 rue des Lilas", "", "69003", "", "FR")}, "adresse de la société émettrice"),
    ({"bic": ""}, "BIC"),
    ({"rum": "RUM//1"}, "« // »"),
])
def test_each_gap_gets_its_french_message(changes, message):
    with pytest.raises(DomainError) as caught:
        _form(**changes)
    assert message in caught.value.message


def test_the_form_escapes_what_the_user_typed_and_ticks_one_box():
    from simple_erp.providers.sepa_mandate_pdf import render_mandate_html

    page = render_mandate_html(_form(debtor_name="<b>Martin</b> & fils", mandate_type="recurrent"))
    assert "&lt;b&gt;Martin&lt;/b&gt; &amp; fils" in page and "<b>Martin" not in page
    assert "\u2612 Paiement récurrent" in page and "\u2610 Paiement ponctuel" in page
    assert "FR76 3000 6000 0112 3456 7890 189" in page and "RUM-2026-000001" in page
