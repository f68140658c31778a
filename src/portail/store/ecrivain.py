"""Group commit: the saves of one process's concurrent commands go to PostgreSQL together.

Every save is one call of `portail_enregistrer`, which holds the log's lock for its whole
transaction. Commands that save at the same moment would each pay a round trip and a commit (an
fsync) under that lock, one after the other. Here the first command to arrive writes: it takes every
save waiting at that moment (up to `TAILLE_LOT`) into one call, one transaction and one commit, each
command in its own group, which commits or fails alone (`store.chaine.Groupe`). Commands arriving
while it writes wait for the next call, made by one of them. A command alone in its process is not
delayed: it writes its own save at once, as one statement.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

G = TypeVar("G")
R = TypeVar("R")

TAILLE_LOT = 64
"""Saves per call at most: a bigger transaction holds the log's lock longer and every group of
the batch waits for the slowest."""


class _Attente(Generic[G, R]):
    __slots__ = ("erreur", "fini", "groupe", "resultat")

    def __init__(self, groupe: G) -> None:
        self.groupe = groupe
        self.fini = False
        self.resultat: R | None = None
        self.erreur: BaseException | None = None


class Ecrivain(Generic[G, R]):
    """Calls `ecrire(groupes) -> résultats` (one result per group, in order) for batches of the
    groups submitted concurrently; `soumettre` returns its group's result or raises the error that
    failed the whole call (a lost connection, say: the caller's retry submits it again)."""

    def __init__(self, ecrire: Callable[[Sequence[G]], Sequence[R]], taille_lot: int = TAILLE_LOT) -> None:
        self._ecrire = ecrire
        self._taille_lot = taille_lot
        self._condition = threading.Condition()
        self._file: list[_Attente[G, R]] = []
        self._occupe = False
        self.appels = 0
        self.groupes = 0
        self.plus_grand_lot = 0

    def soumettre(self, groupe: G) -> R:
        attente: _Attente[G, R] = _Attente(groupe)
        with self._condition:
            self._file.append(attente)
            while True:
                while self._occupe and not attente.fini:
                    self._condition.wait()
                if attente.fini:
                    return self._issue(attente)
                # Nobody is writing: this thread writes what is waiting, its own group among it
                # unless more than a batch arrived before it (then it loops and writes again).
                self._occupe = True
                lot = self._file[: self._taille_lot]
                del self._file[: self._taille_lot]
                self._condition.release()
                try:
                    self._executer(lot)
                finally:
                    self._condition.acquire()
                    self._occupe = False
                    self._condition.notify_all()

    def _executer(self, lot: list[_Attente[G, R]]) -> None:
        try:
            resultats = self._ecrire([a.groupe for a in lot])
            if len(resultats) != len(lot):
                raise RuntimeError(f"{len(resultats)} résultats pour {len(lot)} groupes")
        except BaseException as erreur:
            for attente in lot:
                attente.erreur = erreur
                attente.fini = True
            if not isinstance(erreur, Exception):
                raise
            return
        finally:
            self.appels += 1
            self.groupes += len(lot)
            self.plus_grand_lot = max(self.plus_grand_lot, len(lot))
        for attente, resultat in zip(lot, resultats, strict=True):
            attente.resultat = resultat
            attente.fini = True

    @staticmethod
    def _issue(attente: _Attente[G, R]) -> R:
        if attente.erreur is not None:
            raise attente.erreur
        assert attente.resultat is not None
        return attente.resultat
