"""Invoice drafts: per family and month, what a campaign would bill if it ran now.

Kept by the projection runner from the same pages of events (same transaction, same tracking
position): the billing facts are folded in memory as events arrive, and only the family-months an
event touches are priced again. A tariff or commune change reprices every draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from psycopg import Cursor

from portail.domain.accueil import Accueil
from portail.domain.commune import ID_PARAMETRES, Parametres
from portail.domain.enfant import Enfant
from portail.domain.facturation import PresencesDuMois, calculer
from portail.domain.faits_comptables import facturables
from portail.domain.famille import Famille
from portail.domain.planning import Planning

PREFIXES = (
    "portail:Famille.",
    "portail:Enfant.",
    "portail:Accueil.",
    "portail:Planning.",
    "portail:Parametres.",
)
TOUS_LES_MOIS = "*"


def ddl(schema: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {schema}.proj_brouillons ("
        " famille_id uuid NOT NULL, mois text NOT NULL, lignes integer NOT NULL, montant_cents bigint NOT NULL,"
        " anomalies integer NOT NULL, PRIMARY KEY (famille_id, mois))"
    ]


def _mois(jour: date) -> str:
    return f"{jour.year:04d}-{jour.month:02d}"


@dataclass
class Calcules:
    """Priced drafts waiting to be written, and family-months that no longer have one."""

    ecrits: list[tuple[UUID, str, int, int, int]]
    effaces: list[tuple[UUID, str]]


class Brouillons:
    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.vider()

    def vider(self) -> None:
        self.faits: dict[UUID, Aggregate] = {}
        self.accueils: dict[UUID, Accueil] = {}
        self.familles_de_l_accueil: dict[UUID, set[UUID]] = {}
        """The accueils among the facts: a few, read at every draft (the facts are the commune)."""
        self.illisibles: set[UUID] = set()
        self.enfants_de: dict[UUID, set[UUID]] = {}
        self.plannings_de: dict[UUID, set[UUID]] = {}
        self.a_recalculer: set[tuple[UUID, str]] = set()
        self.tout = False

    def suivre(self, evenement: Any) -> None:
        """Fold a billing fact and note which family-months it changes."""
        sujet = evenement.originator_id
        if sujet in self.illisibles:
            return
        try:
            aggregat = evenement.mutate(self.faits.get(sujet))
        except Exception:
            # An earlier event of this aggregate could not be read (altered record): its drafts
            # stop here; the audit chain names the record.
            self.illisibles.add(sujet)
            self.faits.pop(sujet, None)
            self.accueils.pop(sujet, None)
            return
        self.faits[sujet] = aggregat
        if isinstance(aggregat, Planning):
            self.plannings_de.setdefault(aggregat.enfant_id, set()).add(aggregat.id)
            self.familles_de_l_accueil.setdefault(aggregat.accueil_id, set()).add(aggregat.famille_id)
            # An opened planning has no day-unit yet, so it changes no month's bill: the
            # bookings saved with it carry their days and reprice only their months.
            if not isinstance(evenement, Planning.Ouvert):
                mois = {_mois(jour) for jour in _jours(evenement)} or {TOUS_LES_MOIS}
                self.a_recalculer.update((aggregat.famille_id, m) for m in mois)
        elif isinstance(aggregat, Enfant):
            self.enfants_de.setdefault(aggregat.famille_id, set()).add(aggregat.id)
            self.a_recalculer.add((aggregat.famille_id, TOUS_LES_MOIS))
        elif isinstance(aggregat, Famille):
            self.a_recalculer.add((aggregat.id, TOUS_LES_MOIS))
        elif isinstance(aggregat, Accueil):
            # Its tariffs or closures change only the drafts of the families booked on it: a
            # new accueil changes none (and the commune's every draft is minutes of work).
            self.accueils[aggregat.id] = aggregat
            familles = self.familles_de_l_accueil.get(aggregat.id, set())
            self.a_recalculer.update((f, TOUS_LES_MOIS) for f in familles)
        elif isinstance(aggregat, Parametres):
            self.tout = True

    def ecrire(self, curs: Cursor[Any]) -> None:
        """Price the family-months to redo, each once, and write them in two statements."""
        self.ecrire_calcules(curs, self.calculer())

    def calculer(self) -> Calcules:
        """Price the family-months to redo, each once. Done before the transaction that writes
        them: pricing a whole commune takes longer than a transaction may stay idle."""
        if self.tout:
            cibles = {(f, TOUS_LES_MOIS) for f in self.enfants_de}
            self.tout = False
        else:
            cibles = self.a_recalculer
        self.a_recalculer = set()
        a_calculer: set[tuple[UUID, str]] = set()
        for famille_id, mois in cibles:
            a_calculer.update(
                (famille_id, m) for m in (self._mois_de(famille_id) if mois == TOUS_LES_MOIS else [mois])
            )
        calcules = Calcules([], [])
        for famille_id, mois in sorted(a_calculer, key=lambda fm: (str(fm[0]), fm[1])):
            brouillon = self._calculer(famille_id, mois)
            if brouillon is None:
                calcules.effaces.append((famille_id, mois))
            else:
                calcules.ecrits.append(brouillon)
        return calcules

    def ecrire_calcules(self, curs: Cursor[Any], calcules: Calcules) -> None:
        s = self.schema
        effaces, ecrits = calcules.effaces, calcules.ecrits
        if effaces:
            curs.execute(
                f"DELETE FROM {s}.proj_brouillons AS b USING unnest(%s::uuid[], %s::text[]) AS u(famille_id, mois)"
                " WHERE b.famille_id = u.famille_id AND b.mois = u.mois",
                ([f for f, _ in effaces], [m for _, m in effaces]),
            )
        if ecrits:
            curs.execute(
                f"INSERT INTO {s}.proj_brouillons (famille_id, mois, lignes, montant_cents, anomalies)"
                " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::integer[], %s::bigint[], %s::integer[])"
                " ON CONFLICT (famille_id, mois) DO UPDATE SET lignes = EXCLUDED.lignes,"
                " montant_cents = EXCLUDED.montant_cents, anomalies = EXCLUDED.anomalies",
                tuple([b[i] for b in ecrits] for i in range(5)),
            )

    def _mois_de(self, famille_id: UUID) -> set[str]:
        mois: set[str] = set()
        for planning in self._plannings(famille_id):
            mois.update(planning.mois_presences())
        return mois

    def _plannings(self, famille_id: UUID) -> list[Planning]:
        plannings = []
        for enfant_id in self.enfants_de.get(famille_id, ()):
            for planning_id in self.plannings_de.get(enfant_id, ()):
                planning = self.faits.get(planning_id)
                if isinstance(planning, Planning):
                    plannings.append(planning)
        return plannings

    def _calculer(self, famille_id: UUID, mois: str) -> tuple[UUID, str, int, int, int] | None:
        """The family-month's draft; None when it bills nothing and reports nothing."""
        annee, numero = (int(x) for x in mois.split("-"))
        lue = self.faits.get(famille_id)
        famille = lue if isinstance(lue, Famille) else None
        parametres = self.faits.get(ID_PARAMETRES)
        # The latest state: an erased family's conserved facts are among those folded.
        familles, enfants = facturables(
            famille,
            [e for e in map(self.faits.get, self.enfants_de.get(famille_id, ())) if isinstance(e, Enfant)],
            parametres if isinstance(parametres, Parametres) else None,
            None,
            famille.faits_comptables if famille else None,
        )
        accueils = self.accueils
        plannings = [
            PresencesDuMois(p.enfant_id, p.accueil_id, tuple(p.presences_du_mois(annee, numero)))
            for p in self._plannings(famille_id)
        ]
        calcul = calculer(annee, numero, familles, enfants, accueils, plannings)
        if not calcul.lignes and not calcul.anomalies:
            return None
        return (famille_id, mois, len(calcul.lignes), calcul.montant_cents, len(calcul.anomalies))


def _jours(evenement: Any) -> list[date]:
    if isinstance(evenement, Planning.Reserve | Planning.MisEnListeAttente | Planning.Annule):
        return [ligne.jour for ligne in evenement.lignes]
    if isinstance(evenement, Planning.Pointe):
        return [p.jour for p in evenement.pointages]
    jour = getattr(evenement, "jour", None)
    return [jour] if isinstance(jour, date) else []
