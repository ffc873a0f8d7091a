"""Modèles d'email (domain.email_templates): placeholders, unknown ones refused, malformed
braces, one-pass rendering, HTML escaping and links, preview."""

from __future__ import annotations

import pytest

from simple_erp.domain.email_templates import (
    PLACEHOLDERS,
    SAMPLE_VALUES,
    check_template,
    placeholders_in,
    preview,
    render,
    text_to_html,
)
from simple_erp.domain.errors import ValidationErrors

REQUIRED = {"contact_nom", "document_numero", "document_total_ttc", "document_echeance", "societe_nom",
            "lien_paiement", "coordonnees_bancaires"}


def errors_of(subject: str, body: str) -> dict[str, str]:
    with pytest.raises(ValidationErrors) as info:
        check_template(subject, body)
    return info.value.errors


def test_the_placeholders_of_the_issue_exist_with_french_descriptions_and_samples():
    assert REQUIRED <= set(PLACEHOLDERS)
    assert all(description.strip() for description in PLACEHOLDERS.values())
    assert set(SAMPLE_VALUES) == set(PLACEHOLDERS)


def test_known_placeholders_and_doubled_braces_pass():
    body = "Bonjour {contact_nom},\n" + " ".join(f"{{{name}}}" for name in PLACEHOLDERS) + " {{litéral}}"
    check_template("Facture {document_numero} — {societe_nom}", body)


def test_an_unknown_placeholder_is_named_on_its_field():
    errors = errors_of("Facture {numero}", "Bonjour {contact_nom}")
    assert set(errors) == {"subject"}
    assert "{numero}" in errors["subject"] and "inconnue" in errors["subject"]
    assert "{document_numero}" in errors["subject"]  # the list of what exists


def test_every_unknown_placeholder_of_both_fields_is_reported_once():
    errors = errors_of("{sujet}", "{client} {montant} {client} {contact_nom}")
    assert "{sujet}" in errors["subject"]
    body = errors["body"]
    assert "{client}" in body and "{montant}" in body and body.count("{client}") == 1
    assert body.startswith("Variables inconnues")


@pytest.mark.parametrize("body", ["Bonjour {contact_nom", "Bonjour contact_nom}", "Total : {}x}",
                                  "{contact\n_nom}", "{ {contact_nom}"])
def test_malformed_braces_are_refused(body):
    errors = errors_of("Sujet", body)
    assert set(errors) == {"body"}


def test_case_and_spaces_matter():
    assert "{Contact_Nom}" in errors_of("ok", "{Contact_Nom}")["body"]
    assert "{ contact_nom }" in errors_of("ok", "{ contact_nom }")["body"]


def test_render_substitutes_known_names_and_leaves_the_rest():
    values = {"contact_nom": "Léa", "document_numero": "F-1"}
    assert render("Bonjour {contact_nom}, facture {document_numero}.", values) == "Bonjour Léa, facture F-1."
    assert render("{inconnu} {contact_nom", values) == "{inconnu} {contact_nom"
    assert render("{{contact_nom}} {{ }}", values) == "{contact_nom} { }"
    assert render("{societe_nom}|", values) == "|"  # a known name without value: empty


def test_render_is_one_pass_and_never_formats_user_text():
    values = {"contact_nom": "{document_numero} {0} {__class__} %s", "document_numero": "F-1"}
    assert render("{contact_nom}", values) == "{document_numero} {0} {__class__} %s"
    assert render("{0.__class__} {contact_nom!r}", values) == "{0.__class__} {contact_nom!r}"


def test_placeholders_in_lists_known_names_in_order():
    assert placeholders_in("{societe_nom} {contact_nom} {x} {societe_nom} {{contact_email}}") == [
        "societe_nom", "contact_nom"]


def test_a_contact_named_script_stays_text_in_the_html_body():
    text = render("Bonjour {contact_nom},\nMerci.", {"contact_nom": "<script>alert('x')</script> & Fils"})
    html = text_to_html(text)
    assert "<script>" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; Fils" in html
    assert "<br>" in html and "Merci." in html


def test_payment_links_become_links_with_escaped_addresses():
    url = "https://pay.example.com/checkout?id=1&lang=fr"
    html = text_to_html(f"Payer ici : {url}.\nFin")
    assert '<a href="https://pay.example.com/checkout?id=1&amp;lang=fr">' in html
    assert ">https://pay.example.com/checkout?id=1&amp;lang=fr</a>." in html  # trailing dot kept outside
    hostile = text_to_html('https://x.example/a"onmouseover="alert(1) <b>')
    assert '<a href="https://x.example/a">https://x.example/a</a>"onmouseover' in hostile  # text, not attribute
    assert "<b>" not in hostile and hostile.count("<a ") == 1
    assert "<a " not in text_to_html("javascript:alert(1) ftp://x.example data:text/html,x")


def test_line_breaks_of_any_style_become_br():
    assert text_to_html("a\r\nb\rc\nd").count("<br>") == 3


def test_preview_uses_the_sample_values_and_never_raises():
    subject, body = preview("Facture {document_numero}", "Bonjour {contact_nom}, {inconnu} {lien_paiement")
    assert subject == f"Facture {SAMPLE_VALUES['document_numero']}"
    assert body == f"Bonjour {SAMPLE_VALUES['contact_nom']}, {{inconnu}} {{lien_paiement"
