"""A bounded queue of booking commands: past `PORTAIL_RESERVATIONS_EN_COURS_MAX` in one process,
a booking or cancellation is answered at once with 429 and `Retry-After` instead of waiting.

An opening morning offers more bookings than the machine decides per second. Without a bound the
requests queue, every answer comes later than the one before, and once the wait passes the
browsers' patience (30 s) the server spends its time deciding bookings whose parents have already
given up: the answered rate falls just when it matters. Bounded, the wait of an admitted request
stays near `maximum ÷ throughput`, and a parent over the bound learns at once, with nothing
recorded, when to send the same request again (with its `Idempotency-Key`: a retry never books
twice). The delay told is the queue's length over the rate of the last seconds, spread over a few
seconds so that the retries do not all come back together.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import deque
from collections.abc import Callable

from litestar.exceptions import TooManyRequestsException
from litestar.types import ASGIApp, Receive, Scope, Send

CHEMINS_COMMANDES = re.compile(r"^/(api/enfants/[^/]+|planning/[^/]+/[^/]+)/(reservations|annulations)(/|$)")
"""Bookings (and a week copied), cancellations: of the API and of the parents' pages."""
FENETRE_DEBIT_S = 5.0
ATTENTE_MAX_S = 30
MESSAGE = (
    "Beaucoup de familles réservent en ce moment : votre demande n'a pas été prise en compte."
    " Renvoyez-la dans {n} s (avec la même clé d'idempotence, elle ne sera enregistrée qu'une fois)."
)


class FileBornee:
    """Commands in progress in this process, and the rate at which they end."""

    def __init__(self, maximum: int, horloge: Callable[[], float] = time.monotonic) -> None:
        self.maximum = maximum
        self.en_cours = 0
        self._horloge = horloge
        self._fins: deque[float] = deque(maxlen=4096)
        self.refusees = 0

    def entrer(self) -> int | None:
        """None: admitted (call `sortir` when it ends); else the seconds to tell the caller."""
        if self.maximum > 0 and self.en_cours >= self.maximum:
            self.refusees += 1
            return self.attente()
        self.en_cours += 1
        return None

    def sortir(self) -> None:
        self.en_cours -= 1
        self._fins.append(self._horloge())

    def debit(self) -> float:
        """Commands ended per second over the last seconds (at least 1)."""
        depuis = self._horloge() - FENETRE_DEBIT_S
        recentes = sum(1 for t in self._fins if t >= depuis)
        return max(recentes / FENETRE_DEBIT_S, 1.0)

    def attente(self) -> int:
        """When the queue ahead will have been served, plus up to half as much again at random."""
        base = self.en_cours / self.debit()
        return min(ATTENTE_MAX_S, max(1, math.ceil(base * (1 + random.random() / 2))))  # noqa: S311


def admission(file: FileBornee) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware: counts the command routes' POSTs (a pure ASGI layer on the event loop: no lock)."""

    def fabrique(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                str(scope["type"]) != "http"
                or scope.get("method") != "POST"
                or not CHEMINS_COMMANDES.match(scope["path"])
            ):
                await app(scope, receive, send)
                return
            attente = file.entrer()
            if attente is not None:
                raise TooManyRequestsException(
                    detail=MESSAGE.format(n=attente), headers={"Retry-After": str(attente)}
                )
            try:
                await app(scope, receive, send)
            finally:
                file.sortir()

        return middleware

    return fabrique
