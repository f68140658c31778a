"""What a job has already done, so that a job run twice, late, or by two schedulers at once acts once.

A job claims a deterministic key (a reminder per invoice, a SEPA file per campaign…) with a row
inserted in its own transaction; the insert that wins owns the action. When the action fails the
claim is given back, so the next run tries again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


def identifiant(tache: str, cle: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/portail/taches/{tache}/{cle}")


class Marqueurs:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._ds = datastore
        self._table = f"{datastore.schema}.portail_taches_faites"
        with self._ds.transaction(commit=True) as curs:
            # Two schedulers starting together: one creates the table, the other then finds it.
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._table,))
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (id uuid PRIMARY KEY, tache text NOT NULL,"
                " cle text NOT NULL, fait_le timestamptz NOT NULL, detail text)"
            )

    def prendre(self, tache: str, cle: str, le: datetime, detail: str | None = None) -> bool:
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {self._table} (id, tache, cle, fait_le, detail) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO NOTHING",
                (identifiant(tache, cle), tache, cle, le, detail),
            )
            return curs.rowcount == 1

    def rendre(self, tache: str, cle: str) -> None:
        with self._ds.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {self._table} WHERE id = %s", (identifiant(tache, cle),))

    def noter(self, tache: str, cle: str, detail: str) -> None:
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"UPDATE {self._table} SET detail = %s WHERE id = %s", (detail, identifiant(tache, cle))
            )

    def fait(self, tache: str, cle: str) -> bool:
        return (
            lecture.ligne(self._ds, f"SELECT 1 FROM {self._table} WHERE id = %s", (identifiant(tache, cle),))
            is not None
        )

    @contextmanager
    def une_fois(self, tache: str, cle: str, le: datetime) -> Iterator[bool]:
        """`True` for the one run that owns the action; the claim is given back if it fails."""
        pris = self.prendre(tache, cle, le)
        try:
            yield pris
        except BaseException:
            if pris:
                self.rendre(tache, cle)
            raise
