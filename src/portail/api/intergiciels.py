"""Request-wide middleware: correlation id, security headers."""

from __future__ import annotations

import itertools
import os
import re
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portail.api.metriques import route_de
from portail.journal import CORRELATION

log = structlog.get_logger("portail.http")

ENTETE_CORRELATION = "x-correlation-id"
_CORRELATION_VALIDE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PREFIXE_CORRELATION = os.urandom(8).hex()
_COMPTEUR_CORRELATION = itertools.count()


def nouvelle_correlation() -> str:
    """32 hex digits, unique across processes: the process's random half and a counter. A
    `uuid4()` per request reads the system's randomness, and the event loop gave the interpreter
    to another thread at each read (8 % of its samples in a booking loop)."""
    return f"{_PREFIXE_CORRELATION}{next(_COMPTEUR_CORRELATION):016x}"


ENTETES_SECURITE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Not `no-referrer`: under it browsers send `Origin: null` with the portal's own form posts,
    # which the origin check (provenance.py) must refuse. Other sites still get no referrer.
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"
"""A year; without `includeSubDomains`: other hosts of the commune's domain are not ours to bind."""
ENTETES_API = {
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
}


_NOM_CORRELATION = ENTETE_CORRELATION.encode("latin-1")


def _encodees(entetes: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(nom.encode("latin-1"), valeur.encode("latin-1")) for nom, valeur in entetes.items()]


def _ajouts(hsts: bool, api: bool) -> tuple[list[tuple[bytes, bytes]], frozenset[bytes]]:
    entetes = [
        *_encodees(ENTETES_SECURITE),
        *_encodees({"strict-transport-security": HSTS} if hsts else {}),
        *_encodees(ENTETES_API if api else {}),
    ]
    return entetes, frozenset({_NOM_CORRELATION, *(nom for nom, _ in entetes)})


_AJOUTS = {(hsts, api): _ajouts(hsts, api) for hsts in (False, True) for api in (False, True)}
"""The headers a response gets, encoded once, and the names they replace, by (HTTPS, API path)."""


def _correlation(scope: Scope) -> str:
    etat = scope.setdefault("state", {})
    existant = etat.get("correlation_id")
    if existant:
        return str(existant)
    recu = ""
    for nom, valeur in scope.get("headers", []):
        if nom.decode("latin-1").lower() == ENTETE_CORRELATION:
            recu = valeur.decode("latin-1")
            break
    correlation_id = recu if _CORRELATION_VALIDE.match(recu) else nouvelle_correlation()
    etat["correlation_id"] = correlation_id
    return correlation_id


class Affluence:
    """The requests an app is serving, and how many arrived since it started."""

    __slots__ = ("_vues", "arrivees", "en_cours")

    def __init__(self) -> None:
        self.en_cours = 0
        self.arrivees = 0
        self._vues = 0

    def occupee(self) -> bool:
        """Whether a request is served now or arrived since the last call. Between the requests
        of a steady stream there is often none in flight (at 500 reads a second, most of the
        time): that is no rest."""
        vues, self._vues = self._vues, self.arrivees
        return self.en_cours > 0 or self.arrivees != vues


def correlation(app: ASGIApp, affluence: Affluence | None = None) -> ASGIApp:
    """Give each request a correlation id (the caller's when well-formed) bound to every log line;
    count it in `affluence` while it is served."""
    compteur = affluence if affluence is not None else Affluence()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        scope["state"]["debut"] = time.perf_counter()
        jeton = CORRELATION.set(_correlation(scope))
        compteur.en_cours += 1
        compteur.arrivees += 1
        try:
            await app(scope, receive, send)
        finally:
            compteur.en_cours -= 1
            CORRELATION.reset(jeton)

    return middleware


async def entetes_reponse(message: Message, scope: Scope) -> None:
    """Runs on every response, errors of routing and authentication included: adds the headers,
    then logs the request once its last body part leaves."""
    etat = scope.setdefault("state", {})
    if message["type"] == "http.response.start":
        etat["statut"] = message["status"]
        # `/schema` serves the OpenAPI document and, for any other path, the framework's 404 page:
        # nothing there may run a script.
        ajouts, remplaces = _AJOUTS[
            bool(getattr(scope["app"].state, "hsts", False)),
            scope.get("path", "").startswith(("/api", "/schema")),
        ]
        correlation = (_NOM_CORRELATION, _correlation(scope).encode("latin-1"))
        # Each added header replaces any of the same name, in one pass over those already set.
        message["headers"] = [
            *(e for e in message.get("headers", ()) if bytes(e[0]).lower() not in remplaces),
            correlation,
            *ajouts,
        ]
    elif message["type"] == "http.response.body" and not message.get("more_body", False):
        debut = etat.get("debut")
        metriques = getattr(scope["app"].state, "metriques", None)
        if metriques is not None and debut:
            metriques.observer(
                str(scope.get("method")),
                route_de(scope),
                int(etat.get("statut") or 0),
                time.perf_counter() - debut,
            )
        # The path only: query strings may carry what people typed.
        log.info(
            "requete",
            correlation_id=_correlation(scope),
            methode=scope.get("method"),
            chemin=scope.get("path"),
            statut=etat.get("statut"),
            duree_ms=round((time.perf_counter() - debut) * 1000, 1) if debut else None,
        )
