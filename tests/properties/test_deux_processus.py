"""Two processes booking and cancelling the same days at once, each with its threads, its kept
aggregates and its group commit: capacity is never exceeded, the calendar and counter rows the
commands wrote equal a fold of the log (before the runner, after it, and after a rebuild), every
acknowledged answer is in the log, and a retry with the same idempotency key never books twice."""

from __future__ import annotations

import multiprocessing
import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg import sql

from outils_proprietes import CAPACITE, ENFANTS, JOURS, MOMENT, _accueil, _familles, processus_reservant
from portail.domain.capacite import Capacite
from portail.domain.planning import RESERVES, Etat, Planning

pytestmark = pytest.mark.postgres


def _lignes(base, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(base.url) as conn:
        requete = sql.SQL("SELECT * FROM {} ORDER BY 1, 2, 3, 4").format(sql.Identifier(base.schema, table))
        return [tuple(r) for r in conn.execute(requete)]


def _attendus(services, accueil_id, enfants) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The calendar and counter rows a fold of the log gives (without the stream versions)."""
    portail = services.portail
    calendrier = set()
    for _, famille_id, enfant_id in enfants:
        planning_id = Planning.id_pour(enfant_id, accueil_id)
        if planning_id in portail.repository:
            for jour, unite, p in portail.repository.get(planning_id).jours_presences():
                etat = (
                    p.etat.value,
                    p.majoration_cents,
                    p.majoration_pourcent,
                    p.facturable,
                    p.arrivee,
                    p.depart,
                )
                calendrier.add((enfant_id, accueil_id, jour, unite, famille_id, *etat))
    occupation = set()
    for jour in JOURS:
        cap_id = Capacite.id_pour(accueil_id, jour)
        if cap_id in portail.repository:
            cap = portail.repository.get(cap_id)
            occupation.add((accueil_id, jour, "SOIR", cap.occupees("SOIR"), len(cap.attente.get("SOIR", []))))
    return calendrier, occupation


def _vues(base, accueil_id) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    calendrier = {r[:-1] for r in _lignes(base, "proj_calendrier") if r[1] == accueil_id}
    occupation = {r[:-1] for r in _lignes(base, "proj_occupation") if r[0] == accueil_id}
    return calendrier, occupation


def test_deux_processus_qui_reservent_les_memes_jours(services, base, settings, horloge) -> None:
    horloge.maintenant = MOMENT
    accueil_id = _accueil(services, CAPACITE)
    familles = _familles(services, ENFANTS)
    # The idempotency keys are per account: one per family, the same in both processes.
    enfants = [(uuid.uuid5(uuid.NAMESPACE_URL, str(f)), f, e) for f, e in familles]
    services.projecteur.rattraper()
    reglages = asdict(settings)
    cles = [uuid.uuid4().hex[:8] for _ in range(6)]
    contexte = multiprocessing.get_context("spawn")
    sortie = contexte.Queue()
    ensemble = contexte.Barrier(2)
    processus = [
        contexte.Process(
            target=processus_reservant,
            args=(base.url, base.schema, reglages, accueil_id, enfants, graine, cles, sortie, ensemble),
        )
        for graine in (1, 2)
    ]
    for p in processus:
        p.start()
    resultats = [sortie.get(timeout=120) for _ in processus]
    for p in processus:
        p.join(timeout=60)
        assert p.exitcode == 0
    accuses = [a for r in resultats for a in r["accuses"]]
    assert accuses, [r["erreurs"] for r in resultats]

    portail = services.portail
    # Capacity: never exceeded; nobody waits while a place is free; plannings and days agree.
    for jour in JOURS:
        cap_id = Capacite.id_pour(accueil_id, jour)
        if cap_id not in portail.repository:
            continue
        cap = portail.repository.get(cap_id)
        places, attente = cap.places.get("SOIR", []), cap.attente.get("SOIR", [])
        assert len(places) <= CAPACITE
        assert len(set(places)) == len(places)
        assert not attente or len(places) == CAPACITE
        for _, _, enfant_id in enfants:
            planning_id = Planning.id_pour(enfant_id, accueil_id)
            etat = (
                portail.repository.get(planning_id).etat(jour, "SOIR")
                if planning_id in portail.repository
                else None
            )
            assert (etat in RESERVES) == (enfant_id in places), (jour, etat)
            assert (etat is Etat.LISTE_ATTENTE) == (enfant_id in attente), (jour, etat)

    # The rows the commands wrote, with no runner: the fold of the log.
    attendus = _attendus(services, accueil_id, enfants)
    assert _vues(base, accueil_id) == attendus
    # The runner folding the same events later changes nothing; nor does a rebuild.
    services.projecteur.rattraper()
    assert _vues(base, accueil_id) == attendus
    services.projecteur.reconstruire()
    assert _vues(base, accueil_id) == attendus

    # Every acknowledged answer is in the log: a "reserve" answered means a Reserve recorded.
    for accuse in accuses:
        if accuse["reserver"] and accuse["statuts"] == ["reserve"]:
            planning = portail.repository.get(Planning.id_pour(uuid.UUID(accuse["enfant_id"]), accueil_id))
            jour = date.fromisoformat(accuse["jour"])
            assert any(
                (
                    isinstance(e, Planning.Reserve | Planning.PromuDeListeAttente)
                    and any(getattr(ligne, "jour", None) == jour for ligne in getattr(e, "lignes", ()))
                )
                or getattr(e, "jour", None) == jour
                for e in portail.events.get(planning.id)
            )
    # The same key, in either process, got the same answer: the command ran once.
    par_cle: dict[str, list[Any]] = {}
    for accuse in accuses:
        par_cle.setdefault(accuse["cle"], []).append(accuse["statuts"])
    assert all(len({str(s) for s in reponses}) == 1 for reponses in par_cle.values())
    assert any(len(reponses) > 1 for reponses in par_cle.values()), "aucune clé rejouée"
