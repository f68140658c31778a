"""Which drafts a new fact makes the runner price again (no database: the in-memory facts)."""

from __future__ import annotations

import uuid
from datetime import date, time

from portail.domain.accueil import Accueil, ConfigurationAccueil, Periode, Unite
from portail.domain.planning import Ligne, Planning
from portail.domain.regles.delais import RegleDelai
from portail.domain.tarifs import Grille, ModeTarif, Residence, Tarification
from portail.projections.brouillons import TOUS_LES_MOIS, Brouillons

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


def test_un_nouvel_accueil_ne_fait_recalculer_aucun_brouillon_ses_tarifs_ceux_de_ses_familles() -> None:
    brouillons = Brouillons("public")
    accueil = nouvel_accueil()
    autre_accueil = nouvel_accueil()
    famille, autre_famille = uuid.uuid4(), uuid.uuid4()
    enfant, autre_enfant = uuid.uuid4(), uuid.uuid4()
    planning = Planning(
        id=Planning.id_pour(enfant, accueil.id), enfant_id=enfant, accueil_id=accueil.id, famille_id=famille
    )
    planning.reserver([Ligne(date(2025, 10, 6), "repas")])
    ailleurs = Planning(
        id=Planning.id_pour(autre_enfant, autre_accueil.id),
        enfant_id=autre_enfant,
        accueil_id=autre_accueil.id,
        famille_id=autre_famille,
    )
    ailleurs.reserver([Ligne(date(2025, 10, 6), "repas")])
    _suivre(brouillons, accueil, autre_accueil, planning, ailleurs)
    assert {(famille, "2025-10"), (autre_famille, "2025-10")} <= brouillons.a_recalculer
    brouillons.a_recalculer = set()

    _suivre(brouillons, nouvel_accueil())
    assert brouillons.a_recalculer == set()
    assert brouillons.tout is False

    accueil.definir_tarifs(
        Tarification(
            date(2025, 9, 1),
            (Grille.creer(unite="repas", residence=Residence.TOUS, mode=ModeTarif.FORFAIT, prix_cents=350),),
        )
    )
    _suivre(brouillons, accueil)
    assert brouillons.a_recalculer == {(famille, TOUS_LES_MOIS)}


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
    assert brouillons.a_recalculer == {(famille, "2025-11")}
