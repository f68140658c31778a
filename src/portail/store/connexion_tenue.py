"""The save function's own connection: one connection of the pool, kept by the process's writer.

The library's pool handed its connections out in turn: saves spread over all of them landed each
time on a server process whose plans and caches had gone cold. The same saves replayed on one
connection took 0.91–1.04 ms each, spread over twenty 1.22–1.47 ms (docs/performance.md). The
process's saves are already made one call at a time (`store.ecrivain`), so they all go through one
connection, taken from the pool (configured as its others are) and given back when it breaks or
when the application closes; reads never queue behind it. A call that finds it in use (a caller
outside the writer) takes a connection of the pool as before.

On the kept connection, the save's statement is sent by libpq's own prepared call
(`PGconn.exec_prepared`, which releases the GIL while it waits), its parameters dumped and its rows
loaded by psycopg's adapters: psycopg's cursor spent about 30 µs more of a booking's processor on
the statement's thirty parameters, its cache of prepared statements and its result (measured,
docs/performance.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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
from psycopg import Connection, abc, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.errors import error_from_result
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, tuple_row

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


@dataclass(frozen=True)
class Instruction:
    """A statement prepared on the kept connection under `nom`: `texte` with psycopg's
    placeholders (`%b`), `texte_libpq` the same with PostgreSQL's (`$1`…)."""

    nom: bytes
    texte: str
    texte_libpq: bytes


_INSTRUCTION_INCONNUE = "26000"
"""A prepared statement the server does not know (psycopg deallocates every statement of a
connection after a `ROLLBACK` it sent)."""


_DEJA_PREPAREE = "42P05"
"""Prepared already on this session (by a call whose answer was lost)."""


class ConnexionTenue:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._verrou = threading.Lock()
        self._connexion: Connection[DictRow] | None = None
        self._adaptation: abc.Transformer | None = None
        self._preparees: set[bytes] = set()
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

    def executer(self, instruction: Instruction, parametres: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The statement's rows, through libpq's prepared call on the kept connection, or through
        a cursor of the pool's connection when the kept one is in use. Its errors are psycopg's,
        as the statement raised them (`erreur_persistance` names them as the library would)."""
        erreur: psycopg.Error | None = None
        with self.connexion() as conn:
            try:
                return self._executer(conn, instruction, parametres)
            except psycopg.Error as e:
                # Raised once the connection is seen to (given back to the pool if it broke).
                erreur = e
        raise erreur

    def _executer(
        self, conn: Connection[DictRow], instruction: Instruction, parametres: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        if conn is not self._connexion:
            # The pool's connection of a call that found the kept one in use.
            with conn.cursor(row_factory=tuple_row) as curseur:
                return curseur.execute(instruction.texte, parametres, prepare=True).fetchall()
        adaptation = self._adaptation
        if adaptation is None:
            adaptation = self._adaptation = Transformer(conn)
            self._preparees.clear()
        valeurs = [adaptation.get_dumper(p, PyFormat.BINARY).dump(p) for p in parametres]
        resultat = self._appel(conn, instruction, valeurs)
        if conn.pgconn.status != pq.ConnStatus.OK:
            # The server process ended (a restart, an administrator): as psycopg names it.
            raise psycopg.OperationalError(conn.pgconn.get_error_message() or "connexion perdue")
        if resultat.status == pq.ExecStatus.FATAL_ERROR:
            erreur = error_from_result(resultat, conn.info.encoding)
            if erreur.sqlstate != _INSTRUCTION_INCONNUE:
                raise erreur
            self._preparees.clear()
            resultat = self._appel(conn, instruction, valeurs)
            if resultat.status == pq.ExecStatus.FATAL_ERROR:
                raise error_from_result(resultat, conn.info.encoding)
        if resultat.status != pq.ExecStatus.TUPLES_OK:
            raise psycopg.OperationalError(
                conn.pgconn.get_error_message() or f"résultat inattendu : {resultat.status}"
            )
        adaptation.set_pgresult(resultat)
        return adaptation.load_rows(0, resultat.ntuples, tuple)

    def _appel(
        self, conn: Connection[DictRow], instruction: Instruction, valeurs: list[Any]
    ) -> pq.abc.PGresult:
        pgconn = conn.pgconn
        if instruction.nom not in self._preparees:
            prepare = pgconn.prepare(instruction.nom, instruction.texte_libpq)
            if prepare.status == pq.ExecStatus.FATAL_ERROR:
                erreur = error_from_result(prepare, conn.info.encoding)
                if erreur.sqlstate != _DEJA_PREPAREE:
                    raise erreur
            self._preparees.add(instruction.nom)
        return pgconn.exec_prepared(
            instruction.nom, valeurs, [pq.Format.BINARY] * len(valeurs), result_format=pq.Format.BINARY
        )

    def _apres_usage(self) -> None:
        conn = self._connexion
        if conn is None:
            return
        if not conn.closed and not conn.broken and conn.info.transaction_status in _A_ANNULER:
            conn.rollback()
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            # The pool discards a connection that cannot serve again, and opens another.
            self._connexion = None
            self._adaptation = None
            self._datastore.pool.putconn(conn)

    def fermer(self) -> None:
        """Give the connection back to the pool (before the pool closes)."""
        with self._verrou:
            self._fermee = True
            conn, self._connexion = self._connexion, None
            self._adaptation = None
            if conn is not None:
                self._datastore.pool.putconn(conn)
