"""Group commit: the saves of one process's concurrent commands go to PostgreSQL together.

Every save is one call of `portail_enregistrer`, which holds the log's lock for its whole
transaction. Commands that save at the same moment would each pay a round trip and a commit (an
fsync) under that lock, one after the other. Here the first command to arrive writes: it takes every
save waiting at that moment (up to `TAILLE_LOT`) into one call, one transaction and one commit, each
command in its own group, which commits or fails alone (`store.chaine.Groupe`). Commands arriving
while it writes wait for the next call, made by one of them. A command alone in its process is not
delayed: it writes its own save at once, as one statement.

A save deposited with `avertir` (a command awaited on the event loop, which no thread waits for)
is written by the writer's own thread when no command is writing, and `avertir()` is called from
the writing thread once it is finished.

A save may depend on earlier ones (`deposer(…, dependances)`): a command that decided on the
state another command of this process left before it was committed. Saves are written in the
order they were deposited; a save whose dependency failed fails too, without being sent, or, when
both are in the same call, in the database (`Appel.dependances`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

G = TypeVar("G")
R = TypeVar("R")

TAILLE_LOT = 64
"""Saves per call at most: a bigger transaction holds the log's lock longer and every group of
the batch waits for the slowest."""


class Depot(Generic[G, R]):
    """A deposited save: `attendre()` returns its result or raises what failed its whole call."""

    __slots__ = ("_ecrivain", "_reveil", "avertir", "dependances", "erreur", "fini", "groupe", "resultat")

    def __init__(
        self,
        ecrivain: Ecrivain[G, R],
        groupe: G,
        dependances: Sequence[Depot[G, R]],
        avertir: Callable[[], None] | None = None,
    ) -> None:
        self._ecrivain = ecrivain
        self._reveil = threading.Event()
        """Set when this save is finished, or when its thread is to write the next call."""
        self.avertir = avertir
        """Called once finished, from the writing thread, when no thread waits for it."""
        self.groupe = groupe
        self.dependances = tuple(dependances)
        self.fini = False
        self.resultat: R | None = None
        self.erreur: BaseException | None = None

    @property
    def echoue(self) -> bool:
        """Finished and not committed."""
        return self.fini and (self.erreur is not None or not self._ecrivain.reussi(self.resultat))

    def attendre(self) -> R:
        return self._ecrivain.attendre(self)


@dataclass(frozen=True)
class Appel(Generic[G]):
    groupes: Sequence[G]
    dependances: Sequence[tuple[int, int]]
    """(group, group it depends on), both indices into `groupes`: the first fails unless the
    second commits."""


class Ecrivain(Generic[G, R]):
    """Calls `ecrire(appel) -> résultats` (one result per group, in order) for batches of the
    groups deposited concurrently. `echec(groupe)` is the result of a group failed for its
    dependency; `reussi(résultat)` says whether a group committed."""

    def __init__(
        self,
        ecrire: Callable[[Appel[G]], Sequence[R]],
        echec: Callable[[G], R],
        reussi: Callable[[R | None], bool],
        taille_lot: int = TAILLE_LOT,
    ) -> None:
        self._ecrire = ecrire
        self._echec = echec
        self.reussi = reussi
        self._taille_lot = taille_lot
        self._verrou = threading.Lock()
        self._file: list[Depot[G, R]] = []
        self._occupe = False
        self._fond = threading.Event()
        """Wakes the writer's own thread: saves that no thread waits for are waiting."""
        self._fil: threading.Thread | None = None
        self.appels = 0
        self.groupes = 0
        self.plus_grand_lot = 0

    def deposer(
        self,
        groupe: G,
        dependances: Sequence[Depot[G, R]] = (),
        avertir: Callable[[], None] | None = None,
    ) -> Depot[G, R]:
        """Queue a save: its thread then calls `attendre()`; or, with `avertir`, nobody waits and
        the writer's own thread writes it unless a command's thread already is writing."""
        depot = Depot(self, groupe, dependances, avertir)
        with self._verrou:
            self._file.append(depot)
            reveiller = avertir is not None and not self._occupe
            if reveiller and self._fil is None:
                self._fil = threading.Thread(
                    target=self._ecrire_en_fond, name="portail-ecrivain", daemon=True
                )
                self._fil.start()
        if reveiller:
            self._fond.set()
        return depot

    def _ecrire_en_fond(self) -> None:
        while True:
            self._fond.wait()
            self._fond.clear()
            while True:
                with self._verrou:
                    if self._occupe or not self._file:
                        break
                    self._occupe = True
                    lot = self._file[: self._taille_lot]
                    del self._file[: self._taille_lot]
                self._ecrire_lot(lot)

    def soumettre(self, groupe: G) -> R:
        return self.deposer(groupe).attendre()

    def attendre(self, depot: Depot[G, R]) -> R:
        while True:
            with self._verrou:
                if depot.fini:
                    return self._issue(depot)
                if self._occupe:
                    # Woken only when its save is finished or when it is its turn to write:
                    # one thread per save, not every waiting thread at every call.
                    depot._reveil.clear()
                    lot = None
                else:
                    # Nobody is writing: this thread writes what is waiting, its own save among
                    # it unless more than a batch arrived before it (then it loops and writes again).
                    self._occupe = True
                    lot = self._file[: self._taille_lot]
                    del self._file[: self._taille_lot]
            if lot is None:
                depot._reveil.wait()
                continue
            self._ecrire_lot(lot)

    def _ecrire_lot(self, lot: list[Depot[G, R]]) -> None:
        try:
            self._executer(lot)
        finally:
            with self._verrou:
                self._occupe = False
                for fait in lot:
                    fait._reveil.set()
                if self._file:
                    # The saves that arrived meanwhile: the first one's thread writes them, or
                    # the writer's own thread when nobody waits for it.
                    suivant = self._file[0]
                    (self._fond if suivant.avertir is not None else suivant._reveil).set()
            for fait in lot:
                if fait.avertir is not None:
                    fait.avertir()

    def _executer(self, lot: list[Depot[G, R]]) -> None:
        envoyes: list[Depot[G, R]] = []
        for depot in lot:
            if any(d.echoue for d in depot.dependances):
                depot.resultat = self._echec(depot.groupe)
                depot.fini = True
            else:
                envoyes.append(depot)
        if not envoyes:
            return
        rang = {id(d): i for i, d in enumerate(envoyes)}
        dependances = [
            (i, rang[id(d)]) for i, depot in enumerate(envoyes) for d in depot.dependances if id(d) in rang
        ]
        try:
            resultats = self._ecrire(Appel([d.groupe for d in envoyes], dependances))
            if len(resultats) != len(envoyes):
                raise RuntimeError(f"{len(resultats)} résultats pour {len(envoyes)} groupes")
        except BaseException as erreur:
            for depot in envoyes:
                depot.erreur = erreur
                depot.fini = True
            if not isinstance(erreur, Exception):
                raise
            return
        finally:
            self.appels += 1
            self.groupes += len(envoyes)
            self.plus_grand_lot = max(self.plus_grand_lot, len(envoyes))
        for depot, resultat in zip(envoyes, resultats, strict=True):
            depot.resultat = resultat
            depot.fini = True

    @staticmethod
    def _issue(depot: Depot[G, R]) -> R:
        if depot.erreur is not None:
            raise depot.erreur
        assert depot.resultat is not None
        return depot.resultat
