"""Short-lived signed download links (HMAC), so file URLs need no cookie across ports."""

from __future__ import annotations

import hashlib
import hmac
import time

from simple_erp.crypto import key_material

DEFAULT_TTL = 12 * 3600


def _mac(purpose: str, object_id: int, expires: int) -> str:
    message = f"{purpose}:{object_id}:{expires}".encode()
    return hmac.new(key_material(b"signed-urls"), message, hashlib.sha256).hexdigest()[:32]


def sign(purpose: str, object_id: int, ttl: int = DEFAULT_TTL, now: float | None = None) -> str:
    expires = int((now or time.time()) + ttl)
    return f"{expires}.{_mac(purpose, object_id, expires)}"


def verify(purpose: str, object_id: int, token: str, now: float | None = None) -> bool:
    try:
        expires_text, mac = token.split(".", 1)
        expires = int(expires_text)
    except ValueError:
        return False
    if expires < (now or time.time()):
        return False
    return hmac.compare_digest(mac, _mac(purpose, object_id, expires))
