"""Which drafts a new fact makes the runner price again (no database: what the runner notes)."""

from __future__ import annotations

import uuid
from datetime import date, time

from portail.domain.accueil import Accueil, ConfigurationAccueil, Periode, Unite
from portail.domain.planning import Ligne, Planning
from portail.domain.regles.delais import RegleDelai
from portail.domain.tarifs import Grille, ModeTarif, Residence, Tarification
from portail.projections.brouillons import Brouillons

REGLE = RegleDelai.creer("jour", time(18), decalage_jours=1)


def nouvel_accueil() -> Accueil:
    return Accueil(
        configuration=ConfigurationAccueil(
            etablissement="PERISCOLAIRE",
            mode_accueil="Restauration",
            periode=Periode("2025-2026", date(2025, 9, 1), date(2026, 7, 4)),
            jours=(1, 2, 4, 5),
            unites=(Unite("repas", "Repas", time(11, 45), time(13, 30)),),
            regle_reservation=REGLE,
            regle_annulation=REGLE,
        )
    )


def _suivre(brouillons: Brouillons, *aggregats) -> None:
    for aggregat in aggregats:
        for evenement in aggregat.collect_events():
            brouillons.suivre(evenement)


def test_un_accueil_fait_recalculer_les_familles_qui_y_ont_un_planning_pas_les_autres() -> None:
    brouillons = Brouillons("public")
    accueil = nouvel_accueil()
    autre_accueil = nouvel_accueil()
    famille, enfant = uuid.uuid4(), uuid.uuid4()
    planning = Planning(
        id=Planning.id_pour(enfant, accueil.id), enfant_id=enfant, accueil_id=accueil.id, famille_id=famille
    )
    planning.reserver([Ligne(date(2025, 10, 6), "repas")])
    _suivre(brouillons, accueil, autre_accueil, planning)
    # The planning's month, by the planning's id: its family is read from the subjects' table.
    assert brouillons.a_recalculer == {(planning.id, "2025-10")}
    # The accueils are the commune's facts, kept; a new one changes no family's bill.
    assert set(brouillons.communs) == {accueil.id, autre_accueil.id}
    assert brouillons.accueils_touches == set()
    brouillons.a_recalculer, brouillons.accueils_touches = set(), set()

    accueil.definir_tarifs(
        Tarification(
            date(2025, 9, 1),
            (Grille.creer(unite="repas", residence=Residence.TOUS, mode=ModeTarif.FORFAIT, prix_cents=350),),
        )
    )
    _suivre(brouillons, accueil)
    assert brouillons.a_recalculer == set()
    assert brouillons.accueils_touches == {accueil.id}
    assert brouillons.communs[accueil.id].tarifs  # type: ignore[attr-defined]
    assert brouillons.tout is False


def test_ouvrir_un_planning_ne_fait_recalculer_que_les_mois_de_ses_reservations() -> None:
    brouillons = Brouillons("public")
    accueil = nouvel_accueil()
    famille, enfant = uuid.uuid4(), uuid.uuid4()
    planning = Planning(
        id=Planning.id_pour(enfant, accueil.id), enfant_id=enfant, accueil_id=accueil.id, famille_id=famille
    )
    _suivre(brouillons, accueil, planning)
    assert brouillons.a_recalculer == set()

    planning.reserver([Ligne(date(2025, 11, 3), "repas")])
    _suivre(brouillons, planning)
    assert brouillons.a_recalculer == {(planning.id, "2025-11")}
