"""Audit trail of an issuing company's identity and bank details.

The IBAN of « 1. Société émettrice » is printed on every invoice and sent in the payment
information: whoever changes it redirects the customers' money. Each change of these
fields is kept (who, when, old → new; IBANs masked) and shown under the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from simple_erp.domain.contact_rules import mask_iban
from simple_erp.models.company import CompanyChange
from simple_erp.models.user import User

# Fields whose changes are kept, with their French label (the form's).
AUDITED_FIELDS: dict[str, str] = {
    "name": "Raison sociale", "legal_form": "Forme juridique", "capital": "Capital (€)",
    "siren": "SIREN", "siret": "SIRET", "rcs_city": "RCS (ville)", "vat_number": "TVA intracommunautaire",
    "vat_regime": "Régime de TVA", "address_line1": "Adresse", "address_line2": "Complément",
    "postal_code": "Code postal", "city": "Ville", "country": "Pays (code ISO)",
    "iban": "IBAN", "bic": "BIC", "ics": "Numéro d'émetteur SEPA (ICS)", "logo_filename": "Logo",
}


@dataclass(frozen=True)
class Change:
    at: datetime
    user_name: str
    label: str
    old_value: str
    new_value: str


def _shown(field: str, value: str) -> str:
    value = (value or "").strip()
    if field == "iban" and value:
        return mask_iban(value.replace(" ", ""))
    return value


def record_changes(session: Session, company_id: int, before: dict[str, str], after: dict[str, str],
                   user: User | None) -> list[str]:
    """Add one row per audited field whose value changed; the fields changed."""
    changed = []
    for field in AUDITED_FIELDS:
        old, new = _shown(field, before.get(field, "")), _shown(field, after.get(field, ""))
        if old != new:
            session.add(CompanyChange(company_id=company_id, user_id=user.id if user else None,
                                      user_name=user.full_name if user else "", field=field,
                                      old_value=old, new_value=new))
            changed.append(field)
    if changed:
        session.flush()
    return changed


def list_changes(session: Session, company_id: int, limit: int = 20) -> list[Change]:
    """The company's latest changes, newest first."""
    rows = session.exec(select(CompanyChange).where(CompanyChange.company_id == company_id)
                        .order_by(CompanyChange.at.desc(), CompanyChange.id.desc()).limit(limit))
    return [Change(at=r.at, user_name=r.user_name or "—", label=AUDITED_FIELDS.get(r.field, r.field),
                   old_value=r.old_value, new_value=r.new_value) for r in rows]
