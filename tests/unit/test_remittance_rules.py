"""Rules of bank-collected SEPA direct debits (domain.remittances) and the pain.008 file
(services.remittances.pain008: sepaxml, validated against the pain.008.001.08 XSD)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from simple_erp.domain.errors import DomainError
from simple_erp.domain.remittances import (
    MANDATE_ONE_OFF,
    LineStatus,
    MandateUse,
    RemittanceStatus,
    SequenceType,
    add_months,
    check_collection_date,
    check_debit_notified,
    check_mandate_usable,
    check_prenotification_days,
    check_reject_code,
    check_sepa_iban,
    easter_sunday,
    first_collection_date,
    is_bank_business_day,
    mandate_expired,
    mandate_expires_on,
    next_bank_business_day,
    remittance_status_after,
    sequence_type,
    target_closing_days,
    totals,
)
from simple_erp.services.remittances import pain008

SIGNED = date(2023, 3, 31)


def test_first_collection_is_frst_then_rcur():
    assert sequence_type(MandateUse(signed_on=SIGNED)) is SequenceType.FIRST
    assert sequence_type(MandateUse(signed_on=SIGNED, collections=1)) is SequenceType.RECURRING
    assert sequence_type(MandateUse(signed_on=SIGNED, collections=7)) is SequenceType.RECURRING


def test_one_off_mandate_serves_once():
    assert sequence_type(MandateUse(kind=MANDATE_ONE_OFF, signed_on=SIGNED)) is SequenceType.ONE_OFF
    with pytest.raises(DomainError, match="ponctuel et a déjà servi"):
        sequence_type(MandateUse(kind=MANDATE_ONE_OFF, signed_on=SIGNED, collections=1))


def test_add_months_keeps_the_month_end():
    assert add_months(date(2023, 3, 31), 36) == date(2026, 3, 31)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_mandate_unused_for_36_months_has_expired():
    never_used = MandateUse(signed_on=SIGNED)
    assert mandate_expires_on(never_used) == date(2026, 3, 31)
    assert not mandate_expired(never_used, date(2026, 3, 31))
    assert mandate_expired(never_used, date(2026, 4, 1))
    used = MandateUse(signed_on=SIGNED, collections=3, last_presented_on=date(2025, 6, 10))
    assert not mandate_expired(used, date(2028, 6, 10)) and mandate_expired(used, date(2028, 6, 11))
    with pytest.raises(DomainError) as info:
        check_mandate_usable(never_used, date(2026, 5, 1), "Léa DURAND")
    assert "Léa DURAND" in info.value.message and "a expiré" in info.value.message
    assert "signature le 31/03/2023" in info.value.message
    assert check_mandate_usable(used, date(2026, 5, 1), "Léa") is SequenceType.RECURRING


def test_collection_date_respects_the_prenotification_delay():
    today = date(2026, 12, 4)
    with pytest.raises(DomainError) as info:
        check_collection_date(date(2026, 12, 17), today, 14)
    assert "14 jours" in info.value.message and "18/12/2026" in info.value.message
    assert check_collection_date(date(2026, 12, 18), today, 14) == date(2026, 12, 18)
    assert check_collection_date(date(2026, 12, 7), today, 2) == date(2026, 12, 7)


def test_collection_date_is_a_bank_business_day():
    today = date(2026, 12, 4)
    with pytest.raises(DomainError) as info:
        check_collection_date(date(2026, 12, 6), today, 2)  # a Sunday
    assert info.value.message.startswith("Le dimanche 06/12/2026 n'est pas un jour ouvré interbancaire")
    assert info.value.message.endswith("Choisissez le lundi 07/12/2026.")
    with pytest.raises(DomainError, match="Choisissez le lundi 28/12/2026"):
        check_collection_date(date(2026, 12, 25), today, 14)  # Christmas, then 26/12 and a weekend
    # too soon, and the first day allowed falls on a Saturday: the Monday is proposed
    with pytest.raises(DomainError, match="Choisissez le 07/12/2026 ou plus tard"):
        check_collection_date(date(2026, 12, 4), today, 1)
    assert first_collection_date(date(2026, 12, 11), 14) == date(2026, 12, 28)
    assert first_collection_date(today, 14) == date(2026, 12, 18)


@pytest.mark.parametrize("year,easter", [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
                                         (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28)),
                                         (2038, date(2038, 4, 25))])
def test_target2_closing_days_follow_easter(year, easter):
    assert easter_sunday(year) == easter
    closing = target_closing_days(year)
    assert easter - timedelta(days=2) in closing and easter + timedelta(days=1) in closing  # Good Friday, Easter Monday
    assert {date(year, 1, 1), date(year, 5, 1), date(year, 12, 25), date(year, 12, 26)} <= closing
    assert len(closing) == 6
    assert not is_bank_business_day(easter + timedelta(days=1))
    assert next_bank_business_day(easter - timedelta(days=2)) == easter + timedelta(days=2)  # Friday → Tuesday
    # a French holiday that is not a TARGET2 one (14 July) is a collection day when a weekday
    july_14 = date(year, 7, 14)
    assert is_bank_business_day(july_14) == (july_14.weekday() < 5)


def test_a_debit_needs_a_notice_sent_n_days_before():
    with pytest.raises(DomainError, match="Pré-notification requise.*18/12/2026"):
        check_debit_notified(None, 14, date(2026, 12, 4), Decimal("60"))
    with pytest.raises(DomainError, match="à partir du 18/12/2026"):
        check_debit_notified(date(2026, 12, 4), 14, date(2026, 12, 17), Decimal("60"))
    check_debit_notified(date(2026, 12, 4), 14, date(2026, 12, 18), Decimal("60"))


@pytest.mark.parametrize("value", ["-1", "61", "abc", "", None, "1.5"])
def test_prenotification_days_refused(value):
    with pytest.raises(DomainError, match="entre 0 et 60"):
        check_prenotification_days(value)


def test_prenotification_days_accepted():
    assert check_prenotification_days(" 14 ") == 14 and check_prenotification_days(2) == 2


def test_iban_outside_sepa_and_reject_codes():
    assert check_sepa_iban("DE89370400440532013000", "x") == "DE89370400440532013000"
    assert check_sepa_iban("CH9300762011623852957", "x")
    with pytest.raises(DomainError, match="zone SEPA"):
        check_sepa_iban("TR330006100519786457841326", "Client")
    assert check_reject_code(" am04 ") == "AM04"
    with pytest.raises(DomainError, match="motif de rejet"):
        check_reject_code("ZZ01")


def test_totals_exact_and_amounts_positive():
    result = totals([Decimal("0.10"), Decimal("0.20"), Decimal("1234.56")])
    assert (result.count, result.total) == (3, Decimal("1234.86"))
    for bad in (Decimal("0"), Decimal("-1"), Decimal("0.001")):
        with pytest.raises(DomainError, match="supérieur à zéro"):
            totals([bad])


def test_remittance_done_when_every_collection_answered():
    assert remittance_status_after([LineStatus.PAID, LineStatus.PENDING]) is RemittanceStatus.SENT
    assert remittance_status_after([LineStatus.PAID, LineStatus.REJECTED]) is RemittanceStatus.DONE


# --- the pain.008 file ----------------------------------------------------------------------------

CREDITOR = pain008.Creditor("Atelier Martin & Fils — Électricité", "FR7630006000011234567890189", "AGRIFRPP",
                            "FR72ZZZ123456")


def _collections():
    return [
        pain008.Collection("Léa DURAND", "FR1420041010050500013M02606", "PSSTFRPPPAR", Decimal("0.10"), "FRST",
                           "RUM-0001", date(2025, 1, 15), "1-F-2026-00001", "Facture F-2026-00001"),
        pain008.Collection("Société Générale d'Études", "DE89370400440532013000", "", Decimal("0.20"), "RCUR",
                           "RUM-0002", date(2024, 5, 2), "1-F-2026-00002", "Facture F-2026-00002"),
        pain008.Collection("Zoë", "FR7630006000011234567890189", "AGRIFRPP", Decimal("1234.56"), "OOFF",
                           "RUM-0003", date(2026, 1, 2), "1-F-2026-00003", "Facture F-2026-00003"),
    ]


def test_pain008_is_xsd_valid_with_exact_header_totals():
    data = pain008.build("PRLV-1-20261204-ABC", CREDITOR, date(2026, 12, 20), _collections())
    assert pain008.validation_errors(data) == []
    assert pain008.header_totals(data) == (3, Decimal("1234.86"))  # 0.10 + 0.20 + 1234.56, no float drift
    text = data.decode()
    assert "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08" in text and "<MsgId>PRLV-1-20261204-ABC</MsgId>" in text
    for seq in ("FRST", "RCUR", "OOFF"):
        assert f"<SeqTp>{seq}</SeqTp>" in text
    assert "<MndtId>RUM-0002</MndtId>" in text and "<DtOfSgntr>2024-05-02</DtOfSgntr>" in text
    assert "<ReqdColltnDt>2026-12-20</ReqdColltnDt>" in text and "FR72ZZZ123456" in text
    assert "Lea DURAND" in text and "Electricite" in text  # SEPA character set


def test_a_broken_pain008_fails_the_xsd():
    data = pain008.build("PRLV-1", CREDITOR, date(2026, 12, 20), _collections())
    assert pain008.validation_errors(data.replace(b"<SeqTp>RCUR</SeqTp>", b"<SeqTp>ABCD</SeqTp>"))
    assert pain008.validation_errors(data.replace(b"<EndToEndId>1-F-2026-00001</EndToEndId>", b""))
    assert pain008.validation_errors(data.replace(b"DE89370400440532013000", b"DE89 3704 pas un IBAN"))
    assert pain008.validation_errors(data.replace(b'Ccy="EUR">0.10', b'Ccy="EUR">-0.10'))
    assert pain008.validation_errors(b"<Document>pas du XML")


def test_pain008_refuses_bad_input():
    with pytest.raises(DomainError, match="au moins un prélèvement"):
        pain008.build("PRLV-1", CREDITOR, date(2026, 12, 20), [])
    bad = pain008.Creditor("X", "FR7630006000011234567890189", "", "pas un ICS ni rien de conforme du tout !!")
    with pytest.raises(DomainError, match="pain.008"):
        pain008.build("PRLV-1", bad, date(2026, 12, 20), _collections())
