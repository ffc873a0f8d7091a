"""Relances: reminder steps per company, reminders sent per invoice, the contact's
exclusion flag, and the « Relances » modèles (Rappel amical, Mise en demeure added; the
seeded ones completed with the online payment link when they are still as seeded).

Revision ID: b14e0a7c0001
Revises: 30a71b11cf1a
Create Date: 2026-12-04
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import simple_erp.models.types

revision: str = 'b14e0a7c0001'
down_revision: Union[str, None] = '30a71b11cf1a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_CLOSING = "Cordialement,\n{societe_nom}"
_AMIABLE_OLD = (
    "Bonjour {contact_nom},\n\n"
    "Sauf erreur de notre part, la facture {document_numero} du {document_date}, "
    "échue le {document_echeance}, n'est pas encore entièrement réglée : il reste "
    "{document_reste_du} à payer.\n\n"
    "Si votre règlement est déjà parti, merci de ne pas tenir compte de ce message.\n\n" + _CLOSING)
_AMIABLE_NEW = (
    "Bonjour {contact_nom},\n\n"
    "Sauf erreur de notre part, la facture {document_numero} du {document_date}, "
    "échue le {document_echeance}, n'est pas encore entièrement réglée : il reste "
    "{document_reste_du} à payer ({jours_retard} de retard).\n\n"
    "{paiement_en_ligne}\n\n"
    "Si votre règlement est déjà parti, merci de ne pas tenir compte de ce message.\n\n" + _CLOSING)
_SECOND_OLD = (
    "Bonjour {contact_nom},\n\n"
    "Malgré notre précédent rappel, la facture {document_numero} du {document_date}, "
    "échue le {document_echeance}, reste impayée : {document_reste_du} restent dus.\n\n"
    "Nous vous remercions de procéder à son règlement dans les meilleurs délais. "
    "Des pénalités de retard peuvent s'appliquer, ainsi que l'indemnité forfaitaire "
    "pour frais de recouvrement de 40 €.\n\n" + _CLOSING)
# The 40 € indemnity is due by business customers only: it is stated in the mise en
# demeure, for them alone ({mentions_retard}).
_SECOND_NEW = (
    "Bonjour {contact_nom},\n\n"
    "Malgré notre précédent rappel, la facture {document_numero} du {document_date}, "
    "échue le {document_echeance}, reste impayée : {document_reste_du} restent dus "
    "({jours_retard} de retard).\n\n"
    "Nous vous remercions de procéder à son règlement dans les meilleurs délais.\n\n"
    "{paiement_en_ligne}\n\n" + _CLOSING)
NEW_TEMPLATES = (
    ("Rappel amical",
     "Rappel : facture {document_numero} à régler le {document_echeance}",
     "Bonjour {contact_nom},\n\n"
     "Petit rappel amical : la facture {document_numero} du {document_date} arrive à échéance le "
     "{document_echeance}. Il reste {document_reste_du} à régler.\n\n"
     "{paiement_en_ligne}\n\n"
     "Si votre règlement est déjà parti, merci de ne pas tenir compte de ce message.\n\n" + _CLOSING),
    ("Mise en demeure",
     "Mise en demeure : facture {document_numero} impayée",
     "Bonjour {contact_nom},\n\n"
     "Malgré nos relances, la facture {document_numero} du {document_date}, échue le "
     "{document_echeance}, reste impayée après {jours_retard} de retard : {document_reste_du} "
     "restent dus.\n\n"
     "Par la présente, nous vous mettons en demeure de régler cette somme sous huit jours. "
     "À défaut, nous nous réservons le droit d'engager une procédure de recouvrement.\n\n"
     "{mentions_retard}\n\n"
     "{paiement_en_ligne}\n\n" + _CLOSING),
)
DEFAULT_STEPS = ((-3, "Rappel amical"), (7, "Relance amiable"), (15, "Seconde relance"), (30, "Mise en demeure"))

_rubrique = sa.table("email_rubrique", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("position", sa.Integer))
_template = sa.table("email_template", sa.column("id", sa.Integer), sa.column("rubrique_id", sa.Integer),
                     sa.column("name", sa.String), sa.column("subject", sa.String), sa.column("body", sa.Text),
                     sa.column("position", sa.Integer))
_company = sa.table("company", sa.column("id", sa.Integer))
_step = sa.table("reminder_step", sa.column("company_id", sa.Integer), sa.column("offset_days", sa.Integer),
                 sa.column("template_id", sa.Integer), sa.column("active", sa.Boolean))


def upgrade() -> None:
    op.create_table(
        'reminder_step',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('offset_days', sa.Integer(), nullable=False),
        sa.Column('template_id', sa.Integer(), nullable=True),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['template_id'], ['email_template.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'offset_days', name='uq_reminder_step_company_offset'),
    )
    with op.batch_alter_table('reminder_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_step_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_step_template_id'), ['template_id'], unique=False)
    op.create_table(
        'reminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('step_id', sa.Integer(), nullable=True),
        sa.Column('offset_days', sa.Integer(), nullable=True),
        sa.Column('email_message_id', sa.Integer(), nullable=True),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.Column('days_late', sa.Integer(), nullable=False),
        sa.Column('created_at', simple_erp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['step_id'], ['reminder_step.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['email_message_id'], ['email_message.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('document_id', 'step_id', name='uq_reminder_document_step'),
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_step_id'), ['step_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_email_message_id'), ['email_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_created_by_id'), ['created_by_id'], unique=False)
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_excluded', sa.Boolean(), server_default=sa.false(), nullable=False))
    _templates_and_steps()


def _templates_and_steps() -> None:
    bind = op.get_bind()
    rubrique_id = bind.execute(sa.select(_rubrique.c.id).where(_rubrique.c.name == "Relances")).scalar()
    if rubrique_id is None:
        position = bind.execute(sa.select(sa.func.max(_rubrique.c.position))).scalar() or 0
        op.execute(_rubrique.insert().values(name="Relances", position=position + 1))
        rubrique_id = bind.execute(sa.select(_rubrique.c.id).where(_rubrique.c.name == "Relances")).scalar()
    for name, old, new in (("Relance amiable", _AMIABLE_OLD, _AMIABLE_NEW), ("Seconde relance", _SECOND_OLD, _SECOND_NEW)):
        op.execute(_template.update().where(_template.c.rubrique_id == rubrique_id, _template.c.name == name,
                                            _template.c.body == old).values(body=new))
    last = bind.execute(sa.select(sa.func.max(_template.c.position))
                        .where(_template.c.rubrique_id == rubrique_id)).scalar() or 0
    for name, subject, body in NEW_TEMPLATES:
        exists = bind.execute(sa.select(_template.c.id).where(_template.c.rubrique_id == rubrique_id,
                                                              _template.c.name == name)).scalar()
        if exists is None:
            last += 1
            op.execute(_template.insert().values(rubrique_id=rubrique_id, name=name, subject=subject,
                                                 body=body, position=last))
    # Rappel amical before Relance amiable: the order of the schedule.
    names = {name: bind.execute(sa.select(_template.c.id).where(_template.c.rubrique_id == rubrique_id,
                                                                _template.c.name == name)).scalar()
             for _offset, name in DEFAULT_STEPS}
    for company_id in bind.execute(sa.select(_company.c.id)).scalars().all():
        for offset, name in DEFAULT_STEPS:
            op.execute(_step.insert().values(company_id=company_id, offset_days=offset,
                                             template_id=names.get(name), active=True))


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('reminders_excluded')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_email_message_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_step_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_document_id'))
    op.drop_table('reminder')
    with op.batch_alter_table('reminder_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_step_template_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_step_company_id'))
    op.drop_table('reminder_step')
    bind = op.get_bind()
    rubrique_id = bind.execute(sa.select(_rubrique.c.id).where(_rubrique.c.name == "Relances")).scalar()
    if rubrique_id is not None:
        for name, old, new in (("Relance amiable", _AMIABLE_OLD, _AMIABLE_NEW),
                               ("Seconde relance", _SECOND_OLD, _SECOND_NEW)):
            op.execute(_template.update().where(_template.c.rubrique_id == rubrique_id, _template.c.name == name,
                                                _template.c.body == new).values(body=old))
        for name, _subject, body in NEW_TEMPLATES:
            op.execute(_template.delete().where(_template.c.rubrique_id == rubrique_id, _template.c.name == name,
                                                _template.c.body == body))
