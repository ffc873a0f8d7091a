"""The customer's public payment page (no sign-in): /payer/<token>.

Server-rendered on purpose: an anonymous visitor gets plain HTML, a real 404 for an
unknown token, and no access to the app's websocket or event handlers at all. The page
asks only for what remains to pay net of received and in-flight payments (a running SEPA
direct debit is never offered to be paid again by card). The return page follows the card
payment the customer just made: it refreshes itself every few seconds while that payment
is open at Mollie, then says it was received (and what remains, if anything) or failed.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from string import Template

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from simple_erp.db import session_scope
from simple_erp.domain.errors import DomainError
from simple_erp.services import signed_urls
from simple_erp.services.mollie import payments as mollie_payments

log = logging.getLogger(__name__)
_PAGE = Template((Path(__file__).parent / "templates" / "public_invoice.html").read_text(encoding="utf-8"))
NOT_FOUND = ("<!doctype html><html lang='fr'><meta charset='utf-8'><title>Page introuvable</title>"
             "<body style='font-family:sans-serif;text-align:center;margin-top:20vh'>"
             "<h1>404</h1><p>Page introuvable.</p></body></html>")


def _urls(request: Request) -> mollie_payments.AppUrls:
    from simple_erp.state.urls import app_urls

    return app_urls()


def _load(token: str):
    with session_scope() as session:
        return mollie_payments.public_invoice(session, token)


def _status(invoice, returning: bool) -> tuple[str, bool]:
    """(the status banner, whether it is still in progress). On the return page it follows
    the card payment the customer just made, by that payment's own status: received, failed
    (or cancelled, expired), or still open at Mollie (the page then refreshes itself)."""
    e = html.escape
    if returning and invoice.last_status == "paye":
        if invoice.paid:
            return "<div class='status ok' id='payment-state'>Facture réglée. Merci !</div>", False
        rest = (f" Reste à régler : {e(invoice.amount_due)}." if not invoice.nothing_to_pay
                else f" {e(invoice.nothing_to_pay)}")
        return (f"<div class='status ok' id='payment-state'>Paiement reçu, merci ! "
                f"Votre paiement de {e(invoice.last_amount)} est confirmé.{rest}</div>"), False
    if returning and invoice.last_status == "echoue":
        return "<div class='status ko' id='payment-state'>Le paiement a échoué ou a été annulé.</div>", False
    if returning and invoice.last_status == "en_cours":
        return "<div class='status wait' id='payment-state'>Paiement en cours de confirmation…</div>", True
    if invoice.paid:
        return "<div class='status ok' id='payment-state'>Facture réglée. Merci !</div>", False
    if invoice.nothing_to_pay:
        return f"<div class='status wait' id='payment-state'>{e(invoice.nothing_to_pay)}</div>", False
    return "", False


def _render(invoice, token: str, returning: bool, error: str = "") -> str:
    e = html.escape
    status, in_progress = _status(invoice, returning)
    if error:
        status += f"<div class='status ko'>{e(error)}</div>"
    body = ""
    if not invoice.paid and not invoice.nothing_to_pay:
        body = f"<p>Montant à régler</p><div class='due' id='amount-due'>{e(invoice.amount_due)}</div>"
        if invoice.in_flight_note:
            body += f"<p id='in-flight'>{e(invoice.in_flight_note)}</p>"
        if invoice.online_payment and not in_progress:
            label = "Réessayer" if returning and invoice.last_status == "echoue" else "Payer par carte bancaire"
            body += (f"<form method='post' action='/payer/{e(token)}/payer'>"
                     f"<button type='submit' id='pay'>{label}</button></form>")
    pdf = ""
    if invoice.latest_pdf_id:
        link = f"/api/files/{invoice.latest_pdf_id}?t={signed_urls.sign('file', invoice.latest_pdf_id)}"
        pdf = f"<a href='{e(link)}' id='pdf-link'>Télécharger la facture (PDF)</a>"
    logo = f"<img src='{e(invoice.logo_data_uri)}' alt=''>" if invoice.logo_data_uri else ""
    return _PAGE.substitute(
        title=e(f"Facture {invoice.number} — {invoice.company_name}"),
        refresh="<meta http-equiv='refresh' content='3'>" if in_progress else "",
        logo=logo, company=e(invoice.company_name), number=e(invoice.number),
        issue_date=e(invoice.issue_date), due_date=e(invoice.due_date), total=e(invoice.total_ttc),
        status=status, body=body, pdf=pdf,
    )


async def invoice_page(request: Request) -> Response:
    token = request.path_params["token"]
    invoice = await run_in_threadpool(_load, token)
    if invoice is None:
        return HTMLResponse(NOT_FOUND, status_code=404)
    returning = request.url.path.endswith("/retour")
    if returning and invoice.last_status == "en_cours":
        # The webhook may be late (or unable to reach us): ask Mollie directly, at most
        # every few seconds, through the same service the webhook uses.
        await run_in_threadpool(mollie_payments.refresh_public_status, session_scope, token)
        invoice = await run_in_threadpool(_load, token) or invoice
    return HTMLResponse(_render(invoice, token, returning), headers={"Cache-Control": "no-store"})


async def pay(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        checkout_url = await run_in_threadpool(mollie_payments.pay_online, session_scope, token, _urls(request))
    except DomainError as exc:
        invoice = await run_in_threadpool(_load, token)
        if invoice is None:
            return HTMLResponse(NOT_FOUND, status_code=404)
        return HTMLResponse(_render(invoice, token, False, exc.message), status_code=409)
    return RedirectResponse(checkout_url, status_code=303)


routes = [
    Route("/payer/{token}", invoice_page, methods=["GET"]),
    Route("/payer/{token}/retour", invoice_page, methods=["GET"]),
    Route("/payer/{token}/payer", pay, methods=["POST"]),
]
