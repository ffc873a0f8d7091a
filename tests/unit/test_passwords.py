"""Password policy (simple_erp.domain.passwords): common and trivial passwords refused."""

from __future__ import annotations

import pytest

from simple_erp.domain.passwords import TOO_LONG, TOO_SHORT, TOO_WEAK, password_problem

EMAIL = "claire.martin@boulangerie-dupre.fr"


@pytest.mark.parametrize(
    "password",
    [
        " " * 10, "0123456789", "password12", "azertyuiop", "motdepasse123", "aaaaaaaaaaaa",
        "abcabcabcabc", "1111111111", "qwertyuiop", EMAIL, "claire.martin", "Claire Martin 1",
        "boulangerie-dupre", "Password123!", "soleil12345",
    ],
)
def test_common_and_trivial_passwords_are_refused(password):
    assert password_problem(password, (EMAIL, "Claire Martin")) == TOO_WEAK


@pytest.mark.parametrize(
    "password", ["Croissant-2024!", "motdepasse-solide", "Pain-au-chocolat-2025", "cheval correct agrafe pile"]
)
def test_good_passwords_are_accepted(password):
    assert password_problem(password, (EMAIL, "Claire Martin")) == ""


def test_length_limits():
    assert password_problem("Cr0is-sant") == ""  # 10 characters, not guessable
    assert password_problem("Cr0is-san") == TOO_SHORT
    assert password_problem("x" * 257) == TOO_LONG
    long_but_good = "Croissant-2024!" * 10  # only the first 72 characters are estimated
    assert password_problem(long_but_good) == ""


def test_the_message_is_french_and_explains():
    assert TOO_WEAK.startswith("Mot de passe trop facile à deviner")
    assert TOO_SHORT == "Le mot de passe doit contenir au moins 10 caractères."
