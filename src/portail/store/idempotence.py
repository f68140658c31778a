"""Idempotency keys of creating commands: the same key and body give the same answer, once.

The key's row is written by the command's own save, in the transaction of its events
(`store.chaine`): a request looks the key up (one read), and if it is new runs the command, whose
save carries the row. Two requests with the same key running at once both decide, but only one
save can write the row: the other's save fails whole (no event of it is kept) and that request
answers with the row the first one wrote. A booking's save writes its answer with the row; other
commands' answers are built after their save (read back from the aggregates), so their save writes
the row as `EN_COURS` and the answer replaces it once built. A command that ends without saving
anything writes its answer alone. A row without an answer (`statut = 0`, a claim left by an
earlier version of the application) is taken over by the save.

Within one process, a request whose key is already being served there waits for that request
and answers with its row: racing it would only make its own save fail, and with it every save
of the process decided on top of that one (an opening rush's day Capacite, shared by every
booking, would then be reloaded from the log by each of them).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from portail.domain.erreurs import Conflit
from portail.store import lecture

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

    from portail.store.lecture import LecteurAsync


EN_COURS = -1
"""The command's events are saved, its answer is not stored yet."""
DELAI_REPONSE = 60
"""Seconds after which a row still `EN_COURS` is taken for an answer lost (the process stopped
between the save and the answer): the command is not run again."""


class CleReutilisee(Conflit):
    titre = "Clé d'idempotence déjà utilisée"


class DemandeEnCours(Conflit):
    titre = "Demande déjà en cours"
    reessayer_dans = 1


class ReponsePerdue(Conflit):
    titre = "Demande déjà enregistrée"


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
    """Set once a save has written the row (empty when it wrote it `EN_COURS`)."""


class Idempotence:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._ds = datastore
        self._table = f"{datastore.schema}.portail_idempotence"
        self._verrou = threading.Lock()
        self._en_cours: dict[tuple[UUID, str], tuple[threading.Event, int]] = {}
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                " compte_id uuid NOT NULL, cle text NOT NULL, empreinte text NOT NULL,"
                " statut integer NOT NULL, corps bytea NOT NULL, cree_le timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (compte_id, cle))"
            )

    def _attendre_la_premiere(self, compte_id: UUID, cle: str) -> Callable[[], None] | None:
        """None when a request of this process serving the same key has finished (waited for
        here); else the function that ends this request's turn with the key."""
        with self._verrou:
            en_cours = self._en_cours.get((compte_id, cle))
            if en_cours is not None and en_cours[1] == threading.get_ident():
                # Asked again from within the command itself: it cannot wait for itself.
                return lambda: None
            if en_cours is None:
                fin = threading.Event()
                self._en_cours[(compte_id, cle)] = (fin, threading.get_ident())

                def liberer() -> None:
                    with self._verrou:
                        del self._en_cours[(compte_id, cle)]
                    fin.set()

                return liberer
        en_cours[0].wait(DELAI_REPONSE)
        return None

    def _lecture(self, compte_id: UUID, cle: str) -> tuple[str, tuple[Any, ...]]:
        return (
            f"SELECT empreinte, statut, corps, cree_le > now() - make_interval(secs => %s) AS recente"
            f" FROM {self._table} WHERE compte_id = %s AND cle = %s",
            (DELAI_REPONSE, compte_id, cle),
        )

    def _lire(self, compte_id: UUID, cle: str) -> Any:
        return lecture.ligne(self._ds, *self._lecture(compte_id, cle))

    def _reponse_seule(
        self, demande: DemandeIdempotente, statut: int, corps: bytes
    ) -> tuple[str, tuple[Any, ...]]:
        """Nothing was saved (every item refused, say): the answer alone, unless another request
        with the key was first (then no row comes back)."""
        return (
            f"INSERT INTO {self._table} AS t (compte_id, cle, empreinte, statut, corps)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (compte_id, cle) DO UPDATE SET statut = EXCLUDED.statut,"
            " corps = EXCLUDED.corps WHERE t.statut = 0 AND t.empreinte = EXCLUDED.empreinte RETURNING statut",
            (demande.compte_id, demande.cle, demande.empreinte, statut, corps),
        )

    def _reponse_apres(
        self, demande: DemandeIdempotente, statut: int, corps: bytes
    ) -> tuple[str, tuple[Any, ...]]:
        """The save wrote the row `EN_COURS`: the answer, now built, replaces it."""
        return (
            f"UPDATE {self._table} SET statut = %s, corps = %s"
            " WHERE compte_id = %s AND cle = %s AND statut = %s RETURNING statut",
            (statut, corps, demande.compte_id, demande.cle, EN_COURS),
        )

    @staticmethod
    def _rejouer(ligne: Any, empreinte: str) -> Reponse:
        if ligne["empreinte"] != empreinte:
            raise CleReutilisee(
                "Cette clé d'idempotence a déjà servi pour une autre demande ; utilisez-en une nouvelle."
            )
        if ligne["statut"] == EN_COURS and ligne["recente"]:
            raise DemandeEnCours("Une demande avec cette clé d'idempotence est en cours ; réessayez.")
        if ligne["statut"] == EN_COURS:
            raise ReponsePerdue(
                "Cette demande a déjà été enregistrée, mais sa réponse n'a pas été conservée ;"
                " consultez l'état à jour au lieu de la renvoyer."
            )
        return Reponse(ligne["statut"], bytes(ligne["corps"]))

    def servir(
        self,
        compte_id: UUID,
        cle: str,
        requete: bytes,
        encoder: Callable[[Any], bytes],
        commande: Callable[[DemandeIdempotente], Any],
        statut: int = 200,
        *,
        lire_d_abord: bool = True,
    ) -> Reponse:
        """The answer of `commande` (`statut`, `encoder` of what it returns), or the one stored for
        the key.

        `lire_d_abord` False: the key is not looked up before the command runs, for a command
        whose only effect is its save and whose save always carries the key's row (a booking:
        `store.chaine`): a key already served makes that save fail whole, and the stored answer
        is read then. A new key, nearly every request, is then served with one statement fewer
        (a fifth of the database's time in a booking loop, measured on the connections' CPU)."""
        empreinte = hashlib.sha256(requete).hexdigest()
        while (liberer := self._attendre_la_premiere(compte_id, cle)) is None:
            ligne = self._lire(compte_id, cle)
            if ligne is not None and (ligne["statut"] or ligne["empreinte"] != empreinte):
                return self._rejouer(ligne, empreinte)
            # The first one stored nothing (it failed): this one runs the command, if first now.
        try:
            return self._servir(compte_id, cle, empreinte, encoder, commande, statut, lire_d_abord)
        finally:
            liberer()

    def _servir(
        self,
        compte_id: UUID,
        cle: str,
        empreinte: str,
        encoder: Callable[[Any], bytes],
        commande: Callable[[DemandeIdempotente], Any],
        statut: int,
        lire_d_abord: bool,
    ) -> Reponse:
        if lire_d_abord:
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
            if lecture.ligne(self._ds, *self._reponse_seule(demande, statut, corps)) is None:
                return self._rejouer(self._lire(compte_id, cle), empreinte)
        elif not demande.corps:
            lecture.ligne(self._ds, *self._reponse_apres(demande, statut, corps))
        return Reponse(statut, corps)

    async def servir_async(
        self,
        compte_id: UUID,
        cle: str,
        requete: bytes,
        encoder: Callable[[Any], bytes],
        commande: Callable[[DemandeIdempotente], Awaitable[Any]],
        lecteur: LecteurAsync,
        statut: int = 200,
    ) -> Reponse | None:
        """`servir(…, lire_d_abord=False)` for a command awaited on the event loop; its reads
        and writes awaited too. None, having run nothing, when a request of this process serves
        the key already (a worker thread waits for it: `servir`) or when the command answers
        None (it must run in a worker thread)."""
        empreinte = hashlib.sha256(requete).hexdigest()
        with self._verrou:
            if (compte_id, cle) in self._en_cours:
                return None
            fin = threading.Event()
            # No thread is this request's: none asks again for the key from within it.
            self._en_cours[(compte_id, cle)] = (fin, 0)
        try:
            demande = DemandeIdempotente(compte_id, cle, empreinte, encoder)
            try:
                resultat = await commande(demande)
            except CleDejaServie:
                ligne = await lecteur.ligne(*self._lecture(compte_id, cle))
                if ligne is None:
                    raise
                return self._rejouer(ligne, empreinte)
            if resultat is None:
                return None
            corps = encoder(resultat)
            if demande.corps is None:
                if await lecteur.ligne(*self._reponse_seule(demande, statut, corps)) is None:
                    return self._rejouer(await lecteur.ligne(*self._lecture(compte_id, cle)), empreinte)
            elif not demande.corps:
                await lecteur.ligne(*self._reponse_apres(demande, statut, corps))
            return Reponse(statut, corps)
        finally:
            with self._verrou:
                del self._en_cours[(compte_id, cle)]
            fin.set()

    def relire(self, compte_id: UUID, cle: str) -> bytes | None:
        """The answer stored for an account's key (None: no answer yet): the page that shows a
        booking's outcome after the form's redirect reads it."""
        ligne = self._lire(compte_id, cle)
        return bytes(ligne["corps"]) if ligne is not None and ligne["statut"] > 0 else None
