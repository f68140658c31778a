"""Properties of booking on real PostgreSQL with real threads: capacity is never exceeded, nobody
waits while a place is free, plannings and capacities agree, and the read models equal a fold of
the events (incrementally and after a rebuild)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from outils_proprietes import CTX, JOURS, MOMENT, _accueil, _familles
from portail.application.contexte import Contexte
from portail.domain.capacite import Capacite
from portail.domain.planning import Etat, Planning
from portail.domain.reservation import DemandePointage, DemandeReservation, Statut, StatutPointage


def _verifier(services, accueil_id, enfants, capacite: int) -> None:
    portail = services.portail
    for jour in JOURS:
        cap_id = Capacite.id_pour(accueil_id, jour)
        if cap_id not in portail.repository:
            continue
        cap = portail.repository.get(cap_id)
        places = cap.places.get("SOIR", [])
        attente = cap.attente.get("SOIR", [])
        assert len(places) <= capacite
        assert len(set(places)) == len(places)
        # Nobody waits while a place is free.
        assert not attente or len(places) == capacite
        for _, enfant_id in enfants:
            planning_id = Planning.id_pour(enfant_id, accueil_id)
            etat = (
                portail.repository.get(planning_id).etat(jour, "SOIR")
                if planning_id in portail.repository
                else None
            )
            assert (etat is Etat.RESERVE) == (enfant_id in places), (jour, etat)
            assert (etat is Etat.LISTE_ATTENTE) == (enfant_id in attente), (jour, etat)


def _vues(base) -> dict[str, list[tuple]]:
    with psycopg.connect(base.url) as conn:
        resultat = {}
        for table, ordre in (
            ("proj_calendrier", "enfant_id, jour, unite"),
            ("proj_occupation", "jour, unite"),
            ("proj_brouillons", "famille_id, mois"),
        ):
            requete = sql.SQL("SELECT * FROM {}.{} ORDER BY " + ordre).format(
                sql.Identifier(base.schema), sql.Identifier(table)
            )
            resultat[table] = [tuple(r) for r in conn.execute(requete)]
        return resultat


def _verifier_vues(services, base, accueil_id, enfants) -> None:
    services.projecteur.rattraper()
    vues = _vues(base)
    portail = services.portail
    attendu_occupation = []
    for jour in JOURS:
        cap_id = Capacite.id_pour(accueil_id, jour)
        if cap_id in portail.repository:
            cap = portail.repository.get(cap_id)
            attendu_occupation.append((len(cap.places.get("SOIR", [])), len(cap.attente.get("SOIR", []))))
    occupation = [(r[3], r[4]) for r in vues["proj_occupation"] if r[0] == accueil_id]
    assert occupation == attendu_occupation
    # The calendar holds, per child and day, the state of the planning aggregate.
    calendrier = {(r[0], r[2], r[3]): r[5] for r in vues["proj_calendrier"] if r[1] == accueil_id}
    for _, enfant_id in enfants:
        planning_id = Planning.id_pour(enfant_id, accueil_id)
        if planning_id in portail.repository:
            for jour, unite, presence in portail.repository.get(planning_id).jours_presences():
                assert calendrier[(enfant_id, jour, unite)] == presence.etat.value


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    capacite=st.integers(min_value=1, max_value=3),
    operations=st.lists(
        st.tuples(st.integers(min_value=0, max_value=4), st.booleans(), st.sampled_from(JOURS)),
        min_size=4,
        max_size=24,
    ),
)
def test_aucun_entrelacement_ne_depasse_la_capacite(services, base, horloge, capacite, operations) -> None:
    horloge.maintenant = MOMENT
    accueil_id = _accueil(services, capacite)
    enfants = _familles(services, 5)
    fils = 4
    depart = threading.Barrier(fils)
    erreurs: list[BaseException] = []

    def travailler(numero: int) -> None:
        depart.wait()
        try:
            for indice, reserver, jour in operations[numero::fils]:
                famille_id, enfant_id = enfants[indice]
                if reserver:
                    services.reservations.reserver(
                        CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(jour, "SOIR")]
                    )
                else:
                    services.reservations.annuler(
                        CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(jour, "SOIR")], None
                    )
        except BaseException as erreur:
            erreurs.append(erreur)

    threads = [threading.Thread(target=travailler, args=(i,)) for i in range(fils)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not erreurs, erreurs
    _verifier(services, accueil_id, enfants, capacite)
    _verifier_vues(services, base, accueil_id, enfants)


def test_reconstruction_egale_le_suivi_incremental(services, base, horloge) -> None:
    horloge.maintenant = MOMENT
    accueil_id = _accueil(services, 2)
    enfants = _familles(services, 4)
    for i, (famille_id, enfant_id) in enumerate(enfants):
        services.reservations.reserver(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(j, "SOIR") for j in JOURS]
        )
        if i % 2:
            services.reservations.annuler(
                CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")], "malade"
            )
    horloge.maintenant = datetime(2021, 10, 4, 17, 0, tzinfo=UTC)
    services.reservations.pointer(
        Contexte.systeme("test"),
        accueil_id,
        JOURS[0],
        [DemandePointage(enfants[0][1], "SOIR", StatutPointage.PRESENT, time(16, 40), None)],
    )
    services.reservations.pointer(
        Contexte.systeme("test"),
        accueil_id,
        JOURS[0],
        [DemandePointage(enfants[0][1], "SOIR", StatutPointage.PRESENT, None, time(18, 5))],
    )
    # One event per page: nothing is folded across events, unlike the rebuild's pages.
    from portail.projections.executeur import Projecteur

    Projecteur(services.portail, taille_page=1).rattraper()
    incremental = _vues(base)
    assert incremental["proj_calendrier"]
    relus = services.projecteur.reconstruire()
    assert relus > 0
    assert _vues(base) == incremental
    _verifier_vues(services, base, accueil_id, enfants)


def test_deux_executeurs_sur_la_meme_base_n_appliquent_rien_deux_fois(services, base, horloge) -> None:
    from portail.projections.executeur import Projecteur

    horloge.maintenant = MOMENT
    accueil_id = _accueil(services, 3)
    enfants = _familles(services, 4)
    for famille_id, enfant_id in enfants:
        services.reservations.reserver(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(j, "SOIR") for j in JOURS]
        )
    autres = [Projecteur(services.portail, taille_page=7) for _ in range(2)]
    fils = [threading.Thread(target=p.rattraper) for p in (*autres, services.projecteur)]
    for f in fils:
        f.start()
    for f in fils:
        f.join()
    _verifier_vues(services, base, accueil_id, enfants)


def test_reconstruction_interrompue_avant_les_brouillons_les_refait_au_redemarrage(
    services, base, horloge, monkeypatch
) -> None:
    from portail.projections.executeur import Projecteur

    horloge.maintenant = MOMENT
    accueil_id = _accueil(services, 2)
    enfants = _familles(services, 3)
    for famille_id, enfant_id in enfants:
        services.reservations.reserver(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(j, "SOIR") for j in JOURS]
        )
    services.projecteur.rattraper()
    incremental = _vues(base)
    assert incremental["proj_brouillons"]

    def panne(self) -> None:
        raise RuntimeError("arrêt pendant la reconstruction")

    with monkeypatch.context() as m:
        m.setattr(Projecteur, "_ecrire_brouillons_differes", panne)
        with pytest.raises(RuntimeError):
            services.projecteur.reconstruire()
    assert _vues(base)["proj_brouillons"] == []  # the replay ran, its drafts were not written
    Projecteur(services.portail).rattraper()
    assert _vues(base) == incremental


def test_deux_processus_gardent_chacun_leurs_capacites_sans_surreservation(
    services, settings, base, horloge
) -> None:
    """Each process keeps the day capacities it saved; what the other one recorded since is seen."""
    from portail.bootstrap import construire_services

    horloge.maintenant = MOMENT
    accueil_id = _accueil(services, 3)
    enfants = _familles(services, 6)
    autre = construire_services(settings, base, horloge)
    try:
        statuts = []
        for i, (famille_id, enfant_id) in enumerate(enfants):
            processus = services if i % 2 == 0 else autre
            statuts.append(
                processus.reservations.reserver(
                    CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")]
                )[0].statut
            )
        assert statuts == [Statut.RESERVE] * 3 + [Statut.LISTE_ATTENTE] * 3
        # A cancellation through one process promotes the first waiting child, seen by the other.
        famille_id, enfant_id = enfants[1]
        services.reservations.annuler(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")], None
        )
        famille_id, enfant_id = enfants[5]
        autre.reservations.annuler(
            CTX, famille_id, enfant_id, accueil_id, [DemandeReservation(JOURS[0], "SOIR")], None
        )
        capacite = services.portail.repository.get(Capacite.id_pour(accueil_id, JOURS[0]))
        assert capacite.places["SOIR"] == [enfants[0][1], enfants[2][1], enfants[3][1]]
        assert capacite.attente["SOIR"] == [enfants[4][1]]
    finally:
        autre.portail.close()
    _verifier(services, accueil_id, enfants, 3)
