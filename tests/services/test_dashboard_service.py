"""Tableau de bord figures on SQLite and PostgreSQL, against hand-computed cases: partial
payments, a pending request (not counted), avoirs (partial and full), every age bucket and
its boundaries, month boundaries of the 12 months, two companies whose figures never mix."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.services import companies, contacts, dashboard, documents, payments
from tests.legal_identity import BUSINESS_BUYER, SELLER

TODAY = date(2026, 11, 28)  # the 12 months: December 2025 to November 2026
D = Decimal


def _invoice(session_factory, company_id: int, issue: date, price: str, terms="a_reception", final=True) -> int:
    """A facture of a franchise company (TTC = price), due on its issue date by default."""
    with session_factory() as session:
        doc = documents.create_document(session, "facture", issue, company_id=company_id)
        documents.update_header(session, doc.id, {"payment_terms": terms})
        contact = contacts.create_contact(session, ContactInput(kind="entreprise", company_name=f"Client {price}", **BUSINESS_BUYER), TODAY)
        documents.link_contact(session, doc.id, contact.id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": price})
        if final:
            documents.finalize(session, doc.id, issue)
        return doc.id


def _avoir(session_factory, invoice_id: int, issue: date, price: str) -> int:
    with session_factory() as session:
        avoir = documents.create_credit_note(session, invoice_id, issue)
        line = documents.document_lines(session, avoir.id)[0]
        documents.update_line(session, line.id, {"unit_price": price})
        documents.finalize(session, avoir.id, issue)
        return avoir.id


def _pay(session_factory, method_id: int, doc_id: int, amount: str, received_on: date | None) -> int:
    with session_factory() as session:
        payment = payments.request_payment(session, doc_id, method_id, D(amount), None, TODAY)
        if received_on is not None:
            payments.record_reception(session, payment.id, received_on, TODAY)
        return payment.id


def _company(session_factory, name: str) -> int:
    with session_factory() as session:
        return companies.save_company(session, None, {"name": name, "vat_regime": "franchise", **SELLER}).id


@pytest.fixture
def cheque(session_factory) -> int:
    """Simple Paiement on, a bank account with a "Chèque" moyen."""
    with session_factory() as session:
        payments.save_preferences(session, True, False)
        account = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque",
                                                        "identifier": "B"})
        code = next(t.id for t in payments.list_payment_types(session) if t.code == "cheque")
        return payments.save_method(session, None, {"payment_type_id": str(code), "account_id": str(account.id)}).id


def _company_a(session_factory, cheque: int) -> dict[str, int]:
    """The hand-computed case (days late as of 28/11/2026, due date = issue date unless said)."""
    a = _company(session_factory, "Atelier A")
    ids = {"company": a}
    ids["fa"] = _invoice(session_factory, a, date(2025, 6, 10), "500")  # 536 days late: > 90
    ids["fb"] = _invoice(session_factory, a, date(2025, 11, 1), "90")
    _pay(session_factory, cheque, ids["fb"], "90", date(2025, 11, 30))  # paid before the 12 months
    ids["fc"] = _invoice(session_factory, a, date(2025, 11, 20), "250")
    _pay(session_factory, cheque, ids["fc"], "250", date(2025, 12, 1))  # paid on their first day: 11 days
    ids["fd"] = _invoice(session_factory, a, date(2026, 8, 29), "400")  # 91 days: > 90
    _pay(session_factory, cheque, ids["fd"], "150", date(2026, 9, 5))  # 250 left
    ids["fe"] = _invoice(session_factory, a, date(2026, 8, 30), "300")  # 90 days: 61–90
    _pay(session_factory, cheque, ids["fe"], "30", None)  # requested, not received: counts for nothing
    ids["ff"] = _invoice(session_factory, a, date(2026, 9, 29), "200")  # 60 days: 31–60, avoir of 50
    ids["fg"] = _invoice(session_factory, a, date(2026, 10, 28), "100")  # 31 days: 31–60
    ids["fh"] = _invoice(session_factory, a, date(2026, 10, 29), "80")  # 30 days: 1–30
    ids["fi"] = _invoice(session_factory, a, date(2026, 10, 30), "70")  # cancelled by a full avoir
    ids["fj"] = _invoice(session_factory, a, date(2026, 11, 27), "60")  # 1 day: 1–30
    _pay(session_factory, cheque, ids["fj"], "20", TODAY)  # 40 left
    ids["fk"] = _invoice(session_factory, a, TODAY, "1000")
    _pay(session_factory, cheque, ids["fk"], "1000", TODAY)  # paid the day it was issued: 0 days
    ids["fl"] = _invoice(session_factory, a, TODAY, "700", terms="30_jours_net")  # due 28/12: non échu
    _invoice(session_factory, a, TODAY, "999", final=False)  # a draft: not an invoice yet
    _avoir(session_factory, ids["ff"], date(2026, 11, 10), "50")
    _avoir(session_factory, ids["fi"], date(2026, 11, 10), "70")
    return ids


def _figures(session_factory, company_id: int) -> dashboard.Dashboard:
    with session_factory() as session:
        return dashboard.dashboard(session, company_id, TODAY)


def _by_month(board: dashboard.Dashboard, attribute: str) -> dict[str, Decimal]:
    return {m.month.isoformat()[:7]: getattr(m, attribute) for m in board.months if getattr(m, attribute)}


def test_hand_computed_company(session_factory, cheque):
    ids = _company_a(session_factory, cheque)
    board = _figures(session_factory, ids["company"])

    assert board.has_invoices
    assert [(b.key, b.count, b.amount) for b in board.ages] == [
        ("non_echu", 1, D("700.00")),  # fl
        ("1_30", 2, D("120.00")),  # fh 80 + fj 40
        ("31_60", 2, D("250.00")),  # ff 200 − 50 + fg 100
        ("61_90", 1, D("300.00")),  # fe (the pending 30 is not received)
        ("plus_90", 2, D("750.00")),  # fa 500 + fd 250
    ]
    assert (board.receivable, board.receivable_count) == (D("2120.00"), 8)
    assert (board.late, board.late_count) == (D("1420.00"), 7)
    assert [(r.document_id, r.amount_due, r.days_late) for r in board.oldest_late] == [
        (ids["fa"], D("500.00"), 536), (ids["fd"], D("250.00"), 91), (ids["fe"], D("300.00"), 90),
        (ids["ff"], D("150.00"), 60), (ids["fg"], D("100.00"), 31), (ids["fh"], D("80.00"), 30),
        (ids["fj"], D("40.00"), 1),
    ]
    first = board.oldest_late[0]
    assert first.number.startswith("F-2025-") and first.contact_name == "Client 500"
    assert first.due_date == date(2025, 6, 10)

    assert [m.label for m in board.months][:2] == ["déc. 2025", "janv. 2026"]
    assert board.months[-1].label == "nov. 2026" and len(board.months) == 12
    assert _by_month(board, "invoiced") == {
        "2026-08": D("700.00"), "2026-09": D("200.00"), "2026-10": D("250.00"),
        "2026-11": D("1640.00"),  # fj 60 + fk 1000 + fl 700 − avoirs 50 and 70
    }
    assert _by_month(board, "collected") == {"2025-12": D("250.00"), "2026-09": D("150.00"), "2026-11": D("1020.00")}
    assert board.collected_this_month == D("1020.00")
    # fc (11 days) and fk (0 days): fb was paid before the 12 months, fd is not fully paid.
    assert board.payment_delay == dashboard.PaymentDelay(invoices=2, total_days=11)
    assert board.payment_delay.average_days == 6  # 5.5 rounded half up


def test_payment_delay_counts_the_most_recent_payments_only(session_factory, cheque, monkeypatch):
    ids = _company_a(session_factory, cheque)
    monkeypatch.setattr(dashboard, "DELAY_SAMPLE", 1)
    with session_factory() as session:
        delay = dashboard.payment_delay(session, ids["company"], TODAY)
    assert delay == dashboard.PaymentDelay(invoices=1, total_days=0, limited=True)  # fk only, paid the same day


def test_two_companies_never_mix(session_factory, cheque):
    ids = _company_a(session_factory, cheque)
    b = _company(session_factory, "Boutique B")
    invoice = _invoice(session_factory, b, date(2026, 10, 1), "5000")  # 58 days late
    _pay(session_factory, cheque, invoice, "1000", date(2026, 11, 15))

    board_b = _figures(session_factory, b)
    assert [(x.key, x.count, x.amount) for x in board_b.ages if x.count] == [("31_60", 1, D("4000.00"))]
    assert (board_b.receivable, board_b.late, board_b.late_count) == (D("4000.00"), D("4000.00"), 1)
    assert _by_month(board_b, "invoiced") == {"2026-10": D("5000.00")}
    assert _by_month(board_b, "collected") == {"2026-11": D("1000.00")}
    assert board_b.payment_delay.average_days is None
    assert [r.document_id for r in board_b.oldest_late] == [invoice]

    board_a = _figures(session_factory, ids["company"])  # as when it was alone
    assert (board_a.receivable, board_a.late, board_a.late_count) == (D("2120.00"), D("1420.00"), 7)
    assert board_a.collected_this_month == D("1020.00")
    assert board_a.payment_delay == dashboard.PaymentDelay(invoices=2, total_days=11)


def test_refunds_count_for_what_was_kept_and_only_ten_late_invoices(session_factory, cheque):
    from datetime import datetime, timezone

    from simple_erp.domain.payment_rules import PaymentStatus

    a = _company(session_factory, "Atelier A")
    late = [_invoice(session_factory, a, date(2026, 1, day), "10") for day in range(1, 13)]
    paid = _invoice(session_factory, a, date(2026, 11, 2), "100")
    payment = _pay(session_factory, cheque, paid, "100", date(2026, 11, 3))
    with session_factory() as session:
        payments.apply_status(session, payment, PaymentStatus.PARTIALLY_REFUNDED,
                              datetime(2026, 11, 20, tzinfo=timezone.utc), payments.SOURCE_USER,
                              amount_refunded=D("40"))
    board = _figures(session_factory, a)
    assert board.collected_this_month == D("60.00")  # 100 received, 40 refunded
    assert (board.receivable, board.receivable_count) == (D("160.00"), 13)  # 12 × 10 + 40 due again
    assert [r.document_id for r in board.oldest_late] == late[:10]
    assert board.payment_delay.average_days is None  # no longer fully paid


def test_nothing_yet(session_factory):
    a = _company(session_factory, "Atelier A")
    _invoice(session_factory, a, TODAY, "50", final=False)
    board = _figures(session_factory, a)
    assert not board.has_invoices
    assert (board.receivable, board.late, board.collected_this_month) == (D("0.00"), D("0.00"), D("0.00"))
    assert board.oldest_late == [] and all(not m.invoiced and not m.collected for m in board.months)


def test_sqlite_reads_the_partial_indexes(session_factory, db_url):
    """SQLite uses a partial index only when the query repeats its predicate with the same
    constants (literals, not bound parameters): the open invoices and counted payments."""
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's planner rule")
    from sqlalchemy import text

    statements = []

    class Recorder:
        def __init__(self, session):
            self.session = session

        def execute(self, statement, *args, **kwargs):
            statements.append(statement)
            return self.session.execute(statement, *args, **kwargs)

        def get_bind(self):
            return self.session.get_bind()

    with session_factory() as session:
        dashboard.oldest_late_invoices(Recorder(session), 1, TODAY)
        dashboard.monthly_collected(Recorder(session), 1, TODAY)
        plans = []
        for statement in statements:
            sql = str(statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
            plans.append(" ".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql))))
    assert "ix_document_open_invoices" in plans[0]
    # The counted payments: their partial index, or (SQLite without statistics may prefer
    # it) the Encaissements' (status, received_on) index; never a scan of every payment.
    assert "ix_payment_received_counted" in plans[-1] or "ix_payment_status_collections" in plans[-1]
    assert "SCAN payment" not in plans[-1]
