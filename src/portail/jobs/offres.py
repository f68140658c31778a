"""Waiting-list offers past their expiry go to the next child, without waiting for a booking or a
cancellation to touch that day."""

from __future__ import annotations

import structlog

from portail.application.contexte import Contexte
from portail.jobs.outils import Outils

NOM = "expiration-offres"
log = structlog.get_logger("portail.jobs")


def expirer_offres(outils: Outils) -> int:
    """Every (accueil, day) with an open offer past `expire_le` in the read model: the command
    rechecks on the aggregate, so a read model behind or a second run expires nothing twice."""
    contexte = Contexte.systeme(NOM)
    expirees = 0
    for accueil_id, jour in outils.echeances.offres_echues(outils.maintenant()):
        expirees += outils.reservations.expirer_offres(contexte, accueil_id, jour)
    if expirees:
        log.info("offres_expirees", nombre=expirees)
    return expirees
