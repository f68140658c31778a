"""A set whose copies share its bulk behaves as a set, and a copy as an independent set."""

from __future__ import annotations

import copy
import pickle
from datetime import date
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from portail.domain.capacite import Capacite
from portail.domain.ensembles import CHANGEMENTS_MAX, EnsemblePartage
from portail.store.cache_agregats import copier

operations = st.lists(
    st.tuples(st.sampled_from(["ajouter", "retirer", "copier"]), st.integers(0, 40)), max_size=300
)


@settings(max_examples=300)
@given(depart=st.sets(st.integers(0, 40)), operations=operations)
def test_il_se_comporte_comme_un_ensemble_et_ses_copies_aussi(depart: set[int], operations: list) -> None:
    ensemble, modele = EnsemblePartage(depart), set(depart)
    copies: list[tuple[EnsemblePartage[int], set[int]]] = []
    for operation, valeur in operations:
        if operation == "ajouter":
            ensemble.add(valeur)
            modele.add(valeur)
        elif operation == "retirer":
            ensemble.discard(valeur)
            modele.discard(valeur)
        else:
            # The copy goes on changing; the original is frozen as it was.
            copies.append((ensemble, set(modele)))
            ensemble, modele = ensemble.copy(), set(modele)
        assert ensemble == modele
        assert len(ensemble) == len(modele)
        assert sorted(ensemble) == sorted(modele)
        assert all((v in ensemble) == (v in modele) for v in range(41))
    for ancien, attendu in copies:
        assert ancien == attendu


def test_une_copie_ne_copie_que_les_changements() -> None:
    ensemble = EnsemblePartage(range(10_000))
    for i in range(10_000, 10_000 + CHANGEMENTS_MAX):
        ensemble.add(i)
    copie = ensemble.copy()
    assert copie._base is ensemble._base
    copie.add(-1)
    copie.discard(0)
    assert -1 in copie and -1 not in ensemble
    assert 0 in ensemble and 0 not in copie
    # One change more and the base is rebuilt: the copy stays as it was.
    ensemble.add(-2)
    assert ensemble._base is not copie._base and not ensemble._ajouts
    assert -2 not in copie and len(ensemble) == 10_000 + CHANGEMENTS_MAX + 1


def test_il_se_copie_et_se_serialise_comme_un_ensemble() -> None:
    ensemble = EnsemblePartage([1, 2, 3])
    ensemble.discard(2)
    ensemble.add(4)
    assert copy.deepcopy(ensemble) == {1, 3, 4}
    assert pickle.loads(pickle.dumps(ensemble)) == {1, 3, 4}


def test_une_decision_sur_la_copie_d_une_capacite_laisse_la_gardee_intacte() -> None:
    accueil_id, jour = uuid4(), date(2027, 7, 19)
    gardee = Capacite(id=Capacite.id_pour(accueil_id, jour), accueil_id=accueil_id, jour=jour)
    enfants = [uuid4() for _ in range(600)]
    for enfant in enfants:
        gardee.demander(enfant, "JOURNEE", 100, liste_attente=True)
    gardee.collect_events()
    copie = copier(gardee)
    nouveau = uuid4()
    copie.demander(nouveau, "JOURNEE", 100, liste_attente=True)
    copie.liberer(enfants[300], "JOURNEE")
    assert copie.en_attente(nouveau, "JOURNEE") and not gardee.en_attente(nouveau, "JOURNEE")
    assert gardee.en_attente(enfants[300], "JOURNEE") and not copie.en_attente(enfants[300], "JOURNEE")
    assert len(gardee.attente["JOURNEE"]) == 500
