"""Parents' bookings, cancellations and absences, and the agents' pointage.

Each command checks its input, loads the child's planning, lets the domain decide
(`domain/reservation.py`: the rules live there, with the day capacities and the other children's
plannings loaded as it asks for them) and saves every aggregate changed in one transaction: either
every accepted item is recorded or none is. A concurrent writer makes the save fail on a version;
the command then runs again on fresh state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID

import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from portail.application.catalogue import ServiceCatalogue
from portail.application.contexte import Contexte
from portail.application.familles import ServiceFamilles
from portail.application.portail import TENTATIVES_CONFLIT, ConflitPersistant, Portail
from portail.application.verrous import Tenue, VerrouOccupe, VerrousParCle
from portail.domain.accueil import Accueil
from portail.domain.capacite import Capacite, OffreIndisponible
from portail.domain.enfant import Enfant
from portail.domain.erreurs import ErreurValidation, Introuvable
from portail.domain.famille import Famille
from portail.domain.planning import Planning
from portail.domain.regles.calendrier import Calendrier
from portail.domain.reservation import (
    DemandePointage,
    DemandeReservation,
    LieuOffre,
    Lot,
    Resultat,
    a_liberer,
    declarer_absence,
    pointer,
    recopie,
    unites_demandees,
    verifier_pointage,
)
from portail.store.lecture import LecteurAsync, LectureBloquante


class _Chargeur:
    """What a decision asks for, loaded for one attempt of one command."""

    def __init__(self, portail: Portail, accueil_id: UUID) -> None:
        self._portail = portail
        self._accueil_id = accueil_id
        self._capacites: dict[date, Capacite] = {}

    def capacite(self, jour: date) -> Capacite:
        """The day's Capacite: a copy of the one this process keeps (`Portail.repository`), so a
        command that fails leaves nothing half-changed behind."""
        if jour not in self._capacites:
            capacite_id = Capacite.id_pour(self._accueil_id, jour)
            try:
                self._capacites[jour] = self._portail.repository.get(capacite_id)
            except AggregateNotFoundError:
                self._capacites[jour] = Capacite(id=capacite_id, accueil_id=self._accueil_id, jour=jour)
        return self._capacites[jour]

    def planning(self, enfant_id: UUID) -> Planning:
        return self._portail.charger(Planning, Planning.id_pour(enfant_id, self._accueil_id))


def versions_lues(lot: Lot) -> list[tuple[UUID, int]]:
    """The aggregates the decision read and left as they were, at the versions it read: the save
    checks them as it checks those it changed. A child the day's waiting list promotes, whose
    planning, kept by this process, does not say it is waiting yet (another process put it there a
    moment ago), is left as it is by the promotion: without this check, the day would give the
    child a place its planning never records."""
    return [(a.id, a.version) for a in lot.agregats() if not a.pending_events]


def _avertisseur(boucle: asyncio.AbstractEventLoop, fini: asyncio.Future[None]) -> Callable[[], None]:
    """What the writer's thread calls once a save is finished: the awaiting command resumes."""

    def terminer() -> None:
        if not fini.done():
            fini.set_result(None)

    def avertir() -> None:
        # A loop closed meanwhile (the server stopping) has nobody awaiting any more.
        with contextlib.suppress(RuntimeError):
            boucle.call_soon_threadsafe(terminer)

    return avertir


class ServiceReservations:
    def __init__(
        self, portail: Portail, familles: ServiceFamilles, catalogue: ServiceCatalogue, calendrier: Calendrier
    ) -> None:
        self.portail = portail
        self.familles = familles
        self.catalogue = catalogue
        self.calendrier = calendrier
        self.verrous = VerrousParCle()
        self.sur_la_boucle = 0
        """Bookings served on the event loop (`reserver_sur_la_boucle`)."""
        self.en_fil: Counter[str] = Counter()
        """Bookings the loop sent to a worker thread, by why: `lecture` (something to read in the
        middle of the decision), `verrou` (a day's lock held by a thread), `residence`,
        `connexion` (cut off during the save)."""

    # Loading

    def _planning(self, enfant: Enfant, accueil_id: UUID) -> Planning:
        planning_id = Planning.id_pour(enfant.id, accueil_id)
        try:
            planning: Planning = self.portail.repository.get(planning_id)
        except AggregateNotFoundError:
            return Planning(
                id=planning_id, enfant_id=enfant.id, accueil_id=accueil_id, famille_id=enfant.famille_id
            )
        return planning

    def planning_existant(self, enfant_id: UUID, accueil_id: UUID) -> Planning | None:
        try:
            planning: Planning = self.portail.repository.get(Planning.id_pour(enfant_id, accueil_id))
        except AggregateNotFoundError:
            return None
        return planning

    def _lot(self, accueil: Accueil) -> Lot:
        chargeur = _Chargeur(self.portail, accueil.id)
        return Lot(accueil, self.calendrier, self.portail.horloge(), chargeur)

    def _enregistrer(self, contexte: Contexte, lot: Lot, reponse: object, tenue: Tenue) -> None:
        self.portail.enregistrer(
            contexte, *lot.agregats(), reponse=reponse, liberer=tenue.liberer, versions=versions_lues(lot)
        )

    def _capacites_touchees(self, accueil: Accueil, demandes: Sequence[DemandeReservation]) -> list[UUID]:
        """The days whose Capacite the command may change (units with a capacity): their locks."""
        unites = unites_demandees(accueil, [d.unite for d in demandes], "presences")
        jours = {d.jour for d, u in zip(demandes, unites, strict=True) if u.capacite is not None}
        return [Capacite.id_pour(accueil.id, jour) for jour in jours]

    def resident(self, famille_id: UUID) -> bool:
        parametres = self.catalogue.parametres_lus()
        if parametres is None:
            return True
        return parametres.commune.est_residente(self.portail.lire(Famille, famille_id).adresse)

    # Booking

    def reserver(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        demandes: Sequence[DemandeReservation],
    ) -> list[Resultat]:
        accueil = self.catalogue.accueil_demande(accueil_id)
        cles = self._capacites_touchees(accueil, demandes)
        # A family's first booking at an accueil reads the child and the planning, and the
        # family where its residence matters.
        selon_residence = accueil.selon_residence
        self.portail.precharger(
            enfant_id, *((famille_id,) if selon_residence else ()), Planning.id_pour(enfant_id, accueil.id)
        )
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)

        def commande() -> list[Resultat]:
            # What only this family's commands change is read before the days' locks: the
            # commands queued on the same days wait for the decisions, not for these reads.
            resident = self.resident(famille_id) if selon_residence else True
            planning = self._planning(enfant, accueil.id)
            with self.verrous.tenir(cles) as tenue:
                lot = self._lot(accueil)
                resultats = lot.reserver(enfant, planning, demandes, resident)
                self._enregistrer(contexte, lot, resultats, tenue)
                return resultats

        return self.portail.avec_reessais(commande)

    async def reserver_sur_la_boucle(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        demandes: Sequence[DemandeReservation],
        lecteur: LecteurAsync,
    ) -> tuple[list[Resultat], int] | None:
        """`reserver` without leaving the event loop: what the decision reads is read by awaited
        statements beforehand, the decision is made here, and the save, queued with the process's
        writer, is awaited. Returns the results and the log position a read of the runner's
        models must wait for (0: none, the booking's own rows committed with it). None, having
        saved nothing, when it must run in a worker thread instead: something to read in the
        middle of the decision, a day's lock held by a thread's command, a family whose
        residence the accueil asks about.

        Handing a request to a worker thread and back costs an api process more CPU than a
        booking's own decision (`performance.md`)."""
        portail = self.portail
        try:
            try:
                accueil = await self.catalogue.accueil_lu_async(accueil_id, lecteur)
            except Introuvable:
                raise ErreurValidation.sur("accueil_id", "accueil inconnu") from None
            if accueil.selon_residence:
                self.en_fil["residence"] += 1
                return None
            cles = self._capacites_touchees(accueil, demandes)
            planning_id = Planning.id_pour(enfant_id, accueil.id)
            # A child's first booking in this process: the child, its planning and the days in one
            # statement, not one for the child and another for the rest.
            await portail.precharger_async([enfant_id, planning_id, *cles], lecteur)
            enfant = await self.familles.enfant_lu_async(famille_id, enfant_id, lecteur)
            for tentative in range(TENTATIVES_CONFLIT):
                await portail.precharger_async([planning_id, *cles], lecteur)
                boucle = asyncio.get_running_loop()
                fini = boucle.create_future()
                with portail.sans_lecture():
                    planning = self._planning(enfant, accueil.id)
                    with self.verrous.tenir(cles, attendre=False) as tenue:
                        lot = self._lot(accueil)
                        resultats = lot.reserver(enfant, planning, demandes, True)
                        en_cours = portail.deposer(
                            contexte,
                            *lot.agregats(),
                            versions=versions_lues(lot),
                            reponse=resultats,
                            liberer=tenue.liberer,
                            avertir=_avertisseur(boucle, fini),
                        )
                await fini
                try:
                    enregistrements = await portail.achever(en_cours, contexte)
                except IntegrityError:
                    portail.conflits += 1
                    await asyncio.sleep(0.002 * (2**tentative))
                    continue
                except (InterfaceError, OperationalError, psycopg.InterfaceError, psycopg.OperationalError):
                    # The connection cut off during the save (a server restart): a worker thread
                    # decides again on what the log holds, and waits for the database if need be.
                    self.en_fil["connexion"] += 1
                    return None
                position = enregistrements[-1].notification.id if en_cours.attendre else 0
                self.sur_la_boucle += 1
                return resultats, position
        except LectureBloquante:
            self.en_fil["lecture"] += 1
            return None
        except VerrouOccupe:
            self.en_fil["verrou"] += 1
            return None
        portail.conflits_persistants += 1
        raise ConflitPersistant("Trop de modifications simultanées ; réessayez.")

    def recopier(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        semaine_du: date,
        jusqu_au: date,
    ) -> list[Resultat]:
        """Book, on every later week up to `jusqu_au`, the units reserved in the week from `semaine_du`."""
        if not date(2000, 1, 1) <= semaine_du <= jusqu_au <= date(2100, 12, 31):
            raise ErreurValidation.sur("jusqu_au", "doit suivre semaine_du, entre 2000 et 2100")
        if (jusqu_au - semaine_du).days > 400:
            raise ErreurValidation.sur("jusqu_au", "au plus un an de recopie")
        accueil = self.catalogue.accueil_demande(accueil_id)
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        demandes = recopie(self.planning_existant(enfant.id, accueil.id), semaine_du, jusqu_au)
        if not demandes:
            return []
        return self.reserver(contexte, famille_id, enfant_id, accueil_id, demandes)

    # Cancelling

    def annuler(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        demandes: Sequence[DemandeReservation],
        motif: str | None,
        *,
        sans_delai: bool = False,
    ) -> list[Resultat]:
        """`sans_delai`: the commune cancels (erasure): no deadline, nothing billed."""
        accueil = self.catalogue.accueil_demande(accueil_id)
        cles = self._capacites_touchees(accueil, demandes)
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)

        def commande() -> list[Resultat]:
            planning = self._planning(enfant, accueil.id)
            with self.verrous.tenir(cles) as tenue:
                lot = self._lot(accueil)
                resultats = lot.annuler(planning, demandes, motif, sans_delai=sans_delai)
                self._enregistrer(contexte, lot, resultats, tenue)
                return resultats

        return self.portail.avec_reessais(commande)

    def liberer_avenir(self, contexte: Contexte, famille_id: UUID, enfant_id: UUID, accueil_id: UUID) -> int:
        """Cancel, without charge, every booking and waiting-list entry from today on: the places
        go to the children waiting. Returns how many day-units were freed."""
        planning = self.planning_existant(enfant_id, accueil_id)
        if planning is None:
            return 0
        demandes = a_liberer(planning, self.familles.aujourd_hui())
        if demandes:
            self.annuler(contexte, famille_id, enfant_id, accueil_id, demandes, None, sans_delai=True)
        return len(demandes)

    # Offers

    def repondre_offre(
        self, contexte: Contexte, famille_id: UUID, offre_id: UUID, accepter: bool, lieu: LieuOffre
    ) -> Resultat:
        """Accept (the place becomes reserved) or refuse (it goes to the next child) an offer."""
        enfant = self.familles.enfant(famille_id, lieu.enfant_id, lecture=True)
        accueil = self.catalogue.accueil(lieu.accueil_id)

        def commande() -> Resultat | OffreIndisponible:
            with self.verrous.tenir([Capacite.id_pour(accueil.id, lieu.jour)]) as tenue:
                lot = self._lot(accueil)
                planning = self._planning(enfant, accueil.id)
                resultat = lot.repondre_offre(planning, offre_id, lieu.jour, lieu.unite, accepter)
                self._enregistrer(contexte, lot, resultat, tenue)
                return resultat

        resultat = self.portail.avec_reessais(commande)
        if isinstance(resultat, OffreIndisponible):
            raise resultat
        return resultat

    def expirer_offres(self, contexte: Contexte, accueil_id: UUID, jour: date) -> int:
        """Expire that day's offers whose time is up and offer the places to the next children in
        line, without waiting for a command to touch the day. Returns how many offers expired;
        records nothing when none has (run twice, or late, it does no harm)."""
        accueil = self.catalogue.accueil(accueil_id)

        def commande() -> int:
            try:
                capacite: Capacite = self.portail.repository.get(Capacite.id_pour(accueil.id, jour))
            except AggregateNotFoundError:
                return 0
            lot = self._lot(accueil)
            expirees = lot.expirer_offres(capacite)
            self.portail.enregistrer(contexte, *lot.agregats(), versions=versions_lues(lot))
            return expirees

        with self.verrous.tenir([Capacite.id_pour(accueil.id, jour)]):
            return self.portail.avec_reessais(commande)

    # Absences and pointage

    def declarer_absence(
        self,
        contexte: Contexte,
        famille_id: UUID,
        enfant_id: UUID,
        accueil_id: UUID,
        jour: date,
        codes: Sequence[str],
        motif: str,
        document_id: UUID | None,
    ) -> None:
        accueil = self.catalogue.accueil_demande(accueil_id)
        unites = unites_demandees(accueil, codes, "unites")
        enfant = self.familles.enfant(famille_id, enfant_id, lecture=True)
        if not motif.strip():
            raise ErreurValidation.sur("motif", "indiquer le motif de l'absence")

        def commande() -> None:
            planning = self._planning(enfant, accueil.id)
            maintenant = self.portail.horloge()
            declarer_absence(planning, jour, unites, motif.strip()[:500], document_id, maintenant)
            self.portail.enregistrer(contexte, planning)

        self.portail.avec_reessais(commande)

    def pointer(
        self, contexte: Contexte, accueil_id: UUID, jour: date, pointages: Sequence[DemandePointage]
    ) -> None:
        """Record who came: present, absent, or present without a booking; never a future day."""
        accueil = self.catalogue.accueil_demande(accueil_id)
        verifier_pointage(accueil, jour, self.familles.aujourd_hui(), pointages, self.calendrier)
        enfants: dict[UUID, Enfant] = {}
        for i, p in enumerate(pointages):
            try:
                enfants[p.enfant_id] = self.portail.charger(Enfant, p.enfant_id)
            except Introuvable:
                raise ErreurValidation.sur(f"pointages[{i}].enfant_id", "enfant inconnu") from None

        def commande() -> None:
            plannings = pointer(
                jour, pointages, lambda enfant_id: self._planning(enfants[enfant_id], accueil.id)
            )
            self.portail.enregistrer(contexte, *plannings)

        self.portail.avec_reessais(commande)
