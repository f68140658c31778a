"""The composition root: every process (`serve`, `api`, `worker`, `scheduler`, the CLI's
commands, the benchmark, the tests) builds its services here, and only here are the use cases
handed to the packages that must not import them: the read models get a way to read an accueil,
the scheduled jobs narrow ports onto the use-case services (`portail.jobs.ports`)."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from portail import secrets_locaux
from portail.application.audit import ServiceAudit
from portail.application.calendriers import calendrier_officiel
from portail.application.catalogue import ServiceCatalogue
from portail.application.comptes import EtatSession, LimitesConnexion, ServiceComptes
from portail.application.contexte import Contexte, Horloge
from portail.application.courriel import Courrier, CourrierDossier, CourrierSmtp
from portail.application.documents import ServiceDocuments
from portail.application.effacement import effacer_famille
from portail.application.facturation import ServiceFacturation
from portail.application.familles import ServiceFamilles
from portail.application.jetons import Jetons
from portail.application.mots_de_passe import Hacheur
from portail.application.paiement_carte import PrestataireTest
from portail.application.portail import Portail
from portail.application.reservations import ServiceReservations
from portail.application.sepa import prelevements, representation
from portail.domain.compte import Compte
from portail.jobs.marqueurs import Marqueurs
from portail.jobs.outils import Outils
from portail.jobs.planificateur import TACHES, Planificateur, Tache
from portail.memoire import geler_le_tas
from portail.projections.echeances import Echeances
from portail.projections.executeur import Projecteur, creer_vues
from portail.projections.lectures_regie import LecturesRegie
from portail.projections.requetes import Lectures
from portail.projections.suivi import SuiviPosition, SuiviVues
from portail.settings import Settings
from portail.store.idempotence import Idempotence
from portail.store.invalidation import Invalidations
from portail.store.lecture import LecteurAsync
from portail.store.securite import EchecsConnexionPostgres, Revocations, RevocationsPostgres

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from portail.store.database import BaseDeDonnees

log = structlog.get_logger("portail")


DELAI_BROUILLONS = 30.0
"""Seconds a campaign waits for the drafts to catch up with the log before folding it instead."""


@dataclass
class Services:
    settings: Settings
    portail: Portail
    comptes: ServiceComptes
    familles: ServiceFamilles
    jetons: Jetons
    revocations: Revocations
    catalogue: ServiceCatalogue
    reservations: ServiceReservations
    lectures: Lectures
    projecteur: Projecteur | None
    """The projection runner, in the processes that run it (`serve`, `worker`); None in `api`."""
    suivi: SuiviVues
    """Where the read models stand: the runner itself, or the worker's tracking row."""
    idempotence: Idempotence
    facturation: ServiceFacturation
    prestataire_carte: PrestataireTest | None
    audit: ServiceAudit
    documents: ServiceDocuments
    lectures_regie: LecturesRegie | None = None
    """The régie's journal, receipts and accounting entries (set by `construire_services`)."""
    lecteur_async: LecteurAsync | None = None
    """The event loop's reads (a parent's month), opened by the HTTP app's lifespan; None
    elsewhere: the same reads then go through a worker thread."""

    def demarrer_sessions(self) -> None:
        if self.comptes.sessions is not None:
            self.comptes.sessions.demarrer()

    def arreter_sessions(self) -> None:
        if self.comptes.sessions is not None:
            self.comptes.sessions.arreter()

    def apres_ecriture(self) -> None:
        """Read-your-writes: the caller's next read already shows what this thread just saved."""
        self.suivi.attendre(self.portail.derniere_position())

    def apres_reservation(self) -> None:
        """Read-your-writes for the booking routes: their calendar and counter rows committed with
        them; only a save that also changed the waiting-list offers waits for the runner."""
        if self.portail.attend_le_projecteur():
            self.apres_ecriture()


def construire_services(
    settings: Settings, base: BaseDeDonnees, horloge: Horloge, *, projections: bool = True
) -> Services:
    """`projections=False` (an `api` process): no runner here; the read-your-writes wait watches
    the position a `worker` process commits."""
    with base.verrou_creation():
        services = _construire(settings, base, horloge)
    if projections:
        # Folding the drafts' facts can take a while: outside the lock other processes wait on.
        services.projecteur = Projecteur(services.portail, familles_pliees=settings.familles_pliees)
        services.suivi = services.projecteur
    # A campaign as of now is the sum of the drafts once they include the log's last position.
    services.facturation.attendre_vues = lambda position: _attendre_brouillons(services, position)
    return services


def _attendre_brouillons(services: Services, position: int) -> bool:
    """A runner of this process that is not running (a command, a test) would not catch up: the
    campaign is folded from the log at once."""
    if services.projecteur is not None and not services.projecteur.en_marche:
        return services.projecteur.position >= position
    return services.suivi.attendre(position, DELAI_BROUILLONS)


def _construire(settings: Settings, base: BaseDeDonnees, horloge: Horloge) -> Services:
    """The services of an `api` process; every table is created here."""
    cle = secrets_locaux.cle_maitre(settings.master_key, settings.data_dir)
    portail = Portail(
        env=base.env_eventsourcing(settings.pool_size, settings.pool_max_overflow),
        cle_maitre=cle,
        horloge=horloge,
        ecritures_simultanees=settings.ecritures_simultanees,
    )
    datastore = portail.factory.datastore  # type: ignore[attr-defined]
    revocations = RevocationsPostgres(datastore)
    sessions: Invalidations[EtatSession] = Invalidations(
        datastore,
        portail.recorder.events_table_name,  # type: ignore[attr-defined]
        revocations,
        prefixe_topics=Compte.TOPIC + ".",
    )
    courrier: Courrier = (
        CourrierSmtp(settings.smtp_url, settings.mail_from)
        if settings.smtp_url
        else CourrierDossier(settings.dossier_courriels, settings.mail_from)
    )
    comptes = ServiceComptes(
        portail,
        Hacheur(settings.argon2_memoire_kib, settings.argon2_iterations),
        EchecsConnexionPostgres(datastore),
        LimitesConnexion(
            settings.limite_echecs_compte,
            settings.limite_echecs_ip,
            timedelta(minutes=settings.fenetre_echecs_minutes),
            settings.limite_demandes_adresse,
            settings.limite_demandes_ip,
        ),
        courrier,
        settings.url_publique,
        secret=hmac.new(cle, b"portail:index", hashlib.sha256).digest(),
        sessions=sessions,
    )

    def prechauffer(maximum: int) -> int:
        gardes = comptes.prechauffer_sessions(maximum=maximum)
        debut = time.monotonic()
        enfants = familles.lire_enfants_d_avance(continuer=sessions.fiable)
        log.info("enfants_lus_d_avance", enfants=enfants, secondes=round(time.monotonic() - debut, 2))
        # Kept until the log says otherwise: out of the collector's way, as the start's objects.
        geler_le_tas()
        return gardes

    sessions.prechauffage = prechauffer
    familles = ServiceFamilles(portail)
    catalogue = ServiceCatalogue(portail)
    calendrier = calendrier_officiel()
    creer_vues(datastore)
    return Services(
        settings=settings,
        portail=portail,
        comptes=comptes,
        familles=familles,
        jetons=Jetons(secrets_locaux.secret_sessions(settings.secret_key, settings.data_dir)),
        revocations=sessions,
        catalogue=catalogue,
        reservations=ServiceReservations(portail, familles, catalogue, calendrier),
        lectures=Lectures(
            datastore,
            portail.recorder.events_table_name,  # type: ignore[attr-defined]
            catalogue.accueil_lu,
            calendrier,
        ),
        projecteur=None,
        suivi=SuiviPosition(datastore),
        idempotence=Idempotence(datastore),
        facturation=ServiceFacturation(portail),
        prestataire_carte=PrestataireTest(settings.url_publique)
        if settings.paiement_carte == "test"
        else None,
        audit=ServiceAudit(portail),
        documents=ServiceDocuments(portail, familles, settings.data_dir / "documents"),
        lectures_regie=LecturesRegie(datastore),
    )


def outils_des_taches(services: Services) -> Outils:
    """What the scheduled jobs act through: the use-case services behind narrow ports, and the
    table of what they have done (created here if missing)."""
    datastore = services.portail.factory.datastore  # type: ignore[attr-defined]

    def effacer(contexte: Contexte, famille_id: UUID, liberer: Callable[[UUID], object]) -> object:
        return effacer_famille(contexte, services.familles, services.comptes, famille_id, liberer)

    return Outils(
        portail=services.portail,
        reglages=services.settings,
        marqueurs=Marqueurs(datastore),
        echeances=Echeances(datastore),
        lectures=services.lectures,
        calendrier=services.reservations.calendrier,
        courrier=services.comptes.courrier,
        reservations=services.reservations,
        facturation=services.facturation,
        fichier_prelevements=lambda campagne_id, le: prelevements(services.facturation, campagne_id, le),
        fichier_representation=lambda famille_id, reglement_id, le: representation(
            services.facturation, famille_id, reglement_id, le
        ),
        effacer_famille=effacer,
    )


def construire_planificateur(
    services: Services, base: BaseDeDonnees, taches: tuple[Tache, ...] = TACHES
) -> Planificateur:
    """The scheduler of a `scheduler` (or `serve`) process, its jobs given their ports."""
    return Planificateur(outils_des_taches(services), base, taches)
