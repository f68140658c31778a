"""Tamper-evident log: every stored event is chained to the one before it.

Each event's hash covers its position, aggregate id, version, topic, stored bytes (the audit
metadata included) and the previous hash. It is written in the same transaction as the event,
under the table lock that already serialises writers, so the chain follows the log's order.
`verifier` walks the log and names the first record altered, removed or reordered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow

GENESE = b"\x00" * 32


def empreinte(
    precedente: bytes, position: int, originator_id: Any, version: int, topic: str, etat: bytes
) -> bytes:
    contenu = hashlib.sha256()
    contenu.update(precedente)
    contenu.update(f"{position}|{originator_id}|{version}|{topic}|".encode())
    contenu.update(etat)
    return contenu.digest()


TAILLE_MAX_PIPELINE = 256 * 1024
"""Bytes of event state above which a save does not use pipeline mode."""


class RecorderChaine(PostgresApplicationRecorder):
    """The library's recorder, plus one chain row per event in the same transaction."""

    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.table_chaine = f"{datastore.schema}.{events_table_name}_chaine"

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        curs.execute("SELECT to_regclass(%s) IS NOT NULL AS existe", (self.table_chaine,))
        ligne = curs.fetchone()
        if ligne is not None and ligne["existe"]:
            return
        curs.execute(f"CREATE TABLE {self.table_chaine} (position bigint PRIMARY KEY, hash bytea NOT NULL)")
        # Never rebuilt from the log: a chain table dropped to hide an edit then shows every
        # existing event as unchained.

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Small saves go through the library's pipeline (one round trip fewer); a large one
        (a month's invoices) is sent as a plain transaction: in pipeline mode, a parameter of
        several megabytes left psycopg waiting on its sync while the server still waited for
        the rest of the query."""
        if sum(len(e.state) for e in stored_events) < TAILLE_MAX_PIPELINE:
            en_pipeline: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return en_pipeline
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            ids: Sequence[int] | None = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
            return ids

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if not ids:
            return ids
        # The table lock taken before the insert makes this the chain's true tail.
        curs.execute(f"SELECT hash FROM {self.table_chaine} ORDER BY position DESC LIMIT 1")
        ligne = curs.fetchone()
        precedente = bytes(ligne["hash"]) if ligne else GENESE
        lignes = []
        for position, evenement in zip(ids, stored_events, strict=True):
            precedente = empreinte(
                precedente,
                position,
                evenement.originator_id,
                evenement.originator_version,
                evenement.topic,
                evenement.state,
            )
            lignes.append((position, precedente))
        curs.executemany(f"INSERT INTO {self.table_chaine} (position, hash) VALUES (%s, %s)", lignes)
        return ids


@dataclass(frozen=True)
class Anomalie:
    position: int
    nature: str
    """`modifie`, `supprime`, `ajoute` or `deplace`."""

    @property
    def description(self) -> str:
        textes = {
            "modifie": "l'événement a été modifié après son enregistrement",
            "supprime": "un événement enregistré a disparu du journal",
            "ajoute": "un événement n'a pas été enregistré par l'application",
            "deplace": "l'ordre du journal a été changé",
        }
        return f"position {self.position} : {textes[self.nature]}"


@dataclass(frozen=True)
class Verification:
    ok: bool
    evenements_verifies: int
    premiere_anomalie: Anomalie | None
    derniere_empreinte: str | None = None
    """Hex of the last verified hash: recorded outside the database, it shows a cut tail."""


def _paires(
    ds: PostgresDatastore, table_evenements: str, table_chaine: str, page: int = 2000
) -> Iterator[dict[str, Any]]:
    """Events and chain rows side by side, in position order (a full outer join, paged)."""
    apres = -1
    while True:
        with ds.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT coalesce(e.notification_id, c.position) AS position, e.notification_id, e.originator_id,"
                f" e.originator_version, e.topic, e.state, c.hash"
                f" FROM {table_evenements} e FULL OUTER JOIN {table_chaine} c ON c.position = e.notification_id"
                f" WHERE coalesce(e.notification_id, c.position) > %s ORDER BY 1 LIMIT %s",
                (apres, page),
            )
            lignes = curs.fetchall()
        if not lignes:
            return
        yield from lignes
        apres = lignes[-1]["position"]


def verifier(ds: PostgresDatastore, table_evenements: str, table_chaine: str) -> Verification:
    precedente = GENESE
    verifies = 0
    lignes = _paires(ds, table_evenements, table_chaine)
    for ligne in lignes:
        position = ligne["position"]
        if ligne["notification_id"] is None:
            return Verification(False, verifies, Anomalie(position, "supprime"))
        if ligne["hash"] is None:
            return Verification(False, verifies, Anomalie(position, "ajoute"))
        if _hash_de(precedente, position, ligne) != bytes(ligne["hash"]):
            # Another record's content that belongs here means rows were moved, not edited.
            suivantes = [x for _, x in zip(range(FENETRE_DEPLACEMENT), lignes, strict=False)]
            deplace = any(
                x["notification_id"] is not None and _hash_de(precedente, position, x) == bytes(ligne["hash"])
                for x in suivantes
            )
            return Verification(False, verifies, Anomalie(position, "deplace" if deplace else "modifie"))
        precedente = bytes(ligne["hash"])
        verifies += 1
    return Verification(True, verifies, None, precedente.hex() if verifies else None)


FENETRE_DEPLACEMENT = 500
"""How far ahead a misplaced record is looked for before calling it modified."""


def _hash_de(precedente: bytes, position: int, ligne: dict[str, Any]) -> bytes:
    return empreinte(
        precedente,
        position,
        ligne["originator_id"],
        ligne["originator_version"],
        ligne["topic"],
        bytes(ligne["state"]),
    )
