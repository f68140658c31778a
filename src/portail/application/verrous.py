"""Commands on the same hot streams wait their turn inside a process instead of colliding.

Optimistic concurrency stays the guarantee (and covers several processes); these locks only
spare the retries: on an opening morning every request of a summer week loads the same day
Capacite streams, and without them all threads but one redo their work at each round. A command
holds them while it decides and until its save is queued, not while the save is written: the
next command decides on the state the first one left (`store.ecrivain`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from uuid import UUID
from weakref import WeakValueDictionary


class VerrouOccupe(Exception):
    """A key's lock is held by a worker thread's command: the event loop does not wait for it."""


class VerrousParCle:
    def __init__(self) -> None:
        self._verrous: WeakValueDictionary[UUID, threading.Lock] = WeakValueDictionary()
        self._garde = threading.Lock()

    def _verrou(self, cle: UUID) -> threading.Lock:
        with self._garde:
            verrou = self._verrous.get(cle)
            if verrou is None:
                verrou = threading.Lock()
                self._verrous[cle] = verrou
            return verrou

    @contextmanager
    def tenir(self, cles: Iterable[UUID], *, attendre: bool = True) -> Iterator[Tenue]:
        """Hold every key's lock, taken in one global order so two commands never deadlock;
        `Tenue.liberer()` lets them go before the block ends. `attendre` False (the event loop,
        which must not block): `VerrouOccupe` if one is held."""
        verrous = [self._verrou(cle) for cle in sorted(set(cles))]
        with ExitStack() as pile:
            for verrou in verrous:
                if attendre:
                    pile.enter_context(verrou)
                elif verrou.acquire(blocking=False):
                    pile.callback(verrou.release)
                else:
                    raise VerrouOccupe
            tenue = Tenue(pile)
            yield tenue
            tenue.liberer()


class Tenue:
    def __init__(self, pile: ExitStack) -> None:
        self._pile = pile

    def liberer(self) -> None:
        """Release the locks now (once; the end of the block then releases nothing)."""
        self._pile.close()
