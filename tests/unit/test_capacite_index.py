"""The waiting lists' index of a Capacite: kept with the lists, out of snapshots, rebuilt when
a Capacite comes from a snapshot written before the index existed."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from eventsourcing.domain import Snapshot

from portail.domain.capacite import Attribution, Capacite


def _capacite_pleine() -> tuple[Capacite, list]:
    accueil_id, jour = uuid4(), date(2027, 7, 19)
    capacite = Capacite(id=Capacite.id_pour(accueil_id, jour), accueil_id=accueil_id, jour=jour)
    enfants = [uuid4() for _ in range(8)]
    for enfant in enfants:
        capacite.demander(enfant, "JOURNEE", 3, liste_attente=True)
    return capacite, enfants


def test_l_index_suit_les_listes_d_attente() -> None:
    capacite, enfants = _capacite_pleine()
    assert [capacite.en_attente(e, "JOURNEE") for e in enfants] == [False] * 3 + [True] * 5
    capacite.liberer(enfants[4], "JOURNEE")  # leaves the list
    capacite.liberer(enfants[0], "JOURNEE")  # frees a place
    assert capacite.promouvoir("JOURNEE", 3) == [enfants[3]]
    assert [capacite.en_attente(e, "JOURNEE") for e in enfants] == [False] * 5 + [True] * 3
    # Asking again while waiting keeps the child in line, once.
    assert capacite.demander(enfants[6], "JOURNEE", 3, liste_attente=True) is Attribution.ATTENTE
    assert capacite.attente["JOURNEE"] == enfants[5:]


def test_un_instantane_ne_garde_pas_l_index_et_le_reconstruit() -> None:
    capacite, _ = _capacite_pleine()
    instantane = Capacite.Snapshot.take(capacite)
    assert "_index_attente" not in instantane.state
    relue = instantane.mutate(None)
    capacite.collect_events()
    assert vars(relue) == vars(capacite)


def test_un_instantane_d_avant_l_index_le_reconstruit_a_l_usage() -> None:
    capacite, enfants = _capacite_pleine()
    # Written by the library's snapshot class, as before the index existed.
    ancien = Snapshot.take(capacite)
    ancien.state.pop("_index_attente")
    relue = ancien.mutate(None)
    assert "_index_attente" not in vars(relue)
    assert relue.en_attente(enfants[5], "JOURNEE") and not relue.en_attente(enfants[0], "JOURNEE")
    relue.liberer(enfants[5], "JOURNEE")
    assert not relue.en_attente(enfants[5], "JOURNEE")
    assert relue.attente["JOURNEE"] == [enfants[3], enfants[4], enfants[6], enfants[7]]
