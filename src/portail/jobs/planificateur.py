"""The scheduler: the jobs and their schedule (Paris time), run only while this process leads.

A thread looks every `PORTAIL_LEADER_INTERVALLE_SECONDES`: a standby tries the advisory lock and,
once it holds it, starts an APScheduler `BackgroundScheduler` (jobs in memory); a leader checks
that its lock session is alive and stops its jobs when it is not. Jobs are idempotent, so the short
overlap a lost connection can leave (the server frees the lock before the old leader notices) does
no harm, and neither does a run missed while no process led: the next run catches up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from portail.domain.regles.calendrier import PARIS
from portail.jobs import campagnes, conservation, offres, prelevements, rappels
from portail.jobs.direction import Candidat
from portail.jobs.outils import Outils

if TYPE_CHECKING:
    from portail.store.database import BaseDeDonnees

log = structlog.get_logger("portail.jobs")

MINUTE = 60
HEURE = 3600


@dataclass(frozen=True)
class Tache:
    nom: str
    fonction: Callable[[Outils], object]
    quand: dict[str, str]
    """CronTrigger fields, in Paris time."""
    retard_admis: int
    """Seconds a run may start late (`misfire_grace_time`); later, it waits for the next one."""


TACHES = (
    Tache(offres.NOM, offres.expirer_offres, {"minute": "*"}, 30),
    Tache(rappels.DELAIS, rappels.rappeler_delais, {"hour": "8-20", "minute": "0"}, 30 * MINUTE),
    Tache(rappels.IMPAYES, rappels.relancer_impayes, {"hour": "9", "minute": "0"}, 6 * HEURE),
    Tache(rappels.DOCUMENTS, rappels.rappeler_documents, {"hour": "9", "minute": "30"}, 6 * HEURE),
    Tache(campagnes.NOM, campagnes.preparer_campagne, {"hour": "6", "minute": "0"}, 6 * HEURE),
    Tache(prelevements.NOM, prelevements.ecrire_prelevements, {"hour": "7", "minute": "0"}, 6 * HEURE),
    Tache(conservation.NOM, conservation.effacer_familles_parties, {"hour": "3", "minute": "30"}, 6 * HEURE),
)


def executer(tache: Tache, outils: Outils) -> None:
    """One run, logged; an error is logged and waits for the next run (nothing half-claimed)."""
    debut = time.monotonic()
    try:
        resultat = tache.fonction(outils)
    except Exception:
        log.exception("tache_erreur", tache=tache.nom)
        return
    taille = len(resultat) if isinstance(resultat, list) else resultat
    log.info(
        "tache_terminee", tache=tache.nom, resultat=taille, duree_ms=round((time.monotonic() - debut) * 1000)
    )


class Planificateur:
    def __init__(
        self,
        outils: Outils,
        base: BaseDeDonnees,
        taches: tuple[Tache, ...] = TACHES,
    ) -> None:
        self.outils = outils
        self.candidat = Candidat(base.url, base.schema)
        self.taches = taches
        self.intervalle = outils.reglages.leader_intervalle_secondes
        self._scheduler: BackgroundScheduler | None = None
        self._arret = threading.Event()
        self._fil: threading.Thread | None = None

    @property
    def leader(self) -> bool:
        return self._scheduler is not None

    def _nouveau(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            timezone=PARIS,
            executors={"default": ThreadPoolExecutor(3)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        for tache in self.taches:
            declencheur: Any = CronTrigger(timezone=PARIS, **tache.quand)
            scheduler.add_job(
                executer,
                declencheur,
                args=(tache, self.outils),
                id=tache.nom,
                name=tache.nom,
                misfire_grace_time=tache.retard_admis,
            )
        return scheduler

    def veiller(self) -> bool:
        """One look: a standby tries to lead (and starts the jobs), a leader checks its lock (and
        stops the jobs when it has lost it). Returns whether this process leads."""
        if self._scheduler is None:
            if self.candidat.essayer():
                self._scheduler = self._nouveau()
                self._scheduler.start()
                log.info("planificateur_leader", taches=[t.nom for t in self.taches])
        elif not self.candidat.toujours_leader():
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
            log.warning("planificateur_leader_perdu")
        return self.leader

    # Running in the background

    def demarrer(self) -> None:
        self._arret.clear()
        self._fil = threading.Thread(target=self._boucle, name="planificateur", daemon=True)
        self._fil.start()

    def _boucle(self) -> None:
        while not self._arret.is_set():
            try:
                self.veiller()
            except Exception:
                # The thread must outlive a failed start: the next look tries again.
                log.exception("planificateur_erreur")
            self._arret.wait(self.intervalle)

    def arreter(self) -> None:
        self._arret.set()
        if self._fil is not None:
            self._fil.join(timeout=5)
            self._fil = None
        if self._scheduler is not None:
            # Running jobs finish (they hold no lock); the lock goes with the session.
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.candidat.abandonner()
