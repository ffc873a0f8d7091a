"""« Importer une facture électronique » (/erp/factures-recues): drop a supplier's Factur-X
PDF, CII XML or UBL 2.1 XML; it is read back (parties, number, dates, lines, VAT, totals),
validated (XSD, EN 16931, BR-FR) and kept in the company's « Factures reçues »."""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex.vars.object import ObjectVar
from reflex.vars.sequence import ArrayVar

from simple_erp.components.forms import file_upload
from simple_erp.components.layout import empty_state, staff_page
from simple_erp.db import session_scope
from simple_erp.domain.einvoice.received import unit_label
from simple_erp.domain.errors import DomainError
from simple_erp.domain.money import decimal_places, format_date_fr, format_decimal_fr, format_eur
from simple_erp.services import clock, companies, einvoice
from simple_erp.state.auth import SESSION_EXPIRED, AuthState

ROUTE = "/erp/factures-recues"
TITLE = "Importer une facture électronique"
UPLOAD_ID = "einvoice-upload"
ACCEPT = {"application/pdf": [".pdf"], "application/xml": [".xml"], "text/xml": [".xml"]}
TOO_LARGE = f"Fichier trop lourd : {einvoice.IMPORT_MAX_BYTES // 1024} Ko au maximum."
ERRORS_SHOWN = 20


def _money(value, currency: str) -> str:
    if currency == "EUR":
        return format_eur(value)
    return f"{format_decimal_fr(value, 2)}\u00a0{currency}"


def _price(value, currency: str) -> str:
    """12,50 € — or 0,1234 € when a unit price has more than two decimals."""
    if decimal_places(value) <= 2:
        return _money(value, currency)
    return f"{format_decimal_fr(value, None)}\u00a0{'€' if currency == 'EUR' else currency}"


def _number(value) -> str:
    return "" if value is None else format_decimal_fr(value, None)


def _ids(party) -> str:
    parts = [f"SIREN {party.siren}" if party.siren else "", f"SIRET {party.siret}" if party.siret else "",
             f"TVA {party.vat_number}" if party.vat_number else ""]
    return " · ".join(p for p in parts if p) or "Aucun identifiant"


def _detail(received_id: int, company_id: int) -> dict:
    """Everything the detail card shows, formatted in French."""
    with session_scope() as session:
        row, read = einvoice.received_detail(session, received_id, company_id)
    data, cur = read.data, read.data.currency
    checks = [{"label": c.label, "status": "valide" if c.ok else f"{len(c.errors)} erreur(s)",
               "ok": "1" if c.ok else "",
               "errors": "\n".join(c.errors[:ERRORS_SHOWN]) + (f"\n… et {len(c.errors) - ERRORS_SHOWN} autre(s)"
                                                              if len(c.errors) > ERRORS_SHOWN else "")}
              for c in read.report.checks]
    return {
        "selected": {
            "id": str(row.id), "title": f"{data.kind_label} {data.number}", "number": data.number,
            "kind": data.kind_label, "format": einvoice.SOURCE_LABELS[read.source_format], "filename": row.filename,
            "seller": data.seller.name, "seller_ids": _ids(data.seller), "seller_address": data.seller.address,
            "buyer": data.buyer.name, "buyer_ids": _ids(data.buyer), "buyer_address": data.buyer.address,
            "issue_date": format_date_fr(data.issue_date),
            "due_date": format_date_fr(data.due_date) if data.due_date else "—",
            "preceding": data.preceding_invoice,
            "total_ht": _money(data.total_ht, cur), "total_vat": _money(data.total_vat, cur),
            "total_ttc": _money(data.total_ttc, cur), "amount_due": _money(data.amount_due, cur),
            "valid": "valide" if read.report.valid else "non valide",
        },
        "lines": [{"description": ln.description, "quantity": _number(ln.quantity), "unit": unit_label(ln.unit),
                   "unit_price": _price(ln.unit_price, cur),
                   "vat": f"{_number(ln.vat_rate)} %" if ln.vat_rate is not None else ln.vat_category,
                   "net": _money(ln.net_amount, cur)} for ln in data.lines],
        "vat_rows": [{"label": f"TVA {_number(v.rate)} % ({v.category}) sur {_money(v.base, cur)}"
                      if v.rate is not None else f"TVA ({v.category}) sur {_money(v.base, cur)}",
                      "amount": _money(v.amount, cur)} for v in data.vat_breakdown],
        "checks": checks,
    }


def _list(company_id: int) -> list[dict[str, str]]:
    with session_scope() as session:
        rows = einvoice.list_received(session, company_id)
    return [{"id": str(r.id), "imported": r.created_at.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M"),
             "seller": r.seller_name, "number": r.number, "kind": "Avoir" if r.kind == "avoir" else "Facture",
             "date": format_date_fr(r.issue_date), "total": _money(r.total_ttc, r.currency),
             "valid": "valide" if r.valid else "non valide"} for r in rows]


def _company_choices() -> list[list[str]]:
    with session_scope() as session:
        return [[str(c.id), c.name] for c in companies.list_companies(session)]


def _import(company_id: int, filename: str, data: bytes, user_id: int) -> int:
    with session_scope() as session:
        return einvoice.import_received_invoice(session, company_id, filename, data, user_id).id


class EinvoiceImportState(AuthState):
    company_id: str = ""
    companies: list[list[str]] = []
    rows: list[dict[str, str]] = []
    selected: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    vat_rows: list[dict[str, str]] = []
    checks: list[dict[str, str]] = []
    importing: bool = False

    async def _refresh(self) -> None:
        self.companies = await asyncio.to_thread(_company_choices)
        ids = [c[0] for c in self.companies]
        if self.company_id not in ids:
            self.company_id = ids[0] if ids else ""
        self.rows = await asyncio.to_thread(_list, int(self.company_id)) if self.company_id else []

    async def _show(self, received_id: int) -> None:
        detail = await asyncio.to_thread(_detail, received_id, int(self.company_id))
        self.selected, self.lines = detail["selected"], detail["lines"]
        self.vat_rows, self.checks = detail["vat_rows"], detail["checks"]

    def _clear(self) -> None:
        self.selected, self.lines, self.vat_rows, self.checks = {}, [], [], []

    @rx.event
    async def load(self):
        if self._current_user() is None:
            return
        self._clear()
        await self._refresh()

    @rx.event
    async def set_company(self, company_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        self.company_id = company_id
        self._clear()
        await self._refresh()

    @rx.event
    async def show(self, received_id: str):
        if self._current_user() is None:
            return rx.toast.error(SESSION_EXPIRED)
        try:
            await self._show(int(received_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        user = self._current_user()
        if user is None:
            return rx.toast.error(SESSION_EXPIRED)
        if not files:  # the browser refused the file (rejected says why)
            return None
        if not self.company_id:
            return rx.toast.error("Créez d'abord la société émettrice (Admin ERP) qui reçoit les factures.")
        upload = files[0]
        if upload.size is not None and upload.size > einvoice.IMPORT_MAX_BYTES:
            return rx.toast.error(TOO_LARGE)  # before reading it
        data = await upload.read()
        self.importing = True
        try:
            received_id = await asyncio.to_thread(_import, int(self.company_id), upload.filename or "", data, user.id)
            await self._refresh()
            await self._show(received_id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        finally:
            self.importing = False
        verdict = "valide" if self.selected.get("valid") == "valide" else "non valide : voyez les erreurs"
        return rx.toast.success(f"{self.selected['title']} importée ({verdict}).")

    @rx.event
    def rejected(self, codes: str):
        if "file-too-large" in codes.split(","):
            return rx.toast.error(TOO_LARGE)
        return rx.toast.error("Déposez un PDF Factur-X ou un XML (CII ou UBL 2.1).")


S = EinvoiceImportState


def _rejection_codes(rejected) -> rx.Var:
    return (rejected.to(ArrayVar, list[dict])
            .map(lambda item: item.to(ObjectVar, dict)["errors"].to(ArrayVar, list[dict])
                 .map(lambda error: error.to(ObjectVar, dict)["code"].to(str)).join(","))
            .join(","))


def _company_selector() -> rx.Component:
    return rx.cond(
        S.companies.length() > 1,
        rx.hstack(
            rx.el.label(rx.text("Société destinataire", size="2"), html_for="einvoice-company"),
            rx.el.select(rx.foreach(S.companies, lambda c: rx.el.option(c[1], value=c[0])),
                         value=S.company_id, on_change=S.set_company, id="einvoice-company",
                         class_name="rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface",
                         style={"padding": "0 8px"}),
            align="center",
        ),
    )


def _drop_zone() -> rx.Component:
    return file_upload(
        "Facture reçue (PDF Factur-X, XML CII ou UBL)",
        rx.vstack(
            rx.icon("file-input", size=28, color="var(--gray-10)"),
            rx.text("Déposez ici la facture reçue d'un fournisseur : PDF Factur-X (ou ZUGFeRD), XML CII ou XML UBL 2.1.",
                    size="2"),
            rx.button("Choisir un fichier (PDF ou XML)", variant="soft", type="button", loading=S.importing),
            align="center", spacing="2",
        ),
        id=UPLOAD_ID, accept=ACCEPT, max_files=1, max_size=einvoice.IMPORT_MAX_BYTES,
        on_drop=S.upload(rx.upload_files(upload_id=UPLOAD_ID)),
        on_drop_rejected=lambda rejected: S.rejected(_rejection_codes(rejected)),
        border="2px dashed var(--gray-a7)", border_radius="8px", padding="1.5em", width="100%",
    )


def _party(title: str, name, ids, address, id: str) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(title, size="1", color="gray", weight="medium"),
        rx.text(name, weight="bold", id=f"{id}-name"),
        rx.text(ids, size="2", id=f"{id}-ids"),
        rx.text(address, size="2", color="gray"),
        spacing="1",
    ), width="100%")


def _cell_right(value) -> rx.Component:
    return rx.table.cell(value, text_align="right", white_space="nowrap")


def _detail_card() -> rx.Component:
    sel = S.selected
    return rx.card(rx.vstack(
        rx.hstack(
            rx.heading(sel["title"], size="4", id="received-title"),
            rx.badge(sel["valid"], color_scheme=rx.cond(sel["valid"] == "valide", "green", "red"), size="2",
                     id="received-valid"),
            rx.text(sel["format"], " · ", sel["filename"], size="2", color="gray"),
            align="center", wrap="wrap",
        ),
        rx.grid(
            _party("Vendeur (fournisseur)", sel["seller"], sel["seller_ids"], sel["seller_address"], "received-seller"),
            _party("Acheteur", sel["buyer"], sel["buyer_ids"], sel["buyer_address"], "received-buyer"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        rx.hstack(
            rx.text("Numéro : ", rx.text.strong(sel["number"], id="received-number"), size="2"),
            rx.text("Type : ", rx.text.strong(sel["kind"], id="received-kind"), size="2"),
            rx.text("Date d'émission : ", rx.text.strong(sel["issue_date"], id="received-issue-date"), size="2"),
            rx.text("Échéance : ", rx.text.strong(sel["due_date"], id="received-due-date"), size="2"),
            rx.cond(sel["preceding"] != "", rx.text("Facture corrigée : ", rx.text.strong(sel["preceding"]), size="2")),
            spacing="5", wrap="wrap",
        ),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Désignation", "Quantité", "Unité", "Prix unitaire HT", "TVA", "Montant HT")])),
            rx.table.body(rx.foreach(S.lines, lambda ln: rx.table.row(
                rx.table.cell(ln["description"]), _cell_right(ln["quantity"]), rx.table.cell(ln["unit"]),
                _cell_right(ln["unit_price"]), _cell_right(ln["vat"]), _cell_right(ln["net"]),
                class_name="received-line",
            ))),
            width="100%", size="1", variant="surface",
        ), overflow_x="auto", width="100%"),
        rx.vstack(
            rx.hstack(rx.text("Total HT"), rx.spacer(), rx.text(sel["total_ht"], id="received-total-ht"), width="100%"),
            rx.foreach(S.vat_rows, lambda v: rx.hstack(rx.text(v["label"]), rx.spacer(), rx.text(v["amount"]),
                                                       width="100%", class_name="received-vat")),
            rx.hstack(rx.text("Total TVA"), rx.spacer(), rx.text(sel["total_vat"], id="received-total-vat"), width="100%"),
            rx.hstack(rx.text("Total TTC", weight="bold"), rx.spacer(),
                      rx.text(sel["total_ttc"], weight="bold", id="received-total-ttc"), width="100%"),
            rx.hstack(rx.text("Net à payer"), rx.spacer(), rx.text(sel["amount_due"], id="received-amount-due"),
                      width="100%"),
            spacing="1", width="100%", max_width="420px", align_self="end",
        ),
        rx.heading("Validation", size="3"),
        rx.foreach(S.checks, lambda c: rx.box(
            rx.hstack(
                rx.icon(rx.cond(c["ok"] == "1", "circle-check", "circle-x"), size=16,
                        color=rx.cond(c["ok"] == "1", "var(--green-10)", "var(--red-10)")),
                rx.text(c["label"], " : ", rx.text.strong(c["status"]), size="2"),
                align="center",
            ),
            rx.cond(c["errors"] != "", rx.el.pre(c["errors"], style={"white_space": "pre-wrap", "font_size": "11px",
                                                                      "margin": "0.25em 0 0 1.5em"})),
            class_name="received-check", width="100%",
        )),
        spacing="3", width="100%",
    ), width="100%", id="received-detail")


def _list_table() -> rx.Component:
    return rx.vstack(
        rx.heading("Factures reçues", size="4"),
        rx.cond(
            S.rows.length() == 0,
            empty_state("Aucune facture reçue importée. Déposez ci-dessus une facture électronique reçue d'un "
                        "fournisseur.", id="received-empty"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Importée le", "Fournisseur", "Numéro", "Type", "Date", "Total TTC", "Validation")])),
                rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                    rx.table.cell(r["imported"]), rx.table.cell(r["seller"]),
                    rx.table.cell(rx.button(r["number"], variant="ghost", size="1", on_click=S.show(r["id"]),
                                            class_name="received-open")),
                    rx.table.cell(r["kind"]), rx.table.cell(r["date"]), _cell_right(r["total"]),
                    rx.table.cell(rx.badge(r["valid"], color_scheme=rx.cond(r["valid"] == "valide", "green", "red"))),
                    class_name="received-row",
                ))),
                width="100%", variant="surface",
            ), overflow_x="auto", width="100%"),
        ),
        spacing="2", width="100%",
    )


def einvoice_import_page() -> rx.Component:
    return staff_page(
        rx.vstack(
            rx.hstack(rx.link("← Simple ERP", href="/erp", size="2"), align="center"),
            rx.text("La facture est lue, vérifiée hors ligne (XSD, norme EN 16931, règles françaises BR-FR) et "
                    "conservée telle que reçue : c'est la première étape de la réception des factures électroniques.",
                    size="2", color="gray"),
            _company_selector(),
            _drop_zone(),
            rx.cond(S.selected.get("id", "") != "", _detail_card()),
            _list_table(),
            spacing="4", width="100%",
        ),
        title=TITLE,
    )
