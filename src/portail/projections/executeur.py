"""The projection runner: follows the event log and applies pages of events to the read models,
moving its tracking position in the same transaction (exactly once, in log order)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

import structlog
from eventsourcing.persistence import MapperDeserialisationError, Notification

from portail.memoire import TasGeleParPage, sans_collecte
from portail.projections import brouillons, vues
from portail.projections.brouillons import copie_garde
from portail.projections.evenements_lus import REDUCTIONS, REDUCTIONS_REJEU, Reduction
from portail.projections.lot import Lot, Reperes
from portail.store import lecture
from portail.store.ecoute import REGROUPEMENT_JOURNAL, SECURITE, Ecoute, canal_journal, canal_vues
from portail.store.pages import PagesJournal
from portail.store.pliage import TAILLE_PLIS, Pliage

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, Mapper, TrackingRecorder
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

log = structlog.get_logger("portail.projections")

REPOS_S = 1.0
"""Seconds without an event applied before the runner counts as at rest (`Projecteur.occupe`)."""

NOM = "principal"
BROUILLONS_A_REFAIRE = "brouillons_a_refaire"
BROUILLONS_PAR_TRANSACTION = 2_000
"""Family-months of a rebuild's drafts written per transaction."""
"""Present while a rebuild has not yet written the drafts."""
CIBLE_DEMARRAGE = "cible_demarrage"
"""Present while a runner that started (or a rebuild) has not yet applied the log as it found it
then; its position is that last log position. `/ready` answers 503 while it is there."""
TOPICS_SUIVIS = frozenset(vues.TOPICS)


class Journal(Protocol):
    """What the runner needs of the event-sourced application (`Portail`, which calls the inline
    projections of this package: typed here by its shape, the package imports no application)."""

    @property
    def factory(self) -> InfrastructureFactory[TrackingRecorder]: ...

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...

    def completer_index_journal(self) -> int: ...


class _PositionDepassee(Exception):
    """Another runner moved the tracking position first."""


def creer_vues(datastore: PostgresDatastore) -> int:
    """Create the read-model tables and the tracking row if missing; return the tracking position.
    An `api` process reads these tables without running the projections itself."""
    schema = datastore.schema
    with datastore.transaction(commit=True) as curs:
        # A runner's page takes its tracking row first, then the tables it writes. Taking that
        # row before the tables' statements here (an `ALTER TABLE … IF NOT EXISTS` locks its table
        # even when there is nothing to add) makes a process that starts during a page wait for
        # the page, and the next page wait for this transaction, rather than each holding what the
        # other waits for: PostgreSQL broke that deadlock by cancelling the runner's page.
        curs.execute("SELECT to_regclass(%s) IS NOT NULL AS existe", (f"{schema}.proj_tracking",))
        existe = curs.fetchone()
        if existe is not None and existe["existe"]:
            curs.execute(f"SELECT 1 FROM {schema}.proj_tracking WHERE nom = %s FOR UPDATE", (NOM,))
        for instruction in [*vues.ddl(schema), *brouillons.ddl(schema)]:
            curs.execute(instruction)
        curs.execute(
            f"INSERT INTO {schema}.proj_tracking (nom, position) VALUES (%s, 0) ON CONFLICT DO NOTHING",
            (NOM,),
        )
        curs.execute(f"SELECT position FROM {schema}.proj_tracking WHERE nom = %s", (NOM,))
        ligne = curs.fetchone()
    assert ligne is not None
    return int(ligne["position"])


class Projecteur:
    def __init__(self, portail: Journal, taille_page: int = 1000, familles_pliees: int = TAILLE_PLIS) -> None:
        self.portail = portail
        self.taille_page = taille_page
        datastore: PostgresDatastore = portail.factory.datastore  # type: ignore[attr-defined]
        self._ds = datastore
        self.schema = datastore.schema
        self.canal = canal_vues(self.schema)
        self._position: int = creer_vues(datastore)
        self._condition = threading.Condition()
        self._reveil = threading.Event()
        self._arret = threading.Event()
        self._verrou_application = threading.Lock()
        self._tas: TasGeleParPage | None = None
        self._dernier_travail = time.monotonic()
        """When a catch-up last applied something (`occupe`)."""
        self._fil: threading.Thread | None = None
        self._index_complete = False
        self.ecoute = Ecoute(
            datastore,
            [canal_journal(self._recorder().events_table_name)],
            lambda _charge: self._reveil.set(),
            "portail-projections",
            regroupement=REGROUPEMENT_JOURNAL,
        )
        self.brouillons = brouillons.Brouillons(
            self.schema,
            Pliage(datastore, portail.mapper, self._recorder().events_table_name),
            familles_pliees,
        )
        self._reperes = Reperes()
        # True when a rebuild stopped before its drafts were written: all are written again.
        self._differer_brouillons = self._rebuild_interrompu()
        # Folding the drafts' facts reads the whole log: the first catch-up does it, while
        # `/ready` already answers (503) and the start target below is recorded.
        self._faits_a_reprendre = True
        self._cible = 0
        self._pret = False
        self._noter_cible()

    def _noter_cible(self, curs: Any = None) -> None:
        """Record the last log position as this runner's start target, for `/ready`."""
        self._cible = self._recorder().max_notification_id() or 0
        self._pret = False
        instruction = (
            f"INSERT INTO {self.schema}.proj_tracking (nom, position) VALUES (%s, %s) "
            "ON CONFLICT (nom) DO UPDATE SET position = GREATEST(proj_tracking.position, excluded.position)"
        )
        if curs is not None:
            curs.execute(instruction, (CIBLE_DEMARRAGE, self._cible))
            return
        with self._ds.transaction(commit=True) as curs_propre:
            curs_propre.execute(instruction, (CIBLE_DEMARRAGE, self._cible))

    def _effacer_cible(self, curs: Any, position: int) -> None:
        """The views include the log up to `position`: a start target not beyond it goes."""
        curs.execute(
            f"DELETE FROM {self.schema}.proj_tracking WHERE nom = %s AND position <= %s",
            (CIBLE_DEMARRAGE, position),
        )

    def _marquer_pret(self) -> None:
        if not self._pret:
            self._pret = True
            log.info("projections_a_jour", position=self._position, cible=self._cible)

    def pret(self) -> bool:
        """This runner has applied the log as it found it at its start (or its rebuild's)."""
        return self._pret

    def _rebuild_interrompu(self) -> bool:
        requete = f"SELECT 1 FROM {self.schema}.proj_tracking WHERE nom = %s"
        return lecture.ligne(self._ds, requete, (BROUILLONS_A_REFAIRE,)) is not None

    def _ecrire_brouillons_differes(self) -> None:
        """After a rebuild's last page: every draft of the commune, priced once, about
        `BROUILLONS_PAR_TRANSACTION` family-months at a time, each batch written in a transaction
        of its own once the next one is priced (so that the last one is known, and no transaction
        waits for Python); pricing them all first held the whole commune's lines in memory (2.3 GB
        at 10,000 children). The marker goes with the last batch, so an interruption prices them
        all again, and until then a campaign folds the log instead of summing them."""
        lots = self.brouillons.calculer_par_lots(self._position, BROUILLONS_PAR_TRANSACTION)
        with sans_collecte():
            lot: brouillons.Calcules | None = next(lots, brouillons.Calcules())
        while lot is not None:
            colonnes = lot.colonnes()
            with sans_collecte():
                suivant = next(lots, None)
            with self._ds.transaction(commit=True) as curs:
                self.brouillons.ecrire_colonnes(curs, lot.touches, lot.effaces, colonnes)
                if suivant is None:
                    curs.execute(
                        f"DELETE FROM {self.schema}.proj_tracking WHERE nom = %s", (BROUILLONS_A_REFAIRE,)
                    )
            lot = suivant
        self._differer_brouillons = False

    def _reprendre_faits(self) -> None:
        """The drafts' commune facts (parameters, accueils), folded again up to the tracking
        position; the families' facts are folded when they are priced."""
        self._faits_a_reprendre = False
        self.brouillons.reprendre(self._position)
        # Deferred drafts are no longer known page by page once the facts are folded again; drafts
        # written before they carried a digest are all priced again.
        self.brouillons.tout = self._differer_brouillons or self._brouillons_sans_empreinte()

    def _brouillons_sans_empreinte(self) -> bool:
        requete = f"SELECT 1 FROM {self.schema}.proj_brouillons WHERE empreinte IS NULL LIMIT 1"
        return lecture.ligne(self._ds, requete) is not None

    @property
    def position(self) -> int:
        return self._position

    @property
    def en_marche(self) -> bool:
        """Catching up in its own thread (`demarrer`)."""
        return self._fil is not None and self._fil.is_alive() and not self._arret.is_set()

    def _recorder(self) -> PostgresApplicationRecorder:
        return self.portail.recorder  # type: ignore[return-value]

    def rattraper(
        self, progression: Callable[[int], None] | None = None, *, brouillons_differes: bool = True
    ) -> int:
        """Apply every event after the tracking position; return how many were read. At the end
        of the log, drafts left by a rebuild are priced, unless `brouillons_differes` is false."""
        lus = 0
        with self._verrou_application:
            if not self._index_complete:
                # Events written before the auditors' index became columns of the log.
                self.portail.completer_index_journal()
                self._index_complete = True
            if self._faits_a_reprendre:
                self._reprendre_faits()
            pages: PagesJournal | None = None
            try:
                while True:
                    if self._arret.is_set() or self._faits_a_reprendre:
                        # Stopping: the page under way was committed, the rest waits for the next start.
                        return lus
                    if pages is None:
                        pages = PagesJournal(self._lire_page, self._position, self.taille_page)
                    page = next(pages, None)
                    if page is None:
                        if self._differer_brouillons:
                            if not brouillons_differes:
                                return lus
                            self._ecrire_brouillons_differes()
                        if not self._pret and self._position >= self._cible:
                            with self._ds.transaction(commit=True) as curs:
                                self._effacer_cible(curs, self._position)
                            self._marquer_pret()
                        return lus
                    atteint = not self._pret and page[-1].id >= self._cible and not self._differer_brouillons
                    if not self._appliquer_page(page):
                        # Another runner moved the position first: reread from where it stands
                        # (the page read ahead follows a position that is no longer ours).
                        pages.fermer()
                        pages = None
                        continue
                    lus += len(page)
                    with self._condition:
                        self._position = page[-1].id
                        if atteint:
                            self._marquer_pret()
                        self._condition.notify_all()
                    if progression is not None:
                        progression(len(page))
            finally:
                if pages is not None:
                    pages.fermer()

    def _lire_page(self, apres: int, taille: int) -> Sequence[Notification]:
        page: Sequence[Notification] = self._recorder().select_notifications(
            start=apres, limit=taille, inclusive_of_start=False
        )
        return page

    def _appliquer_page(self, page: Sequence[Notification]) -> bool:
        """Decode the page, fold the drafts' facts, and commit its read-model changes with the
        tracking position; False if another runner moved the position first (nothing written).
        A page allocates by the hundred thousand: no cyclic collection until it is done
        (`portail.memoire`)."""
        with sans_collecte(geler=self._tas is not None):
            evenements = self._decoder_page(page)
            # The drafts' facts and prices are computed before the page's transaction, which
            # must not stay idle while Python works; a page that does not commit folds them again.
            for notification, evenement in evenements:
                if notification.topic.startswith(brouillons.PREFIXES):
                    self.brouillons.suivre(evenement)
            calcules = None if self._differer_brouillons else self.brouillons.calculer(page[-1].id)
            colonnes = calcules.colonnes() if calcules is not None else ()
            try:
                with self._ds.transaction(commit=True) as curs:
                    # Moving the position only from where this runner stands guards against a
                    # second runner on the same database: the loser rolls back and rereads it.
                    curs.execute(
                        f"UPDATE {self.schema}.proj_tracking SET position = %s WHERE nom = %s AND position = %s",
                        (page[-1].id, NOM, self._position),
                    )
                    if curs.rowcount != 1:
                        raise _PositionDepassee
                    if calcules is not None:
                        self.brouillons.ecrire_colonnes(curs, calcules.touches, calcules.effaces, colonnes)
                        # A start target reached goes: this runner's, or that of one that
                        # started since and still folds (the views are there all the same).
                        self._effacer_cible(curs, page[-1].id)
                    # Last: the read rows commands also write are locked from here to the commit.
                    self._appliquer(curs, evenements)
                    # Delivered at commit: an `api` process's read-your-writes wait wakes.
                    curs.execute("SELECT pg_notify(%s, %s)", (self.canal, str(page[-1].id)))
            except _PositionDepassee:
                self._relire_position()
                self._reprendre_faits()
                return False
            except Exception:
                # The facts folded from a page that did not commit would be ahead of the log.
                self._reprendre_faits()
                raise
        return True

    def _relire_position(self) -> None:
        ligne = lecture.ligne(
            self._ds, f"SELECT position FROM {self.schema}.proj_tracking WHERE nom = %s", (NOM,)
        )
        assert ligne is not None
        with self._condition:
            self._position = ligne["position"]
            self._condition.notify_all()

    def _decoder(self, notification: Any, reductions: dict[str, Reduction[Any]] = REDUCTIONS) -> Any | None:
        """The event as the read models read it: whole, or reduced (`evenements_lus`)."""
        reduction = reductions.get(notification.topic)
        if reduction is not None:
            lu = reduction.lire(notification)
            if lu is not None:
                return lu
        try:
            evenement = self.portail.mapper.to_domain_event(notification)
        except MapperDeserialisationError:
            # An altered record must not stop every read model; the audit chain reports it.
            log.error("evenement_illisible", position=notification.id, topic=notification.topic)
            return None
        return evenement if reduction is None else reduction.reduire(evenement)

    def _decoder_page(self, page: Sequence[Notification]) -> list[tuple[Any, Any]]:
        """The page's readable events that a read model or the drafts follow, each with its
        notification (the others are not decoded)."""
        evenements = []
        for notification in page:
            if notification.topic in TOPICS_SUIVIS or notification.topic.startswith(brouillons.PREFIXES):
                evenement = self._decoder(notification)
                if evenement is not None:
                    evenements.append((notification, evenement))
        return evenements

    def _appliquer(self, curs: Any, evenements: list[tuple[Any, Any]]) -> None:
        """Fold the page's events in memory in log order, then write what they changed: one
        statement per read model rather than one or more per event."""
        lot = Lot(self.schema, self._reperes)
        suivis = [e for n, e in evenements if n.topic in TOPICS_SUIVIS]
        vues.preparer(curs, lot, suivis)
        # Pipeline mode: the page's statements are sent without waiting for each answer.
        with curs.connection.pipeline():
            for notification, evenement in evenements:
                if notification.topic in TOPICS_SUIVIS:
                    vues.GESTIONNAIRES[type(evenement)](lot, evenement)
            lot.ecrire(curs)

    def reconstruire(
        self, progression: Callable[[int], None] | None = None, *, brouillons: bool = True
    ) -> int:
        """Empty the read models and replay the whole log into them. With `brouillons` false, the
        drafts are left to price (each family-month once) to the runner's next catch-up: the
        replay itself only folds their facts."""
        with self._verrou_application:
            with self._ds.transaction(commit=True) as curs:
                for table in (*vues.TABLES, "proj_brouillons"):
                    curs.execute(f"TRUNCATE {self.schema}.{table}")
                # Campaigns' copies stay (they are what the drafts were at their positions).
                curs.execute(
                    f"DELETE FROM {self.schema}.proj_lignes_facture AS c"
                    f" WHERE NOT {copie_garde(self.schema, 'c')}"
                )
                curs.execute(f"UPDATE {self.schema}.proj_tracking SET position = 0 WHERE nom = %s", (NOM,))
                # A family's drafts are priced once at the end rather than at every page that
                # touches it; this row says so to a runner that starts after an interruption.
                curs.execute(
                    f"INSERT INTO {self.schema}.proj_tracking (nom, position) VALUES (%s, 0) ON CONFLICT DO NOTHING",
                    (BROUILLONS_A_REFAIRE,),
                )
                # The views are empty until the replay is done: `/ready` says so.
                self._noter_cible(curs)
            with self._condition:
                self._position = 0
            self.brouillons.vider()
            # Every family's drafts are priced after the replay: the replay notes none.
            self.brouillons.tout = True
            self._faits_a_reprendre = False
            self._differer_brouillons = True
            relus = self._rejouer(progression)
        # What was appended during the replay, then the drafts: the incremental path.
        return relus + self.rattraper(progression, brouillons_differes=brouillons)

    def _rejouer(self, progression: Callable[[int], None] | None) -> int:
        """Fold the whole log in memory into one lot over the emptied tables, then write each
        read model once with COPY, with the tracking position, in one transaction: no row is read
        and no statement is sent page by page. An interruption leaves the views empty at position
        0 (`/ready` answers 503), and the next catch-up replays the log page by page. Returns the
        events read (0 if another runner moved the position first: the catch-up goes on from it)."""
        # The whole replay allocates by the million and frees nothing before its end.
        with sans_collecte():
            lot = Lot(self.schema, Reperes(), vide=True)
            try:
                lus, derniere = self._replier(lot, progression)
                ecrit = derniere > 0 and self._ecrire_replay(lot, derniere)
            except Exception:
                # Nothing written: the drafts' facts folded so far are ahead of the position.
                self._faits_a_reprendre = True
                raise
            reperes = lot.reperes
            # Freed by reference counting before the collector runs again: re-enabled with the
            # whole fold alive, its first collection walked it all (2.5 s at 10,000 children).
            del lot
        if not ecrit:
            return 0
        self._reperes = reperes
        with self._condition:
            self._position = derniere
            self._condition.notify_all()
        return lus

    def _replier(self, lot: Lot, progression: Callable[[int], None] | None) -> tuple[int, int]:
        """Events read and the last position, or (0, 0) if the process is asked to stop."""
        lus = 0
        derniere = 0
        gestionnaires = vues.GESTIONNAIRES
        with PagesJournal(self._lire_page, 0, self.taille_page) as pages:
            for page in pages:
                if self._arret.is_set():
                    # Nothing written: the facts folded so far are ahead of the position.
                    self._faits_a_reprendre = True
                    return 0, 0
                for notification in page:
                    topic = notification.topic
                    # The drafts need only the commune's facts (every family is priced after).
                    commune = topic.startswith(brouillons.PREFIXES_COMMUNE)
                    if not commune and topic not in TOPICS_SUIVIS:
                        continue
                    evenement = self._decoder(notification, REDUCTIONS_REJEU)
                    if evenement is None:
                        continue
                    if commune:
                        self.brouillons.suivre(evenement)
                    gestionnaire = gestionnaires.get(type(evenement))
                    if gestionnaire is not None:
                        gestionnaire(lot, evenement)
                lus += len(page)
                derniere = page[-1].id
                if progression is not None:
                    progression(len(page))
        return lus, derniere

    def _ecrire_replay(self, lot: Lot, derniere: int) -> bool:
        """False if another runner moved the position first (nothing written)."""
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"UPDATE {self.schema}.proj_tracking SET position = %s WHERE nom = %s AND position = 0",
                (derniere, NOM),
            )
            if curs.rowcount != 1:
                # Another runner replays page by page already: its rows stand.
                self.brouillons.vider()
                self._faits_a_reprendre = True
                self._relire_position()
                return False
            lot.copier(curs)
            curs.execute("SELECT pg_notify(%s, %s)", (self.canal, str(derniere)))
        return True

    # Running in the background

    def demarrer(self, tas: TasGeleParPage | None = None) -> None:
        """Catch up in a thread of its own, then again whenever a save's NOTIFY wakes it (and at
        least every `SECURITE` seconds, should a notification be lost). With `tas` (a process that
        runs only this, `portail worker`), what each page leaves alive is frozen, and collected
        when the log is caught up, at the pace `tas` sets."""
        self._tas = tas
        self._arret.clear()
        self.ecoute.demarrer()
        self._fil = threading.Thread(target=self._boucle, name="projections", daemon=True)
        self._fil.start()

    def arreter(self) -> None:
        self._arret.set()
        self._reveil.set()
        self.ecoute.arreter()
        if self._fil is not None:
            self._fil.join(timeout=5)
            self._fil = None

    def _boucle(self) -> None:
        while not self._arret.is_set():
            # Cleared before looking at the log: a save committed during the catch-up wakes it again.
            self._reveil.clear()
            lus = 0
            try:
                lus = self.rattraper()
                # Idle: the families the next bookings will price are folded ahead, a batch at a
                # time, so that a save's NOTIFY waits for one batch at most.
                while not self._reveil.is_set() and not self._arret.is_set() and self.plier_d_avance():
                    pass
                if self._tas is not None:
                    self._tas.au_repos(occupe=self.occupe(lus, time.monotonic()))
            except Exception:
                log.exception("projections_erreur")
            # After work, looked at again once it may count as rest (its collection then waits
            # `REPOS_S`, not `SECURITE`).
            self._reveil.wait(timeout=REPOS_S if lus and self._tas is not None else SECURITE)

    def occupe(self, lus: int, maintenant: float) -> bool:
        """Not at rest: a save is waiting, or a catch-up applied something less than `REPOS_S`
        ago (`lus`: what this one read). Between the pages of a steady stream of bookings the
        runner is often caught up: taken for rest, that made it collect its whole heap (the
        families it keeps folded) in the middle of a morning's bookings."""
        if lus:
            self._dernier_travail = maintenant
        return self._reveil.is_set() or maintenant - self._dernier_travail < REPOS_S

    def plier_d_avance(self) -> bool:
        """One batch of `Brouillons.plier_d_avance` at the applied position, once caught up;
        True while families remain."""
        with self._verrou_application, sans_collecte(geler=self._tas is not None):
            if not self._pret or self._differer_brouillons or self._faits_a_reprendre:
                return False
            return self.brouillons.plier_d_avance(self._position)

    def attendre(self, position: int, delai: float = 2.0) -> bool:
        """Read-your-writes: wait (bounded) until the read models include `position`."""
        if self._position >= position:
            return True
        self._reveil.set()
        with self._condition:
            return self._condition.wait_for(lambda: self._position >= position, timeout=delai)
