"""Monthly billing drafts: the previous month's campaign, prepared once when nobody did it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import structlog

from portail.application.contexte import Contexte
from portail.domain.facturation import Periode
from portail.jobs.outils import Outils

NOM = "campagne-mensuelle"
log = structlog.get_logger("portail.jobs")


def preparer_campagne(outils: Outils) -> UUID | None:
    """Prepare (never issue) the previous month's original campaign, as of now, if no original
    campaign of that month exists and there is something to bill. Run daily, it acts once a month
    and catches up after a stop."""
    facturation = outils.facturation
    periode = Periode.lire(f"{outils.aujourd_hui().replace(day=1) - timedelta(days=1):%Y-%m}")
    if any(
        c.periode == str(periode) and c.campagne_origine is None
        for c in facturation.faits_campagnes().values()
    ):
        return None
    if not facturation.a_facturer(periode):
        return None
    with outils.marqueurs.une_fois(NOM, str(periode), outils.maintenant()) as pris:
        if not pris:
            return None
        campagne, _ = facturation.preparer(Contexte.systeme(NOM), str(periode), None)
    outils.marqueurs.noter(NOM, str(periode), str(campagne.id))
    log.info("campagne_preparee", periode=str(periode), campagne_id=str(campagne.id))
    return campagne.id
