"""Login failures (for rate limiting) and revoked session tokens, shared by every API process."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


class EchecsConnexion(Protocol):
    def recents(self, cle: str, depuis: datetime) -> list[datetime]:
        """Failure times for `cle` since `depuis`, most recent first."""

    def ajouter(self, cles: list[str], horodatage: datetime) -> None: ...


def canal_sessions(schema: str) -> str:
    """The channel a revocation notifies, with the token's id, in the transaction that records it.
    Per schema (hashed: a channel name is at most 63 bytes)."""
    return "portail_sessions_" + hashlib.sha256(schema.encode()).hexdigest()[:16]


class Revocations(Protocol):
    def revoquer(self, jti: str, expire_le: datetime) -> None: ...

    def est_revoque(self, jti: str) -> bool: ...

    def revoque_en_memoire(self, jti: str) -> bool | None:
        """What this process knows without asking the database; None when it cannot tell."""


class EchecsConnexionMemoire:
    def __init__(self) -> None:
        self._echecs: dict[str, list[datetime]] = {}

    def recents(self, cle: str, depuis: datetime) -> list[datetime]:
        return sorted((t for t in self._echecs.get(cle, []) if t >= depuis), reverse=True)

    def ajouter(self, cles: list[str], horodatage: datetime) -> None:
        for cle in cles:
            self._echecs.setdefault(cle, []).append(horodatage)


class _TablePostgres:
    def __init__(self, datastore: PostgresDatastore, nom: str) -> None:
        self._ds = datastore
        self._table = f"{datastore.schema}.{nom}"


class EchecsConnexionPostgres(_TablePostgres):
    """Keys are digests of the e-mail or address, never the values themselves."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(datastore, "portail_echecs_connexion")
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                " cle text NOT NULL, horodatage timestamptz NOT NULL)"
            )
            curs.execute(
                f"CREATE INDEX IF NOT EXISTS portail_echecs_cle_idx ON {self._table} (cle, horodatage)"
            )

    def recents(self, cle: str, depuis: datetime) -> list[datetime]:
        return [
            ligne["horodatage"]
            for ligne in lecture.lignes(
                self._ds,
                f"SELECT horodatage FROM {self._table} WHERE cle = %s AND horodatage >= %s"
                " ORDER BY horodatage DESC LIMIT 1000",
                (cle, depuis),
            )
        ]

    def ajouter(self, cles: list[str], horodatage: datetime) -> None:
        with self._ds.transaction(commit=True) as curs:
            for cle in cles:
                curs.execute(
                    f"INSERT INTO {self._table} (cle, horodatage) VALUES (%s, %s)", (cle, horodatage)
                )
            # Old failures count for nothing; trim now and then rather than on every write.
            if random.random() < 0.02:  # noqa: S311 - not security sensitive
                curs.execute(
                    f"DELETE FROM {self._table} WHERE horodatage < %s",
                    (horodatage - timedelta(days=1),),
                )


class RevocationsPostgres(_TablePostgres):
    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(datastore, "portail_jetons_revoques")
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                " jti text PRIMARY KEY, expire_le timestamptz NOT NULL)"
            )
        self.canal = canal_sessions(datastore.schema)

    def revoquer(self, jti: str, expire_le: datetime) -> None:
        """Recorded and announced together: the notification is delivered at commit, to every
        process that keeps revoked ids in memory."""
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {self._table} (jti, expire_le) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (jti, expire_le),
            )
            curs.execute("SELECT pg_notify(%s, %s)", (self.canal, f"{jti} {expire_le.timestamp()}"))
            curs.execute(f"DELETE FROM {self._table} WHERE expire_le < now() - interval '1 day'")

    def est_revoque(self, jti: str) -> bool:
        return lecture.ligne(self._ds, f"SELECT 1 FROM {self._table} WHERE jti = %s", (jti,)) is not None

    def revoque_en_memoire(self, jti: str) -> bool | None:
        return None

    def toutes(self) -> dict[str, float]:
        """Every revoked id still kept, with its token's expiry (a timestamp)."""
        return {
            ligne["jti"]: ligne["expire_le"].timestamp()
            for ligne in lecture.lignes(self._ds, f"SELECT jti, expire_le FROM {self._table}")
        }
