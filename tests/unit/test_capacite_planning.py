"""Capacite (places and waiting lists), Planning (a child's presences) and Accueil (when it is
open, for whom)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, date, datetime, time
from uuid import UUID, uuid4

import pytest

from portail.domain.accueil import Accueil, ConfigurationAccueil, Eligibilite, Periode, Unite
from portail.domain.capacite import Attribution, Capacite
from portail.domain.planning import Etat, Ligne, Planning, Pointage, Presence
from portail.domain.regles.calendrier import Calendrier
from portail.domain.regles.delais import RegleDelai
from portail.domain.valeurs import Niveau

ACCUEIL_ID = uuid4()
JOUR = date(2026, 1, 14)


def rejouer(evenements):
    copie = None
    for evenement in evenements:
        copie = evenement.mutate(copie)
    return copie


def types(aggregat) -> list[type]:
    return [type(e) for e in aggregat.collect_events()]


def enfants(n: int) -> list[UUID]:
    return [uuid4() for _ in range(n)]


# Capacite


def nouvelle_capacite() -> Capacite:
    capacite = Capacite(id=Capacite.id_pour(ACCUEIL_ID, JOUR), accueil_id=ACCUEIL_ID, jour=JOUR)
    capacite.collect_events()
    return capacite


def test_capacite_ouverte_avec_un_id_deterministe():
    capacite = Capacite(id=Capacite.id_pour(ACCUEIL_ID, JOUR), accueil_id=ACCUEIL_ID, jour=JOUR)
    assert types(capacite) == [Capacite.Ouverte]
    assert capacite.id == Capacite.id_pour(ACCUEIL_ID, JOUR)
    assert Capacite.id_pour(ACCUEIL_ID, JOUR) != Capacite.id_pour(ACCUEIL_ID, date(2026, 1, 15))
    assert capacite.occupees("repas") == 0


def test_jamais_plus_de_places_que_la_capacite():
    capacite = nouvelle_capacite()
    a, b, c, d, e = enfants(5)
    resultats = [capacite.demander(x, "repas", 3, liste_attente=True) for x in (a, b, c, d, e)]
    assert resultats == [Attribution.PLACE] * 3 + [Attribution.ATTENTE] * 2
    assert capacite.occupees("repas") == 3
    assert capacite.places["repas"] == [a, b, c]


def test_liste_d_attente_dans_l_ordre_d_arrivee():
    capacite = nouvelle_capacite()
    a, b, c, d = enfants(4)
    for x in (a, b, c, d):
        capacite.demander(x, "repas", 1, liste_attente=True)
    assert capacite.attente["repas"] == [b, c, d]
    assert capacite.en_attente(c, "repas")
    assert not capacite.a_une_place(c, "repas")


def test_un_nouveau_ne_double_pas_la_liste_d_attente_meme_si_une_place_est_libre():
    capacite = nouvelle_capacite()
    a, b, c, d = enfants(4)
    capacite.demander(a, "repas", 2, liste_attente=True)
    capacite.demander(b, "repas", 2, liste_attente=True)
    assert capacite.demander(c, "repas", 2, liste_attente=True) is Attribution.ATTENTE
    capacite.liberer(a, "repas")
    assert capacite.occupees("repas") == 1  # a place is free...
    capacite.collect_events()
    # ...but c is waiting: d goes behind c instead of taking it.
    assert capacite.demander(d, "repas", 2, liste_attente=True) is Attribution.ATTENTE
    assert types(capacite) == [Capacite.MisEnAttente]
    assert capacite.attente["repas"] == [c, d]
    assert capacite.occupees("repas") == 1


def test_sans_liste_d_attente_un_nouveau_ne_prend_pas_la_place_des_attendus():
    capacite = nouvelle_capacite()
    a, b, c = enfants(3)
    capacite.demander(a, "repas", 1, liste_attente=True)
    capacite.demander(b, "repas", 1, liste_attente=True)
    capacite.liberer(a, "repas")
    capacite.collect_events()
    assert capacite.demander(c, "repas", 1, liste_attente=False) is Attribution.COMPLET
    assert types(capacite) == []


def test_liberer_puis_promouvoir_fait_passer_la_tete_de_liste():
    capacite = nouvelle_capacite()
    a, b, c, d = enfants(4)
    for x in (a, b, c, d):
        capacite.demander(x, "repas", 2, liste_attente=True)
    capacite.collect_events()
    capacite.liberer(a, "repas")
    assert types(capacite) == [Capacite.PlaceLiberee]
    assert capacite.promouvoir("repas", 2) == [c]
    assert types(capacite) == [Capacite.Promu]
    assert capacite.places["repas"] == [b, c]
    assert capacite.attente["repas"] == [d]
    # No free place left: nothing moves.
    assert capacite.promouvoir("repas", 2) == []
    assert types(capacite) == []


def test_promouvoir_remplit_toutes_les_places_libres_dans_l_ordre():
    capacite = nouvelle_capacite()
    a, b, c, d, e = enfants(5)
    for x in (a, b, c, d, e):
        capacite.demander(x, "repas", 2, liste_attente=True)
    capacite.liberer(a, "repas")
    capacite.liberer(b, "repas")
    assert capacite.promouvoir("repas", 2) == [c, d]
    assert capacite.attente["repas"] == [e]
    # A capacity raised to unlimited lets the whole list in.
    assert capacite.promouvoir("repas", None) == [e]
    assert capacite.attente["repas"] == []
    assert capacite.occupees("repas") == 3


def test_liberer_depuis_la_liste_d_attente():
    capacite = nouvelle_capacite()
    a, b, c = enfants(3)
    for x in (a, b, c):
        capacite.demander(x, "repas", 1, liste_attente=True)
    capacite.collect_events()
    capacite.liberer(b, "repas")
    assert types(capacite) == [Capacite.SortiDeLAttente]
    assert capacite.attente["repas"] == [c]
    assert capacite.occupees("repas") == 1
    # Releasing a child who holds nothing records nothing.
    capacite.liberer(uuid4(), "repas")
    capacite.liberer(b, "repas")
    assert types(capacite) == []


def test_demander_deux_fois_est_idempotent():
    capacite = nouvelle_capacite()
    a, b = enfants(2)
    assert capacite.demander(a, "repas", 1, liste_attente=True) is Attribution.PLACE
    assert capacite.demander(b, "repas", 1, liste_attente=True) is Attribution.ATTENTE
    capacite.collect_events()
    assert capacite.demander(a, "repas", 1, liste_attente=True) is Attribution.PLACE
    assert capacite.demander(b, "repas", 1, liste_attente=True) is Attribution.ATTENTE
    assert types(capacite) == []
    assert capacite.places["repas"] == [a]
    assert capacite.attente["repas"] == [b]


def test_sans_liste_d_attente_complet():
    capacite = nouvelle_capacite()
    a, b = enfants(2)
    assert capacite.demander(a, "repas", 1, liste_attente=False) is Attribution.PLACE
    capacite.collect_events()
    assert capacite.demander(b, "repas", 1, liste_attente=False) is Attribution.COMPLET
    assert types(capacite) == []
    assert not capacite.en_attente(b, "repas")
    assert capacite.demander(b, "soir", 0, liste_attente=False) is Attribution.COMPLET


def test_capacite_illimitee_et_unites_independantes():
    capacite = nouvelle_capacite()
    tous = enfants(50)
    assert all(capacite.demander(x, "matin", None, liste_attente=False) is Attribution.PLACE for x in tous)
    assert capacite.occupees("matin") == 50
    a, b = enfants(2)
    assert capacite.demander(a, "repas", 1, liste_attente=True) is Attribution.PLACE
    assert capacite.demander(b, "repas", 1, liste_attente=True) is Attribution.ATTENTE
    # A waiting list on "repas" does not block "soir".
    assert capacite.demander(b, "soir", 1, liste_attente=True) is Attribution.PLACE


def test_rejouer_les_evenements_de_capacite():
    capacite = Capacite(id=Capacite.id_pour(ACCUEIL_ID, JOUR), accueil_id=ACCUEIL_ID, jour=JOUR)
    a, b, c = enfants(3)
    for x in (a, b, c):
        capacite.demander(x, "repas", 1, liste_attente=True)
    capacite.liberer(a, "repas")
    capacite.promouvoir("repas", 1)
    copie = rejouer(capacite.collect_events())
    assert copie.id == capacite.id
    assert copie.version == capacite.version
    assert (copie.accueil_id, copie.jour) == (ACCUEIL_ID, JOUR)
    assert copie.places == capacite.places == {"repas": [b]}
    assert copie.attente == capacite.attente == {"repas": [c]}


# Planning

ENFANT_ID = uuid4()
FAMILLE_ID = uuid4()
LUNDI, MARDI, JEUDI = date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 15)


def ouvrir_planning() -> Planning:
    return Planning(
        id=Planning.id_pour(ENFANT_ID, ACCUEIL_ID),
        enfant_id=ENFANT_ID,
        accueil_id=ACCUEIL_ID,
        famille_id=FAMILLE_ID,
    )


def nouveau_planning() -> Planning:
    planning = ouvrir_planning()
    planning.collect_events()
    return planning


def test_planning_ouvert():
    planning = ouvrir_planning()
    assert types(planning) == [Planning.Ouvert]
    assert planning.id == Planning.id_pour(ENFANT_ID, ACCUEIL_ID)
    assert (planning.enfant_id, planning.accueil_id, planning.famille_id) == (
        ENFANT_ID,
        ACCUEIL_ID,
        FAMILLE_ID,
    )
    assert planning.etat(LUNDI, "repas") is None
    assert planning.unites_reservees(LUNDI) == set()


def test_reserver():
    planning = nouveau_planning()
    planning.reserver([Ligne(LUNDI, "repas"), Ligne(LUNDI, "soir", majoration_pourcent=50)])
    assert types(planning) == [Planning.Reserve]
    assert planning.etat(LUNDI, "repas") is Etat.RESERVE
    assert planning.presence(LUNDI, "soir") == Presence(Etat.RESERVE, majoration_pourcent=50)
    assert planning.unites_reservees(LUNDI) == {"repas", "soir"}
    assert planning.unites_reservees(MARDI) == set()
    planning.reserver([])
    assert types(planning) == []


def test_mettre_en_attente_ne_reserve_pas():
    planning = nouveau_planning()
    planning.mettre_en_attente([Ligne(LUNDI, "repas", majoration_cents=150)])
    assert types(planning) == [Planning.MisEnListeAttente]
    assert planning.etat(LUNDI, "repas") is Etat.LISTE_ATTENTE
    assert planning.unites_reservees(LUNDI) == set()


def test_annuler():
    planning = nouveau_planning()
    planning.reserver([Ligne(LUNDI, "repas"), Ligne(MARDI, "repas")])
    planning.collect_events()
    planning.annuler([Ligne(LUNDI, "repas", facturable=True)], motif="annulation tardive")
    assert types(planning) == [Planning.Annule]
    assert planning.presence(LUNDI, "repas") == Presence(
        Etat.ANNULE, facturable=True, motif="annulation tardive"
    )
    assert planning.unites_reservees(LUNDI) == set()
    assert planning.unites_reservees(MARDI) == {"repas"}
    planning.annuler([], motif=None)
    assert types(planning) == []


def test_promouvoir_de_la_liste_d_attente():
    planning = nouveau_planning()
    planning.mettre_en_attente([Ligne(LUNDI, "repas", majoration_pourcent=50)])
    planning.reserver([Ligne(MARDI, "repas")])
    planning.collect_events()
    planning.promouvoir(LUNDI, "repas")
    assert types(planning) == [Planning.PromuDeListeAttente]
    assert planning.presence(LUNDI, "repas") == Presence(Etat.RESERVE, majoration_pourcent=50)
    assert planning.unites_reservees(LUNDI) == {"repas"}
    # Only a waiting presence is promoted.
    planning.promouvoir(LUNDI, "repas")
    planning.promouvoir(MARDI, "repas")
    planning.promouvoir(JEUDI, "repas")
    assert types(planning) == []


def test_declarer_absence_justifiee_ou_non():
    planning = nouveau_planning()
    planning.reserver([Ligne(LUNDI, "repas"), Ligne(LUNDI, "soir"), Ligne(MARDI, "repas")])
    planning.collect_events()
    certificat = uuid4()
    planning.declarer_absence(LUNDI, ("repas", "soir"), "maladie", certificat)
    planning.declarer_absence(MARDI, ("repas",), "convenance", None)
    assert types(planning) == [Planning.AbsenceDeclaree, Planning.AbsenceDeclaree]
    assert planning.presence(LUNDI, "repas") == Presence(
        Etat.ABSENT_JUSTIFIE, motif="maladie", document_id=certificat
    )
    assert planning.etat(LUNDI, "soir") is Etat.ABSENT_JUSTIFIE
    assert planning.presence(MARDI, "repas") == Presence(Etat.ABSENT_NON_JUSTIFIE, motif="convenance")
    # An absent child still held the place: it stays counted as booked.
    assert planning.unites_reservees(LUNDI) == {"repas", "soir"}
    assert planning.unites_reservees(MARDI) == {"repas"}
    # Asked about some units only, by key: the same answer for those units.
    assert planning.unites_reservees(LUNDI, parmi=("matin", "soir")) == {"soir"}
    assert planning.unites_reservees(MARDI, parmi=("repas", "soir")) == {"repas"}
    assert planning.unites_reservees(MARDI, parmi=()) == set()


def test_pointer():
    planning = nouveau_planning()
    planning.reserver([Ligne(LUNDI, "repas"), Ligne(LUNDI, "soir", majoration_pourcent=50)])
    planning.collect_events()
    planning.pointer(
        [
            Pointage(LUNDI, "repas", Etat.PRESENT),
            Pointage(LUNDI, "soir", Etat.ABSENT_NON_JUSTIFIE),
            Pointage(LUNDI, "matin", Etat.PRESENT_NON_RESERVE, arrivee=time(7, 40), depart=time(8, 20)),
        ]
    )
    assert types(planning) == [Planning.Pointe]
    assert planning.etat(LUNDI, "repas") is Etat.PRESENT
    # The majoration of the booking is kept by the pointage.
    assert planning.presence(LUNDI, "soir") == Presence(Etat.ABSENT_NON_JUSTIFIE, majoration_pourcent=50)
    assert planning.presence(LUNDI, "matin") == Presence(
        Etat.PRESENT_NON_RESERVE, arrivee=time(7, 40), depart=time(8, 20)
    )
    # A presence without booking does not hold a place.
    assert planning.unites_reservees(LUNDI) == {"repas", "soir"}
    planning.pointer([])
    assert types(planning) == []


def test_un_pointage_garde_tout_ce_que_la_presence_portait() -> None:
    """Every field of a presence but the pointed ones survives its pointage (a field added to
    `Presence` and forgotten by `Presence.pointee` fails here)."""
    valeurs = {
        "etat": Etat.LISTE_ATTENTE,
        "majoration_cents": 120,
        "majoration_pourcent": 50,
        "facturable": True,
        "motif": "grève",
        "document_id": uuid4(),
        "arrivee": time(7, 30),
        "depart": time(8, 0),
        "offre_id": uuid4(),
        "offre_expire_le": datetime(2025, 9, 1, 12, tzinfo=UTC),
    }
    assert {f.name for f in fields(Presence)} == set(valeurs)
    avant = Presence(**valeurs)  # type: ignore[arg-type]
    apres = avant.pointee(Etat.PRESENT, time(7, 45), time(8, 10))
    assert apres == replace(avant, etat=Etat.PRESENT, arrivee=time(7, 45), depart=time(8, 10))


def test_les_presences_pointees_de_meme_valeur_sont_partagees() -> None:
    """Billing keeps hundreds of families' years folded: two children booked and pointed the
    same way hold one shared presence, not a copy each; a different pointage is its own."""
    premier, second = nouveau_planning(), nouveau_planning()
    for planning in (premier, second):
        planning.reserver([Ligne(LUNDI, "repas"), Ligne(MARDI, "repas")])
        planning.pointer(
            [
                Pointage(LUNDI, "repas", Etat.PRESENT),
                Pointage(MARDI, "repas", Etat.ABSENT_NON_JUSTIFIE),
                Pointage(MARDI, "soir", Etat.PRESENT_NON_RESERVE, arrivee=time(16, 40)),
            ]
        )
    assert premier.presence(LUNDI, "repas") is second.presence(LUNDI, "repas")
    assert premier.presence(MARDI, "repas") is second.presence(MARDI, "repas")
    assert premier.presence(MARDI, "soir") is second.presence(MARDI, "soir")
    assert premier.presence(LUNDI, "repas") == Presence(Etat.PRESENT)
    assert premier.presence(MARDI, "repas") == Presence(Etat.ABSENT_NON_JUSTIFIE)
    assert premier.presence(MARDI, "soir") == Presence(Etat.PRESENT_NON_RESERVE, arrivee=time(16, 40))


def test_jours_presences_tries():
    planning = nouveau_planning()
    planning.reserver([Ligne(MARDI, "soir"), Ligne(LUNDI, "repas"), Ligne(MARDI, "matin")])
    assert [(j, u) for j, u, _ in planning.jours_presences()] == [
        (LUNDI, "repas"),
        (MARDI, "matin"),
        (MARDI, "soir"),
    ]


def test_rejouer_les_evenements_reconstruit_le_meme_planning():
    planning = ouvrir_planning()
    planning.reserver([Ligne(LUNDI, "repas"), Ligne(LUNDI, "soir"), Ligne(MARDI, "repas")])
    planning.mettre_en_attente([Ligne(JEUDI, "repas", majoration_pourcent=50)])
    planning.annuler([Ligne(LUNDI, "soir", facturable=True)], motif="hors délai")
    planning.promouvoir(JEUDI, "repas")
    planning.declarer_absence(MARDI, ("repas",), "maladie", uuid4())
    planning.pointer([Pointage(LUNDI, "repas", Etat.PRESENT, arrivee=time(11, 30))])
    evenements = planning.collect_events()
    assert [type(e) for e in evenements] == [
        Planning.Ouvert,
        Planning.Reserve,
        Planning.MisEnListeAttente,
        Planning.Annule,
        Planning.PromuDeListeAttente,
        Planning.AbsenceDeclaree,
        Planning.Pointe,
    ]
    copie = rejouer(evenements)
    assert copie.id == planning.id
    assert copie.version == planning.version == 7
    assert (copie.enfant_id, copie.accueil_id, copie.famille_id) == (ENFANT_ID, ACCUEIL_ID, FAMILLE_ID)
    assert copie.presences == planning.presences
    for jour in (LUNDI, MARDI, JEUDI):
        assert copie.unites_reservees(jour) == planning.unites_reservees(jour)
    assert copie.etat(LUNDI, "soir") is Etat.ANNULE
    assert copie.etat(JEUDI, "repas") is Etat.RESERVE


# Accueil

ANNEE = Periode("Année scolaire 2025-2026", date(2025, 9, 1), date(2026, 7, 3))
REGLE = RegleDelai.creer("jour", time(18), decalage_jours=1)
FERIES = frozenset({date(2025, 11, 11), date(2025, 12, 25), date(2026, 1, 1), date(2026, 4, 6)})


def vacances_zone_a(jour: date, zone: str) -> bool:
    """Winter holidays of zone A only (7-22 February 2026), enough for the rules."""
    return zone == "A" and date(2026, 2, 7) <= jour <= date(2026, 2, 22)


CALENDRIER = Calendrier(jours_feries=FERIES, vacances=vacances_zone_a)


def configuration(**modifications) -> ConfigurationAccueil:
    valeurs = {
        "etablissement": "École Jules Ferry",
        "mode_accueil": "periscolaire",
        "periode": ANNEE,
        "jours": (1, 2, 4, 5),
        "unites": (Unite("repas", "Repas", time(11, 45), time(13, 30), capacite=80),),
        "regle_reservation": REGLE,
        "regle_annulation": REGLE,
    }
    valeurs.update(modifications)
    return ConfigurationAccueil(**valeurs)


def nouvel_accueil(**modifications) -> Accueil:
    accueil = Accueil(configuration=configuration(**modifications))
    accueil.collect_events()
    return accueil


def test_accueil_cree():
    accueil = Accueil(configuration=configuration())
    assert types(accueil) == [Accueil.Cree]
    assert accueil.config == configuration()
    assert accueil.unite("repas") == Unite("repas", "Repas", time(11, 45), time(13, 30), capacite=80)
    assert accueil.unite("soir") is None


def test_ouvert_un_jour_ordinaire():
    accueil = nouvel_accueil()
    assert accueil.motif_fermeture(date(2026, 1, 12), CALENDRIER) is None  # lundi
    assert accueil.motif_fermeture(date(2026, 1, 16), CALENDRIER) is None  # vendredi


@pytest.mark.parametrize("jour", [date(2026, 1, 14), date(2026, 1, 17), date(2026, 1, 18)])
def test_ferme_les_jours_sans_accueil(jour):
    assert nouvel_accueil().motif_fermeture(jour, CALENDRIER) == "jour sans accueil"


def test_ferme_les_jours_feries():
    accueil = nouvel_accueil()
    assert accueil.motif_fermeture(date(2025, 11, 11), CALENDRIER) == "jour férié"  # mardi
    assert accueil.motif_fermeture(date(2026, 4, 6), CALENDRIER) == "jour férié"  # lundi de Pâques
    assert accueil.motif_fermeture(date(2025, 11, 11), Calendrier()) is None


def test_hors_vacances_scolaires_zone_a():
    accueil = nouvel_accueil(zone_scolaire="A", hors_vacances_scolaires=True)
    assert accueil.motif_fermeture(date(2026, 2, 10), CALENDRIER) == "vacances scolaires"
    assert accueil.motif_fermeture(date(2026, 2, 6), CALENDRIER) is None
    assert accueil.motif_fermeture(date(2026, 2, 23), CALENDRIER) is None
    # Zone B is not on holiday on those days in this calendar.
    zone_b = nouvel_accueil(zone_scolaire="B", hors_vacances_scolaires=True)
    assert zone_b.motif_fermeture(date(2026, 2, 10), CALENDRIER) is None


def test_vacances_seulement():
    centre = nouvel_accueil(
        mode_accueil="extrascolaire", zone_scolaire="A", vacances_seulement=True, jours=(1, 2, 3, 4, 5)
    )
    assert centre.motif_fermeture(date(2026, 2, 11), CALENDRIER) is None
    assert (
        centre.motif_fermeture(date(2026, 1, 14), CALENDRIER)
        == "ouvert pendant les vacances scolaires seulement"
    )
    # Still closed on weekends during the holidays.
    assert centre.motif_fermeture(date(2026, 2, 14), CALENDRIER) == "jour sans accueil"


def test_fermeture_ajoutee():
    accueil = nouvel_accueil()
    jour = date(2026, 1, 15)
    accueil.fermer(jour, "grève")
    assert types(accueil) == [Accueil.FermetureAjoutee]
    assert accueil.motif_fermeture(jour, CALENDRIER) == "grève"
    assert accueil.motif_fermeture(date(2026, 1, 16), CALENDRIER) is None
    # The same closure twice records nothing; a new reason replaces the old one.
    accueil.fermer(jour, "grève")
    assert types(accueil) == []
    accueil.fermer(jour, "sortie scolaire")
    assert types(accueil) == [Accueil.FermetureAjoutee]
    assert accueil.motif_fermeture(jour, CALENDRIER) == "sortie scolaire"


def test_fermetures_rejouees():
    accueil = Accueil(configuration=configuration())
    accueil.fermer(date(2026, 1, 15), "grève")
    copie = rejouer(accueil.collect_events())
    assert copie.configuration == accueil.configuration
    assert copie.fermetures == {date(2026, 1, 15): "grève"}
    assert copie.motif_fermeture(date(2026, 1, 15), CALENDRIER) == "grève"


@pytest.mark.parametrize("jour", [date(2025, 8, 29), date(2025, 8, 31), date(2026, 7, 6)])
def test_ferme_hors_de_la_periode(jour):
    motif = nouvel_accueil().motif_fermeture(jour, CALENDRIER)
    assert motif == "hors de la période Année scolaire 2025-2026"


def test_bornes_de_la_periode_incluses():
    accueil = nouvel_accueil()
    assert accueil.motif_fermeture(date(2025, 9, 1), CALENDRIER) is None  # lundi
    assert accueil.motif_fermeture(date(2026, 7, 3), CALENDRIER) is None  # vendredi


def test_non_eligible_par_niveau():
    accueil = nouvel_accueil(eligibilite=Eligibilite(niveaux=(Niveau.MATERNELLE,)))
    assert accueil.motif_non_eligible(Niveau.MATERNELLE, None, True, JOUR) is None
    assert accueil.motif_non_eligible(Niveau.ELEMENTAIRE, None, True, JOUR) == "réservé au niveau maternelle"
    assert accueil.motif_non_eligible(None, None, True, JOUR) == "réservé au niveau maternelle"
    deux = nouvel_accueil(eligibilite=Eligibilite(niveaux=(Niveau.MATERNELLE, Niveau.ELEMENTAIRE)))
    assert deux.motif_non_eligible(Niveau.ELEMENTAIRE, None, True, JOUR) is None


def test_non_eligible_par_age():
    accueil = nouvel_accueil(eligibilite=Eligibilite(age_min_mois=72, age_max_mois=143))
    jour = date(2026, 1, 13)
    assert (
        accueil.motif_non_eligible(None, date(2020, 5, 10), True, jour) == "âge minimum 6 ans"
    )  # 5 ans 8 mois
    assert accueil.motif_non_eligible(None, date(2020, 1, 13), True, jour) is None  # 6 ans pile
    assert accueil.motif_non_eligible(None, date(2014, 2, 13), True, jour) is None  # 11 ans 11 mois
    assert accueil.motif_non_eligible(None, date(2014, 1, 13), True, jour) == "âge maximum 11 ans"  # 12 ans
    # Without a birth date the age is not checked.
    assert accueil.motif_non_eligible(None, None, True, jour) is None


def test_non_eligible_par_residence():
    accueil = nouvel_accueil(eligibilite=Eligibilite(residents_seulement=True))
    assert accueil.motif_non_eligible(None, None, True, JOUR) is None
    assert (
        accueil.motif_non_eligible(None, None, False, JOUR) == "réservé aux familles résidant dans la commune"
    )
    assert nouvel_accueil().motif_non_eligible(None, None, False, JOUR) is None


def test_ouverture_echelonnee_selon_la_residence():
    residents = datetime(2023, 8, 21, 5, 0, tzinfo=UTC)  # lundi 21 août 7:00 à Paris
    exterieurs = datetime(2023, 8, 28, 5, 0, tzinfo=UTC)  # lundi 28 août 7:00 à Paris
    accueil = nouvel_accueil(ouverture_inscriptions=residents, ouverture_exterieurs=exterieurs)
    assert accueil.ouverture_pour(resident=True) == residents
    assert accueil.ouverture_pour(resident=False) == exterieurs
    # Without a later opening for outsiders, everyone opens together.
    commune = nouvel_accueil(ouverture_inscriptions=residents)
    assert commune.ouverture_pour(resident=False) == residents
    assert nouvel_accueil().ouverture_pour(resident=True) is None
