"""Idempotency keys of booking commands: the same key and body give the same answer, once.

A request first claims its key with a row; a retry arriving while the first is still running is
told to come back (409 with Retry-After) instead of booking twice, and the first answer is kept and
replayed afterwards. No connection is held while the command runs, so a rush of retries cannot
starve the pool. A claim left by a crashed process is taken over after a minute.
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

ABANDON_SECONDES = 60


class CleReutilisee(Conflit):
    titre = "Clé d'idempotence déjà utilisée"


class DemandeEnCours(Conflit):
    titre = "Demande déjà en cours"
    reessayer_dans = 1


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
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {self._table} (compte_id, cle, empreinte, statut, corps) VALUES (%s, %s, %s, 0, '')"
                " ON CONFLICT DO NOTHING RETURNING compte_id",
                (compte_id, cle, empreinte),
            )
            if curs.fetchone() is None:
                # Someone had the key: same request done, same request running, or another body.
                curs.execute(
                    f"SELECT empreinte, statut, corps, now() - cree_le > make_interval(secs => %s) AS abandonnee"
                    f" FROM {self._table} WHERE compte_id = %s AND cle = %s",
                    (ABANDON_SECONDES, compte_id, cle),
                )
                ligne = curs.fetchone()
                if ligne is not None:
                    if ligne["empreinte"] != empreinte:
                        raise CleReutilisee(
                            "Cette clé d'idempotence a déjà servi pour une autre demande ; utilisez-en une nouvelle."
                        )
                    if ligne["statut"]:
                        return Reponse(ligne["statut"], bytes(ligne["corps"]))
                    if not ligne["abandonnee"]:
                        raise DemandeEnCours("La même demande est en cours ; réessayez dans un instant.")
                    curs.execute(
                        f"UPDATE {self._table} SET cree_le = now() WHERE compte_id = %s AND cle = %s",
                        (compte_id, cle),
                    )
        try:
            reponse = action()
        except BaseException:
            with self._ds.transaction(commit=True) as curs:
                curs.execute(
                    f"DELETE FROM {self._table} WHERE compte_id = %s AND cle = %s AND statut = 0",
                    (compte_id, cle),
                )
            raise
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"UPDATE {self._table} SET statut = %s, corps = %s WHERE compte_id = %s AND cle = %s",
                (reponse.statut, reponse.corps, compte_id, cle),
            )
        return reponse
