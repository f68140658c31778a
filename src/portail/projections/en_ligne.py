"""The read rows a command writes in its own transaction: the child's calendar cells and the
day's occupation counters it changed, so that the parent's next read shows the booking without
waiting for the projection runner.

Each row is the aggregate's state after the command (absolute values, never a delta) stamped with
the stream version of the last event that changed it: a row is only ever replaced by one of a
higher version, whoever
writes it — the command at commit, or the runner folding the same events later (`lot.Lot`) — so
both paths converge on the fold of the log whatever order they run in. Rows hold ids and states,
never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from portail.domain.capacite import Capacite
from portail.domain.planning import Planning
from portail.projections.lot import ordre_des_lignes
from portail.store.chaine import LigneLecture

CLES_CALENDRIER = ("enfant_id", "accueil_id", "jour", "unite")
CLES_OCCUPATION = ("accueil_id", "jour", "unite")


def cases_touchees(evenement: Any) -> list[tuple[date, str]]:
    """The day-units a Planning event changes."""
    if isinstance(evenement, Planning.Reserve | Planning.MisEnListeAttente | Planning.Annule):
        return [(ligne.jour, ligne.unite) for ligne in evenement.lignes]
    if isinstance(
        evenement,
        Planning.PromuDeListeAttente | Planning.OffreRecue | Planning.OffreAcceptee | Planning.OffrePerdue,
    ):
        return [(evenement.jour, evenement.unite)]
    if isinstance(evenement, Planning.AbsenceDeclaree):
        return [(evenement.jour, unite) for unite in evenement.unites]
    if isinstance(evenement, Planning.Pointe):
        return [(p.jour, p.unite) for p in evenement.pointages]
    return []


def _planning(planning: Planning) -> list[LigneLecture]:
    lignes: list[LigneLecture] = []
    cases: dict[tuple[date, str], int] = {}
    for evenement in planning.pending_events:
        if isinstance(evenement, Planning.Ouvert):
            lignes.append(
                LigneLecture(
                    "proj_plannings",
                    ("planning_id",),
                    {
                        "planning_id": planning.id,
                        "enfant_id": planning.enfant_id,
                        "accueil_id": planning.accueil_id,
                        "famille_id": planning.famille_id,
                    },
                )
            )
        cases.update(dict.fromkeys(cases_touchees(evenement), evenement.originator_version))
    for (jour, unite), version in cases.items():
        presence = planning.presence(jour, unite)
        if presence is None:
            continue
        lignes.append(
            LigneLecture(
                "proj_calendrier",
                CLES_CALENDRIER,
                {
                    "enfant_id": planning.enfant_id,
                    "accueil_id": planning.accueil_id,
                    "jour": jour,
                    "unite": unite,
                    "famille_id": planning.famille_id,
                    "etat": presence.etat.value,
                    "majoration_cents": presence.majoration_cents,
                    "majoration_pourcent": presence.majoration_pourcent,
                    "facturable": presence.facturable,
                    "arrivee": presence.arrivee,
                    "depart": presence.depart,
                    "version": version,
                },
            )
        )
    return lignes


def _capacite(capacite: Capacite) -> list[LigneLecture]:
    lignes: list[LigneLecture] = []
    unites: dict[str, int] = {}
    for evenement in capacite.pending_events:
        if isinstance(evenement, Capacite.Ouverte):
            lignes.append(
                LigneLecture(
                    "proj_capacites",
                    ("capacite_id",),
                    {"capacite_id": capacite.id, "accueil_id": capacite.accueil_id, "jour": capacite.jour},
                )
            )
        unite = getattr(evenement, "unite", None)
        if unite is not None:
            unites[unite] = evenement.originator_version
    for unite, version in unites.items():
        lignes.append(
            LigneLecture(
                "proj_occupation",
                CLES_OCCUPATION,
                {
                    "accueil_id": capacite.accueil_id,
                    "jour": capacite.jour,
                    "unite": unite,
                    "reserves": capacite.occupees(unite),
                    "attente": len(capacite.attente.get(unite, [])),
                    "version": version,
                },
            )
        )
    return lignes


ATTENDENT_LE_PROJECTEUR = (
    Planning.OffreRecue,
    Planning.OffreAcceptee,
    Planning.OffrePerdue,
    Capacite.OffreFaite,
    Capacite.OffreAcceptee,
    Capacite.OffreRetiree,
)
"""Events that also change a read model the runner keeps (the waiting-list offers: `proj_offres`),
which the parent may read next: after such a save the answer waits for the runner."""


def attend_le_projecteur(aggregats: Iterable[Aggregate | None]) -> bool:
    return any(
        isinstance(e, ATTENDENT_LE_PROJECTEUR)
        for aggregat in aggregats
        if aggregat is not None
        for e in aggregat.pending_events
    )


def lignes_commande(aggregats: Iterable[Aggregate | None]) -> list[LigneLecture]:
    """The read rows of the aggregates a command is about to save (their pending events applied)."""
    lignes: list[LigneLecture] = []
    for aggregat in aggregats:
        if isinstance(aggregat, Planning) and aggregat.pending_events:
            lignes += _planning(aggregat)
        elif isinstance(aggregat, Capacite) and aggregat.pending_events:
            lignes += _capacite(aggregat)
    return sorted(lignes, key=lambda x: ordre_des_lignes(x.table, (x.valeurs[c] for c in x.cles)))
