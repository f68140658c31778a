"""The read rows a command writes have the shapes the save function writes with its planned
statements (`store.chaine.FORMES_LIGNES`); a row of another shape would take the slower path."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from portail.domain.capacite import Capacite
from portail.domain.planning import Ligne, Planning
from portail.projections.en_ligne import lignes_commande
from portail.store.chaine import FORMES_LIGNES

JOUR = date(2026, 9, 7)


def test_les_lignes_d_une_premiere_reservation_ont_les_formes_connues() -> None:
    accueil_id = uuid4()
    planning = Planning(id=uuid4(), enfant_id=uuid4(), accueil_id=accueil_id, famille_id=uuid4())
    planning.reserver([Ligne(JOUR, "MIDI"), Ligne(JOUR, "SOIR", majoration_pourcent=50)])
    capacite = Capacite(id=Capacite.id_pour(accueil_id, JOUR), accueil_id=accueil_id, jour=JOUR)
    capacite.demander(planning.enfant_id, "MIDI", 10, liste_attente=True)
    capacite.demander(planning.enfant_id, "SOIR", 10, liste_attente=True)

    lignes = lignes_commande([planning, capacite])

    tables = [x.table for x in lignes]
    assert tables == ["proj_plannings", "proj_capacites", *["proj_calendrier"] * 2, *["proj_occupation"] * 2]
    for ligne in lignes:
        cles, colonnes = FORMES_LIGNES[ligne.table]
        assert ligne.cles == cles
        assert sorted(ligne.valeurs) == sorted(colonnes), ligne.table
