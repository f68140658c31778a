"""Erasure of a family (GDPR art. 17): its personal data become unreadable, its accounts closed.

Amounts, dates and ids stay, for the accounting records the law asks the commune to keep, and so
do the facts its invoices were priced on (`domain/faits_comptables.py`), recorded in clear before
the keys go. A family that still owes money is not erased: its debts need a debtor.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from portail.application.comptes import ServiceComptes
from portail.application.contexte import Contexte
from portail.application.familles import ServiceFamilles
from portail.application.portail import Portail
from portail.domain.commune import ID_PARAMETRES
from portail.domain.compte import Compte
from portail.domain.encours import Encours
from portail.domain.enfant import Enfant
from portail.domain.faits_comptables import conserver
from portail.domain.famille import Famille


def effacer_famille(
    contexte: Contexte,
    familles: ServiceFamilles,
    comptes: ServiceComptes,
    famille_id: UUID,
    liberer: Callable[[UUID], object] | None = None,
) -> tuple[UUID, ...]:
    """Free the children's places to come, record the erasure, then delete the keys; safe to run
    again if interrupted. `liberer(enfant_id)` cancels a child's bookings from today on.

    Refused (`SoldeNonRegle`, 409) while the family owes money, before anything is changed."""
    portail = familles.portail
    if not portail.charger(Famille, famille_id).effacee:
        _encours_regle(portail, famille_id)
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
        # Read and checked again in the save: an invoice issued meanwhile makes it run again.
        versions: list[tuple[UUID, int]] = []
        if not famille.effacee:
            versions.append((Encours.id_pour(famille_id), _encours_regle(portail, famille_id)))
            historique = portail.evenements_de((famille_id, *famille.enfants, ID_PARAMETRES))
            famille.conserver_faits_comptables(conserver(famille_id, historique))
            # Residence also depends on the commune settings: a change saved after this read would
            # be missing from the facts, so the save then fails and the command runs again.
            parametres = [e.originator_version for _, e in historique if e.originator_id == ID_PARAMETRES]
            versions.append((ID_PARAMETRES, max(parametres, default=0)))
        for enfant in enfants:
            enfant.effacer(jour)
        famille.effacer(jour)
        portail.enregistrer(contexte, *a_enregistrer, versions=versions)

    portail.avec_reessais(commande)
    famille = portail.charger(Famille, famille_id)
    comptes.oublier_sessions(*famille.comptes)
    sujets = {famille_id, *famille.enfants, *famille.comptes}
    effacement = portail.trousseau.effacer_famille(famille_id)
    # Snapshots are deleted from the family's own list, so a rerun after a crash still does it.
    sujets.update(effacement.sujets)
    portail.supprimer_instantanes(tuple(sujets))
    return tuple(sujets)


def _encours_regle(portail: Portail, famille_id: UUID) -> int:
    """Refuse a family that owes money; the version of its ledger read (0: none)."""
    try:
        encours: Encours = portail.repository.get(Encours.id_pour(famille_id))
    except AggregateNotFoundError:
        return 0
    encours.verifier_solde_regle()
    return int(encours.version)
