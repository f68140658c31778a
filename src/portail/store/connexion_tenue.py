"""The save function's own connection: one connection of the pool, kept by the process's writer.

The library's pool handed its connections out in turn: saves spread over all of them landed each
time on a server process whose plans and caches had gone cold. The same saves replayed on one
connection took 0.91–1.04 ms each, spread over twenty 1.22–1.47 ms (docs/performance.md). The
process's saves are already made one call at a time (`store.ecrivain`), so they all go through one
connection, taken from the pool (configured as its others are) and given back when it breaks or
when the application closes; reads never queue behind it. A call that finds it in use (a caller
outside the writer) takes a connection of the pool as before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, TupleRow, tuple_row

_TRADUCTIONS: tuple[tuple[type[psycopg.Error], type[PersistenceError]], ...] = (
    (psycopg.InterfaceError, InterfaceError),
    (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError),
    (psycopg.IntegrityError, IntegrityError),
    (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError),
    (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError),
)
"""psycopg's errors as the library's datastore raises them (`PostgresDatastore.get_connection`):
its callers, and the retries around them, expect these."""


_A_ANNULER = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


def erreur_persistance(erreur: psycopg.Error) -> PersistenceError:
    for source, cible in _TRADUCTIONS:
        if isinstance(erreur, source):
            return cible(str(erreur))
    return PersistenceError(str(erreur))


class ConnexionTenue:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._verrou = threading.Lock()
        self._connexion: Connection[DictRow] | None = None
        self._curseur: Cursor[TupleRow] | None = None
        self._fermee = False

    @contextmanager
    def connexion(self) -> Iterator[Connection[DictRow]]:
        """The kept connection, in autocommit as the pool's are; errors as the library raises them."""
        if self._fermee or not self._verrou.acquire(blocking=False):
            with self._datastore.get_connection() as autre:
                yield autre
            return
        try:
            try:
                conn = self._connexion
                if conn is None:
                    conn = self._connexion = self._datastore.pool.getconn()
                yield conn
            except psycopg.Error as erreur:
                raise erreur_persistance(erreur) from erreur
            finally:
                self._apres_usage()
        finally:
            self._verrou.release()

    @contextmanager
    def curseur(self) -> Iterator[Cursor[TupleRow]]:
        """A cursor of the kept connection, rows as tuples, kept with it: a statement sent again
        through it (the same string object) finds its parameters' dumpers where they were left,
        rather than building the save function's thirty array dumpers again at every call."""
        with self.connexion() as conn:
            if conn is not self._connexion:
                # The pool's connection of a call that found the kept one in use.
                with conn.cursor(row_factory=tuple_row) as autre:
                    yield autre
                return
            curseur = self._curseur
            if curseur is None or curseur.connection is not conn or curseur.closed:
                curseur = self._curseur = conn.cursor(row_factory=tuple_row)
            yield curseur

    def _apres_usage(self) -> None:
        conn = self._connexion
        if conn is None:
            return
        if not conn.closed and not conn.broken and conn.info.transaction_status in _A_ANNULER:
            conn.rollback()
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            # The pool discards a connection that cannot serve again, and opens another.
            self._connexion = None
            self._curseur = None
            self._datastore.pool.putconn(conn)

    def fermer(self) -> None:
        """Give the connection back to the pool (before the pool closes)."""
        with self._verrou:
            self._fermee = True
            conn, self._connexion = self._connexion, None
            self._curseur = None
            if conn is not None:
                self._datastore.pool.putconn(conn)
