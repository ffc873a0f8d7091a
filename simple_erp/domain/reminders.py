"""Relances: the rules of the reminder schedule of late invoices.

A company has reminder steps, each ``offset_days`` after the invoice's due date (negative:
before it, e.g. J-3 « rappel amical »), with its modèle d'email and on/off. The scheduler
sends each step at most once per invoice; when several steps are due at once (the
scheduler was stopped, a step was switched on late), only the latest one is sent and the
earlier ones are never sent afterwards (a customer never gets a J+7 after a J+15).

Pure Python, stdlib only; money is ``Decimal``; messages are French.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simple_erp.domain.errors import ValidationErrors
from simple_erp.domain.money import format_eur

OFFSET_MIN, OFFSET_MAX = -60, 365
RECOVERY_INDEMNITY = Decimal("40.00")  # Code de commerce, art. D441-5
CENT = Decimal("0.01")
BUSINESS = "entreprise"


@dataclass(frozen=True)
class DefaultStep:
    offset_days: int
    template_name: str  # a modèle of the rubrique « Relances »
    formal_notice: bool = False  # mise en demeure


RUBRIQUE = "Relances"
DEFAULT_STEPS: tuple[DefaultStep, ...] = (
    DefaultStep(-3, "Rappel amical"),
    DefaultStep(7, "Relance amiable"),
    DefaultStep(15, "Seconde relance"),
    DefaultStep(30, "Mise en demeure", formal_notice=True),
)


@dataclass(frozen=True)
class Step:
    """A reminder step as the rules need it."""

    id: int
    offset_days: int
    active: bool = True


def step_label(offset_days: int) -> str:
    """« J-3 », « J », « J+7 »: days from the due date."""
    if offset_days == 0:
        return "J"
    return f"J{offset_days:+d}"


def days_late(due_date: date, today: date) -> int:
    """Days since the due date (negative before it)."""
    return (today - due_date).days


def step_to_send(steps: Iterable[Step], due_date: date | None, today: date,
                 sent_offsets: Iterable[int]) -> Step | None:
    """The step the scheduler sends today, or None: the latest active step whose day has
    come, unless it, or a later step, was already sent."""
    if due_date is None:
        return None
    late = days_late(due_date, today)
    due = [s for s in steps if s.active and s.offset_days <= late]
    if not due:
        return None
    latest = max(due, key=lambda s: (s.offset_days, s.id))
    sent = list(sent_offsets)
    if sent and max(sent) >= latest.offset_days:
        return None
    return latest


def manual_step(steps: Iterable[Step], due_date: date | None, today: date,
                sent_offsets: Iterable[int]) -> Step | None:
    """The step « Relancer maintenant » sends: the one the scheduler would send today,
    else the next active step not sent yet (after the last one sent); None when every
    step is behind (the reminder is then sent with the last step's modèle, outside the
    schedule)."""
    steps = list(steps)
    sent = list(sent_offsets)
    scheduled = step_to_send(steps, due_date, today, sent)
    if scheduled is not None:
        return scheduled
    after = max(sent) if sent else None
    following = sorted((s for s in steps if s.active and (after is None or s.offset_days > after)),
                       key=lambda s: (s.offset_days, s.id))
    return following[0] if following else None


def next_step(steps: Iterable[Step], due_date: date | None, today: date,
              sent_offsets: Iterable[int]) -> tuple[Step, date] | None:
    """(step, day) of the next reminder the scheduler will send (today when one is due
    now), or None when no step is left."""
    if due_date is None:
        return None
    steps = list(steps)
    sent = list(sent_offsets)
    now = step_to_send(steps, due_date, today, sent)
    if now is not None:
        return now, today
    floor = max(sent) if sent else None
    late = days_late(due_date, today)
    later = sorted((s for s in steps if s.active and s.offset_days > late
                    and (floor is None or s.offset_days > floor)), key=lambda s: (s.offset_days, s.id))
    if not later:
        return None
    return later[0], due_date + timedelta(days=later[0].offset_days)


def check_step(offset_days: str | int, other_offsets: Iterable[int]) -> int:
    """The offset of an edited step, checked: an integer number of days between -60 and
    365, not used by another step of the company. Raises ``ValidationErrors``."""
    raw = str(offset_days).strip().replace("J", "").replace("j", "").replace(" ", "")
    try:
        value = int(raw)
    except ValueError:
        raise ValidationErrors({"offset_days": "Indiquez un nombre entier de jours (ex. -3, 7, 30)."}) from None
    if not OFFSET_MIN <= value <= OFFSET_MAX:
        raise ValidationErrors({"offset_days": f"Le délai doit être compris entre {OFFSET_MIN} et {OFFSET_MAX} jours."})
    if value in set(other_offsets):
        raise ValidationErrors({"offset_days": f"Une autre étape est déjà à {step_label(value)}."})
    return value


def late_penalty(amount_due: Decimal, annual_rate_percent: Decimal, late_days: int) -> Decimal:
    """Pénalités de retard: amount × rate × days / 365, rounded half-up to the cent (0
    before the due date)."""
    if late_days <= 0 or amount_due <= 0 or annual_rate_percent <= 0:
        return Decimal("0.00")
    value = Decimal(amount_due) * Decimal(annual_rate_percent) / Decimal(100) * Decimal(late_days) / Decimal(365)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def late_mentions(contact_kind: str, amount_due: Decimal, annual_rate_percent: Decimal, late_days: int) -> str:
    """The paragraph on penalties and the 40 € recovery indemnity, for a business
    customer only ("" for a private one: the indemnity applies between professionals)."""
    if contact_kind != BUSINESS or late_days <= 0:
        return ""
    penalty = late_penalty(amount_due, annual_rate_percent, late_days)
    rate = format(Decimal(annual_rate_percent).quantize(CENT), "f").replace(".", ",")
    return (f"Conformément à l'article L441-10 du Code de commerce, des pénalités de retard au taux annuel "
            f"de {rate} % sont exigibles, soit {format_eur(penalty)} à ce jour pour {late_days} jours de "
            f"retard, ainsi que l'indemnité forfaitaire pour frais de recouvrement de "
            f"{format_eur(RECOVERY_INDEMNITY)}.")


def late_days_text(late_days: int) -> str:
    """« 12 jours » / « 1 jour » / « 0 jour » (never negative)."""
    n = max(late_days, 0)
    return f"{n} jour{'s' if n > 1 else ''}"
