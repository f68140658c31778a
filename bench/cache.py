"""A generated commune kept on disk, so that a rerun of `portail bench` loads it in a minute instead
of writing it again through the application (about 18 minutes at 10,000 children).

The dump holds the tables that are the commune's truth and nothing the application derives from
them again: the events table and its hash chain, the encryption keys and erased subjects, the
aggregate-to-family links the save function writes with the events (`portail_sujets`), the
snapshots, the idempotency answers, and whatever else the application creates outside the read
models (revoked tokens, failed logins, job markers). The read models are every `proj_*` table,
the tracking rows (`proj_tracking`) and the drafts (`proj_brouillons`) included: `portail
projections rebuild` empties and refills all of them from the log, so a loaded commune gets them
from the application's own rebuild (`reconstruire_vues`), never from the file. Snapshots are
derived from the log too, but no rebuild writes them and aggregates load from them: they travel.

One file per key: the number of children, the seed, the event format and the version of the
dumped tables' layout (a digest of their columns and types as the application creates them), so a
change to a read model's columns leaves the dump usable, and a dump of another layout of the
dumped tables or of another format is never loaded. It holds what the run needs besides the rows:
the master key the events were encrypted with and the commune's description. The rows travel as
PostgreSQL binary COPY streams, one table after the other, in blocks with a length prefix, in the
order the header lists the tables. Dumps written before this selection (every table, the read
models too, keyed by every table's layout) still load: their read-model streams are skipped, and
their dumped tables are checked against the ones created here like any other dump's.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import psycopg
from psycopg import sql

from bench.commun import format_evenements
from portail.application.portail import Portail
from portail.generation import CommuneGeneree, FamilleGeneree
from portail.projections.executeur import Projecteur

MAGIQUE = b"portail-banc-commune 1\n"
GZIP = b"\x1f\x8b"
NIVEAU_GZIP = 1
"""zlib's fastest level: the encrypted payloads barely compress, and a higher level costs more time
than the disk it saves (docs/performance.md)."""
TAILLE_BLOC = 1 << 20


class _Lecteur(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _Ecrivain(Protocol):
    def write(self, donnees: bytes | bytearray, /) -> int: ...


class DumpIncompatible(Exception):
    """The file is not a dump of this key, or the tables it holds are not the ones created here."""


@dataclass(frozen=True)
class DumpCharge:
    commune: CommuneGeneree
    master_key: str
    generation_s: float | None
    """What generating this commune took, when it was written."""
    seconds: float
    rows: int


def _colonnes(conn: psycopg.Connection[Any], schema: str) -> dict[str, list[list[str]]]:
    """Every table of the schema with its columns (name, type, NOT NULL), in their order."""
    lignes = conn.execute(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum
        """,
        (schema,),
    ).fetchall()
    tables: dict[str, list[list[str]]] = {}
    for table, colonne, type_, non_nul in lignes:
        tables.setdefault(table, []).append([colonne, type_, "not null" if non_nul else "null"])
    return tables


def est_vue(table: str) -> bool:
    """A read model or its tracking: emptied and refilled from the log by the rebuild."""
    return table.startswith("proj_")


def _dumpees(tables: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    return {table: colonnes for table, colonnes in tables.items() if not est_vue(table)}


def version_schema(url: str, schema: str) -> str:
    """A digest of the dumped tables' layout as the application creates them in `schema` (the read
    models' columns are not in it)."""
    with psycopg.connect(url) as conn:
        tables = _dumpees(_colonnes(conn, schema))
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()[:12]


def chemin_dump(dossier: Path, enfants: int, graine: int, version: str) -> Path:
    return dossier / f"commune-{enfants}-seed{graine}-{format_evenements()}-{version}.copy.gz"


def dumps_candidats(dossier: Path, enfants: int, graine: int, version: str) -> list[Path]:
    """The dumps of this commune and event format that may fit: the file of this layout first, then
    any other (a dump of every table is named after every table's layout, and loads if its dumped
    tables are still the ones created here: `charger` checks)."""
    exact = chemin_dump(dossier, enfants, graine, version)
    autres = sorted(
        p
        for p in dossier.glob(f"commune-{enfants}-seed{graine}-{format_evenements()}-*.copy.gz")
        if p != exact
    )
    return [exact, *autres] if exact.exists() else autres


def commune_en_json(commune: CommuneGeneree) -> dict[str, Any]:
    return {
        "familles": [
            {
                "famille_id": str(f.famille_id),
                "compte_id": str(f.compte_id),
                "email": f.email,
                "enfants": [str(e) for e in f.enfants],
                "resident": f.resident,
            }
            for f in commune.familles
        ],
        "periscolaire_id": str(commune.periscolaire_id),
        "mercredis_id": str(commune.mercredis_id),
        "vacances_ids": [str(i) for i in commune.vacances_ids],
        "evenements": commune.evenements,
    }


def commune_depuis_json(donnees: dict[str, Any]) -> CommuneGeneree:
    return CommuneGeneree(
        familles=tuple(
            FamilleGeneree(
                famille_id=UUID(f["famille_id"]),
                compte_id=UUID(f["compte_id"]),
                email=f["email"],
                enfants=tuple(UUID(e) for e in f["enfants"]),
                resident=f["resident"],
            )
            for f in donnees["familles"]
        ),
        periscolaire_id=UUID(donnees["periscolaire_id"]),
        mercredis_id=UUID(donnees["mercredis_id"]),
        vacances_ids=tuple(UUID(i) for i in donnees["vacances_ids"]),
        evenements=int(donnees["evenements"]),
    )


def _ecrire_bloc(fichier: _Ecrivain, donnees: bytes | bytearray) -> None:
    fichier.write(len(donnees).to_bytes(4, "big"))
    fichier.write(donnees)


def _lire_bloc(fichier: _Lecteur) -> bytes:
    entete = fichier.read(4)
    if len(entete) != 4:
        raise DumpIncompatible("fichier tronqué")
    taille = int.from_bytes(entete, "big")
    donnees = fichier.read(taille)
    if len(donnees) != taille:
        raise DumpIncompatible("fichier tronqué")
    return donnees


@contextmanager
def _ouvrir(chemin: Path) -> Iterator[_Lecteur]:
    with chemin.open("rb") as brut:
        compresse = brut.read(2) == GZIP
        brut.seek(0)
        if compresse:
            with gzip.GzipFile(fileobj=brut, mode="rb") as fichier:
                yield fichier
        else:
            yield brut


def sauver(
    url: str,
    schema: str,
    chemin: Path,
    *,
    enfants: int,
    graine: int,
    version: str,
    commune: CommuneGeneree,
    master_key: str,
    generation_s: float,
    niveau_gzip: int = NIVEAU_GZIP,
    avec_vues: bool = False,
) -> float:
    """Write the tables of `schema` that are not read models into `chemin` (through a temporary
    file, so a run stopped halfway leaves no dump); returns the seconds it took. `avec_vues` writes
    the read models too, as the dumps of every table did: only to check that those still load."""
    debut = time.perf_counter()
    chemin.parent.mkdir(parents=True, exist_ok=True)
    provisoire = chemin.with_name(f".{chemin.name}.{os.getpid()}")
    try:
        with psycopg.connect(url) as conn:
            # One snapshot for every table: the dump is one consistent state of the schema.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            tables = _colonnes(conn, schema)
            if not avec_vues:
                tables = _dumpees(tables)
            entete = {
                "enfants": enfants,
                "seed": graine,
                "format": format_evenements(),
                "schema_version": version,
                "master_key": master_key,
                "generation_s": round(generation_s, 1),
                "commune": commune_en_json(commune),
                "tables": tables,
            }
            with provisoire.open("wb") as brut:
                fichier: _Ecrivain = brut
                if niveau_gzip:
                    fichier = gzip.GzipFile(fileobj=brut, mode="wb", compresslevel=niveau_gzip, mtime=0)
                fichier.write(MAGIQUE)
                _ecrire_bloc(fichier, json.dumps(entete).encode())
                with conn.cursor() as curs:
                    for table, colonnes in tables.items():
                        requete = sql.SQL("COPY {} ({}) TO STDOUT (FORMAT binary)").format(
                            sql.Identifier(schema, table),
                            sql.SQL(", ").join(sql.Identifier(c[0]) for c in colonnes),
                        )
                        tampon = bytearray()
                        with curs.copy(requete) as copie:
                            for donnees in copie:
                                tampon += donnees
                                if len(tampon) >= TAILLE_BLOC:
                                    _ecrire_bloc(fichier, tampon)
                                    tampon.clear()
                        if tampon:
                            _ecrire_bloc(fichier, tampon)
                        _ecrire_bloc(fichier, b"")  # end of this table
                if isinstance(fichier, gzip.GzipFile):
                    fichier.close()
        os.replace(provisoire, chemin)
    finally:
        provisoire.unlink(missing_ok=True)
    # Dumps of an older layout or format for the same commune can never be loaded again.
    for ancien in chemin.parent.glob(f"commune-{enfants}-seed{graine}-*.copy.gz"):
        if ancien != chemin:
            ancien.unlink(missing_ok=True)
    return time.perf_counter() - debut


def lire_entete(chemin: Path) -> dict[str, Any]:
    with _ouvrir(chemin) as fichier:
        if fichier.read(len(MAGIQUE)) != MAGIQUE:
            raise DumpIncompatible("pas un dump de commune du banc")
        entete: dict[str, Any] = json.loads(_lire_bloc(fichier))
        return entete


def charger(url: str, schema: str, chemin: Path, *, enfants: int, graine: int) -> DumpCharge:
    """Put the dumped rows into `schema`, whose tables the application has just created (empty,
    or with what its start wrote: replaced). Refuses a dump of another key or whose dumped tables
    are not laid out as here. The read models are left as the start made them, behind the log:
    `reconstruire_vues` fills them before anything reads them."""
    debut = time.perf_counter()
    lignes = 0
    with _ouvrir(chemin) as fichier, psycopg.connect(url) as conn:
        if fichier.read(len(MAGIQUE)) != MAGIQUE:
            raise DumpIncompatible("pas un dump de commune du banc")
        entete: dict[str, Any] = json.loads(_lire_bloc(fichier))
        attendu = {"enfants": enfants, "seed": graine, "format": format_evenements()}
        recu = {cle: entete.get(cle) for cle in attendu}
        if recu != attendu:
            raise DumpIncompatible(f"dump de {recu}, attendu {attendu}")
        ecrites: dict[str, list[list[str]]] = entete["tables"]
        tables = _dumpees(ecrites)
        if tables != _dumpees(_colonnes(conn, schema)):
            raise DumpIncompatible("les tables du dump ne sont pas celles que l'application crée")
        with conn.cursor() as curs:
            # Truncated in this transaction, the tables take FREEZE: rows land already frozen and
            # visible to all, as a long-lived database's would be, and nothing is rewritten later.
            curs.execute(
                sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(schema, t) for t in tables))
            )
            # In the order written; a dump of every table also carries the read models: skipped.
            for table in ecrites:
                if table not in tables:
                    while _lire_bloc(fichier):
                        pass
                    continue
                colonnes = tables[table]
                requete = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE)").format(
                    sql.Identifier(schema, table),
                    sql.SQL(", ").join(sql.Identifier(c[0]) for c in colonnes),
                )
                with curs.copy(requete) as copie:
                    while donnees := _lire_bloc(fichier):
                        copie.write(donnees)
                lignes += curs.rowcount
            _recaler_sequences(conn, schema)
        conn.commit()
        conn.autocommit = True
        for table in tables:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
    return DumpCharge(
        commune=commune_depuis_json(entete["commune"]),
        master_key=str(entete["master_key"]),
        generation_s=entete.get("generation_s"),
        seconds=time.perf_counter() - debut,
        rows=lignes,
    )


@dataclass(frozen=True)
class Reconstruction:
    events: int
    seconds: float
    """Replaying the whole log into every read model."""
    drafts_seconds: float
    """Then pricing the drafts of every family-month once."""


def reconstruire_vues(portail: Portail, apres_replay: Callable[[], object] | None = None) -> Reconstruction:
    """What `portail projections rebuild` does: every read model emptied and replayed from the
    whole log, the drafts left out of the replay, then priced once by the catch-up that follows.
    `apres_replay` runs between the two, timed by neither."""
    projecteur = Projecteur(portail)
    debut = time.perf_counter()
    relus = projecteur.reconstruire(brouillons=False)
    reconstruction = time.perf_counter() - debut
    if apres_replay is not None:
        apres_replay()
    debut = time.perf_counter()
    projecteur.rattraper()
    return Reconstruction(relus, reconstruction, time.perf_counter() - debut)


def _recaler_sequences(conn: psycopg.Connection[Any], schema: str) -> None:
    """COPY writes the positions it is given: each column's sequence continues after its maximum."""
    sequences = conn.execute(
        """
        SELECT s.relname, t.relname, a.attname
        FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        JOIN pg_namespace n ON n.oid = s.relnamespace
        WHERE n.nspname = %s AND d.deptype IN ('a', 'i')
        """,
        (schema,),
    ).fetchall()
    for sequence, table, colonne in sequences:
        conn.execute(
            sql.SQL("SELECT setval({}::regclass, COALESCE(max({}), 0) + 1, false) FROM {}").format(
                sql.Literal(sql.Identifier(schema, sequence).as_string(conn)),
                sql.Identifier(colonne),
                sql.Identifier(schema, table),
            )
        )
