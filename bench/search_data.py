"""Bulk test data for the search and list benchmarks (bench/search_scale.py and friends).

Rows are computed in Python from their number ``i`` (deterministic, seeded), so SQLite and
PostgreSQL get the same data, with ``search_text`` and ``sort_name`` built by the service's
own ``normalize()``. PostgreSQL loads them with COPY (its secondary indexes dropped during
the load and built again after); SQLite with ``executemany`` in one transaction. Loads are
incremental: ``grow(engine, n)`` adds contacts and documents up to n of each, so one
database can be measured at 10 000, then 100 000, then 1 000 000 rows.

The data, per contact i:
* last name among 40 (accented ones included: Lefèvre, Légaré…), first name among 28;
  20 % companies (« Boulangerie Martin »);
* city weighted: Paris 20 %, Lyon 12 % … Quimper 1 % (the « one word » case);
* e-mail ``prenom.nom<i>@<domain>``: gmail.com for a third of them (« gmail » matches a
  third of the rows), orange.fr, free.fr, laposte.net, exemple.fr otherwise; so
  ``<i>@`` is a rare word (a handful of rows);
per document i (as many documents as contacts): 65 % factures, 10 % drafts, one linked
contact chosen by a hash, issue date spread over five years by a hash (so each increment
covers every year); each finalised facture has one payment (received 85 %, pending 10 %,
cancelled 5 %) on one of 3 payment methods, and one e-mail in its history (a third of them
two).
"""

from __future__ import annotations

import csv
import io
import time
import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert, text

from simple_erp.db import session_scope
from simple_erp.models.contact import Contact
from simple_erp.models.document import Document, DocumentContact
from simple_erp.models.email import EmailMessage
from simple_erp.models.payment import Payment
from simple_erp.models.types import ScaledDecimal
from simple_erp.services import companies, payments
from simple_erp.services.payments import collections as payment_collections
from simple_erp.services.contacts import normalize

LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Légaré",
        "Chevalier", "Gauthier", "Perrin", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas"]
FIRST = ["Jean", "Marie", "Pierre", "Anne", "Michel", "Françoise", "Philippe", "Nathalie", "Éric", "Isabelle",
         "Luc", "Sylvie", "Hélène", "Jérôme", "Céline", "Amélie", "Gaëlle", "Noël", "Chloé", "Théo", "Léa", "Hugo",
         "Zoé", "Louis", "Inès", "Raphaël", "Camille", "Manon"]
# (city, postal code, weight in %)
CITIES = [("Paris", "75011", 20), ("Lyon", "69003", 12), ("Marseille", "13005", 10), ("Toulouse", "31000", 8),
          ("Nice", "06000", 6), ("Nantes", "44000", 6), ("Strasbourg", "67000", 5), ("Montpellier", "34000", 5),
          ("Bordeaux", "33000", 5), ("Lille", "59000", 5), ("Rennes", "35000", 4), ("Reims", "51100", 3),
          ("Saint-Étienne", "42000", 3), ("Le Havre", "76600", 3), ("Grenoble", "38000", 3),
          ("Besançon", "25000", 1), ("Orléans", "45000", 1), ("Quimper", "29000", 1)]
CITY_SLOTS = [c for c in CITIES for _ in range(c[2])]  # 100 slots
DOMAINS = ["gmail.com", "orange.fr", "free.fr", "laposte.net", "exemple.fr", "gmail.com"]  # 2/6 gmail
COMPANY = ["Boulangerie", "Garage", "Cabinet", "Atelier", "Menuiserie", "Pharmacie", "Transports"]
START = date(2021, 1, 1)
DAYS = 5 * 365
NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)


def _h(salt: str, i: int) -> int:
    return zlib.crc32(f"{salt}{i}".encode())


def contact_row(i: int) -> dict:
    last, first = LAST[_h("l", i) % len(LAST)], FIRST[_h("f", i) % len(FIRST)]
    city, postal, _ = CITY_SLOTS[_h("c", i) % len(CITY_SLOTS)]
    company = _h("k", i) % 5 == 0
    company_name = f"{COMPANY[_h('n', i) % len(COMPANY)]} {last}" if company else ""
    email = f"{normalize(first)}.{normalize(last)}{i}@{DOMAINS[_h('d', i) % len(DOMAINS)]}"
    phone = f"0{1 + i % 7} {i % 90 + 10} {i // 90 % 90 + 10} {i // 8100 % 90 + 10} {_h('p', i) % 90 + 10}"
    siren = f"{100_000_000 + _h('s', i) % 899_999_999}" if company else ""
    display = company_name or f"{last.upper()} {first}"
    return dict(
        kind="entreprise" if company else "particulier", company_name=company_name, last_name=last,
        first_name=first, display_name=display, sort_name=normalize(display), email=email, phone=phone,
        address_line1=f"{1 + i % 120} rue de la République", address_line2="", postal_code=postal, city=city,
        country="FR", siren=siren, vat_number="", notes="", iban_encrypted="", iban_masked="", bic="", rum=None,
        mandate_signed_on=None,
        search_text=normalize(" ".join((company_name, last, first, email, city, postal, phone, siren, ""))),
        created_at=NOW, updated_at=NOW,
    )


def document_rows(i: int, n_contacts: int, company_id: int, methods: list[int]) -> tuple[dict, dict, list, list]:
    """(document, link, payments, e-mails) of document i."""
    contact_id = 1 + _h("dc", i) % n_contacts
    r = i % 20
    kind = "facture" if r <= 12 else "devis" if r <= 16 else "bon_de_commande" if r <= 18 else "bon_de_livraison"
    final = _h("st", i) % 10 != 0
    issue = START + timedelta(days=_h("dd", i) % DAYS)
    ttc = Decimal(10 + _h("a", i) % 5000)  # 10 to 5 009 €
    received = ttc if kind == "facture" and final and _h("pay", i) % 20 < 17 else Decimal(0)
    doc = dict(
        id=i, kind=kind, status="finalise" if final else "brouillon", company_id=company_id,
        number=f"{kind[:2].upper()}-{i}" if final else None, issue_date=issue,
        due_date=issue + timedelta(days=30) if kind == "facture" else None, delivery_date=None,
        payment_terms="30_jours_net", notes="", source_id=None, total_ht=ttc, total_vat=Decimal(0), total_ttc=ttc,
        amount_received=received, snapshot="", contact_name=contact_row(contact_id)["display_name"],
        public_token=None, finalized_at=NOW if final else None, created_at=NOW, updated_at=NOW,
    )
    link = dict(document_id=i, contact_id=contact_id, position=0)
    pays, mails = [], []
    if kind == "facture" and final:
        k = _h("pay", i) % 20
        status = "recu" if k < 17 else "en_attente" if k < 19 else "annule"
        requested = datetime.combine(issue, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9)
        pays.append(dict(
            id=i, document_id=i, company_id=company_id, method_id=methods[i % len(methods)], amount=ttc, status=status,
            allow_overpay=False, requested_at=requested,
            received_on=issue + timedelta(days=_h("rd", i) % 45) if status == "recu" else None,
            amount_refunded=Decimal(0), amount_charged_back=Decimal(0), provider="manuel", checkout_url="", provider_error="",
            updated_at=NOW,
        ))
        for k in range(2 if i % 3 == 0 else 1):
            at = datetime.combine(issue, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=10 + k)
            mails.append(dict(
                id=2 * i + k, document_id=i, sender_email="facturation@exemple.fr", sender_name="Bench",
                to_addrs=doc["contact_name"].lower().replace(" ", ".") + "@exemple.fr", cc_addrs="",
                subject=f"Facture {doc['number']}", body_text="Bonjour, veuillez trouver votre facture.",
                body_html="", include_payment_info=False, status="envoye", provider_message_id=None, error="",
                error_detail="", outcome_uncertain=False, reference=None, attempts=1, attempt_started_at=None,
                created_at=at, sent_at=at, created_by_id=None, last_event="delivered", last_event_detail="",
                delivered_at=at, opened_at=None, bounced_at=None,
            ))
    return doc, link, pays, mails


def setup(engine) -> tuple[int, list[int]]:
    """The company, accounts and payment methods every row refers to: (company_id, method ids)."""
    with session_scope(engine) as session:
        company = companies.save_company(session, None, {"name": "Atelier Bench", "vat_regime": "franchise"}).id
        payments.save_preferences(session, True, False)
        types = {t.code: t.id for t in payments.list_payment_types(session)}
        bank = payments.save_account(session, None, {"account_type": "compte_bancaire", "name": "Banque",
                                                     "identifier": "B"}).id
        cash = payments.save_account(session, None, {"account_type": "caisse", "name": "Caisse",
                                                     "identifier": "C"}).id
        methods = [payments.save_method(session, None, {"payment_type_id": str(types[code]),
                                                        "account_id": str(account)}).id
                   for code, account in (("cheque", bank), ("virement", bank), ("especes", cash))]
    return company, methods


TABLES = {"contact": Contact.__table__, "document": Document.__table__,
          "document_contact": DocumentContact.__table__, "payment": Payment.__table__,
          "email_message": EmailMessage.__table__}


# PostgreSQL, set-based: the document_search rows of documents lo..hi (search text: their
# contacts' search_text joined by a newline, as the triggers of migration f15b3c7d0002 write it).
FILL_DOCUMENT_SEARCH = """
INSERT INTO document_search (document_id, company_id, kind, status, issue_date, total_ttc, search_text)
SELECT d.id, d.company_id, d.kind, d.status, d.issue_date, d.total_ttc, coalesce(t.text, '')
FROM document d LEFT JOIN (
    SELECT dc.document_id, string_agg(c.search_text, E'\\n' ORDER BY dc.contact_id) AS text
    FROM document_contact dc JOIN contact c ON c.id = dc.contact_id
    WHERE dc.document_id BETWEEN :lo AND :hi GROUP BY dc.document_id) t ON t.document_id = d.id
WHERE d.id BETWEEN :lo AND :hi
"""


def _pg_secondary_indexes(conn) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the loaded tables' indexes that back no constraint."""
    rows = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname)"), {"tables": [*TABLES, "document_search"]})
    return [(r[0], r[1]) for r in rows]


def _copy(conn, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    types = TABLES[table].c  # amounts: stored as scaled integers (cents), as the ORM would
    scaled = {c: types[c].type for c in columns if isinstance(types[c].type, ScaledDecimal)}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["\\N" if row[c] is None else scaled[c].process_bind_param(row[c], None) if c in scaled
                         else row[c] for c in columns])
    buffer.seek(0)
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def grow(engine, start: int, stop: int, company_id: int, methods: list[int], chunk: int = 50_000) -> float:
    """Adds contacts and documents start+1 .. stop (with their links, payments, e-mails);
    documents pick their contact among all ``stop`` contacts. Returns the seconds taken."""
    began = time.perf_counter()
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        dropped = []
        if postgres:  # bulk load: no triggers (the finalised documents' guards) nor FK checks
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        if postgres and stop - start > 50_000:
            dropped = _pg_secondary_indexes(conn)
            for name, _ in dropped:
                conn.execute(text(f'DROP INDEX "{name}"'))
        for lo in range(start + 1, stop + 1, chunk):  # every contact first: documents link to any of them
            hi = min(stop, lo + chunk - 1)
            rows = [dict(id=i, **contact_row(i)) for i in range(lo, hi + 1)]
            if postgres:
                _copy(conn, "contact", rows)
            else:
                conn.execute(insert(TABLES["contact"]), rows)
        for lo in range(start + 1, stop + 1, chunk):
            hi = min(stop, lo + chunk - 1)
            batch: dict[str, list] = {name: [] for name in TABLES if name != "contact"}
            for i in range(lo, hi + 1):
                doc, link, pays, mails = document_rows(i, stop, company_id, methods)
                batch["document"].append(doc)
                batch["document_contact"].append(dict(id=i, **link))
                batch["payment"] += pays
                batch["email_message"] += mails
            final = [d["id"] for d in batch["document"] if d["status"] == "finalise"]
            if not postgres:  # SQLite's guards refuse links to a finalised document: finalise after
                for d in batch["document"]:
                    d["status"] = "brouillon"
            for name in batch:  # in foreign-key order
                if postgres:
                    _copy(conn, name, batch[name])
                elif batch[name]:
                    conn.execute(insert(TABLES[name]), batch[name])
                if name == "document_contact" and not postgres:
                    conn.execute(text("UPDATE document SET status = 'finalise' WHERE id = :id"),
                                 [{"id": i} for i in final])
        if postgres:  # document_search: its triggers were off (migration f15b3c7d0002's fill)
            conn.execute(text(FILL_DOCUMENT_SEARCH), {"lo": start + 1, "hi": stop})
        if postgres:
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            for _, create in dropped:
                conn.execute(text(create))
            payment_collections.rebuild_payment_totals(conn)  # its triggers were off (replica)
            for name in TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT max(id) FROM {name}))"))
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in [*TABLES, "document_search"]:  # the steady state autovacuum reaches (visibility map)
                conn.execute(text(f"VACUUM ANALYZE {name}"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - began
