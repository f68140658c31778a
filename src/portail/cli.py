"""The `portail` command."""

from __future__ import annotations

import click

from portail.settings import Settings


@click.group(help="Portail Familles : serveur, données de démonstration, exploitation.")
def main() -> None:
    pass


@main.command(help="Servir l'API (base PostgreSQL embarquée si PORTAIL_DATABASE_URL est vide).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    import uvicorn

    from portail.api.app import create_app

    settings = Settings.depuis_environnement()
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


@main.command(help="Remplir une commune de démonstration (idempotent).")
def demo() -> None:
    from portail.demo import remplir

    settings = Settings.depuis_environnement()
    for ligne in remplir(settings):
        click.echo(ligne)


@main.group(help="Les vues (projections) construites depuis le journal des événements.")
def projections() -> None:
    pass


@projections.command(help="Vider les vues et les reconstruire depuis tout le journal.")
def rebuild() -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from portail.api.app import construire_services
    from portail.application.contexte import horloge_systeme
    from portail.store.database import BaseDeDonnees

    settings = Settings.depuis_environnement()
    base = BaseDeDonnees.ouvrir(settings)
    services = construire_services(settings, base, horloge_systeme)
    try:
        total = services.portail.recorder.max_notification_id() or 0
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as barre:
            tache = barre.add_task("Reconstruction des vues", total=total)
            lus = services.projecteur.reconstruire(lambda n: barre.advance(tache, n))
            barre.update(tache, completed=total)
        click.echo(f"{lus} événements relus ; vues à jour à la position {services.projecteur.position}.")
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


if __name__ == "__main__":
    main()
