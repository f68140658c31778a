"""SEPA direct-debit files: each issued campaign's pain.008 written once, a few days before the
debit date (the invoices' due date), into `<data dir>/sepa/<campaign id>.xml`."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import structlog

from portail.domain.erreurs import RegleMetier
from portail.jobs.outils import Outils

NOM = "prelevements-sepa"
log = structlog.get_logger("portail.jobs")


def dossier(outils: Outils) -> Path:
    return outils.reglages.data_dir / "sepa"


def _ecrire(chemin: Path, contenu: bytes) -> None:
    """Whole or not at all: written beside, then renamed; readable by the owner only (IBANs)."""
    chemin.parent.mkdir(parents=True, exist_ok=True)
    provisoire = chemin.with_suffix(".tmp")
    descripteur = os.open(provisoire, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descripteur, "wb") as fichier:
        fichier.write(contenu)
    provisoire.replace(chemin)


def ecrire_prelevements(outils: Outils) -> list[UUID]:
    """The files due today: campaigns issued, whose debit date is at most `PORTAIL_SEPA_AVANCE_JOURS`
    days ahead and not past (a bank refuses a collection date in the past), not written yet.
    The file debits what each invoice still owes when it is written."""
    facturation = outils.facturation
    aujourd_hui = outils.aujourd_hui()
    avance = timedelta(days=outils.reglages.sepa_avance_jours)
    ecrits: list[UUID] = []
    for campagne in facturation.faits_campagnes().values():
        if campagne.emise_le is None or not campagne.factures:
            continue
        echeance = facturation.facture(campagne.factures[0].facture_id).echeance
        if not echeance - avance <= aujourd_hui <= echeance:
            continue
        if outils.marqueurs.fait(NOM, str(campagne.id)):
            continue
        try:
            xml, nombre = outils.fichier_prelevements(campagne.id)
        except RegleMetier as refus:
            # No régie yet, or nothing to debit: tried again tomorrow until the debit date.
            log.warning("prelevements_impossibles", campagne_id=str(campagne.id), motif=str(refus))
            continue
        chemin = dossier(outils) / f"{campagne.id}.xml"
        with outils.marqueurs.une_fois(NOM, str(campagne.id), outils.maintenant()) as pris:
            if not pris:
                continue
            _ecrire(chemin, xml)
        outils.marqueurs.noter(NOM, str(campagne.id), f"{nombre} prélèvements, {chemin.name}")
        log.info("prelevements_ecrits", campagne_id=str(campagne.id), nombre=nombre)
        ecrits.append(campagne.id)
    return ecrits
