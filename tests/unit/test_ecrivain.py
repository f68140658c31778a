"""Group commit: concurrent saves share calls, each gets its own answer, a lone save is not delayed."""

from __future__ import annotations

import threading
import time

import pytest

from portail.store.ecrivain import Appel, Ecrivain


class _Base:
    """Stands for PostgreSQL: one call takes a while (a commit); records the batches it got."""

    def __init__(self, duree: float = 0.0) -> None:
        self.duree = duree
        self.lots: list[list[int]] = []
        self.en_cours = 0
        self.max_en_cours = 0
        self.dependances: list[list[tuple[int, int]]] = []
        self._verrou = threading.Lock()

    def ecrire(self, appel: Appel[int]) -> list[str]:
        groupes = appel.groupes
        self.dependances.append(list(appel.dependances))
        with self._verrou:
            self.en_cours += 1
            self.max_en_cours = max(self.max_en_cours, self.en_cours)
        time.sleep(self.duree)
        with self._verrou:
            self.en_cours -= 1
            self.lots.append(list(groupes))
        return [f"ok {g}" if g % 7 else f"conflit {g}" for g in groupes]


def _ecrivain(ecrire: object, **kw: int) -> Ecrivain[int, str]:
    return Ecrivain(
        ecrire,  # type: ignore[arg-type]
        echec=lambda g: f"conflit {g}",
        reussi=lambda r: r is not None and str(r).startswith("ok"),
        **kw,
    )


def test_un_appelant_seul_ecrit_chaque_groupe_aussitot() -> None:
    base = _Base()
    ecrivain = _ecrivain(base.ecrire)
    assert [ecrivain.soumettre(g) for g in (1, 2, 3)] == ["ok 1", "ok 2", "ok 3"]
    assert base.lots == [[1], [2], [3]]


def test_des_appelants_simultanes_partagent_les_appels_et_recoivent_chacun_leur_reponse() -> None:
    base = _Base(duree=0.01)
    ecrivain = _ecrivain(base.ecrire, taille_lot=16)
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

    def ecrire(appel: Appel[int]) -> list[str]:
        nonlocal appels
        appels += 1
        if appels == 1:
            raise ConnectionError("connexion perdue")
        return [f"ok {g}" for g in appel.groupes]

    ecrivain = _ecrivain(ecrire)
    with pytest.raises(ConnectionError):
        ecrivain.soumettre(1)
    # The next save finds the writer free again.
    assert ecrivain.soumettre(2) == "ok 2"


def test_une_sauvegarde_decidee_sur_une_autre_tombe_avec_elle() -> None:
    base = _Base()
    ecrivain = _ecrivain(base.ecrire)
    # Deposited together, written in one call: the database learns that 8 rests on 7 (and 9 on 8).
    sept = ecrivain.deposer(7)
    huit = ecrivain.deposer(8, [sept])
    neuf = ecrivain.deposer(9, [huit])
    assert sept.attendre() == "conflit 7"
    assert base.dependances == [[(1, 0), (2, 1)]]
    # The fake database does not apply them; the writer passes what it answers.
    assert huit.attendre() == "ok 8"
    # Once a save has failed, one decided on it fails without being sent.
    quatorze = ecrivain.deposer(14)
    assert quatorze.attendre() == "conflit 14"
    quinze = ecrivain.deposer(15, [quatorze])
    assert quinze.attendre() == "conflit 15"
    assert [lot for lot in base.lots if 15 in lot] == []
    assert neuf.attendre() == "ok 9"
