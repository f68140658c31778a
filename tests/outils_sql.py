"""Counting the statements the application sends to PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

from psycopg import pq

from portail.bootstrap import Services

FILS_DE_FOND = (
    "projections",
    "planificateur",
    "portail-sessions-journal",
    "portail-sessions-prechauffage",
    "portail-cache-agregats-suivi",
)
"""The process's background threads (the projection runner, the scheduler, the readers that follow
the log): what they send while a request runs is not the request's."""


@contextmanager
def instructions(services: Services) -> Iterator[list[str]]:
    """The statements the application sends to PostgreSQL meanwhile (libpq's protocol trace),
    background threads excepted: through the pool and through the writer's kept connection."""
    recorder = services.portail.recorder
    ds = recorder.datastore  # type: ignore[attr-defined]
    tenue = recorder.connexion_tenue  # type: ignore[attr-defined]
    d_origine = ds.get_connection
    t_origine = tenue.connexion
    envoyees: list[str] = []

    def tracer_connexion(conn: Any) -> tuple[int, str]:
        fd, chemin = tempfile.mkstemp()
        conn.pgconn.trace(fd)
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        return fd, chemin

    def noter(conn: Any, fd: int, chemin: str) -> None:
        conn.pgconn.untrace()
        with open(chemin) as f:
            for ligne in f:
                champs = ligne.split("\t")
                # Each Execute (extended protocol) or Query (simple protocol) is a statement.
                if champs[0] == "F" and champs[2].split(" ")[0] in ("Execute", "Query"):
                    envoyees.append(ligne.strip())
        os.unlink(chemin)
        with suppress(OSError):
            os.close(fd)

    def tracer(origine: Any) -> Any:
        @contextmanager
        def tracee() -> Iterator[Any]:
            if threading.current_thread().name in FILS_DE_FOND:
                with origine() as conn:
                    yield conn
                return
            with origine() as conn:
                fd, chemin = tracer_connexion(conn)
                try:
                    yield conn
                finally:
                    noter(conn, fd, chemin)

        return tracee

    def tracer_async(origine: Any) -> Any:
        @asynccontextmanager
        async def tracee(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            async with origine(*args, **kwargs) as conn:
                fd, chemin = tracer_connexion(conn)
                try:
                    yield conn
                finally:
                    noter(conn, fd, chemin)

        return tracee

    ds.get_connection = tracer(d_origine)
    tenue.connexion = tracer(t_origine)
    # The event loop's reads (`LecteurAsync`), through their own pool.
    pool_async = services.lecteur_async._pool if services.lecteur_async is not None else None
    if pool_async is not None:
        pool_async.connection = tracer_async(pool_async.connection)
    try:
        yield envoyees
    finally:
        del ds.get_connection
        del tenue.connexion
        if pool_async is not None:
            del pool_async.connection
