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
from portail.domain.facturation import (
    Calcul,
    EnfantFacture,
    FamilleFacturee,
    PresencesDuMois,
    calculer,
)
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
    accueils: Mapping[UUID, Accueil] | None = None,
) -> Calcul:
    """The family's lines and anomalies of the month (`aggregats`: its Famille, Enfant and
    Planning aggregates; `communs`: the commune's parameters and accueils)."""
    parametres = communs.get(ID_PARAMETRES)
    familles: dict[UUID, FamilleFacturee] = {}
    enfants: dict[UUID, EnfantFacture] = {}
    plannings: list[PresencesDuMois] = []
    for aggregat in aggregats.values():
        if isinstance(aggregat, Famille) and aggregat.id == famille_id:
            resident = (
                parametres.commune.est_residente(aggregat.adresse)
                if isinstance(parametres, Parametres)
                else True
            )
            familles[aggregat.id] = FamilleFacturee(aggregat.id, resident, tuple(aggregat.quotients))
        elif isinstance(aggregat, Enfant):
            naissance = aggregat.identite.date_naissance if aggregat.identite else None
            enfants[aggregat.id] = EnfantFacture(
                aggregat.id, aggregat.famille_id, naissance, bool(aggregat.sante and aggregat.sante.pai)
            )
        elif isinstance(aggregat, Planning):
            presences = tuple(aggregat.presences_du_mois(annee, mois))
            if presences:
                plannings.append(PresencesDuMois(aggregat.enfant_id, aggregat.accueil_id, presences))
    return calculer(
        annee,
        mois,
        familles,
        enfants,
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
