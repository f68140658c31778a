"""The log read page by page, the next page read while the caller works on the current one.

Catching up (a rebuild, a worker started behind the log) alternates a read, waiting on
PostgreSQL and the network, with Python decoding and applying the page. Reading page n+1 on a
thread while page n is applied overlaps the two: psycopg releases the GIL while it waits. A page
shorter than the page size means the end of the log is near: the next read is then made when it
is asked for, so a worker at the head of the log reads nothing ahead of time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from eventsourcing.persistence import Notification

LirePage = Callable[[int, int], Sequence[Notification]]


class PagesJournal:
    """The pages after `apres`, in order, until a read comes back empty. A context manager:
    leaving it waits for the read under way and stops the thread."""

    def __init__(self, lire: LirePage, apres: int, taille: int) -> None:
        self._lire = lire
        self._apres = apres
        self._taille = taille
        self._executeur: ThreadPoolExecutor | None = None
        self._suivante: Future[Sequence[Notification]] | None = None

    def __iter__(self) -> Iterator[Sequence[Notification]]:
        return self

    def __next__(self) -> Sequence[Notification]:
        if self._suivante is not None:
            suivante, self._suivante = self._suivante, None
            page = suivante.result()
        else:
            page = self._lire(self._apres, self._taille)
        if not page:
            raise StopIteration
        self._apres = page[-1].id
        if len(page) >= self._taille:
            if self._executeur is None:
                self._executeur = ThreadPoolExecutor(1, thread_name_prefix="portail-pages")
            self._suivante = self._executeur.submit(self._lire, self._apres, self._taille)
        return page

    def fermer(self) -> None:
        """Wait for the read under way (its connection goes back to the pool) and stop."""
        suivante, self._suivante = self._suivante, None
        if suivante is not None and not suivante.cancel():
            # Its page is dropped; its error, if any, too: the caller stopped reading.
            suivante.exception()
        if self._executeur is not None:
            self._executeur.shutdown(wait=True)
            self._executeur = None

    def __enter__(self) -> PagesJournal:
        return self

    def __exit__(self, *_: object) -> None:
        self.fermer()
