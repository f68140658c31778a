"""The per-address request limit (`PORTAIL_REQUETES_PAR_MINUTE_IP`): fixed one-minute windows, a
counter per client address.

The framework's limiter keeps every request's timestamp of the window and encodes the whole list
as JSON in its store, to decode it again at the next request: its cost grows with the traffic of
the address, and an opening morning behind one address (a town hall, a school, a mobile carrier's
NAT, the reverse proxy itself without forwarded headers) pays it on every request — thousands of
timestamps each time. A counter and the window's end answer the same question in constant time.
The answers are the same: `RateLimit-Policy`, `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` on every counted answer, and over the limit a 429 problem with `Retry-After`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

FENETRE_S = 60
PURGE_TOUTES_LES = 10_000
"""New addresses between two sweeps of the windows that ended: memory follows the addresses of
the last minute, not every address ever seen."""


@dataclass(frozen=True)
class Decompte:
    admis: bool
    restantes: int
    reinitialisation_s: int
    """Seconds until the window ends (at least 1)."""


class FenetresParAdresse:
    """At most `limite` requests per address in each window of `FENETRE_S` seconds from its first."""

    def __init__(self, limite: int, horloge: Callable[[], float] = time.monotonic) -> None:
        self.limite = limite
        self._horloge = horloge
        self._fenetres: dict[str, list[float]] = {}
        """Address → [end of its window, requests counted in it]."""
        self._nouvelles = 0
        self._verrou = threading.Lock()

    def compter(self, adresse: str) -> Decompte:
        maintenant = self._horloge()
        with self._verrou:
            fenetre = self._fenetres.get(adresse)
            if fenetre is None or fenetre[0] <= maintenant:
                if fenetre is None:
                    self._nouvelles += 1
                    if self._nouvelles >= PURGE_TOUTES_LES:
                        self._purger(maintenant)
                fenetre = [maintenant + FENETRE_S, 0]
                self._fenetres[adresse] = fenetre
            admis = fenetre[1] < self.limite
            if admis:
                fenetre[1] += 1
            restantes = self.limite - int(fenetre[1])
            fin = fenetre[0]
        return Decompte(admis, restantes, max(1, math.ceil(fin - maintenant)))

    def _purger(self, maintenant: float) -> None:
        self._fenetres = {a: f for a, f in self._fenetres.items() if f[0] > maintenant}
        self._nouvelles = 0

    def __len__(self) -> int:
        return len(self._fenetres)


def limite_par_adresse(
    limite: int, exclus: Sequence[str], horloge: Callable[[], float] = time.monotonic
) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware: requests whose path matches one of `exclus` (regular expressions) are not
    counted (probes, static files)."""
    fenetres = FenetresParAdresse(limite, horloge)
    hors_compte = re.compile("|".join(f"(?:{e})" for e in exclus)) if exclus else None
    politique = f"{limite}; w={FENETRE_S}"

    def fabrique(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if str(scope["type"]) != "http" or (hors_compte is not None and hors_compte.match(scope["path"])):
                await app(scope, receive, send)
                return
            client = scope.get("client")
            decompte = fenetres.compter(client[0] if client else "127.0.0.1")
            entetes = {
                "RateLimit-Policy": politique,
                "RateLimit-Limit": str(limite),
                "RateLimit-Remaining": str(max(decompte.restantes, 0)),
                "RateLimit-Reset": str(decompte.reinitialisation_s),
            }
            if not decompte.admis:
                raise TooManyRequestsException(
                    headers={**entetes, "Retry-After": str(decompte.reinitialisation_s)}
                )

            async def envoyer(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", [])
                    en_tetes = MutableScopeHeaders(message)
                    for nom, valeur in entetes.items():
                        en_tetes[nom] = valeur
                await send(message)

            await app(scope, receive, envoyer)

        return middleware

    return fabrique
