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


if __name__ == "__main__":
    main()
