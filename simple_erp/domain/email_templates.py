"""Modèles d'email: {placeholders} in a subject and a body, their check, their rendering and
the HTML version of a plain-text body.

Syntax: ``{name}`` where ``name`` is a key of ``PLACEHOLDERS``; ``{{`` and ``}}`` write a
literal brace. Rendering is a single pass of plain text substitution (never ``str.format``
on user text): a value containing braces is inserted as is and never expanded again.

Pure Python, stdlib only.
"""

from __future__ import annotations

import html
import re

from simple_erp.domain.errors import ValidationErrors

PLACEHOLDERS: dict[str, str] = {
    "contact_nom": "Nom du contact (raison sociale, ou NOM Prénom)",
    "contact_prenom": "Prénom du contact",
    "contact_email": "Adresse email du contact",
    "document_type": "Type du document (Facture, Devis…)",
    "document_numero": "Numéro du document",
    "document_date": "Date du document (jj/mm/aaaa)",
    "document_echeance": "Date d'échéance (jj/mm/aaaa)",
    "document_total_ht": "Total HT",
    "document_total_ttc": "Total TTC",
    "document_reste_du": "Montant restant à régler (total TTC moins les paiements reçus et les prélèvements en cours)",
    "societe_nom": "Nom de votre société",
    "societe_email": "Adresse email de votre société",
    "societe_telephone": "Téléphone de votre société",
    "expediteur_nom": "Votre nom (expéditeur)",
    "expediteur_email": "Votre adresse email (expéditeur)",
    "lien_paiement": "Lien de la page de paiement en ligne (Mollie)",
    "coordonnees_bancaires": "Coordonnées bancaires (IBAN, BIC) pour un virement",
    "prelevement_montant": "Montant du prélèvement SEPA annoncé (pré-notification)",
    "prelevement_date": "Date du prélèvement SEPA annoncé (jj/mm/aaaa)",
    "mandat_rum": "Référence unique du mandat SEPA (RUM) du contact",
    "creancier_ics": "Identifiant créancier SEPA (ICS) de votre société",
    "jours_retard": "Relances : retard de paiement (« 12 jours ») depuis l'échéance",
    "paiement_en_ligne": "Relances : phrase et lien de paiement en ligne (Mollie, vide quand Mollie n'est pas actif)",
    "mentions_retard": "Relances : pénalités de retard et indemnité forfaitaire de 40 € (clients professionnels seulement)",
}

SAMPLE_VALUES: dict[str, str] = {
    "contact_nom": "DURAND Léa",
    "contact_prenom": "Léa",
    "contact_email": "lea.durand@exemple.fr",
    "document_type": "Facture",
    "document_numero": "F-2026-00042",
    "document_date": "28/11/2026",
    "document_echeance": "28/12/2026",
    "document_total_ht": "1\u202f000,00\u00a0€",
    "document_total_ttc": "1\u202f200,00\u00a0€",
    "document_reste_du": "1\u202f200,00\u00a0€",
    "societe_nom": "Atelier Martin SARL",
    "societe_email": "contact@atelier-martin.fr",
    "societe_telephone": "01 23 45 67 89",
    "expediteur_nom": "Paul Martin",
    "expediteur_email": "paul@atelier-martin.fr",
    "lien_paiement": "https://www.mollie.com/checkout/select-method/exemple",
    "coordonnees_bancaires": "IBAN : FR76 3000 6000 0112 3456 7890 189\nBIC : AGRIFRPP",
    "prelevement_montant": "250,00\u00a0€",
    "prelevement_date": "15/01/2027",
    "mandat_rum": "RUM-ATELIER-000042",
    "creancier_ics": "FR72ZZZ123456",
    "jours_retard": "12 jours",
    "paiement_en_ligne": "Vous pouvez la régler en ligne, en toute sécurité, en suivant ce lien :\nhttps://www.mollie.com/checkout/select-method/exemple",
    "mentions_retard": "Conformément à l'article L441-10 du Code de commerce, des pénalités de retard au taux annuel de 12,15 % sont exigibles, soit 4,79\u00a0€ à ce jour pour 12 jours de retard, ainsi que l'indemnité forfaitaire pour frais de recouvrement de 40,00\u00a0€.",
}

# "{{", "}}", "{anything without braces}", or a lone brace (malformed).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|[{}]")
_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]»"
_FIELD_LABELS = {"subject": "le sujet", "body": "le texte"}


def _scan(text: str) -> tuple[list[str], list[str]]:
    """(unknown placeholder names, malformed tokens) found in ``text``."""
    unknown: list[str] = []
    malformed: list[str] = []
    for match in _TOKEN.finditer(text or ""):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            malformed.append(token)
        elif name not in PLACEHOLDERS:
            if name not in unknown:
                unknown.append(name)
    return unknown, malformed


def _problem(field: str, text: str) -> str | None:
    unknown, malformed = _scan(text)
    where = _FIELD_LABELS[field]
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        return (f"Variable{plural} inconnue{plural} dans {where} : {names}. Variables disponibles : "
                + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + ".")
    if malformed:
        return (f"Accolade isolée dans {where} : une variable s'écrit entre accolades, par exemple "
                "{contact_nom} ; pour écrire une accolade, doublez-la ({{ ou }}).")
    return None


def check_template(subject: str, body: str) -> None:
    """Raise ``ValidationErrors`` (fields "subject", "body") naming every unknown placeholder,
    or a lone / badly closed brace."""
    errors = {field: problem for field, text in (("subject", subject), ("body", body))
              if (problem := _problem(field, text)) is not None}
    if errors:
        raise ValidationErrors(errors)


def placeholders_in(text: str) -> list[str]:
    """Known placeholder names used in ``text``, in order of first use."""
    found: list[str] = []
    for match in _TOKEN.finditer(text or ""):
        name = match.group(1)
        if name in PLACEHOLDERS and name not in found:
            found.append(name)
    return found


def render(template_text: str, values: dict[str, str]) -> str:
    """Substitute ``{name}`` with ``values[name]`` (missing known names give ""); ``{{``/``}}``
    give one brace; an unknown ``{name}`` or a lone brace is left as written. One pass: the
    inserted values are never interpreted."""

    def substitute(match: re.Match) -> str:
        token, name = match.group(0), match.group(1)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if name is not None and name in PLACEHOLDERS:
            return str(values.get(name, "") or "")
        return token

    return _TOKEN.sub(substitute, template_text or "")


def _link(url: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(url, quote=False)}</a>'


def _html_line(line: str) -> str:
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(line):
        url = match.group(0)
        stripped = url.rstrip(_URL_TRAILING)
        parts.append(html.escape(line[position:match.start()], quote=False))
        parts.append(_link(stripped))
        parts.append(html.escape(url[len(stripped):], quote=False))
        position = match.end()
    parts.append(html.escape(line[position:], quote=False))
    return "".join(parts)


def text_to_html(text: str) -> str:
    """The HTML body of a plain-text message: every character escaped (a contact named
    ``<script>`` stays text), line breaks as ``<br>``, http(s) URLs (e.g. the payment link)
    as links whose address is escaped too."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    inner = "<br>\n".join(_html_line(line) for line in lines)
    return ('<div style="font-family: Arial, Helvetica, sans-serif; font-size: 14px; '
            f'line-height: 1.5; color: #222;">{inner}</div>')


def preview(subject: str, body: str) -> tuple[str, str]:
    """(subject, body) rendered with example values, as plain text, for the live preview of
    a modèle. Never raises: unknown placeholders stay as written (check_template reports them)."""
    return render(subject, SAMPLE_VALUES), render(body, SAMPLE_VALUES)
