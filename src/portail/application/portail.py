"""The event-sourced application: one event store for every aggregate of the portal."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    Recording,
)

from portail.application.contexte import Contexte, Horloge, horloge_systeme
from portail.domain.capacite import Capacite
from portail.domain.compte import Compte
from portail.domain.enfant import Enfant
from portail.domain.erreurs import Introuvable
from portail.domain.famille import Famille
from portail.domain.planning import Planning
from portail.store import transcodings
from portail.store.chaine import RecorderChaine, Verification, verifier
from portail.store.chiffrement import MapperPersonnel
from portail.store.cles import SujetEfface, Trousseau, TrousseauMemoire, TrousseauPostgres
from portail.store.index_audit import indexer

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

TENTATIVES_CONFLIT = 8
AGREGATS_LUS_MAX = 20_000
"""Aggregates kept for reading (accounts, children, accueils of the requests being served)."""


class ConflitPersistant(Exception):
    """Optimistic concurrency kept failing: the caller may retry later."""


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
        self._lus: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._verrou_lus = threading.Lock()
        # Commands hold PostgreSQL's lock on the log while they save: with dozens of threads of
        # one process competing for the interpreter, the holder waited for its turn and every
        # writer queued behind it. A few writers at a time keep the lock short (0: no limit).
        self._ecritures: AbstractContextManager[Any] = (
            threading.BoundedSemaphore(ecritures_simultanees) if ecritures_simultanees > 0 else nullcontext()
        )
        self.conflits = 0
        self.conflits_persistants = 0
        self.trousseau: Trousseau
        super().__init__(env=env)
        if isinstance(self.trousseau, TrousseauPostgres):
            self.trousseau.creer_tables()
        if isinstance(self.recorder, RecorderChaine):
            self.recorder.trousseau = self.trousseau

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
        self, contexte: Contexte, *aggregats: Aggregate | None, **ecritures: Any
    ) -> list[Recording[UUID]]:
        """Save the aggregates' new events in one statement, each stamped with who, when, why.

        `ecritures` go into the same transaction (`store.chaine.Groupe`): `versions` of aggregates
        the command read without changing, its `idempotence` row and answer, the read rows
        (`lignes`) it writes."""
        audit = contexte.audit(self.horloge())
        for aggregat in aggregats:
            if aggregat is not None:
                for evenement in aggregat.pending_events:
                    object.__setattr__(evenement, "audit", audit)
        enregistrements = self.save(*aggregats, **ecritures)
        if enregistrements:
            self._dernieres.position = enregistrements[-1].notification.id
        return enregistrements

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Key rows left by a save that failed while mapping belong to no save.
        self.trousseau.abandonner_en_attente()
        return super()._record(processing_event)

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

    def lire(self, cls: type[A], aggregat_id: UUID) -> A:
        """An aggregate for reading only (the caller must not change it): kept once loaded, and
        checked with one query for events recorded since, by this process or another."""
        with self._verrou_lus:
            connu = self._lus.get(aggregat_id)
            if connu is not None:
                self._lus.move_to_end(aggregat_id)
        if isinstance(connu, cls) and not self.recorder.select_events(aggregat_id, gt=connu.version, limit=1):
            return connu
        aggregat = self.charger(cls, aggregat_id)
        with self._verrou_lus:
            self._lus[aggregat_id] = aggregat
            while len(self._lus) > AGREGATS_LUS_MAX:
                self._lus.popitem(last=False)
        return aggregat

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
