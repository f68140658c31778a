"""The event-sourced application: one event store for every aggregate of the portal."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import anyio.to_thread
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    Notification,
    Recording,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.utils import Environment

from portail.application.contexte import Contexte, Horloge, horloge_systeme
from portail.domain.capacite import Capacite
from portail.domain.compte import Compte
from portail.domain.enfant import Enfant
from portail.domain.erreurs import Introuvable
from portail.domain.famille import Famille
from portail.domain.planning import Planning
from portail.projections.en_ligne import attend_le_projecteur, lignes_commande
from portail.store import lecture, transcodings
from portail.store.cache_agregats import CacheAgregats, copie_a_plat, copier, est_a_plat, nom_ecoute
from portail.store.chaine import (
    Groupe,
    LigneIdempotence,
    RecorderChaine,
    Resultat,
    Verification,
    VersionLueDepassee,
    verifier,
)
from portail.store.chiffrement import MapperPersonnel
from portail.store.cles import SujetEfface, Trousseau, TrousseauMemoire, TrousseauPostgres
from portail.store.ecrivain import Depot
from portail.store.idempotence import EN_COURS
from portail.store.index_audit import indexer
from portail.store.lecture import LecteurAsync, LectureBloquante, avec_plans_generiques
from portail.store.pliage import topics_de
from portail.store.pool_lifo import garder_au_chaud
from portail.store.tableaux import tableau

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

TENTATIVES_CONFLIT = 8

copie_a_plat(Planning)
copie_a_plat(Capacite)


class LectureEnFil(LectureBloquante):
    """A read the event loop cannot make without blocking: make it in a worker thread."""


LECTURES_EN_VOL = 1
"""Aggregate reads of the event loop on their way at once, at most; a read asked for beyond
waits for the next statement, made with the others asked for meanwhile. Measured at 10,000
children (bookings, 50 clients) and at 2,000 (500 bookings a second): with one, 836.7 and 890.2
bookings a second and a p99 of 43.5 and 38.7 ms at 500 a second; with four, 785.0 and 842.0, and
61.4 and 58.5 ms."""


class LecturesGroupees:
    """Aggregate reads of the event loop asked for while `LECTURES_EN_VOL` are on their way, made
    together in one statement once one of them is back. On a registration morning most requests
    read a child the process has not kept yet, and each statement costs the loop more than its
    rows (`performance.md`); a read asked for when none is on its way is made at once, as before."""

    def __init__(self, portail: Portail, en_vol: int = LECTURES_EN_VOL) -> None:
        self._portail = portail
        self._max = en_vol
        self._en_vol = 0
        self._ids: list[UUID] = []
        self._attentes: list[asyncio.Future[None]] = []
        self._lecteur: LecteurAsync | None = None
        self._taches: set[asyncio.Task[None]] = set()

    async def lire(self, ids: Sequence[UUID], lecteur: LecteurAsync) -> None:
        """Returns once `ids` are kept (read with others' when enough reads are on their way);
        raises what the read raised (`LectureEnFil`: a worker thread must read)."""
        if self._en_vol and lecteur is not self._lecteur:
            await self._portail._lire_et_garder(ids, lecteur)
            return
        if self._en_vol < self._max and not self._attentes:
            self._en_vol += 1
            self._lecteur = lecteur
            try:
                await self._portail._lire_et_garder(ids, lecteur)
            finally:
                self._en_vol -= 1
                self._relancer(lecteur)
            return
        attente: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ids.extend(ids)
        self._attentes.append(attente)
        await attente

    def _relancer(self, lecteur: LecteurAsync) -> None:
        """The reads asked for meanwhile, in one statement of a task of its own: the request
        whose read just came back answers its parent without waiting for theirs."""
        if self._attentes and self._en_vol < self._max:
            groupe, attentes = list(dict.fromkeys(self._ids)), self._attentes
            self._ids, self._attentes = [], []
            self._en_vol += 1
            tache = asyncio.get_running_loop().create_task(self._servir(groupe, attentes, lecteur))
            self._taches.add(tache)
            tache.add_done_callback(self._taches.discard)
        if not self._en_vol:
            self._lecteur = None

    async def _servir(
        self, groupe: list[UUID], attentes: list[asyncio.Future[None]], lecteur: LecteurAsync
    ) -> None:
        try:
            await self._portail._lire_et_garder(groupe, lecteur)
        except Exception as erreur:
            # What the read raised reaches each request (a `LectureEnFil` of its own).
            for attente in attentes:
                if not attente.done():
                    attente.set_exception(LectureEnFil() if isinstance(erreur, LectureEnFil) else erreur)
        except BaseException:
            # Cancelled at shutdown: each request reads for itself, in a worker thread.
            for attente in attentes:
                if not attente.done():
                    attente.set_exception(LectureEnFil())
            raise
        else:
            for attente in attentes:
                if not attente.done():
                    attente.set_result(None)
        finally:
            self._en_vol -= 1
            self._relancer(lecteur)


class ConflitPersistant(Exception):
    """Optimistic concurrency kept failing: the caller may retry later."""


@dataclass
class EnregistrementEnCours:
    """A save queued by `Portail.deposer`, finished by `Portail.achever`."""

    traitement: ProcessingEvent[UUID]
    stockes: list[StoredEvent]
    groupe: Groupe
    depot: Depot[Groupe, Resultat]
    cles: dict[UUID, tuple[UUID | None, bytes, bytes]]
    """The keys its mapping created, confirmed once it is committed."""
    attendre: bool
    """Whether a read model only the runner writes changes (read-your-writes waits for it)."""
    ecritures: dict[str, Any]


def projeter(aggregat: Any, evenements: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its check of each event against a runtime
    protocol (about 20 µs an event on Python 3.11): our events are the aggregates' own classes."""
    for evenement in evenements:
        aggregat = evenement.mutate(aggregat)
    return aggregat


def _decide_sur(changes: Iterable[UUID], ecritures: Mapping[str, Any], erreur: Exception) -> list[UUID]:
    """What a failed save leaves stale among what is kept: the aggregates it changed, and those
    it read and left as it was when one of them changed meanwhile (a key already served, say,
    says nothing of them: a full day's Capacite a repeat read stays kept)."""
    lus = ecritures.get("versions", ()) if isinstance(erreur, VersionLueDepassee) else ()
    return [*changes, *(aggregat_id for aggregat_id, _ in lus)]


def a_photographier(version: int, intervalle: int) -> bool:
    """Whether a snapshot is taken at `version`: every `intervalle` events, and every ten
    intervals once the aggregate is past ten. A snapshot holds the whole state, which grows with
    the events for some aggregates (a summer day's `Capacite` and its waiting list): at a fixed
    interval, their snapshots would cost the square of their length. Thinned, a day of 10,000
    bookings is snapshotted 19 times instead of 100, and a cold load still folds fewer than ten
    intervals of events after its snapshot."""
    if version % intervalle:
        return False
    return version <= 10 * intervalle or version % (10 * intervalle) == 0


class RepositoryCache(Repository[UUID]):
    """`get` serves a copy of the kept aggregate (`store.cache_agregats`) instead of loading it."""

    cache_agregats: CacheAgregats
    generation_cles: Callable[[], int]
    dependances: threading.local
    """Per thread: the saves not yet committed whose state the current command decided on."""

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if version is not None or kwargs:
            return super().get(aggregate_id, version=version, **kwargs)
        entree = self.cache_agregats.prendre(aggregate_id)
        if entree is not None:
            connu, depot = entree
            if depot is not None:
                # Left by a command of this process whose save is not committed yet: this one
                # decides on it, and its save will stand or fall with that one.
                self.dependances.liste = [*getattr(self.dependances, "liste", ()), depot]
            if depot is not None or self.a_jour(aggregate_id, connu.version):
                if isinstance(connu, Aggregate):
                    return copier(connu)
                raise AggregateNotFoundError(aggregate_id)
        return self.charger_de_la_base(aggregate_id)

    def a_jour(self, aggregate_id: UUID, version: int) -> bool:
        """Whether a kept aggregate at `version` is the latest: trusted while the log is followed,
        else one query for a newer event."""
        if self.cache_agregats.fiable:
            return True
        self.lecture_permise()
        return not self.event_store.recorder.select_events(aggregate_id, gt=version, limit=1)

    def lecture_permise(self) -> None:
        """`LectureBloquante` within `Portail.sans_lecture` (a command decided on the event loop)."""
        if getattr(self.dependances, "sans_lecture", False):
            raise LectureBloquante("agrégat à lire")

    def charger_de_la_base(self, aggregate_id: UUID, *, garder: bool = True) -> Any:
        """Load from the log (and keep a copy), whatever is kept; not kept when keys were
        forgotten meanwhile (an erasure elsewhere: it may hold what they decrypted). `garder`
        False: the caller keeps the loaded aggregate itself (a read, which changes nothing)."""
        self.lecture_permise()
        generation = self.generation_cles()
        try:
            aggregat: Aggregate = super().get(aggregate_id)
        except AggregateNotFoundError:
            self.cache_agregats.poser_absent(aggregate_id)
            raise
        if garder and generation == self.generation_cles():
            self.cache_agregats.poser(copier(aggregat))
        return aggregat

    def _reconstruct_aggregate(self, aggregate_id: UUID, version: int | None, projector_func: Any) -> Any:
        """The latest snapshot and the events after it in one statement (the library reads them
        in two): a cold load, or the look for an aggregate that does not exist, is one round trip."""
        charge = self._lignes_de([aggregate_id]) if version is None else None
        if charge is None:
            return super()._reconstruct_aggregate(aggregate_id, version, projector_func)
        generation, par_id = charge
        [(ident, lignes)] = par_id.items()
        if projector_func is project_aggregate:
            projector_func = projeter
        aggregat = self._depuis_lignes(ident, lignes, generation, projector_func)
        if aggregat is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
        return aggregat

    def _lignes_de(self, ids: list[UUID]) -> tuple[int, dict[UUID, list[tuple[Any, ...]]]] | None:
        """Each aggregate's rows in one statement: its latest snapshot, the events after it, and
        its subject's key when it is not known yet (decrypting needs it next); with the keys'
        generation read before. None when the stores are not PostgreSQL's."""
        instruction = self.instruction_lignes(ids)
        if instruction is None:
            return None
        generation, requete, parametres = instruction
        datastore = self.event_store.recorder.datastore  # type: ignore[attr-defined]
        return generation, self.par_aggregat(
            parametres["ids"], lecture.tuples(datastore, requete, parametres, binaire=True)
        )

    @staticmethod
    def par_aggregat(ids: list[UUID], rangees: list[tuple[Any, ...]]) -> dict[UUID, list[tuple[Any, ...]]]:
        par_id: dict[UUID, list[tuple[Any, ...]]] = {i: [] for i in ids}
        for rangee in rangees:
            par_id[rangee[1]].append(rangee)
        return par_id

    def instruction_lignes(self, ids: list[UUID]) -> tuple[int, str, dict[str, Any]] | None:
        """`_lignes_de`'s statement and parameters (rows in binary), and the keys' generation
        read before: for a caller that sends it itself (`Portail.lire_async`)."""
        snapshots = self.snapshot_store
        instantanes = snapshots.recorder if snapshots is not None else None
        evenements = self.event_store.recorder
        if not isinstance(instantanes, PostgresAggregateRecorder) or not isinstance(
            evenements, PostgresAggregateRecorder
        ):
            return None
        schema = evenements.datastore.schema
        # A caller may name an aggregate by its id as text: rows come back with UUIDs.
        ids = [i if isinstance(i, UUID) else UUID(str(i)) for i in ids]
        trousseau = getattr(self.event_store.mapper, "trousseau", None)
        cles = [i for i in ids if not trousseau.connue(i)] if isinstance(trousseau, TrousseauPostgres) else []
        cle = (
            f" UNION ALL SELECT 2, sujet_id, 0, '', cle FROM {trousseau.table} WHERE sujet_id = ANY(%(cles)s)"
            if cles and isinstance(trousseau, TrousseauPostgres)
            else ""
        )
        requete = (
            "WITH s AS (SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state"
            f" FROM {schema}.{instantanes.events_table_name} WHERE originator_id = ANY(%(ids)s)"
            " ORDER BY originator_id, originator_version DESC)"
            " SELECT 0 AS n, originator_id, originator_version, topic, state FROM s"
            " UNION ALL SELECT 1, e.originator_id, e.originator_version, e.topic, e.state"
            f" FROM {schema}.{evenements.events_table_name} e WHERE e.originator_id = ANY(%(ids)s)"
            " AND e.originator_version > coalesce((SELECT s.originator_version FROM s"
            " WHERE s.originator_id = e.originator_id), 0)"
            f"{cle} ORDER BY 2, 1, 3"
        )
        # Typed arrays: psycopg's generic list dumper scans each list for its element type at every
        # call (3 % of a booking's CPU in the api process).
        return self.generation_cles(), requete, {"ids": tableau("uuid", ids), "cles": tableau("uuid", cles)}

    def _depuis_lignes(
        self, aggregate_id: UUID, lignes: list[tuple[Any, ...]], generation: int, projector_func: Any
    ) -> Any:
        """An aggregate from its rows (0: its snapshot, 1: its events, 2: its subject's key, in
        that order), or None when it has none."""
        mapper = self.event_store.mapper
        if lignes and lignes[-1][0] == 2:
            trousseau = getattr(mapper, "trousseau", None)
            assert isinstance(trousseau, TrousseauPostgres)
            trousseau.accepter(aggregate_id, bytes(lignes.pop()[4]), generation)
        stockes = [StoredEvent(r[1], r[2], r[3], bytes(r[4])) for r in lignes]
        return projector_func(None, (mapper.to_domain_event(e) for e in stockes))

    def precharger(self, ids: Sequence[UUID], au_moins: int = 2) -> None:
        """Load in one statement those of `ids` that are not kept and trusted, and keep them (an
        absent one as absent): a command's reads that follow find them in memory. Fewer than
        `au_moins` are left to their own loads (a lone one's is one statement too)."""
        manquants = self.manquants(ids)
        charge = self._lignes_de(manquants) if manquants and len(manquants) >= au_moins else None
        if charge is not None:
            self.garder_lignes(*charge)

    def manquants(self, ids: Sequence[UUID]) -> list[UUID]:
        """Those of `ids` that are not kept and trusted."""
        return [i for i in dict.fromkeys(ids) if not self._garde_fiable(i)]

    def garder_lignes(self, generation: int, par_id: dict[UUID, list[tuple[Any, ...]]]) -> bool:
        """Fold and keep aggregates read by `_lignes_de`'s statement (an absent one as absent);
        False, having kept what came before, when keys were forgotten meanwhile (an erasure
        elsewhere)."""
        for aggregate_id, siennes in par_id.items():
            aggregat = self._depuis_lignes(aggregate_id, siennes, generation, projeter)
            if generation != self.generation_cles():
                return False
            if aggregat is None:
                self.cache_agregats.poser_absent(aggregate_id)
            else:
                self.cache_agregats.poser(aggregat)
        return True

    def _garde_fiable(self, aggregate_id: UUID) -> bool:
        entree = self.cache_agregats.prendre(aggregate_id)
        return entree is not None and (entree[1] is not None or self.cache_agregats.fiable)

    def prendre_dependances(self) -> list[Any]:
        liste: list[Any] = getattr(self.dependances, "liste", [])
        self.dependances.liste = []
        return liste


class Portail(Application[UUID]):
    name = "portail"
    snapshotting_intervals = {Famille: 50, Enfant: 50, Compte: 50, Planning: 50, Capacite: 100}  # noqa: RUF012

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        cle_maitre: bytes,
        horloge: Horloge = horloge_systeme,
        ecritures_simultanees: int = 0,
    ) -> None:
        self._cle_maitre = cle_maitre
        self.horloge = horloge
        self._dernieres = threading.local()
        self.cache = CacheAgregats()
        # An optional cap on the commands of this process running at once (0: none). The log's
        # lock is held inside one statement now, never across Python, and concurrent saves are
        # committed together: a cap only makes those batches smaller.
        self._ecritures: AbstractContextManager[Any] = (
            threading.BoundedSemaphore(ecritures_simultanees) if ecritures_simultanees > 0 else nullcontext()
        )
        self.conflits = 0
        self.conflits_persistants = 0
        self.lectures_groupees = LecturesGroupees(self)
        self.trousseau: Trousseau
        super().__init__(env=env)
        if isinstance(self.trousseau, TrousseauPostgres):
            self.trousseau.creer_tables()
        if isinstance(self.recorder, RecorderChaine):
            self.recorder.trousseau = self.trousseau
            self.recorder.cache_agregats = self.cache

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        factory = super().construct_factory(env)
        datastore = getattr(factory, "datastore", None)
        if datastore is not None:
            garder_au_chaud(datastore.pool)
            # Before the pool opens (at its first use): every connection keeps its plans, as
            # the event loop's do (`store.lecture.PLANS_GENERIQUES`).
            kwargs = datastore.pool.kwargs
            kwargs["options"] = avec_plans_generiques(kwargs.get("options"))
        return factory

    def construct_repository(self) -> Repository[UUID]:
        repository = RepositoryCache(event_store=self.events, snapshot_store=self.snapshots)
        repository.cache_agregats = self.cache
        repository.generation_cles = lambda: self.trousseau.generation
        repository.dependances = threading.local()
        return repository

    def ecouter_journal(self) -> None:
        """Trust the kept aggregates: follow the log's NOTIFY to drop what other processes change."""
        datastore = getattr(self.factory, "datastore", None)
        if datastore is not None and isinstance(self.recorder, RecorderChaine):
            self.cache.ecouter(datastore, self.recorder.events_table_name)
        # An erasure elsewhere deletes keys: the kept ones go, and what they decrypted.
        if isinstance(self.trousseau, TrousseauPostgres):
            self.trousseau.ecouter(self.cache.vider)

    def processus_ecrivains(self) -> int:
        """Processes serving commands on this schema (`api`, `serve`): their log listeners."""
        datastore = getattr(self.factory, "datastore", None)
        if datastore is None:
            return 0
        ligne = lecture.ligne(
            datastore,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = %s AND pid IS DISTINCT FROM %s",
            (nom_ecoute(datastore.schema), self.cache.pid_ecoute),
        )
        return int(ligne["n"]) if ligne else 0

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.enregistrer(transcoder)

    def construct_mapper(self) -> Mapper[UUID]:
        datastore = getattr(self.factory, "datastore", None)
        if datastore is None:
            self.trousseau = TrousseauMemoire(self._cle_maitre)
        else:
            self.trousseau = TrousseauPostgres(self._cle_maitre, datastore)
        return MapperPersonnel(self.construct_transcoder(), self.trousseau)

    # Writing

    def enregistrer(
        self,
        contexte: Contexte,
        *aggregats: Aggregate | None,
        reponse: Any = None,
        liberer: Callable[[], None] | None = None,
        **ecritures: Any,
    ) -> list[Recording[UUID]]:
        """Save the aggregates' new events in one statement, each stamped with who, when, why.

        `ecritures` go into the same transaction (`store.chaine.Groupe`): `versions` of aggregates
        the command read without changing, its `idempotence` row and answer, the read rows
        (`lignes`) it writes. With `reponse`, what the command answers, a request's idempotency
        key (`contexte.idempotence`) is written with its answer.

        `liberer`: the command's in-process locks, released as soon as the save is queued, after
        the state it leaves is published to the next command (`store.ecrivain`): commands on the
        same days are decided one after the other and committed together."""
        changes, attendre = self._preparer(contexte, aggregats, reponse, liberer, ecritures)
        enregistrements = self.save(*changes, **ecritures)
        demande = contexte.idempotence
        if "idempotence" in ecritures and demande is not None:
            demande.corps = ecritures["idempotence"].corps
        # A save that recorded nothing changed no read model: nothing to wait for after it.
        self._dernieres.attendre = attendre and bool(enregistrements)
        if enregistrements:
            self._dernieres.position = enregistrements[-1].notification.id
        return enregistrements

    def _preparer(
        self,
        contexte: Contexte,
        aggregats: Sequence[Aggregate | None],
        reponse: Any,
        liberer: Callable[[], None] | None,
        ecritures: dict[str, Any],
    ) -> tuple[list[Aggregate], bool]:
        """What `enregistrer` saves (the aggregates changed), with `ecritures` completed; and
        whether a read model only the runner writes changes."""
        audit = contexte.audit(self.horloge())
        for aggregat in aggregats:
            if aggregat is not None:
                for evenement in aggregat.pending_events:
                    object.__setattr__(evenement, "audit", audit)
        # The parent's own read rows commit with the events: the next read needs no runner.
        lignes = lignes_commande(aggregats)
        if lignes:
            ecritures["lignes"] = [*ecritures.get("lignes", ()), *lignes]
        attendre = attend_le_projecteur(aggregats)
        demande = contexte.idempotence
        if demande is not None and demande.corps is None:
            # The key's row commits with the first save of the command; without the answer when
            # it is built afterwards (`store.idempotence`), and never twice.
            corps = demande.encoder(reponse) if reponse is not None else b""
            ecritures["idempotence"] = LigneIdempotence(
                demande.compte_id, demande.cle, demande.empreinte, 200 if corps else EN_COURS, corps
            )
        repository = self.repository
        if isinstance(repository, RepositoryCache):
            ecritures["dependances"] = repository.prendre_dependances()
        # Only what changed is saved and published: an aggregate read and left as it was (a day
        # whose Capacite a refusal did not touch) stays kept as it was, so that the next command
        # on it does not depend on this save (a save that fails, a key already served say, fails
        # every save decided on top of it).
        changes = [a for a in aggregats if a is not None and a.pending_events]
        if liberer is not None:

            def apres_depot(depot: Any) -> None:
                # Published as it is, not copied: its events are collected, nothing changes it
                # any more (the next command decides on a copy, `RepositoryCache.get`, and reads
                # change nothing). A summer day's Capacite holds thousands of ids.
                for aggregat in changes:
                    if est_a_plat(aggregat):
                        self.cache.poser(aggregat, depot)
                liberer()

            ecritures["apres_depot"] = apres_depot
        return changes, attendre

    # Writing from the event loop

    @contextmanager
    def sans_lecture(self) -> Iterator[None]:
        """Within the block, on this thread, an aggregate or a key that is not kept raises
        `LectureBloquante` instead of being read: a command decided on the event loop then goes
        to a worker thread, having deposited nothing."""
        repository = self.repository
        if not isinstance(repository, RepositoryCache):
            raise LectureEnFil
        repository.prendre_dependances()
        repository.dependances.sans_lecture = True
        try:
            with self.trousseau.sans_lecture():
                yield
        finally:
            repository.dependances.sans_lecture = False
            repository.prendre_dependances()

    def _repository_fiable(self) -> RepositoryCache:
        """The repository, if what it keeps can be trusted without a query: the log and the
        erasures followed (decrypting would otherwise read a key the statement did not bring);
        else `LectureEnFil`."""
        repository = self.repository
        if (
            not isinstance(repository, RepositoryCache)
            or not self.cache.fiable
            or not self.trousseau.cache_fiable()
        ):
            raise LectureEnFil
        return repository

    async def precharger_async(self, ids: Sequence[UUID], lecteur: LecteurAsync) -> None:
        """`precharger` on the event loop: those of `ids` not kept are read and kept (an absent
        one as absent), in one awaited statement with what other requests of the loop ask for
        meanwhile (`LecturesGroupees`). `LectureEnFil` when only a worker thread can tell
        (`lire_async`)."""
        repository = self._repository_fiable()
        if repository.manquants(ids):
            await self.lectures_groupees.lire(ids, lecteur)

    async def _lire_et_garder(self, ids: Sequence[UUID], lecteur: LecteurAsync) -> None:
        """Those of `ids` not kept, read in one awaited statement and kept."""
        repository = self._repository_fiable()
        manquants = repository.manquants(ids)
        if not manquants:
            return
        instruction = repository.instruction_lignes(manquants)
        if instruction is None:
            raise LectureEnFil
        generation, requete, parametres = instruction
        rangees = await lecteur.tuples(requete, parametres, binaire=True)
        if not repository.garder_lignes(generation, repository.par_aggregat(parametres["ids"], rangees)):
            raise LectureEnFil

    def deposer(
        self,
        contexte: Contexte,
        *aggregats: Aggregate | None,
        reponse: Any = None,
        liberer: Callable[[], None] | None = None,
        avertir: Callable[[], None],
        versions: Sequence[tuple[UUID, int]] = (),
    ) -> EnregistrementEnCours:
        """`enregistrer`'s first half, for a command decided on the event loop (within
        `sans_lecture`): the save is queued with the writer, whose own thread writes it and calls
        `avertir()` once it is finished; `achever` then does what `enregistrer` does after it."""
        ecritures: dict[str, Any] = {"versions": versions}
        changes, attendre = self._preparer(contexte, aggregats, reponse, liberer, ecritures)
        recorder = self.recorder
        if not isinstance(recorder, RecorderChaine):
            raise LectureEnFil
        traitement: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregat in changes:
            traitement.events.extend(aggregat.collect_events())
            traitement.aggregates[aggregat.id] = aggregat
        self.trousseau.abandonner_en_attente()
        try:
            stockes = [self.mapper.to_stored_event(e) for e in traitement.events]
        except LectureBloquante:
            self.trousseau.abandonner_en_attente()
            raise
        except Exception:
            self.trousseau.abandonner_en_attente()
            self.cache.retirer(traitement.aggregates)
            raise
        cles = self.trousseau.detacher_en_attente()
        groupe = recorder.groupe(stockes, [(s, f, e) for s, (f, _, e) in cles.items()], ecritures)
        depot = recorder.ecrivain.deposer(groupe, ecritures.get("dependances", ()), avertir)
        apres_depot = ecritures.get("apres_depot")
        if apres_depot is not None:
            apres_depot(depot)
        return EnregistrementEnCours(traitement, stockes, groupe, depot, cles, attendre, ecritures)

    async def achever(self, en_cours: EnregistrementEnCours, contexte: Contexte) -> list[Recording[UUID]]:
        """`enregistrer`'s second half once the save is finished (`deposer`): its recordings, or
        what failed it (`IntegrityError` when another writer was first: the command is decided
        again)."""
        depot = en_cours.depot
        traitement = en_cours.traitement
        try:
            if depot.erreur is not None:
                raise depot.erreur
            assert depot.resultat is not None
            positions = RecorderChaine.issue(en_cours.groupe, depot.resultat)
        except Exception as erreur:
            self.cache.retirer(_decide_sur(traitement.aggregates, en_cours.ecritures, erreur))
            raise
        self.trousseau.confirmer(en_cours.cles)
        enregistrements = [
            Recording(
                evenement,
                Notification(
                    originator_id=stocke.originator_id,
                    originator_version=stocke.originator_version,
                    topic=stocke.topic,
                    state=stocke.state,
                    id=position,
                ),
            )
            for evenement, stocke, position in zip(
                traitement.events, en_cours.stockes, positions, strict=True
            )
        ]
        self._garder(traitement)
        if self._a_photographier(traitement):
            await anyio.to_thread.run_sync(self._take_snapshots, traitement)
        self._notify(enregistrements)
        demande = contexte.idempotence
        ligne = en_cours.ecritures.get("idempotence")
        if ligne is not None and demande is not None:
            demande.corps = ligne.corps
        en_cours.attendre = en_cours.attendre and bool(enregistrements)
        return enregistrements

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, with our aggregates' events collected through their class: its
        `collect_events` asks each object two runtime protocol questions (3 % of a sequential
        booking's Python time, measured)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Key rows left by a save that failed while mapping belong to no save.
        self.trousseau.abandonner_en_attente()
        try:
            enregistrements = super()._record(processing_event)
        except Exception as erreur:
            # Another writer was first, or the subject is erased: what is kept may be stale.
            self.cache.retirer(
                _decide_sur(processing_event.aggregates, processing_event.saved_kwargs, erreur)
            )
            raise
        self._garder(processing_event)
        return enregistrements

    def _garder(self, processing_event: ProcessingEvent[UUID]) -> None:
        for aggregat in processing_event.aggregates.values():
            # Kept if flat (the booking path's) or already kept: a campaign's invoices, saved once
            # and rarely read again, are not worth a deep copy each. A booking published its state
            # when it queued the save (`apres_depot`): that copy is kept, not a third one (a summer
            # day's Capacite holds thousands of ids).
            if (
                isinstance(aggregat, Aggregate)
                and (est_a_plat(aggregat) or self.cache.contient(aggregat.id))
                and not self.cache.confirmer_publie(aggregat.id, aggregat.version)
            ):
                self.cache.poser(copier(aggregat))

    def close(self) -> None:
        self.cache.arreter()
        self.trousseau.arreter()
        if isinstance(self.recorder, RecorderChaine):
            self.recorder.connexion_tenue.fermer()
        super().close()

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A saved aggregate whose new events cross a snapshot interval is snapshotted as it is in
        memory, its state after the save: the library would first load it again from the log,
        decoding its previous snapshot (a summer day's Capacite with thousands of children waiting:
        a tenth of an api's time during an opening rush)."""
        for aggregat in self._a_photographier(processing_event):
            classe = getattr(type(aggregat), "Snapshot", type(self).snapshot_class)
            assert classe is not None and self.snapshots is not None
            try:
                self.snapshots.put([classe.take(aggregat)])
            except SujetEfface:
                continue

    def _a_photographier(self, processing_event: ProcessingEvent[UUID]) -> list[Aggregate]:
        """The saved aggregates whose new events cross a snapshot interval."""
        if self.snapshots is None or not self.snapshotting_intervals:
            return []
        versions: dict[UUID, list[int]] = {}
        for evenement in processing_event.events:
            versions.setdefault(evenement.originator_id, []).append(evenement.originator_version)
        a_prendre = []
        for aggregat_id, aggregat in processing_event.aggregates.items():
            intervalle = self.snapshotting_intervals.get(type(aggregat))
            if (
                isinstance(aggregat, Aggregate)
                and intervalle is not None
                and any(a_photographier(v, intervalle) for v in versions.get(aggregat_id, ()))
            ):
                a_prendre.append(aggregat)
        return a_prendre

    def take_snapshot(
        self, aggregate_id: UUID, version: int | None = None, projector_func: Any = None
    ) -> None:
        """Snapshots are a cache: an erased subject's cannot be encrypted any more, so none is taken."""
        try:
            if projector_func is None:
                super().take_snapshot(aggregate_id, version)
            else:
                super().take_snapshot(aggregate_id, version, projector_func)
        except SujetEfface:
            return

    def attend_le_projecteur(self) -> bool:
        """Whether the last save of this thread changed a read model only the runner writes."""
        return bool(getattr(self._dernieres, "attendre", True))

    def derniere_position(self) -> int:
        """The log position of the last save made by this thread (0 if none)."""
        return int(getattr(self._dernieres, "position", 0))

    @contextmanager
    def _tour_d_ecriture(self) -> Iterator[None]:
        """One of the few writing turns; a command run inside another keeps its caller's turn."""
        if getattr(self._dernieres, "en_ecriture", False):
            yield
            return
        with self._ecritures:
            self._dernieres.en_ecriture = True
            try:
                yield
            finally:
                self._dernieres.en_ecriture = False

    def avec_reessais(self, commande: Callable[[], R]) -> R:
        """Run a load-decide-save command again when another writer saved first."""
        for tentative in range(TENTATIVES_CONFLIT):
            if isinstance(self.repository, RepositoryCache):
                self.repository.prendre_dependances()
            try:
                with self._tour_d_ecriture():
                    return commande()
            except IntegrityError:
                self.conflits += 1
                time.sleep(0.002 * (2**tentative))
        self.conflits_persistants += 1
        raise ConflitPersistant("Trop de modifications simultanées ; réessayez.")

    # Reading

    def charger(self, cls: type[A], aggregat_id: UUID) -> A:
        try:
            aggregat: Aggregate = self.repository.get(aggregat_id)
        except AggregateNotFoundError:
            raise Introuvable(f"{cls.__name__} introuvable.") from None
        if not isinstance(aggregat, cls):
            raise Introuvable(f"{cls.__name__} introuvable.")
        return aggregat

    def ids_de(self, cls: type[Aggregate]) -> list[UUID]:
        """Every aggregate of this class the log holds, in id order (one statement on its events'
        topics, served by the topic index)."""
        recorder = self.recorder
        assert isinstance(recorder, RecorderChaine)
        table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
        lignes = lecture.tuples(
            recorder.datastore,
            f"SELECT DISTINCT originator_id FROM {table} WHERE topic = ANY(%s) ORDER BY originator_id",
            (topics_de(cls),),
        )
        return [ligne[0] for ligne in lignes]

    def lire_lot(self, cls: type[A], ids: Sequence[UUID]) -> dict[UUID, A]:
        """These aggregates for reading only, straight from the log in one statement (nothing is
        kept or taken from the cache): the existing ones of this class. Empty when keys were
        forgotten meanwhile (an erasure elsewhere: what they decrypted may not be used)."""
        repository = self.repository
        if not ids or not isinstance(repository, RepositoryCache):
            return {}
        charge = repository._lignes_de(list(ids))
        if charge is None:
            return {}
        generation, par_id = charge
        lus: dict[UUID, A] = {}
        for aggregat_id, lignes in par_id.items():
            aggregat = repository._depuis_lignes(aggregat_id, lignes, generation, projeter)
            if isinstance(aggregat, cls):
                lus[aggregat_id] = aggregat
        return lus if generation == self.trousseau.generation else {}

    def garde(self, aggregat_id: UUID) -> bool:
        """Whether `lire_async` answers it from memory, without a statement (kept and trusted)."""
        try:
            return not self._repository_fiable().manquants([aggregat_id])
        except LectureEnFil:
            return False

    async def lire_async(self, cls: type[A], aggregat_id: UUID, lecteur: LecteurAsync) -> A:
        """`lire` on the event loop: the kept aggregate, trusted while the log is followed, else
        its rows read by one awaited statement (`LecturesGroupees`), folded and kept (nobody
        changes what is read: no copy). `LectureEnFil` when only a worker thread can tell (the
        log or the erasures not followed, a save of this process not committed yet, stores other
        than PostgreSQL's)."""
        self._repository_fiable()
        entree = self.cache.prendre(aggregat_id)
        if entree is not None:
            connu, depot = entree
            if depot is not None:
                raise LectureEnFil
            if isinstance(connu, cls):
                return connu
            if not isinstance(connu, Aggregate):
                raise Introuvable(f"{cls.__name__} introuvable.")  # known not to exist
        await self.lectures_groupees.lire([aggregat_id], lecteur)
        entree = self.cache.prendre(aggregat_id)
        if entree is None or entree[1] is not None:
            # Evicted meanwhile, or a save of this process begun since: a thread reads the log.
            raise LectureEnFil
        connu = entree[0]
        if not isinstance(connu, cls):
            raise Introuvable(f"{cls.__name__} introuvable.")
        return connu

    def lire(self, cls: type[A], aggregat_id: UUID) -> A:
        """An aggregate for reading only (the caller must not change it): the kept one, trusted
        while the log is followed (`ecouter_journal`), else checked with one query for events
        recorded since, by this process or another."""
        entree = self.cache.prendre(aggregat_id)
        if entree is not None and entree[1] is not None and isinstance(self.repository, RepositoryCache):
            # Not committed yet: what is read is what the log holds.
            aggregat = self.repository.charger_de_la_base(aggregat_id)
            if not isinstance(aggregat, cls):
                raise Introuvable(f"{cls.__name__} introuvable.")
            return aggregat
        connu = entree[0] if entree is not None else None
        repository = self.repository
        if (
            isinstance(connu, cls)
            and isinstance(repository, RepositoryCache)
            and repository.a_jour(aggregat_id, connu.version)
        ):
            return connu
        generation = self.trousseau.generation
        if isinstance(repository, RepositoryCache):
            if connu is not None and not isinstance(connu, Aggregate) and repository.a_jour(aggregat_id, 0):
                raise Introuvable(f"{cls.__name__} introuvable.")  # known not to exist
            # Straight from the log: what is kept was just found stale or absent, and the load
            # is not copied (a deep copy of a family or a child cost a booking 7 % of its CPU).
            try:
                charge: Aggregate = repository.charger_de_la_base(aggregat_id, garder=False)
            except AggregateNotFoundError:
                raise Introuvable(f"{cls.__name__} introuvable.") from None
            if not isinstance(charge, cls):
                raise Introuvable(f"{cls.__name__} introuvable.")
            aggregat = charge
        else:
            aggregat = self.charger(cls, aggregat_id)
        # Nobody changes what is read: the loaded one itself is kept, no copy.
        if generation == self.trousseau.generation:
            self.cache.poser(aggregat)
        return aggregat

    def precharger(self, *ids: UUID) -> None:
        """Aggregates a command is about to read, loaded together when several are not kept
        (`RepositoryCache.precharger`): one round trip instead of one each."""
        if isinstance(self.repository, RepositoryCache):
            self.repository.precharger(ids)

    def garder_d_avance(self, ids: Sequence[UUID]) -> None:
        """Those of `ids` not kept read in one statement and kept, however few."""
        if isinstance(self.repository, RepositoryCache):
            self.repository.precharger(ids, au_moins=1)

    def evenements_de(self, sujets: Sequence[UUID]) -> list[tuple[int, Any]]:
        """Every event of these aggregates with its log position, in log order (one query)."""
        recorder = self.recorder
        if isinstance(recorder, RecorderChaine):
            table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
            lignes = lecture.tuples(
                recorder.datastore,
                "SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {table} WHERE originator_id = ANY(%s) ORDER BY notification_id",
                (list(sujets),),
                binaire=True,
            )
            notifications = [
                Notification(
                    id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=bytes(r[4])
                )
                for r in lignes
            ]
        else:
            # In memory (unit tests): the whole log is small.
            fin = recorder.max_notification_id() or 0
            notifications = [
                n for n in recorder.select_notifications(start=1, limit=fin) if n.originator_id in sujets
            ]
        return [(n.id, self.mapper.to_domain_event(n)) for n in notifications]

    def completer_index_journal(self, page: int = 2000) -> int:
        """Index the events written before the auditors' index became columns of the log (once,
        after an upgrade); return how many were indexed. An unreadable event stays unindexed."""
        recorder = self.recorder
        assert isinstance(recorder, RecorderChaine)
        apres = indexes = 0
        while True:
            notifications = recorder.sans_index(apres, page)
            if not notifications:
                return indexes
            index = []
            for notification in notifications:
                try:
                    evenement = self.mapper.to_domain_event(notification)
                except MapperDeserialisationError:
                    continue
                index.append((notification.id, notification.originator_id, indexer(evenement)))
            recorder.completer_index(index)
            indexes += len(index)
            apres = notifications[-1].id

    def verifier_chaine(self) -> Verification:
        """Walk the whole log against its hash chain."""
        recorder = self.recorder
        assert isinstance(recorder, RecorderChaine)
        table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
        return verifier(recorder.datastore, table, recorder.table_chaine)

    def supprimer_instantanes(self, sujets: tuple[UUID, ...]) -> None:
        """Snapshots copy personal fields in one block: an erased subject's must go."""
        datastore = getattr(self.factory, "datastore", None)
        if datastore is None or not sujets:
            return
        table = f"{datastore.schema}.{self.name}_snapshots"
        with datastore.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {table} WHERE originator_id = ANY(%s)", (list(sujets),))
