"""Password policy: long enough, and not common or trivial (zxcvbn's estimate)."""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# zxcvbn scores 0–4; 3 = "safely unguessable", as most guides advise for accounts.
MIN_SCORE = 3
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are judged

TOO_SHORT = f"Le mot de passe doit contenir au moins {MIN_PASSWORD_LENGTH} caractères."
TOO_LONG = f"Le mot de passe ne peut pas dépasser {MAX_PASSWORD_LENGTH} caractères."
TOO_WEAK = (
    "Mot de passe trop facile à deviner (mot de passe courant, suite, répétition ou "
    "reprise de votre nom ou de votre email) : choisissez par exemple plusieurs mots "
    "séparés par des tirets."
)


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str:
    """'' when the password is acceptable, else why not (French)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return TOO_LONG
    if not password.strip():
        return TOO_WEAK
    inputs = [value.strip().lower() for value in user_inputs if value and value.strip()]
    # The email's parts too (« claire.martin », « boulangerie-dupre »).
    for value in list(inputs):
        if "@" in value:
            local, _, domain = value.partition("@")
            inputs += [local, domain, domain.split(".")[0]]
    if any(password.strip().lower() == value for value in inputs):
        return TOO_WEAK
    if zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=inputs)["score"] < MIN_SCORE:
        return TOO_WEAK
    return ""
