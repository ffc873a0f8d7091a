"""Unit tests for simple_erp.domain.contact_rules (pure rules, no database, no UI)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from simple_erp.domain.contact_rules import (
    ContactInput,
    SepaMandate,
    bic_from_iban,
    compact,
    format_iban,
    ics_check_digits,
    mandate_is_complete,
    mask_iban,
    missing_mandate_fields,
    validate_bic,
    validate_contact,
    validate_email,
    validate_iban,
    validate_ics,
    validate_rum,
    validate_sepa_fields,
    validate_signature_date,
    validate_siren,
    validate_vat_number,
)
from simple_erp.domain.errors import DomainError, ValidationErrors

TODAY = date(2025, 3, 14)
FR_IBAN = "FR7630006000011234567890189"  # bank 30006, branch 00001, account 12345678901, key 89
DE_IBAN = "DE89370400440532013000"
GB_IBAN = "GB82WEST12345698765432"


def _letters_to_digits(text: str) -> str:
    return "".join(str(int(char, 36)) for char in text)


def _iban_from_bban(country: str, bban: str) -> str:
    """Independent ISO 13616 computation: check digits = 98 - (bban + country + 00) mod 97."""
    check = 98 - int(_letters_to_digits(bban + country + "00")) % 97
    return f"{country}{check:02d}{bban}"


# FR IBAN whose RIB key is wrong (88 instead of 89) but whose IBAN check digits are right.
FR_IBAN_BAD_RIB_KEY = _iban_from_bban("FR", "30006000011234567890188")


def _error(call, *args) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args)
    return info.value


# --- compact / format / mask ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  fr76 3000 6000 0112 3456 7890 189 ", FR_IBAN),
        ("bnpa fr pp", "BNPAFRPP"),
        ("\tab\u00a0cd\n", "ABCD"),
        ("", ""),
    ],
)
def test_compact(raw, expected):
    assert compact(raw) == expected


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        (FR_IBAN, "FR76 •••• •••• 0189"),
        ("fr76 3000 6000 0112 3456 7890 189", "FR76 •••• •••• 0189"),
        (DE_IBAN, "DE89 •••• •••• 3000"),
        ("", ""),
    ],
)
def test_mask_iban(iban, expected):
    assert mask_iban(iban) == expected


def test_mask_iban_hides_the_middle():
    masked = mask_iban(FR_IBAN)
    assert "\u2022" in masked and "1234567890" not in masked


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        (FR_IBAN, "FR76 3000 6000 0112 3456 7890 189"),
        (DE_IBAN.lower(), "DE89 3704 0044 0532 0130 00"),
        ("", ""),
    ],
)
def test_format_iban(iban, expected):
    assert format_iban(iban) == expected


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=40))
def test_format_iban_round_trips_through_compact(value):
    formatted = format_iban(value)
    assert compact(formatted) == value
    assert all(len(group) <= 4 for group in formatted.split(" "))


# --- IBAN -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (FR_IBAN, FR_IBAN),
        ("fr76 3000 6000 0112 3456 7890 189", FR_IBAN),
        (DE_IBAN, DE_IBAN),
        (GB_IBAN, GB_IBAN),
        ("BE68 5390 0754 7034", "BE68539007547034"),
        ("IT60X0542811101000000123456", "IT60X0542811101000000123456"),
        ("MC5811222000010123456789030", "MC5811222000010123456789030"),
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        # No national key algorithm in schwifty for HU: accepted, its warning silenced.
        ("HU42117730161111101800000000", "HU42117730161111101800000000"),
    ],
)
def test_validate_iban_accepts_valid_ibans(raw, expected):
    assert validate_iban(raw) == expected


def test_bad_rib_key_iban_passes_mod_97_but_fails_rib_check():
    assert FR_IBAN_BAD_RIB_KEY != FR_IBAN
    assert int(_letters_to_digits(FR_IBAN_BAD_RIB_KEY[4:] + FR_IBAN_BAD_RIB_KEY[:4])) % 97 == 1
    assert IBAN(FR_IBAN_BAD_RIB_KEY).is_valid  # plain IBAN check is fooled…
    error = _error(validate_iban, FR_IBAN_BAD_RIB_KEY)  # …the RIB key check is not
    assert error.field == "iban"
    assert error.message == "IBAN invalide : la clé RIB est incorrecte."


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("FR7630006000011234567890188", "IBAN invalide : la clé de contrôle est incorrecte."),
        ("FR7730006000011234567890189", "IBAN invalide : la clé de contrôle est incorrecte."),
        (
            "FR763000600001123456789018",
            "IBAN invalide : un IBAN FR compte 27 caractères (ici 26).",
        ),
        ("FR76", "IBAN invalide : un IBAN FR compte 27 caractères (ici 4)."),
        (DE_IBAN + "0", "IBAN invalide : un IBAN DE compte 22 caractères (ici 23)."),
        ("XX7630006000011234567890189", "IBAN invalide : le code pays « XX » est inconnu."),
        (
            "FR76-3000-6000-0112-3456-7890-189",
            "IBAN invalide : seuls les lettres et les chiffres sont autorisés.",
        ),
        ("FR76300060000112345678901É9", "IBAN invalide : seuls les lettres et les chiffres sont autorisés."),
        (
            "7630006000011234567890189",
            "IBAN invalide : il doit commencer par le code pays (2 lettres) "
            "puis 2 chiffres de contrôle.",
        ),
        (
            "FR76ABCD6000011234567890189",
            "IBAN invalide : le numéro de compte ne respecte pas le format FR.",
        ),
        ("   ", "L'IBAN est vide."),
    ],
)
def test_validate_iban_rejects_with_specific_message(raw, message):
    error = _error(validate_iban, raw)
    assert error.field == "iban"
    assert error.message == message


# --- BIC --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BNPAFRPP", "BNPAFRPP"),
        ("BNPAFRPPXXX", "BNPAFRPPXXX"),
        (" bnpa fr pp xxx ", "BNPAFRPPXXX"),
        ("COBADEFFXXX", "COBADEFFXXX"),
        ("ZYXWFRP1", "ZYXWFRP1"),  # well formed but unknown to the registry: accepted
    ],
)
def test_validate_bic_accepts(raw, expected):
    assert validate_bic(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("BNPAFRP", "8 ou 11 caractères (ici 7)"),
        ("BNPAFRPPXX", "8 ou 11 caractères (ici 10)"),
        ("BNPAFRPPXXXX", "8 ou 11 caractères (ici 12)"),
        ("BNPA12PP", "format attendu"),
        ("BNPAFRPP-XX", "format attendu"),
        ("BNPAXXPP", "le code pays « XX » est inconnu"),
        ("", "Le BIC est vide."),
    ],
)
def test_validate_bic_rejects(raw, fragment):
    error = _error(validate_bic, raw)
    assert error.field == "bic"
    assert fragment in error.message


@pytest.mark.parametrize(
    ("bic", "iban"),
    [
        ("BNPAFRPP", FR_IBAN),
        ("SOGEMCM1", FR_IBAN),  # Monaco bank, French IBAN
        ("BNPAMCM1XXX", "MC5811222000010123456789030"),
        ("BNPAFRPP", "MC5811222000010123456789030"),  # French BIC, Monaco IBAN
        ("BNPAREPP", FR_IBAN),  # La Réunion
        ("BNPAGPGP", FR_IBAN),  # Guadeloupe
        ("BNPANCNC", FR_IBAN),  # Nouvelle-Calédonie
        ("COBADEFFXXX", DE_IBAN),
        ("NWBKGB2L", GB_IBAN),
        ("ABCDJESH", GB_IBAN),  # Jersey uses GB IBANs
        ("BNPAFRPP", "not an iban"),  # invalid IBAN: reported on its own field, not compared
        ("BNPAFRPP", "DE89370400440532013001"),
    ],
)
def test_validate_bic_country_matches_iban(bic, iban):
    assert validate_bic(bic, iban) == compact(bic)


@pytest.mark.parametrize(
    ("bic", "iban"),
    [
        ("COBADEFF", FR_IBAN),
        ("COBADEFFXXX", FR_IBAN),
        ("BNPAFRPP", DE_IBAN),
        ("BNPABEBB", FR_IBAN),
        ("BNPAFRPP", GB_IBAN),
    ],
)
def test_validate_bic_country_mismatch_is_refused(bic, iban):
    error = _error(validate_bic, bic, iban)
    assert error.field == "bic"
    assert error.message.startswith("BIC incohérent avec l'IBAN")
    assert f"« {compact(bic)[4:6]} »" in error.message


def test_bic_from_iban_derives_a_matching_bic():
    assert bic_from_iban(DE_IBAN).startswith("COBADEFF")
    derived = bic_from_iban("fr76 3000 6000 0112 3456 7890 189")
    assert derived[4:6] == "FR"
    assert validate_bic(derived, FR_IBAN) == derived


def test_bic_from_iban_unknown_bank():
    error = _error(bic_from_iban, GB_IBAN)
    assert error.field == "bic"
    assert error.message == "Impossible de déduire le BIC de cet IBAN : saisissez-le."


@pytest.mark.parametrize("bad_iban", ["FR7630006000011234567890188", FR_IBAN_BAD_RIB_KEY, ""])
def test_bic_from_iban_invalid_iban(bad_iban):
    assert _error(bic_from_iban, bad_iban).field == "iban"


# --- RUM / signature date -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RUM-2025-0001", "RUM-2025-0001"),
        ("  abc123  ", "abc123"),
        ("A/B-C?D:(E).F,G'H+ I", "A/B-C?D:(E).F,G'H+ I"),
        ("A" * 35, "A" * 35),
        ("X", "X"),
        ("/ABC", "/ABC"),
        ("AB//CD", "AB//CD"),  # EPC only forbids a leading "//"
    ],
)
def test_validate_rum_accepts(raw, expected):
    assert validate_rum(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("A" * 36, "trop longue : 36 caractères, 35 maximum"),
        ("//ABC", "ne peut pas commencer par « // »"),
        ("ÉTÉ", "lettres sans accent"),
        ("RUM_001", "lettres sans accent"),
        ("RUM#1", "lettres sans accent"),
        ("RUM@1", "lettres sans accent"),
        ("", "est vide"),
        ("   ", "est vide"),
    ],
)
def test_validate_rum_rejects(raw, fragment):
    error = _error(validate_rum, raw)
    assert error.field == "rum"
    assert fragment in error.message
    assert "RUM" in error.message


@pytest.mark.parametrize("signed_on", [TODAY, TODAY - timedelta(days=1), date(2009, 11, 1)])
def test_signature_date_not_in_future_ok(signed_on):
    assert validate_signature_date(signed_on, TODAY) == signed_on


@pytest.mark.parametrize("signed_on", [TODAY + timedelta(days=1), date(2030, 1, 1)])
def test_signature_date_in_future_refused(signed_on):
    error = _error(validate_signature_date, signed_on, TODAY)
    assert error.field == "mandate_signed_on"
    assert error.message == "La date de signature du mandat SEPA ne peut pas être dans le futur."


# --- ICS (SEPA creditor identifier) -------------------------------------------------------------


def test_ics_check_digits_by_hand():
    # FR72ZZZ123456: national id + "FR00", F=15 R=27 -> 123456 152700; mod 97 = 26; 98-26 = 72.
    assert 123456152700 % 97 == 26
    assert ics_check_digits("FR", "123456") == "72"
    # FR49ZZZ000001: 000001 152700 -> 1152700 mod 97 = 49 -> 98-49 = 49.
    assert 1152700 % 97 == 49
    assert ics_check_digits("FR", "000001") == "49"


def test_ics_check_digits_public_example():
    # Deutsche Bundesbank / EPC documentation example: DE98ZZZ09999999999.
    assert int("09999999999" + "1314" + "00") % 97 == 0
    assert ics_check_digits("DE", "09999999999") == "98"


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=6))
def test_ics_built_with_check_digits_is_valid(national_id):
    ics = f"FR{ics_check_digits('FR', national_id)}ZZZ{national_id}"
    assert validate_ics(ics) == ics
    assert int(_letters_to_digits(national_id + "FR" + ics[2:4])) % 97 == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FR72ZZZ123456", "FR72ZZZ123456"),
        ("fr72 zzz 123456", "FR72ZZZ123456"),
        ("FR72ABC123456", "FR72ABC123456"),  # business code is excluded from the key
        ("FR49ZZZ000001", "FR49ZZZ000001"),
    ],
)
def test_validate_ics_accepts(raw, expected):
    assert validate_ics(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("FR71ZZZ123456", "la clé de contrôle est incorrecte"),
        ("FR48ZZZ000001", "la clé de contrôle est incorrecte"),
        ("FR72ZZZ123457", "la clé de contrôle est incorrecte"),
        ("FR72ZZZ12345", "format attendu"),
        ("FR72ZZZ1234567", "format attendu"),
        ("FRAAZZZ123456", "format attendu"),
        ("FR72ZZ-123456", "format attendu"),
        ("DE98ZZZ09999999999", "format attendu"),
        ("", "est vide"),
    ],
)
def test_validate_ics_rejects(raw, fragment):
    error = _error(validate_ics, raw)
    assert error.field == "ics"
    assert fragment in error.message


# --- SEPA mandate: IBAN and BIC together; all four once signed ------------------------------------


def test_sepa_all_empty_is_no_mandate():
    assert validate_sepa_fields("", " ", "", None, TODAY) is None
    assert missing_mandate_fields("", "", "", None) == [
        "IBAN",
        "BIC",
        "Réf mandat SEPA",
        "Date de signature mandat SEPA",
    ]
    assert not mandate_is_complete("", "", "", None)


def test_sepa_all_filled_and_valid():
    mandate = validate_sepa_fields(
        "fr76 3000 6000 0112 3456 7890 189", "bnpa frpp", " RUM-1 ", TODAY, TODAY
    )
    assert mandate == SepaMandate(iban=FR_IBAN, bic="BNPAFRPP", rum="RUM-1", signed_on=TODAY)
    assert mandate_is_complete(FR_IBAN, "BNPAFRPP", "RUM-1", TODAY)
    assert missing_mandate_fields(FR_IBAN, "BNPAFRPP", "RUM-1", TODAY) == []


def test_sepa_mandate_is_frozen():
    mandate = SepaMandate(FR_IBAN, "BNPAFRPP", "RUM-1", TODAY)
    with pytest.raises(AttributeError):
        mandate.iban = DE_IBAN  # type: ignore[misc]


@pytest.mark.parametrize(
    ("iban", "bic", "rum", "signed_on", "missing"),
    [
        (FR_IBAN, "", "", None, ["bic"]),
        ("", "BNPAFRPP", "RUM-1", TODAY, ["iban"]),
        ("", "", "RUM-1", None, ["iban", "bic"]),
        ("", "", "", TODAY, ["iban", "bic", "rum"]),
        (FR_IBAN, "BNPAFRPP", "  ", TODAY, ["rum"]),
    ],
)
def test_sepa_partial_lists_every_missing_field(iban, bic, rum, signed_on, missing):
    labels = {
        "iban": "IBAN",
        "bic": "BIC",
        "rum": "Réf mandat SEPA",
        "mandate_signed_on": "Date de signature mandat SEPA",
    }
    with pytest.raises(ValidationErrors) as info:
        validate_sepa_fields(iban, bic, rum, signed_on, TODAY)
    errors = info.value.errors
    assert sorted(errors) == sorted(missing)
    for field in missing:
        assert errors[field] == f"Champ requis pour un mandat SEPA : {labels[field]}."
    empty = [f for f, v in (("iban", iban), ("bic", bic), ("rum", rum)) if not v.strip()]
    empty += ["mandate_signed_on"] if signed_on is None else []
    assert missing_mandate_fields(iban, bic, rum, signed_on) == [labels[f] for f in empty]
    assert not mandate_is_complete(iban, bic, rum, signed_on)


@pytest.mark.parametrize("rum", ["", "RUM-1"])
def test_sepa_mandate_being_prepared_needs_iban_and_bic_only(rum):
    """Not signed yet: « Générer le mandat SEPA » prints the form (and gives the RUM)."""
    mandate = validate_sepa_fields(FR_IBAN, "BNPAFRPP", rum, None, TODAY)
    assert mandate == SepaMandate(iban=FR_IBAN, bic="BNPAFRPP", rum=rum, signed_on=None)
    assert not mandate_is_complete(FR_IBAN, "BNPAFRPP", rum, None)
    assert missing_mandate_fields(FR_IBAN, "BNPAFRPP", rum, None)[-1] == "Date de signature mandat SEPA"


def test_sepa_partial_also_reports_invalid_filled_fields():
    with pytest.raises(ValidationErrors) as info:
        validate_sepa_fields("FR7630006000011234567890188", "", "//X", None, TODAY)
    errors = info.value.errors
    assert errors["iban"] == "IBAN invalide : la clé de contrôle est incorrecte."
    assert errors["bic"] == "Champ requis pour un mandat SEPA : BIC."
    assert "« // »" in errors["rum"]
    assert "mandate_signed_on" not in errors  # not signed yet: the date comes later


def test_sepa_collects_all_invalid_fields():
    with pytest.raises(ValidationErrors) as info:
        validate_sepa_fields(FR_IBAN_BAD_RIB_KEY, "BNPAFRP", "ÉTÉ", TODAY + timedelta(1), TODAY)
    assert set(info.value.errors) == {"iban", "bic", "rum", "mandate_signed_on"}
    assert info.value.errors["iban"] == "IBAN invalide : la clé RIB est incorrecte."


def test_sepa_bic_checked_against_iban_country():
    with pytest.raises(ValidationErrors) as info:
        validate_sepa_fields(FR_IBAN, "COBADEFFXXX", "RUM-1", TODAY, TODAY)
    assert list(info.value.errors) == ["bic"]
    assert info.value.errors["bic"].startswith("BIC incohérent avec l'IBAN")


def test_sepa_bic_not_compared_when_iban_invalid():
    with pytest.raises(ValidationErrors) as info:
        validate_sepa_fields("XX00123", "COBADEFFXXX", "RUM-1", TODAY, TODAY)
    assert list(info.value.errors) == ["iban"]


# --- SIREN / VAT / e-mail -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("732829320", "732829320"), (" 732 829 320 ", "732829320"), ("732.829.320", "732829320")],
)
def test_validate_siren_accepts(raw, expected):
    assert validate_siren(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("732829321", "la clé de contrôle est incorrecte"),
        ("73282932", "9 chiffres (ici 8)"),
        ("7328293201", "9 chiffres (ici 10)"),
        ("73282932A", "que des chiffres"),
        ("73282932000014", "et non le SIRET"),
        ("", "est vide"),
    ],
)
def test_validate_siren_rejects(raw, fragment):
    error = _error(validate_siren, raw)
    assert error.field == "siren"
    assert fragment in error.message
    assert "SIREN" in error.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FR44732829320", "FR44732829320"),
        ("fr 44 732 829 320", "FR44732829320"),
        ("FR44.732.829.320", "FR44732829320"),
        ("DE136695976", "DE136695976"),
        ("ATU12345675", "ATU12345675"),
    ],
)
def test_validate_vat_number_accepts(raw, expected):
    assert validate_vat_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("FR00732829320", "la clé de contrôle est incorrecte"),
        ("FR44732829321", "la clé de contrôle est incorrecte"),  # SIREN part fails Luhn
        ("FR4473282932", "la longueur est incorrecte"),
        ("FR44A32829320", "le format est incorrect"),
        ("XX123456789", "code pays de l'UE"),
        ("44732829320", "code pays de l'UE"),
        ("US123456789", "code pays de l'UE"),
        ("", "est vide"),
    ],
)
def test_validate_vat_number_rejects(raw, fragment):
    error = _error(validate_vat_number, raw)
    assert error.field == "vat_number"
    assert fragment in error.message
    assert "TVA" in error.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jean.dupont@example.fr", "jean.dupont@example.fr"),
        ("  Jean.Dupont@Example.FR ", "Jean.Dupont@example.fr"),
        ("a+tag@sub.domaine.co.uk", "a+tag@sub.domaine.co.uk"),
    ],
)
def test_validate_email_accepts(raw, expected):
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("jean.dupont", "format attendu"),
        ("@example.fr", "format attendu"),
        ("a@b@example.fr", "format attendu"),
        ("jean@localhost", "le domaine"),
        ("jean@example.", "le domaine"),
        ("jean@.fr", "le domaine"),
        ("jean@exa..mple.fr", "le domaine"),
        ("jean dupont@example.fr", "espace"),
        ("a" * 250 + "@x.fr", "254 caractères"),
        ("", "est vide"),
    ],
)
def test_validate_email_rejects(raw, fragment):
    error = _error(validate_email, raw)
    assert error.field == "email"
    assert fragment in error.message
    assert "e-mail" in error.message


# --- Contact ------------------------------------------------------------------------------------

PERSON = ContactInput(kind="particulier", last_name="Dupont")
COMPANY = ContactInput(kind="entreprise", company_name="ACME SAS")


def _contact_errors(data: ContactInput) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as info:
        validate_contact(data, TODAY)
    return info.value.errors


def test_minimal_person_and_company_are_valid():
    assert validate_contact(PERSON, TODAY) == PERSON
    assert validate_contact(COMPANY, TODAY) == COMPANY


def test_validate_contact_returns_cleaned_copy():
    data = ContactInput(
        kind=" entreprise ",
        company_name="  ACME SAS ",
        email=" Compta@ACME.FR ",
        phone=" +33 1 23 45 67 89 ",
        address_line1=" 1 rue de la Paix ",
        postal_code=" 75002 ",
        city=" Paris ",
        country=" fr ",
        siren="732 829 320",
        vat_number="fr 44 732 829 320",
        notes="  client historique ",
        iban="fr76 3000 6000 0112 3456 7890 189",
        bic="bnpa frpp",
        rum=" RUM-1 ",
        mandate_signed_on=TODAY,
    )
    cleaned = validate_contact(data, TODAY)
    assert cleaned is not data
    assert cleaned == ContactInput(
        kind="entreprise",
        company_name="ACME SAS",
        email="Compta@acme.fr",
        phone="+33 1 23 45 67 89",
        address_line1="1 rue de la Paix",
        postal_code="75002",
        city="Paris",
        country="FR",
        siren="732829320",
        vat_number="FR44732829320",
        notes="client historique",
        iban=FR_IBAN,
        bic="BNPAFRPP",
        rum="RUM-1",
        mandate_signed_on=TODAY,
    )
    assert data.iban.startswith("fr76")  # input untouched


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            replace(PERSON, kind="client"),
            "kind",
            "Le type de contact doit être « particulier » ou « entreprise ».",
        ),
        (replace(PERSON, kind=""), "kind", None),
        (replace(COMPANY, company_name="  "), "company_name", "La raison sociale est obligatoire."),
        (replace(PERSON, last_name=""), "last_name", "Le nom est obligatoire."),
        (
            ContactInput(kind="particulier", company_name="ACME"),
            "last_name",
            "Le nom est obligatoire.",
        ),
        (replace(PERSON, last_name="x" * 201), "last_name", "Le nom ne doit pas dépasser 200 caractères."),
        (replace(COMPANY, company_name="x" * 201), "company_name", None),
        (replace(PERSON, first_name="x" * 201), "first_name", None),
        (replace(PERSON, address_line1="x" * 201), "address_line1", None),
        (replace(PERSON, address_line2="x" * 201), "address_line2", None),
        (replace(PERSON, city="x" * 101), "city", None),
        (replace(PERSON, notes="x" * 2001), "notes", "Le champ notes ne doit pas dépasser 2000 caractères."),
        (replace(PERSON, email="pas-un-email"), "email", None),
        (replace(PERSON, siren="732829321"), "siren", None),
        (replace(PERSON, vat_number="FR00732829320"), "vat_number", None),
        (replace(PERSON, country="France"), "country", None),
        (replace(PERSON, postal_code="7500"), "postal_code", None),
        (replace(PERSON, postal_code="75 002"), "postal_code", None),
        (replace(PERSON, postal_code="7500A"), "postal_code", None),
        (replace(PERSON, country="BE", postal_code="x" * 21), "postal_code", None),
        (replace(PERSON, phone="01 23 45 67 8A"), "phone", None),
        (replace(PERSON, phone="12345"), "phone", None),
        (replace(PERSON, phone="+" + "1" * 21), "phone", None),
        (replace(PERSON, phone="tel: 0123456789"), "phone", None),
        (replace(PERSON, iban=FR_IBAN), "bic", "Champ requis pour un mandat SEPA : BIC."),
    ],
)
def test_validate_contact_rejects(data, field, message):
    errors = _contact_errors(data)
    assert field in errors
    if message is not None:
        assert errors[field] == message


def test_max_length_message_names_the_field():
    errors = _contact_errors(replace(PERSON, city="x" * 101))
    assert errors["city"] == "La ville ne doit pas dépasser 100 caractères."


@pytest.mark.parametrize(
    "data",
    [
        replace(PERSON, phone="01 23 45 67 89"),
        replace(PERSON, phone="+33 (0)1.23.45.67.89"),
        replace(PERSON, phone="06-12-34-56-78"),
        replace(PERSON, phone="123456"),
        replace(PERSON, postal_code="97400"),
        replace(PERSON, country="BE", postal_code="1000"),
        replace(PERSON, country="GB", postal_code="SW1A 1AA"),
        replace(PERSON, first_name="x" * 200, notes="x" * 2000),
        replace(COMPANY, siren="732829320", vat_number="FR44732829320"),
        replace(COMPANY, vat_number="DE136695976"),
        replace(PERSON, mandate_signed_on=None, iban="", bic="", rum=""),
    ],
)
def test_validate_contact_accepts_optional_fields(data):
    validate_contact(data, TODAY)


def test_validate_contact_collects_all_errors():
    data = ContactInput(
        kind="entreprise",
        email="x@",
        phone="abc",
        postal_code="123",
        siren="123",
        vat_number="FR00732829320",
        iban=FR_IBAN,
        rum="//bad",
        mandate_signed_on=TODAY + timedelta(days=1),
    )
    errors = _contact_errors(data)
    assert set(errors) == {
        "company_name",
        "email",
        "phone",
        "postal_code",
        "siren",
        "vat_number",
        "bic",
        "rum",
        "mandate_signed_on",
    }
    assert errors["bic"] == "Champ requis pour un mandat SEPA : BIC."


def test_validate_contact_vat_must_match_siren():
    errors = _contact_errors(replace(COMPANY, siren="732829320", vat_number="FR83404833048"))
    assert errors == {"vat_number": "Le numéro de TVA ne correspond pas au SIREN saisi."}


def test_validate_contact_sepa_country_mismatch():
    data = replace(PERSON, iban=FR_IBAN, bic="COBADEFF", rum="R1", mandate_signed_on=TODAY)
    assert list(_contact_errors(data)) == ["bic"]
