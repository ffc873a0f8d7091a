"""Relances: the rules of the reminder schedule (domain.reminders)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from simple_erp.domain import reminders as rules
from simple_erp.domain.errors import ValidationErrors

DUE = date(2026, 11, 1)
STEPS = [rules.Step(1, -3), rules.Step(2, 7), rules.Step(3, 15), rules.Step(4, 30)]


def on(day_offset: int) -> date:
    return date.fromordinal(DUE.toordinal() + day_offset)


def test_labels_and_days_late():
    assert [rules.step_label(o) for o in (-3, 0, 7, 30)] == ["J-3", "J", "J+7", "J+30"]
    assert rules.days_late(DUE, on(12)) == 12 and rules.days_late(DUE, on(-3)) == -3
    assert rules.late_days_text(1) == "1 jour" and rules.late_days_text(12) == "12 jours"
    assert rules.late_days_text(-2) == "0 jour"


@pytest.mark.parametrize("offset, sent, expected", [
    (-4, [], None),  # before J-3: nothing
    (-3, [], 1),  # the rappel amical on its day
    (0, [-3], None),  # J-3 sent, J+7 not yet
    (7, [-3], 2),
    (8, [-3, 7], None),  # each step once
    (20, [-3], 3),  # J+7 missed (scheduler off): only the latest due, J+15
    (20, [-3, 15], None),  # and J+7 is never sent after J+15
    (45, [], 4),  # the mise en demeure only, not four e-mails at once
    (100, [-3, 7, 15, 30], None),
])
def test_step_to_send(offset, sent, expected):
    step = rules.step_to_send(STEPS, DUE, on(offset), sent)
    assert (step.id if step else None) == expected


def test_inactive_steps_and_no_due_date():
    steps = [rules.Step(1, -3, active=False), rules.Step(2, 7), rules.Step(3, 15, active=False)]
    assert rules.step_to_send(steps, DUE, on(-1), []) is None
    assert rules.step_to_send(steps, DUE, on(20), []).id == 2
    assert rules.step_to_send(steps, DUE, on(20), [7]) is None
    assert rules.step_to_send(STEPS, None, on(20), []) is None


def test_manual_step_sends_the_due_one_else_the_next_else_outside_the_schedule():
    assert rules.manual_step(STEPS, DUE, on(9), [-3]).id == 2  # J+7 due now
    assert rules.manual_step(STEPS, DUE, on(9), [-3, 7]).id == 3  # next: J+15, by hand, early
    assert rules.manual_step(STEPS, DUE, on(-10), []).id == 1  # before everything: the rappel amical
    assert rules.manual_step(STEPS, DUE, on(40), [-3, 7, 15, 30]) is None  # all sent: outside the schedule


def test_next_step_and_its_day():
    step, day = rules.next_step(STEPS, DUE, on(1), [-3])
    assert (step.id, day) == (2, on(7))
    step, day = rules.next_step(STEPS, DUE, on(9), [-3])
    assert (step.id, day) == (2, on(9))  # due today
    assert rules.next_step(STEPS, DUE, on(31), [-3, 7, 15, 30]) is None


def test_check_step_refuses_bad_offsets_in_french():
    assert rules.check_step(" 10 ", [7, 15]) == 10
    assert rules.check_step("J+10", []) == 10 and rules.check_step("-3", []) == -3
    for bad, words in (("abc", "nombre entier"), ("1,5", "nombre entier"), ("400", "entre -60 et 365"),
                       ("-61", "entre -60 et 365"), ("7", "déjà à J+7")):
        with pytest.raises(ValidationErrors) as info:
            rules.check_step(bad, [7])
        assert words in info.value.errors["offset_days"]


def test_penalties_and_indemnity_for_business_customers_only():
    # 1 000 € × 12,15 % × 30 / 365 = 9,986… → 9,99 €
    assert rules.late_penalty(Decimal("1000.00"), Decimal("12.15"), 30) == Decimal("9.99")
    assert rules.late_penalty(Decimal("1000.00"), Decimal("12.15"), 0) == Decimal("0.00")
    # half-up at the cent: 365 € × 10 % × 5 / 365 = 0,50 exactly; 1 € × 10 % × 365 / 365 = 0,10
    assert rules.late_penalty(Decimal("365"), Decimal("10"), 5) == Decimal("0.50")
    text = rules.late_mentions("entreprise", Decimal("1000.00"), Decimal("12.15"), 30)
    assert "12,15 %" in text and "9,99\u00a0€" in text and "40,00\u00a0€" in text and "30 jours" in text
    assert "L441-10" in text
    assert rules.late_mentions("particulier", Decimal("1000.00"), Decimal("12.15"), 30) == ""
    assert rules.late_mentions("entreprise", Decimal("1000.00"), Decimal("12.15"), -2) == ""


def test_default_schedule():
    assert [(s.offset_days, s.template_name) for s in rules.DEFAULT_STEPS] == [
        (-3, "Rappel amical"), (7, "Relance amiable"), (15, "Seconde relance"), (30, "Mise en demeure")]
    assert [s.formal_notice for s in rules.DEFAULT_STEPS] == [False, False, False, True]


def test_scheduler_interval_from_the_environment(monkeypatch):
    from simple_erp.services.reminders import ENV_INTERVAL, interval_seconds

    monkeypatch.delenv(ENV_INTERVAL, raising=False)
    assert interval_seconds() == 900.0
    for raw, expected in (("2", 2.0), (" 0.5 ", 0.5), ("0", 0.0), ("-4", 0.0), ("abc", 900.0)):
        monkeypatch.setenv(ENV_INTERVAL, raw)
        assert interval_seconds() == expected
