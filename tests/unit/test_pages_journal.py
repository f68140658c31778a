"""The log read page by page with the next page read ahead: every event once, in order; no read
ahead at the end of the log; a reader left early waits for its thread and leaves no read behind."""

from __future__ import annotations

import threading
import time

import pytest
from eventsourcing.persistence import Notification

from portail.store.pages import PagesJournal


class Journal:
    def __init__(self, n: int) -> None:
        self.notifications = [
            Notification(id=i, originator_id=f"a{i}", originator_version=1, topic="t", state=b"")
            for i in range(1, n + 1)
        ]
        self.lectures: list[tuple[int, int]] = []
        self.fils: set[str] = set()
        self.en_cours = 0
        self.verrou = threading.Lock()

    def lire(self, apres: int, taille: int) -> list[Notification]:
        with self.verrou:
            self.lectures.append((apres, taille))
            self.fils.add(threading.current_thread().name)
            self.en_cours += 1
        try:
            time.sleep(0.002)
            return [n for n in self.notifications if n.id > apres][:taille]
        finally:
            with self.verrou:
                self.en_cours -= 1


@pytest.mark.parametrize(("n", "taille"), [(0, 3), (1, 3), (9, 3), (10, 3), (10, 1), (7, 100)])
def test_chaque_evenement_une_fois_dans_l_ordre(n: int, taille: int) -> None:
    journal = Journal(n)
    with PagesJournal(journal.lire, 0, taille) as pages:
        lus = [x.id for page in pages for x in page]
    assert lus == list(range(1, n + 1))
    # Each page read once, from where the previous one ended, and one last read that finds nothing.
    attendues = [(apres, taille) for apres in range(0, n, taille)]
    assert journal.lectures == [*attendues, (n, taille)]


def test_une_lecture_depuis_une_position_donnee() -> None:
    journal = Journal(10)
    with PagesJournal(journal.lire, 4, 4) as pages:
        assert [[x.id for x in page] for page in pages] == [[5, 6, 7, 8], [9, 10]]


def test_les_pages_pleines_font_lire_la_suivante_sur_un_autre_fil() -> None:
    journal = Journal(10)
    with PagesJournal(journal.lire, 0, 4) as pages:
        next(pages)
        # The second page is being read while the caller works on the first (it has not asked).
        echeance = time.monotonic() + 5
        while len(journal.lectures) < 2 and time.monotonic() < echeance:
            time.sleep(0.001)
        assert journal.lectures == [(0, 4), (4, 4)]
        assert any(nom.startswith("portail-pages") for nom in journal.fils)
        list(pages)


def test_une_page_incomplete_ne_fait_rien_lire_d_avance() -> None:
    journal = Journal(3)
    with PagesJournal(journal.lire, 0, 10) as pages:
        assert [x.id for x in next(pages)] == [1, 2, 3]
        time.sleep(0.05)
        # At the head of the log: nothing is read until it is asked for.
        assert journal.lectures == [(0, 10)]
        assert journal.fils == {threading.current_thread().name}
        # New events written meanwhile are seen by the next read.
        journal.notifications.append(
            Notification(id=4, originator_id="a4", originator_version=1, topic="t", state=b"")
        )
        assert [x.id for x in next(pages)] == [4]


def test_un_lecteur_quitte_en_route_attend_la_lecture_en_cours() -> None:
    journal = Journal(100)
    with PagesJournal(journal.lire, 0, 10) as pages:
        assert [x.id for x in next(pages)] == list(range(1, 11))
    # Left after the first page: the read ahead finished (its connection went back) and no other began.
    assert journal.en_cours == 0
    assert len(journal.lectures) <= 2
    assert not any(t.name.startswith("portail-pages") for t in threading.enumerate())


def test_l_erreur_d_une_lecture_d_avance_remonte_a_la_page_qui_la_demande() -> None:
    journal = Journal(10)
    appels = 0

    def lire(apres: int, taille: int) -> list[Notification]:
        nonlocal appels
        appels += 1
        if appels == 2:
            raise ConnectionError("base injoignable")
        return journal.lire(apres, taille)

    with PagesJournal(lire, 0, 5) as pages:
        assert [x.id for x in next(pages)] == [1, 2, 3, 4, 5]
        with pytest.raises(ConnectionError, match="injoignable"):
            next(pages)
