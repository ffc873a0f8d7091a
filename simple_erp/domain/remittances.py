"""Bank-collected SEPA direct debits (remises de prélèvements, pain.008) and the
pre-notification: the rules, without a database.

* Sequence type per mandate: a recurrent mandate's first collection is ``FRST``, the next
  ones ``RCUR``; a one-off mandate is ``OOFF`` and serves once. A collection counts once
  the remittance that carried it was sent to the bank and the bank did not reject it
  (a rejected first collection leaves the next one ``FRST``).
* A mandate with no collection presented for 36 months has expired (EPC rulebook): it is
  refused, and the customer must sign a new one. A mandate never used counts from its
  signature.
* Pre-notification: the customer is told the amount and the date at least N days ahead
  (14 by default; the company may set fewer if its mandates say so).
* The collection date is a TARGET2 business day (SEPA's interbank calendar): not a
  Saturday or Sunday, 1 January, Good Friday, Easter Monday, 1 May, 25 or 26 December.
* Money is ``Decimal``, to the cent; messages are French.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum

from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import format_date_fr, format_eur
from simple_erp.domain.sepa import MANDATE_ONE_OFF, MANDATE_RECURRENT, SEPA_COUNTRIES

DEFAULT_PRENOTIFICATION_DAYS = 14
MAX_PRENOTIFICATION_DAYS = 60
MANDATE_VALIDITY_MONTHS = 36


class SequenceType(str, Enum):
    FIRST = "FRST"
    RECURRING = "RCUR"
    ONE_OFF = "OOFF"


SEQUENCE_LABELS = {
    SequenceType.FIRST: "Premier prélèvement (FRST)",
    SequenceType.RECURRING: "Prélèvement récurrent (RCUR)",
    SequenceType.ONE_OFF: "Prélèvement ponctuel (OOFF)",
}



class RemittanceStatus(str, Enum):
    CREATED = "creee"  # the file is ready; the notices are sent; not yet at the bank
    SENT = "envoyee"  # the user sent the file to the bank
    DONE = "terminee"  # every collection has its answer (paid or rejected)
    CANCELED = "annulee"


REMITTANCE_LABELS = {
    RemittanceStatus.CREATED: "Créée — à transmettre à la banque",
    RemittanceStatus.SENT: "Transmise à la banque",
    RemittanceStatus.DONE: "Terminée",
    RemittanceStatus.CANCELED: "Annulée",
}


class LineStatus(str, Enum):
    PENDING = "en_cours"  # « Prélèvement en cours » (or waiting to be sent)
    PAID = "recu"
    REJECTED = "rejete"
    CANCELED = "annule"


LINE_LABELS = {
    LineStatus.PENDING: "Prélèvement en cours",
    LineStatus.PAID: "Paiement reçu",
    LineStatus.REJECTED: "Rejeté",
    LineStatus.CANCELED: "Annulé",
}

# The bank's reason codes (ISO 20022 / EPC R-transactions) the user picks from.
REJECT_REASONS: dict[str, str] = {
    "AC01": "IBAN du débiteur incorrect",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué",
    "AG01": "Prélèvement interdit sur ce compte",
    "AM04": "Provision insuffisante",
    "MD01": "Pas de mandat",
    "MD06": "Remboursement demandé par le débiteur",
    "MD07": "Débiteur décédé",
    "MS02": "Refus du débiteur",
    "MS03": "Raison non communiquée",
    "SL01": "Service spécifique de la banque du débiteur",
}

@dataclass(frozen=True)
class MandateUse:
    """What earlier remittances say about one mandate (RUM)."""

    kind: str = MANDATE_RECURRENT  # recurrent | ponctuel
    signed_on: date | None = None
    collections: int = 0  # collections presented and not rejected
    last_presented_on: date | None = None  # last collection date presented (rejected or not)


def sequence_type(use: MandateUse) -> SequenceType:
    """FRST, RCUR or OOFF for the mandate's next collection; a one-off mandate already
    used is refused (French message)."""
    if use.kind == MANDATE_ONE_OFF:
        if use.collections > 0:
            raise DomainError("Ce mandat SEPA est ponctuel et a déjà servi : faites signer un nouveau mandat.")
        return SequenceType.ONE_OFF
    return SequenceType.RECURRING if use.collections > 0 else SequenceType.FIRST


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def mandate_expires_on(use: MandateUse) -> date | None:
    """The day the mandate lapses when unused: 36 months after its last collection
    presented, or after its signature if never used."""
    start = use.last_presented_on or use.signed_on
    return add_months(start, MANDATE_VALIDITY_MONTHS) if start else None


def mandate_expired(use: MandateUse, collection_date: date) -> bool:
    expires = mandate_expires_on(use)
    return expires is not None and collection_date > expires


def check_mandate_usable(use: MandateUse, collection_date: date, who: str) -> SequenceType:
    """The sequence type of the next collection, or a French refusal (expired mandate,
    one-off mandate already used)."""
    if mandate_expired(use, collection_date):
        since = use.last_presented_on or use.signed_on
        what = "dernier prélèvement" if use.last_presented_on else "signature"
        raise DomainError(
            f"Le mandat SEPA de {who} a expiré : aucun prélèvement depuis 36 mois ({what} le "
            f"{format_date_fr(since)}). Faites signer un nouveau mandat."
        )
    try:
        return sequence_type(use)
    except DomainError as err:
        raise DomainError(f"{who} : {err.message}") from None


def check_amount(amount: Decimal) -> Decimal:
    try:
        ok = amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))
    except (InvalidOperation, AttributeError):
        ok = False
    if not ok:
        raise DomainError("Le montant d'un prélèvement doit être supérieur à zéro, au centime près.", field="amount")
    return amount


def check_sepa_iban(iban: str, who: str) -> str:
    country = (iban or "")[:2].upper()
    if country not in SEPA_COUNTRIES:
        raise DomainError(f"L'IBAN de {who} ({country or '?'}) n'appartient pas à la zone SEPA : "
                          "il ne peut pas être prélevé.", field="iban")
    return iban


def check_prenotification_days(value) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        days = -1
    if not 0 <= days <= MAX_PRENOTIFICATION_DAYS:
        raise DomainError(f"Délai de pré-notification invalide : un nombre de jours entre 0 et "
                          f"{MAX_PRENOTIFICATION_DAYS} (14 par défaut).", field="prenotification_days")
    return days


_WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def easter_sunday(year: int) -> date:
    """Western Easter (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def target_closing_days(year: int) -> frozenset[date]:
    """The TARGET2 closing days of ``year`` besides weekends: no SEPA collection settles then."""
    easter = easter_sunday(year)
    return frozenset({date(year, 1, 1), easter - timedelta(days=2), easter + timedelta(days=1),
                      date(year, 5, 1), date(year, 12, 25), date(year, 12, 26)})


def is_bank_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in target_closing_days(day.year)


def next_bank_business_day(day: date) -> date:
    """``day`` itself when the banks collect on it, else the next day they do."""
    while not is_bank_business_day(day):
        day += timedelta(days=1)
    return day


def earliest_collection_date(notified_on: date, days: int) -> date:
    """The first day a debit may be collected when the customer is told on ``notified_on``."""
    return notified_on + timedelta(days=days)


def first_collection_date(today: date, days: int) -> date:
    """The first date a remittance created today may ask: the pre-notification delay,
    then the next bank business day."""
    return next_bank_business_day(earliest_collection_date(today, days))


def check_collection_date(collection_date: date, today: date, days: int) -> date:
    """Refuse a collection sooner than today + N (the pre-notification delay), or on a day
    the banks do not collect (weekend, TARGET2 closing day)."""
    earliest = earliest_collection_date(today, days)
    if collection_date < earliest:
        raise DomainError(
            f"Date de prélèvement trop proche : le client doit être prévenu {days} jours avant. "
            f"Choisissez le {format_date_fr(next_bank_business_day(earliest))} ou plus tard.",
            field="collection_date")
    if not is_bank_business_day(collection_date):
        following = next_bank_business_day(collection_date)
        raise DomainError(
            f"Le {_WEEKDAYS_FR[collection_date.weekday()]} {format_date_fr(collection_date)} n'est pas un jour ouvré "
            f"interbancaire (week-end ou jour férié TARGET2) : les banques ne prélèvent pas ce jour-là. "
            f"Choisissez le {_WEEKDAYS_FR[following.weekday()]} {format_date_fr(following)}.",
            field="collection_date")
    return collection_date


def check_debit_notified(notified_on: date | None, days: int, debit_on: date, amount: Decimal) -> None:
    """A debit of ``amount`` on ``debit_on`` needs a notice sent ``days`` days before."""
    if notified_on is None:
        raise DomainError(
            f"Pré-notification requise : le client doit être prévenu du montant ({format_eur(amount)}) et de la date "
            f"du prélèvement {days} jours avant. Envoyez d'abord la pré-notification ; le prélèvement sera possible "
            f"à partir du {format_date_fr(earliest_collection_date(debit_on, days))}.")
    earliest = earliest_collection_date(notified_on, days)
    if debit_on < earliest:
        raise DomainError(
            f"Pré-notification envoyée le {format_date_fr(notified_on)} : le prélèvement de {format_eur(amount)} "
            f"n'est possible qu'à partir du {format_date_fr(earliest)} ({days} jours après).")


def check_reject_code(code: str) -> str:
    code = (code or "").strip().upper()
    if code not in REJECT_REASONS:
        raise DomainError("Choisissez le motif de rejet indiqué par la banque (par exemple AM04).",
                          field="reject_code")
    return code


def reject_label(code: str) -> str:
    return f"{code} — {REJECT_REASONS[code]}" if code in REJECT_REASONS else code


def remittance_status_after(lines: list[LineStatus]) -> RemittanceStatus:
    """A sent remittance whose collections all have their answer is done."""
    if any(LineStatus(s) is LineStatus.PENDING for s in lines):
        return RemittanceStatus.SENT
    return RemittanceStatus.DONE


@dataclass(frozen=True)
class Totals:
    count: int
    total: Decimal


def totals(amounts: list[Decimal]) -> Totals:
    """Number of transactions and control sum, exact to the cent."""
    return Totals(len(amounts), sum((check_amount(a) for a in amounts), Decimal("0.00")))
