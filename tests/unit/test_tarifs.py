"""The four real grids of the reference, to the cent."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from portail.domain.erreurs import ErreurValidation
from portail.domain.tarifs import (
    Grille,
    ModeTarif,
    ReductionFratrie,
    Residence,
    SeuilRetard,
    Tranche,
    demi_heures_entamees,
    prix_unitaire,
)

ROUNCQ_REPAS = Grille.creer(
    unite="MIDI",
    residence=Residence.RESIDENT,
    mode=ModeTarif.TRANCHES_QF,
    tranches=(
        Tranche(0, 400, 50, 50),
        Tranche(400, 640, 175, 80),
        Tranche(640, 860, 235, 80),
        Tranche(860, 1150, 305, 80),
        Tranche(1150, 1500, 355, 100),
        Tranche(1500, 1700, 405, 100),
        Tranche(1700, 1900, 460, 100),
        Tranche(1900, None, 490, 100),
    ),
)


@pytest.mark.parametrize(
    ("qf", "attendu"),
    [
        (0, 50),
        (399, 50),
        (400, 175),
        (639, 175),
        (640, 235),
        (859, 235),
        (860, 305),
        (1149, 305),
        (1150, 355),
        (1500, 405),
        (1700, 460),
        (1899, 460),
        (1900, 490),
        (5000, 490),
    ],
)
def test_roncq_repas_par_tranche(qf, attendu):
    assert prix_unitaire(ROUNCQ_REPAS, qf, 1, pai=False).cents == attendu


def test_roncq_qf_inconnu_tranche_la_plus_haute_et_pai():
    prix = prix_unitaire(ROUNCQ_REPAS, None, 1, pai=False)
    assert prix.cents == 490
    assert "QF inconnu" in prix.explication
    assert prix_unitaire(ROUNCQ_REPAS, 300, 1, pai=True).cents == 50
    assert prix_unitaire(ROUNCQ_REPAS, 1000, 1, pai=True).cents == 80
    assert prix_unitaire(ROUNCQ_REPAS, 2000, 1, pai=True).cents == 100


def test_roncq_grille_exterieurs_avec_un_trou_refusee():
    # The published non-resident grid skips 800 € to 860 €.
    with pytest.raises(ErreurValidation) as erreur:
        Grille.creer(
            unite="PERI",
            residence=Residence.EXTERIEUR,
            mode=ModeTarif.DEMI_HEURE,
            tranches=(Tranche(0, 800, 195), Tranche(860, 1500, 200), Tranche(1500, None, 205)),
        )
    assert "trou de 800 € à 860 €" in erreur.value.erreurs[0].message


def test_chevauchement_refuse():
    with pytest.raises(ErreurValidation) as erreur:
        Grille.creer(
            unite="MIDI",
            residence=Residence.TOUS,
            mode=ModeTarif.TRANCHES_QF,
            tranches=(Tranche(0, 700, 100), Tranche(650, None, 200)),
        )
    assert "chevauchement" in erreur.value.erreurs[0].message


FAY = Grille.creer(
    unite="MIDI",
    residence=Residence.TOUS,
    mode=ModeTarif.TAUX_EFFORT,
    taux_pourcent=Decimal("0.36"),
    min_cents=260,
    max_cents=450,
    pai_cents=175,
)


@pytest.mark.parametrize(
    ("qf", "attendu"), [(500, 260), (900, 324), (1000, 360), (1250, 450), (2000, 450), (1111, 400)]
)
def test_fay_aux_loges_taux_d_effort(qf, attendu):
    assert prix_unitaire(FAY, qf, 1, pai=False).cents == attendu


def test_fay_aux_loges_pai_et_qf_inconnu():
    assert prix_unitaire(FAY, 900, 1, pai=True).cents == 175
    assert prix_unitaire(FAY, None, 1, pai=False).cents == 450


def _deux_c_deux_r(residence, prix):
    return Grille.creer(
        unite="PERI",
        residence=residence,
        mode=ModeTarif.DEMI_HEURE,
        tranches=(Tranche(0, 651, prix[0]), Tranche(651, 1151, prix[1]), Tranche(1151, None, prix[2])),
    )


def test_2c2r_demi_heure_resident_et_exterieur_double():
    resident = _deux_c_deux_r(Residence.RESIDENT, (30, 48, 63))
    exterieur = _deux_c_deux_r(Residence.EXTERIEUR, (60, 96, 126))
    for qf, (r, e) in {650: (30, 60), 651: (48, 96), 1150: (48, 96), 1151: (63, 126)}.items():
        assert prix_unitaire(resident, qf, 1, pai=False).cents == r
        assert prix_unitaire(exterieur, qf, 1, pai=False).cents == e
    # 16:30 to 18:05 is 95 minutes: four half-hours begun.
    assert demi_heures_entamees(95) == 4
    assert demi_heures_entamees(30) == 1
    assert demi_heures_entamees(31) == 2
    assert demi_heures_entamees(0) == 0


BUBRY = Grille.creer(
    unite="MIDI",
    residence=Residence.TOUS,
    mode=ModeTarif.TRANCHES_QF,
    tranches=(
        Tranche(0, 600, 100),
        Tranche(600, 1000, 305),
        Tranche(1000, 1500, 310),
        Tranche(1500, None, 315),
    ),
    fratrie=(ReductionFratrie(3, Decimal(50)),),
    min_cents=100,
    pai_cents=64,
)


@pytest.mark.parametrize(
    ("qf", "premier", "troisieme"), [(300, 100, 100), (800, 305, 153), (1200, 310, 155), (1600, 315, 158)]
)
def test_bubry_troisieme_enfant_arrondi_au_centime_superieur(qf, premier, troisieme):
    assert prix_unitaire(BUBRY, qf, 1, pai=False).cents == premier
    assert prix_unitaire(BUBRY, qf, 2, pai=False).cents == premier
    assert prix_unitaire(BUBRY, qf, 3, pai=False).cents == troisieme
    assert prix_unitaire(BUBRY, qf, 4, pai=False).cents == troisieme
    assert prix_unitaire(BUBRY, qf, 3, pai=True).cents == 64


def test_bubry_explication_lisible():
    prix = prix_unitaire(BUBRY, 800, 3, pai=False)
    assert prix.explication == "QF de 600 € à moins de 1000 €, 3e enfant : -50 %"


# Roncq's extras: +2,50 € for a presence without booking; late pick-up 1 € after closing, 3 € after 18:30.

RONCQ_SOIR = Grille.creer(
    unite="SOIR",
    residence=Residence.RESIDENT,
    mode=ModeTarif.DEMI_HEURE,
    tranches=(Tranche(0, 640, 70), Tranche(640, None, 85)),
    non_reserve_majoration_cents=250,
    retards=(SeuilRetard(time(18, 30), 300), SeuilRetard(time(18, 0), 100)),
)


@pytest.mark.parametrize(
    ("depart", "attendu"),
    [
        (time(17, 45), None),
        (time(18, 0), None),  # at the closing time is in time
        (time(18, 0, 59), None),  # counted to the minute, as the agent's clock reads
        (time(18, 1), 100),
        (time(18, 30), 100),
        (time(18, 30, 59), 100),
        (time(18, 31), 300),  # the later threshold alone, not 1 € + 3 €
        (time(19, 15), 300),
    ],
)
def test_roncq_retard_le_dernier_seuil_depasse(depart, attendu):
    seuil = RONCQ_SOIR.retard(depart)
    assert (seuil.montant_cents if seuil else None) == attendu


def test_grille_sans_retard_ne_facture_aucun_retard():
    assert ROUNCQ_REPAS.retard(time(23, 59)) is None


def test_majoration_sans_reservation_et_retards_verifies():
    with pytest.raises(ErreurValidation) as erreur:
        Grille.creer(
            unite="SOIR",
            residence=Residence.TOUS,
            mode=ModeTarif.FORFAIT,
            prix_cents=120,
            non_reserve_cents=500,
            non_reserve_majoration_cents=-1,
            retards=(SeuilRetard(time(18, 30), 300), SeuilRetard(time(18, 30), -100)),
        )
    assert sorted((e.champ, e.message) for e in erreur.value.erreurs) == [
        (
            "non_reserve_majoration_cents",
            "soit un prix de la présence sans réservation (non_reserve_cents), soit une majoration",
        ),
        ("non_reserve_majoration_cents", "un montant ne peut pas être négatif"),
        ("retards[1].apres", "deux seuils de retard à 18:30"),
        ("retards[1].montant_cents", "un montant ne peut pas être négatif"),
    ]
