"""What a process keeps in memory to check a session without the database, kept exact by
PostgreSQL notifications.

A request with a valid token needs its account's state (roles, family, active or not, the instant
before which its tokens are void) and whether the token was revoked. Both are kept here, and
invalidated by notifications, which PostgreSQL delivers at commit:

- every save of the event log notifies the log's channel (`portail_enregistrer`); a thread of this
  process then reads, in one query, which accounts the events recorded since its last position
  belong to, and forgets them;
- a logout notifies `canal_sessions` with the revoked token's id, in the transaction that records
  the revocation.

One thread listens (`Ecoute`), another reads the log, so a burst of saves costs one query, not one
per save. When the listening connection is opened again, notifications may have been lost meanwhile:
the accounts are forgotten, the revoked ids read again, and nothing is trusted until that is done.
As a safety net nothing is trusted when the log or the revocations were not read within
`DUREE_MAX` seconds. What is not in memory, or not trusted, is asked of the database, as before.

Once in step, every account's state is read ahead (`prechauffage`, in a thread of its own, a batch
per statement): the first request of a parent this process never met finds it in memory. An
entry is exact for as long as the log is followed (every change of what it holds is a `Compte`
event, which the reader above forgets it for), so it stays until then; its age is no reason to
read it again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar
from uuid import UUID

import structlog

from portail.store import lecture
from portail.store.ecoute import REGROUPEMENT_JOURNAL, Ecoute, canal_journal

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

    from portail.store.securite import RevocationsPostgres

log = structlog.get_logger("portail.store")

V = TypeVar("V")

DUREE_MAX = 30.0
"""Seconds after which nothing is trusted if the log or the revoked ids were not read again."""
RELECTURE = 5.0
"""Seconds after which the log is read again without a notification: a notification lost with a
connection that dropped unnoticed delays an invalidation by this much, not more."""
COMPTES_MAX = 100_000
"""Accounts kept at most (about 300 bytes each); past it, the memory is emptied and refilled by
the requests."""
CONSERVATION_REVOCATION = 86_400.0
"""Seconds a revoked id is kept after its token expired (as its row in the database)."""


class Invalidations(Generic[V]):
    """Accounts' entries (of type V) and revoked token ids, for one process.

    An entry is kept only if no invalidation happened while it was being read: `jeton()` before
    reading it from the database, `garder(…, jeton)` after."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        table_evenements: str,
        revocations: RevocationsPostgres,
        prefixe_topics: str,
        *,
        duree_max: float = DUREE_MAX,
    ) -> None:
        self._ds = datastore
        self._table = f"{datastore.schema}.{table_evenements}"
        self._revocations = revocations
        self._prefixe = prefixe_topics
        self.duree_max = duree_max
        self.ecoute = Ecoute(
            datastore,
            [canal_journal(table_evenements), revocations.canal],
            self._reveil,
            "portail-sessions",
            regroupement=REGROUPEMENT_JOURNAL,
        )
        self._verrou = threading.Lock()
        self._comptes: dict[UUID, V] = {}
        self._revoques: dict[str, float] = {}
        self._epoque = 0
        """Moves with every invalidation: an entry read meanwhile may be stale and is not kept."""
        self._position: int | None = None
        """The log position read up to; None while not in step with the notifications."""
        self._connexion = -1
        self._lu_le = -math.inf
        self._revocations_lues_le = -math.inf
        self._signal = threading.Event()
        self._arret = threading.Event()
        self._fil: threading.Thread | None = None
        self.prechauffage: Callable[[int], int] | None = None
        """Reads every account's entry into memory (`garder`), at most the number given; set by
        the composition root."""
        self._prechauffage_en_cours = threading.Lock()
        self.prechauffages = 0
        """Readings ahead finished since start."""

    # What requests ask

    def fiable(self) -> bool:
        """Listening, in step since the connection was opened, and read recently."""
        maintenant = time.monotonic()
        return (
            self._position is not None
            and self.ecoute.active.is_set()
            and self._connexion == self.ecoute.connexions
            and maintenant - self._lu_le < self.duree_max
            and maintenant - self._revocations_lues_le < self.duree_max
        )

    def revoque_en_memoire(self, jti: str) -> bool | None:
        if not self.fiable():
            return None
        return jti in self._revoques

    def est_revoque(self, jti: str) -> bool:
        connu = self.revoque_en_memoire(jti)
        return self._revocations.est_revoque(jti) if connu is None else connu

    def revoquer(self, jti: str, expire_le: datetime) -> None:
        """Recorded (and announced to the other processes), then known here at once: the caller's
        next request, whichever thread serves it, is refused."""
        self._revocations.revoquer(jti, expire_le)
        with self._verrou:
            self._revoques[jti] = expire_le.timestamp()

    def compte(self, compte_id: UUID) -> V | None:
        """The account's entry, if kept and trusted."""
        if not self.fiable():
            return None
        return self._comptes.get(compte_id)

    def jeton(self) -> int | None:
        """To take before reading an entry from the database; None: it will not be kept."""
        with self._verrou:
            return self._epoque if self.fiable() else None

    def garder(self, compte_id: UUID, valeur: V, jeton: int | None) -> None:
        if jeton is None:
            return
        with self._verrou:
            if jeton != self._epoque or self._position is None:
                return
            if len(self._comptes) >= COMPTES_MAX and compte_id not in self._comptes:
                self._comptes.clear()
            self._comptes[compte_id] = valeur

    def oublier(self, *compte_ids: UUID) -> None:
        """Accounts this process just changed: forgotten at once, before their notification."""
        with self._verrou:
            for compte_id in compte_ids:
                self._comptes.pop(compte_id, None)
            self._epoque += 1

    # Running in the background

    def demarrer(self) -> None:
        self._arret.clear()
        self.ecoute.demarrer()
        self._fil = threading.Thread(target=self._boucle, name="portail-sessions-journal", daemon=True)
        self._fil.start()

    def arreter(self) -> None:
        self._arret.set()
        self._signal.set()
        self.ecoute.arreter()
        if self._fil is not None:
            self._fil.join(timeout=5)
            self._fil = None
        with self._verrou:
            self._position = None
        # A reading ahead under way stops at its next batch (nothing is trusted any more): once
        # this returns, nothing of it runs.
        if self._prechauffage_en_cours.acquire(timeout=30):
            self._prechauffage_en_cours.release()

    def _reveil(self, charge: str | None) -> None:
        """In the listening thread: a revocation is noted at once; anything else (the log moved,
        listening again, a quiet while) wakes the reader."""
        jti, _, expire = (charge or "").partition(" ")
        if jti and expire:
            try:
                horodatage = float(expire)
            except ValueError:
                horodatage = math.inf
            with self._verrou:
                self._revoques[jti] = horodatage
            return
        self._signal.set()

    def _boucle(self) -> None:
        while not self._arret.is_set():
            self._signal.wait(RELECTURE)
            if self._arret.is_set():
                return
            self._signal.clear()
            try:
                self._synchroniser()
            except Exception as erreur:
                log.warning("invalidation_perdue", type_erreur=type(erreur).__name__)
                with self._verrou:
                    self._position = None

    def _synchroniser(self) -> None:
        connexion = self.ecoute.connexions
        if not self.ecoute.active.is_set():
            with self._verrou:
                self._position = None
            return
        if self._position is None or connexion != self._connexion:
            # Listening afresh: what was notified while the connection was down is lost.
            with self._verrou:
                self._position = None
                self._comptes.clear()
                self._epoque += 1
            position = self._derniere_position()
            self._lire_revocations()
            with self._verrou:
                self._position = position
                self._connexion = connexion
                self._lu_le = time.monotonic()
            log.info("invalidation_prete", position=position)
            self._lancer_prechauffage()
            return
        debut = time.monotonic()
        position, comptes = self._lire_journal(self._position)
        with self._verrou:
            for compte_id in comptes:
                self._comptes.pop(compte_id, None)
            if comptes:
                self._epoque += 1
            self._position = position
            self._lu_le = debut
        if time.monotonic() - self._revocations_lues_le > self.duree_max / 2:
            self._lire_revocations()

    def _lancer_prechauffage(self) -> None:
        if self.prechauffage is None:
            return
        threading.Thread(target=self._prechauffer, name="portail-sessions-prechauffage", daemon=True).start()

    def _prechauffer(self) -> None:
        # One at a time: a reading ahead started by a reconnection waits for the previous one.
        with self._prechauffage_en_cours:
            if self.prechauffage is None or self._arret.is_set():
                return
            debut = time.monotonic()
            try:
                gardes = self.prechauffage(COMPTES_MAX)
            except Exception as erreur:
                log.warning("prechauffage_interrompu", type_erreur=type(erreur).__name__)
                return
            finally:
                self.prechauffages += 1
            log.info("sessions_prechauffees", comptes=gardes, secondes=round(time.monotonic() - debut, 2))

    def _derniere_position(self) -> int:
        ligne = lecture.ligne(
            self._ds, f"SELECT coalesce(max(notification_id), 0) AS position FROM {self._table}"
        )
        assert ligne is not None
        return int(ligne["position"])

    def _lire_journal(self, apres: int) -> tuple[int, list[UUID]]:
        """The last position, and the accounts whose events were recorded after `apres`."""
        ligne = lecture.ligne(
            self._ds,
            "SELECT max(notification_id) AS position,"
            " array_agg(DISTINCT originator_id) FILTER (WHERE starts_with(topic, %s)) AS comptes"
            f" FROM {self._table} WHERE notification_id > %s",
            (self._prefixe, apres),
        )
        if ligne is None or ligne["position"] is None:
            return apres, []
        return int(ligne["position"]), list(ligne["comptes"] or [])

    def _lire_revocations(self) -> None:
        debut = time.monotonic()
        lues = self._revocations.toutes()
        perimees = time.time() - CONSERVATION_REVOCATION
        with self._verrou:
            # Added to, never replaced: an id noted while this was read must stay.
            self._revoques.update(lues)
            for jti in [j for j, expire in self._revoques.items() if expire < perimees]:
                del self._revoques[jti]
            self._revocations_lues_le = debut
