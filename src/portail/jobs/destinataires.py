"""Who a job's mail goes to: the active parent accounts of a family not erased."""

from __future__ import annotations

from uuid import UUID

from portail.application.courriel import Courrier
from portail.application.portail import Portail
from portail.domain.compte import Compte
from portail.domain.erreurs import Introuvable
from portail.domain.famille import Famille


def ecrire_a_la_famille(
    portail: Portail, courrier: Courrier, famille_id: UUID, sujet: str, texte: str
) -> bool:
    """Send to every active account of the family; `False` when there is nobody to write to."""
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
        courrier.envoyer(adresse, sujet, texte)
    return bool(adresses)
