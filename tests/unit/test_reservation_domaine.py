"""The booking rules of docs/reservations.md (§2–8, §11), decided by the domain alone: no database,
the instant given, the 2021-2022 calendar of zone A written out as data.

The accueil is the périscolaire of the seed (MATIN, MIDI, SOIR, booked and cancelled until 18:00
the day before); the deadline rules are the communes' of §3 (Veyras, Vailhauques, two working days).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NoReturn
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portail.domain.accueil import (
    Accueil,
    ConfigurationAccueil,
    Eligibilite,
    ModeListeAttente,
    Periode,
    Unite,
)
from portail.domain.capacite import Capacite, Offre, OffreIndisponible
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurValidation
from portail.domain.personnes import IdentiteEnfant, Scolarite
from portail.domain.planning import Etat, Planning, Pointage, Presence
from portail.domain.regles.calendrier import PARIS, Calendrier
from portail.domain.regles.delais import RegleDelai, Retard
from portail.domain.reservation import (
    DemandePointage,
    DemandeReservation,
    Lot,
    Resultat,
    Statut,
    StatutPointage,
    a_liberer,
    declarer_absence,
    etat_pointe,
    pointer,
    recopie,
    unites_demandees,
    verifier_pointage,
)
from portail.domain.valeurs import Classe, Niveau

# The 2021-2022 school year in zone A, as `holidays` and `vacances-scolaires-france` give it.
FERIES = frozenset(
    {
        date(2021, 11, 1),
        date(2021, 11, 11),
        date(2021, 12, 25),
        date(2022, 1, 1),
        date(2022, 4, 18),
        date(2022, 5, 1),
        date(2022, 5, 8),
        date(2022, 5, 26),
        date(2022, 6, 6),
        date(2022, 7, 14),
    }
)
VACANCES_ZONE_A = (
    (date(2021, 10, 23), date(2021, 11, 7)),
    (date(2021, 12, 18), date(2022, 1, 2)),
    (date(2022, 2, 12), date(2022, 2, 27)),
    (date(2022, 4, 16), date(2022, 5, 1)),
    (date(2022, 5, 26), date(2022, 5, 29)),
    (date(2022, 7, 7), date(2022, 8, 31)),
)


def _vacances(jour: date, zone: str) -> bool:
    return zone == "A" and any(debut <= jour <= fin for debut, fin in VACANCES_ZONE_A)


CALENDRIER = Calendrier(jours_feries=FERIES, vacances=_vacances)

VEILLE_18H = RegleDelai.creer("jour", time(18), decalage_jours=1)
VEYRAS = RegleDelai.creer("semaine_precedente", time(23, 59), jours_semaine=(2,))
VAILHAUQUES = RegleDelai.creer("jour_semaine_precedent", time(9), jours_semaine=(2, 5))
DEUX_JOURS_OUVRES = RegleDelai.creer("jour", time(10), decalage_jours=2, jours_ouvres=True)

MATIN = Unite("MATIN", "Accueil du matin", time(7, 15), time(8, 20), capacite=30)
MIDI = Unite("MIDI", "Restauration", time(11, 30), time(13, 30), capacite=120)
SOIR = Unite("SOIR", "Accueil du soir", time(16, 30), time(18, 30), capacite=30)

LUNDI, MARDI, MERCREDI, JEUDI, VENDREDI = (date(2021, 10, 4) + timedelta(days=i) for i in range(5))
AVANT = datetime(2021, 9, 20, 8, 0, tzinfo=UTC)
"""Two weeks before: on time for every October day."""


def paris(annee: int, mois: int, jour: int, heure: int, minute: int = 0) -> datetime:
    return datetime(annee, mois, jour, heure, minute, tzinfo=PARIS)


def periscolaire(**modifications: object) -> Accueil:
    config = ConfigurationAccueil(
        etablissement="PERISCOLAIRE",
        mode_accueil="Garderie et Restauration",
        periode=Periode("Année scolaire 2021-2022", date(2021, 9, 2), date(2022, 7, 6)),
        jours=(1, 2, 4, 5),
        unites=(MATIN, MIDI, SOIR),
        regle_reservation=VEILLE_18H,
        regle_annulation=VEILLE_18H,
        zone_scolaire="A",
        hors_vacances_scolaires=True,
        duree_offre_heures=24,
    )
    accueil = Accueil(configuration=replace(config, **modifications))
    accueil.collect_events()
    return accueil


def soir(
    capacite: int | None, mode: ModeListeAttente = ModeListeAttente.AUTOMATIQUE, **autres: object
) -> Accueil:
    """The périscolaire with few places in the evening."""
    return periscolaire(unites=(MATIN, MIDI, replace(SOIR, capacite=capacite)), liste_attente=mode, **autres)


class Commune:
    """One accueil's aggregates as the log would hold them, and the `Chargeur` the decisions load
    through; each command runs one `Lot`, and the events it recorded are kept in `evenements`."""

    def __init__(self, accueil: Accueil, maintenant: datetime = AVANT) -> None:
        self.accueil = accueil
        self.maintenant = maintenant
        self.capacites: dict[date, Capacite] = {}
        self.plannings: dict[UUID, Planning] = {}
        self.jours_lus: list[date] = []
        self.evenements: list[object] = []

    # Chargeur

    def capacite(self, jour: date) -> Capacite:
        self.jours_lus.append(jour)
        if jour not in self.capacites:
            capacite_id = Capacite.id_pour(self.accueil.id, jour)
            self.capacites[jour] = Capacite(id=capacite_id, accueil_id=self.accueil.id, jour=jour)
        return self.capacites[jour]

    def planning(self, enfant_id: UUID) -> Planning:
        return self.plannings[enfant_id]

    # Families

    def enfant(
        self,
        niveau: Niveau | None = Niveau.ELEMENTAIRE,
        naissance: date | None = date(2012, 1, 15),
    ) -> Enfant:
        famille_id = uuid4()
        enfant = Enfant(
            famille_id=famille_id,
            identite=IdentiteEnfant("Peje", "Lou", naissance or date(2012, 1, 15)),
            scolarite=Scolarite(niveau=niveau, classe=Classe.CM1 if niveau else None),
        )
        if naissance is None:
            enfant.effacer(date(2021, 9, 1))  # the identity is gone, the child's bookings stay
        enfant.collect_events()
        self.plannings[enfant.id] = Planning(
            id=Planning.id_pour(enfant.id, self.accueil.id),
            enfant_id=enfant.id,
            accueil_id=self.accueil.id,
            famille_id=famille_id,
        )
        self.plannings[enfant.id].collect_events()
        return enfant

    # Commands

    def lot(self) -> Lot:
        self.jours_lus = []
        return Lot(self.accueil, CALENDRIER, self.maintenant, self)

    def _fin(self, lot: Lot) -> None:
        self.evenements = [e for a in lot.agregats() for e in a.collect_events()]

    def reserver(
        self, enfant: Enfant, *demandes: tuple[date, Unite | str], resident: bool = True
    ) -> list[Resultat]:
        lot = self.lot()
        resultats = lot.reserver(enfant, self.plannings[enfant.id], _demandes(demandes), resident)
        self._fin(lot)
        return resultats

    def reserver_un(self, enfant: Enfant, jour: date, unite: Unite | str, resident: bool = True) -> Resultat:
        return self.reserver(enfant, (jour, unite), resident=resident)[0]

    def annuler(
        self,
        enfant: Enfant,
        *demandes: tuple[date, Unite | str],
        motif: str | None = None,
        sans_delai: bool = False,
    ) -> list[Resultat]:
        lot = self.lot()
        planning = self.plannings[enfant.id]
        resultats = lot.annuler(planning, _demandes(demandes), motif, sans_delai=sans_delai)
        self._fin(lot)
        return resultats

    def repondre(self, enfant: Enfant, jour: date, accepter: bool) -> Resultat | OffreIndisponible:
        presence = self.presence(enfant, jour, "SOIR")
        assert presence is not None
        assert presence.offre_id is not None
        lot = self.lot()
        resultat = lot.repondre_offre(self.plannings[enfant.id], presence.offre_id, jour, "SOIR", accepter)
        self._fin(lot)
        return resultat

    def expirer(self, jour: date) -> int:
        lot = self.lot()
        expirees = lot.expirer_offres(self.capacites[jour])
        self._fin(lot)
        return expirees

    # Reading

    def presence(self, enfant: Enfant, jour: date, unite: str) -> Presence | None:
        return self.plannings[enfant.id].presence(jour, unite)

    def etat(self, enfant: Enfant, jour: date, unite: str = "SOIR") -> Etat | None:
        return self.plannings[enfant.id].etat(jour, unite)

    def types(self) -> list[str]:
        return [type(e).__qualname__ for e in self.evenements]


def _demandes(demandes: tuple[tuple[date, Unite | str], ...]) -> list[DemandeReservation]:
    return [DemandeReservation(j, u if isinstance(u, str) else u.code) for j, u in demandes]


def statuts(resultats: list[Resultat]) -> list[Statut]:
    return [r.statut for r in resultats]


def motif(resultat: Resultat) -> str | None:
    assert resultat.statut is Statut.REFUSE, resultat
    return resultat.motif


# §4 Booking: the first rule that applies


def test_une_place_libre_est_reservee_et_enregistree_en_un_seul_evenement() -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    resultats = commune.reserver(lou, (LUNDI, MATIN), (LUNDI, SOIR), (MARDI, MIDI))
    assert resultats == [
        Resultat(LUNDI, "MATIN", Statut.RESERVE),
        Resultat(LUNDI, "SOIR", Statut.RESERVE),
        Resultat(MARDI, "MIDI", Statut.RESERVE),
    ]
    assert commune.types() == [
        "Planning.Reserve",
        "Capacite.Ouverte",
        "Capacite.PlaceAttribuee",
        "Capacite.PlaceAttribuee",
        "Capacite.Ouverte",
        "Capacite.PlaceAttribuee",
    ]
    assert commune.plannings[lou.id].unites_reservees(LUNDI) == {"MATIN", "SOIR"}
    assert commune.capacites[LUNDI].places == {"MATIN": [lou.id], "SOIR": [lou.id]}


def test_les_doublons_sont_fusionnes_dans_l_ordre_de_premiere_apparition() -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    resultats = commune.reserver(lou, (MARDI, SOIR), (LUNDI, MATIN), (MARDI, SOIR), (LUNDI, MATIN))
    assert [(r.jour, r.unite) for r in resultats] == [(MARDI, "SOIR"), (LUNDI, "MATIN")]
    assert commune.capacites[MARDI].places == {"SOIR": [lou.id]}


@pytest.mark.parametrize("etat", [Etat.RESERVE, Etat.PRESENT, Etat.ABSENT_JUSTIFIE, Etat.ABSENT_NON_JUSTIFIE])
def test_une_unite_deja_tenue_reste_reservee_sans_rien_enregistrer(etat: Etat) -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR))
    if etat is not Etat.RESERVE:
        commune.plannings[lou.id].pointer([Pointage(LUNDI, "SOIR", etat)])
        commune.plannings[lou.id].collect_events()
    # Even late, and on a day closed since: what is held is held.
    commune.accueil.fermer(LUNDI, "Grève")
    commune.maintenant = paris(2021, 10, 4, 20)
    assert commune.reserver(lou, (LUNDI, SOIR)) == [Resultat(LUNDI, "SOIR", Statut.RESERVE)]
    assert commune.evenements == []
    assert commune.etat(lou, LUNDI) is etat


def test_deja_sur_la_liste_d_attente_rien_n_est_enregistre() -> None:
    commune = Commune(soir(1))
    premier, lou = commune.enfant(), commune.enfant()
    commune.reserver(premier, (LUNDI, SOIR))
    assert commune.reserver_un(lou, LUNDI, SOIR).statut is Statut.LISTE_ATTENTE
    assert commune.reserver(lou, (LUNDI, SOIR)) == [Resultat(LUNDI, "SOIR", Statut.LISTE_ATTENTE)]
    assert commune.evenements == []
    assert commune.capacites[LUNDI].attente == {"SOIR": [lou.id]}


@pytest.mark.parametrize(
    ("accueil", "jour", "raison"),
    [
        (periscolaire(), date(2021, 9, 1), "hors de la période Année scolaire 2021-2022"),
        (periscolaire(), date(2022, 7, 7), "hors de la période Année scolaire 2021-2022"),
        (periscolaire(), MERCREDI, "jour sans accueil"),
        (periscolaire(), date(2021, 11, 11), "jour férié"),
        (periscolaire(), date(2021, 10, 25), "vacances scolaires"),
        (
            periscolaire(hors_vacances_scolaires=False, vacances_seulement=True),
            LUNDI,
            "ouvert pendant les vacances scolaires seulement",
        ),
    ],
)
def test_un_jour_ferme_est_refuse_avec_sa_raison(accueil: Accueil, jour: date, raison: str) -> None:
    commune = Commune(accueil)
    lou = commune.enfant()
    assert motif(commune.reserver_un(lou, jour, MATIN)) == f"fermé : {raison}"
    assert commune.types() == []
    assert commune.jours_lus == []


def test_une_fermeture_ajoutee_refuse_le_jour_avec_son_motif() -> None:
    accueil = periscolaire()
    accueil.fermer(JEUDI, "Grève")
    commune = Commune(accueil)
    lou = commune.enfant()
    assert statuts(commune.reserver(lou, (JEUDI, SOIR), (VENDREDI, SOIR))) == [Statut.REFUSE, Statut.RESERVE]
    assert commune.reserver_un(lou, JEUDI, SOIR).motif == "fermé : Grève"


def test_un_jour_ferie_sans_vacances_reste_ferme_pour_un_centre_de_vacances() -> None:
    """Public holidays always close, even the holiday centre during the holidays."""
    centre = periscolaire(hors_vacances_scolaires=False, vacances_seulement=True, jours=(1, 2, 3, 4, 5))
    commune = Commune(centre)
    lou = commune.enfant()
    assert commune.reserver_un(lou, date(2021, 11, 1), MATIN).motif == "fermé : jour férié"
    assert commune.reserver_un(lou, date(2021, 11, 2), MATIN).statut is Statut.RESERVE


@pytest.mark.parametrize(
    ("eligibilite", "niveau", "naissance", "resident", "raison"),
    [
        (Eligibilite(niveaux=(Niveau.MATERNELLE,)), Niveau.ELEMENTAIRE, date(2012, 1, 15), True,
         "réservé au niveau maternelle"),
        (Eligibilite(niveaux=(Niveau.MATERNELLE,)), None, date(2017, 1, 15), True,
         "réservé au niveau maternelle"),
        (Eligibilite(age_min_mois=72), Niveau.MATERNELLE, date(2016, 1, 15), True, "âge minimum 6 ans"),
        (Eligibilite(age_max_mois=143), Niveau.ELEMENTAIRE, date(2009, 9, 1), True, "âge maximum 11 ans"),
        (Eligibilite(residents_seulement=True), Niveau.ELEMENTAIRE, date(2012, 1, 15), False,
         "réservé aux familles résidant dans la commune"),
    ],
)  # fmt: skip
def test_un_enfant_non_eligible_est_refuse(
    eligibilite: Eligibilite, niveau: Niveau | None, naissance: date, resident: bool, raison: str
) -> None:
    commune = Commune(periscolaire(eligibilite=eligibilite))
    lou = commune.enfant(niveau=niveau, naissance=naissance)
    resultat = commune.reserver_un(lou, LUNDI, MATIN, resident=resident)
    assert motif(resultat) == f"non éligible : {raison}"


def test_l_eligibilite_se_juge_le_jour_de_la_presence() -> None:
    # Six years old on 15 January 2022: refused before, accepted from that day.
    commune = Commune(periscolaire(eligibilite=Eligibilite(age_min_mois=72)), maintenant=AVANT)
    lou = commune.enfant(niveau=Niveau.MATERNELLE, naissance=date(2016, 1, 15))
    assert commune.reserver_un(lou, date(2022, 1, 14), MATIN).statut is Statut.REFUSE
    assert commune.reserver_un(lou, date(2022, 1, 17), MATIN).statut is Statut.RESERVE


def test_sans_date_de_naissance_l_age_n_est_pas_verifie() -> None:
    commune = Commune(periscolaire(eligibilite=Eligibilite(age_min_mois=72, age_max_mois=143)))
    efface = commune.enfant(naissance=None)
    assert commune.reserver_un(efface, LUNDI, MATIN).statut is Statut.RESERVE


def test_la_fermeture_passe_avant_l_eligibilite() -> None:
    commune = Commune(periscolaire(eligibilite=Eligibilite(residents_seulement=True)))
    lou = commune.enfant()
    assert commune.reserver_un(lou, MERCREDI, MATIN, resident=False).motif == "fermé : jour sans accueil"


ETE = {
    "periode": Periode("Été 2022", date(2022, 7, 7), date(2022, 8, 31)),
    "jours": (1, 2, 3, 4, 5),
    "hors_vacances_scolaires": False,
    "ouverture_inscriptions": paris(2021, 9, 27, 8, 30),
    "ouverture_exterieurs": paris(2021, 10, 4, 8, 30),
}
JUILLET = date(2022, 7, 11)


def test_avant_l_ouverture_des_inscriptions_tout_le_monde_attend() -> None:
    commune = Commune(periscolaire(**ETE), maintenant=paris(2021, 9, 27, 8, 29))
    lou = commune.enfant()
    assert motif(commune.reserver_un(lou, JUILLET, MATIN)) == (
        "inscriptions ouvertes à partir du 27/09/2021 à 08:30"
    )
    assert motif(commune.reserver_un(lou, JUILLET, MATIN, resident=False)) == (
        "inscriptions ouvertes à partir du 04/10/2021 à 08:30"
    )


def test_ouverture_echelonnee_les_exterieurs_une_semaine_plus_tard() -> None:
    commune = Commune(periscolaire(**ETE), maintenant=paris(2021, 9, 27, 8, 30))
    resident, exterieur = commune.enfant(), commune.enfant()
    assert commune.reserver_un(resident, JUILLET, MATIN).statut is Statut.RESERVE
    assert commune.reserver_un(exterieur, JUILLET, MATIN, resident=False).statut is Statut.REFUSE
    commune.maintenant = paris(2021, 10, 4, 8, 30)
    assert commune.reserver_un(exterieur, JUILLET, MATIN, resident=False).statut is Statut.RESERVE


def test_sans_ouverture_des_exterieurs_tout_le_monde_ouvre_ensemble() -> None:
    ete = {**ETE, "ouverture_exterieurs": None}
    commune = Commune(periscolaire(**ete), maintenant=paris(2021, 9, 27, 8, 30))
    exterieur = commune.enfant()
    assert commune.reserver_un(exterieur, JUILLET, MATIN, resident=False).statut is Statut.RESERVE
    commune.maintenant = paris(2021, 9, 27, 8, 29)
    assert commune.reserver_un(commune.enfant(), JUILLET, MATIN, resident=False).statut is Statut.REFUSE


# §3 Deadlines, with the communes' rules


@pytest.mark.parametrize(
    ("regle", "jour", "limite"),
    [
        # The day before at 18:00 (the seed's périscolaire); a Monday closes on the Sunday.
        (VEILLE_18H, MARDI, paris(2021, 10, 4, 18)),
        (VEILLE_18H, date(2021, 10, 11), paris(2021, 10, 10, 18)),
        # Veyras: Tuesday of the week before, 23:59.
        (VEYRAS, date(2021, 10, 14), paris(2021, 10, 5, 23, 59)),
        (VEYRAS, date(2021, 10, 11), paris(2021, 10, 5, 23, 59)),
        # Vailhauques: the Tuesday or Friday before, 9:00.
        (VAILHAUQUES, date(2021, 10, 11), paris(2021, 10, 8, 9)),
        (VAILHAUQUES, JEUDI, paris(2021, 10, 5, 9)),
        (VAILHAUQUES, MARDI, paris(2021, 10, 1, 9)),
        # Two working days before at 10:00: 11 November (a Thursday) does not count.
        (DEUX_JOURS_OUVRES, date(2021, 11, 12), paris(2021, 11, 9, 10)),
        (DEUX_JOURS_OUVRES, date(2021, 10, 11), paris(2021, 10, 7, 10)),
        # The 25th of the month before at noon.
        (RegleDelai.creer("mois_precedent", time(12), jour_mois=25), LUNDI, paris(2021, 9, 25, 12)),
    ],
)
def test_delai_de_reservation_a_la_minute(regle: RegleDelai, jour: date, limite: datetime) -> None:
    commune = Commune(periscolaire(regle_reservation=regle), maintenant=limite)
    lou = commune.enfant()
    assert commune.reserver_un(lou, jour, MATIN).statut is Statut.RESERVE
    commune.maintenant = limite + timedelta(minutes=1)
    en_retard = commune.reserver_un(commune.enfant(), jour, MATIN)
    assert motif(en_retard) == f"délai dépassé : limite le {limite:%d/%m/%Y à %H:%M}"
    assert commune.types() == []


def test_une_limite_d_heure_d_ete_pour_un_jour_d_hiver_se_compare_en_instants() -> None:
    # Veyras at the holiday centre: Wednesday 3 November (winter time) closes on Tuesday 26 October
    # at 23:59 summer time, 21:59 UTC.
    centre = periscolaire(
        jours=(1, 2, 3, 4, 5),
        hors_vacances_scolaires=False,
        vacances_seulement=True,
        regle_reservation=VEYRAS,
    )
    commune = Commune(centre, maintenant=datetime(2021, 10, 26, 21, 59, tzinfo=UTC))
    assert commune.reserver_un(commune.enfant(), date(2021, 11, 3), MATIN).statut is Statut.RESERVE
    commune.maintenant = datetime(2021, 10, 26, 22, 0, tzinfo=UTC)
    en_retard = commune.reserver_un(commune.enfant(), date(2021, 11, 3), MATIN)
    assert motif(en_retard) == "délai dépassé : limite le 26/10/2021 à 23:59"


RETARD_CENTS = replace(VEILLE_18H, retard=Retard(majoration_cents=150))
RETARD_POURCENT = replace(VEILLE_18H, retard=Retard(majoration_pourcent=50))


def test_en_retard_accepte_avec_majoration_jusqu_au_debut_de_l_unite() -> None:
    commune = Commune(periscolaire(regle_reservation=RETARD_CENTS), maintenant=paris(2021, 10, 3, 18, 1))
    lou = commune.enfant()
    resultat = commune.reserver_un(lou, LUNDI, MATIN)
    assert resultat == Resultat(LUNDI, "MATIN", Statut.RESERVE, majoration_cents=150)
    assert commune.presence(lou, LUNDI, "MATIN") == Presence(Etat.RESERVE, majoration_cents=150)
    commune.maintenant = paris(2021, 10, 4, 16, 29)
    assert commune.reserver_un(lou, LUNDI, SOIR) == Resultat(
        LUNDI, "SOIR", Statut.RESERVE, majoration_cents=150
    )
    # Once the unit has started, late is too late.
    commune.maintenant = paris(2021, 10, 4, 11, 30)
    assert motif(commune.reserver_un(lou, LUNDI, MIDI)) == "délai dépassé : limite le 03/10/2021 à 18:00"


def test_a_temps_pas_de_majoration() -> None:
    commune = Commune(periscolaire(regle_reservation=RETARD_CENTS), maintenant=paris(2021, 10, 3, 18))
    assert commune.reserver_un(commune.enfant(), LUNDI, MATIN) == Resultat(LUNDI, "MATIN", Statut.RESERVE)


def test_une_unite_sans_heure_de_debut_commence_a_minuit_pour_le_retard() -> None:
    journee = Unite("JOURNEE", "Journée", capacite=None)
    accueil = periscolaire(unites=(journee,), regle_reservation=RETARD_POURCENT)
    commune = Commune(accueil, maintenant=paris(2021, 10, 3, 23, 59))
    lou = commune.enfant()
    assert commune.reserver_un(lou, LUNDI, "JOURNEE").majoration_pourcent == 50
    commune.maintenant = paris(2021, 10, 4, 0, 0)
    assert commune.reserver_un(lou, MARDI, "JOURNEE").statut is Statut.RESERVE  # on time for Tuesday
    assert commune.reserver_un(commune.enfant(), LUNDI, "JOURNEE").statut is Statut.REFUSE


def test_en_retard_sur_la_liste_d_attente_la_majoration_suit_jusqu_a_la_promotion() -> None:
    commune = Commune(soir(1, regle_reservation=RETARD_POURCENT), maintenant=paris(2021, 10, 3, 19))
    premier, lou = commune.enfant(), commune.enfant()
    commune.maintenant = AVANT
    commune.reserver(premier, (LUNDI, SOIR))
    commune.maintenant = paris(2021, 10, 3, 19)
    assert commune.reserver_un(lou, LUNDI, SOIR) == Resultat(
        LUNDI, "SOIR", Statut.LISTE_ATTENTE, "complet : inscrit sur la liste d'attente", None, 50
    )
    assert commune.presence(lou, LUNDI, "SOIR") == Presence(Etat.LISTE_ATTENTE, majoration_pourcent=50)
    commune.maintenant = AVANT
    commune.annuler(premier, (LUNDI, SOIR))
    assert commune.presence(lou, LUNDI, "SOIR") == Presence(Etat.RESERVE, majoration_pourcent=50)


# §4 Incompatible and required units, within a batch


MERCREDIS = periscolaire(
    jours=(3,),
    unites=(
        Unite("MATIN", "Matinée", time(8, 30), time(12)),
        Unite("REPAS", "Repas", time(12), time(13, 30), requiert=("MATIN",), repas=True),
        Unite("APRES_MIDI", "Après-midi", time(13, 30), time(17, 30)),
        Unite("JOURNEE", "Journée", time(8, 30), time(17, 30), incompatibles=("MATIN", "APRES_MIDI")),
    ),
)


def test_une_unite_requise_demandee_dans_le_meme_lot_est_decidee_d_abord() -> None:
    commune = Commune(MERCREDIS)
    lou = commune.enfant()
    resultats = commune.reserver(lou, (MERCREDI, "REPAS"), (MERCREDI, "MATIN"))
    # Results in the order asked, decisions in dependency order.
    assert resultats == [
        Resultat(MERCREDI, "REPAS", Statut.RESERVE),
        Resultat(MERCREDI, "MATIN", Statut.RESERVE),
    ]


def test_une_unite_requise_absente_est_refusee() -> None:
    commune = Commune(MERCREDIS)
    lou = commune.enfant()
    assert motif(commune.reserver_un(lou, MERCREDI, "REPAS")) == "nécessite aussi MATIN"
    # Held on another day: not enough.
    resultats = commune.reserver(lou, (date(2021, 10, 13), "MATIN"), (date(2021, 10, 20), "REPAS"))
    assert statuts(resultats) == [Statut.RESERVE, Statut.REFUSE]
    # Already held from an earlier booking: enough.
    assert commune.reserver_un(lou, date(2021, 10, 13), "REPAS").statut is Statut.RESERVE


def test_une_unite_requise_refusee_dans_le_lot_ne_compte_pas_comme_tenue() -> None:
    unites = tuple(replace(u, capacite=1) if u.code == "MATIN" else u for u in MERCREDIS.config.unites)
    commune = Commune(periscolaire(jours=(3,), unites=unites))
    tom, lou = commune.enfant(), commune.enfant()
    commune.reserver(tom, (MERCREDI, "MATIN"))
    resultats = commune.reserver(lou, (MERCREDI, "REPAS"), (MERCREDI, "MATIN"))
    # MATIN is only waiting: REPAS still lacks it.
    assert statuts(resultats) == [Statut.REFUSE, Statut.LISTE_ATTENTE]
    assert resultats[0].motif == "nécessite aussi MATIN"


def test_incompatibles_declares_d_un_cote_valent_des_deux() -> None:
    commune = Commune(MERCREDIS)
    lou, tom = commune.enfant(), commune.enfant()
    # JOURNEE declares MATIN incompatible: refused when MATIN is accepted earlier in the batch.
    resultats = commune.reserver(lou, (MERCREDI, "MATIN"), (MERCREDI, "JOURNEE"))
    assert statuts(resultats) == [Statut.RESERVE, Statut.REFUSE]
    assert resultats[1].motif == "incompatible avec MATIN"
    # MATIN declares nothing, yet is refused once JOURNEE is held.
    commune.reserver(tom, (MERCREDI, "JOURNEE"))
    assert motif(commune.reserver_un(tom, MERCREDI, "MATIN")) == "incompatible avec JOURNEE"
    assert motif(commune.reserver_un(tom, MERCREDI, "APRES_MIDI")) == "incompatible avec JOURNEE"


def test_les_incompatibles_tenus_sont_tous_nommes() -> None:
    commune = Commune(MERCREDIS)
    lou = commune.enfant()
    resultats = commune.reserver(lou, (MERCREDI, "MATIN"), (MERCREDI, "APRES_MIDI"), (MERCREDI, "JOURNEE"))
    assert resultats[2].motif == "incompatible avec MATIN, APRES_MIDI"


class _PresencesALaCle(dict[str, Presence]):
    """A child's presences that can only be looked up by key, not walked through."""

    def _parcours(self, *_: object) -> NoReturn:
        raise AssertionError("la décision a parcouru toutes les présences de l'enfant")

    __iter__ = items = keys = values = _parcours  # type: ignore[assignment]


def test_une_decision_lit_les_unites_du_jour_sans_parcourir_l_annee_de_l_enfant() -> None:
    commune = Commune(MERCREDIS)
    lou = commune.enfant()
    mercredis = [MERCREDI + timedelta(weeks=n) for n in range(30)]
    commune.reserver(lou, *((jour, "JOURNEE") for jour in mercredis[1:]), (MERCREDI, "MATIN"))
    planning = commune.plannings[lou.id]
    # A school year of Wednesdays booked: each decision asks about the day's units only.
    planning.presences = _PresencesALaCle(planning.presences)
    resultats = commune.reserver(
        lou, (MERCREDI, "REPAS"), (MERCREDI, "JOURNEE"), (mercredis[1], "MATIN"), (mercredis[2], "REPAS")
    )
    assert [(r.statut, r.motif) for r in resultats] == [
        (Statut.RESERVE, None),
        (Statut.REFUSE, "incompatible avec MATIN"),
        (Statut.REFUSE, "incompatible avec JOURNEE"),
        (Statut.REFUSE, "nécessite aussi MATIN"),
    ]


# §4 Capacity and waiting list


def test_complet_avec_liste_d_attente() -> None:
    commune = Commune(soir(2))
    a, b, c = commune.enfant(), commune.enfant(), commune.enfant()
    assert [commune.reserver_un(x, LUNDI, SOIR).statut for x in (a, b)] == [Statut.RESERVE] * 2
    attente = commune.reserver_un(c, LUNDI, SOIR)
    assert attente == Resultat(
        LUNDI, "SOIR", Statut.LISTE_ATTENTE, "complet : inscrit sur la liste d'attente"
    )
    assert commune.types() == ["Planning.MisEnListeAttente", "Capacite.MisEnAttente"]
    assert commune.etat(c, LUNDI) is Etat.LISTE_ATTENTE
    assert commune.capacites[LUNDI].places["SOIR"] == [a.id, b.id]


def test_complet_sans_liste_d_attente() -> None:
    commune = Commune(soir(1, ModeListeAttente.AUCUNE))
    a, b = commune.enfant(), commune.enfant()
    commune.reserver(a, (LUNDI, SOIR))
    assert motif(commune.reserver_un(b, LUNDI, SOIR)) == "complet sans liste d'attente"
    assert commune.types() == []
    assert commune.etat(b, LUNDI) is None


def test_une_capacite_nulle_n_accepte_personne() -> None:
    commune = Commune(soir(0, ModeListeAttente.AUCUNE))
    assert motif(commune.reserver_un(commune.enfant(), LUNDI, SOIR)) == "complet sans liste d'attente"


def test_une_unite_sans_capacite_ne_lit_ni_n_ecrit_la_capacite_du_jour() -> None:
    commune = Commune(soir(None))
    enfants = [commune.enfant() for _ in range(200)]
    for enfant in enfants:
        assert commune.reserver_un(enfant, LUNDI, SOIR).statut is Statut.RESERVE
        assert commune.jours_lus == []
        assert commune.types() == ["Planning.Reserve"]
    commune.annuler(enfants[0], (LUNDI, SOIR))
    assert commune.jours_lus == []
    assert commune.types() == ["Planning.Annule"]
    assert commune.capacites == {}


def test_une_unite_annulee_ou_pointee_sans_reservation_repasse_par_toutes_les_regles() -> None:
    commune = Commune(soir(1))
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR))
    commune.annuler(lou, (LUNDI, SOIR))
    commune.reserver(tom, (LUNDI, SOIR))
    # The place went to Tom in between: Lou now waits.
    assert commune.reserver_un(lou, LUNDI, SOIR).statut is Statut.LISTE_ATTENTE
    commune.plannings[lou.id].pointer([Pointage(MARDI, "SOIR", Etat.PRESENT_NON_RESERVE)])
    commune.maintenant = paris(2021, 10, 4, 18, 1)
    assert motif(commune.reserver_un(lou, MARDI, SOIR)) == "délai dépassé : limite le 04/10/2021 à 18:00"


def test_la_liste_d_attente_passe_avant_un_nouveau_meme_si_une_place_semble_libre() -> None:
    commune = Commune(soir(1, ModeListeAttente.OFFRE))
    a, b, c = commune.enfant(), commune.enfant(), commune.enfant()
    commune.reserver(a, (LUNDI, SOIR))
    commune.reserver(b, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    # The freed place is offered to B: held by the offer, it is counted against the capacity.
    capacite = commune.capacites[LUNDI]
    assert capacite.places["SOIR"] == []
    assert capacite.occupees("SOIR") == 1
    assert commune.reserver_un(c, LUNDI, SOIR).statut is Statut.LISTE_ATTENTE
    assert capacite.attente["SOIR"] == [c.id]


def test_les_places_libres_vont_d_abord_a_la_liste_puis_aux_nouveaux() -> None:
    commune = Commune(soir(1, ModeListeAttente.AUCUNE))
    a, b = commune.enfant(), commune.enfant()
    commune.reserver(a, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    assert commune.reserver_un(b, LUNDI, SOIR).statut is Statut.RESERVE


# §4 Copying a week


def test_recopier_la_semaine_modele_sur_les_semaines_suivantes() -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR), (LUNDI, MATIN), (JEUDI, MIDI), (date(2021, 10, 11), SOIR))
    planning = commune.plannings[lou.id]
    planning.pointer([Pointage(JEUDI, "MIDI", Etat.ABSENT_NON_JUSTIFIE)])
    commune.annuler(lou, (VENDREDI, MIDI))  # nothing to cancel: not part of the model
    demandes = recopie(planning, LUNDI, date(2021, 10, 18))
    assert demandes == [
        DemandeReservation(date(2021, 10, 11), "MATIN"),
        DemandeReservation(date(2021, 10, 11), "SOIR"),
        DemandeReservation(date(2021, 10, 14), "MIDI"),
        DemandeReservation(date(2021, 10, 18), "MATIN"),
        DemandeReservation(date(2021, 10, 18), "SOIR"),
    ]
    # The model may start any weekday; days after `jusqu_au` are left out.
    assert recopie(planning, JEUDI, date(2021, 10, 14)) == [DemandeReservation(date(2021, 10, 14), "MIDI")]
    assert recopie(planning, date(2021, 11, 15), date(2021, 12, 31)) == []
    assert recopie(None, LUNDI, date(2021, 12, 31)) == []
    resultats = commune.reserver(lou, *((d.jour, d.unite) for d in demandes))
    assert statuts(resultats) == [Statut.RESERVE] * 5


# §5 Cancelling


def test_annuler_a_temps_libere_la_place_sans_facturer() -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR), (LUNDI, MIDI))
    commune.maintenant = paris(2021, 10, 3, 18)
    resultats = commune.annuler(lou, (LUNDI, SOIR), (LUNDI, MIDI), motif="rendez-vous médical")
    assert resultats == [
        Resultat(LUNDI, "SOIR", Statut.ANNULE, facturable=False),
        Resultat(LUNDI, "MIDI", Statut.ANNULE, facturable=False),
    ]
    assert commune.types() == ["Planning.Annule", "Capacite.PlaceLiberee", "Capacite.PlaceLiberee"]
    assert commune.presence(lou, LUNDI, "SOIR") == Presence(Etat.ANNULE, motif="rendez-vous médical")
    assert commune.capacites[LUNDI].occupees("SOIR") == 0


def test_annuler_en_retard_sans_tolerance_est_refuse() -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR))
    commune.maintenant = paris(2021, 10, 3, 18, 1)
    assert commune.annuler(lou, (LUNDI, SOIR)) == [
        Resultat(
            LUNDI,
            "SOIR",
            Statut.REFUSE,
            "délai d'annulation dépassé : limite le 03/10/2021 à 18:00",
            facturable=False,
        )
    ]
    assert commune.types() == []
    assert commune.etat(lou, LUNDI) is Etat.RESERVE


def test_annuler_en_retard_toleree_libere_la_place_mais_reste_facturable() -> None:
    commune = Commune(soir(1, regle_annulation=RETARD_CENTS))
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR))
    commune.reserver(tom, (LUNDI, SOIR))
    commune.maintenant = paris(2021, 10, 4, 16, 29)
    # Billed, but without the booking's majoration: the place goes to Tom at once.
    assert commune.annuler(lou, (LUNDI, SOIR)) == [Resultat(LUNDI, "SOIR", Statut.ANNULE, facturable=True)]
    assert commune.presence(lou, LUNDI, "SOIR") == Presence(Etat.ANNULE, facturable=True)
    assert commune.etat(tom, LUNDI) is Etat.RESERVE
    # A second time, the answer says what was recorded, and records nothing.
    assert commune.annuler(lou, (LUNDI, SOIR)) == [Resultat(LUNDI, "SOIR", Statut.ANNULE, facturable=True)]
    assert commune.types() == []
    # Once the unit has started, the tolerance is over.
    commune.reserver(lou, (MARDI, SOIR))
    commune.maintenant = paris(2021, 10, 5, 16, 30)
    assert commune.annuler(lou, (MARDI, SOIR))[0].statut is Statut.REFUSE


@pytest.mark.parametrize(
    "etat", [None, Etat.PRESENT, Etat.ABSENT_JUSTIFIE, Etat.ABSENT_NON_JUSTIFIE, Etat.PRESENT_NON_RESERVE]
)
def test_rien_a_annuler(etat: Etat | None) -> None:
    commune = Commune(periscolaire())
    lou = commune.enfant()
    if etat is not None:
        commune.plannings[lou.id].pointer([Pointage(LUNDI, "SOIR", etat)])
        commune.plannings[lou.id].collect_events()
    assert commune.annuler(lou, (LUNDI, SOIR)) == [
        Resultat(LUNDI, "SOIR", Statut.REFUSE, "aucune réservation à annuler", facturable=False)
    ]
    assert commune.types() == []


def test_sortir_de_la_liste_d_attente_sans_delai() -> None:
    commune = Commune(soir(1))
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR))
    commune.reserver(tom, (LUNDI, SOIR))
    commune.maintenant = paris(2021, 10, 4, 20)  # long after the deadline
    assert commune.annuler(tom, (LUNDI, SOIR)) == [Resultat(LUNDI, "SOIR", Statut.ANNULE, facturable=False)]
    assert commune.types() == ["Planning.Annule", "Capacite.SortiDeLAttente"]
    assert commune.capacites[LUNDI].attente["SOIR"] == []


def test_annuler_sous_une_offre_la_retire() -> None:
    commune = Commune(soir(1, ModeListeAttente.OFFRE))
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR))
    commune.reserver(tom, (LUNDI, SOIR))
    commune.annuler(lou, (LUNDI, SOIR))
    offre_id = commune.presence(tom, LUNDI, "SOIR").offre_id
    assert commune.annuler(tom, (LUNDI, SOIR))[0].statut is Statut.ANNULE
    # Planning.Annule, not OffrePerdue; the capacity withdraws the offer.
    assert commune.types() == ["Planning.Annule", "Capacite.OffreRetiree"]
    assert commune.evenements[1].expiree is False
    lot = commune.lot()
    refus = lot.repondre_offre(commune.plannings[tom.id], offre_id, LUNDI, "SOIR", accepter=True)
    assert isinstance(refus, OffreIndisponible)
    assert refus.detail == "Cette offre n'est plus disponible."


def test_une_annulation_donne_la_place_au_premier_de_la_liste() -> None:
    commune = Commune(soir(1))
    a, b, c = commune.enfant(), commune.enfant(), commune.enfant()
    for x in (a, b, c):
        commune.reserver(x, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    assert commune.types() == [
        "Planning.Annule",
        "Capacite.PlaceLiberee",
        "Capacite.Promu",
        "Planning.PromuDeListeAttente",
    ]
    assert commune.evenements[3].originator_id == commune.plannings[b.id].id
    assert (commune.etat(b, LUNDI), commune.etat(c, LUNDI)) == (Etat.RESERVE, Etat.LISTE_ATTENTE)


def test_effacement_annule_l_avenir_sans_delai_ni_facturation() -> None:
    commune = Commune(soir(1))
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(tom, (VENDREDI, SOIR))
    commune.reserver(lou, (LUNDI, SOIR), (MARDI, SOIR), (JEUDI, MIDI), (VENDREDI, SOIR), (VENDREDI, MATIN))
    commune.reserver(tom, (MARDI, SOIR))
    commune.annuler(lou, (VENDREDI, MATIN))
    commune.maintenant = paris(2021, 10, 5, 17)  # Tuesday: SOIR has started, every deadline is past
    demandes = a_liberer(commune.plannings[lou.id], date(2021, 10, 5))
    assert demandes == [
        DemandeReservation(MARDI, "SOIR"),
        DemandeReservation(JEUDI, "MIDI"),
        DemandeReservation(VENDREDI, "SOIR"),  # on the waiting list
    ]
    resultats = commune.annuler(lou, *((d.jour, d.unite) for d in demandes), sans_delai=True)
    assert {(r.statut, r.facturable) for r in resultats} == {(Statut.ANNULE, False)}
    assert commune.etat(lou, LUNDI) is Etat.RESERVE  # the past stays as it was
    assert commune.etat(tom, MARDI) is Etat.RESERVE  # the place went to the child waiting
    assert commune.capacites[VENDREDI].attente["SOIR"] == []


# §6 Waiting lists: automatic promotion, offers


def test_promotion_dans_l_ordre_d_arrivee_sur_toutes_les_places_liberees() -> None:
    commune = Commune(soir(2))
    a, b, c, d, e = (commune.enfant() for _ in range(5))
    for x in (a, b, c, d, e):
        commune.reserver(x, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    commune.annuler(b, (LUNDI, SOIR))
    assert commune.capacites[LUNDI].places["SOIR"] == [c.id, d.id]
    assert commune.capacites[LUNDI].attente["SOIR"] == [e.id]
    assert [commune.etat(x, LUNDI) for x in (c, d, e)] == [Etat.RESERVE, Etat.RESERVE, Etat.LISTE_ATTENTE]


def test_promotions_unite_par_unite_dans_l_ordre_de_la_configuration() -> None:
    commune = Commune(periscolaire(unites=(replace(MATIN, capacite=1), MIDI, replace(SOIR, capacite=1))))
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, SOIR), (LUNDI, MATIN))
    commune.reserver(tom, (LUNDI, SOIR), (LUNDI, MATIN))
    commune.annuler(lou, (LUNDI, SOIR), (LUNDI, MATIN))
    promus = [e for e in commune.evenements if isinstance(e, Planning.PromuDeListeAttente)]
    assert [p.unite for p in promus] == ["MATIN", "SOIR"]


def test_offre_faite_au_premier_de_la_liste_pour_la_duree_prevue() -> None:
    commune = Commune(soir(1, ModeListeAttente.OFFRE))
    a, b, c = commune.enfant(), commune.enfant(), commune.enfant()
    for x in (a, b, c):
        commune.reserver(x, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    capacite = commune.capacites[LUNDI]
    offre_id = uuid5(NAMESPACE_URL, f"/portail/offre/{capacite.id}/1")
    expire_le = AVANT + timedelta(hours=24)
    assert capacite.offres["SOIR"] == [Offre(offre_id, b.id, expire_le)]
    assert commune.types()[-2:] == ["Capacite.OffreFaite", "Planning.OffreRecue"]
    # The child holding the offer still shows as waiting.
    assert commune.presence(b, LUNDI, "SOIR") == Presence(
        Etat.LISTE_ATTENTE, offre_id=offre_id, offre_expire_le=expire_le
    )
    assert commune.etat(c, LUNDI) is Etat.LISTE_ATTENTE


def _offre_a_b(mode: ModeListeAttente = ModeListeAttente.OFFRE) -> tuple[Commune, Enfant, Enfant, Enfant]:
    commune = Commune(soir(1, mode))
    a, b, c = commune.enfant(), commune.enfant(), commune.enfant()
    for x in (a, b, c):
        commune.reserver(x, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    return commune, a, b, c


PASSEE_AU_SUIVANT = [
    "Planning.OffrePerdue",
    "Capacite.OffreRetiree",
    "Capacite.OffreFaite",
    "Planning.OffreRecue",
]
"""The offer leaves its child and goes to the next one in line, in one lot."""


def test_offre_acceptee_la_place_est_reservee() -> None:
    commune, _, b, c = _offre_a_b()
    commune.maintenant = AVANT + timedelta(hours=23, minutes=59)
    assert commune.repondre(b, LUNDI, accepter=True) == Resultat(LUNDI, "SOIR", Statut.RESERVE)
    assert commune.types() == ["Planning.OffreAcceptee", "Capacite.OffreAcceptee"]
    assert commune.capacites[LUNDI].places["SOIR"] == [b.id]
    assert commune.presence(b, LUNDI, "SOIR") == Presence(Etat.RESERVE)
    assert commune.etat(c, LUNDI) is Etat.LISTE_ATTENTE


def test_offre_refusee_passe_au_suivant_dans_le_meme_lot() -> None:
    commune, _, b, c = _offre_a_b()
    assert commune.repondre(b, LUNDI, accepter=False) == Resultat(LUNDI, "SOIR", Statut.ANNULE)
    assert commune.presence(b, LUNDI, "SOIR") == Presence(Etat.ANNULE, motif="offre refusée")
    assert commune.types() == PASSEE_AU_SUIVANT
    assert commune.evenements[0].expiree is False
    assert commune.capacites[LUNDI].offres["SOIR"][0].enfant_id == c.id


@pytest.mark.parametrize("accepter", [True, False])
def test_offre_expiree_refusee_mais_passee_au_suivant(accepter: bool) -> None:
    commune, _, b, c = _offre_a_b()
    commune.maintenant = AVANT + timedelta(hours=24)
    refus = commune.repondre(b, LUNDI, accepter=accepter)
    assert isinstance(refus, OffreIndisponible)
    assert refus.detail == "Cette offre a expiré ; la place a été proposée à l'enfant suivant."
    # What the lot changed is saved before the parent is told.
    assert commune.types() == PASSEE_AU_SUIVANT
    assert commune.evenements[0].expiree is True
    assert commune.presence(b, LUNDI, "SOIR") == Presence(Etat.ANNULE, motif="offre expirée")
    nouvelle = commune.capacites[LUNDI].offres["SOIR"]
    assert [(o.enfant_id, o.expire_le) for o in nouvelle] == [
        (c.id, commune.maintenant + timedelta(hours=24))
    ]


def test_les_offres_expirees_passent_au_suivant_sans_attendre_une_commande() -> None:
    commune, _, b, c = _offre_a_b()
    commune.maintenant = AVANT + timedelta(hours=12)
    assert commune.expirer(LUNDI) == 0
    assert commune.types() == []
    commune.maintenant = AVANT + timedelta(hours=25)
    assert commune.expirer(LUNDI) == 1
    assert commune.etat(b, LUNDI) is Etat.ANNULE
    assert commune.capacites[LUNDI].offres["SOIR"][0].enfant_id == c.id
    # Run again: nothing left to expire, nothing recorded.
    assert commune.expirer(LUNDI) == 0
    assert commune.types() == []


def test_une_commande_qui_touche_le_jour_fait_aussi_expirer_les_offres() -> None:
    commune, _, b, c = _offre_a_b()
    commune.maintenant = AVANT + timedelta(hours=30)
    nouveau = commune.enfant()
    assert commune.reserver_un(nouveau, LUNDI, SOIR).statut is Statut.LISTE_ATTENTE
    assert commune.etat(b, LUNDI) is Etat.ANNULE
    assert commune.capacites[LUNDI].offres["SOIR"][0].enfant_id == c.id
    assert commune.capacites[LUNDI].attente["SOIR"] == [nouveau.id]


def test_une_offre_inconnue_n_est_plus_disponible() -> None:
    commune, _, b, _ = _offre_a_b()
    lot = commune.lot()
    refus = lot.repondre_offre(commune.plannings[b.id], uuid4(), LUNDI, "SOIR", accepter=False)
    assert isinstance(refus, OffreIndisponible)
    assert refus.detail == "Cette offre n'est plus disponible."
    assert [e for a in lot.agregats() for e in a.collect_events()] == []


def test_sans_liste_d_attente_personne_n_attend() -> None:
    commune = Commune(soir(1, ModeListeAttente.AUCUNE))
    a, b = commune.enfant(), commune.enfant()
    commune.reserver(a, (LUNDI, SOIR))
    commune.reserver(b, (LUNDI, SOIR))
    commune.annuler(a, (LUNDI, SOIR))
    assert commune.types() == ["Planning.Annule", "Capacite.PlaceLiberee"]
    assert commune.etat(b, LUNDI) is None


# §7 Absences


def _reserve(capacite: int | None = 30) -> tuple[Commune, Enfant, Planning]:
    commune = Commune(soir(capacite))
    lou = commune.enfant()
    commune.reserver(lou, (MARDI, MATIN), (MARDI, SOIR), (JEUDI, MATIN))
    return commune, lou, commune.plannings[lou.id]


def test_absence_declaree_avant_le_debut_justifiee_ou_non() -> None:
    commune, lou, planning = _reserve()
    certificat = uuid4()
    declarer_absence(planning, MARDI, [MATIN, SOIR], "Malade", certificat, paris(2021, 10, 5, 7, 14))
    declarer_absence(planning, JEUDI, [MATIN], "Convenance", None, paris(2021, 10, 5, 8))
    assert planning.presence(MARDI, "SOIR") == Presence(
        Etat.ABSENT_JUSTIFIE, motif="Malade", document_id=certificat
    )
    assert planning.etat(JEUDI, "MATIN") is Etat.ABSENT_NON_JUSTIFIE
    # The place stays taken.
    assert commune.capacites[MARDI].places["SOIR"] == [lou.id]


def test_absence_apres_le_debut_de_la_premiere_unite_refusee() -> None:
    _, _, planning = _reserve()
    with pytest.raises(ErreurValidation) as refus:
        declarer_absence(planning, MARDI, [SOIR, MATIN], "Malade", None, paris(2021, 10, 5, 7, 15))
    assert [(e.champ, e.message) for e in refus.value.erreurs] == [
        ("date", "une absence se signale avant le début de l'accueil")
    ]
    planning.collect_events()
    declarer_absence(planning, MARDI, [SOIR], "Malade", None, paris(2021, 10, 5, 7, 15))
    assert planning.etat(MARDI, "SOIR") is Etat.ABSENT_NON_JUSTIFIE


def _non_reservee(commune: Commune, enfant: Enfant) -> None:
    pass


def _annulee(commune: Commune, enfant: Enfant) -> None:
    commune.reserver(enfant, (VENDREDI, SOIR))
    commune.annuler(enfant, (VENDREDI, SOIR))


def _pointee(commune: Commune, enfant: Enfant) -> None:
    commune.reserver(enfant, (VENDREDI, SOIR))
    commune.plannings[enfant.id].pointer([Pointage(VENDREDI, "SOIR", Etat.PRESENT)])


def _deja_absente(commune: Commune, enfant: Enfant) -> None:
    commune.reserver(enfant, (VENDREDI, SOIR))
    declarer_absence(commune.plannings[enfant.id], VENDREDI, [SOIR], "Malade", None, AVANT)


@pytest.mark.parametrize("preparer", [_non_reservee, _annulee, _pointee, _deja_absente])
def test_absence_seulement_sur_une_reservation(preparer: Callable[[Commune, Enfant], None]) -> None:
    commune, lou, planning = _reserve()
    commune.reserver(lou, (VENDREDI, MATIN))
    preparer(commune, lou)
    avant = planning.presence(VENDREDI, "SOIR")
    planning.collect_events()
    with pytest.raises(ErreurValidation) as refus:
        declarer_absence(planning, VENDREDI, [MATIN, SOIR], "Malade", None, AVANT)
    assert [(e.champ, e.message) for e in refus.value.erreurs] == [
        ("unites", "aucune réservation le 08/10/2021 pour SOIR")
    ]
    assert planning.collect_events() == []
    assert planning.presence(VENDREDI, "SOIR") == avant
    assert planning.etat(VENDREDI, "MATIN") is Etat.RESERVE


def test_absence_sur_la_liste_d_attente_refusee() -> None:
    commune, _, _ = _reserve(capacite=1)
    tom = commune.enfant()
    commune.reserver(tom, (MARDI, SOIR))
    with pytest.raises(ErreurValidation, match="aucune réservation le 05/10/2021 pour SOIR"):
        declarer_absence(commune.plannings[tom.id], MARDI, [SOIR], "Malade", None, AVANT)


# §8 Pointage


@pytest.mark.parametrize(
    ("statut", "actuel", "attendu"),
    [
        (StatutPointage.PRESENT, Etat.RESERVE, Etat.PRESENT),
        (StatutPointage.PRESENT, Etat.PRESENT, Etat.PRESENT),
        (StatutPointage.PRESENT, Etat.ABSENT_JUSTIFIE, Etat.PRESENT),
        (StatutPointage.PRESENT, Etat.ABSENT_NON_JUSTIFIE, Etat.PRESENT),
        (StatutPointage.PRESENT, None, Etat.PRESENT_NON_RESERVE),
        (StatutPointage.PRESENT, Etat.LISTE_ATTENTE, Etat.PRESENT_NON_RESERVE),
        (StatutPointage.PRESENT, Etat.ANNULE, Etat.PRESENT_NON_RESERVE),
        (StatutPointage.PRESENT, Etat.PRESENT_NON_RESERVE, Etat.PRESENT_NON_RESERVE),
        (StatutPointage.PRESENT_NON_RESERVE, Etat.RESERVE, Etat.PRESENT_NON_RESERVE),
        (StatutPointage.PRESENT_NON_RESERVE, None, Etat.PRESENT_NON_RESERVE),
        (StatutPointage.ABSENT, Etat.ABSENT_JUSTIFIE, Etat.ABSENT_JUSTIFIE),
        (StatutPointage.ABSENT, Etat.RESERVE, Etat.ABSENT_NON_JUSTIFIE),
        (StatutPointage.ABSENT, Etat.PRESENT, Etat.ABSENT_NON_JUSTIFIE),
        (StatutPointage.ABSENT, Etat.ABSENT_NON_JUSTIFIE, Etat.ABSENT_NON_JUSTIFIE),
    ],
)
def test_etat_pointe_selon_la_reservation(statut: StatutPointage, actuel: Etat | None, attendu: Etat) -> None:
    assert etat_pointe(statut, actuel, "SOIR") is attendu


@pytest.mark.parametrize("actuel", [None, Etat.LISTE_ATTENTE, Etat.ANNULE, Etat.PRESENT_NON_RESERVE])
def test_absence_pointee_sans_reservation_refusee(actuel: Etat | None) -> None:
    with pytest.raises(ErreurValidation) as refus:
        etat_pointe(StatutPointage.ABSENT, actuel, "SOIR")
    assert [(e.champ, e.message) for e in refus.value.erreurs] == [
        ("pointages", "absence pointée sans réservation (SOIR) : rien à pointer")
    ]


def test_pointer_un_evenement_par_enfant_sans_toucher_la_capacite() -> None:
    commune = Commune(soir(1))
    lou, tom, zoe = commune.enfant(), commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, MATIN), (LUNDI, SOIR))
    commune.reserver(tom, (LUNDI, MATIN), (LUNDI, SOIR))  # SOIR: waiting list
    plannings = pointer(
        LUNDI,
        [
            DemandePointage(lou.id, "MATIN", StatutPointage.PRESENT, time(7, 40)),
            DemandePointage(tom.id, "MATIN", StatutPointage.ABSENT),
            DemandePointage(lou.id, "SOIR", StatutPointage.PRESENT, time(16, 35), time(18, 5)),
            DemandePointage(tom.id, "SOIR", StatutPointage.PRESENT),
            DemandePointage(zoe.id, "MIDI", StatutPointage.PRESENT_NON_RESERVE),
        ],
        commune.planning,
    )
    assert [p.enfant_id for p in plannings] == [lou.id, tom.id, zoe.id]
    assert [[type(e) for e in p.collect_events()] for p in plannings] == [[Planning.Pointe]] * 3
    assert commune.presence(lou, LUNDI, "SOIR") == Presence(
        Etat.PRESENT, arrivee=time(16, 35), depart=time(18, 5)
    )
    assert commune.etat(tom, LUNDI, "MATIN") is Etat.ABSENT_NON_JUSTIFIE
    # On the waiting list and present: not a booking, and the capacity keeps Tom waiting.
    assert commune.etat(tom, LUNDI) is Etat.PRESENT_NON_RESERVE
    assert commune.capacites[LUNDI].attente["SOIR"] == [tom.id]
    assert commune.capacites[LUNDI].collect_events() == []
    # A day may be pointed again.
    pointer(LUNDI, [DemandePointage(lou.id, "SOIR", StatutPointage.ABSENT)], commune.planning)
    assert commune.etat(lou, LUNDI) is Etat.ABSENT_NON_JUSTIFIE


def test_une_absence_sans_reservation_refuse_tout_le_pointage() -> None:
    commune = Commune(periscolaire())
    lou, tom = commune.enfant(), commune.enfant()
    commune.reserver(lou, (LUNDI, MATIN))
    with pytest.raises(ErreurValidation, match=r"absence pointée sans réservation \(SOIR\)"):
        pointer(
            LUNDI,
            [
                DemandePointage(lou.id, "MATIN", StatutPointage.PRESENT),
                DemandePointage(tom.id, "SOIR", StatutPointage.ABSENT),
            ],
            commune.planning,
        )
    assert commune.plannings[lou.id].collect_events() == []
    assert commune.etat(lou, LUNDI, "MATIN") is Etat.RESERVE


def test_pointage_jamais_un_jour_a_venir_ni_un_jour_ferme() -> None:
    accueil = periscolaire()
    ligne = [DemandePointage(uuid4(), "MATIN", StatutPointage.PRESENT)]
    with pytest.raises(ErreurValidation) as futur:
        verifier_pointage(accueil, MARDI, LUNDI, ligne, CALENDRIER)
    assert [(e.champ, e.message) for e in futur.value.erreurs] == [
        ("date", "on ne pointe pas un jour à venir")
    ]
    with pytest.raises(ErreurValidation) as ferie:
        verifier_pointage(accueil, date(2021, 11, 11), date(2021, 11, 12), ligne, CALENDRIER)
    assert ferie.value.erreurs[0].message == "l'accueil était fermé ce jour-là (jour férié)"
    accueil.fermer(JEUDI, "Grève")
    with pytest.raises(ErreurValidation, match=r"fermé ce jour-là \(Grève\)"):
        verifier_pointage(accueil, JEUDI, JEUDI, ligne, CALENDRIER)
    verifier_pointage(accueil, LUNDI, LUNDI, ligne, CALENDRIER)


def test_pointage_lignes_mal_formees_toutes_signalees() -> None:
    lignes = [
        DemandePointage(uuid4(), "GOUTER", StatutPointage.PRESENT),
        DemandePointage(uuid4(), "SOIR", StatutPointage.PRESENT, time(17), time(16, 30)),
        DemandePointage(uuid4(), "SOIR", StatutPointage.PRESENT, time(16, 30), time(16, 30)),
    ]
    with pytest.raises(ErreurValidation) as refus:
        verifier_pointage(periscolaire(), LUNDI, LUNDI, lignes, CALENDRIER)
    assert [e.champ for e in refus.value.erreurs] == ["pointages[0].unite", "pointages[1].depart"]


# Input


def test_unites_inconnues_toutes_signalees_avec_les_codes_connus() -> None:
    with pytest.raises(ErreurValidation) as refus:
        unites_demandees(periscolaire(), ["MATIN", "GOUTER", "soir"], "presences")
    assert [(e.champ, e.message) for e in refus.value.erreurs] == [
        ("presences[1].unite", "unité inconnue ; unités de cet accueil : MATIN, MIDI, SOIR"),
        ("presences[2].unite", "unité inconnue ; unités de cet accueil : MATIN, MIDI, SOIR"),
    ]
    assert unites_demandees(periscolaire(), ["SOIR", "MATIN"], "unites") == [SOIR, MATIN]


# Capacity is never exceeded, whatever the sequence of requests on one day.

JOUR = date(2021, 12, 2)  # a Thursday, far from its deadline whatever the waits below
OPERATION = st.one_of(
    st.tuples(st.just("reserver"), st.integers(0, 5), st.sampled_from(["MATIN", "SOIR"])),
    st.tuples(st.just("annuler"), st.integers(0, 5), st.sampled_from(["MATIN", "SOIR"])),
    st.tuples(st.just("repondre"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("attendre"), st.integers(1, 30), st.none()),
)


@settings(max_examples=200, deadline=None)
@given(
    capacite=st.integers(min_value=0, max_value=3),
    mode=st.sampled_from(list(ModeListeAttente)),
    operations=st.lists(OPERATION, max_size=40),
)
def test_jamais_plus_de_places_que_la_capacite(
    capacite: int, mode: ModeListeAttente, operations: list[tuple[str, int, object]]
) -> None:
    unites = (replace(MATIN, capacite=capacite), MIDI, replace(SOIR, capacite=capacite))
    commune = Commune(periscolaire(unites=unites, liste_attente=mode))
    enfants = [commune.enfant() for _ in range(6)]
    for nature, valeur, unite in operations:
        if nature == "attendre":
            commune.maintenant += timedelta(hours=valeur)
            continue
        enfant = enfants[valeur]
        if nature == "reserver":
            commune.reserver(enfant, (JOUR, str(unite)))
        elif nature == "annuler":
            commune.annuler(enfant, (JOUR, str(unite)))
        else:
            presence = commune.presence(enfant, JOUR, "SOIR")
            if presence is None or presence.offre_id is None:
                continue
            lot = commune.lot()
            lot.repondre_offre(commune.plannings[enfant.id], presence.offre_id, JOUR, "SOIR", bool(unite))
        place = commune.capacites.get(JOUR)
        if place is None:
            continue
        for code in ("MATIN", "SOIR"):
            places = place.places.get(code, [])
            offres = [o.enfant_id for o in place.offres.get(code, [])]
            attente = place.attente.get(code, [])
            assert place.occupees(code) == len(places) + len(offres) <= capacite
            assert len(set(places + offres + attente)) == len(places + offres + attente)
            if mode is ModeListeAttente.AUTOMATIQUE:
                assert not attente or len(places) == capacite  # nobody waits while a place is free
            if mode is ModeListeAttente.AUCUNE:
                assert attente == offres == []
            # Each child's planning says what the capacity holds for it.
            for enfant in enfants:
                etat = commune.etat(enfant, JOUR, code)
                assert (etat is Etat.RESERVE) == (enfant.id in places)
                assert (etat is Etat.LISTE_ATTENTE) == (enfant.id in attente or enfant.id in offres)
