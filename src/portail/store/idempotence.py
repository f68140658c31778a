"""Idempotency keys of booking commands: the same key and body give the same answer, once.

The key's row and its answer are written by the command's own save, in the transaction of its
events (`store.chaine`): a request looks the key up (one read), and if it is new runs the command,
whose save carries the row. Two requests with the same key running at once both decide, but only
one save can write the row: the other's save fails whole (no event of it is kept) and that request
answers with the row the first one wrote. A command that ends without saving anything writes its
answer alone. A row without an answer (`statut = 0`, a claim left by an earlier version of the
application) is taken over by the save.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from portail.domain.erreurs import Conflit
from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


class CleReutilisee(Conflit):
    titre = "Clé d'idempotence déjà utilisée"


class CleDejaServie(Exception):
    """The save met the key's row, written meanwhile by another request: nothing of it was kept."""


@dataclass(frozen=True)
class Reponse:
    statut: int
    corps: bytes


@dataclass
class DemandeIdempotente:
    """A key the command's save writes with its answer (`Contexte.idempotence`)."""

    compte_id: UUID
    cle: str
    empreinte: str
    encoder: Callable[[Any], bytes]
    """The answer's body from what the command returns."""
    corps: bytes | None = None
    """Set once a save has written the row."""


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

    def _lire(self, compte_id: UUID, cle: str) -> Any:
        return lecture.ligne(
            self._ds,
            f"SELECT empreinte, statut, corps FROM {self._table} WHERE compte_id = %s AND cle = %s",
            (compte_id, cle),
        )

    @staticmethod
    def _rejouer(ligne: Any, empreinte: str) -> Reponse:
        if ligne["empreinte"] != empreinte:
            raise CleReutilisee(
                "Cette clé d'idempotence a déjà servi pour une autre demande ; utilisez-en une nouvelle."
            )
        return Reponse(ligne["statut"], bytes(ligne["corps"]))

    def servir(
        self,
        compte_id: UUID,
        cle: str,
        requete: bytes,
        encoder: Callable[[Any], bytes],
        commande: Callable[[DemandeIdempotente], Any],
    ) -> Reponse:
        """The answer of `commande` (200, `encoder` of what it returns), or the one stored for the key."""
        empreinte = hashlib.sha256(requete).hexdigest()
        ligne = self._lire(compte_id, cle)
        # A row without an answer (an old claim) is the command's to take over.
        if ligne is not None and (ligne["statut"] or ligne["empreinte"] != empreinte):
            return self._rejouer(ligne, empreinte)
        demande = DemandeIdempotente(compte_id, cle, empreinte, encoder)
        try:
            corps = encoder(commande(demande))
        except CleDejaServie:
            ligne = self._lire(compte_id, cle)
            if ligne is None:
                raise
            return self._rejouer(ligne, empreinte)
        if demande.corps is None:
            # Nothing was saved (every item refused, say): the answer alone, unless another
            # request with the key was first.
            ecrite = lecture.ligne(
                self._ds,
                f"INSERT INTO {self._table} AS t (compte_id, cle, empreinte, statut, corps)"
                " VALUES (%s, %s, %s, 200, %s) ON CONFLICT (compte_id, cle) DO UPDATE SET statut = 200,"
                " corps = EXCLUDED.corps WHERE t.statut = 0 AND t.empreinte = EXCLUDED.empreinte RETURNING statut",
                (compte_id, cle, empreinte, corps),
            )
            if ecrite is None:
                return self._rejouer(self._lire(compte_id, cle), empreinte)
        return Reponse(200, corps)

    def relire(self, compte_id: UUID, cle: str) -> bytes | None:
        """The answer stored for an account's key (None: no answer yet): the page that shows a
        booking's outcome after the form's redirect reads it."""
        ligne = self._lire(compte_id, cle)
        return bytes(ligne["corps"]) if ligne is not None and ligne["statut"] else None
