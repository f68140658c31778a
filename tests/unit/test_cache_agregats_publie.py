"""Two commands of a process may publish the same aggregate at the same version (a child booked on
two days at once: each day's lock is its own). Only one save can commit; the kept state must then
be the committed one, never the other command's, which the log will refuse."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from portail.store.cache_agregats import CacheAgregats
from portail.store.ecrivain import Depot, Ecrivain


class Jours(Aggregate):
    def __init__(self) -> None:
        self.jours: list[str] = []

    @event("Reserve")
    def reserver(self, jour: str) -> None:
        self.jours.append(jour)


def _ecrivain() -> Ecrivain[str, str]:
    return Ecrivain(lambda appel: ["ok"] * len(appel.groupes), lambda _groupe: "echec", lambda r: r == "ok")


def _publie(cache: CacheAgregats, origine: Jours, jour: str, depot: Depot[str, str]) -> Jours:
    copie = Jours.__new__(Jours)
    copie.__dict__.update({**origine.__dict__, "jours": list(origine.jours)})
    copie.reserver(jour)
    copie.collect_events()
    cache.poser(copie, depot)
    return copie


def _finir(depot: Depot[str, str], resultat: str) -> None:
    depot.resultat = resultat
    depot.fini = True


def test_un_enregistrement_ne_confirme_pas_l_etat_publie_par_un_autre_a_la_meme_version() -> None:
    cache = CacheAgregats()
    origine = Jours()
    origine.collect_events()
    ecrivain = _ecrivain()
    depot_lundi, depot_mardi = ecrivain.deposer("lundi"), ecrivain.deposer("mardi")
    # Both decided on version 1 and publish version 2; Tuesday's replaces Monday's.
    _publie(cache, origine, "lundi", depot_lundi)
    _publie(cache, origine, "mardi", depot_mardi)

    # Monday's save commits: the kept state is Tuesday's, which is not committed.
    _finir(depot_lundi, "ok")
    assert not cache.confirmer_publie(origine.id, 2)
    entree = cache.prendre(origine.id)
    assert entree is not None and entree[1] is depot_mardi

    # Tuesday's then fails (version 2 is Monday's): its state goes, nothing of it is kept.
    _finir(depot_mardi, "echec")
    assert cache.prendre(origine.id) is None


def test_un_enregistrement_confirme_l_etat_qu_il_a_publie() -> None:
    cache = CacheAgregats()
    origine = Jours()
    origine.collect_events()
    depot = _ecrivain().deposer("lundi")
    publie = _publie(cache, origine, "lundi", depot)
    _finir(depot, "ok")
    assert cache.confirmer_publie(origine.id, 2)
    entree = cache.prendre(origine.id)
    assert entree is not None and entree[0] is publie and entree[1] is None
