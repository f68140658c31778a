"""One scheduler acts at a time: the leader holds a PostgreSQL advisory lock on a session of its own.

The lock belongs to the session, so when the leader's process dies or its connection drops, the
server releases it and a standby's next try takes it. The key is derived from the schema, so
several portals (or test schemas) on one database each have their own leader.
"""

from __future__ import annotations

import contextlib
import hashlib

import psycopg
import structlog

from portail.store.database import KEEPALIVES

log = structlog.get_logger("portail.jobs")


def cle_verrou(schema: str | None) -> int:
    empreinte = hashlib.sha256(f"portail:planificateur:{schema or 'public'}".encode()).digest()
    return int.from_bytes(empreinte[:8], "big", signed=True)


class Candidat:
    """A scheduler that wants to lead; `essayer` and `toujours_leader` never raise."""

    def __init__(self, url: str, schema: str | None) -> None:
        self.url = url
        self.cle = cle_verrou(schema)
        self._connexion: psycopg.Connection[tuple[object, ...]] | None = None
        self.leader = False

    @property
    def pid(self) -> int | None:
        """The server process of the lock's session (to find it in `pg_stat_activity`)."""
        return self._connexion.info.backend_pid if self._connexion is not None else None

    def essayer(self) -> bool:
        if self.leader:
            return self.toujours_leader()
        try:
            if self._connexion is None:
                # Keepalives: a leader cut off from the server notices it instead of waiting forever.
                self._connexion = psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=5,
                    application_name="portail-planificateur",
                    **KEEPALIVES,
                )
            ligne = self._connexion.execute("SELECT pg_try_advisory_lock(%s)", (self.cle,)).fetchone()
        except psycopg.Error as erreur:
            log.warning("planificateur_base_injoignable", type_erreur=type(erreur).__name__)
            self._fermer()
            return False
        self.leader = bool(ligne and ligne[0])
        return self.leader

    def toujours_leader(self) -> bool:
        """Still holding the lock: its session is alive (the lock lives as long as the session)."""
        if not self.leader or self._connexion is None:
            return False
        try:
            self._connexion.execute("SELECT 1")
        except psycopg.Error:
            self._fermer()
            return False
        return True

    def abandonner(self) -> None:
        """Step down (shutdown): the lock is released before the session closes, so a standby's
        next try takes it (a closing session frees it only once its server process has exited)."""
        if self.leader and self._connexion is not None:
            with contextlib.suppress(psycopg.Error):
                self._connexion.execute("SELECT pg_advisory_unlock(%s)", (self.cle,))
        self._fermer()

    def _fermer(self) -> None:
        self.leader = False
        if self._connexion is not None:
            with contextlib.suppress(psycopg.Error):
                self._connexion.close()
            self._connexion = None
