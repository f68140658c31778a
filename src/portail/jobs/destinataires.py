"""Who a job's mail goes to: the active parent accounts of a family not erased."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from portail.domain.compte import Compte
from portail.domain.erreurs import Introuvable
from portail.domain.famille import Famille

if TYPE_CHECKING:
    from portail.api.etat import Services


def ecrire_a_la_famille(services: Services, famille_id: UUID, sujet: str, texte: str) -> bool:
    """Send to every active account of the family; `False` when there is nobody to write to."""
    portail = services.portail
    try:
        famille = portail.charger(Famille, famille_id)
    except Introuvable:
        return False
    if famille.effacee:
        return False
    adresses = []
    for compte_id in famille.comptes:
        compte = portail.charger(Compte, compte_id)
        if compte.actif and compte.email:
            adresses.append(compte.email)
    for adresse in adresses:
        services.comptes.courrier.envoyer(adresse, sujet, texte)
    return bool(adresses)
