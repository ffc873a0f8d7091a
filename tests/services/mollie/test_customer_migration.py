"""The migration that moved the contact's Mollie customer and mandate to one row per
contact and company (alembic c7b8b09160fb), down and up again with data, on SQLite and
PostgreSQL: no customer id is lost where the company can be told."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from alembic import command
from sqlalchemy import inspect, text

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.migrate import alembic_config
from simple_erp.models.payment import MollieCustomer
from simple_erp.models.types import utcnow
from simple_erp.services import clock, companies, contacts, documents, payments
from tests.legal_identity import SELLER

BEFORE = "e3e735081b1b"


def _methods(session) -> dict[str, int]:
    payments.save_preferences(session, True, True)
    types = {t.code: t.id for t in payments.list_payment_types(session)}
    mollie = payments.save_account(session, None, {"account_type": "mollie", "name": "Mollie", "identifier": "M1"})
    return {code: payments.save_method(session, None, {"payment_type_id": str(types[code]),
                                                       "account_id": str(mollie.id)}).id
            for code in ("carte_bancaire", "prelevement_sepa")}


def _contact(session, name: str) -> int:
    return contacts.create_contact(session, ContactInput(kind="particulier", last_name=name, first_name="Léa"),
                                   clock.today()).id


def _invoice_with_request(session, company_id: int, contact_id: int, method_id: int, sent: bool = True) -> None:
    """A finalised facture of the contact with a payment request on ``method_id``; ``sent``:
    it reached Mollie (it has a Mollie payment id)."""
    today = clock.today()
    doc = documents.create_document(session, "facture", today, company_id=company_id)
    documents.link_contact(session, doc.id, contact_id)
    line = documents.add_line(session, doc.id)
    documents.update_line(session, line.id, {"description": "Prestation", "unit_price": "20"})
    documents.finalize(session, doc.id, today)
    payment = payments.request_payment(session, doc.id, method_id, Decimal(20), None, today)
    if sent:
        payment.provider_payment_id = f"tr_{uuid.uuid4().hex[:10]}"
        session.add(payment)
        session.flush()


def _contact_ids(engine) -> dict[int, tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, mollie_customer_id, mollie_mandate_id, mollie_mandate_fingerprint "
                                 "FROM contact ORDER BY id"))
        return {row[0]: tuple(row[1:]) for row in rows}


def _rows(engine) -> set[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT contact_id, company_id, customer_id, mandate_id, mandate_fingerprint, "
                                 "key_digest FROM mollie_customer"))
        return {tuple(row) for row in rows}


def _set_on_contact(engine, contact_id: int, customer: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE contact SET mollie_customer_id = :c, mollie_mandate_id = :m, "
                          "mollie_mandate_fingerprint = :f WHERE id = :id"),
                     {"c": customer, "m": customer.replace("cst_", "mdt_"), "f": "f" * 64, "id": contact_id})


def test_down_and_up_keep_the_customers_whose_company_is_known(db_url, engine, session_factory):
    earlier, later = utcnow() - timedelta(days=1), utcnow()
    with session_factory() as session:
        first = companies.save_company(session, None, {"name": "Atelier", "vat_regime": "franchise", **SELLER}).id
        second = companies.save_company(session, None, {"name": "Boutique", "vat_regime": "franchise", **SELLER}).id
        methods = _methods(session)
        debited, never_debited, card_only, both = (_contact(session, n) for n in ("Durand", "Martin", "Petit", "Roux"))
        _invoice_with_request(session, second, debited, methods["prelevement_sepa"])
        _invoice_with_request(session, first, debited, methods["prelevement_sepa"], sent=False)  # never at Mollie
        _invoice_with_request(session, first, never_debited, methods["prelevement_sepa"], sent=False)
        _invoice_with_request(session, first, card_only, methods["carte_bancaire"])
        _invoice_with_request(session, first, both, methods["prelevement_sepa"])
        _invoice_with_request(session, second, both, methods["prelevement_sepa"])
        for company, customer, updated in ((first, "cst_first", later), (second, "cst_second", earlier)):
            session.add(MollieCustomer(contact_id=debited, company_id=company, customer_id=customer,
                                       mandate_id=customer.replace("cst_", "mdt_"), mandate_fingerprint="a" * 64,
                                       key_digest="b" * 64, updated_at=updated))
        session.add(MollieCustomer(contact_id=both, company_id=first, customer_id="", updated_at=later))
        session.add(MollieCustomer(contact_id=both, company_id=second, customer_id="cst_both", mandate_id="mdt_both",
                                   mandate_fingerprint="c" * 64, updated_at=earlier))
    engine.dispose()
    cfg = alembic_config(db_url)

    command.downgrade(cfg, BEFORE)
    # Back on the contact: its most recently used customer (the contact had one place),
    # never an empty one.
    ids = _contact_ids(engine)
    assert ids[debited] == ("cst_first", "mdt_first", "a" * 64)
    assert ids[both] == ("cst_both", "mdt_both", "c" * 64)
    assert ids[never_debited] == ids[card_only] == ("", "", "")
    _set_on_contact(engine, debited, "cst_debited")
    _set_on_contact(engine, never_debited, "cst_never")
    _set_on_contact(engine, card_only, "cst_card")
    engine.dispose()

    command.upgrade(cfg, "head")
    # Copied to each company that sent a SEPA debit on one of the contact's invoices (each
    # asks Mollie at its next debit); with two companies and none, the account cannot be
    # told: dropped (made again at the next debit).
    assert _rows(engine) == {(debited, second, "cst_debited", "mdt_debited", "f" * 64, ""),
                             (both, first, "cst_both", "mdt_both", "c" * 64, ""),
                             (both, second, "cst_both", "mdt_both", "c" * 64, "")}
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("contact")}
    assert not {"mollie_customer_id", "mollie_mandate_id", "mollie_mandate_fingerprint"} & columns


def test_with_one_company_every_customer_is_kept(db_url, engine, session_factory):
    with session_factory() as session:
        only = companies.save_company(session, None, {"name": "Atelier", "vat_regime": "franchise", **SELLER}).id
        contact = _contact(session, "Durand")
        _contact(session, "Martin")  # no Mollie customer
    engine.dispose()
    cfg = alembic_config(db_url)
    command.downgrade(cfg, BEFORE)
    _set_on_contact(engine, contact, "cst_only")
    engine.dispose()
    command.upgrade(cfg, "head")
    assert _rows(engine) == {(contact, only, "cst_only", "mdt_only", "f" * 64, "")}
