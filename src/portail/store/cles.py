"""Per-subject data keys for crypto-shredding.

Every aggregate holding personal data (a family, a child, an account) has its own AES-256 key,
linked to its family. Keys are stored wrapped by the master key; erasing a family deletes the
keys of the family, its children and its accounts, after which their personal fields can no
longer be read anywhere, backups of the event log included.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portail.domain.erreurs import RegleMetier
from portail.store.ecoute import Ecoute
from portail.store.lecture import LectureBloquante

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore

CACHE_SECONDES = 30.0
"""How long a process trusts a key it read. A process that follows the erasures (`ecouter`, every
API process) forgets them all at the NOTIFY of an erasure made elsewhere, and keeps none while it
is not listening; in the others, this bounds how long they may still decrypt after an erasure."""


def canal_cles(schema: str) -> str:
    """The channel an erasure notifies, with the family's id, in the transaction deleting its
    keys. Per schema (hashed: a channel name is at most 63 bytes)."""
    return "portail_cles_" + hashlib.sha256(schema.encode()).hexdigest()[:16]


class SujetEfface(RegleMetier):
    """A key was asked to write personal data of an erased subject."""


@dataclass(frozen=True)
class Effacement:
    sujets: tuple[UUID, ...]


class Trousseau(ABC):
    """Holds the data keys; subclasses say where the wrapped keys live."""

    def __init__(self, cle_maitre: bytes) -> None:
        if len(cle_maitre) != 32:
            raise ValueError("la clé maîtresse doit faire 32 octets")
        self._maitre = AESGCM(cle_maitre)
        self._cache: dict[UUID, tuple[bytes, float]] = {}
        self._verrou = threading.Lock()
        self._local = threading.local()
        self._ecoute: Ecoute | None = None
        self.generation = 0
        """Moves each time the kept keys are forgotten: a key read before is not kept after."""

    # Wrapping

    def _envelopper(self, sujet_id: UUID, cle: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._maitre.encrypt(nonce, cle, sujet_id.bytes)

    def _deballer(self, sujet_id: UUID, enveloppe: bytes) -> bytes:
        return self._maitre.decrypt(enveloppe[:12], enveloppe[12:], sujet_id.bytes)

    # Public API

    def cle_pour_ecrire(self, sujet_id: UUID, famille_id: UUID | None) -> bytes:
        """The subject's key, created (and linked to its family) on first use."""
        cle = self._depuis_cache(sujet_id)
        if cle is not None:
            return cle
        generation = self.generation
        enveloppe = self._lire(sujet_id)
        if enveloppe is None:
            if self._est_efface(sujet_id):
                raise SujetEfface(
                    "Ces données personnelles ont été effacées ; elles ne peuvent plus être modifiées."
                )
            enveloppe = self._creer(
                sujet_id, famille_id, self._envelopper(sujet_id, AESGCM.generate_key(256))
            )
        cle = self._deballer(sujet_id, enveloppe)
        self._mettre_en_cache(sujet_id, cle, generation)
        return cle

    def cle_pour_evenement(self, sujet_id: UUID, famille_id: UUID | None, *, creation: bool) -> bytes:
        """The subject's key for an event being saved: a missing key is created in memory and its
        row is written by the save itself, in the events' transaction (`cles_en_attente`).

        The save refuses a key row for an erased subject or one that another writer stored
        first, so a key is never used unless it is the stored one. `creation` (the subject's
        first event) skips the lookup: a new subject has no key yet.
        """
        en_attente = self._en_attente()
        if sujet_id in en_attente:
            return en_attente[sujet_id][1]
        cle = self._depuis_cache(sujet_id)
        if cle is not None:
            return cle
        if not creation:
            generation = self.generation
            enveloppe, efface = self._lire_etat(sujet_id)
            if efface:
                raise SujetEfface(
                    "Ces données personnelles ont été effacées ; elles ne peuvent plus être modifiées."
                )
            if enveloppe is not None:
                cle = self._deballer(sujet_id, enveloppe)
                self._mettre_en_cache(sujet_id, cle, generation)
                return cle
        cle = AESGCM.generate_key(256)
        en_attente[sujet_id] = (famille_id, cle, self._envelopper(sujet_id, cle))
        return cle

    def _en_attente(self) -> dict[UUID, tuple[UUID | None, bytes, bytes]]:
        en_attente: dict[UUID, tuple[UUID | None, bytes, bytes]] | None = getattr(
            self._local, "en_attente", None
        )
        if en_attente is None:
            en_attente = {}
            self._local.en_attente = en_attente
        return en_attente

    def cles_en_attente(self) -> list[tuple[UUID, UUID | None, bytes]]:
        """The key rows (subject, family, wrapped key) the current save must write."""
        return [(sujet, famille, enveloppe) for sujet, (famille, _, enveloppe) in self._en_attente().items()]

    def abandonner_en_attente(self) -> None:
        self._en_attente().clear()

    def detacher_en_attente(self) -> dict[UUID, tuple[UUID | None, bytes, bytes]]:
        """The current save's new keys, taken from this thread: a save awaited on the event loop
        confirms them itself (`confirmer`) once committed, while the loop serves other commands."""
        en_attente = dict(self._en_attente())
        self._en_attente().clear()
        return en_attente

    def confirmer(self, detachees: dict[UUID, tuple[UUID | None, bytes, bytes]]) -> None:
        for sujet, (_, cle, _) in detachees.items():
            self._mettre_en_cache(sujet, cle)

    @contextmanager
    def sans_lecture(self) -> Iterator[None]:
        """Within the block, on this thread, a key that is not kept raises `LectureBloquante`
        instead of being read."""
        self._local.sans_lecture = True
        try:
            yield
        finally:
            self._local.sans_lecture = False

    def _lecture_permise(self) -> None:
        if getattr(self._local, "sans_lecture", False):
            raise LectureBloquante("clé à lire")

    def confirmer_en_attente(self) -> None:
        """The save committed: its new keys are the stored ones."""
        en_attente = self._en_attente()
        for sujet, (_, cle, _) in en_attente.items():
            self._mettre_en_cache(sujet, cle)
        en_attente.clear()

    def cle_pour_lire(self, sujet_id: UUID) -> bytes | None:
        """The subject's key, or None once erased."""
        cle = self._depuis_cache(sujet_id)
        if cle is not None:
            return cle
        generation = self.generation
        enveloppe = self._lire(sujet_id)
        if enveloppe is None:
            return None
        cle = self._deballer(sujet_id, enveloppe)
        self._mettre_en_cache(sujet_id, cle, generation)
        return cle

    def cache_fiable(self) -> bool:
        """Whether kept keys are used (erasures elsewhere are followed): else every key is read
        again from the database as it is needed."""
        return self._limite_cache() is not None

    def connue(self, sujet_id: UUID) -> bool:
        return self._depuis_cache(sujet_id) is not None

    def accepter(self, sujet_id: UUID, enveloppe: bytes, generation: int) -> None:
        """A subject's stored key, read along with something else (one round trip fewer) when
        the keys were at `generation`."""
        if self._depuis_cache(sujet_id) is None:
            self._mettre_en_cache(sujet_id, self._deballer(sujet_id, enveloppe), generation)

    def precharger(self, sujets: set[UUID | str]) -> None:
        """Read the keys of these subjects that are not in the cache, in one statement (a page of
        the log names hundreds of subjects)."""
        manquants = self._hors_cache(sujets)
        if not manquants:
            return
        generation = self.generation
        for sujet, enveloppe in self._lire_plusieurs(manquants):
            self._mettre_en_cache(sujet, self._deballer(sujet, enveloppe), generation)

    def _lire_plusieurs(self, sujets: list[UUID]) -> list[tuple[UUID, bytes]]:
        trouvees = [(s, self._lire(s)) for s in sujets]
        return [(s, e) for s, e in trouvees if e is not None]

    def effacer_famille(self, famille_id: UUID) -> Effacement:
        """Delete the keys of the family and of every subject linked to it."""
        sujets = self._supprimer(famille_id)
        with self._verrou:
            for sujet in sujets:
                self._cache.pop(sujet, None)
        return Effacement(tuple(sujets))

    def _hors_cache(self, sujets: set[UUID | str]) -> list[UUID]:
        """The subjects `_depuis_cache` would not find, under one lock and one clock reading."""
        candidats = [s for s in sujets if isinstance(s, UUID)]
        limite = self._limite_cache()
        if limite is None:
            return candidats
        with self._verrou:
            cache = self._cache
            return [s for s in candidats if (entree := cache.get(s)) is None or entree[1] < limite]

    def _depuis_cache(self, sujet_id: UUID) -> bytes | None:
        limite = self._limite_cache()
        if limite is None:
            return None
        with self._verrou:
            entree = self._cache.get(sujet_id)
        if entree is None or entree[1] < limite:
            return None
        return entree[0]

    def _limite_cache(self) -> float | None:
        """The earliest time a kept key may have been read at to be used; None while erasures made
        elsewhere may go unseen: every key is read again."""
        ecoute = self._ecoute
        if ecoute is not None and not ecoute.active.is_set():
            return None
        return time.monotonic() - CACHE_SECONDES

    def _mettre_en_cache(self, sujet_id: UUID, cle: bytes, generation: int | None = None) -> None:
        with self._verrou:
            if generation is None or generation == self.generation:
                self._cache[sujet_id] = (cle, time.monotonic())

    def oublier(self) -> None:
        """Forget every kept key (an erasure was made elsewhere)."""
        with self._verrou:
            self.generation += 1
            self._cache.clear()

    def arreter(self) -> None:
        if self._ecoute is not None:
            self._ecoute.arreter()
            self._ecoute = None

    # Storage

    @abstractmethod
    def _lire(self, sujet_id: UUID) -> bytes | None: ...

    @abstractmethod
    def _creer(self, sujet_id: UUID, famille_id: UUID | None, enveloppe: bytes) -> bytes:
        """Store the wrapped key unless one exists; return the one that is stored."""

    @abstractmethod
    def _supprimer(self, famille_id: UUID) -> list[UUID]: ...

    @abstractmethod
    def _est_efface(self, sujet_id: UUID) -> bool: ...

    def _lire_etat(self, sujet_id: UUID) -> tuple[bytes | None, bool]:
        """The wrapped key if stored, and whether the subject was erased."""
        return self._lire(sujet_id), self._est_efface(sujet_id)


class TrousseauMemoire(Trousseau):
    """For unit tests with in-memory persistence."""

    def __init__(self, cle_maitre: bytes) -> None:
        super().__init__(cle_maitre)
        self._cles: dict[UUID, tuple[UUID | None, bytes]] = {}
        self._effaces: set[UUID] = set()

    def cle_pour_evenement(self, sujet_id: UUID, famille_id: UUID | None, *, creation: bool) -> bytes:
        # In-memory persistence has no save transaction to carry the key row.
        return self.cle_pour_ecrire(sujet_id, famille_id)

    def _lire(self, sujet_id: UUID) -> bytes | None:
        entree = self._cles.get(sujet_id)
        return entree[1] if entree else None

    def _creer(self, sujet_id: UUID, famille_id: UUID | None, enveloppe: bytes) -> bytes:
        return self._cles.setdefault(sujet_id, (famille_id, enveloppe))[1]

    def _supprimer(self, famille_id: UUID) -> list[UUID]:
        sujets = [s for s, (f, _) in self._cles.items() if famille_id in (s, f)]
        for sujet in sujets:
            del self._cles[sujet]
        self._effaces.update(sujets)
        return sujets

    def _est_efface(self, sujet_id: UUID) -> bool:
        return sujet_id in self._effaces


class TrousseauPostgres(Trousseau):
    TABLE = "portail_cles"
    TABLE_EFFACES = "portail_sujets_effaces"

    def __init__(self, cle_maitre: bytes, datastore: PostgresDatastore) -> None:
        super().__init__(cle_maitre)
        self._ds = datastore
        schema = datastore.schema
        self._table = f"{schema}.{self.TABLE}"
        self._effaces = f"{schema}.{self.TABLE_EFFACES}"

    def creer_tables(self) -> None:
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                " sujet_id uuid PRIMARY KEY,"
                " famille_id uuid,"
                " cle bytea NOT NULL,"
                " cree_le timestamptz NOT NULL DEFAULT now())"
            )
            curs.execute(f"CREATE INDEX IF NOT EXISTS {self.TABLE}_famille_idx ON {self._table} (famille_id)")
            curs.execute(
                f"CREATE TABLE IF NOT EXISTS {self._effaces} ("
                " sujet_id uuid PRIMARY KEY,"
                " famille_id uuid,"
                " efface_le timestamptz NOT NULL DEFAULT now())"
            )

    @property
    def table(self) -> str:
        return self._table

    def ecouter(self, apres_oubli: Callable[[], None]) -> None:
        """Follow the erasures made by other processes (idempotent): at each, forget every key,
        then call `apres_oubli` (which drops what was decrypted with them). After a reconnection
        too, since a notification may have been lost meanwhile."""
        if self._ecoute is not None:
            return
        vues = {"connexions": 0}

        def reveil(famille: str | None) -> None:
            ecoute = self._ecoute
            reconnexion = ecoute is not None and ecoute.connexions != vues["connexions"]
            if famille is None and not reconnexion:
                return
            if ecoute is not None:
                vues["connexions"] = ecoute.connexions
            self.oublier()
            apres_oubli()

        self._ecoute = Ecoute(self._ds, [canal_cles(self._ds.schema)], reveil, "portail-cles")
        self._ecoute.demarrer()

    def _lire(self, sujet_id: UUID) -> bytes | None:
        self._lecture_permise()
        with self._ds.get_connection() as conn:
            ligne = conn.execute(
                f"SELECT cle FROM {self._table} WHERE sujet_id = %s", (sujet_id,), prepare=True
            ).fetchone()
        return bytes(ligne["cle"]) if ligne else None

    def _lire_plusieurs(self, sujets: list[UUID]) -> list[tuple[UUID, bytes]]:
        self._lecture_permise()
        with self._ds.get_connection() as conn:
            lignes = conn.execute(
                f"SELECT sujet_id, cle FROM {self._table} WHERE sujet_id = ANY(%s)", (sujets,), prepare=True
            ).fetchall()
        return [(ligne["sujet_id"], bytes(ligne["cle"])) for ligne in lignes]

    def _lire_etat(self, sujet_id: UUID) -> tuple[bytes | None, bool]:
        self._lecture_permise()
        with self._ds.get_connection() as conn:
            ligne = conn.execute(
                f"SELECT (SELECT cle FROM {self._table} WHERE sujet_id = %s) AS cle,"
                f" EXISTS (SELECT 1 FROM {self._effaces} WHERE sujet_id = %s) AS efface",
                (sujet_id, sujet_id),
                prepare=True,
            ).fetchone()
        assert ligne is not None
        return (bytes(ligne["cle"]) if ligne["cle"] is not None else None), bool(ligne["efface"])

    def _creer(self, sujet_id: UUID, famille_id: UUID | None, enveloppe: bytes) -> bytes:
        self._lecture_permise()
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {self._table} (sujet_id, famille_id, cle) VALUES (%s, %s, %s)"
                " ON CONFLICT (sujet_id) DO NOTHING",
                (sujet_id, famille_id, enveloppe),
            )
            curs.execute(f"SELECT cle FROM {self._table} WHERE sujet_id = %s", (sujet_id,))
            ligne = curs.fetchone()
        assert ligne is not None
        return bytes(ligne["cle"])

    def _supprimer(self, famille_id: UUID) -> list[UUID]:
        with self._ds.transaction(commit=True) as curs:
            curs.execute(
                f"DELETE FROM {self._table} WHERE sujet_id = %s OR famille_id = %s RETURNING sujet_id",
                (famille_id, famille_id),
            )
            sujets = [ligne["sujet_id"] for ligne in curs.fetchall()]
            for sujet in sujets:
                curs.execute(
                    f"INSERT INTO {self._effaces} (sujet_id, famille_id) VALUES (%s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (sujet, famille_id),
                )
            # Delivered at commit: the other processes forget the keys they keep (`ecouter`).
            curs.execute("SELECT pg_notify(%s, %s)", (canal_cles(self._ds.schema), str(famille_id)))
        return sujets

    def _est_efface(self, sujet_id: UUID) -> bool:
        with self._ds.get_connection() as conn:
            return (
                conn.execute(
                    f"SELECT 1 FROM {self._effaces} WHERE sujet_id = %s", (sujet_id,), prepare=True
                ).fetchone()
                is not None
            )
