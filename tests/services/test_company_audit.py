"""The audit trail of an issuing company's identity and bank details (SQLite and
PostgreSQL): who changed which field, from what to what; IBANs masked; nothing for
fields that did not change, nor for a creation."""

from __future__ import annotations

from simple_erp.services import auth, companies, company_audit

IBAN = "FR76 3000 6000 0112 3456 7890 189"
OTHER_IBAN = "FR14 2004 1010 0505 0001 3M02 606"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_changes_are_kept_with_who_and_masked_ibans(session_factory):
    with session_factory() as session:
        admin = auth.create_user(session, "alice@atelier.fr", "Alice Martin", "Velours-Cerise-1987", is_admin=True)
        company = companies.save_company(session, None, {"name": "Atelier", "vat_regime": "normal", "iban": IBAN, "bic": "AGRIFRPP"},
                                         changed_by=admin)
        company_id = company.id
        assert company_audit.list_changes(session, company_id) == []  # a creation is not a change
        companies.save_company(session, company_id, {"iban": OTHER_IBAN, "bic": "CCBPFRPPLYO", "city": "Lyon", "phone": "01 02 03 04 05"},
                               changed_by=admin)
        companies.save_company(session, company_id, {"iban": OTHER_IBAN, "bic": "CCBPFRPPLYO", "city": "Lyon"}, changed_by=admin)  # same
        companies.set_logo(session, company_id, "logo.png", PNG, changed_by=admin)
    with session_factory() as session:
        changes = company_audit.list_changes(session, company_id)
    by_label = {c.label: c for c in changes}
    assert set(by_label) == {"IBAN", "BIC", "Ville", "Logo"}  # the phone is not audited; the second save changed nothing
    iban = by_label["IBAN"]
    assert iban.user_name == "Alice Martin"
    assert iban.old_value.endswith("0189") and iban.new_value.endswith("2606")
    assert "3456" not in iban.old_value and "0505" not in iban.new_value  # masked
    assert (by_label["Ville"].old_value, by_label["Ville"].new_value) == ("", "Lyon")
    assert by_label["Logo"].new_value == "logo.png"
    assert changes[0].label == "Logo"  # newest first


def test_a_change_outlives_its_author(session_factory):
    from sqlmodel import delete

    from simple_erp.models import User

    with session_factory() as session:
        admin = auth.create_user(session, "paul@atelier.fr", "Paul Martin", "Velours-Cerise-1987", is_admin=True)
        company_id = companies.save_company(session, None, {"name": "Atelier", "vat_regime": "normal"}).id
        companies.save_company(session, company_id, {"city": "Nantes"}, changed_by=admin)
    with session_factory() as session:
        session.exec(delete(User))  # an empty installation again, as the e2e welcome test makes
    with session_factory() as session:
        (change,) = company_audit.list_changes(session, company_id)
    assert (change.label, change.user_name, change.new_value) == ("Ville", "Paul Martin", "Nantes")
