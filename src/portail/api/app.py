"""The Litestar application factory."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio.to_thread
import structlog
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from portail import journal, secrets_locaux
from portail.api.auth import CHEMINS_PUBLICS, AuthentificationMiddleware, Jetons
from portail.api.controllers.acces import AccesController
from portail.api.controllers.audit import AuditController
from portail.api.controllers.documents import (
    ActualitesController,
    DocumentsAgentController,
    DocumentsController,
)
from portail.api.controllers.factures import (
    AttestationsController,
    CampagnesController,
    FacturesController,
    PaiementsController,
    ReglementsController,
    SoldeController,
)
from portail.api.controllers.famille import (
    EnfantsController,
    FoyerController,
    ProfilController,
    QuotientPrelevementController,
)
from portail.api.controllers.offre import AccueilsController, OffreController, TarifsController
from portail.api.controllers.operations import health, metrics, ready
from portail.api.controllers.personnel import AdminController, RegieController
from portail.api.controllers.planning import OffresController, PlanningController, PointageController
from portail.api.etat import Services
from portail.api.intergiciels import correlation, entetes_reponse
from portail.api.metriques import Metriques
from portail.api.problemes import GESTIONNAIRES
from portail.application.audit import ServiceAudit
from portail.application.calendriers import calendrier_officiel
from portail.application.comptes import EtatSession, LimitesConnexion, ServiceComptes
from portail.application.contexte import Horloge, horloge_systeme
from portail.application.courriel import Courrier, CourrierDossier, CourrierSmtp
from portail.application.documents import ServiceDocuments
from portail.application.facturation import ServiceFacturation
from portail.application.familles import ServiceFamilles
from portail.application.mots_de_passe import Hacheur
from portail.application.offre import ServiceOffre
from portail.application.paiement_carte import PrestataireTest
from portail.application.portail import Portail
from portail.application.reservations import ServiceReservations
from portail.domain.compte import Compte
from portail.jobs.planificateur import Planificateur
from portail.projections.executeur import Projecteur, creer_vues
from portail.projections.requetes import Lectures
from portail.projections.suivi import SuiviPosition
from portail.settings import Settings
from portail.store.database import BaseDeDonnees
from portail.store.idempotence import Idempotence
from portail.store.invalidation import Invalidations
from portail.store.securite import EchecsConnexionPostgres, RevocationsPostgres

log = structlog.get_logger("portail")


def construire_services(
    settings: Settings, base: BaseDeDonnees, horloge: Horloge, *, projections: bool = True
) -> Services:
    """`projections=False` (an `api` process): no runner here; the read-your-writes wait watches
    the position a `worker` process commits."""
    with base.verrou_creation():
        services = _construire(settings, base, horloge)
    if projections:
        # Folding the drafts' facts can take a while: outside the lock other processes wait on.
        services.projecteur = Projecteur(services.portail)
        services.suivi = services.projecteur
    return services


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
        ),
        courrier,
        settings.url_publique,
        secret=hmac.new(cle, b"portail:index", hashlib.sha256).digest(),
        sessions=sessions,
    )
    familles = ServiceFamilles(portail)
    offre = ServiceOffre(portail)
    calendrier = calendrier_officiel()
    creer_vues(datastore)
    return Services(
        settings=settings,
        portail=portail,
        comptes=comptes,
        familles=familles,
        jetons=Jetons(secrets_locaux.secret_sessions(settings.secret_key, settings.data_dir)),
        revocations=sessions,
        offre=offre,
        reservations=ServiceReservations(portail, familles, offre, calendrier),
        lectures=Lectures(datastore, offre, calendrier),
        projecteur=None,
        suivi=SuiviPosition(datastore),
        idempotence=Idempotence(datastore),
        facturation=ServiceFacturation(portail),
        prestataire_carte=PrestataireTest(settings.url_publique)
        if settings.paiement_carte == "test"
        else None,
        audit=ServiceAudit(portail),
        documents=ServiceDocuments(portail, familles, settings.data_dir / "documents"),
    )


def create_app(
    settings: Settings | None = None,
    *,
    horloge: Horloge = horloge_systeme,
    base: BaseDeDonnees | None = None,
    projections: bool = True,
    planificateur: bool = False,
) -> Litestar:
    """Build the app; the database and services start in the lifespan, never at import.

    `portail serve` runs the projections and the scheduler in this process too; `portail api`
    runs neither (a `worker` and a `scheduler` process do)."""
    reglages = settings or Settings.depuis_environnement()
    journal.configurer(reglages.log_format, reglages.log_level)

    @asynccontextmanager
    async def cycle_de_vie(app: Litestar) -> AsyncIterator[None]:
        base_ouverte = (
            base if base is not None else await anyio.to_thread.run_sync(BaseDeDonnees.ouvrir, reglages)
        )
        services = await anyio.to_thread.run_sync(
            lambda: construire_services(reglages, base_ouverte, horloge, projections=projections)
        )
        app.state.services = services
        app.state.metriques.suivre(services)
        await anyio.to_thread.run_sync(services.portail.ecouter_journal)
        # The runner catches up in its own thread: the app answers meanwhile, `/ready` with 503.
        services.suivi.demarrer()
        # Sessions are checked in memory once this process listens for their invalidations.
        services.demarrer_sessions()
        taches = Planificateur(services, base_ouverte) if planificateur else None
        if taches is not None:
            taches.demarrer()
        if reglages.admin_email and reglages.admin_password:
            cree = await anyio.to_thread.run_sync(
                services.comptes.assurer_admin, reglages.admin_email, reglages.admin_password
            )
            if cree:
                log.info("administrateur_cree", compte_id=str(cree))
        log.info("portail_pret")
        try:
            yield
        finally:
            if taches is not None:
                await anyio.to_thread.run_sync(taches.arreter)
            services.suivi.arreter()
            services.arreter_sessions()
            services.portail.close()
            if base is None:
                await anyio.to_thread.run_sync(base_ouverte.fermer)

    limite = RateLimitConfig(
        rate_limit=("minute", reglages.requetes_par_minute_ip),
        exclude=["^/health", "^/ready", "^/metrics", "^/schema"],
    )
    authentification = DefineMiddleware(
        AuthentificationMiddleware, exclude=[f"^{chemin}" for chemin in CHEMINS_PUBLICS]
    )
    application = Litestar(
        route_handlers=[
            health,
            ready,
            metrics,
            AccesController,
            ProfilController,
            FoyerController,
            EnfantsController,
            QuotientPrelevementController,
            RegieController,
            AdminController,
            OffreController,
            AccueilsController,
            PlanningController,
            PointageController,
            OffresController,
            TarifsController,
            CampagnesController,
            FacturesController,
            ReglementsController,
            SoldeController,
            PaiementsController,
            AttestationsController,
            AuditController,
            DocumentsController,
            DocumentsAgentController,
            ActualitesController,
        ],
        lifespan=[cycle_de_vie],
        middleware=[correlation, limite.middleware, authentification],
        before_send=[entetes_reponse],
        exception_handlers=GESTIONNAIRES,
        cors_config=CORSConfig(allow_origins=list(reglages.cors_origines), allow_credentials=True)
        if reglages.cors_origines
        else None,
        openapi_config=OpenAPIConfig(
            title="Portail Familles",
            version="0.1.0",
            description="API du portail familles : inscription, dossier famille, réservations, factures.",
            components=Components(
                security_schemes={
                    "jeton": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                    "cookie": SecurityScheme(
                        type="apiKey", name="portail_session", security_scheme_in="cookie"
                    ),
                }
            ),
            path="/schema",
        ),
        request_max_body_size=1_048_576,
        debug=False,
        logging_config=None,
    )
    application.state.metriques = Metriques()
    return application


def app_api() -> Litestar:
    """The factory `portail api --workers N` hands uvicorn: each worker process builds its own app
    from the environment, without projections or scheduler."""
    return create_app(projections=False)
