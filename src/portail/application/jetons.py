"""Session tokens: signed (HS256) with the sessions secret, their expiry read against the
application's clock. Built by the composition root; the API's middleware reads them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import jwt


class JetonRefuse(Exception):
    """Forged, malformed or expired: the caller must log in again."""


@dataclass(frozen=True)
class JetonEmis:
    jeton: str
    expire_le: datetime
    csrf: str


class Jetons:
    ALGORITHME = "HS256"

    VERIFIES_MAX = 10_000
    """Tokens whose signature was checked, kept with their claims (about a kilobyte each)."""

    def __init__(self, secret: str) -> None:
        # Whatever length the configured secret has, the HMAC key is its 32-byte digest.
        self._secret = hashlib.sha256(secret.encode()).digest()
        self._verifies: dict[str, tuple[dict[str, Any], float]] = {}

    def emettre(self, compte_id: UUID, maintenant: datetime, duree: timedelta) -> JetonEmis:
        expire_le = maintenant + duree
        csrf = secrets.token_urlsafe(24)
        charge = {
            "sub": str(compte_id),
            "jti": secrets.token_urlsafe(16),
            "iat": maintenant.timestamp(),
            "exp": int(expire_le.timestamp()),
            "csrf": csrf,
        }
        return JetonEmis(jwt.encode(charge, self._secret, algorithm=self.ALGORITHME), expire_le, csrf)

    def lire(self, jeton: str, maintenant: datetime) -> dict[str, Any]:
        """Check the signature, then the expiry against the application's clock. A token's
        signature is checked once: the same string is the same claims (every request of a session
        carries it), so later requests only compare its expiry. The claims are shared: read only."""
        connu = self._verifies.get(jeton)
        if connu is not None:
            if connu[1] <= maintenant.timestamp():
                raise JetonRefuse
            return connu[0]
        try:
            charge: dict[str, Any] = jwt.decode(
                jeton,
                self._secret,
                algorithms=[self.ALGORITHME],
                options={
                    "require": ["sub", "jti", "iat", "exp", "csrf"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
            expire = float(charge["exp"])
        except (jwt.PyJWTError, TypeError, ValueError):
            raise JetonRefuse from None
        if expire <= maintenant.timestamp():
            raise JetonRefuse
        if len(self._verifies) >= self.VERIFIES_MAX:
            self._verifies.clear()
        self._verifies[jeton] = (charge, expire)
        return charge
