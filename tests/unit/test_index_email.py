"""IndexEmail aggregate: one account per e-mail address."""

from __future__ import annotations

from uuid import uuid4

import pytest

from portail.domain.erreurs import Conflit
from portail.domain.index_email import EmailDejaUtilise, IndexEmail

EMPREINTE = "3f1c0a9e5b"


def types(index: IndexEmail) -> list[type]:
    return [type(e) for e in index.collect_events()]


def rejouer(evenements):
    copie = None
    for evenement in evenements:
        copie = evenement.mutate(copie)
    return copie


def test_id_pour_est_stable_et_propre_a_chaque_empreinte():
    assert IndexEmail.id_pour(EMPREINTE) == IndexEmail.id_pour(EMPREINTE)
    assert IndexEmail.id_pour(EMPREINTE) != IndexEmail.id_pour("autre-empreinte")


def test_reserver_une_adresse():
    compte = uuid4()
    index = IndexEmail(id=IndexEmail.id_pour(EMPREINTE), compte_id=compte)
    assert types(index) == [IndexEmail.Reserve]
    assert index.id == IndexEmail.id_pour(EMPREINTE)
    assert index.compte_id == compte


def test_attribuer_au_meme_compte_n_enregistre_rien():
    compte = uuid4()
    index = IndexEmail(id=IndexEmail.id_pour(EMPREINTE), compte_id=compte)
    index.collect_events()
    index.attribuer(compte)
    assert types(index) == []


def test_adresse_deja_utilisee_par_un_autre_compte_est_refusee():
    compte = uuid4()
    index = IndexEmail(id=IndexEmail.id_pour(EMPREINTE), compte_id=compte)
    index.collect_events()
    with pytest.raises(EmailDejaUtilise) as erreur:
        index.attribuer(uuid4())
    assert isinstance(erreur.value, Conflit)
    assert erreur.value.detail == "Cette adresse e-mail est déjà utilisée par un autre compte."
    assert types(index) == []
    assert index.compte_id == compte


def test_adresse_liberee_peut_etre_reattribuee():
    index = IndexEmail(id=IndexEmail.id_pour(EMPREINTE), compte_id=uuid4())
    index.collect_events()
    index.liberer()
    index.liberer()
    assert types(index) == [IndexEmail.Libere]
    assert index.compte_id is None
    nouveau = uuid4()
    index.attribuer(nouveau)
    assert types(index) == [IndexEmail.Reattribue]
    assert index.compte_id == nouveau
    with pytest.raises(EmailDejaUtilise):
        index.attribuer(uuid4())


def test_rejouer_les_evenements_redonne_le_meme_etat():
    index = IndexEmail(id=IndexEmail.id_pour(EMPREINTE), compte_id=uuid4())
    index.liberer()
    index.attribuer(uuid4())
    evenements = index.collect_events()
    copie = rejouer(evenements)
    assert isinstance(copie, IndexEmail)
    assert vars(copie) == vars(index)
    assert copie.version == 3
