"""Which group of a save call the save function writes without a savepoint: the same one, or
none, as the function counts them (a group with rows to write, or one that depends on another)."""

from __future__ import annotations

import uuid

from eventsourcing.persistence import StoredEvent

from portail.store.chaine import Groupe, _groupe_seul


def _avec_evenement() -> Groupe:
    return Groupe(evenements=[StoredEvent(uuid.uuid4(), 1, "portail:Essai", b"\x01")])


def test_le_seul_groupe_qui_ecrit_est_nomme_parmi_des_groupes_vides() -> None:
    assert _groupe_seul([Groupe(), _avec_evenement(), Groupe()], []) == 1


def test_deux_groupes_qui_ecrivent_n_en_font_pas_un_seul() -> None:
    assert _groupe_seul([_avec_evenement(), _avec_evenement()], []) is None


def test_un_groupe_vide_qui_depend_d_un_autre_compte_celui_dont_il_depend_non() -> None:
    # The function counts `d_groupe` (the dependent), not `d_depend`.
    assert _groupe_seul([_avec_evenement(), Groupe()], [(1, 0)]) is None
    assert _groupe_seul([_avec_evenement(), Groupe()], [(0, 1)]) == 0
