"""The `portail` command."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portail.settings import Settings

if TYPE_CHECKING:
    from portail.bootstrap import Services
    from portail.store.database import BaseDeDonnees


@click.group(help="Portail Familles : serveur, données de démonstration, exploitation.")
def main() -> None:
    pass


@main.command(
    help="Tout en un processus : l'API, les vues (projections) et les tâches planifiées "
    "(base PostgreSQL embarquée si PORTAIL_DATABASE_URL est vide)."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    import uvicorn

    from portail.api.protocole import ProtocoleHttp
    from portail.web.app import creer_app

    settings = Settings.depuis_environnement()
    application = creer_app(settings, planificateur=True)
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False, http=ProtocoleHttp)


@main.command(
    help="L'API seule : les vues sont tenues par « portail worker », les tâches par "
    "« portail scheduler » ; plusieurs processus api peuvent servir côte à côte."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def api(host: str, port: int, workers: int) -> None:
    import uvicorn

    from portail.api.protocole import ProtocoleHttp

    # An import string and a factory: each uvicorn worker process builds its own app.
    uvicorn.run(
        "portail.web.app:app_api",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        http=ProtocoleHttp,
    )


def _jusqu_au_signal() -> None:
    """Block until SIGTERM (systemd, containers) or Ctrl-C."""
    import signal
    import threading

    arret = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: arret.set())
    signal.signal(signal.SIGINT, lambda *_: arret.set())
    arret.wait()


@contextmanager
def _processus(projections: bool) -> Iterator[tuple[Services, BaseDeDonnees]]:
    """The services of a `worker` or `scheduler` process, logging as the API does; closed on exit."""
    from portail import journal
    from portail.application.contexte import horloge_systeme
    from portail.bootstrap import construire_services
    from portail.store.database import BaseDeDonnees

    settings = Settings.depuis_environnement()
    journal.configurer(settings.log_format, settings.log_level)
    base = BaseDeDonnees.ouvrir(settings)
    services = construire_services(settings, base, horloge_systeme, projections=projections)
    try:
        yield services, base
    finally:
        services.portail.close()
        base.fermer()


def ceder_le_processeur(increment: int) -> int:
    """Lower this process's scheduling priority by `increment` (never raise it); its niceness."""
    if increment <= 0:
        return os.nice(0)
    return os.nice(increment)


@main.command(help="Tenir les vues (projections) à jour depuis le journal, pour les processus api.")
def worker() -> None:
    import structlog

    from portail.memoire import TasGeleParPage

    with _processus(projections=True) as (services, _base):
        projecteur = services.projecteur
        assert projecteur is not None
        try:
            # In the foreground: an error at start stops the process (the service manager sees it).
            # Until this catch-up ends, `/ready` of the `api` processes answers 503.
            projecteur.rattraper()
            # The start's catch-up at full speed (the api answers 503 meanwhile); then the
            # requests of the api processes beside this one come first.
            priorite = ceder_le_processeur(services.settings.worker_nice)
            projecteur.demarrer(TasGeleParPage())
            structlog.get_logger("portail").info("worker_pret", position=projecteur.position, nice=priorite)
            _jusqu_au_signal()
        finally:
            projecteur.arreter()


@main.command(
    help="Les tâches planifiées ; un seul planificateur agit à la fois (verrou PostgreSQL), "
    "les autres attendent et prennent le relais."
)
def scheduler() -> None:
    from portail.bootstrap import construire_planificateur

    with _processus(projections=False) as (services, base):
        planificateur = construire_planificateur(services, base)
        try:
            planificateur.demarrer()
            _jusqu_au_signal()
        finally:
            planificateur.arreter()


@main.command(help="Remplir une commune de démonstration (idempotent), ou en générer une de N enfants.")
@click.option(
    "--enfants",
    type=click.IntRange(min=1),
    default=None,
    help="Générer une commune de N enfants sur une année scolaire (base vide).",
)
@click.option(
    "--seed", "graine", type=int, default=1, show_default=True, help="Graine : même graine, même commune."
)
def demo(enfants: int | None, graine: int) -> None:
    from portail.demo import generer_commune, remplir

    settings = Settings.depuis_environnement()
    lignes = remplir(settings) if enfants is None else generer_commune(settings, enfants, graine)
    for ligne in lignes:
        click.echo(ligne)


@main.group(help="Les vues (projections) construites depuis le journal des événements.")
def projections() -> None:
    pass


@projections.command(help="Vider les vues et les reconstruire depuis tout le journal.")
def rebuild() -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from portail.application.contexte import horloge_systeme
    from portail.bootstrap import construire_services
    from portail.store.database import BaseDeDonnees

    settings = Settings.depuis_environnement()
    base = BaseDeDonnees.ouvrir(settings)
    services = construire_services(settings, base, horloge_systeme)
    projecteur = services.projecteur
    assert projecteur is not None
    try:
        # Commands write the parents' calendar and counter rows themselves: emptied under them,
        # parents would see empty months until the replay is done. The commune stops them first.
        ecrivains = services.portail.processus_ecrivains()
        if ecrivains:
            raise click.ClickException(
                f"{ecrivains} processus api ou serve servent ce schéma : arrêtez-les avant de"
                " reconstruire les vues (docs/operations.md)."
            )
        total = services.portail.recorder.max_notification_id() or 0
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as barre:
            tache = barre.add_task("Reconstruction des vues", total=total)
            lus = projecteur.reconstruire(lambda n: barre.advance(tache, n), brouillons=False)
            barre.update(tache, completed=total)
            # The drafts of every family-month, priced once after the replay.
            barre.add_task("Brouillons de factures", total=None)
            projecteur.rattraper()
        click.echo(f"{lus} événements relus ; vues à jour à la position {projecteur.position}.")
    finally:
        services.portail.close()
        base.fermer()


@main.group(help="Le journal des événements, pour les auditeurs.")
def audit() -> None:
    pass


@audit.command(
    help="Vérifier la chaîne d'empreintes : nomme le premier événement modifié, supprimé ou déplacé."
)
def verify() -> None:
    from portail import secrets_locaux
    from portail.application.portail import Portail
    from portail.store.database import BaseDeDonnees

    settings = Settings.depuis_environnement()
    base = BaseDeDonnees.ouvrir(settings)
    portail = Portail(
        env=base.env_eventsourcing(2, 2),
        cle_maitre=secrets_locaux.cle_maitre(settings.master_key, settings.data_dir),
    )
    try:
        resultat = portail.verifier_chaine()
    finally:
        portail.close()
        base.fermer()
    if resultat.ok:
        click.echo(f"Journal intact : {resultat.evenements_verifies} événements vérifiés.")
        return
    assert resultat.premiere_anomalie is not None
    click.echo(
        f"Journal altéré après {resultat.evenements_verifies} événements vérifiés : "
        f"{resultat.premiere_anomalie.description}.",
        err=True,
    )
    raise SystemExit(1)


@main.command(help="Générer une commune et mesurer chaque chiffre à côté de sa référence (depuis un clone).")
@click.option("--enfants", type=click.IntRange(min=10), default=10_000, show_default=True)
@click.option("--seed", "graine", type=int, default=1, show_default=True)
@click.option("--json", "chemin_json", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--rush", "ruee", is_flag=True, help="Ajouter la ruée d'ouverture (100 places, --parents parents)."
)
@click.option(
    "--parents",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Ruée : parents qui réservent la même semaine d'été en 60 s.",
)
@click.option("--sans-http", is_flag=True, help="Seulement les mesures dans le processus.")
@click.option("--garder", is_flag=True, help="Garder le schéma de la mesure (PORTAIL_DATABASE_URL).")
@click.option(
    "--deploiement",
    type=click.Choice(["separe", "serve"]),
    default="separe",
    show_default=True,
    help="HTTP : portail api + portail worker, ou portail serve seul.",
)
@click.option(
    "--cache",
    "dossier_cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier des communes générées (défaut : var/bench-cache/ du clone).",
)
@click.option("--sans-cache", is_flag=True, help="Générer la commune sans lire ni écrire de dump.")
@click.option(
    "--api-workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="HTTP séparé : processus de l'API (portail api --workers N).",
)
def bench(
    enfants: int,
    graine: int,
    chemin_json: Path | None,
    ruee: bool,
    parents: int,
    sans_http: bool,
    garder: bool,
    deploiement: str,
    dossier_cache: Path | None,
    sans_cache: bool,
    api_workers: int,
) -> None:
    # The harness lives in the clone's bench/ folder, beside src/, not in the installed package.
    racine = Path(__file__).resolve().parents[2]
    if not (racine / "bench" / "principal.py").exists():
        raise click.ClickException("portail bench se lance depuis un clone du dépôt (dossier bench/).")
    sys.path.insert(0, str(racine))
    from bench.principal import CACHE_PAR_DEFAUT, executer

    if sans_cache and dossier_cache is not None:
        raise click.UsageError("--cache et --sans-cache s'excluent.")
    cache = None if sans_cache else (dossier_cache or CACHE_PAR_DEFAUT)
    executer(
        enfants, graine, chemin_json, ruee, not sans_http, garder, deploiement, cache, parents, api_workers
    )


if __name__ == "__main__":
    main()
