"""Simple Paiement: preferences, accounts, payment types and methods, payment requests and
receptions, status changes and their audit trail, the invoice payment block, concurrency
(no overpayment by two members of staff at once) and Encaissements — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import update

from simple_erp import crypto
from simple_erp.domain.contact_rules import ContactInput
from simple_erp.domain.errors import DomainError, ValidationErrors
from simple_erp.domain.payment_rules import InvoicePaymentStatus, OverpaymentError, PaymentStatus, TransitionError
from simple_erp.models.payment import Payment
from simple_erp.services import companies, contacts, documents, payments
from tests.legal_identity import SELLER

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
S = PaymentStatus
D = Decimal


# --- helpers ---------------------------------------------------------------------------------


def make_invoice(session_factory, price="100", issue=TODAY, kind="facture", final=True, last_name="Durand") -> int:
    """A facture (franchise en base: total TTC = price) with one contact, finalised."""
    with session_factory() as session:
        doc = documents.create_document(session, kind, issue)
        contact = contacts.create_contact(
            session, ContactInput(kind="particulier", last_name=last_name, first_name="Léa"), TODAY
        )
        documents.link_contact(session, doc.id, contact.id)
        line = documents.add_line(session, doc.id)
        documents.update_line(session, line.id, {"description": "Prestation", "unit_price": price})
        if final:
            documents.finalize(session, doc.id, issue)
        return doc.id


def make_account(session_factory, name="Banque Populaire", account_type="compte_bancaire", **form) -> int:
    with session_factory() as session:
        return payments.save_account(session, None, {"account_type": account_type, "name": name,
                                                     "identifier": f"ID-{name}"} | form).id


def type_id(session_factory, code: str) -> int:
    with session_factory() as session:
        return next(t.id for t in payments.list_payment_types(session) if t.code == code)


def make_method(session_factory, account_id: int, code="cheque", active="1") -> int:
    with session_factory() as session:
        return payments.save_method(session, None, {"payment_type_id": str(type_id(session_factory, code)),
                                                    "account_id": str(account_id), "active": active}).id


@pytest.fixture
def setup(session_factory):
    """Simple Paiement on, a franchise company, a bank account with "Chèque" and "Virement"."""
    with session_factory() as session:
        companies.save_company(session, None, {"name": "Atelier Martin", "vat_regime": "franchise", **SELLER})
        payments.save_preferences(session, True, False)
    account_id = make_account(session_factory)
    return {
        "account": account_id,
        "cheque": make_method(session_factory, account_id, "cheque"),
        "virement": make_method(session_factory, account_id, "virement"),
    }


def request(session_factory, doc_id, method_id, amount, allow_overpay=False, today=TODAY) -> Payment:
    with session_factory() as session:
        return payments.request_payment(session, doc_id, method_id, D(amount), None, today, allow_overpay)


def receive(session_factory, payment_id, on=TODAY, today=TODAY, **kwargs) -> Payment:
    with session_factory() as session:
        return payments.record_reception(session, payment_id, on, today, **kwargs)


def block(session_factory, doc_id, today=TODAY) -> payments.PaymentBlock:
    with session_factory() as session:
        return payments.payment_block(session, doc_id, today)


def stored_received(session_factory, doc_id) -> Decimal:
    with session_factory() as session:
        return documents.get_document(session, doc_id).amount_received


def run_together(*calls):
    """Run each call in its own thread, released at the same moment; (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def worker(call):
        barrier.wait()
        try:
            results.append(call())
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


# --- preferences --------------------------------------------------------------------------------


def test_preferences_start_off_and_mollie_needs_simple_paiement(session_factory):
    with session_factory() as session:
        prefs = payments.get_preferences(session)
        assert (prefs.id, prefs.simple_paiement_enabled, prefs.mollie_enabled) == (1, False, False)
        prefs = payments.save_preferences(session, False, True)
        assert (prefs.simple_paiement_enabled, prefs.mollie_enabled) == (False, False)
        payments.save_preferences(session, True, True)
    with session_factory() as session:
        prefs = payments.get_preferences(session)
        assert (prefs.simple_paiement_enabled, prefs.mollie_enabled) == (True, True)
        prefs = payments.save_preferences(session, False, True)  # switching off SP switches Mollie off
        assert (prefs.simple_paiement_enabled, prefs.mollie_enabled) == (False, False)


def test_preferences_row_is_recreated_when_missing(session_factory):
    from simple_erp.models.payment import ErpPreferences

    with session_factory() as session:
        session.delete(session.get(ErpPreferences, 1))
    with session_factory() as session:
        assert payments.get_preferences(session).id == 1


# --- accounts ------------------------------------------------------------------------------------


def test_account_required_fields_and_type(session_factory):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        payments.save_account(session, None, {"account_type": "coffre", "name": " ", "identifier": ""})
    assert caught.value.errors == {
        "account_type": "Type de compte inconnu.",
        "name": "La désignation du compte est obligatoire.",
        "identifier": "Le numéro de compte ou l'identifiant est obligatoire.",
    }


def test_account_iban_and_bic_are_validated_encrypted_and_masked(session_factory):
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        payments.save_account(session, None, {"name": "BP", "identifier": "123", "iban": "FR7630006000011234567890188",
                                              "bic": "AGRI"})
    assert set(caught.value.errors) == {"iban", "bic"}
    assert caught.value.errors["iban"].startswith("IBAN invalide")
    assert caught.value.errors["bic"].startswith("BIC invalide")

    account_id = make_account(session_factory, "BP", iban="fr76 3000 6000 0112 3456 7890 189", bic=BIC,
                              bank_name="Banque Populaire", notes="Compte principal")
    with session_factory() as session:
        account = payments.get_account(session, account_id)
        assert account.iban_encrypted and IBAN not in account.iban_encrypted
        assert crypto.decrypt(account.iban_encrypted) == IBAN
        assert account.iban_masked == "FR76 •••• •••• 0189"
        form = payments.account_form(account)
    assert form == {"account_type": "compte_bancaire", "name": "BP", "identifier": "ID-BP",
                    "bank_name": "Banque Populaire", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": BIC,
                    "notes": "Compte principal", "active": "1"}
    with session_factory() as session:  # no IBAN, deactivated; a key left out keeps its value
        account = payments.save_account(session, account_id, {"iban": "", "bic": "", "active": ""})
        assert (account.iban_encrypted, account.iban_masked, account.active, account.name) == ("", "", False, "BP")
        assert [a.id for a in payments.list_accounts(session, active_only=True)] == []
        assert payments.empty_account_form()["account_type"] == "compte_bancaire"
        assert payments.ACCOUNT_TYPES == {"compte_bancaire": "Compte bancaire", "mollie": "Mollie",
                                          "caisse": "Caisse", "autre": "Autre"}


# --- payment types ------------------------------------------------------------------------------


def test_system_types_are_seeded(session_factory):
    with session_factory() as session:
        rows = [(t.code, t.name, t.active, t.is_system) for t in payments.list_payment_types(session)]
    assert rows == [("cheque", "Chèque", True, True), ("virement", "Virement", True, True),
                    ("especes", "Espèces", True, True), ("carte_bancaire", "Carte bancaire", True, True),
                    ("prelevement_sepa", "Prélèvement SEPA", True, True)]


def test_payment_types_added_renamed_deactivated_never_duplicated(session_factory):
    with session_factory() as session:
        lydia = payments.save_payment_type(session, None, {"name": "Lydia", "active": "1"})
        paypal = payments.save_payment_type(session, None, {"name": "PayPal"})
        assert (lydia.code, paypal.code, lydia.is_system) == ("custom_1", "custom_2", False)
    cheque = type_id(session_factory, "cheque")
    for name in ("lydia", " CHÈQUE ", ""):
        with pytest.raises(ValidationErrors) as caught, session_factory() as session:
            payments.save_payment_type(session, None, {"name": name})
        assert caught.value.errors["name"] == (
            "Le nom du type de paiement est obligatoire." if not name else "Ce type de paiement existe déjà."
        )
    with session_factory() as session:
        renamed = payments.save_payment_type(session, cheque, {"name": "Chèque bancaire", "active": ""})
        assert (renamed.code, renamed.name, renamed.active, renamed.is_system) == ("cheque", "Chèque bancaire", False, True)
        assert cheque not in [t.id for t in payments.list_payment_types(session, active_only=True)]
        assert payments.save_payment_type(session, lydia.id, {"name": "LYDIA"}).name == "LYDIA"  # its own name
    with pytest.raises(DomainError, match="ne peut pas être supprimé"), session_factory() as session:
        payments.delete_payment_type(session, cheque)
    with session_factory() as session:
        payments.delete_payment_type(session, paypal.id)
        assert payments.save_payment_type(session, None, {"name": "Twint"}).code == "custom_2"


# --- payment methods -----------------------------------------------------------------------------


def test_methods_labels_duplicates_and_mollie_restriction(session_factory):
    bank = make_account(session_factory, "Banque Populaire")
    mollie = make_account(session_factory, "Mollie Atelier", "mollie")
    cheque = make_method(session_factory, bank, "cheque")
    with pytest.raises(ValidationErrors) as caught:
        make_method(session_factory, bank, "cheque")
    assert caught.value.errors == {"payment_type_id": "Ce moyen de paiement existe déjà (même type de paiement et même compte)."}
    for code in ("cheque", "virement", "especes"):
        with pytest.raises(ValidationErrors) as caught:
            make_method(session_factory, mollie, code)
        assert caught.value.errors == {
            "payment_type_id": "Un compte Mollie n'accepte que « Carte bancaire » et « Prélèvement SEPA »."
        }
    card = make_method(session_factory, mollie, "carte_bancaire")
    make_method(session_factory, mollie, "prelevement_sepa", active="")
    with pytest.raises(ValidationErrors) as caught, session_factory() as session:
        payments.save_method(session, None, {"payment_type_id": "", "account_id": "999"})
    assert caught.value.errors == {"payment_type_id": "Choisissez un type de paiement.", "account_id": "Choisissez un compte."}
    with session_factory() as session:
        rows = payments.list_methods(session)
        labels = [(r.label, r.type_code, r.account_type, r.active, r.is_mollie) for r in rows]
        assert labels == [
            ("Carte bancaire — Mollie Atelier", "carte_bancaire", "mollie", True, True),
            ("Chèque — Banque Populaire", "cheque", "compte_bancaire", True, False),
            ("Prélèvement SEPA — Mollie Atelier", "prelevement_sepa", "mollie", False, True),
        ]
        assert [r.id for r in payments.list_methods(session, active_only=True)] == [card, cheque]
        # A Mollie account cannot become one that keeps a "Chèque" method, nor the reverse.
        with pytest.raises(ValidationErrors, match="Un compte Mollie n'accepte que"):
            payments.save_account(session, bank, {"account_type": "mollie"})
    with session_factory() as session:  # deactivating the account hides its methods
        payments.save_account(session, bank, {"active": ""})
        assert [r.id for r in payments.list_methods(session, active_only=True)] == [card]
        assert [r.id for r in payments.payment_method_choices(session)] == []  # Mollie module off


# --- requests and receptions ---------------------------------------------------------------------


def test_request_then_reception_pays_the_invoice(session_factory, setup):
    doc_id = make_invoice(session_factory)
    first = block(session_factory, doc_id)
    assert (first.enabled, first.applicable, first.reason, first.total_ttc, first.amount_due) == (
        True, True, "", D("100.00"), D("100.00"))
    assert (first.invoice_status, first.invoice_status_label, first.rows) == (InvoicePaymentStatus.UNPAID, "Non payée", [])

    payment = request(session_factory, doc_id, setup["cheque"], "100")
    assert (payment.status, payment.provider, payment.amount, payment.received_on) == ("en_attente", "manuel", D("100.00"), None)
    pending = block(session_factory, doc_id)
    assert (pending.pending, pending.received, pending.amount_due, pending.default_amount) == (
        D("100.00"), D("0.00"), D("100.00"), D("0.00"))
    [row] = pending.rows
    assert (row.method_label, row.amount, row.status_label, row.received_on) == (
        "Chèque — Banque Populaire", "100,00\u00a0€", "En attente de paiement", "")
    assert (row.is_manual, row.can_receive, row.can_cancel, row.checkout_url) == (True, True, True, "")
    assert len(row.requested_at) == 16 and row.requested_at[2] == "/"

    received = receive(session_factory, payment.id, on=date(2026, 11, 27))
    assert (received.status, received.received_on) == ("recu", date(2026, 11, 27))
    paid = block(session_factory, doc_id)
    assert (paid.invoice_status, paid.invoice_status_label) == (InvoicePaymentStatus.PAID, "Payée")
    assert (paid.received, paid.pending, paid.amount_due, paid.default_amount) == (D("100.00"), 0, 0, 0)
    assert (paid.rows[0].status_label, paid.rows[0].received_on, paid.rows[0].can_receive) == (
        "Paiement reçu", "27/11/2026", False)
    assert stored_received(session_factory, doc_id) == D("100.00")
    with session_factory() as session:
        assert payments.document_received(session, doc_id) == D("100.00")
    with pytest.raises(DomainError, match="Ce paiement a déjà été reçu le 27/11/2026."):
        receive(session_factory, payment.id)


def test_partial_payment_then_overdue(session_factory, setup):
    doc_id = make_invoice(session_factory)  # due 30 days later: 28/12/2026
    payment = request(session_factory, doc_id, setup["virement"], "40")
    receive(session_factory, payment.id)
    partial = block(session_factory, doc_id)
    assert (partial.invoice_status_label, partial.amount_due, partial.default_amount) == (
        "Partiellement payée", D("60.00"), D("60.00"))
    late = block(session_factory, doc_id, today=date(2027, 1, 5))
    assert (late.invoice_status, late.invoice_status_label) == (InvoicePaymentStatus.OVERDUE, "En retard")
    untouched = make_invoice(session_factory)
    assert block(session_factory, untouched, today=date(2027, 1, 5)).invoice_status_label == "En retard"


def test_reception_date_cannot_be_in_the_future(session_factory, setup):
    doc_id = make_invoice(session_factory)
    payment = request(session_factory, doc_id, setup["cheque"], "50")
    with pytest.raises(DomainError, match="La date de réception ne peut pas être dans le futur.") as caught:
        receive(session_factory, payment.id, on=TODAY + timedelta(days=1))
    assert caught.value.field == "received_on"
    assert block(session_factory, doc_id).rows[0].status == "en_attente"


@pytest.mark.parametrize("amount, message", [
    ("0", "Le montant doit être supérieur à zéro."),
    ("-5", "Le montant doit être supérieur à zéro."),
    ("10.001", "Le montant ne peut pas avoir plus de deux décimales."),
])
def test_amount_must_be_positive_cents(session_factory, setup, amount, message):
    doc_id = make_invoice(session_factory)
    with pytest.raises(DomainError, match=message):
        request(session_factory, doc_id, setup["cheque"], amount)


def test_drafts_avoirs_and_other_documents_take_no_payment(session_factory, setup):
    draft = make_invoice(session_factory, final=False)
    with pytest.raises(DomainError, match="La facture doit être finalisée avant d'enregistrer un paiement."):
        request(session_factory, draft, setup["cheque"], "10")
    assert block(session_factory, draft).reason == "Finalisez la facture pour enregistrer un paiement."
    invoice = make_invoice(session_factory)
    with session_factory() as session:
        avoir = documents.create_credit_note(session, invoice, TODAY).id
        documents.finalize(session, avoir, TODAY)
    with pytest.raises(DomainError, match="Un paiement ne peut être enregistré que sur une facture."):
        request(session_factory, avoir, setup["cheque"], "10")
    avoir_block = block(session_factory, avoir)
    assert not avoir_block.applicable and avoir_block.reason.startswith("Un avoir ne reçoit pas de paiement")
    devis = make_invoice(session_factory, kind="devis")
    with pytest.raises(DomainError, match="que sur une facture"):
        request(session_factory, devis, setup["cheque"], "10")


def test_overpayment_needs_a_confirmation(session_factory, setup):
    doc_id = make_invoice(session_factory)
    with pytest.raises(OverpaymentError) as caught:
        request(session_factory, doc_id, setup["cheque"], "120")
    assert caught.value.remaining == D("100.00")
    assert caught.value.message == ("Le montant dépasse le reste dû (100,00\u00a0€). "
                                    "Confirmez pour enregistrer un trop-perçu.")
    payment = request(session_factory, doc_id, setup["cheque"], "120", allow_overpay=True)
    assert payment.allow_overpay is True
    receive(session_factory, payment.id)
    overpaid = block(session_factory, doc_id)
    assert (overpaid.received, overpaid.amount_due, overpaid.invoice_status_label) == (D("120.00"), 0, "Payée")


def test_pending_requests_together_cannot_exceed_the_total(session_factory, setup):
    doc_id = make_invoice(session_factory)
    request(session_factory, doc_id, setup["cheque"], "60")
    assert block(session_factory, doc_id).default_amount == D("40.00")
    with pytest.raises(OverpaymentError) as caught:
        request(session_factory, doc_id, setup["virement"], "60")
    assert caught.value.remaining == D("40.00")
    assert request(session_factory, doc_id, setup["virement"], "40").amount == D("40.00")


def test_a_confirmed_second_request_is_checked_again_at_reception(session_factory, setup):
    """60 + 60 on a 100 € invoice: the second request is confirmed (the first may never be
    paid) but is no trop-perçu by itself; once the first is received, receiving the second
    would overpay: refused unless confirmed then."""
    doc_id = make_invoice(session_factory)
    first = request(session_factory, doc_id, setup["cheque"], "60")
    second = request(session_factory, doc_id, setup["virement"], "60", allow_overpay=True)
    assert (first.allow_overpay, second.allow_overpay) == (False, False)
    receive(session_factory, first.id)
    with pytest.raises(OverpaymentError) as caught:
        receive(session_factory, second.id)
    assert caught.value.remaining == D("40.00")
    assert "dépasse le reste dû (40,00\u00a0€)" in caught.value.message
    assert stored_received(session_factory, doc_id) == D("60.00")
    confirmed = receive(session_factory, second.id, allow_overpay=True)
    assert (confirmed.status, confirmed.allow_overpay) == ("recu", True)
    assert stored_received(session_factory, doc_id) == D("120.00")


def test_inactive_method_disabled_module_and_mollie_switch(session_factory, setup):
    doc_id = make_invoice(session_factory)
    with session_factory() as session:
        payments.save_method(session, setup["cheque"], {"active": ""})
    with pytest.raises(DomainError, match="Ce moyen de paiement est désactivé"):
        request(session_factory, doc_id, setup["cheque"], "10")
    with session_factory() as session:  # a deactivated payment type disables its methods
        payments.save_payment_type(session, type_id(session_factory, "virement"), {"active": ""})
    with pytest.raises(DomainError, match="Ce moyen de paiement est désactivé"):
        request(session_factory, doc_id, setup["virement"], "10")
    with pytest.raises(DomainError, match="Ce moyen de paiement n'existe pas."):
        request(session_factory, doc_id, 999, "10")

    mollie = make_account(session_factory, "Mollie", "mollie")
    card = make_method(session_factory, mollie, "carte_bancaire")
    with pytest.raises(DomainError, match="Le module de paiement Mollie n'est pas activé"):
        request(session_factory, doc_id, card, "10")
    with session_factory() as session:
        payments.save_preferences(session, True, True)
        assert [r.id for r in payments.payment_method_choices(session)] == [card]
    online = request(session_factory, doc_id, card, "10")
    assert online.provider == "mollie"
    with session_factory() as session:
        payments.attach_provider_payment(session, online.id, "tr_abc", "https://pay.example/tr_abc")
        assert payments.get_payment_by_provider_id(session, "tr_abc").id == online.id
    [row] = block(session_factory, doc_id).rows
    assert (row.is_manual, row.can_receive, row.can_cancel, row.checkout_url) == (
        False, False, False, "https://pay.example/tr_abc")
    with pytest.raises(DomainError, match="Un paiement Mollie est confirmé par Mollie"):
        receive(session_factory, online.id)
    with pytest.raises(DomainError, match="Une demande de paiement Mollie ne s'annule pas ici"), session_factory() as session:
        payments.cancel_request(session, online.id, NOW)
    with session_factory() as session:
        assert payments.apply_status(session, online.id, S.RECEIVED, NOW, "webhook") is True
    assert block(session_factory, doc_id).received == D("10.00")

    with session_factory() as session:
        payments.save_preferences(session, False, False)
    with pytest.raises(DomainError, match="Simple Paiement n'est pas activé"):
        request(session_factory, doc_id, card, "10")
    assert block(session_factory, doc_id).enabled is False


def test_idempotency_key_returns_the_first_request(session_factory, setup):
    doc_id = make_invoice(session_factory)
    with session_factory() as session:
        first = payments.request_payment(session, doc_id, setup["cheque"], D("100"), None, TODAY,
                                         idempotency_key="clic-1")
    with session_factory() as session:
        again = payments.request_payment(session, doc_id, setup["cheque"], D("100"), None, TODAY,
                                         idempotency_key="clic-1")
    assert again.id == first.id and len(block(session_factory, doc_id).rows) == 1


def test_cancel_a_request(session_factory, setup):
    doc_id = make_invoice(session_factory)
    payment = request(session_factory, doc_id, setup["cheque"], "100")
    with session_factory() as session:
        canceled = payments.cancel_request(session, payment.id, NOW)
        assert (canceled.status, canceled.canceled_at) == ("annule", NOW)
    with session_factory() as session:  # twice: nothing more
        assert payments.cancel_request(session, payment.id, NOW + timedelta(hours=1)).canceled_at == NOW
    after = block(session_factory, doc_id)
    assert (after.pending, after.default_amount, after.rows[0].status_label) == (0, D("100.00"), "Annulé")
    assert (after.rows[0].can_receive, after.rows[0].can_cancel) == (False, False)
    with pytest.raises(DomainError, match="il ne peut plus être reçu"):
        receive(session_factory, payment.id)
    received = request(session_factory, doc_id, setup["cheque"], "100")
    receive(session_factory, received.id)
    with pytest.raises(DomainError, match="Seule une demande en attente de paiement peut être annulée"), \
            session_factory() as session:
        payments.cancel_request(session, received.id, NOW)


# --- apply_status: idempotence, trail, amount_received -------------------------------------------


def test_apply_status_is_idempotent_and_keeps_a_trail(session_factory, setup):
    doc_id = make_invoice(session_factory)
    payment = request(session_factory, doc_id, setup["virement"], "100")
    # 23:30 UTC is already the next day in Paris; after the request (the trail is in time order).
    paid_at = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=23, minute=30, second=0, microsecond=0)
    with session_factory() as session:
        assert payments.apply_status(session, payment.id, S.RECEIVED, paid_at, "webhook") is True
    with session_factory() as session:
        assert payments.apply_status(session, payment.id, S.RECEIVED, paid_at, "webhook") is False
        stored = payments.get_payment(session, payment.id)
        assert (stored.status, stored.received_on) == ("recu", paid_at.date() + timedelta(days=1))
    with pytest.raises(TransitionError, match="Changement de statut impossible"), session_factory() as session:
        payments.apply_status(session, payment.id, S.PENDING, NOW, "webhook")
    with pytest.raises(ValueError), session_factory() as session:
        payments.apply_status(session, payment.id, S.REFUNDED, datetime(2026, 12, 1, 9, 0), "webhook")  # naive
    assert stored_received(session_factory, doc_id) == D("100.00")

    refund_1 = paid_at + timedelta(days=2, hours=9)
    with session_factory() as session:
        assert payments.apply_status(session, payment.id, S.PARTIALLY_REFUNDED, refund_1, "webhook",
                                     amount_refunded=D("30")) is True
    assert stored_received(session_factory, doc_id) == D("70.00")
    assert block(session_factory, doc_id).invoice_status_label == "Partiellement payée"
    with session_factory() as session:  # same status, same amount: nothing; a second partial refund: recorded
        assert payments.apply_status(session, payment.id, S.PARTIALLY_REFUNDED, refund_1, "webhook",
                                     amount_refunded=D("30")) is False
        assert payments.apply_status(session, payment.id, S.PARTIALLY_REFUNDED, refund_1, "resynchronisation",
                                     amount_refunded=D("50")) is True
    assert stored_received(session_factory, doc_id) == D("50.00")
    with pytest.raises(DomainError, match="Montant remboursé invalide"), session_factory() as session:
        payments.apply_status(session, payment.id, S.PARTIALLY_REFUNDED, refund_1, "webhook", amount_refunded=D("150"))
    with session_factory() as session:
        assert payments.apply_status(session, payment.id, S.REFUNDED, refund_1, "webhook") is True
        stored = payments.get_payment(session, payment.id)
        assert (stored.amount_refunded, stored.refunded_at) == (D("100.00"), refund_1)
    assert stored_received(session_factory, doc_id) == D("0.00")
    assert block(session_factory, doc_id).invoice_status_label == "Non payée"

    with session_factory() as session:
        trail = [(e.from_status, e.to_status, e.source) for e in payments.payment_events(session, payment.id)]
    assert trail == [
        ("", "en_attente", "utilisateur"),
        ("en_attente", "recu", "webhook"),
        ("recu", "partiellement_rembourse", "webhook"),
        ("partiellement_rembourse", "partiellement_rembourse", "resynchronisation"),
        ("partiellement_rembourse", "rembourse", "webhook"),
    ]


def test_each_status_stamps_its_date_and_chargebacks_count_for_nothing(session_factory, setup):
    doc_id = make_invoice(session_factory)
    stamps = {S.DEBIT_IN_PROGRESS: "debit_submitted_at", S.FAILED: "failed_at"}
    debit = request(session_factory, doc_id, setup["virement"], "30")
    authorized = request(session_factory, doc_id, setup["virement"], "30")
    expired = request(session_factory, doc_id, setup["virement"], "40")
    with session_factory() as session:
        for status, stamp in stamps.items():
            payments.apply_status(session, debit.id, status, NOW, "webhook")
            assert getattr(payments.get_payment(session, debit.id), stamp) == NOW
        payments.apply_status(session, authorized.id, S.AUTHORIZED, NOW, "webhook")
        payments.apply_status(session, expired.id, S.EXPIRED, NOW, "webhook")
        assert payments.get_payment(session, authorized.id).authorized_at == NOW
        assert payments.get_payment(session, expired.id).expired_at == NOW
        payments.apply_status(session, authorized.id, S.RECEIVED, NOW, "webhook", received_on=date(2026, 11, 27))
        assert payments.get_payment(session, authorized.id).received_on == date(2026, 11, 27)
    assert stored_received(session_factory, doc_id) == D("30.00")
    with session_factory() as session:
        payments.apply_status(session, authorized.id, S.CHARGED_BACK, NOW, "webhook")
        stored = payments.get_payment(session, authorized.id)
        assert (stored.charged_back_at, stored.amount_charged_back) == (NOW, D("30.00"))
    assert stored_received(session_factory, doc_id) == D("0.00")


def state_of(session_factory, payment_id) -> payments.PaymentState:
    with session_factory() as session:
        return payments.payment_state(session, payment_id)


def trail_of(session_factory, payment_id) -> list[tuple[str, str, str]]:
    with session_factory() as session:
        return [(e.from_status, e.to_status, e.source) for e in payments.payment_events(session, payment_id)]


def apply_if_unchanged(session_factory, expected, target, **kwargs):
    with session_factory() as session:
        return payments.apply_status_if_unchanged(session, expected, target, datetime.now(timezone.utc), "webhook",
                                                  **kwargs)


def test_apply_if_unchanged_changes_a_payment_still_as_read(session_factory, setup):
    """The webhook's path: the change planned from a read made earlier, written in one go."""
    doc_id = make_invoice(session_factory)
    payment = request(session_factory, doc_id, setup["virement"], "60")
    synced = datetime(2026, 11, 28, 10, 5, tzinfo=timezone.utc)
    assert apply_if_unchanged(session_factory, state_of(session_factory, payment.id), S.RECEIVED,
                              received_on=date(2026, 11, 27), note="Mollie : paid", synced_at=synced) is True
    with session_factory() as session:
        stored = payments.get_payment(session, payment.id)
        assert (stored.status, stored.received_on, stored.last_synced_at) == ("recu", date(2026, 11, 27), synced)
        assert payments.payment_events(session, payment.id)[-1].note == "Mollie : paid"
    assert stored_received(session_factory, doc_id) == D("60.00")
    assert block(session_factory, doc_id).invoice_status_label == "Partiellement payée"

    received = state_of(session_factory, payment.id)
    assert apply_if_unchanged(session_factory, received, S.PARTIALLY_REFUNDED, amount_refunded=D("15")) is True
    assert stored_received(session_factory, doc_id) == D("45.00")
    # Planned from the same (now stale) read: refused, nothing written twice.
    assert apply_if_unchanged(session_factory, received, S.PARTIALLY_REFUNDED, amount_refunded=D("20")) is None
    assert apply_if_unchanged(session_factory, received, S.REFUNDED) is None
    assert stored_received(session_factory, doc_id) == D("45.00")
    assert trail_of(session_factory, payment.id) == [
        ("", "en_attente", "utilisateur"),
        ("en_attente", "recu", "webhook"),
        ("recu", "partiellement_rembourse", "webhook"),
    ]
    # Nothing to change, or a forbidden move: left to apply_status, nothing written here.
    refunded = state_of(session_factory, payment.id)
    assert apply_if_unchanged(session_factory, refunded, S.PARTIALLY_REFUNDED, amount_refunded=D("15")) is None
    assert apply_if_unchanged(session_factory, refunded, S.PENDING) is None
    assert len(trail_of(session_factory, payment.id)) == 3
    with session_factory() as session:
        assert payments.apply_status(session, payment.id, S.REFUNDED, datetime.now(timezone.utc), "webhook") is True
    assert stored_received(session_factory, doc_id) == D("0.00")


def test_apply_if_unchanged_leaves_a_payment_changed_meanwhile(session_factory, setup):
    doc_id = make_invoice(session_factory)
    payment = request(session_factory, doc_id, setup["cheque"], "100")
    read_before = state_of(session_factory, payment.id)
    cancel(session_factory, payment.id)
    assert apply_if_unchanged(session_factory, read_before, S.RECEIVED) is None
    assert state_of(session_factory, payment.id).status == "annule"
    assert stored_received(session_factory, doc_id) == D("0.00")
    assert [t for _f, t, _s in trail_of(session_factory, payment.id)] == ["en_attente", "annule"]


def test_received_sums_agree_for_every_status(session_factory, setup):
    """document.amount_received is summed by the database: the same as the domain's
    counted_amount for every status (a partly refunded payment counts for what was kept)."""
    doc_id = make_invoice(session_factory)
    payment = request(session_factory, doc_id, setup["virement"], "60")
    for status in S:
        with session_factory() as session:
            session.execute(update(Payment).where(Payment.id == payment.id)
                            .values(status=status.value, amount_refunded=D("10.00")))
        with session_factory() as session:
            in_python = payments.payment_block(session, doc_id, TODAY).received
            assert payments.document_received(session, doc_id) == in_python, status
            expected = D("50.00") if status in (S.RECEIVED, S.PARTIALLY_REFUNDED) else D("0.00")
            assert in_python == expected, status


# --- concurrency -----------------------------------------------------------------------------------


def test_two_receptions_at_once_cannot_overpay(session_factory, setup):
    """Two pending requests of 60 € on a 100 € invoice (the second confirmed at request time
    because the first was pending, no trop-perçu by itself). Two members of staff record
    both receptions at the same moment: exactly one succeeds, the other is refused."""
    for _round in range(3):
        doc_id = make_invoice(session_factory)
        first = request(session_factory, doc_id, setup["cheque"], "60")
        second = request(session_factory, doc_id, setup["virement"], "60", allow_overpay=True)
        results, errors = run_together(
            lambda: receive(session_factory, first.id), lambda: receive(session_factory, second.id)
        )
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], OverpaymentError) and "dépasse le reste dû (40,00\u00a0€)" in errors[0].message
        assert stored_received(session_factory, doc_id) == D("60.00")
        assert sorted(r.status for r in block(session_factory, doc_id).rows) == ["en_attente", "recu"]


def test_two_requests_for_the_last_amount_at_once(session_factory, setup):
    for _round in range(3):
        doc_id = make_invoice(session_factory)
        results, errors = run_together(
            lambda: request(session_factory, doc_id, setup["cheque"], "100"),
            lambda: request(session_factory, doc_id, setup["virement"], "100"),
        )
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], OverpaymentError) and errors[0].remaining == 0
        assert block(session_factory, doc_id).pending == D("100.00")


# --- Encaissements -----------------------------------------------------------------------------------


@pytest.fixture
def collections(session_factory, setup):
    """Bank: cheque 60 received 05/11, virement 40 received 20/11; Caisse: espèces 25
    received 10/11 then partly refunded 5; a pending cheque requested 15/11; a cancelled
    virement requested 02/10."""
    caisse = make_account(session_factory, "Caisse boutique", "caisse")
    cash = make_method(session_factory, caisse, "especes")
    doc_a = make_invoice(session_factory, last_name="=Hyperlink")
    doc_b = make_invoice(session_factory)
    ids = {}
    ids["cheque"] = request(session_factory, doc_a, setup["cheque"], "60").id
    ids["virement"] = request(session_factory, doc_a, setup["virement"], "40").id
    ids["cash"] = request(session_factory, doc_b, cash, "25").id
    ids["pending"] = request(session_factory, doc_b, setup["cheque"], "50").id
    ids["canceled"] = request(session_factory, doc_b, setup["virement"], "25").id
    receive(session_factory, ids["cheque"], on=date(2026, 11, 5))
    receive(session_factory, ids["virement"], on=date(2026, 11, 20))
    receive(session_factory, ids["cash"], on=date(2026, 11, 10))
    with session_factory() as session:
        payments.apply_status(session, ids["cash"], S.PARTIALLY_REFUNDED, NOW, "utilisateur", amount_refunded=D("5"))
        payments.cancel_request(session, ids["canceled"], NOW)
        requested = {"cheque": (2026, 11, 1), "virement": (2026, 11, 1), "cash": (2026, 11, 1),
                     "pending": (2026, 11, 15), "canceled": (2026, 10, 2)}
        for key, (y, m, d) in requested.items():  # requested at 23:30 UTC: the next day in Paris
            session.execute(update(Payment).where(Payment.id == ids[key])
                            .values(requested_at=datetime(y, m, d, 23, 30, tzinfo=timezone.utc)))
    return ids | {"bank": setup["account"], "caisse": caisse, "cash_method": cash, "doc_a": doc_a}


def listed(session_factory, **filters):
    with session_factory() as session:
        return payments.list_collections(session, payments.PaymentFilters(**filters))


def test_collections_list_filters_and_totals(session_factory, collections):
    everything = listed(session_factory)
    assert everything.total == 5 and everything.page_count == 1
    ids = collections
    assert [r.payment_id for r in everything.rows] == [  # by reception date, then the others by request
        ids["virement"], ids["cash"], ids["cheque"], ids["pending"], ids["canceled"]]
    first = everything.rows[0]
    assert (first.document_id, first.method_label, first.account_name, first.amount, first.status_label,
            first.requested_on, first.received_on) == (
        ids["doc_a"], "Virement — Banque Populaire", "Banque Populaire", "40,00\u00a0€", "Paiement reçu",
        "02/11/2026", "20/11/2026")
    assert first.document_number.startswith("F-2026-") and first.contact_name == "=HYPERLINK Léa"
    assert everything.totals_by_account == [("Banque Populaire", "100,00\u00a0€"), ("Caisse boutique", "20,00\u00a0€")]

    # November 6 to 16: received on 10/11 (cash) and requested on 16/11 in Paris (pending).
    period = listed(session_factory, date_from=date(2026, 11, 6), date_to=date(2026, 11, 16))
    assert {r.payment_id for r in period.rows} == {ids["cash"], ids["pending"]}
    assert period.totals_by_account == [("Banque Populaire", "0,00\u00a0€"), ("Caisse boutique", "20,00\u00a0€")]
    assert {r.payment_id for r in listed(session_factory, date_from=date(2026, 11, 17)).rows} == {ids["virement"]}
    assert {r.payment_id for r in listed(session_factory, date_to=date(2026, 10, 2)).rows} == set()
    assert {r.payment_id for r in listed(session_factory, date_to=date(2026, 10, 3)).rows} == {ids["canceled"]}

    assert {r.payment_id for r in listed(session_factory, account_id=ids["caisse"]).rows} == {ids["cash"]}
    assert {r.payment_id for r in listed(session_factory, method_id=ids["cash_method"]).rows} == {ids["cash"]}
    received = listed(session_factory, status="recu")
    assert {r.payment_id for r in received.rows} == {ids["cheque"], ids["virement"]}
    assert received.totals_by_account == [("Banque Populaire", "100,00\u00a0€")]
    with pytest.raises(DomainError, match="Statut de paiement inconnu."):
        listed(session_factory, status="paye")
    with pytest.raises(DomainError, match="La date de début doit précéder la date de fin."):
        listed(session_factory, date_from=date(2026, 11, 2), date_to=date(2026, 11, 1))

    with session_factory() as session:
        page = payments.list_collections(session, payments.PaymentFilters(), page=9, page_size=2)
    assert (page.page, page.page_count, page.total, [r.payment_id for r in page.rows]) == (3, 3, 5, [ids["canceled"]])
    assert len(page.totals_by_account) == 2  # totals cover every matching payment, not the page


def test_collections_csv(session_factory, collections):
    with session_factory() as session:
        text = payments.collections_csv(session, payments.PaymentFilters(status="recu"))
    assert text.startswith("\ufeff")
    lines = text.removeprefix("\ufeff").split("\r\n")
    assert lines[0] == ("N° de facture;Client;Moyen de paiement;Compte;Montant;Statut;"
                        "Date de demande;Date de réception")
    assert lines[-1] == "" and len(lines) == 4
    number = lines[1].split(";")[0]
    assert lines[1] == f"{number};'=HYPERLINK Léa;Virement — Banque Populaire;Banque Populaire;40,00;Paiement reçu;02/11/2026;20/11/2026"
    assert lines[2].endswith(";60,00;Paiement reçu;02/11/2026;05/11/2026")
    text.encode("utf-8")


def test_a_webhook_and_a_member_of_staff_on_the_same_payment_at_once(session_factory, setup):
    """A status change planned from an earlier read (the webhook) and a cancellation by a
    member of staff, at the same moment, many times: one of them wins, the other changes
    nothing; never a deadlock; the invoice's received amount always matches its payments."""
    for _round in range(8):
        doc_id = make_invoice(session_factory)
        other = request(session_factory, doc_id, setup["cheque"], "30")
        receive(session_factory, other.id)
        payment = request(session_factory, doc_id, setup["virement"], "70")
        expected = state_of(session_factory, payment.id)
        results, errors = run_together(
            lambda: apply_if_unchanged(session_factory, expected, S.RECEIVED),
            lambda: cancel(session_factory, payment.id),
        )
        status = state_of(session_factory, payment.id).status
        if status == "recu":
            assert results == [True] and len(errors) == 1, (results, errors)
            assert "Seule une demande en attente" in errors[0].message
        else:
            assert status == "annule" and not errors, errors
            assert None in results
        with session_factory() as session:
            assert stored_received(session_factory, doc_id) == payments.document_received(session, doc_id)
        assert stored_received(session_factory, doc_id) == (D("100.00") if status == "recu" else D("30.00"))


def cancel(session_factory, payment_id):
    with session_factory() as session:
        return payments.cancel_request(session, payment_id, datetime.now(timezone.utc))
