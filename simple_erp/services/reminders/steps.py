"""Relances: each company's reminder steps (J-3, J+7, J+15, J+30 by default), with their
modèle d'email and on/off, as the « Relances » page edits them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from simple_erp.domain import reminders as rules
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.company import Company
from simple_erp.models.contact import Contact
from simple_erp.models.email import EmailRubrique, EmailTemplate
from simple_erp.models.reminder import ReminderStep
from simple_erp.services import changes

TOPIC = "reminders"


@dataclass(frozen=True)
class StepRow:
    id: int
    company_id: int
    offset_days: int
    label: str  # « J-3 »
    template_id: int | None
    template_name: str  # "" when its modèle was deleted
    active: bool


def relances_rubrique_id(session: Session) -> int | None:
    return session.exec(select(EmailRubrique.id).where(EmailRubrique.name == rules.RUBRIQUE)).first()


def _default_template_ids(session: Session) -> dict[str, int]:
    rubrique_id = relances_rubrique_id(session)
    if rubrique_id is None:
        return {}
    rows = session.exec(select(EmailTemplate.name, EmailTemplate.id).where(EmailTemplate.rubrique_id == rubrique_id))
    return {name: template_id for name, template_id in rows}


def ensure_steps(session: Session, company_id: int) -> None:
    """A company without steps gets the default schedule (in a savepoint: two workers
    doing it at once leave one schedule)."""
    if session.exec(select(ReminderStep.id).where(ReminderStep.company_id == company_id)).first() is not None:
        return
    templates = _default_template_ids(session)
    try:
        with session.begin_nested():
            for default in rules.DEFAULT_STEPS:
                session.add(ReminderStep(company_id=company_id, offset_days=default.offset_days,
                                         template_id=templates.get(default.template_name), active=True))
            session.flush()
    except IntegrityError:
        pass  # another worker made them


def list_steps(session: Session, company_id: int) -> list[StepRow]:
    """The company's steps by offset (the default schedule is made on first need)."""
    if session.get(Company, company_id) is None:
        raise DomainError("Cette société n'existe pas.")
    ensure_steps(session, company_id)
    query = (select(ReminderStep, EmailTemplate.name)
             .join(EmailTemplate, EmailTemplate.id == ReminderStep.template_id, isouter=True)
             .where(ReminderStep.company_id == company_id)
             .order_by(ReminderStep.offset_days, ReminderStep.id))
    return [StepRow(id=step.id, company_id=step.company_id, offset_days=step.offset_days,
                    label=rules.step_label(step.offset_days), template_id=step.template_id,
                    template_name=name or "", active=step.active)
            for step, name in session.exec(query)]


def template_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the modèles a step can use: the « Relances » ones first, then the others."""
    rubrique_id = relances_rubrique_id(session)
    query = (select(EmailTemplate.id, EmailTemplate.name, EmailRubrique.name, EmailTemplate.rubrique_id)
             .join(EmailRubrique, EmailRubrique.id == EmailTemplate.rubrique_id)
             .order_by(EmailRubrique.position, EmailTemplate.position, EmailTemplate.id))
    rows = list(session.exec(query))
    mine = [(tid, name) for tid, name, _r, rid in rows if rid == rubrique_id]
    others = [(tid, f"{rubrique} — {name}") for tid, name, rubrique, rid in rows if rid != rubrique_id]
    return mine + others


def save_step(session: Session, step_id: int, offset_days: str | int, template_id: str | int | None,
              active: bool) -> StepRow:
    """Change a step: its offset (days from the due date, unique in the company), its
    modèle and on/off. Raises ``ValidationErrors`` and changes nothing on bad input."""
    step = session.get(ReminderStep, step_id) if step_id else None
    if step is None:
        raise DomainError("Cette étape de relance n'existe pas.")
    others = session.exec(select(ReminderStep.offset_days).where(ReminderStep.company_id == step.company_id,
                                                                 ReminderStep.id != step.id)).all()
    offset = rules.check_step(offset_days, others)
    raw = str(template_id or "").strip()
    if not raw.isdigit() or session.get(EmailTemplate, int(raw)) is None:
        raise ValidationErrors({"template_id": "Choisissez le modèle d'email de cette étape."})
    step.offset_days, step.template_id, step.active = offset, int(raw), bool(active)
    session.add(step)
    session.flush()
    changes.touch(session, TOPIC)
    return next(row for row in list_steps(session, step.company_id) if row.id == step.id)


def contact_excluded(session: Session, contact_id: int) -> bool:
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact is None:
        raise DomainError("Ce contact n'existe pas.")
    return bool(contact.reminders_excluded)


def set_contact_excluded(session: Session, contact_id: int, excluded: bool) -> bool:
    """« Exclure des relances » on the fiche contact: no reminder, automatic or by hand,
    for the invoices linked to this contact. Returns the new value."""
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact is None:
        raise DomainError("Ce contact n'existe pas.")
    contact.reminders_excluded = bool(excluded)
    session.add(contact)
    session.flush()
    changes.touch(session, TOPIC, f"contact:{contact_id}")
    return contact.reminders_excluded
