"""The event log's writer and its tamper-evident chain.

Every save is one statement: `portail_enregistrer`, a PL/pgSQL function created with the tables,
takes the log's lock, writes the new key rows, the events, the idempotency rows and the read rows
of each command group (a savepoint per group: one group may fail while the others commit), then
one chain row for the whole transaction, hashed by PostgreSQL's own `sha256()`, and notifies the
log's followers. Holding the lock for one statement instead of several round trips is what lets
writers of every process follow each other closely.

The chain row of a transaction keeps each event's own digest,
`sha256("<position>|<aggregate id>|<version>|<topic>|" || stored bytes)`, and its hash is
`sha256(previous row's hash || digest_1 || … || digest_n)`. Rows written before this function kept
one chain row per event, `sha256(previous hash || "<position>|…|" || stored bytes)`; they are never
rewritten and `verifier` walks both kinds, naming the first event altered, removed, added or moved.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import TopicError, resolve_topic, retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.types.json import Jsonb

from portail.store.cles import SujetEfface
from portail.store.connexion_tenue import ConnexionTenue, Instruction, erreur_persistance
from portail.store.ecoute import canal_journal
from portail.store.ecrivain import Depot, Ecrivain
from portail.store.idempotence import CleDejaServie
from portail.store.index_audit import IndexAudit
from portail.store.tableaux import tableau

if TYPE_CHECKING:
    from portail.store.cache_agregats import CacheAgregats
    from portail.store.cles import Trousseau


class _TopicsPersonnels(dict[str, bool]):
    """Whether a topic's events carry personal data, by topic: a dict (read at C speed for each
    event of a page) that resolves a topic the first time it is asked."""

    def __missing__(self, topic: str) -> bool:
        try:
            cls = resolve_topic(topic)
        except TopicError:
            connu = False
        else:
            connu = bool(getattr(cls, "PERSONNEL", ())) or bool(getattr(cls, "SUJET_PERSONNEL", False))
        self[topic] = connu
        return connu


_TOPICS_PERSONNELS = _TopicsPersonnels()
"""Topics whose events may hold an encrypted value (personal fields or the audit reason)."""

GENESE = b"\x00" * 32
FONCTION = "portail_enregistrer"
EVENEMENTS_UN_A_UN = 4
"""Events of a lone group inserted one statement each (fewer than a set statement costs)."""
TABLE_SUJETS = "portail_sujets"
ORDRE_TABLES = {"proj_plannings": 0, "proj_capacites": 1, "proj_calendrier": 2, "proj_occupation": 3}
"""The order read rows are written in, by the runner (`projections.lot.Lot`), the commands
(`projections.en_ligne`) and the save function alike (then each table's rows by key): two writers
never lock the same rows in opposite orders."""
FORMES_LIGNES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "proj_plannings": (("planning_id",), ("planning_id", "enfant_id", "accueil_id", "famille_id")),
    "proj_capacites": (("capacite_id",), ("capacite_id", "accueil_id", "jour")),
    "proj_calendrier": (
        ("enfant_id", "accueil_id", "jour", "unite"),
        (
            *("enfant_id", "accueil_id", "jour", "unite", "famille_id", "etat", "majoration_cents"),
            *("majoration_pourcent", "facturable", "arrivee", "depart", "version"),
        ),
    ),
    "proj_occupation": (
        ("accueil_id", "jour", "unite"),
        ("accueil_id", "jour", "unite", "reserves", "attente", "version"),
    ),
}
"""The read rows commands write (`projections.en_ligne`), by table: key columns, then every column.
The save function writes a row of exactly this shape with a statement planned once per session;
any other shape goes through a statement built at each call (a booking's save spent 1.3 ms of its
2.4 ms in PostgreSQL building and planning those)."""
TYPES_PARAMETRES = (
    *("integer", "uuid", "bigint", "text", "bytea"),
    *("uuid", "uuid", "uuid", "text", "text", "timestamptz"),
    *("integer", "uuid", "bigint"),
    *("integer", "uuid", "uuid", "bytea"),
    *("integer", "uuid", "text", "text", "integer", "bytea"),
    *("integer", "text", "text", "jsonb"),
    *("integer", "integer"),
)
"""The save function's parameters, in order: each an array of this type (`store.tableaux`)."""
VUE_JOURNAL = "portail_journal"
"""The auditors' index over the events table, with the columns the earlier read model had."""


def entete(position: int, originator_id: Any, version: int, topic: str) -> bytes:
    return f"{position}|{originator_id}|{version}|{topic}|".encode()


def empreinte(
    precedente: bytes, position: int, originator_id: Any, version: int, topic: str, etat: bytes
) -> bytes:
    """The hash of a chain row of the earlier kind (one row per event)."""
    contenu = hashlib.sha256()
    contenu.update(precedente)
    contenu.update(entete(position, originator_id, version, topic))
    contenu.update(etat)
    return contenu.digest()


def empreinte_evenement(position: int, originator_id: Any, version: int, topic: str, etat: bytes) -> bytes:
    """An event's own digest, as the save function computes it."""
    return hashlib.sha256(entete(position, originator_id, version, topic) + etat).digest()


# Writing


@dataclass(frozen=True)
class EvenementStocke(StoredEvent):
    """A stored event with the auditors' index the save writes beside it."""

    index: IndexAudit | None = None


@dataclass(frozen=True)
class LigneIdempotence:
    """A command's idempotency key and its stored answer, written with its events."""

    compte_id: UUID
    cle: str
    empreinte: str
    statut: int
    corps: bytes


@dataclass(frozen=True)
class LigneLecture:
    """A read row a command writes in its own transaction (upserted on its key columns). The rows
    of one table in one group are written by one statement: they have the same columns and
    distinct keys; with a `version` column, a row only replaces one of a lower version."""

    table: str
    cles: tuple[str, ...]
    valeurs: dict[str, Any]


@dataclass(frozen=True)
class Groupe:
    """One command's writes: they all commit, or none of them and the other groups still do."""

    evenements: Sequence[StoredEvent] = ()
    versions: Sequence[tuple[UUID, int]] = ()
    """Aggregates the command read without changing them, at the version it read (0: none)."""
    cles: Sequence[tuple[UUID, UUID | None, bytes]] = ()
    """New key rows: subject, family, wrapped key."""
    idempotence: LigneIdempotence | None = None
    lignes: Sequence[LigneLecture] = ()


@dataclass(frozen=True)
class Resultat:
    statut: str
    """`ok`, `conflit` (another writer was first), `efface` (a subject erased) or `erreur`."""
    positions: list[int] = field(default_factory=list)
    detail: str | None = None


CLE_DEJA_SERVIE = "clé d'idempotence déjà servie"
DEPENDANCE_ECHOUEE = "décidé sur un enregistrement qui a échoué"
VERSION_LUE_DEPASSEE = "version lue dépassée"


class VersionLueDepassee(IntegrityError):
    """An aggregate the command read and left as it was (`Groupe.versions`) changed meanwhile."""


class RecorderChaine(PostgresApplicationRecorder):
    """Saves through `portail_enregistrer`; reads as the library does."""

    trousseau: Trousseau | None = None
    """Set by the application: the save writes the key rows its mapping created."""
    cache_agregats: CacheAgregats | None = None
    """Set by the application: told of each call and of the events it committed."""

    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema
        self.table_chaine = f"{schema}.{events_table_name}_chaine"
        self.fonction = f"{schema}.{FONCTION}"
        self.ecrivain: Ecrivain[Groupe, Resultat] = Ecrivain(
            lambda appel: self.enregistrer(appel.groupes, appel.dependances),
            echec=lambda _: Resultat("conflit", detail=DEPENDANCE_ECHOUEE),
            reussi=lambda resultat: resultat is not None and resultat.statut == "ok",
        )
        """Concurrent saves of this process share one call (group commit)."""
        self.connexion_tenue = ConnexionTenue(datastore)
        """The connection saves go through (`store.connexion_tenue`)."""
        debut = f"SELECT o_groupe, o_statut, o_positions, o_detail FROM {self.fonction}("
        self._appel = Instruction(
            FONCTION.encode(),
            debut + ", ".join(f"%b::{t}[]" for t in TYPES_PARAMETRES) + ")",
            (debut + ", ".join(f"${n}::{t}[]" for n, t in enumerate(TYPES_PARAMETRES, 1)) + ")").encode(),
        )

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        # Never rebuilt from the log: a chain table dropped to hide an edit then shows every
        # existing event as unchained. Adding columns rewrites no row.
        curs.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table_chaine} (position bigint PRIMARY KEY, hash bytea NOT NULL)"
        )
        curs.execute(
            f"ALTER TABLE {self.table_chaine} ADD COLUMN IF NOT EXISTS premiere bigint,"
            " ADD COLUMN IF NOT EXISTS positions bigint[], ADD COLUMN IF NOT EXISTS empreintes bytea[]"
        )
        for instruction in _index_sql(self.datastore.schema, self.events_table_name):
            curs.execute(instruction)
        curs.execute(_reparation_liens_sql(self.datastore.schema, self.events_table_name))
        # The function before saves could depend on each other (two arrays fewer): a distinct
        # signature, so it is dropped by its own (a no-op once gone; the current one is untouched).
        curs.execute(
            f"DROP FUNCTION IF EXISTS {self.fonction}({', '.join(t + '[]' for t in TYPES_PARAMETRES[:-2])})"
        )
        curs.execute(
            _fonction_sql(
                self.datastore.schema, self.events_table_name, canal_journal(self.events_table_name)
            )
        )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """One command's save (the library's path): its events, the key rows its mapping made,
        and what the caller passed to `Application.save(**kwargs)`: `versions`, `idempotence`,
        `lignes` (see `Groupe`); `dependances`, the saves of this process it was decided on top
        of, and `apres_depot(depot)`, called once the save is queued and before it is written
        (the command publishes its state and lets the next one decide)."""
        trousseau = self.trousseau
        groupe = self.groupe(
            stored_events, trousseau.cles_en_attente() if trousseau is not None else [], kwargs
        )
        try:
            resultat: Resultat = self._deposer(
                groupe, kwargs.get("dependances", ()), kwargs.get("apres_depot")
            )
        except BaseException:
            if trousseau is not None:
                trousseau.abandonner_en_attente()
            raise
        try:
            positions = self.issue(groupe, resultat)
        except Exception:
            if trousseau is not None:
                trousseau.abandonner_en_attente()
            raise
        if trousseau is not None:
            trousseau.confirmer_en_attente()
        return positions

    @staticmethod
    def groupe(
        stored_events: Sequence[StoredEvent], cles: Sequence[tuple[UUID, UUID | None, bytes]], kwargs: Any
    ) -> Groupe:
        """A save's group: its events, the key rows its mapping made, and what the caller passed
        (`insert_events`)."""
        return Groupe(
            evenements=stored_events,
            versions=kwargs.get("versions", ()),
            cles=cles,
            idempotence=kwargs.get("idempotence"),
            lignes=kwargs.get("lignes", ()),
        )

    @staticmethod
    def issue(groupe: Groupe, resultat: Resultat) -> list[int]:
        """A finished save's positions, or what failed it: another writer first (`IntegrityError`),
        the key already served (`CleDejaServie`), a subject erased (`SujetEfface`)."""
        if resultat.statut == "ok":
            return resultat.positions
        if resultat.statut == "conflit":
            if groupe.idempotence is not None and (resultat.detail or "").startswith(CLE_DEJA_SERVIE):
                raise CleDejaServie(resultat.detail)
            if resultat.detail == VERSION_LUE_DEPASSEE:
                raise VersionLueDepassee(resultat.detail)
            raise IntegrityError(resultat.detail or "conflit")
        if resultat.statut == "efface":
            raise SujetEfface(
                "Ces données personnelles ont été effacées ; elles ne peuvent plus être modifiées."
            )
        raise DataError(resultat.detail or "erreur")

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _deposer(
        self,
        groupe: Groupe,
        dependances: Sequence[Depot[Groupe, Resultat]],
        apres_depot: Callable[[Depot[Groupe, Resultat]], None] | None,
    ) -> Resultat:
        """The group deposited with the writer, then its result. A save cut off with its connection
        (a server restart) is deposited again with the same rows: its new key rows among them, since
        its events were encrypted with those keys."""
        depot = self.ecrivain.deposer(groupe, dependances)
        if apres_depot is not None:
            apres_depot(depot)
        return depot.attendre()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's page of the log, reading only the columns a notification holds, as
        tuples; the keys of the page's personal subjects are then read in one statement."""
        conditions = []
        parametres: list[Any] = []
        if start is not None:
            conditions.append("notification_id >= %s" if inclusive_of_start else "notification_id > %s")
            parametres.append(start)
        if stop is not None:
            conditions.append("notification_id <= %s")
            parametres.append(stop)
        if topics:
            conditions.append("topic = ANY(%s)")
            parametres.append(list(topics))
        parametres.append(limit)
        requete = (
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM {self.datastore.schema}.{self.events_table_name}"
            + (" WHERE " + " AND ".join(conditions) if conditions else "")
            + " ORDER BY notification_id LIMIT %s"
        )
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            # Binary: the states travel as bytes, not as hex text (`lecture.tuples`).
            curs.execute(requete, parametres, prepare=True, binary=True)
            page = [
                Notification(id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=r[4])
                for r in curs.fetchall()
            ]
        if self.trousseau is not None and page:
            self.trousseau.precharger({n.originator_id for n in page if _TOPICS_PERSONNELS[n.topic]})
        return page

    def sans_index(self, apres: int, limite: int) -> list[Notification]:
        """Events written before the index columns existed (their index is still empty)."""
        with self.datastore.get_connection() as conn:
            lignes = conn.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {self.datastore.schema}.{self.events_table_name}"
                " WHERE horodatage IS NULL AND notification_id > %s ORDER BY notification_id LIMIT %s",
                (apres, limite),
                prepare=True,
            ).fetchall()
        return [
            Notification(
                id=r["notification_id"],
                originator_id=r["originator_id"],
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in lignes
        ]

    def completer_index(self, index: Sequence[tuple[int, UUID | str, IndexAudit]]) -> None:
        """Fill the index of earlier events, in log order (the links of later events come from
        the first ones). The hashed columns are not touched, so the chain is unchanged."""
        if not index:
            return
        t = f"{self.datastore.schema}.{self.events_table_name}"
        sujets = f"{self.datastore.schema}.{TABLE_SUJETS}"
        colonnes = list(zip(*[(p, a, *dataclasses.astuple(i)) for p, a, i in index], strict=True))
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                f"INSERT INTO {sujets} (agregat_id, famille_id, enfant_id)"
                " SELECT DISTINCT ON (a) a, f, e FROM unnest(%b::uuid[], %b::uuid[], %b::uuid[]) WITH ORDINALITY"
                " AS x(a, f, e, r) WHERE f IS NOT NULL OR e IS NOT NULL ORDER BY a, f IS NULL, r"
                " ON CONFLICT (agregat_id) DO NOTHING",
                (list(colonnes[1]), list(colonnes[2]), list(colonnes[3])),
            )
            curs.execute(
                f"UPDATE {t} AS ev SET famille_id = coalesce(x.f, s.famille_id), enfant_id = coalesce(x.e, s.enfant_id),"
                " acteur_compte_id = x.c, role = x.ro, correlation_id = x.co, horodatage = x.h"
                " FROM unnest(%b::bigint[], %b::uuid[], %b::uuid[], %b::uuid[], %b::uuid[], %b::text[], %b::text[],"
                " %b::timestamptz[]) AS x(p, a, f, e, c, ro, co, h)"
                f" LEFT JOIN {sujets} s ON s.agregat_id = x.a WHERE ev.notification_id = x.p",
                [list(c) for c in colonnes],
            )

    def enregistrer(
        self, groupes: Sequence[Groupe], dependances: Sequence[tuple[int, int]] = ()
    ) -> list[Resultat]:
        """Several command groups in one statement and one transaction; a result per group.
        `dependances`: (group, group it was decided on top of), which must commit first."""
        if not any(g.evenements or g.idempotence or g.lignes for g in groupes):
            return [Resultat("ok") for _ in groupes]
        cache = self.cache_agregats
        if cache is not None:
            cache.debut_ecriture()
        sortie: list[Resultat] = []
        try:
            sortie = self._appeler(groupes, dependances)
        finally:
            if cache is not None:
                cache.fin_ecriture(
                    (position, x.originator_id, x.originator_version, x.topic)
                    for groupe, resultat in zip(groupes, sortie, strict=False)
                    if resultat.statut == "ok"
                    for x, position in zip(groupe.evenements, resultat.positions, strict=False)
                )
        return sortie

    def _appeler(self, groupes: Sequence[Groupe], dependances: Sequence[tuple[int, int]]) -> list[Resultat]:
        parametres = _parametres(groupes)
        parametres += [
            tableau("integer", [d[0] for d in dependances]),
            tableau("integer", [d[1] for d in dependances]),
        ]
        try:
            lignes = self.connexion_tenue.executer(self._appel, parametres)
        except psycopg.Error as erreur:
            seul = _groupe_seul(groupes, dependances)
            issue = _issue_du_groupe_seul(erreur) if seul is not None else None
            if issue is None:
                raise erreur_persistance(erreur) from erreur
            return [issue if n == seul else Resultat("ok") for n in range(len(groupes))]
        # (o_groupe, o_statut, o_positions, o_detail)
        resultats = {ligne[0]: ligne for ligne in lignes}
        sortie = []
        for numero in range(len(groupes)):
            ligne = resultats.get(numero)
            if ligne is None:
                sortie.append(Resultat("ok"))
            else:
                sortie.append(Resultat(ligne[1], list(ligne[2] or ()), ligne[3]))
        return sortie


_CONFLITS = frozenset({"23505", "PF002", "40P01", "55P03"})
"""A unique key taken, a stale read, a deadlock, a lock wait cut short: another writer was first."""
_HORS_DU_GROUPE = frozenset({"08", "53", "57", "58", "XX"})
"""Classes of SQLSTATE that say nothing of the group's rows (the connection, the server's
resources or state): raised to the caller, as from any statement."""


def _groupe_seul(groupes: Sequence[Groupe], dependances: Sequence[tuple[int, int]]) -> int | None:
    """The call's only group with something to write, as the function counts them (it then
    writes it without a savepoint), else None."""
    ecrivent = [
        n
        for n, g in enumerate(groupes)
        if g.evenements or g.versions or g.cles or g.idempotence is not None or g.lignes
    ]
    # The function counts a dependent group (`d_groupe`), not the group it depends on.
    ecrivent += [d[0] for d in dependances if d[0] not in ecrivent]
    return ecrivent[0] if len(ecrivent) == 1 else None


def _issue_du_groupe_seul(erreur: psycopg.Error) -> Resultat | None:
    """A lone group's outcome from the error its save raised, as the group path's handlers name
    it; None for an error that is not the group's (the connection, the server)."""
    etat = erreur.sqlstate
    if etat is None or etat[:2] in _HORS_DU_GROUPE:
        return None
    message = erreur.diag.message_primary or str(erreur)
    if etat in _CONFLITS:
        return Resultat("conflit", detail=message)
    if etat == "PF001":
        return Resultat("efface", detail=message)
    return Resultat("erreur", detail=f"{etat} {message}")


def _json(valeurs: Any) -> str:
    """Read rows as JSON: ids, dates and times as text, which `jsonb_populate_record` casts back."""
    return msgspec.json.encode(valeurs).decode()


def _parametres(groupes: Sequence[Groupe]) -> list[list[Any]]:
    """The function's arrays but the dependencies': each kind of row, one array per column."""
    e: list[tuple[Any, ...]] = []
    vide = IndexAudit(None, None, None, None, None, None)  # type: ignore[arg-type]
    v: list[tuple[Any, ...]] = []
    k: list[tuple[Any, ...]] = []
    i: list[tuple[Any, ...]] = []
    lg: list[tuple[Any, ...]] = []
    for n, groupe in enumerate(groupes):
        for x in groupe.evenements:
            index = getattr(x, "index", None) or vide
            e.append(
                (
                    *(n, x.originator_id, x.originator_version, x.topic, x.state),
                    *(index.famille_id, index.enfant_id, index.acteur_compte_id),
                    *(index.role, index.correlation_id, index.horodatage),
                )
            )
        v += [(n, aggregat_id, version) for aggregat_id, version in groupe.versions]
        k += [(n, sujet, famille, cle) for sujet, famille, cle in groupe.cles]
        if groupe.idempotence is not None:
            idem = groupe.idempotence
            i.append((n, idem.compte_id, idem.cle, idem.empreinte, idem.statut, idem.corps))
        lg += [(n, x.table, ",".join(x.cles), Jsonb(x.valeurs, dumps=_json)) for x in groupe.lignes]
    colonnes: list[list[Any]] = []
    for lignes, largeur in ((e, 11), (v, 3), (k, 4), (i, 6), (lg, 4)):
        colonnes += [[ligne[c] for ligne in lignes] for c in range(largeur)]
    return [tableau(t, c) for t, c in zip(TYPES_PARAMETRES[:-2], colonnes, strict=True)]


def _index_sql(schema: str, table_evenements: str) -> list[str]:
    t = f"{schema}.{table_evenements}"
    return [
        # Nullable columns without a default: adding them rewrites none of the existing rows.
        f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS famille_id uuid, ADD COLUMN IF NOT EXISTS enfant_id uuid,"
        " ADD COLUMN IF NOT EXISTS acteur_compte_id uuid, ADD COLUMN IF NOT EXISTS role text,"
        " ADD COLUMN IF NOT EXISTS correlation_id text, ADD COLUMN IF NOT EXISTS horodatage timestamptz",
        f"CREATE INDEX IF NOT EXISTS {table_evenements}_famille ON {t} (famille_id, notification_id)"
        " WHERE famille_id IS NOT NULL",
        f"CREATE INDEX IF NOT EXISTS {table_evenements}_enfant ON {t} (enfant_id, notification_id)"
        " WHERE enfant_id IS NOT NULL",
        f"CREATE INDEX IF NOT EXISTS {table_evenements}_acteur ON {t} (acteur_compte_id, notification_id)"
        " WHERE acteur_compte_id IS NOT NULL",
        f"CREATE INDEX IF NOT EXISTS {table_evenements}_horodatage ON {t} (horodatage)",
        # Rare topics read without a scan of the log: the campaigns, the commune's accueils and settings.
        f"CREATE INDEX IF NOT EXISTS {table_evenements}_topic ON {t} (topic, notification_id)",
        f"CREATE TABLE IF NOT EXISTS {schema}.{TABLE_SUJETS} (agregat_id uuid PRIMARY KEY, famille_id uuid, enfant_id uuid)",
        f"CREATE OR REPLACE VIEW {schema}.{VUE_JOURNAL} AS SELECT notification_id AS position,"
        " originator_id AS agregat_id, split_part(substr(topic, strpos(topic, ':') + 1), '.', 1) AS agregat_type,"
        " originator_version AS version, substr(topic, strpos(topic, ':') + 1) AS type, horodatage,"
        f" acteur_compte_id, role, correlation_id, famille_id, enfant_id FROM {t}",
    ]


def _reparation_liens_sql(schema: str, table_evenements: str) -> str:
    """Links recorded without their family by an earlier version of the save function (a child
    registered in the same save as another of its events could get the other's link, without the
    family), and the events written under them: given back their family, from the child's events
    that name it. The index columns are outside the hashed part of an event: the chain is unchanged.
    Cheap on every start: it only reads the links that lack a family."""
    t = f"{schema}.{table_evenements}"
    sujets = f"{schema}.{TABLE_SUJETS}"
    return (
        f"WITH liens AS (UPDATE {sujets} AS s SET famille_id = x.famille_id"
        f" FROM (SELECT DISTINCT ON (o.enfant_id) o.enfant_id, ev.famille_id FROM {sujets} o"
        f" JOIN {t} ev ON ev.enfant_id = o.enfant_id AND ev.famille_id IS NOT NULL"
        " WHERE o.famille_id IS NULL AND o.enfant_id IS NOT NULL ORDER BY o.enfant_id, ev.notification_id) AS x"
        " WHERE s.famille_id IS NULL AND s.enfant_id = x.enfant_id RETURNING s.agregat_id, s.famille_id)"
        f" UPDATE {t} AS ev SET famille_id = liens.famille_id FROM liens"
        " WHERE ev.originator_id = liens.agregat_id AND ev.famille_id IS NULL"
    )


def _sql_cles(cles: str, condition: str) -> str:
    return f"""INSERT INTO {cles} (sujet_id, famille_id, cle)
        SELECT k.sujet, k.famille, k.cle FROM unnest(k_groupe, k_sujet, k_famille, k_cle) AS k(grp, sujet, famille, cle)
        WHERE {condition.format(x="k")}
        ON CONFLICT (sujet_id) DO NOTHING;"""


def _sql_liens(sujets: str, condition: str) -> str:
    # An aggregate's link comes from the first event of its first group naming its family (a
    # child's registration, saved with its health record): without the ORDER BY, DISTINCT ON
    # keeps any of them.
    # Most events name no family (a booking's, once its aggregate is linked): told by expressions.
    return f"""IF cardinality(array_remove(e_famille, NULL)) > 0 OR cardinality(array_remove(e_enfant, NULL)) > 0 THEN
        INSERT INTO {sujets} (agregat_id, famille_id, enfant_id)
        SELECT DISTINCT ON (e.id) e.id, e.famille, e.enfant
        FROM unnest(e_groupe, e_id, e_famille, e_enfant) WITH ORDINALITY AS e(grp, id, famille, enfant, rang)
        WHERE {condition.format(x="e")} AND (e.famille IS NOT NULL OR e.enfant IS NOT NULL)
        ORDER BY e.id, e.grp, e.famille IS NULL, e.rang
        ON CONFLICT (agregat_id) DO NOTHING;
      END IF;"""


def _sql_evenements(evenements: str, sujets: str, condition: str) -> str:
    """The events inserted in the order given, their positions and digests then read from `ins`."""
    return f"""WITH ins AS (
        INSERT INTO {evenements} (originator_id, originator_version, topic, state,
          famille_id, enfant_id, acteur_compte_id, role, correlation_id, horodatage)
        SELECT e.id, e.ver, e.topic, e.etat, coalesce(e.famille, s.famille_id), coalesce(e.enfant, s.enfant_id),
          e.acteur, e.role, e.correlation, e.horodatage
        FROM unnest(e_groupe, e_id, e_version, e_topic, e_etat, e_famille, e_enfant, e_acteur, e_role, e_correlation,
          e_horodatage) WITH ORDINALITY
          AS e(grp, id, ver, topic, etat, famille, enfant, acteur, role, correlation, horodatage, rang)
        LEFT JOIN LATERAL (SELECT s.famille_id, s.enfant_id FROM {sujets} s WHERE s.agregat_id = e.id LIMIT 1) s ON true
        WHERE {condition.format(x="e")} ORDER BY e.rang
        RETURNING notification_id, originator_id, originator_version, topic, state
      )"""


def _empreinte(position: str, agregat: str, version: str, topic: str, etat: str) -> str:
    """An event's digest in SQL (`empreinte_evenement`)."""
    return (
        f"sha256(convert_to({position}::text || '|' || {agregat}::text || '|'"
        f" || {version}::text || '|' || {topic} || '|', 'UTF8') || {etat})"
    )


_EMPREINTE_INS = _empreinte(
    "ins.notification_id", "ins.originator_id", "ins.originator_version", "ins.topic", "ins.state"
)


def _sql_idempotence(idempotence: str, condition: str, erreur: str) -> str:
    """The groups' idempotency rows; `erreur` is raised when a key already has an answer."""
    return f"""attendu := 0;
      IF cardinality(i_groupe) > 0 THEN
        SELECT count(*) INTO attendu FROM unnest(i_groupe) AS x(grp) WHERE {condition.format(x="x")};
      END IF;
      IF attendu > 0 THEN
        INSERT INTO {idempotence} AS t (compte_id, cle, empreinte, statut, corps)
          SELECT i.compte, i.cle, i.emp, i.statut, i.corps
          FROM unnest(i_groupe, i_compte, i_cle, i_empreinte, i_statut, i_corps) AS i(grp, compte, cle, emp, statut, corps)
          WHERE {condition.format(x="i")}
          ON CONFLICT (compte_id, cle) DO UPDATE SET statut = EXCLUDED.statut, corps = EXCLUDED.corps
          WHERE t.empreinte = EXCLUDED.empreinte AND t.statut = 0;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n < attendu THEN
          {erreur}
        END IF;
      END IF;"""


def _sql_lignes(schema: str, condition: str, tous: str) -> str:
    """The read rows of the groups, one statement per table (and per set of columns), tables in the
    runner's order and each table's rows by key (`projections.lot.ordre_des_lignes`), so that the
    two never lock rows in opposite orders; of two rows with one key, the one of the higher
    version, or else the later one, is written (as group after group would leave it); a row
    carrying a stream version only replaces one of a lower version."""
    ordre_tables = (
        "CASE l.tab "
        + " ".join(f"WHEN '{table}' THEN {rang}" for table, rang in ORDRE_TABLES.items())
        + f" ELSE {len(ORDRE_TABLES)} END"
    )
    statiques = "".join(
        f"""IF ligne.tab = '{table}' AND ligne.cles = '{",".join(cles)}'
            AND ligne.forme = '{",".join(sorted(colonnes))}' THEN
          {_insertion_statique(schema, table, cles, colonnes)}
        ELS"""
        for table, (cles, colonnes) in FORMES_LIGNES.items()
    )
    rangs = "ARRAY[" + ", ".join(f"'{t}'" for t in ORDRE_TABLES) + "]"
    connues = " OR ".join(
        f"""(l_table[i] = '{table}' AND l_cles[i] = '{",".join(cles)}'
            AND l_valeurs[i] ?& '{{{",".join(colonnes)}}}'::text[]
            AND l_valeurs[i] - '{{{",".join(colonnes)}}}'::text[] = '{{}}'::jsonb)"""
        for table, (cles, colonnes) in FORMES_LIGNES.items()
    )
    ecritures_seules = "".join(
        f"""IF l_table[i] = '{table}' THEN
            {_insertion_seule(schema, table, cles, colonnes)}
          ELS"""
        for table, (cles, colonnes) in FORMES_LIGNES.items()
    )
    return f"""-- Rows all of these groups, each of a table of its own in the runner's order and of a shape
      -- of `FORMES_LIGNES` (a sequential command's: a calendar cell, with its planning's row on a
      -- first booking) need neither grouping nor ordering: told by plain expressions, each is
      -- written by its shape's statement.
      ecrite := cardinality(l_groupe) > 0 AND l_groupe <@ {tous};
      IF ecrite THEN
        FOR i IN 1 .. cardinality(l_groupe) LOOP
          IF NOT ({connues})
             OR (i > 1 AND coalesce(array_position({rangs}, l_table[i]), 0)
                           <= coalesce(array_position({rangs}, l_table[i - 1]), 0)) THEN
            ecrite := false;
            EXIT;
          END IF;
        END LOOP;
      END IF;
      IF ecrite THEN
        FOR i IN 1 .. cardinality(l_groupe) LOOP
          {ecritures_seules}E
            RAISE EXCEPTION 'forme de ligne inattendue';
          END IF;
        END LOOP;
      END IF;
      IF NOT ecrite AND cardinality(l_groupe) > 0 THEN
      FOR ligne IN
        SELECT l.tab, l.cles, l.forme, jsonb_agg(l.val ORDER BY l.rang) AS vals
        FROM (
          SELECT u.*, (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(u.val) AS k) AS forme
          FROM unnest(l_groupe, l_table, l_cles, l_valeurs) WITH ORDINALITY AS u(grp, tab, cles, val, rang)
        ) AS l
        WHERE {condition.format(x="l")}
        GROUP BY l.tab, l.cles, l.forme
        ORDER BY {ordre_tables}, min(l.rang)
      LOOP
        {statiques}E
        SELECT string_agg(format('%I', k), ', '),
               string_agg(format('%I = EXCLUDED.%I', k, k), ', ')
                 FILTER (WHERE NOT k = ANY (string_to_array(ligne.cles, ',')))
          INTO colonnes, mises_a_jour FROM jsonb_object_keys(ligne.vals -> 0) AS k;
        SELECT string_agg(format('%I', c), ', ') INTO conflit FROM unnest(string_to_array(ligne.cles, ',')) AS c;
        EXECUTE format(
          'INSERT INTO %I.%I AS t (%s) SELECT %s FROM (SELECT DISTINCT ON (%s) * FROM'
          ' jsonb_populate_recordset(NULL::%I.%I, $1) WITH ORDINALITY AS r ORDER BY %s%s, r.ordinality DESC) AS x'
          ' ON CONFLICT (%s) %s',
          '{schema}', ligne.tab, colonnes, colonnes, conflit, '{schema}', ligne.tab, conflit,
          CASE WHEN (ligne.vals -> 0) ? 'version' THEN ', r.version DESC' ELSE '' END, conflit,
          CASE WHEN mises_a_jour IS NULL THEN 'DO NOTHING'
               ELSE 'DO UPDATE SET ' || mises_a_jour
                    || CASE WHEN (ligne.vals -> 0) ? 'version' THEN ' WHERE t.version < EXCLUDED.version' ELSE '' END END
        ) USING ligne.vals;
        END IF;
      END LOOP;
      END IF;"""


def _insertion_seule(schema: str, table: str, cles: tuple[str, ...], colonnes: tuple[str, ...]) -> str:
    """The statement of `_insertion_statique` for the call's row `i`."""
    liste = ", ".join(colonnes)
    return (
        f"INSERT INTO {schema}.{table} AS t ({liste}) SELECT {liste}"
        f" FROM jsonb_populate_record(NULL::{schema}.{table}, l_valeurs[i])"
        f" ON CONFLICT ({', '.join(cles)}) {_action_conflit(cles, colonnes)};"
    )


def _action_conflit(cles: tuple[str, ...], colonnes: tuple[str, ...]) -> str:
    autres = [c for c in colonnes if c not in cles]
    if not autres:
        return "DO NOTHING"
    action = "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in autres)
    return action + (" WHERE t.version < EXCLUDED.version" if "version" in colonnes else "")


def _insertion_statique(schema: str, table: str, cles: tuple[str, ...], colonnes: tuple[str, ...]) -> str:
    """The statement the dynamic one builds for rows of this shape, written out."""
    liste = ", ".join(colonnes)
    conflit = ", ".join(cles)
    versionnee = "version" in colonnes
    action = _action_conflit(cles, colonnes)
    return (
        f"INSERT INTO {schema}.{table} AS t ({liste}) SELECT {liste} FROM (SELECT DISTINCT ON ({conflit}) *"
        f" FROM jsonb_populate_recordset(NULL::{schema}.{table}, ligne.vals) WITH ORDINALITY AS r"
        f" ORDER BY {conflit}{', r.version DESC' if versionnee else ''}, r.ordinality DESC) AS x"
        f" ON CONFLICT ({conflit}) {action};"
    )


def _fonction_sql(schema: str, table_evenements: str, canal: str) -> str:
    evenements = f"{schema}.{table_evenements}"
    erreur_cle = (
        "RAISE EXCEPTION '" + CLE_DEJA_SERVIE.replace("'", "''") + "' USING ERRCODE = 'unique_violation';"
    )
    chaine = f"{schema}.{table_evenements}_chaine"
    cles = f"{schema}.portail_cles"
    effaces = f"{schema}.portail_sujets_effaces"
    idempotence = f"{schema}.portail_idempotence"
    sujets = f"{schema}.{TABLE_SUJETS}"
    # Each check or write is a statement of its own, whose executor PL/pgSQL starts even when it
    # has no row to look at; a call's arrays being empty is tested first, as a plain expression.
    corps_groupe = f"""-- Decided on top of an earlier group of this call: stands or falls with it.
      IF cardinality(d_groupe) > 0 THEN
        IF EXISTS (
          SELECT 1 FROM unnest(d_groupe, d_depend) AS d(grp, dep)
          WHERE d.grp = g AND coalesce(resultats_statut[array_position(resultats_groupe, d.dep)], 'ok') <> 'ok'
        ) THEN
          RAISE EXCEPTION '{DEPENDANCE_ECHOUEE}' USING ERRCODE = 'PF002';
        END IF;
      END IF;

      IF cardinality(v_groupe) > 0 THEN
        IF EXISTS (
          SELECT 1 FROM unnest(v_groupe, v_id, v_version) AS v(grp, id, ver)
          WHERE v.grp = g
            AND coalesce((SELECT max(s.originator_version) FROM {evenements} s WHERE s.originator_id = v.id), 0) <> v.ver
        ) THEN
          RAISE EXCEPTION '{VERSION_LUE_DEPASSEE}' USING ERRCODE = 'PF002';
        END IF;
      END IF;

      IF cardinality(k_groupe) > 0 THEN
        IF EXISTS (
          SELECT 1 FROM unnest(k_groupe, k_sujet) AS k(grp, sujet)
          WHERE k.grp = g AND (SELECT true FROM {effaces} f WHERE f.sujet_id = k.sujet LIMIT 1)
        ) THEN
          RAISE EXCEPTION 'sujet effacé' USING ERRCODE = 'PF001';
        END IF;
        {_sql_cles(cles, "{x}.grp = g")}
        IF EXISTS (
          SELECT 1 FROM unnest(k_groupe, k_sujet, k_cle) AS k(grp, sujet, cle)
          WHERE k.grp = g AND (SELECT c.cle FROM {cles} c WHERE c.sujet_id = k.sujet LIMIT 1) <> k.cle
        ) THEN
          RAISE EXCEPTION 'clé créée par un autre enregistrement' USING ERRCODE = 'unique_violation';
        END IF;
      END IF;

      {_sql_liens(sujets, "{x}.grp = g")}
      IF cardinality(e_id) BETWEEN 1 AND {EVENEMENTS_UN_A_UN} AND e_groupe <@ ARRAY[g] THEN
        -- A few events of this group alone (a sequential caller's save): plain inserts, their
        -- digests expressions, rather than a set of events joined, sorted and aggregated.
        pos := '{{}}';
        emp := '{{}}';
        FOR i IN 1 .. cardinality(e_id) LOOP
          INSERT INTO {evenements} (originator_id, originator_version, topic, state,
            famille_id, enfant_id, acteur_compte_id, role, correlation_id, horodatage)
          VALUES (e_id[i], e_version[i], e_topic[i], e_etat[i],
            coalesce(e_famille[i], (SELECT s.famille_id FROM {sujets} s WHERE s.agregat_id = e_id[i])),
            coalesce(e_enfant[i], (SELECT s.enfant_id FROM {sujets} s WHERE s.agregat_id = e_id[i])),
            e_acteur[i], e_role[i], e_correlation[i], e_horodatage[i])
          RETURNING notification_id INTO position_seule;
          pos := pos || position_seule;
          emp := emp || {_empreinte("position_seule", "e_id[i]", "e_version[i]", "e_topic[i]", "e_etat[i]")};
        END LOOP;
      ELSE
      {_sql_evenements(evenements, sujets, "{x}.grp = g")}
      SELECT array_agg(ins.notification_id ORDER BY ins.notification_id),
             array_agg({_EMPREINTE_INS} ORDER BY ins.notification_id)
        INTO pos, emp FROM ins;
      END IF;

      {_sql_idempotence(idempotence, "{x}.grp = g", erreur_cle)}

      {_sql_lignes(schema, "{x}.grp = g", "ARRAY[g]")}

      toutes_positions := toutes_positions || coalesce(pos, '{{}}');
      toutes_empreintes := toutes_empreintes || coalesce(emp, '{{}}');
      resultats_groupe := resultats_groupe || g;
      resultats_statut := resultats_statut || 'ok'::text;
      resultats_detail := resultats_detail || NULL::text;
      resultats_positions := resultats_positions || coalesce(pos, '{{}}')::text;"""
    return f"""
CREATE OR REPLACE FUNCTION {schema}.{FONCTION}(
  e_groupe integer[], e_id uuid[], e_version bigint[], e_topic text[], e_etat bytea[],
  e_famille uuid[], e_enfant uuid[], e_acteur uuid[], e_role text[], e_correlation text[], e_horodatage timestamptz[],
  v_groupe integer[], v_id uuid[], v_version bigint[],
  k_groupe integer[], k_sujet uuid[], k_famille uuid[], k_cle bytea[],
  i_groupe integer[], i_compte uuid[], i_cle text[], i_empreinte text[], i_statut integer[], i_corps bytea[],
  l_groupe integer[], l_table text[], l_cles text[], l_valeurs jsonb[],
  d_groupe integer[], d_depend integer[]
) RETURNS TABLE (o_groupe integer, o_statut text, o_positions bigint[], o_detail text)
-- Its statements' plans are kept per session: planned again at each call for the arrays given
-- (PostgreSQL's default for the first calls, then whenever it judges a custom plan cheaper),
-- the checks alone cost a single booking's save 0.85 ms instead of 0.38 ms.
-- A plan kept is made for the tables as they were at the session's first call, and lasts until
-- an ANALYZE of them: the idempotency table, empty then, was read whole by a hash join at every
-- call of several groups (2.8 ms a call once it held 5,700 rows). Every table is therefore read
-- by key only, one probe per row of the arrays (scalar subqueries and LATERAL, which the planner
-- does not turn into joins), and sequential scans are priced out: a probe uses the primary key
-- however small the table looked.
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET lock_timeout = '5s'
AS $fonction$
DECLARE
  g integer;
  resultats_groupe integer[] := '{{}}';
  resultats_statut text[] := '{{}}';
  resultats_detail text[] := '{{}}';
  resultats_positions text[] := '{{}}';
  toutes_positions bigint[] := '{{}}';
  toutes_empreintes bytea[] := '{{}}';
  pos bigint[];
  emp bytea[];
  n integer;
  attendu integer;
  ligne record;
  colonnes text;
  mises_a_jour text;
  conflit text;
  suite bytea;
  empreinte bytea;
  position_seule bigint;
  groupes integer[];
  bons integer[];
  echoues integer[] := '{{}}';
  echoues_statut text[] := '{{}}';
  echoues_detail text[] := '{{}}';
  groupes_positions integer[];
  dep record;
  lent boolean := false;
  tous integer[];
  ecrite boolean;
  i integer;
BEGIN
  -- Positions are handed out and committed in the same order: a follower of the log never
  -- passes over a position that commits later.
  LOCK TABLE {evenements} IN EXCLUSIVE MODE;
  -- A lone group (every save of a sequential caller) is told by plain expressions, which
  -- PL/pgSQL evaluates without starting a query's executor.
  tous := e_groupe || v_groupe || k_groupe || i_groupe || l_groupe || d_groupe;
  IF cardinality(tous) > 0 AND tous <@ ARRAY[tous[1]] THEN
    groupes := ARRAY[tous[1]];
  ELSE
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{{}}') INTO groupes FROM unnest(tous) AS x;
  END IF;

  -- The set path: every group checked against the log in a few statements, then the rows of all
  -- the groups that pass written together, a statement per kind of row (and per read table). Two
  -- groups of the call that would collide with each other (the same event version, idempotency
  -- key or new key row) take the group-by-group path below, as does any error while writing. So
  -- does a call where a group read, without changing it, an aggregate another group of it
  -- changes: its read is checked against what the groups before it leave.
  IF cardinality(groupes) > 1 THEN
    lent := EXISTS (SELECT 1 FROM unnest(v_id) AS v(id) JOIN unnest(e_id) AS e(id) ON e.id = v.id)
      OR EXISTS (SELECT 1 FROM unnest(e_id, e_version) AS e(id, ver) GROUP BY e.id, e.ver HAVING count(*) > 1)
      OR EXISTS (SELECT 1 FROM unnest(i_compte, i_cle) AS i(compte, cle) GROUP BY i.compte, i.cle HAVING count(*) > 1)
      OR EXISTS (SELECT 1 FROM unnest(k_sujet) AS k(sujet) GROUP BY k.sujet HAVING count(*) > 1);
  END IF;
  IF cardinality(groupes) = 1 THEN
    -- A lone group (a sequential caller's every save) takes no savepoint: a failure raises out
    -- of the function, the statement leaves nothing, and the caller reads the group's outcome
    -- from the error's SQLSTATE as the group path's handlers would have set it
    -- (`RecorderChaine.enregistrer`).
    g := groupes[1];
      {corps_groupe}
  ELSIF NOT lent THEN
    -- Each failing group once, with the first of its failures in the order the group path checks them.
    SELECT coalesce(array_agg(f.grp ORDER BY f.grp), '{{}}'), coalesce(array_agg(f.statut ORDER BY f.grp), '{{}}'),
           coalesce(array_agg(f.detail ORDER BY f.grp), '{{}}')
      INTO echoues, echoues_statut, echoues_detail
      FROM (
        SELECT DISTINCT ON (c.grp) c.grp, c.statut, c.detail FROM (
          SELECT v.grp, 1 AS ordre, 'conflit' AS statut, '{VERSION_LUE_DEPASSEE}' AS detail
            FROM unnest(v_groupe, v_id, v_version) AS v(grp, id, ver)
            WHERE coalesce((SELECT max(s.originator_version) FROM {evenements} s WHERE s.originator_id = v.id), 0) <> v.ver
          UNION ALL
          SELECT k.grp, 2, 'efface', 'sujet effacé'
            FROM unnest(k_groupe, k_sujet) AS k(grp, sujet)
            WHERE (SELECT true FROM {effaces} f WHERE f.sujet_id = k.sujet LIMIT 1)
          UNION ALL
          SELECT k.grp, 3, 'conflit', 'clé créée par un autre enregistrement'
            FROM unnest(k_groupe, k_sujet, k_cle) AS k(grp, sujet, cle)
            WHERE (SELECT c.cle FROM {cles} c WHERE c.sujet_id = k.sujet LIMIT 1) <> k.cle
          UNION ALL
          SELECT e.grp, 4, 'conflit', 'version d''agrégat déjà enregistrée'
            FROM unnest(e_groupe, e_id, e_version) AS e(grp, id, ver)
            WHERE (SELECT true FROM {evenements} s WHERE s.originator_id = e.id AND s.originator_version = e.ver)
        ) AS c ORDER BY c.grp, c.ordre
      ) AS f;
    -- Checked last, as the group path does (and only named when used: a log without commands'
    -- answers has no such table).
    IF cardinality(i_groupe) > 0 THEN
      SELECT echoues || coalesce(array_agg(i.grp ORDER BY i.grp), '{{}}'),
             echoues_statut || coalesce(array_agg('conflit'::text ORDER BY i.grp), '{{}}'),
             echoues_detail || coalesce(array_agg('{CLE_DEJA_SERVIE.replace("'", "''")}'::text ORDER BY i.grp), '{{}}')
        INTO echoues, echoues_statut, echoues_detail
        FROM unnest(i_groupe, i_compte, i_cle, i_empreinte) AS i(grp, compte, cle, emp)
        WHERE NOT i.grp = ANY (echoues)
          AND (SELECT NOT (t.empreinte = i.emp AND t.statut = 0) FROM {idempotence} t
               WHERE t.compte_id = i.compte AND t.cle = i.cle);
    END IF;
    -- Decided on top of an earlier group of this call: stands or falls with it.
    FOR dep IN SELECT d.grp, d.dep FROM unnest(d_groupe, d_depend) AS d(grp, dep) ORDER BY d.grp LOOP
      IF dep.dep = ANY (echoues) THEN
        IF dep.grp = ANY (echoues) THEN
          echoues_statut[array_position(echoues, dep.grp)] := 'conflit';
          echoues_detail[array_position(echoues, dep.grp)] := '{DEPENDANCE_ECHOUEE}';
        ELSE
          echoues := echoues || dep.grp;
          echoues_statut := echoues_statut || 'conflit'::text;
          echoues_detail := echoues_detail || '{DEPENDANCE_ECHOUEE}'::text;
        END IF;
      END IF;
    END LOOP;
    SELECT coalesce(array_agg(x ORDER BY x), '{{}}') INTO bons FROM unnest(groupes) AS x WHERE NOT x = ANY (echoues);

    BEGIN
      {_sql_cles(cles, "{x}.grp = ANY (bons)")}
      {_sql_liens(sujets, "{x}.grp = ANY (bons)")}
      {_sql_evenements(evenements, sujets, "{x}.grp = ANY (bons)")}
      SELECT coalesce(array_agg(ins.notification_id ORDER BY ins.notification_id), '{{}}'),
             coalesce(array_agg({_EMPREINTE_INS} ORDER BY ins.notification_id), '{{}}'),
             coalesce(array_agg(e.grp ORDER BY ins.notification_id), '{{}}')
        INTO toutes_positions, toutes_empreintes, groupes_positions
        FROM ins JOIN unnest(e_groupe, e_id, e_version) AS e(grp, id, ver)
          ON e.id = ins.originator_id AND e.ver = ins.originator_version;

      {_sql_idempotence(idempotence, "{x}.grp = ANY (bons)", "RAISE EXCEPTION 'idempotence' USING ERRCODE = 'PF002';")}

      {_sql_lignes(schema, "{x}.grp = ANY (bons)", "bons")}

      SELECT coalesce(array_agg(b ORDER BY b), '{{}}'), coalesce(array_agg('ok'::text ORDER BY b), '{{}}'),
             coalesce(array_agg(NULL::text ORDER BY b), '{{}}'),
             coalesce(array_agg(coalesce((SELECT array_agg(u.p ORDER BY u.p) FROM unnest(toutes_positions, groupes_positions)
               AS u(p, grp) WHERE u.grp = b), '{{}}')::text ORDER BY b), '{{}}')
        INTO resultats_groupe, resultats_statut, resultats_detail, resultats_positions FROM unnest(bons) AS b;
      resultats_groupe := resultats_groupe || echoues;
      resultats_statut := resultats_statut || echoues_statut;
      resultats_detail := resultats_detail || echoues_detail;
      resultats_positions := resultats_positions || array_fill('{{}}'::text, ARRAY[cardinality(echoues)]);
    EXCEPTION WHEN OTHERS THEN
      -- Nothing of the set path stays (the block is a subtransaction): group by group instead.
      RAISE NOTICE 'enregistrement groupe par groupe : % %', SQLSTATE, SQLERRM;
      lent := true;
      toutes_positions := '{{}}';
      toutes_empreintes := '{{}}';
    END;
  END IF;

  IF lent THEN
  FOR g IN SELECT x FROM unnest(groupes) AS x
  LOOP
    BEGIN
      {corps_groupe}
    EXCEPTION
      -- A deadlock or a lock wait cut short (the runner locks the same read rows) is a conflict
      -- like another: the command runs again.
      WHEN unique_violation OR SQLSTATE 'PF002' OR deadlock_detected OR lock_not_available THEN
        resultats_groupe := resultats_groupe || g;
        resultats_statut := resultats_statut || 'conflit'::text;
        resultats_detail := resultats_detail || SQLERRM;
        resultats_positions := resultats_positions || '{{}}'::text;
      WHEN SQLSTATE 'PF001' THEN
        resultats_groupe := resultats_groupe || g;
        resultats_statut := resultats_statut || 'efface'::text;
        resultats_detail := resultats_detail || SQLERRM;
        resultats_positions := resultats_positions || '{{}}'::text;
      WHEN OTHERS THEN
        resultats_groupe := resultats_groupe || g;
        resultats_statut := resultats_statut || 'erreur'::text;
        resultats_detail := resultats_detail || (SQLSTATE || ' ' || SQLERRM);
        resultats_positions := resultats_positions || '{{}}'::text;
    END;
  END LOOP;
  END IF;

  IF cardinality(toutes_positions) > 0 THEN
    -- The digests joined by PL/pgSQL's own loop, and the previous link read by the insert itself:
    -- one statement for the link.
    suite := ''::bytea;
    FOREACH empreinte IN ARRAY toutes_empreintes LOOP
      suite := suite || empreinte;
    END LOOP;
    INSERT INTO {chaine} (position, premiere, positions, empreintes, hash)
    VALUES (toutes_positions[cardinality(toutes_positions)], toutes_positions[1], toutes_positions, toutes_empreintes,
            sha256(coalesce((SELECT c.hash FROM {chaine} c ORDER BY c.position DESC LIMIT 1),
                            '\\x{GENESE.hex()}'::bytea) || suite));
    -- The payload names the transaction's first and last positions (`store.ecoute.plage_notifiee`).
    PERFORM pg_notify('{canal}', 'p:' || toutes_positions[1] || ':' || toutes_positions[cardinality(toutes_positions)]);
  END IF;

  IF cardinality(resultats_groupe) = 1 THEN
    o_groupe := resultats_groupe[1];
    o_statut := resultats_statut[1];
    o_positions := resultats_positions[1]::bigint[];
    o_detail := resultats_detail[1];
    RETURN NEXT;
  ELSE
    RETURN QUERY SELECT r.grp, r.statut, r.pos::bigint[], r.detail
      FROM unnest(resultats_groupe, resultats_statut, resultats_positions, resultats_detail) AS r(grp, statut, pos, detail);
  END IF;
END;
$fonction$
"""


# Verifying


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


FENETRE_DEPLACEMENT = 500
"""How far ahead a misplaced record is looked for before calling it modified."""

PAGE = 2000


def _pages(ds: PostgresDatastore, table: str, colonnes: str, cle: str) -> Iterator[dict[str, Any]]:
    """A table's rows in `cle` order, read a page (one statement) at a time."""
    apres = -1
    while True:
        with ds.get_connection() as conn:
            lignes = conn.execute(
                f"SELECT {colonnes} FROM {table} WHERE {cle} > %s ORDER BY {cle} LIMIT %s",
                (apres, PAGE),
                prepare=True,
            ).fetchall()
        if not lignes:
            return
        yield from lignes
        apres = lignes[-1][cle]


class _Fenetre:
    """The events in position order, with a look-ahead for moved records."""

    def __init__(self, evenements: Iterator[dict[str, Any]]) -> None:
        self._source = evenements
        self._tampon: list[dict[str, Any]] = []

    def regarder(self, n: int = 0) -> dict[str, Any] | None:
        while len(self._tampon) <= n:
            suivant = next(self._source, None)
            if suivant is None:
                return None
            self._tampon.append(suivant)
        return self._tampon[n]

    def prendre(self) -> dict[str, Any]:
        ligne = self.regarder()
        assert ligne is not None
        return self._tampon.pop(0)


def _digest(position: int, ligne: dict[str, Any]) -> bytes:
    return empreinte_evenement(
        position, ligne["originator_id"], ligne["originator_version"], ligne["topic"], bytes(ligne["state"])
    )


def verifier(ds: PostgresDatastore, table_evenements: str, table_chaine: str) -> Verification:
    precedente = GENESE
    verifies = 0
    evenements = _Fenetre(
        _pages(
            ds,
            table_evenements,
            "notification_id, originator_id, originator_version, topic, state",
            "notification_id",
        )
    )

    def deplace(attendu: bytes, calcul: Callable[[dict[str, Any]], bytes]) -> bool:
        # Another record's content that belongs here means rows were moved, not edited.
        for rang in range(1, FENETRE_DEPLACEMENT):
            autre = evenements.regarder(rang)
            if autre is None:
                return False
            if calcul(autre) == attendu:
                return True
        return False

    def echec(position: int, nature: str) -> Verification:
        return Verification(False, verifies, Anomalie(position, nature))

    for maillon in _pages(ds, table_chaine, "position, premiere, positions, empreintes, hash", "position"):
        attendues: list[int] = (
            [maillon["position"]] if maillon["positions"] is None else list(maillon["positions"])
        )
        empreintes = maillon["empreintes"]
        for rang, position in enumerate(attendues):
            ligne = evenements.regarder()
            if ligne is not None and ligne["notification_id"] < position:
                return echec(ligne["notification_id"], "ajoute")
            if ligne is None or ligne["notification_id"] > position:
                return echec(position, "supprime")
            calcul: Callable[[dict[str, Any]], bytes]
            if empreintes is None:
                attendu = bytes(maillon["hash"])
                calcul = functools.partial(_hash_de, precedente, position)
            else:
                attendu = bytes(empreintes[rang])
                calcul = functools.partial(_digest, position)
            if calcul(ligne) != attendu:
                return echec(position, "deplace" if deplace(attendu, calcul) else "modifie")
            evenements.prendre()
            verifies += 1
        if empreintes is None:
            precedente = bytes(maillon["hash"])
        else:
            hash_ligne = hashlib.sha256(precedente + b"".join(bytes(d) for d in empreintes)).digest()
            if hash_ligne != bytes(maillon["hash"]):
                # The events match their digests but the chain row itself was changed.
                return echec(attendues[-1], "modifie")
            precedente = hash_ligne
    reste = evenements.regarder()
    if reste is not None:
        return echec(reste["notification_id"], "ajoute")
    return Verification(True, verifies, None, precedente.hex() if verifies else None)


def _hash_de(precedente: bytes, position: int, ligne: dict[str, Any]) -> bytes:
    return empreinte(
        precedente,
        position,
        ligne["originator_id"],
        ligne["originator_version"],
        ligne["topic"],
        bytes(ligne["state"]),
    )
