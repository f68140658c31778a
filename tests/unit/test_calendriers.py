"""The official calendars' data: loaded once per process, whoever asks first."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from portail.application import calendriers


@pytest.fixture
def sans_vacances_chargees() -> Iterator[None]:
    calendriers._vacances.cache_clear()
    yield
    # The next reader loads the real data, not this test's stand-in.
    calendriers._vacances.cache_clear()


def test_huit_fils_qui_demandent_les_vacances_ensemble_ne_les_chargent_qu_une_fois(
    sans_vacances_chargees: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    constructions: list[object] = []

    def charger_lentement() -> object:
        # Long enough for every thread to arrive while the first load is still running.
        time.sleep(0.05)
        donnees = object()
        constructions.append(donnees)
        return donnees

    monkeypatch.setattr(calendriers, "SchoolHolidayDates", charger_lentement)
    depart = threading.Barrier(8)
    recues: list[object] = []

    def lire() -> None:
        depart.wait()
        recues.append(calendriers._vacances())

    fils = [threading.Thread(target=lire) for _ in range(8)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join()

    assert len(constructions) == 1
    assert recues == constructions * 8
