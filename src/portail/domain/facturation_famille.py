"""One family's bill for a month, from its aggregates and the commune's.

A family's lines depend only on its own facts (its residency and quotients, its children's
ranks, their plannings) and on the commune's (parameters, accueils): billing a commune is
billing each family, and the commune's lines are the families' lines in family id order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate

from portail.domain.accueil import Accueil
from portail.domain.commune import ID_PARAMETRES, Parametres
from portail.domain.enfant import Enfant
from portail.domain.facturation import Calcul, PresencesDuMois, calculer
from portail.domain.faits_comptables import FaitsComptables, facturables
from portail.domain.famille import Famille
from portail.domain.planning import Planning


def accueils_de(communs: Mapping[UUID, Aggregate]) -> dict[UUID, Accueil]:
    return {i: a for i, a in communs.items() if isinstance(a, Accueil)}


def facturer_famille(
    famille_id: UUID,
    aggregats: Mapping[UUID, Aggregate],
    communs: Mapping[UUID, Aggregate],
    annee: int,
    mois: int,
    position: int | None,
    conserves: FaitsComptables | None,
    accueils: Mapping[UUID, Accueil] | None = None,
) -> Calcul:
    """The family's lines and anomalies of the month (`aggregats`: its Famille, Enfant and
    Planning aggregates at `position`; `communs`: the commune's parameters and accueils; once its
    personal data are erased, `conserves` holds what billing read from them)."""
    parametres = communs.get(ID_PARAMETRES)
    famille = aggregats.get(famille_id)
    enfants = [a for a in aggregats.values() if isinstance(a, Enfant)]
    familles, factures = facturables(
        famille if isinstance(famille, Famille) else None,
        enfants,
        parametres if isinstance(parametres, Parametres) else None,
        position,
        conserves,
    )
    plannings: list[PresencesDuMois] = []
    for aggregat in aggregats.values():
        if isinstance(aggregat, Planning):
            presences = tuple(aggregat.presences_du_mois(annee, mois))
            if presences:
                plannings.append(PresencesDuMois(aggregat.enfant_id, aggregat.accueil_id, presences))
    return calculer(
        annee,
        mois,
        familles,
        factures,
        dict(accueils if accueils is not None else accueils_de(communs)),
        plannings,
    )


def mois_factures(aggregats: Iterable[Aggregate]) -> set[str]:
    """The months (AAAA-MM) in which the family's plannings hold a day-unit."""
    mois: set[str] = set()
    for aggregat in aggregats:
        if isinstance(aggregat, Planning):
            mois.update(aggregat.mois_presences())
    return mois
