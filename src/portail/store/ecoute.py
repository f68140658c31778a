"""Waking on PostgreSQL NOTIFY instead of polling.

Every save of the event log notifies `canal_journal` in its transaction, so the projection runner
wakes when an event is committed; the runner notifies `canal_vues` with its new position in the
transaction of each page, so the read-your-writes wait of an `api` process wakes when the views have
moved. A notification is delivered at commit, never before the data it announces is visible.
"""

from __future__ import annotations

import hashlib
import os
import select
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from psycopg import sql

from portail.store.database import KEEPALIVES

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger("portail.store")

SECURITE = 5.0
"""Seconds after which a listener wakes its owner even without a notification: a notification lost
with a connection that dropped unnoticed never stalls anything for longer."""
REGROUPEMENT_JOURNAL = 0.005
"""Seconds a listener of the log's channel lets notifications gather after waking for some. Every
save notifies every process: woken for each, a process's listening threads cost a sequential
booking of its own about a sixth of its processor time (five thread switches and their system calls
where one sufficed, measured). A notification after a quiet while is delivered at once; under a
stream of saves, one wake takes all those of the last few milliseconds."""


def canal_journal(table_evenements: str) -> str:
    """The channel every save of the log notifies (`portail_enregistrer`'s `pg_notify`): the events
    table's name, dots replaced, as the eventsourcing library's own saves did. The channel is not per
    schema: portals sharing a database wake each other's runners for nothing but a look at the log."""
    return table_evenements.replace(".", "_")


def plage_notifiee(charge: str | None) -> tuple[int, int] | None:
    """The first and last log positions a save's notification on `canal_journal` names
    (`p:<first>:<last>`), or None for any other wake (a reconnection, a quiet while, a save of
    an earlier version that named none). No space in it: a listener of the sessions' channel
    too reads `<id> <expiry>` as a revocation."""
    if not charge or not charge.startswith("p:"):
        return None
    premiere, _, derniere = charge[2:].partition(":")
    try:
        return int(premiere), int(derniere)
    except ValueError:
        return None


def canal_vues(schema: str) -> str:
    """The channel the runner notifies, with its new position, when it has committed a page. Per
    schema (hashed: a channel name is at most 63 bytes)."""
    return "portail_vues_" + hashlib.sha256(schema.encode()).hexdigest()[:16]


class Ecoute:
    """One autocommit connection LISTENing on some channels, in a thread of its own.

    `reveil` is called with the payload of each notification, and with None after each
    (re)connection (what was sent while it was down is not lost: its owner looks afresh) and after
    `SECURITE` seconds without any. A dropped connection is opened again, waiting longer each time
    up to `SECURITE`. `reveil` runs in the listening thread: it must be short and never block.
    With `regroupement`, the thread pauses that many seconds after each wake that brought
    notifications: those arriving meanwhile are read together by the next one."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        canaux: Sequence[str],
        reveil: Callable[[str | None], None],
        nom: str,
        *,
        regroupement: float = 0.0,
    ) -> None:
        parametres: Any = datastore.pool.kwargs
        self._parametres: dict[str, Any] = {
            cle: valeur for cle, valeur in dict(parametres or {}).items() if cle != "row_factory"
        }
        self._conninfo = str(datastore.pool.conninfo or "")
        self.canaux = tuple(canaux)
        self._reveil = reveil
        self.nom = nom
        self.regroupement = regroupement
        self.active = threading.Event()
        """Set while the channels are listened to."""
        self.pid: int | None = None
        """The listening session's server process (to find it in `pg_stat_activity`)."""
        self.connexions = 0
        """How many times the channels were listened to afresh: an owner keeping state that the
        notifications maintain tells a reconnection (some may be lost) from a quiet while by it."""
        self._arret = threading.Event()
        self._tube: tuple[int, int] | None = None
        self._fil: threading.Thread | None = None

    def demarrer(self) -> None:
        self._arret.clear()
        # A byte written here interrupts the wait on the socket: stopping is immediate.
        self._tube = os.pipe()
        self._fil = threading.Thread(target=self._boucle, name=self.nom, daemon=True)
        self._fil.start()

    def arreter(self) -> None:
        self._arret.set()
        if self._tube is not None:
            os.write(self._tube[1], b"x")
        if self._fil is not None:
            self._fil.join(timeout=5)
            self._fil = None
        if self._tube is not None:
            for fd in self._tube:
                os.close(fd)
            self._tube = None

    def _boucle(self) -> None:
        pause = 0.1
        while not self._arret.is_set():
            try:
                with self.connecter() as conn:
                    for canal in self.canaux:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(canal)))
                    self.pid = conn.info.backend_pid
                    self.connexions += 1
                    self.active.set()
                    pause = 0.1
                    self._appeler(None)
                    self._ecouter(conn)
            except psycopg.Error as erreur:
                log.warning("ecoute_perdue", fil=self.nom, type_erreur=type(erreur).__name__)
            except Exception:
                log.exception("ecoute_erreur", fil=self.nom)
            finally:
                self.active.clear()
            self._arret.wait(pause)
            pause = min(pause * 2, SECURITE)

    def connecter(self, nom: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection like the listening one (autocommit, outside the pool), named `nom`."""
        return psycopg.connect(
            self._conninfo,
            **self._parametres,
            autocommit=True,
            connect_timeout=5,
            application_name=nom or self.nom,
            **KEEPALIVES,
        )

    def _ecouter(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        assert self._tube is not None
        while not self._arret.is_set():
            prets, _, _ = select.select([conn.fileno(), self._tube[0]], [], [], SECURITE)
            if self._tube[0] in prets:
                return
            if not prets:
                self._appeler(None)
                continue
            # The socket is readable: what arrived is consumed without waiting (a closed
            # connection raises here).
            for notification in conn.notifies(timeout=0):
                self._appeler(notification.payload)
            if self.regroupement:
                self._arret.wait(self.regroupement)

    def _appeler(self, charge: str | None) -> None:
        try:
            self._reveil(charge)
        except Exception:
            log.exception("ecoute_reveil_erreur", fil=self.nom)
