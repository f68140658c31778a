"""A single read: one prepared statement on an autocommit connection, one round trip.

A lone SELECT needs no transaction: wrapping it in BEGIN … ROLLBACK costs two more round trips
and shows nothing more consistent than the statement's own snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row, tuple_row
from psycopg_pool import AsyncConnectionPool

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


PLANS_GENERIQUES = "-c plan_cache_mode=force_generic_plan"
"""The connection option that keeps a prepared statement's plan. An aggregate's read takes its
ids as an array, for which PostgreSQL's default plans the prepared statement again at every
execution (0.33 ms of planning for 0.15 ms of execution): its estimate of the generic plan, made
for an array of unknown length, never looks cheaper than a plan made for two ids. Statements with
scalar parameters were given their generic plan after five executions anyway."""


def avec_plans_generiques(options: object) -> str:
    """Connection `options` with `PLANS_GENERIQUES` added."""
    return f"{options or ''} {PLANS_GENERIQUES}".strip()


class LectureBloquante(Exception):
    """A read the event loop may not make (it would block every request of the process): the
    caller makes it in a worker thread instead."""


def lignes(ds: PostgresDatastore, requete: str, parametres: Sequence[Any] = ()) -> list[DictRow]:
    with ds.get_connection() as conn:
        return conn.execute(requete, parametres, prepare=True).fetchall()


def ligne(ds: PostgresDatastore, requete: str, parametres: Sequence[Any] = ()) -> DictRow | None:
    with ds.get_connection() as conn:
        return conn.execute(requete, parametres, prepare=True).fetchone()


def tuples(
    ds: PostgresDatastore, requete: str, parametres: Any = (), *, binaire: bool = False
) -> list[tuple[Any, ...]]:
    """Rows as tuples (no dict per row): for reads of many rows. `binaire`: the rows come in
    PostgreSQL's binary format, for reads of stored events: their `bytea` state would otherwise
    travel as hex text, twice its size, encoded by the server and decoded here (reading the log
    runs 2.3 times as fast in binary, measured on pages of 1,000 events)."""
    with ds.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(requete, parametres, prepare=True, binary=binaire)
        return curs.fetchall()


class LecteurAsync:
    """Reads of the event loop: one prepared statement on a pooled autocommit connection, awaited
    instead of sent from a worker thread. A request read this way never leaves the loop: handing
    it to a thread and back (the framework's `sync_to_thread`) cost an api process about 0.7 ms of
    CPU a request under load, more than the read itself (`performance.md`)."""

    def __init__(self, url: str, taille: int) -> None:
        self._pool: AsyncConnectionPool[AsyncConnection[DictRow]] = AsyncConnectionPool(
            url,
            connection_class=AsyncConnection[DictRow],
            min_size=1,
            max_size=max(1, taille),
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "options": avec_plans_generiques(conninfo_to_dict(url).get("options")),
            },
            open=False,
            name="portail-lectures-async",
        )

    async def ouvrir(self) -> None:
        await self._pool.open()

    async def fermer(self) -> None:
        await self._pool.close()

    async def ligne(self, requete: str, parametres: Any = ()) -> DictRow | None:
        async with self._pool.connection() as conn:
            curseur = await conn.execute(requete, parametres, prepare=True)
            return await curseur.fetchone()

    async def lignes(self, requete: str, parametres: Any = ()) -> list[DictRow]:
        async with self._pool.connection() as conn:
            curseur = await conn.execute(requete, parametres, prepare=True)
            return await curseur.fetchall()

    async def tuples(
        self, requete: str, parametres: Any = (), *, binaire: bool = False
    ) -> list[tuple[Any, ...]]:
        """As `tuples` above, on the event loop."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            await curs.execute(requete, parametres, prepare=True, binary=binaire)
            return await curs.fetchall()
