"""The worker's heap (`portail.memoire.TasGeleParPage`): what a page leaves alive is frozen at the
page's end, walked by no collection until the next one at rest, which also frees the garbage
cycles a page left; at rest, no more often than its interval."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from portail.api.intergiciels import Affluence
from portail.memoire import GelApresCollecte, TasGeleParPage, sans_collecte


class Noeud:
    def __init__(self) -> None:
        self.autre: Noeud | None = None


@pytest.fixture(autouse=True)
def tas_rendu() -> Iterator[None]:
    yield
    gc.unfreeze()


class Horloge:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _cycle_abandonne() -> weakref.ref[Noeud]:
    """Two nodes that point to each other, referenced by nothing else: only the collector frees them."""
    a, b = Noeud(), Noeud()
    a.autre, b.autre = b, a
    return weakref.ref(a)


def test_ce_qu_une_page_laisse_est_gele_et_collecte_au_repos_suivant() -> None:
    horloge = Horloge()
    tas = TasGeleParPage(intervalle_s=60.0, horloge=horloge)
    gc.collect()
    gele_avant = gc.get_freeze_count()
    with sans_collecte(geler=True):
        garde = [Noeud() for _ in range(1000)]
        abandonne = _cycle_abandonne()
    # Frozen with the page: the page's survivors, and its garbage cycle, are out of every collection.
    assert gc.get_freeze_count() >= gele_avant + 1000
    assert gc.get_count()[0] < 100
    gc.collect()
    assert abandonne() is not None

    # At rest, too early: nothing collected.
    horloge.t += 59
    assert not tas.au_repos()
    assert abandonne() is not None

    horloge.t += 1
    assert tas.au_repos()
    assert abandonne() is None
    assert tas.collectes == 1
    # What is still alive (the page's survivors) is frozen again.
    assert gc.get_freeze_count() >= len(garde)


def test_occupe_sans_repit_la_collecte_vient_quand_meme_apres_dix_intervalles() -> None:
    horloge = Horloge()
    tas = TasGeleParPage(intervalle_s=60.0, horloge=horloge)
    with sans_collecte(geler=True):
        abandonne = _cycle_abandonne()
    horloge.t += 599
    assert not tas.au_repos(occupe=True)
    assert abandonne() is not None
    horloge.t += 1
    assert tas.au_repos(occupe=True)
    assert abandonne() is None


def test_sans_geler_le_collecteur_reprend_ce_que_la_page_laisse() -> None:
    with sans_collecte():
        abandonne = _cycle_abandonne()
    gc.collect()
    assert abandonne() is None


def test_ce_qui_survit_a_une_collection_complete_est_gele_tant_que_le_gel_est_installe() -> None:
    gel = GelApresCollecte()
    gc.unfreeze()
    gel.installer()
    try:
        gardes = [[i] for i in range(1_000)]
        gc.collect()
        assert gel.gels == 1
        assert gc.get_freeze_count() >= len(gardes)
    finally:
        gel.retirer()
        gc.unfreeze()
    gc.collect()
    assert gel.gels == 1
    assert gc.get_freeze_count() == 0


def test_un_flot_de_requetes_n_est_pas_le_repos_meme_sans_requete_en_cours() -> None:
    """An api process collects its whole heap at rest only (`api.app._collecter_au_repos`): a
    stream whose requests all finished between two looks keeps it busy."""
    affluence = Affluence()
    assert not affluence.occupee()
    # Two requests arrived and were answered between two looks: none in flight now.
    for _ in range(2):
        affluence.arrivees += 1
    assert affluence.en_cours == 0
    assert affluence.occupee()
    # Nothing since the last look: at rest.
    assert not affluence.occupee()
    # One still being served.
    affluence.en_cours = 1
    assert affluence.occupee()
    affluence.en_cours = 0
    assert not affluence.occupee()
