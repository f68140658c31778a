"""The read-model changes of one page of events, folded in memory and written with one statement
per table (a few for the day-units): a page of a thousand events costs a handful of statements
rather than thousands, and the incremental runner and a rebuild go through the same code.

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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg import Cursor

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


class Case:
    """A day-unit's pending change, as the Planning aggregate applies it: the state always, and
    each other field either set by the event or kept (`GARDER`). `version` is the planning's stream
    version after the event: a row of a higher version (written by a command) is left alone."""

    __slots__ = ("etat", "facturable", "famille_id", "horaires", "majorations", "version")

    def __init__(
        self,
        famille_id: Any,
        etat: str,
        version: int,
        majorations: tuple[int | None, int | None] | Any = GARDER,
        facturable: bool | Any = GARDER,
        horaires: tuple[Any, Any] | Any = GARDER,
    ) -> None:
        self.famille_id = famille_id
        self.etat = etat
        self.version = version
        self.majorations = majorations
        self.facturable = facturable
        self.horaires = horaires

    def suivie_de(self, autre: Case) -> None:
        """This change, then `autre` on the same row: what the two upserts in a row leave."""
        self.etat = autre.etat
        self.version = max(self.version, autre.version)
        for champ in ("majorations", "facturable", "horaires"):
            valeur = getattr(autre, champ)
            if valeur is not GARDER:
                setattr(self, champ, valeur)

    def forme(self) -> tuple[bool, bool, bool]:
        """Which fields the change sets: one statement per shape."""
        return (self.majorations is not GARDER, self.facturable is not GARDER, self.horaires is not GARDER)


class Lot:
    def __init__(self, schema: str, reperes: Reperes) -> None:
        self.schema = schema
        self.reperes = reperes
        self._ajouts: dict[Table, dict[Any, tuple[Any, ...]]] = {t: {} for t in AJOUTS}
        self._lignes: dict[Table, dict[Any, Ligne | None]] = {t: {} for t in LUES}
        self._origines: dict[Table, dict[Any, Ligne | None]] = {t: {} for t in LUES}
        self._cases: dict[tuple[Any, Any, Any, str], Case] = {}
        self._occupation: dict[tuple[Any, Any, str], list[tuple[int, int, int]]] = {}

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
                connues[cle] = dict(ligne)
                self._origines[table][cle] = dict(ligne)
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
        assert cle in lignes, f"{table.nom} {cle} non lue avant la page"
        return lignes[cle]

    def poser(self, table: Table, cle: Any, ligne: Ligne | None) -> None:
        self._lignes[table][cle] = ligne

    def lignes(self, table: Table) -> Iterator[Ligne]:
        return (ligne for ligne in self._lignes[table].values() if ligne is not None)

    def cases(self, ids: tuple[Any, Any, Any], cases: Iterable[tuple[Any, str, Case]]) -> None:
        """One event's day-units: within the event the last word on a day-unit replaces the
        others (as one upsert of its distinct rows did); across events the changes compose."""
        enfant_id, accueil_id, _ = ids
        dernieres = {(jour, unite): case for jour, unite, case in cases}
        for (jour, unite), case in dernieres.items():
            cle = (enfant_id, accueil_id, jour, unite)
            avant = self._cases.get(cle)
            if avant is None:
                self._cases[cle] = case
            else:
                avant.suivie_de(case)

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
        formes: dict[tuple[bool, bool, bool], list[tuple[tuple[Any, Any, Any, str], Case]]] = {}
        for cle, case in sorted(self._cases.items(), key=lambda c: ordre_des_lignes("proj_calendrier", c[0])):
            formes.setdefault(case.forme(), []).append((cle, case))
        for (majorations, facturable, horaires), cases in formes.items():
            # A field the change keeps is the row's, if there is one (NULL or false otherwise).
            def valeur(champ: str, pose: bool) -> str:
                return f"EXCLUDED.{champ}" if pose else f"c.{champ}"

            def ou_garde(valeur: Any, defaut: Any) -> Any:
                return defaut if valeur is GARDER else valeur

            maj = [ou_garde(case.majorations, (None, None)) for _, case in cases]
            heures = [ou_garde(case.horaires, (None, None)) for _, case in cases]
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
                    [cle[0] for cle, _ in cases],
                    [cle[1] for cle, _ in cases],
                    [cle[2] for cle, _ in cases],
                    [cle[3] for cle, _ in cases],
                    [case.famille_id for _, case in cases],
                    [case.etat for _, case in cases],
                    [m[0] for m in maj],
                    [m[1] for m in maj],
                    [ou_garde(case.facturable, False) for _, case in cases],
                    [h[0] for h in heures],
                    [h[1] for h in heures],
                    [case.version for _, case in cases],
                ),
            )


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
