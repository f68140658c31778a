"""Idempotency keys of booking commands: the same key and body give the same answer, once.

Requests with one key run one at a time (a PostgreSQL advisory lock taken for the duration), so
two retries arriving together cannot both book; the first answer is kept and replayed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from portail.domain.erreurs import Conflit

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


class CleReutilisee(Conflit):
    titre = "Clé d'idempotence déjà utilisée"


@dataclass(frozen=True)
class Reponse:
    statut: int
    corps: bytes


class Idempotence:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._ds = datastore
        self._table = f"{datastore.schema}.portail_idempotence"
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                " compte_id uuid NOT NULL, cle text NOT NULL, empreinte text NOT NULL,"
                " statut integer NOT NULL, corps bytea NOT NULL, cree_le timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (compte_id, cle))"
            )

    def executer(self, compte_id: UUID, cle: str, requete: bytes, action: Callable[[], Reponse]) -> Reponse:
        empreinte = hashlib.sha256(requete).hexdigest()
        verrou = int.from_bytes(
            hashlib.sha256(f"{compte_id}:{cle}".encode()).digest()[:8], "big", signed=True
        )
        with self._ds.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (verrou,))
            try:
                ligne = conn.execute(
                    f"SELECT empreinte, statut, corps FROM {self._table} WHERE compte_id = %s AND cle = %s",
                    (compte_id, cle),
                ).fetchone()
                conn.commit()
                if ligne is not None:
                    if ligne["empreinte"] != empreinte:
                        raise CleReutilisee(
                            "Cette clé d'idempotence a déjà servi pour une autre demande ; utilisez-en une nouvelle."
                        )
                    return Reponse(ligne["statut"], bytes(ligne["corps"]))
                reponse = action()
                conn.execute(
                    f"INSERT INTO {self._table} (compte_id, cle, empreinte, statut, corps) VALUES (%s, %s, %s, %s, %s)",
                    (compte_id, cle, empreinte, reponse.statut, reponse.corps),
                )
                conn.commit()
                return reponse
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (verrou,))
                conn.commit()
