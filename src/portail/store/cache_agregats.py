"""The aggregates a process has used, kept in memory and trusted without asking the database.

A command decides on a copy (a failed command never changes what is kept); the save's version check
is what guards it: a save that meets a newer version fails, the entry goes, and the command runs
again on the aggregate reloaded. Between processes, entries are dropped when another process
records a newer version: the log's NOTIFY wakes a reader here, which reads the (id, version) of
every event recorded since the last position it read, in one statement, and drops what is older.
While that reader is not listening, or has not caught up since it (re)connected, the cache is not
trusted: each use asks for newer events first (one indexed query, what a load would start with).

The cache is bounded by weight (one per aggregate plus one per entry of its collections: a
planning of a school year weighs hundreds), least recently used first out.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.domain import Aggregate

from portail.domain.ensembles import EnsemblePartage
from portail.store import lecture
from portail.store.ecoute import REGROUPEMENT_JOURNAL, Ecoute, canal_journal, plage_notifiee
from portail.store.ecrivain import Depot

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger("portail.store")

POIDS_MAX = 60_000
"""About 25 MB of plannings of a school year: the aggregates of a registration morning's sessions
fit (a family, a child, a planning, the days), and an api process stays small."""
VERSIONS_VUES_MAX = 200_000
"""Latest versions seen of aggregates not kept: a load that raced with a newer save is not kept."""
LECTURE_PAR_PAGE = 10_000
PROPRES_MAX = 100_000
"""Positions of this process's own saves remembered for the reader at most."""
TOPICS_EFFACEMENT = frozenset({"portail:Famille.Effacee", "portail:Enfant.Efface"})
"""An erased family or child: every kept aggregate of theirs goes (their personal data with it)."""

_COPIE_A_PLAT: set[type] = set()


def copie_a_plat(cls: type) -> type:
    """Mark an aggregate class whose state is values, and dicts or lists of values (frozen
    dataclasses, strings, ids): copying it copies those collections one level deep, in a fraction
    of what `copy.deepcopy` costs."""
    _COPIE_A_PLAT.add(cls)
    return cls


def est_a_plat(aggregat: Aggregate) -> bool:
    return type(aggregat) in _COPIE_A_PLAT


_COLLECTIONS = (list, dict, set, EnsemblePartage)
"""What a flat copy copies (one level deep): each has its `copy()`."""


def copier(aggregat: Aggregate) -> Any:
    if type(aggregat) not in _COPIE_A_PLAT:
        return copy.deepcopy(aggregat)
    copie = object.__new__(type(aggregat))
    etat = copie.__dict__
    for nom, valeur in aggregat.__dict__.items():
        if type(valeur) is dict:
            etat[nom] = {k: (v.copy() if type(v) in _COLLECTIONS else v) for k, v in valeur.items()}
        elif type(valeur) in _COLLECTIONS:
            etat[nom] = valeur.copy()
        else:
            etat[nom] = valeur
    return copie


def _poids(aggregat: Aggregate) -> int:
    return 1 + sum(len(v) for v in aggregat.__dict__.values() if type(v) in (dict, list, set))


def nom_ecoute(schema: str) -> str:
    """The listening session's `application_name`: per schema (at most 63 bytes), so that
    `pg_stat_activity` shows which processes serve commands on a schema."""
    return "portail-ecrivain-" + hashlib.sha256(schema.encode()).hexdigest()[:16]


class _Absent:
    """An aggregate looked for and not found: its creation (version 1) drops the entry."""

    __slots__ = ("id",)
    version = 0

    def __init__(self, aggregat_id: UUID) -> None:
        self.id = aggregat_id


class CacheAgregats:
    def __init__(self, poids_max: int = POIDS_MAX) -> None:
        self._poids_max = poids_max
        self._poids = 0
        self._entrees: OrderedDict[UUID, tuple[Aggregate | _Absent, int, Depot[Any, Any] | None]] = (
            OrderedDict()
        )
        self._vues: OrderedDict[UUID, int] = OrderedDict()
        self._verrou = threading.Lock()
        self._ecoute: Ecoute | None = None
        self._pid_rattrape: int | None = None
        self._arreter_suivi: Callable[[], None] | None = None
        self._ecritures_commencees = 0
        self._ecritures_finies = 0
        self._ecrites = threading.Condition(self._verrou)
        self._propres: set[int] = set()
        """Log positions of this process's committed saves that the reader has not passed yet:
        a notification that names only these needs no read (`fin_ecriture`)."""
        self.succes = 0
        self.echecs = 0
        self.retraits = 0

    # Use

    def prendre(self, aggregat_id: UUID) -> tuple[Aggregate | _Absent, Depot[Any, Any] | None] | None:
        """The kept aggregate (shared: the caller must not change it) or `_Absent` if known not to
        exist, with the save not yet committed it comes from (None once committed); or None. An
        entry whose save failed is dropped."""
        with self._verrou:
            entree = self._entrees.get(aggregat_id)
            if entree is not None and entree[2] is not None and entree[2].echoue:
                self._retirer(aggregat_id)
                entree = None
            if entree is None:
                self.echecs += 1
                return None
            self._entrees.move_to_end(aggregat_id)
            self.succes += 1
            depot = entree[2]
            return entree[0], (None if depot is None or depot.fini else depot)

    def confirmer_publie(self, aggregat_id: UUID, version: int) -> bool:
        """Whether the kept entry is the state a command of this process published at `version`
        when it queued its save; if so, that save being committed, the entry becomes the aggregate
        as saved (no other copy needed) and lets go of the save (its events and rows)."""
        with self._verrou:
            entree = self._entrees.get(aggregat_id)
            if entree is None or entree[2] is None or entree[0].version != version:
                return False
            # Another command of this process may have published its own state at the same
            # version (a child booked on two days at once, each day under its own lock): that
            # save is not finished yet, and the log will refuse it. Only a finished, committed
            # save's state is the committed one.
            if not entree[2].fini or entree[2].echoue:
                return False
            self._entrees[aggregat_id] = (entree[0], entree[1], None)
            return True

    def poser_absent(self, aggregat_id: UUID) -> None:
        """Remember that `aggregat_id` does not exist (a day nobody booked yet, settings never set)."""
        self.poser(_Absent(aggregat_id))

    def poser(self, aggregat: Aggregate | _Absent, depot: Depot[Any, Any] | None = None) -> None:
        """Keep `aggregat` (which nobody changes afterwards) unless a newer version was seen.
        With `depot`, the state a save of this process leaves, before it is committed: the next
        command decides on it, and its own save then depends on that one."""
        with self._verrou:
            if self._vues.get(aggregat.id, 0) > aggregat.version:
                return
            ancienne = self._entrees.pop(aggregat.id, None)
            if ancienne is not None:
                if ancienne[0].version > aggregat.version:
                    self._entrees[aggregat.id] = ancienne
                    return
                self._poids -= ancienne[1]
            poids = 1 if isinstance(aggregat, _Absent) else _poids(aggregat)
            self._entrees[aggregat.id] = (aggregat, poids, depot)
            self._poids += poids
            while self._poids > self._poids_max and self._entrees:
                _, (_, retire, _) = self._entrees.popitem(last=False)
                self._poids -= retire

    def retirer(self, ids: Iterable[UUID]) -> None:
        with self._verrou:
            for aggregat_id in ids:
                self._retirer(aggregat_id)

    def vider(self) -> None:
        with self._verrou:
            self._entrees.clear()
            self._poids = 0

    def _retirer(self, aggregat_id: UUID) -> None:
        entree = self._entrees.pop(aggregat_id, None)
        if entree is not None:
            self._poids -= entree[1]
            self.retraits += 1

    def contient(self, aggregat_id: UUID) -> bool:
        return aggregat_id in self._entrees

    def __len__(self) -> int:
        return len(self._entrees)

    @property
    def pid_ecoute(self) -> int | None:
        return self._ecoute.pid if self._ecoute is not None else None

    @property
    def fiable(self) -> bool:
        """True while the log is listened to and what was recorded before is accounted for."""
        ecoute = self._ecoute
        return (
            ecoute is not None
            and ecoute.active.is_set()
            and ecoute.pid is not None
            and self._pid_rattrape == ecoute.pid
        )

    # Invalidation

    def ecouter(self, datastore: PostgresDatastore, table_evenements: str) -> None:
        """Start following the log (idempotent)."""
        if self._ecoute is not None:
            return
        table = f"{datastore.schema}.{table_evenements}"
        depart = lecture.ligne(datastore, f"SELECT coalesce(max(notification_id), 0) AS p FROM {table}")
        position = int(depart["p"]) if depart else 0
        lu = {"position": position}
        connexion: list[Any] = []
        signal = threading.Event()
        fins: list[int | None] = []
        """The last positions the notifications since the last read name (None: unknown)."""

        def reveil(charge: str | None) -> None:
            plage = plage_notifiee(charge)
            with self._verrou:
                fins.append(plage[1] if plage is not None else None)
            signal.set()

        ecoute = Ecoute(
            datastore,
            [canal_journal(table_evenements)],
            reveil,
            nom_ecoute(datastore.schema),
            regroupement=REGROUPEMENT_JOURNAL,
        )

        arret = threading.Event()

        def suivre() -> None:
            try:
                while True:
                    signal.wait()
                    signal.clear()
                    if arret.is_set():
                        return
                    pid = ecoute.pid
                    with self._verrou:
                        notifiees, fins[:] = fins[:], []
                    if notifiees and None not in notifiees:
                        fin = max(n for n in notifiees if n is not None)
                        if self._passer_les_siennes(lu["position"], fin):
                            # Only this process's own saves since the last read: nothing to drop.
                            lu["position"] = max(lu["position"], fin)
                            self._pid_rattrape = pid
                            continue
                    try:
                        # A connection of its own: neither a pool slot under load nor a
                        # statement counted among a request's.
                        if not connexion or connexion[0].closed:
                            connexion[:] = [ecoute.connecter("portail-cache-agregats")]
                        lu["position"] = self._rattraper(connexion[0], table, lu["position"])
                    except Exception:
                        # Unread changes: nothing kept can be trusted.
                        log.exception("cache_agregats_rattrapage")
                        self.vider()
                        if connexion:
                            connexion.pop().close()
                        continue
                    self._pid_rattrape = pid
            finally:
                for c in connexion:
                    c.close()

        fil = threading.Thread(target=suivre, name="portail-cache-agregats-suivi", daemon=True)

        def arreter() -> None:
            arret.set()
            signal.set()
            fil.join(timeout=5)

        self._ecoute = ecoute
        self._arreter_suivi = arreter
        fil.start()
        ecoute.demarrer()

    def arreter(self) -> None:
        if self._ecoute is not None:
            self._ecoute.arreter()
        if self._arreter_suivi is not None:
            self._arreter_suivi()
            self._arreter_suivi = None
        self._pid_rattrape = None

    def debut_ecriture(self) -> None:
        """A save of this process is being written: a notification the reader cannot place yet
        is probably its own, and the reader waits for `fin_ecriture` before reading the log."""
        with self._verrou:
            self._ecritures_commencees += 1

    def fin_ecriture(self, evenements: Iterable[tuple[int, Any, int, str]]) -> None:
        """The save is written; these of its events committed (position, aggregate, version,
        topic): their versions are seen now (an older load is not kept), and the reader need
        not read them back, unless one erases a family or a child (the reader then drops its
        aggregates)."""
        evenements = list(evenements)
        with self._verrou:
            self._ecritures_finies += 1
            self._ecrites.notify_all()
            if self._ecoute is None:
                return
            for _, aggregat_id, version, _ in evenements:
                self._voir(aggregat_id, version)
            if any(topic in TOPICS_EFFACEMENT for *_, topic in evenements):
                return
            if len(self._propres) > PROPRES_MAX:
                self._propres.clear()  # the reader fell behind: it reads the log instead
            self._propres.update(position for position, *_ in evenements)

    def _passer_les_siennes(self, apres: int, fin: int) -> bool:
        """Whether every position after `apres` up to `fin` is one of this process's saves (then
        forgotten): a gap, another process's save or too long a run needs a read. The
        notification comes at the commit, before the saving thread has its answer: the saves of
        this process being written at this moment are waited for (50 ms at most), not those
        that start meanwhile."""
        with self._verrou:
            commencees = self._ecritures_commencees
            if self._ecritures_finies < commencees and any(
                p not in self._propres for p in range(apres + 1, min(fin, apres + PROPRES_MAX) + 1)
            ):
                self._ecrites.wait_for(lambda: self._ecritures_finies >= commencees, timeout=0.05)
            if fin <= apres:
                return True
            if fin - apres > PROPRES_MAX or any(p not in self._propres for p in range(apres + 1, fin + 1)):
                return False
            self._propres.difference_update(range(apres + 1, fin + 1))
            return True

    def _voir(self, aggregat_id: UUID, version: int) -> None:
        """Under the lock: `version` of the aggregate is in the log; an older kept one goes."""
        entree = self._entrees.get(aggregat_id)
        if entree is not None and entree[0].version < version:
            self._retirer(aggregat_id)
        if self._vues.get(aggregat_id, 0) < version:
            self._vues[aggregat_id] = version
            self._vues.move_to_end(aggregat_id)

    def _rattraper(self, connexion: psycopg.Connection[Any], table: str, position: int) -> int:
        while True:
            lignes = connexion.execute(
                f"SELECT notification_id, originator_id, originator_version, topic FROM {table}"
                " WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
                (position, LECTURE_PAR_PAGE),
                prepare=True,
            ).fetchall()
            if not lignes:
                return position
            with self._verrou:
                effaces = {aggregat_id for _, aggregat_id, _, topic in lignes if topic in TOPICS_EFFACEMENT}
                if effaces:
                    for aggregat_id, (aggregat, _, _) in list(self._entrees.items()):
                        if effaces & {
                            aggregat_id,
                            getattr(aggregat, "famille_id", None),
                            getattr(aggregat, "enfant_id", None),
                        }:
                            self._retirer(aggregat_id)
                for _, aggregat_id, version, _ in lignes:
                    self._voir(aggregat_id, version)
                while len(self._vues) > VERSIONS_VUES_MAX:
                    self._vues.popitem(last=False)
                position = int(lignes[-1][0])
                # What this read passed needs no skipping any more.
                self._propres = {p for p in self._propres if p > position}
            if len(lignes) < LECTURE_PAR_PAGE:
                return position
