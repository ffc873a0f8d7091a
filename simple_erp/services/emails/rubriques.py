"""E-mail: rubriques and modèles d'email (Admin CRM → 14. Modèles d'email). Part of
``services.emails`` (use it from there).
"""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlmodel import Session, select

from simple_erp.domain.email_templates import check_template
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.models.email import (
    EmailRubrique,
    EmailTemplate,
)
from simple_erp.services.emails.settings import BODY_MAX, NAME_MAX, RUBRIQUE_MAX, SUBJECT_MAX

log = logging.getLogger(__name__)


# --- rubriques and modèles ---------------------------------------------------------------------


def list_rubriques(session: Session) -> list[EmailRubrique]:
    return list(session.exec(select(EmailRubrique).order_by(EmailRubrique.position, EmailRubrique.id)))


def get_rubrique(session: Session, rubrique_id: int) -> EmailRubrique:
    rubrique = session.get(EmailRubrique, rubrique_id) if rubrique_id else None
    if rubrique is None:
        raise DomainError("Cette rubrique n'existe pas.", field="rubrique_id")
    return rubrique


def save_rubrique(session: Session, rubrique_id: int | None, name: str) -> EmailRubrique:
    name = (name or "").strip()
    if not name:
        raise ValidationErrors({"name": "Le nom de la rubrique est obligatoire."})
    if len(name) > RUBRIQUE_MAX:
        raise ValidationErrors({"name": f"Nom de rubrique trop long : {RUBRIQUE_MAX} caractères au plus."})
    query = select(EmailRubrique.id).where(func.lower(EmailRubrique.name) == name.lower())
    if rubrique_id:
        query = query.where(EmailRubrique.id != rubrique_id)
    if session.exec(query).first() is not None:
        raise ValidationErrors({"name": f"La rubrique « {name} » existe déjà."})
    if rubrique_id:
        rubrique = get_rubrique(session, rubrique_id)
    else:
        last = session.exec(select(func.max(EmailRubrique.position))).one()
        rubrique = EmailRubrique(position=(last or 0) + 1)
    rubrique.name = name
    session.add(rubrique)
    session.flush()
    return rubrique


def delete_rubrique(session: Session, rubrique_id: int) -> None:
    rubrique = get_rubrique(session, rubrique_id)
    if list_templates(session, rubrique_id):
        raise DomainError("Cette rubrique contient des modèles : supprimez-les d'abord.")
    session.delete(rubrique)
    session.flush()


def list_templates(session: Session, rubrique_id: int) -> list[EmailTemplate]:
    query = select(EmailTemplate).where(EmailTemplate.rubrique_id == rubrique_id)
    return list(session.exec(query.order_by(EmailTemplate.position, EmailTemplate.id)))


def get_template(session: Session, template_id: int) -> EmailTemplate:
    template = session.get(EmailTemplate, template_id) if template_id else None
    if template is None:
        raise DomainError("Ce modèle d'email n'existe pas.", field="template_id")
    return template


def template_form(template: EmailTemplate | None = None, rubrique_id: int | None = None) -> dict[str, str]:
    """The form of save_template: a modèle's values, or an empty one in ``rubrique_id``."""
    if template is None:
        return {"rubrique_id": str(rubrique_id or ""), "name": "", "subject": "", "body": ""}
    return {"rubrique_id": str(template.rubrique_id), "name": template.name,
            "subject": template.subject, "body": template.body}


def subject_problem(subject: str) -> str | None:
    if not subject.strip():
        return "Le sujet est obligatoire."
    if "\n" in subject or "\r" in subject:
        return "Le sujet tient sur une seule ligne."
    if len(subject) > SUBJECT_MAX:
        return f"Sujet trop long : {SUBJECT_MAX} caractères au plus."
    return None


def body_problem(body: str) -> str | None:
    if not body.strip():
        return "Le texte de l'email est obligatoire."
    if len(body) > BODY_MAX:
        return f"Texte trop long : {BODY_MAX} caractères au plus."
    return None


def save_template(session: Session, template_id: int | None, form: dict[str, str]) -> EmailTemplate:
    """Create or update a modèle (form keys: rubrique_id, name, subject, body); an unknown
    {placeholder} is refused (``ValidationErrors`` on "subject" / "body")."""
    errors: dict[str, str] = {}
    raw_rubrique = str(form.get("rubrique_id") or "").strip()
    rubrique_id = int(raw_rubrique) if raw_rubrique.isdigit() else None
    if rubrique_id is None or session.get(EmailRubrique, rubrique_id) is None:
        errors["rubrique_id"] = "Choisissez une rubrique."
    name = (form.get("name") or "").strip()
    subject = (form.get("subject") or "").strip()
    body = (form.get("body") or "").replace("\r\n", "\n").strip("\n")
    if not name:
        errors["name"] = "Le nom du modèle est obligatoire."
    elif len(name) > NAME_MAX:
        errors["name"] = f"Nom trop long : {NAME_MAX} caractères au plus."
    elif rubrique_id is not None:
        query = select(EmailTemplate.id).where(EmailTemplate.rubrique_id == rubrique_id,
                                               func.lower(EmailTemplate.name) == name.lower())
        if template_id:
            query = query.where(EmailTemplate.id != template_id)
        if session.exec(query).first() is not None:
            errors["name"] = f"Un modèle « {name} » existe déjà dans cette rubrique."
    for field, problem in (("subject", subject_problem(subject)), ("body", body_problem(body))):
        if problem:
            errors[field] = problem
    try:
        check_template(subject, body)
    except ValidationErrors as exc:
        for field, message in exc.errors.items():
            errors.setdefault(field, message)
    if errors:
        raise ValidationErrors(errors)
    if template_id:
        template = get_template(session, template_id)
        if template.rubrique_id != rubrique_id:
            template.position = _next_template_position(session, rubrique_id)
    else:
        template = EmailTemplate(rubrique_id=rubrique_id, position=_next_template_position(session, rubrique_id))
    template.rubrique_id, template.name, template.subject, template.body = rubrique_id, name, subject, body
    session.add(template)
    session.flush()
    return template


def _next_template_position(session: Session, rubrique_id: int) -> int:
    last = session.exec(select(func.max(EmailTemplate.position)).where(EmailTemplate.rubrique_id == rubrique_id)).one()
    return (last or 0) + 1


def delete_template(session: Session, template_id: int) -> None:
    session.delete(get_template(session, template_id))
    session.flush()
