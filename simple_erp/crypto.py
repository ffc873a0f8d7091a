"""Encryption of secrets and sensitive data at rest (Fernet, key from the environment).

The key comes from ``SIMPLE_ERP_SECRET_KEY``; on a first local run it is generated
into ``data/secret.key`` (git-ignored). Production refuses to start without it.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from simple_erp.config import get_settings

PLACEHOLDERS = {"", "changeme", "change-me", "secret", "xxx"}


class SecretKeyError(RuntimeError):
    pass


def _load_or_create_key() -> bytes:
    settings = get_settings()
    if settings.secret_key.strip().lower() not in PLACEHOLDERS:
        return settings.secret_key.strip().encode()
    if settings.is_production:
        raise SecretKeyError(
            "SIMPLE_ERP_SECRET_KEY doit être défini en production "
            "(générez-le avec: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
    path = settings.data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


@lru_cache(maxsize=1)
def _load_key_cached() -> bytes:
    return _load_or_create_key()


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    try:
        return Fernet(_load_key_cached())
    except ValueError as exc:  # malformed key
        raise SecretKeyError("SIMPLE_ERP_SECRET_KEY n'est pas une clé Fernet valide.") from exc


def encrypt(plain: str) -> str:
    """Encrypt a text; the empty string stays empty (nothing to protect)."""
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError(
            "Impossible de déchiffrer une donnée : la clé SIMPLE_ERP_SECRET_KEY a changé."
        ) from exc


def key_material(purpose: bytes) -> bytes:
    """A sub-key derived from the secret key, for one purpose (e.g. signing URLs)."""
    import hashlib
    import hmac

    return hmac.new(_load_key_cached(), purpose, hashlib.sha256).digest()
