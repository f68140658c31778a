"""How far the read models are, seen from a process that does not run the projections itself.

An `api` process leaves the projections to a `worker` process: its read-your-writes wait watches the
tracking position the worker commits. One thread polls `proj_tracking` while requests wait, however
many wait, so a burst of bookings costs one query per interval and not one per request.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

import structlog

from portail.projections.executeur import NOM

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger("portail.projections")


class SuiviVues(Protocol):
    """What the API needs from the projections: their position, and a bounded wait for one."""

    @property
    def position(self) -> int: ...

    def attendre(self, position: int, delai: float = 2.0) -> bool: ...

    def demarrer(self) -> None: ...

    def arreter(self) -> None: ...


class SuiviPosition:
    def __init__(self, datastore: PostgresDatastore, intervalle: float = 0.02) -> None:
        self._ds = datastore
        self.intervalle = intervalle
        self._condition = threading.Condition()
        self._attentes = 0
        self._besoin = threading.Event()
        self._arret = threading.Event()
        self._fil: threading.Thread | None = None
        self._position = self._lire()

    def _lire(self) -> int:
        with self._ds.transaction(commit=False) as curs:
            curs.execute(f"SELECT position FROM {self._ds.schema}.proj_tracking WHERE nom = %s", (NOM,))
            ligne = curs.fetchone()
        return int(ligne["position"]) if ligne else 0

    def _rafraichir(self) -> None:
        position = self._lire()
        with self._condition:
            self._position = position
            self._condition.notify_all()

    @property
    def position(self) -> int:
        """Read afresh: `/ready` and `/metrics` report the worker's real progress."""
        self._rafraichir()
        return self._position

    def attendre(self, position: int, delai: float = 2.0) -> bool:
        """Read-your-writes: wait (bounded) until the worker has applied `position`."""
        if self._position >= position:
            return True
        if self._fil is None:
            return self._attendre_seul(position, delai)
        with self._condition:
            self._attentes += 1
            self._besoin.set()
            try:
                return self._condition.wait_for(lambda: self._position >= position, timeout=delai)
            finally:
                self._attentes -= 1
                if self._attentes == 0:
                    self._besoin.clear()

    def _attendre_seul(self, position: int, delai: float) -> bool:
        """Without the polling thread (a command-line use): poll from the caller's thread."""
        fin = threading.Event()
        restant = delai
        while True:
            self._rafraichir()
            if self._position >= position:
                return True
            if restant <= 0:
                return False
            fin.wait(min(self.intervalle, restant))
            restant -= self.intervalle

    # Running in the background

    def demarrer(self) -> None:
        self._arret.clear()
        self._fil = threading.Thread(target=self._boucle, name="suivi-projections", daemon=True)
        self._fil.start()

    def arreter(self) -> None:
        self._arret.set()
        self._besoin.set()
        if self._fil is not None:
            self._fil.join(timeout=5)
            self._fil = None

    def _boucle(self) -> None:
        while not self._arret.is_set():
            if not self._besoin.wait(timeout=1.0):
                continue
            try:
                self._rafraichir()
            except Exception:
                log.exception("suivi_projections_erreur")
            self._arret.wait(self.intervalle)
