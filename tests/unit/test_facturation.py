"""The billing engine on a hand-made month: each rule gives the line a régisseur would write."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portail.domain.accueil import Accueil, ConfigurationAccueil, ModeFacturation, Periode, Unite
from portail.domain.erreurs import ErreurValidation
from portail.domain.facturation import (
    Anomalie,
    Calcul,
    EnfantFacture,
    FamilleFacturee,
    LigneFacture,
    PresencesDuMois,
    _date,
    calculer,
    json_canonique,
)
from portail.domain.planning import Etat, Presence
from portail.domain.quotient import QuotientFamilial
from portail.domain.regles.delais import RegleDelai
from portail.domain.tarifs import (
    Grille,
    ModeTarif,
    ReductionFratrie,
    Residence,
    SeuilRetard,
    Tarification,
    Tranche,
)
from portail.domain.valeurs import SourceQuotient

REGLE = RegleDelai.creer("jour", time(18), decalage_jours=1)
FAMILLE = uuid.uuid4()
AINE, CADET, BENJAMIN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _accueil_avec(soir: Unite, *grilles: Grille, facturation=ModeFacturation.RESERVATIONS) -> Accueil:
    accueil = Accueil(
        configuration=ConfigurationAccueil(
            etablissement="PERISCOLAIRE",
            mode_accueil="Garderie et Restauration",
            periode=Periode("2025-2026", date(2025, 9, 1), date(2026, 7, 4)),
            jours=(1, 2, 4, 5),
            unites=(Unite("MIDI", "Restauration", time(11, 45), time(13, 30)), soir),
            regle_reservation=REGLE,
            regle_annulation=REGLE,
            facturation=facturation,
        )
    )
    accueil.definir_tarifs(Tarification(date(2025, 9, 1), grilles))
    return accueil


def _accueil(facturation: ModeFacturation = ModeFacturation.RESERVATIONS) -> Accueil:
    return _accueil_avec(
        Unite("SOIR", "Soir", time(16, 30), time(18, 30)),
        Grille.creer(
            unite="MIDI",
            residence=Residence.TOUS,
            mode=ModeTarif.TRANCHES_QF,
            tranches=(Tranche(0, 600, 100), Tranche(600, 1000, 305), Tranche(1000, None, 315)),
            fratrie=(ReductionFratrie(3, Decimal(50)),),
            min_cents=100,
            non_reserve_cents=1000,
            absence_non_justifiee_pourcent=Decimal(50),
        ),
        Grille.creer(
            unite="SOIR",
            residence=Residence.TOUS,
            mode=ModeTarif.DEMI_HEURE,
            tranches=(Tranche(0, 651, 30), Tranche(651, 1151, 48), Tranche(1151, None, 63)),
        ),
        facturation=facturation,
    )


QF_742 = (QuotientFamilial(742, date(2025, 9, 1), SourceQuotient.CAF),)


FRATRIE = {
    AINE: EnfantFacture(AINE, FAMILLE, date(2014, 1, 1), False),
    CADET: EnfantFacture(CADET, FAMILLE, date(2016, 1, 1), False),
    BENJAMIN: EnfantFacture(BENJAMIN, FAMILLE, date(2018, 1, 1), False),
}


def _calcul(accueil, presences, quotients=QF_742, enfants=FRATRIE):
    familles = {FAMILLE: FamilleFacturee(FAMILLE, True, tuple(quotients))}
    return calculer(2025, 11, familles, enfants, {accueil.id: accueil}, presences)


def test_chaque_regle_donne_sa_ligne() -> None:
    accueil = _accueil()
    presences = [
        PresencesDuMois(
            AINE,
            accueil.id,
            (
                (date(2025, 11, 3), "MIDI", Presence(Etat.RESERVE)),
                (date(2025, 11, 4), "MIDI", Presence(Etat.PRESENT)),
                (date(2025, 11, 6), "MIDI", Presence(Etat.ABSENT_JUSTIFIE)),
                (date(2025, 11, 7), "MIDI", Presence(Etat.ABSENT_NON_JUSTIFIE)),
                (date(2025, 11, 10), "MIDI", Presence(Etat.PRESENT_NON_RESERVE)),
                (date(2025, 11, 13), "MIDI", Presence(Etat.ANNULE, facturable=True)),
                (date(2025, 11, 14), "MIDI", Presence(Etat.ANNULE, facturable=False)),
                (date(2025, 11, 17), "MIDI", Presence(Etat.LISTE_ATTENTE)),
                (date(2025, 11, 18), "MIDI", Presence(Etat.RESERVE, majoration_cents=250)),
                (
                    date(2025, 11, 20),
                    "SOIR",
                    Presence(Etat.PRESENT, arrivee=time(16, 30), depart=time(18, 5)),
                ),
                (date(2025, 12, 1), "MIDI", Presence(Etat.RESERVE)),
            ),
        ),
    ]
    calcul = _calcul(accueil, presences)
    lignes = {(ligne.jour.day, ligne.nature): ligne for ligne in calcul.lignes}
    assert {k: v.montant_cents for k, v in lignes.items()} == {
        (3, "prestation"): 305,
        (4, "prestation"): 305,
        (6, "prestation"): 0,
        (7, "prestation"): 153,  # 50 % of 3,05 € rounded half up
        (10, "prestation"): 1000,
        (13, "prestation"): 305,
        (18, "prestation"): 305,
        (18, "majoration"): 250,
        (20, "prestation"): 4 * 48,  # 16:30–18:05: four half-hours begun at 0,48 €
    }
    assert lignes[(20, "prestation")].quantite == 4
    assert lignes[(3, "prestation")].explication == (
        "03/11/2025 Restauration : réservé; QF de 600 € à moins de 1000 €; grille du 01/09/2025; résident; "
        "QF 742 € (caf, depuis le 01/09/2025)"
    )
    assert "absence justifiée" in lignes[(6, "prestation")].explication
    assert calcul.montant_cents == sum(v.montant_cents for v in lignes.values())


def _un_midi_chacun(accueil: Accueil) -> list[PresencesDuMois]:
    jour = date(2025, 11, 3)
    return [
        PresencesDuMois(e, accueil.id, ((jour, "MIDI", Presence(Etat.RESERVE)),))
        for e in (BENJAMIN, AINE, CADET)
    ]


def test_rang_dans_la_fratrie_et_qf_inconnu() -> None:
    accueil = _accueil()
    presences = _un_midi_chacun(accueil)
    par_enfant = {ligne.enfant_id: ligne.montant_cents for ligne in _calcul(accueil, presences).lignes}
    assert par_enfant == {AINE: 305, CADET: 305, BENJAMIN: 153}
    sans_qf = {
        ligne.enfant_id: ligne.montant_cents for ligne in _calcul(accueil, presences, quotients=()).lignes
    }
    assert sans_qf == {AINE: 315, CADET: 315, BENJAMIN: 158}


def test_rang_par_cle_d_ordre_quand_les_dates_de_naissance_sont_effacees() -> None:
    accueil = _accueil()
    presences = _un_midi_chacun(accueil)

    def sans_naissance(*ordres: int) -> dict:
        return {
            e: EnfantFacture(e, FAMILLE, None, False, ordre)
            for e, ordre in zip((AINE, CADET, BENJAMIN), ordres, strict=True)
        }

    avant = _calcul(accueil, presences)
    apres = _calcul(accueil, presences, enfants=sans_naissance(1, 2, 3))
    assert apres == avant
    assert apres.empreinte == avant.empreinte
    # The key decides, not the ids.
    inverse = _calcul(accueil, presences, enfants=sans_naissance(3, 2, 1)).lignes
    assert {ligne.enfant_id: ligne.montant_cents for ligne in inverse} == {
        AINE: 153,
        CADET: 305,
        BENJAMIN: 305,
    }


def test_qf_en_vigueur_le_jour_de_la_presence() -> None:
    accueil = _accueil()
    quotients = (
        QuotientFamilial(742, date(2025, 9, 1), SourceQuotient.CAF),
        QuotientFamilial(1200, date(2025, 11, 15), SourceQuotient.ATTESTATION),
    )
    presences = [
        PresencesDuMois(
            AINE,
            accueil.id,
            (
                (date(2025, 11, 14), "MIDI", Presence(Etat.RESERVE)),
                (date(2025, 11, 17), "MIDI", Presence(Etat.RESERVE)),
            ),
        )
    ]
    assert [ligne.montant_cents for ligne in _calcul(accueil, presences, quotients).lignes] == [305, 315]


def test_facturation_aux_presences_signale_les_unites_non_pointees() -> None:
    accueil = _accueil(ModeFacturation.PRESENCES)
    presences = [
        PresencesDuMois(
            AINE,
            accueil.id,
            (
                (date(2025, 11, 3), "MIDI", Presence(Etat.RESERVE)),
                (date(2025, 11, 4), "MIDI", Presence(Etat.PRESENT)),
            ),
        )
    ]
    calcul = _calcul(accueil, presences)
    assert [ligne.jour.day for ligne in calcul.lignes] == [4]
    assert [(a.jour.day, a.motif) for a in calcul.anomalies] == [(3, "réservé mais non pointé")]


def test_meme_entree_meme_empreinte() -> None:
    accueil = _accueil()
    presences = [PresencesDuMois(AINE, accueil.id, ((date(2025, 11, 3), "MIDI", Presence(Etat.RESERVE)),))]
    premier = _calcul(accueil, presences)
    assert premier.empreinte == _calcul(accueil, list(presences)).empreinte
    autre = [PresencesDuMois(AINE, accueil.id, ((date(2025, 11, 3), "MIDI", Presence(Etat.PRESENT)),))]
    assert premier.empreinte != _calcul(accueil, autre).empreinte


# Roncq's extras as grid data: a presence without booking pays the grid price plus 2,50 €; a late
# pick-up pays 1 € after the closing time (18:00), 3 € after 18:30.


def _accueil_roncq() -> Accueil:
    return _accueil_avec(
        Unite("SOIR", "Accueil du soir", time(16, 30), time(18, 0)),
        Grille.creer(
            unite="MIDI",
            residence=Residence.TOUS,
            mode=ModeTarif.TRANCHES_QF,
            tranches=(Tranche(0, 640, 175), Tranche(640, 860, 235), Tranche(860, None, 305)),
            non_reserve_majoration_cents=250,
        ),
        Grille.creer(
            unite="SOIR",
            residence=Residence.TOUS,
            mode=ModeTarif.DEMI_HEURE,
            tranches=(Tranche(0, 640, 70), Tranche(640, None, 85)),
            non_reserve_majoration_cents=250,
            retards=(SeuilRetard(time(18, 0), 100), SeuilRetard(time(18, 30), 300)),
        ),
    )


def _lignes_par_jour(accueil, *presences):
    calcul = _calcul(accueil, [PresencesDuMois(AINE, accueil.id, tuple(presences))])
    return {(ligne.jour.day, ligne.unite, ligne.nature): ligne for ligne in calcul.lignes}


def test_presence_sans_reservation_prix_de_la_grille_plus_majoration() -> None:
    accueil = _accueil_roncq()
    lignes = _lignes_par_jour(
        accueil,
        (date(2025, 11, 3), "MIDI", Presence(Etat.RESERVE)),
        (date(2025, 11, 4), "MIDI", Presence(Etat.PRESENT)),
        (date(2025, 11, 6), "MIDI", Presence(Etat.ABSENT_NON_JUSTIFIE)),
        (date(2025, 11, 7), "MIDI", Presence(Etat.ABSENT_JUSTIFIE)),
        (date(2025, 11, 10), "MIDI", Presence(Etat.PRESENT_NON_RESERVE)),
        (date(2025, 11, 13), "MIDI", Presence(Etat.ANNULE, facturable=True)),
        (
            date(2025, 11, 14),
            "SOIR",
            Presence(Etat.PRESENT_NON_RESERVE, arrivee=time(16, 30), depart=time(17, 40)),
        ),
    )
    assert {k: v.montant_cents for k, v in lignes.items()} == {
        (3, "MIDI", "prestation"): 235,
        (4, "MIDI", "prestation"): 235,  # booked and present: no surcharge
        (6, "MIDI", "prestation"): 235,
        (7, "MIDI", "prestation"): 0,
        (10, "MIDI", "prestation"): 235,  # the grid price…
        (10, "MIDI", "sans_reservation"): 250,  # …and the surcharge, on its own line
        (13, "MIDI", "prestation"): 235,  # a late cancellation is billed, not surcharged
        (14, "SOIR", "prestation"): 3 * 85,  # three half-hours begun at 0,85 €
        (14, "SOIR", "sans_reservation"): 250,  # once per presence, not per half-hour
    }
    majoration = lignes[(10, "MIDI", "sans_reservation")]
    assert (majoration.quantite, majoration.prix_unitaire_cents) == (1, 250)
    assert majoration.explication == (
        "10/11/2025 Restauration : majoration pour présence sans réservation (2,50 €)"
    )
    assert lignes[(10, "MIDI", "prestation")].explication.startswith(
        "10/11/2025 Restauration : présence non réservée; QF de 640 € à moins de 860 €"
    )


def test_presence_sans_reservation_un_jour_ferme_garde_sa_majoration() -> None:
    accueil = _accueil_roncq()
    accueil.fermer(date(2025, 11, 10), "Grève")
    lignes = _lignes_par_jour(accueil, (date(2025, 11, 10), "MIDI", Presence(Etat.PRESENT_NON_RESERVE)))
    assert {k[2]: v.montant_cents for k, v in lignes.items()} == {"prestation": 235, "sans_reservation": 250}


@pytest.mark.parametrize(
    ("depart", "retard"),
    [
        (None, None),  # no departure recorded: nothing can be said to be late
        (time(17, 59), None),
        (time(18, 0), None),  # exactly at the closing time
        (time(18, 1), 100),  # one minute after
        (time(18, 30), 100),  # exactly at 18:30 is not after it
        (time(18, 30, 40), 100),  # counted to the minute
        (time(18, 31), 300),
        (time(18, 42), 300),
    ],
)
def test_retard_selon_l_heure_de_depart(depart, retard) -> None:
    accueil = _accueil_roncq()
    lignes = _lignes_par_jour(
        accueil, (date(2025, 11, 20), "SOIR", Presence(Etat.PRESENT, arrivee=time(16, 30), depart=depart))
    )
    ligne = lignes.get((20, "SOIR", "retard"))
    assert (ligne.montant_cents if ligne else None) == retard
    assert (20, "SOIR", "prestation") in lignes


def test_retard_explique_sur_sa_propre_ligne() -> None:
    accueil = _accueil_roncq()
    lignes = _lignes_par_jour(
        accueil,
        (date(2025, 11, 20), "SOIR", Presence(Etat.PRESENT, arrivee=time(16, 30), depart=time(18, 42))),
    )
    retard = lignes[(20, "SOIR", "retard")]
    assert (retard.quantite, retard.prix_unitaire_cents, retard.montant_cents) == (1, 300, 300)
    assert retard.explication == "20/11/2025 Accueil du soir : retard, départ à 18:42 après 18:30 : 3,00 €"
    # The half-hours count to the real departure: 16:30–18:42 is five half-hours begun.
    assert lignes[(20, "SOIR", "prestation")].quantite == 5


def test_retard_et_absence_de_reservation_se_cumulent_mais_pas_sur_une_absence() -> None:
    accueil = _accueil_roncq()
    tard = {"arrivee": time(16, 30), "depart": time(18, 10)}
    lignes = _lignes_par_jour(
        accueil,
        (date(2025, 11, 20), "SOIR", Presence(Etat.PRESENT_NON_RESERVE, **tard)),
        # An agent may send times with an absence; no one was picked up late.
        (date(2025, 11, 21), "SOIR", Presence(Etat.ABSENT_NON_JUSTIFIE, **tard)),
        (date(2025, 11, 24), "SOIR", Presence(Etat.ANNULE, facturable=True)),
    )
    assert {k: v.montant_cents for k, v in lignes.items()} == {
        (20, "SOIR", "prestation"): 4 * 85,
        (20, "SOIR", "retard"): 100,
        (20, "SOIR", "sans_reservation"): 250,
        (21, "SOIR", "prestation"): 4 * 85,
        (24, "SOIR", "prestation"): 3 * 85,  # the unit's length: no pointed times
    }


def test_grille_sans_les_nouvelles_regles_facture_comme_avant() -> None:
    # The reference grid has neither surcharge nor late fee: a late departure and an unbooked
    # presence give the lines they always gave.
    accueil = _accueil()
    lignes = _lignes_par_jour(
        accueil,
        (date(2025, 11, 10), "MIDI", Presence(Etat.PRESENT_NON_RESERVE)),
        (date(2025, 11, 20), "SOIR", Presence(Etat.PRESENT, arrivee=time(16, 30), depart=time(19, 30))),
    )
    assert {k: v.montant_cents for k, v in lignes.items()} == {
        (10, "MIDI", "prestation"): 1000,
        (20, "SOIR", "prestation"): 6 * 48,
    }


def test_seuil_de_retard_avant_la_fin_de_l_unite_refuse() -> None:
    accueil = _accueil_roncq()
    grille = Grille.creer(
        unite="SOIR",
        residence=Residence.TOUS,
        mode=ModeTarif.FORFAIT,
        prix_cents=120,
        retards=(SeuilRetard(time(18, 0), 100), SeuilRetard(time(17, 45), 50)),
    )
    with pytest.raises(ErreurValidation) as erreur:
        accueil.definir_tarifs(Tarification(date(2026, 1, 1), (grille,)))
    assert [(e.champ, e.message) for e in erreur.value.erreurs] == [
        (
            "grilles[0].retards[1].apres",
            "avant la fin de l'unité SOIR (18:00) : un enfant repris à l'heure paierait le retard",
        )
    ]


_textes = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_lignes = st.builds(
    LigneFacture,
    famille_id=st.uuids(),
    enfant_id=st.uuids(),
    accueil_id=st.uuids(),
    accueil=_textes,
    jour=st.dates(),
    unite=_textes,
    nature=_textes,
    quantite=st.integers(-(2**53), 2**53),
    prix_unitaire_cents=st.integers(-(2**53), 2**53),
    montant_cents=st.integers(-(2**53), 2**53),
    explication=_textes,
)
_anomalies = st.builds(
    Anomalie, enfant_id=st.uuids(), accueil_id=st.uuids(), jour=st.dates(), unite=_textes, motif=_textes
)


@given(st.lists(_lignes, max_size=4), st.lists(_anomalies, max_size=3))
def test_l_empreinte_d_un_calcul_est_celle_de_son_json_canonique(lignes, anomalies) -> None:
    """Recorded campaigns keep their digest: the fast encoding gives the defined bytes for any
    text (accents, control characters, quotes, line separators), amount and date."""
    calcul = Calcul(tuple(lignes), tuple(anomalies))
    assert calcul.empreinte == hashlib.sha256(json_canonique(calcul)).hexdigest()


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)))
def test_le_jour_d_une_explication_s_ecrit_comme_strftime(jour: date) -> None:
    # Explanations enter the invoices' digests: a day written otherwise would change every digest
    # recorded before.
    assert _date(jour) == jour.strftime("%d/%m/%Y")
