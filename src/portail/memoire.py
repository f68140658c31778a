"""The cyclic garbage collector, kept out of the way of work that allocates page by page.

Decoding and folding a page of the log allocates hundreds of thousands of objects. CPython's
collector then runs every 700 allocations, and the older generations it promotes them to are
walked again with everything the process keeps (kept aggregates, the runner's id maps, the
drafts' folded families). Measured on the 10,000-child commune (475,507 events): a rebuild took
237 s with the collector running during pages and 143 s without. A page's objects are freed by
reference counting once it is done; the rare cycles among them wait for the next collection,
which runs between pages.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

COLLECTE_AU_REPOS_S = 60.0
"""A process that freezes what its pages leave (`TasGeleParPage`) collects it all again at most
this often, when it has nothing to do."""
COLLECTE_FORCEE = 10
"""...and, busy without a pause (a long rush), after this many intervals all the same."""


@contextmanager
def sans_collecte(geler: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block (nested blocks leave it to the outermost). With
    `geler`, what the block leaves alive is frozen before the collector runs again (`TasGeleParPage`)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if geler:
            gc.freeze()
        gc.enable()


class TasGeleParPage:
    """The worker's runner: what each page leaves alive frozen at once, and the whole heap collected
    (then frozen again) at most every `COLLECTE_AU_REPOS_S` seconds, once the log is caught up (or
    after `COLLECTE_FORCEE` times as long if it never is).

    A page's allocations survive it by the thousand: the drafts keep the families they fold (500,
    at about 100 KB each) and replace them as bookings fall on other families. Re-enabled after the
    page, the collector walked all of them at once, and again in its older generations: measured in
    the worker during 20 s of bookings at 450/s on the 10,000-child commune, 15 young collections of
    up to 0.37 s each, 1.28 s of its 7.1 s of processor. Frozen, they are walked by no collection
    until the next one at rest; the rare cycles a page leaves as garbage wait for it too."""

    def __init__(
        self, intervalle_s: float = COLLECTE_AU_REPOS_S, horloge: Callable[[], float] = time.monotonic
    ) -> None:
        self._intervalle = intervalle_s
        self._horloge = horloge
        self._derniere = horloge()
        self.collectes = 0

    def au_repos(self, occupe: bool = False) -> bool:
        """Collect everything if the last collection is old enough (`occupe`: more work is already
        waiting, and only a collection overdue by `COLLECTE_FORCEE` intervals is made); True if it
        did."""
        maintenant = self._horloge()
        age = maintenant - self._derniere
        if age < self._intervalle or (occupe and age < self._intervalle * COLLECTE_FORCEE):
            return False
        self._derniere = maintenant
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.collectes += 1
        return True


def geler_le_tas() -> None:
    """Move every object alive now out of the collector's generations, for good: what a process
    builds at start and keeps (the application, its templates, its caches filled ahead) is no
    longer walked by each full collection. Measured in an api process at 10,000 children, during
    the parents' month reads: full collections of up to 73–104 ms before, at most 10 ms after, and
    the reads' p99 from 113–126 ms to 71–81 ms. Only the youngest generation is collected first:
    a full collection is the pause this avoids (and, in a test process that starts an app after
    hundreds of others, it cost the suite a minute); what few cycles of garbage are frozen with
    the rest wait for `degeler_le_tas`."""
    gc.collect(0)
    gc.freeze()


def degeler_le_tas() -> None:
    """At a process's end (or an app's, in tests that start many): what was frozen becomes
    collectable again, cycles among it included."""
    gc.unfreeze()


class GelApresCollecte:
    """An api process's heap: what survives a full collection is frozen at once, so that the next
    full collection walks only what came after it; the whole heap is collected again (then frozen)
    when the process is at rest, at most every `COLLECTE_AU_REPOS_S` seconds (`TasGeleParPage`),
    which frees the rare cycles frozen meanwhile.

    What requests leave behind (kept aggregates, sessions, the month's cells) grows the oldest
    generation, which every full collection walked whole: measured in an api process at 10,000
    children, during 15 s of month reads after 20 s of bookings, five full collections of 82 to
    250 ms, the reads' p99 118.7 ms against a p50 of 43.7."""

    def __init__(self, tas: TasGeleParPage | None = None) -> None:
        self.tas = tas or TasGeleParPage()
        self.gels = 0

    def _apres(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()
            self.gels += 1

    def installer(self) -> None:
        if self._apres not in gc.callbacks:
            gc.callbacks.append(self._apres)

    def retirer(self) -> None:
        if self._apres in gc.callbacks:
            gc.callbacks.remove(self._apres)
