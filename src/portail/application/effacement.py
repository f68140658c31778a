"""Erasure of a family (GDPR art. 17): its personal data become unreadable, its accounts closed.

Amounts, dates and ids stay, for the accounting records the law asks the commune to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.domain import Aggregate

from portail.application.comptes import ServiceComptes
from portail.application.contexte import Contexte
from portail.application.familles import ServiceFamilles
from portail.domain.compte import Compte
from portail.domain.enfant import Enfant
from portail.domain.famille import Famille


def effacer_famille(
    contexte: Contexte,
    familles: ServiceFamilles,
    comptes: ServiceComptes,
    famille_id: UUID,
    liberer: Callable[[UUID], object] | None = None,
) -> tuple[UUID, ...]:
    """Free the children's places to come, record the erasure, then delete the keys; safe to run
    again if interrupted. `liberer(enfant_id)` cancels a child's bookings from today on."""
    portail = familles.portail
    if liberer is not None:
        for enfant_id in portail.charger(Famille, famille_id).enfants:
            enfant = portail.charger(Enfant, enfant_id)
            if not enfant.efface:
                liberer(enfant_id)
    maintenant = portail.horloge()
    jour = familles.aujourd_hui()

    def commande() -> None:
        famille = portail.charger(Famille, famille_id)
        enfants = [portail.charger(Enfant, e) for e in famille.enfants]
        a_enregistrer: list[Aggregate] = [famille, *enfants]
        for compte_id in famille.comptes:
            compte = portail.charger(Compte, compte_id)
            if compte.email is not None:
                index = comptes.index_de(compte.email)
                if index is not None and index.compte_id == compte.id:
                    index.liberer()
                    a_enregistrer.append(index)
            compte.desactiver(maintenant)
            a_enregistrer.append(compte)
        for enfant in enfants:
            enfant.effacer(jour)
        famille.effacer(jour)
        portail.enregistrer(contexte, *a_enregistrer)

    portail.avec_reessais(commande)
    famille = portail.charger(Famille, famille_id)
    comptes.oublier_sessions(*famille.comptes)
    sujets = {famille_id, *famille.enfants, *famille.comptes}
    effacement = portail.trousseau.effacer_famille(famille_id)
    # Snapshots are deleted from the family's own list, so a rerun after a crash still does it.
    sujets.update(effacement.sujets)
    portail.supprimer_instantanes(tuple(sujets))
    return tuple(sujets)
