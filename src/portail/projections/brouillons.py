"""Invoice drafts: per family and month, the lines a campaign would bill at the runner's position.

Kept by the projection runner in the transaction that moves its position, so the drafts and the
position always agree: a campaign is their sum at that position. The runner keeps only the
commune's parameters and accueils in memory (a few aggregates); a family's facts are folded from
the log (`store.pliage`) when one of its events arrives, at the page's last position, and only
the family-months the events touch are priced again. A tariff or closure change reprices the
families booked on the accueil, a commune change every family.

`proj_brouillons` holds the figures and the digest of each family-month; the lines themselves
are stored once per digest in `proj_lignes_facture` (content-addressed), which a campaign's
copy of the digests (`proj_campagne_familles`) keeps alive after the drafts move on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import structlog
from eventsourcing.domain import Aggregate
from psycopg import Cursor

from portail.domain.accueil import Accueil
from portail.domain.commune import Parametres
from portail.domain.facturation import Anomalie, Calcul, LigneFacture
from portail.domain.facturation_famille import accueils_de, facturer_famille, mois_factures
from portail.domain.planning import Planning
from portail.store import lecture
from portail.store.pliage import FAMILLES_PAR_LOT, TAILLE_PLIS, FamillesPliees, Pliage

log = structlog.get_logger()

PREFIXES_COMMUNE = ("portail:Accueil.", "portail:Parametres.")
"""The commune's facts, folded in memory (`Brouillons.communs`)."""
PREFIXES = (
    "portail:Famille.",
    "portail:Enfant.",
    "portail:Accueil.",
    "portail:Planning.",
    "portail:Parametres.",
)
TOUS_LES_MOIS = "*"
TABLE_SUJETS = "portail_sujets"

_encodeur = msgspec.json.Encoder()
_lignes = msgspec.json.Decoder(tuple[LigneFacture, ...])
_anomalies = msgspec.json.Decoder(tuple[Anomalie, ...])


TABLE_COPIES = "proj_campagne_copies"


def ddl(schema: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {schema}.proj_brouillons ("
        " famille_id uuid NOT NULL, mois text NOT NULL, lignes integer NOT NULL, montant_cents bigint NOT NULL,"
        " anomalies integer NOT NULL, PRIMARY KEY (famille_id, mois))",
        f"ALTER TABLE {schema}.proj_brouillons ADD COLUMN IF NOT EXISTS empreinte text",
        f"CREATE INDEX IF NOT EXISTS proj_brouillons_mois ON {schema}.proj_brouillons (mois, famille_id)",
        f"CREATE INDEX IF NOT EXISTS proj_brouillons_empreinte ON {schema}.proj_brouillons (empreinte)",
        f"CREATE TABLE IF NOT EXISTS {schema}.proj_lignes_facture ("
        " empreinte text PRIMARY KEY, lignes bytea NOT NULL, anomalies bytea NOT NULL)",
        # A campaign's copy of its families' digests is one row of arrays, in family id order: a
        # row a family cost the campaign an index entry twice over (5,143 at 10,000 children);
        # the GIN index, which the line rows' garbage collection asks, takes them as one append.
        f"CREATE TABLE IF NOT EXISTS {schema}.{TABLE_COPIES} ("
        " campagne_id uuid PRIMARY KEY, famille_ids uuid[] NOT NULL, empreintes text[] NOT NULL,"
        " anomalies integer[] NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {TABLE_COPIES}_empreintes ON {schema}.{TABLE_COPIES} USING gin (empreintes)",
        # Stored out of line without compression: digests and ids do not compress, and trying
        # took 15 of a campaign's 25 ms of writing at 10,000 children (measured). Altered once.
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '{schema}.{TABLE_COPIES}'::regclass"
        " AND attname = 'empreintes' AND attstorage <> 'e') THEN"
        f" ALTER TABLE {schema}.{TABLE_COPIES} ALTER famille_ids SET STORAGE EXTERNAL,"
        " ALTER empreintes SET STORAGE EXTERNAL, ALTER anomalies SET STORAGE EXTERNAL; END IF; END $$",
        # The copies of an earlier version, a row a family, carried over once (several processes
        # may start together: the one that finds the table gone has nothing to do).
        f"DO $$ BEGIN IF to_regclass('{schema}.proj_campagne_familles') IS NOT NULL THEN"
        f" INSERT INTO {schema}.{TABLE_COPIES} SELECT campagne_id, array_agg(famille_id ORDER BY famille_id),"
        " array_agg(empreinte ORDER BY famille_id), array_agg(anomalies ORDER BY famille_id)"
        f" FROM {schema}.proj_campagne_familles GROUP BY campagne_id ON CONFLICT DO NOTHING;"
        f" DROP TABLE {schema}.proj_campagne_familles; END IF;"
        " EXCEPTION WHEN undefined_table THEN NULL; END $$",
    ]


def copie_garde(schema: str, alias: str) -> str:
    """SQL condition: the line rows of `alias` that a campaign's copy still names."""
    return f"EXISTS (SELECT 1 FROM {schema}.{TABLE_COPIES} k WHERE k.empreintes @> ARRAY[{alias}.empreinte])"


def contenu(calcul: Calcul) -> tuple[bytes, bytes]:
    """A family-month's lines and anomalies as stored (JSON)."""
    return _encodeur.encode(calcul.lignes), _encodeur.encode(calcul.anomalies)


def relire(lignes: bytes, anomalies: bytes) -> Calcul:
    return Calcul(_lignes.decode(lignes), _anomalies.decode(anomalies))


def _mois(jour: date) -> str:
    return f"{jour.year:04d}-{jour.month:02d}"


@dataclass
class Calcules:
    """Priced drafts waiting to be written, and family-months that no longer have one; their rows
    are encoded here, before the transaction that writes them (it must not stay idle)."""

    ecrits: list[tuple[UUID, str, Calcul]] = field(default_factory=list)
    effaces: list[tuple[UUID, str]] = field(default_factory=list)
    touches: list[tuple[UUID, str]] = field(default_factory=list)

    def colonnes(self) -> tuple[list[Any], ...]:
        """The drafts' columns, then the lines' (digest, lines, anomalies), as arrays."""
        contenus = [contenu(c) for _, _, c in self.ecrits]
        return (
            [f for f, _, _ in self.ecrits],
            [m for _, m, _ in self.ecrits],
            [len(c.lignes) for _, _, c in self.ecrits],
            [c.montant_cents for _, _, c in self.ecrits],
            [len(c.anomalies) for _, _, c in self.ecrits],
            [c.empreinte for _, _, c in self.ecrits],
            [c[0] for c in contenus],
            [c[1] for c in contenus],
        )


class Brouillons:
    def __init__(self, schema: str, pliage: Pliage | None = None, familles_pliees: int = TAILLE_PLIS) -> None:
        self.schema = schema
        self.pliage = pliage
        self.familles_pliees = familles_pliees
        self.vider()

    def vider(self) -> None:
        self.plis = FamillesPliees(self.familles_pliees)
        """The families last priced, as folded then: the next page folds them on from there."""
        self.communs: dict[UUID, Aggregate] = {}
        """The commune's parameters and accueils at the runner's position."""
        self.a_recalculer: set[tuple[UUID, str]] = set()
        """(family or other aggregate id, month or `*`): the aggregate's family is found when priced."""
        self.accueils_touches: set[UUID] = set()
        self.tout = False
        self._a_plier: list[UUID] | None = None
        """The families still to fold ahead (`plier_d_avance`), the most recent last."""

    def plier_d_avance(self, position: int) -> bool:
        """Fold, at `position`, one batch of the families bookings will reprice next (the most
        recently booked, as many as `plis` keeps), so that the first booking of each after a start
        pays only for its own events, not for its family's whole history (a worker that has just
        started measured 74 % of its time folding families that its bookings touched for the first
        time). The runner calls it while idle; True while families remain."""
        if self.pliage is None:
            return False
        if self._a_plier is None:
            self._a_plier = self.pliage.familles_recentes(position, self.plis.taille)
        elif not self._a_plier:
            return False
        lot: list[UUID] = []
        # The least recent first: the most recent are the last to leave the kept ones.
        while self._a_plier and len(lot) < FAMILLES_PAR_LOT:
            famille_id = self._a_plier.pop()
            if not self.plis.contient(famille_id):
                lot.append(famille_id)
        for _ in self.pliage.familles(position, lot, plis=self.plis):
            pass
        if not self._a_plier:
            log.info("familles_pliees_d_avance", familles=len(self.plis), position=position)
        return bool(self._a_plier)

    def reprendre(self, position: int) -> None:
        """The commune's facts at `position` (at start, or after a page that did not commit)."""
        self.vider()
        if self.pliage is not None:
            self.communs = self.pliage.communs(position)

    def suivre(self, evenement: Any) -> None:
        """Note which family-months an event changes; fold it if it is the commune's."""
        sujet = evenement.originator_id
        if isinstance(evenement, Accueil.Event | Parametres.Event):
            try:
                aggregat = evenement.mutate(self.communs.get(sujet))
            except Exception:
                # An altered record: the audit chain names it.
                aggregat = None
            if aggregat is None:
                self.communs.pop(sujet, None)
                return
            self.communs[sujet] = aggregat
            if isinstance(aggregat, Parametres):
                self.tout = True
            elif not isinstance(evenement, Accueil.Cree | Accueil.Created):
                # Its tariffs or closures change only the drafts of the families booked on it; a
                # new accueil changes none (the plannings opened on it since note their own days).
                self.accueils_touches.add(sujet)
            return
        if self.tout:
            # Every family is priced again (a commune change, a rebuild): which, needs no noting.
            return
        if isinstance(evenement, Planning.Event):
            # An opened planning has no day-unit yet, so it changes no month's bill: the
            # bookings saved with it carry their days and reprice only their months.
            if isinstance(evenement, Planning.Ouvert):
                return
            mois = {_mois(jour) for jour in _jours(evenement)} or {TOUS_LES_MOIS}
            self.a_recalculer.update((sujet, m) for m in mois)
        else:
            self.a_recalculer.add((sujet, TOUS_LES_MOIS))

    def _cibles(self, position: int) -> dict[UUID, set[str]]:
        """The families to price again, each with its months (`*`: every month it has)."""
        assert self.pliage is not None
        cibles: dict[UUID, set[str]] = {}
        if self.tout:
            for famille_id in self.pliage.familles_facturables(position):
                cibles[famille_id] = {TOUS_LES_MOIS}
            return cibles
        sujets = {s for s, _ in self.a_recalculer}
        familles: dict[UUID, UUID] = {}
        if sujets:
            for agregat_id, famille_id in self._lire(
                f"SELECT agregat_id, famille_id FROM {self.schema}.{TABLE_SUJETS}"
                " WHERE agregat_id = ANY(%s) AND famille_id IS NOT NULL",
                (list(sujets),),
            ):
                familles[agregat_id] = famille_id
        for sujet, mois in self.a_recalculer:
            famille_id = familles.get(sujet, sujet)
            cibles.setdefault(famille_id, set()).add(mois)
        if self.accueils_touches:
            for (famille_id,) in self._lire(
                f"SELECT DISTINCT famille_id FROM {self.schema}.proj_plannings WHERE accueil_id = ANY(%s)",
                (list(self.accueils_touches),),
            ):
                cibles.setdefault(famille_id, set()).add(TOUS_LES_MOIS)
        return cibles

    def _lire(self, requete: str, parametres: Any) -> list[tuple[Any, ...]]:
        assert self.pliage is not None
        return lecture.tuples(self.pliage.ds, requete, parametres)

    def calculer(self, position: int) -> Calcules:
        """Price the family-months to redo at `position`, each once, from the families' facts
        folded there. Done before the transaction that writes them: pricing a whole commune
        takes longer than a transaction may stay idle."""
        return next(self.calculer_par_lots(position, None), Calcules())

    def calculer_par_lots(self, position: int, taille: int | None) -> Iterator[Calcules]:
        """`calculer`, a batch at a time of about `taille` family-months (whole families; None:
        one batch), each priced when the previous one is taken: a whole commune's drafts (51,000
        family-months at 10,000 children) are never all in memory at once."""
        if self.pliage is None:
            self.a_recalculer, self.accueils_touches, self.tout = set(), set(), False
            return
        cibles = self._cibles(position)
        self.a_recalculer, self.accueils_touches, self.tout = set(), set(), False
        if not cibles:
            return
        existants: dict[UUID, set[str]] = {}
        for famille_id, mois in self._lire(
            f"SELECT famille_id, mois FROM {self.schema}.proj_brouillons WHERE famille_id = ANY(%s)",
            (list(cibles),),
        ):
            existants.setdefault(famille_id, set()).add(mois)
        accueils = accueils_de(self.communs)
        ordre = sorted(cibles, key=str)
        calcules = Calcules()
        for famille_id, aggregats, conserves in self.pliage.familles(position, ordre, plis=self.plis):
            demandes = cibles[famille_id]
            mois_famille = (
                mois_factures(aggregats.values()) | existants.get(famille_id, set())
                if TOUS_LES_MOIS in demandes
                else demandes
            )
            for mois in sorted(mois_famille - {TOUS_LES_MOIS}):
                annee, numero = (int(x) for x in mois.split("-"))
                calcul = facturer_famille(
                    famille_id, aggregats, self.communs, annee, numero, position, conserves, accueils
                )
                calcules.touches.append((famille_id, mois))
                if calcul.lignes or calcul.anomalies:
                    calcules.ecrits.append((famille_id, mois, calcul))
                else:
                    calcules.effaces.append((famille_id, mois))
            if taille is not None and len(calcules.touches) >= taille:
                yield calcules
                calcules = Calcules()
        if calcules.touches:
            yield calcules

    def ecrire_calcules(self, curs: Cursor[Any], calcules: Calcules) -> None:
        """Write the drafts, their lines once per digest, and drop the lines no draft or
        campaign refers to any more."""
        self.ecrire_colonnes(curs, calcules.touches, calcules.effaces, calcules.colonnes())

    def ecrire_colonnes(
        self,
        curs: Cursor[Any],
        touches: list[tuple[UUID, str]],
        effaces: list[tuple[UUID, str]],
        colonnes: tuple[list[Any], ...],
    ) -> None:
        """`ecrire_calcules` with the rows already encoded (`Calcules.colonnes`), in the page's
        transaction: statements only, no Python work between them."""
        s = self.schema
        if not touches:
            return
        curs.execute(
            f"SELECT b.empreinte FROM {s}.proj_brouillons AS b"
            " JOIN unnest(%b::uuid[], %b::text[]) AS u(famille_id, mois)"
            " ON b.famille_id = u.famille_id AND b.mois = u.mois WHERE b.empreinte IS NOT NULL",
            ([f for f, _ in touches], [m for _, m in touches]),
        )
        anciennes = [r[0] if isinstance(r, tuple) else r["empreinte"] for r in curs.fetchall()]
        if effaces:
            curs.execute(
                f"DELETE FROM {s}.proj_brouillons AS b USING unnest(%b::uuid[], %b::text[]) AS u(famille_id, mois)"
                " WHERE b.famille_id = u.famille_id AND b.mois = u.mois",
                ([f for f, _ in effaces], [m for _, m in effaces]),
            )
        familles, mois, lignes, montants, anomalies, empreintes, contenus, contenus_anomalies = colonnes
        if familles:
            curs.execute(
                f"INSERT INTO {s}.proj_lignes_facture (empreinte, lignes, anomalies)"
                " SELECT * FROM unnest(%b::text[], %b::bytea[], %b::bytea[]) ON CONFLICT (empreinte) DO NOTHING",
                (empreintes, contenus, contenus_anomalies),
            )
            curs.execute(
                f"INSERT INTO {s}.proj_brouillons (famille_id, mois, lignes, montant_cents, anomalies, empreinte)"
                " SELECT * FROM unnest(%b::uuid[], %b::text[], %b::integer[], %b::bigint[], %b::integer[], %b::text[])"
                " ON CONFLICT (famille_id, mois) DO UPDATE SET lignes = EXCLUDED.lignes,"
                " montant_cents = EXCLUDED.montant_cents, anomalies = EXCLUDED.anomalies,"
                " empreinte = EXCLUDED.empreinte",
                (familles, mois, lignes, montants, anomalies, empreintes),
            )
        if anciennes:
            curs.execute(
                f"DELETE FROM {s}.proj_lignes_facture AS c WHERE c.empreinte = ANY(%s)"
                f" AND NOT EXISTS (SELECT 1 FROM {s}.proj_brouillons b WHERE b.empreinte = c.empreinte)"
                f" AND NOT {copie_garde(s, 'c')}",
                (anciennes,),
            )


def _jours(evenement: Any) -> list[date]:
    if isinstance(evenement, Planning.Reserve | Planning.MisEnListeAttente | Planning.Annule):
        return [ligne.jour for ligne in evenement.lignes]
    if isinstance(evenement, Planning.Pointe):
        return [p.jour for p in evenement.pointages]
    jour = getattr(evenement, "jour", None)
    return [jour] if isinstance(jour, date) else []
