"""The read-model changes of one page of events, folded in memory and written with one statement
per table (a few for the day-units): a page of a thousand events costs a handful of statements
rather than thousands. A rebuild folds the whole log into one `Lot` over the emptied tables
(`vide`): it reads nothing, and writes each table once with COPY at the end.

Three kinds of table:
- rows only ever added (`INSERT … ON CONFLICT DO NOTHING`): the page's first row of a key wins;
- the day-units, whose changes compose without reading the row: a day-unit's last state in the
  page is upserted unless the row is already at a higher stream version (a command wrote it);
- the occupation counters: their rows are read and locked, and the deltas of a version above the
  row's are added;
- rows changed or deleted after being added: the page first reads the rows it will touch (one
  SELECT per table), changes them in memory in log order, then writes those that differ.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from psycopg import Cursor, sql

from portail.store.chaine import ORDRE_TABLES

Ligne = dict[str, Any]


def ordre_des_lignes(table: str, cle: Iterable[Any]) -> tuple[int, tuple[str, ...]]:
    """The order read rows are written in, by the runner (`Lot`) and the commands (`en_ligne`)
    alike: the calendar before the counters, each by key, so that the two never lock the same
    rows in opposite orders."""
    return ORDRE_TABLES.get(table, 9), tuple(v.isoformat() if isinstance(v, date) else str(v) for v in cle)


MAX_PARAMETRES = 60_000
"""PostgreSQL takes at most 65,535 parameters in one statement."""


@dataclass(frozen=True)
class Table:
    nom: str
    cle: str
    colonnes: tuple[str, ...]
    """The key first."""
    taille_cle: int = 1
    """How many of the first columns make the key (rows only added: one row per key)."""


PLANNINGS = Table("proj_plannings", "planning_id", ("planning_id", "enfant_id", "accueil_id", "famille_id"))
CAPACITES = Table("proj_capacites", "capacite_id", ("capacite_id", "accueil_id", "jour"))
ACCUEILS = Table(
    "proj_accueils",
    "accueil_id",
    (
        "accueil_id",
        "etablissement",
        "mode_accueil",
        "periode_libelle",
        "debut",
        "fin",
        "imputation_budgetaire",
    ),
)
ACTUALITES = Table(
    "proj_actualites", "actualite_id", ("actualite_id", "titre", "contenu", "accueils", "publiee_le")
)
ENFANTS = Table(
    "proj_enfants",
    "enfant_id",
    ("enfant_id", "famille_id", "fiche_valable_jusqu_au"),
)
OFFRES = Table(
    "proj_offres",
    "offre_id",
    ("offre_id", "enfant_id", "famille_id", "accueil_id", "jour", "unite", "expire_le", "statut"),
)
FACTURES = Table(
    "proj_factures",
    "facture_id",
    (
        "facture_id",
        "famille_id",
        "numero",
        "periode",
        "emise_le",
        "echeance",
        "montant_cents",
        "reste_a_payer_cents",
        "statut",
        "nature",
        "campagne_id",
        "facture_origine",
        "non_valeur_cents",
    ),
)
VENTILATION = Table(
    "proj_factures_ventilation",
    "facture_id",
    ("facture_id", "enfant_id", "accueil_id", "montant_cents"),
    taille_cle=3,
)
ENCOURS = Table("proj_encours", "encours_id", ("encours_id", "famille_id"))
FAMILLES = Table("proj_familles", "famille_id", ("famille_id", "payeur", "effacee"))
MOUVEMENTS = Table(
    "proj_mouvements",
    "mouvement_id",
    (
        "mouvement_id",
        "famille_id",
        "nature",
        "le",
        "montant_cents",
        "mode",
        "reference",
        "reglement_id",
        "rejete",
    ),
)
DOCUMENTS = Table(
    "proj_documents",
    "document_id",
    ("document_id", "famille_id", "enfant_id", "type", "media_type", "taille", "statut", "depose_le"),
)
AJOUTS = (PLANNINGS, CAPACITES, ACCUEILS, ACTUALITES, VENTILATION, ENCOURS)
"""Tables whose rows are only added."""
LUES = (ENFANTS, OFFRES, FACTURES, DOCUMENTS, FAMILLES, MOUVEMENTS)
"""Tables whose rows the page reads before changing them."""


class Reperes:
    """What an aggregate's later events need and do not carry, fixed for its life, so kept once
    known: a planning's child, accueil and family; a capacity's accueil and day; a ledger's
    family."""

    def __init__(self) -> None:
        self.plannings: dict[Any, tuple[Any, Any, Any]] = {}
        self.capacites: dict[Any, tuple[Any, Any]] = {}
        self.encours: dict[Any, Any] = {}

    def charger(
        self,
        curs: Cursor[Any],
        schema: str,
        plannings: set[Any],
        capacites: set[Any],
        encours: Iterable[Any] = (),
    ) -> None:
        manquants = [p for p in plannings if p not in self.plannings]
        if manquants:
            curs.execute(
                f"SELECT planning_id, enfant_id, accueil_id, famille_id FROM {schema}.proj_plannings"
                " WHERE planning_id = ANY(%s)",
                (manquants,),
            )
            for ligne in curs.fetchall():
                self.plannings[ligne["planning_id"]] = (
                    ligne["enfant_id"],
                    ligne["accueil_id"],
                    ligne["famille_id"],
                )
        manquants = [c for c in capacites if c not in self.capacites]
        if manquants:
            curs.execute(
                f"SELECT capacite_id, accueil_id, jour FROM {schema}.proj_capacites WHERE capacite_id = ANY(%s)",
                (manquants,),
            )
            for ligne in curs.fetchall():
                self.capacites[ligne["capacite_id"]] = (ligne["accueil_id"], ligne["jour"])
        manquants = [e for e in encours if e not in self.encours]
        if manquants:
            curs.execute(
                f"SELECT encours_id, famille_id FROM {schema}.proj_encours WHERE encours_id = ANY(%s)",
                (manquants,),
            )
            for ligne in curs.fetchall():
                self.encours[ligne["encours_id"]] = ligne["famille_id"]


GARDER: Any = object()
"""A field the event leaves as it was (the row's value, or the page's earlier change)."""


Changement = tuple[Any, str, str, Any, Any, Any]
"""A day-unit's change, as the Planning aggregate applies it: (jour, unite, etat, majorations,
facturable, horaires); a field the event does not set is `GARDER`."""

Case = list[Any]
"""A day-unit's pending change: [etat, version, majorations, facturable, horaires], the fields
composed in log order (`GARDER`: kept). `version` is the planning's stream version after the
event: a row of a higher version (written by a command) is left alone. A list, not an object:
a rebuild composes millions of them."""


def forme(case: Case) -> tuple[bool, bool, bool]:
    """Which fields the change sets: one statement per shape."""
    return (case[2] is not GARDER, case[3] is not GARDER, case[4] is not GARDER)


class Lot:
    def __init__(self, schema: str, reperes: Reperes, *, vide: bool = False) -> None:
        """`vide`: the tables are empty and this lot folds the whole log from its start (a
        rebuild): a row it has not added does not exist, and nothing is read."""
        self.schema = schema
        self.reperes = reperes
        self.vide = vide
        self._ajouts: dict[Table, dict[Any, tuple[Any, ...]]] = {t: {} for t in AJOUTS}
        self._lignes: dict[Table, dict[Any, Ligne | None]] = {t: {} for t in LUES}
        self._origines: dict[Table, dict[Any, Ligne | None]] = {t: {} for t in LUES}
        self._cases: dict[Any, tuple[tuple[Any, Any, Any], dict[tuple[Any, str], Case]]] = {}
        """By planning (its child, accueil and family; its day-units): one id hashed an event
        rather than a row key a day-unit."""
        self._occupation: dict[tuple[Any, Any, str], list[tuple[int, int, int]]] = {}
        self._offres_par_case: dict[tuple[Any, Any, Any, str], list[Any]] = {}
        """The offers known to the lot, by day-unit: a cancellation withdraws those of its days."""

    # Look-ups

    def planning(self, planning_id: Any) -> tuple[Any, Any, Any]:
        ids = self.reperes.plannings.get(planning_id)
        assert ids is not None, f"planning {planning_id} absent de proj_plannings"
        return ids

    def capacite(self, capacite_id: Any) -> tuple[Any, Any]:
        ids = self.reperes.capacites.get(capacite_id)
        assert ids is not None, f"capacité {capacite_id} absente de proj_capacites"
        return ids

    def encours(self, encours_id: Any) -> Any:
        """The family of a ledger."""
        famille_id = self.reperes.encours.get(encours_id)
        assert famille_id is not None, f"encours {encours_id} absent de proj_encours"
        return famille_id

    def charger(
        self,
        curs: Cursor[Any],
        table: Table,
        cles: Iterable[Any],
        condition: str = "",
        parametres: Sequence[Any] = (),
    ) -> None:
        """Read the rows of `cles` (and those matching `condition`) not yet known to the page."""
        connues = self._lignes[table]
        cles = [c for c in set(cles) if c not in connues]
        if not cles and not condition:
            return
        colonnes = ", ".join(table.colonnes)
        ou = f"{table.cle} = ANY(%s)" + (f" OR {condition}" if condition else "")
        curs.execute(f"SELECT {colonnes} FROM {self.schema}.{table.nom} WHERE {ou}", (cles, *parametres))
        for ligne in curs.fetchall():
            cle = ligne[table.cle]
            if cle not in connues:
                lue = dict(ligne)
                connues[cle] = lue
                self._origines[table][cle] = dict(ligne)
                if table is OFFRES:
                    self._indexer_offre(lue)
        for cle in cles:
            if cle not in connues:
                connues[cle] = None
                self._origines[table][cle] = None

    # Changes, in log order

    def ajouter(self, table: Table, valeurs: tuple[Any, ...]) -> None:
        """A row added unless its key exists: the first one of the page wins, as in the log."""
        if table is PLANNINGS:
            self.reperes.plannings[valeurs[0]] = valeurs[1:]
        elif table is CAPACITES:
            self.reperes.capacites[valeurs[0]] = valeurs[1:]
        elif table is ENCOURS:
            self.reperes.encours[valeurs[0]] = valeurs[1]
        cle = valeurs[0] if table.taille_cle == 1 else valeurs[: table.taille_cle]
        self._ajouts[table].setdefault(cle, valeurs)

    def ligne(self, table: Table, cle: Any) -> Ligne | None:
        lignes = self._lignes[table]
        if self.vide:
            # A rebuild knows every row there is: one not added does not exist.
            return lignes.get(cle)
        assert cle in lignes, f"{table.nom} {cle} non lue avant la page"
        return lignes[cle]

    def poser(self, table: Table, cle: Any, ligne: Ligne | None) -> None:
        lignes = self._lignes[table]
        if table is OFFRES and ligne is not None and lignes.get(cle) is None:
            self._indexer_offre(ligne)
        lignes[cle] = ligne

    def lignes(self, table: Table) -> Iterator[Ligne]:
        return (ligne for ligne in self._lignes[table].values() if ligne is not None)

    def _indexer_offre(self, offre: Ligne) -> None:
        case = (offre["enfant_id"], offre["accueil_id"], offre["jour"], offre["unite"])
        self._offres_par_case.setdefault(case, []).append(offre["offre_id"])

    def offres(self, cases: Iterable[tuple[Any, Any, Any, str]]) -> Iterator[Ligne]:
        """The offers of these day-units (enfant_id, accueil_id, jour, unite) known to the lot."""
        offres = self._lignes[OFFRES]
        for case in cases:
            for offre_id in self._offres_par_case.get(case, ()):
                offre = offres.get(offre_id)
                if offre is not None:
                    yield offre

    def _cases_du_planning(self, planning_id: Any) -> dict[tuple[Any, str], Case]:
        du_planning = self._cases.get(planning_id)
        if du_planning is None:
            du_planning = self._cases[planning_id] = (self.planning(planning_id), {})
        return du_planning[1]

    def poser_cases(self, planning_id: Any, cases: Iterable[tuple[tuple[Any, str], Case]]) -> None:
        """One event's day-units ((jour, unite), case) whose every field it sets (a booking, a
        cancellation): composed with what came before, each is the event's alone. The event
        follows the earlier ones in log order, so its version is the highest."""
        self._cases_du_planning(planning_id).update(cases)

    def pointer(self, planning_id: Any, version: int, pointages: Iterable[Any]) -> None:
        """A pointage's day-units (each with `jour`, `unite`, `etat`, `arrivee`, `depart`): the
        state and the times set, the other fields kept. `cases` unrolled for the commonest change
        of a rebuild (two million at 10,000 children)."""
        connues = self._cases_du_planning(planning_id)
        for p in pointages:
            cle = (p.jour, p.unite)
            case = connues.get(cle)
            # `_value_`: the member's value as a plain attribute (`.value` is a descriptor).
            if case is None:
                connues[cle] = [p.etat._value_, version, GARDER, GARDER, (p.arrivee, p.depart)]
            else:
                case[0] = p.etat._value_
                case[1] = version
                case[4] = (p.arrivee, p.depart)

    def cases(self, planning_id: Any, version: int, changements: Iterable[Changement]) -> None:
        """One event's day-unit changes, composed with the earlier ones in log order. Within an
        event every change of a day-unit sets the same fields, so composing equals keeping the
        last word."""
        connues = self._cases_du_planning(planning_id)
        for jour, unite, etat, majorations, facturable, horaires in changements:
            cle = (jour, unite)
            case = connues.get(cle)
            if case is None:
                connues[cle] = [etat, version, majorations, facturable, horaires]
                continue
            case[0] = etat
            case[1] = max(case[1], version)
            if majorations is not GARDER:
                case[2] = majorations
            if facturable is not GARDER:
                case[3] = facturable
            if horaires is not GARDER:
                case[4] = horaires

    def _toutes_cases(self) -> Iterator[tuple[tuple[Any, Any, Any, str], Any, Case]]:
        """Each day-unit changed: its row key, its family, its change."""
        for (enfant_id, accueil_id, famille_id), cases in self._cases.values():
            for (jour, unite), case in cases.items():
                yield (enfant_id, accueil_id, jour, unite), famille_id, case

    def compter(
        self, accueil_id: Any, jour: Any, unite: str, reserves: int, attente: int, version: int
    ) -> None:
        """A counter change of the day's Capacite at stream `version`."""
        self._occupation.setdefault((accueil_id, jour, unite), []).append((version, reserves, attente))

    # Writing

    def ecrire(self, curs: Cursor[Any]) -> None:
        s = self.schema
        for table, ajouts in self._ajouts.items():
            _valeurs(
                curs,
                f"INSERT INTO {s}.{table.nom}",
                table.colonnes,
                list(ajouts.values()),
                "ON CONFLICT DO NOTHING",
            )
        for table in LUES:
            self._ecrire_lues(curs, table)
        self._ecrire_cases(curs)
        self._ecrire_occupation(curs)

    def copier(self, curs: Cursor[Any]) -> int:
        """A rebuild's whole fold, written into the emptied tables: one COPY per table, in the
        binary format, no conflict to resolve and no row to read. Returns the rows written."""
        assert self.vide, "COPY écrit dans des tables vides : un lot de reconstruction"
        ecrites = 0
        for table, ajouts in self._ajouts.items():
            ecrites += _copier(curs, self.schema, table.nom, table.colonnes, ajouts.values())
        for table in LUES:
            lignes = (tuple(ligne[c] for c in table.colonnes) for ligne in self.lignes(table))
            ecrites += _copier(curs, self.schema, table.nom, table.colonnes, lignes)
        with _index_apres(curs, self.schema, "proj_calendrier"):
            ecrites += _copier_calendrier(curs, self.schema, self._cases.values())
        ecrites += _copier(
            curs,
            self.schema,
            "proj_occupation",
            ("accueil_id", "jour", "unite", "reserves", "attente", "version"),
            (
                (
                    *cle,
                    sum(c[1] for c in changements),
                    sum(c[2] for c in changements),
                    max(c[0] for c in changements),
                )
                for cle, changements in self._occupation.items()
            ),
        )
        return ecrites

    def _ecrire_occupation(self, curs: Cursor[Any]) -> None:
        """Counters change by deltas, so the rows are read (locked: a command may be writing the
        same ones) and only the changes of a version above the row's are added."""
        if not self._occupation:
            return
        s = self.schema
        # A row already at the version of a key's last change holds every change of the page (a
        # command wrote it at commit): such rows are left alone, unlocked. During an opening rush
        # every booking writes the same few counters, and a lock held here until this page
        # commits would hold every save of the api behind it.
        cles = list(self._occupation)
        curs.execute(
            f"SELECT accueil_id, jour, unite, version FROM {s}.proj_occupation"
            " WHERE (accueil_id, jour, unite) IN (SELECT * FROM unnest(%b::uuid[], %b::date[], %b::text[]))",
            ([c[0] for c in cles], [c[1] for c in cles], [c[2] for c in cles]),
        )
        a_jour = {
            (r["accueil_id"], r["jour"], r["unite"])
            for r in curs.fetchall()
            if r["version"] >= max(c[0] for c in self._occupation[(r["accueil_id"], r["jour"], r["unite"])])
        }
        cles = [c for c in cles if c not in a_jour]
        if not cles:
            return
        curs.execute(
            f"SELECT accueil_id, jour, unite, version FROM {s}.proj_occupation"
            " WHERE (accueil_id, jour, unite) IN (SELECT * FROM unnest(%b::uuid[], %b::date[], %b::text[]))"
            ' ORDER BY accueil_id, jour, unite COLLATE "C" FOR UPDATE',
            ([c[0] for c in cles], [c[1] for c in cles], [c[2] for c in cles]),
        )
        versions = {(r["accueil_id"], r["jour"], r["unite"]): r["version"] for r in curs.fetchall()}
        lignes = []
        for cle, changements in sorted(
            ((c, self._occupation[c]) for c in cles), key=lambda c: ordre_des_lignes("proj_occupation", c[0])
        ):
            lue = versions.get(cle, 0)
            nouveaux = [c for c in changements if c[0] > lue]
            if nouveaux:
                lignes.append(
                    (
                        *cle,
                        sum(c[1] for c in nouveaux),
                        sum(c[2] for c in nouveaux),
                        max(c[0] for c in nouveaux),
                    )
                )
        if not lignes:
            return
        colonnes = list(zip(*lignes, strict=True))
        # A row created by a command since the read above holds every change up to its version.
        curs.execute(
            f"INSERT INTO {s}.proj_occupation AS o (accueil_id, jour, unite, reserves, attente, version)"
            " SELECT * FROM unnest(%b::uuid[], %b::date[], %b::text[], %b::integer[], %b::integer[], %b::bigint[])"
            " ON CONFLICT (accueil_id, jour, unite) DO UPDATE SET reserves = o.reserves + EXCLUDED.reserves,"
            " attente = o.attente + EXCLUDED.attente, version = EXCLUDED.version"
            " WHERE o.version < EXCLUDED.version",
            [list(c) for c in colonnes],
        )

    def _ecrire_lues(self, curs: Cursor[Any], table: Table) -> None:
        origines = self._origines[table]
        effacees = []
        changees = []
        for cle, ligne in self._lignes[table].items():
            if ligne is None:
                if origines[cle] is not None:
                    effacees.append(cle)
            elif ligne != origines[cle]:
                changees.append(tuple(ligne[c] for c in table.colonnes))
        if effacees:
            curs.execute(f"DELETE FROM {self.schema}.{table.nom} WHERE {table.cle} = ANY(%s)", (effacees,))
        miseajour = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.colonnes[1:])
        _valeurs(
            curs,
            f"INSERT INTO {self.schema}.{table.nom}",
            table.colonnes,
            changees,
            f"ON CONFLICT ({table.cle}) DO UPDATE SET {miseajour}",
        )

    def _ecrire_cases(self, curs: Cursor[Any]) -> None:
        s = self.schema
        formes: dict[tuple[bool, bool, bool], list[tuple[tuple[Any, Any, Any, str], Any, Case]]] = {}
        for cle, famille_id, case in sorted(
            self._toutes_cases(), key=lambda c: ordre_des_lignes("proj_calendrier", c[0])
        ):
            formes.setdefault(forme(case), []).append((cle, famille_id, case))
        for (majorations, facturable, horaires), cases in formes.items():
            # A field the change keeps is the row's, if there is one (NULL or false otherwise).
            def valeur(champ: str, pose: bool) -> str:
                return f"EXCLUDED.{champ}" if pose else f"c.{champ}"

            def ou_garde(valeur: Any, defaut: Any) -> Any:
                return defaut if valeur is GARDER else valeur

            maj = [ou_garde(case[2], (None, None)) for _, _, case in cases]
            heures = [ou_garde(case[4], (None, None)) for _, _, case in cases]
            curs.execute(
                f"INSERT INTO {s}.proj_calendrier AS c (enfant_id, accueil_id, jour, unite, famille_id, etat,"
                " majoration_cents, majoration_pourcent, facturable, arrivee, depart, version)"
                " SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::date[], %b::text[], %b::uuid[], %b::text[],"
                " %b::integer[], %b::integer[], %b::boolean[], %b::time[], %b::time[], %b::bigint[])"
                " ON CONFLICT (enfant_id, accueil_id, jour, unite) DO UPDATE SET etat = EXCLUDED.etat,"
                f" majoration_cents = {valeur('majoration_cents', majorations)},"
                f" majoration_pourcent = {valeur('majoration_pourcent', majorations)},"
                f" facturable = {valeur('facturable', facturable)},"
                f" arrivee = {valeur('arrivee', horaires)}, depart = {valeur('depart', horaires)},"
                " version = EXCLUDED.version WHERE c.version < EXCLUDED.version",
                (
                    [cle[0] for cle, _, _ in cases],
                    [cle[1] for cle, _, _ in cases],
                    [cle[2] for cle, _, _ in cases],
                    [cle[3] for cle, _, _ in cases],
                    [famille_id for _, famille_id, _ in cases],
                    [case[0] for _, _, case in cases],
                    [m[0] for m in maj],
                    [m[1] for m in maj],
                    [ou_garde(case[3], False) for _, _, case in cases],
                    [h[0] for h in heures],
                    [h[1] for h in heures],
                    [case[1] for _, _, case in cases],
                ),
            )


COLONNES_CALENDRIER = (
    "enfant_id",
    "accueil_id",
    "famille_id",
    "jour",
    "unite",
    "etat",
    "majoration_cents",
    "majoration_pourcent",
    "facturable",
    "arrivee",
    "depart",
    "version",
)
"""In the order of `_copier_calendrier`'s rows: a planning's three ids first, encoded once."""

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_FIN = struct.pack("!h", -1)
_NUL = struct.pack("!i", -1)
_JOUR_ZERO = date(2000, 1, 1).toordinal()
_ENTIER = struct.Struct("!ii")
_GRAND = struct.Struct("!iq")
_BOOLEENS = {False: struct.pack("!i?", 1, False), True: struct.pack("!i?", 1, True)}
_BLOC = 1 << 20


def _texte(valeur: str) -> bytes:
    octets = valeur.encode()
    return struct.pack("!i", len(octets)) + octets


def _heure(valeur: time | None) -> bytes:
    if valeur is None:
        return _NUL
    return _GRAND.pack(
        8, ((valeur.hour * 60 + valeur.minute) * 60 + valeur.second) * 1_000_000 + valeur.microsecond
    )


@contextmanager
def _index_apres(curs: Cursor[Any], schema: str, table: str) -> Iterator[None]:
    """The table's indexes (its primary key included) dropped, then built again from their
    definitions once the rows are in: PostgreSQL builds an index from sorted rows far faster
    than it inserts two million entries one by one (the calendar's COPY took 9.4 s with them).
    In the caller's transaction: a reader waits for its commit rather than seeing the table
    without its key."""
    curs.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c"
        " WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u')",
        (f"{schema}.{table}",),
    )
    contraintes = [(ligne["conname"], ligne["definition"]) for ligne in curs.fetchall()]
    curs.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
        (schema, table),
    )
    index = [
        (ligne["indexname"], ligne["indexdef"])
        for ligne in curs.fetchall()
        if ligne["indexname"] not in {nom for nom, _ in contraintes}
    ]
    for nom, _ in index:
        curs.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, nom)))
    for nom, _ in contraintes:
        curs.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(schema, table), sql.Identifier(nom)
            )
        )
    yield
    # Sorting two million keys in memory rather than in batches on disk.
    curs.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for nom, definition in contraintes:
        curs.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                sql.Identifier(schema, table), sql.Identifier(nom)
            )
            + sql.SQL(definition)
        )
    for _, definition in index:
        curs.execute(sql.SQL(definition))


def _queue(etat: str, version: int, majorations: Any, facturable: Any, horaires: Any) -> bytes:
    """A row's fields after its day and unit, encoded."""
    cents, pourcent = (None, None) if majorations is GARDER else majorations
    arrivee, depart = (None, None) if horaires is GARDER else horaires
    return b"".join(
        (
            _texte(etat),
            _NUL if cents is None else _ENTIER.pack(4, cents),
            _NUL if pourcent is None else _ENTIER.pack(4, pourcent),
            _BOOLEENS[facturable is not GARDER and bool(facturable)],
            _heure(arrivee),
            _heure(depart),
            _GRAND.pack(8, version),
        )
    )


def _copier_calendrier(
    curs: Cursor[Any],
    schema: str,
    plannings: Iterable[tuple[tuple[Any, Any, Any], dict[tuple[Any, str], Case]]],
) -> int:
    """A rebuild's calendar (two million rows at 10,000 children) in PostgreSQL's binary COPY
    format, encoded here: a planning's three ids once, and each day, unit and set of other fields
    once however many rows repeat it. Through `write_row` each row's values went one by one
    through psycopg's dumpers, UUIDs in Python."""
    jours: dict[Any, bytes] = {}
    unites: dict[str, bytes] = {}
    queues: dict[tuple[Any, ...], bytes] = {}
    n = 0
    bloc = bytearray(_SIGNATURE)
    with curs.copy(
        f"COPY {schema}.proj_calendrier ({', '.join(COLONNES_CALENDRIER)}) FROM STDIN (FORMAT BINARY)"
    ) as copie:
        for ids, cases in plannings:
            tete = struct.pack("!h", len(COLONNES_CALENDRIER)) + b"".join(
                struct.pack("!i", 16) + ident.bytes for ident in ids
            )
            for (jour, unite), case in cases.items():
                jour_b = jours.get(jour)
                if jour_b is None:
                    jour_b = jours[jour] = _ENTIER.pack(4, jour.toordinal() - _JOUR_ZERO)
                unite_b = unites.get(unite)
                if unite_b is None:
                    unite_b = unites[unite] = _texte(unite)
                cle = tuple(case)
                queue = queues.get(cle)
                if queue is None:
                    queue = queues[cle] = _queue(*case)
                bloc += tete
                bloc += jour_b
                bloc += unite_b
                bloc += queue
                n += 1
                if len(bloc) > _BLOC:
                    copie.write(bloc)
                    bloc = bytearray()
        bloc += _FIN
        copie.write(bloc)
    return n


def _copier(
    curs: Cursor[Any], schema: str, table: str, colonnes: tuple[str, ...], lignes: Iterable[tuple[Any, ...]]
) -> int:
    """COPY `lignes` into `table` in the binary format, each column typed as the table types it."""
    curs.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a"
        " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        (f"{schema}.{table}",),
    )
    types = {ligne["attname"]: ligne["type"] for ligne in curs.fetchall()}
    n = 0
    with curs.copy(f"COPY {schema}.{table} ({', '.join(colonnes)}) FROM STDIN (FORMAT BINARY)") as copie:
        copie.set_types([types[c] for c in colonnes])
        for ligne in lignes:
            copie.write_row(ligne)
            n += 1
    return n


def _valeurs(
    curs: Cursor[Any], debut: str, colonnes: tuple[str, ...], lignes: list[tuple[Any, ...]], fin: str
) -> None:
    """`debut (colonnes) VALUES (…), (…) fin`, in as few statements as the parameter limit allows
    (multi-row VALUES rather than unnest: some columns are arrays, which unnest would flatten)."""
    par_instruction = MAX_PARAMETRES // len(colonnes)
    gabarit = "(" + ", ".join(["%s"] * len(colonnes)) + ")"
    for debut_tranche in range(0, len(lignes), par_instruction):
        tranche = lignes[debut_tranche : debut_tranche + par_instruction]
        curs.execute(
            f"{debut} ({', '.join(colonnes)}) VALUES {', '.join([gabarit] * len(tranche))} {fin}",
            [valeur for ligne in tranche for valeur in ligne],
        )
