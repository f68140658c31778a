"""Counting the statements the application sends to PostgreSQL."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from psycopg import pq

from portail.bootstrap import Services


@contextmanager
def instructions(services: Services) -> Iterator[list[str]]:
    """The statements the application sends to PostgreSQL meanwhile (libpq's protocol trace)."""
    ds = services.portail.recorder.datastore  # type: ignore[attr-defined]
    d_origine = ds.get_connection
    envoyees: list[str] = []

    @contextmanager
    def tracee() -> Iterator[Any]:
        with d_origine() as conn:
            fd, chemin = tempfile.mkstemp()
            conn.pgconn.trace(fd)
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            try:
                yield conn
            finally:
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

    ds.get_connection = tracee
    try:
        yield envoyees
    finally:
        del ds.get_connection
