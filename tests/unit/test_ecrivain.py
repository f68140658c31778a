"""Group commit: concurrent saves share calls, each gets its own answer, a lone save is not delayed."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from portail.store.ecrivain import Ecrivain


class _Base:
    """Stands for PostgreSQL: one call takes a while (a commit); records the batches it got."""

    def __init__(self, duree: float = 0.0) -> None:
        self.duree = duree
        self.lots: list[list[int]] = []
        self.en_cours = 0
        self.max_en_cours = 0
        self._verrou = threading.Lock()

    def ecrire(self, groupes: Sequence[int]) -> list[str]:
        with self._verrou:
            self.en_cours += 1
            self.max_en_cours = max(self.max_en_cours, self.en_cours)
        time.sleep(self.duree)
        with self._verrou:
            self.en_cours -= 1
            self.lots.append(list(groupes))
        return [f"ok {g}" if g % 7 else f"conflit {g}" for g in groupes]


def test_un_appelant_seul_ecrit_chaque_groupe_aussitot() -> None:
    base = _Base()
    ecrivain = Ecrivain(base.ecrire)
    assert [ecrivain.soumettre(g) for g in (1, 2, 3)] == ["ok 1", "ok 2", "ok 3"]
    assert base.lots == [[1], [2], [3]]


def test_des_appelants_simultanes_partagent_les_appels_et_recoivent_chacun_leur_reponse() -> None:
    base = _Base(duree=0.01)
    ecrivain = Ecrivain(base.ecrire, taille_lot=16)
    reponses: dict[int, str] = {}

    def appelant(g: int) -> None:
        reponses[g] = ecrivain.soumettre(g)

    fils = [threading.Thread(target=appelant, args=(g,)) for g in range(1, 101)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    # Each its own answer, a failing group (every 7th) alone among the others of its batch.
    assert reponses == {g: (f"ok {g}" if g % 7 else f"conflit {g}") for g in range(1, 101)}
    assert sorted(g for lot in base.lots for g in lot) == list(range(1, 101))
    # One call at a time, in batches of at most 16: far fewer calls than saves.
    assert base.max_en_cours == 1
    assert max(len(lot) for lot in base.lots) <= 16
    assert len(base.lots) < 50


def test_un_appel_qui_echoue_fait_echouer_son_lot_seulement() -> None:
    appels = 0

    def ecrire(groupes: Sequence[int]) -> list[int]:
        nonlocal appels
        appels += 1
        if appels == 1:
            raise ConnectionError("connexion perdue")
        return list(groupes)

    ecrivain = Ecrivain(ecrire)
    with pytest.raises(ConnectionError):
        ecrivain.soumettre(1)
    # The next save finds the writer free again.
    assert ecrivain.soumettre(2) == 2
