"""How far the read models are, seen from a process that does not run the projections itself.

An `api` process leaves the projections to a `worker` process: its read-your-writes wait watches the
tracking position the worker commits. The worker notifies that position with each page it commits;
one listening thread per process receives it and wakes the requests that wait for it, however many
wait, so a burst of bookings costs no query at all.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from portail.projections.executeur import CIBLE_DEMARRAGE, NOM
from portail.store import lecture
from portail.store.ecoute import Ecoute, canal_vues

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


class SuiviVues(Protocol):
    """What the API needs from the projections: their position, and a bounded wait for one."""

    @property
    def position(self) -> int: ...

    def pret(self) -> bool: ...

    def attendre(self, position: int, delai: float = 2.0) -> bool: ...

    def demarrer(self) -> None: ...

    def arreter(self) -> None: ...


class SuiviPosition:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._ds = datastore
        self._condition = threading.Condition()
        self.ecoute = Ecoute(datastore, [canal_vues(datastore.schema)], self._reveil, "portail-suivi")
        self._position, _ = self._lire()

    def _lire(self) -> tuple[int, bool]:
        """The worker's position, and whether a runner that started has not caught up yet."""
        lignes = {
            ligne["nom"]: int(ligne["position"])
            for ligne in lecture.lignes(
                self._ds,
                f"SELECT nom, position FROM {self._ds.schema}.proj_tracking WHERE nom IN (%s, %s)",
                (NOM, CIBLE_DEMARRAGE),
            )
        }
        return lignes.get(NOM, 0), CIBLE_DEMARRAGE in lignes

    def _avancer(self, position: int) -> None:
        # Never backwards: a row read just before a notification must not undo it. (A rebuild
        # moves the row back to 0; until it passes the old position, waits end at once, as the
        # views are being refilled anyway.)
        with self._condition:
            self._position = max(self._position, position)
            self._condition.notify_all()

    def _rafraichir(self) -> tuple[int, bool]:
        position, en_rattrapage = self._lire()
        self._avancer(position)
        return position, not en_rattrapage

    def _reveil(self, charge: str | None) -> None:
        # A notification carries the position the worker committed; without one (listening
        # again, or a quiet while), the row is read.
        if charge is not None and charge.isdigit():
            self._avancer(int(charge))
        else:
            self._rafraichir()

    @property
    def position(self) -> int:
        """Read afresh: `/ready` and `/metrics` report the worker's real progress."""
        return self._rafraichir()[0]

    def pret(self) -> bool:
        """No runner is still catching up with the log as it found it at its start (read afresh)."""
        return self._rafraichir()[1]

    def attendre(self, position: int, delai: float = 2.0) -> bool:
        """Read-your-writes: wait (bounded) until the worker has applied `position`."""
        if self._position >= position:
            return True
        if not self.ecoute.active.is_set():
            # Nothing would wake this wait: look at the row first.
            self._rafraichir()
        with self._condition:
            if self._condition.wait_for(lambda: self._position >= position, timeout=delai):
                return True
        # Not listening (a process that never started it), or a notification lost: the row says.
        self._rafraichir()
        return self._position >= position

    # Running in the background

    def demarrer(self) -> None:
        self.ecoute.demarrer()

    def arreter(self) -> None:
        self.ecoute.arreter()
