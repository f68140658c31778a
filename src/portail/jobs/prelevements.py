"""SEPA direct-debit files, each written once, the régie's pre-notification delay before its
collection date: an issued campaign's pain.008 into `<data dir>/sepa/<campaign id>.xml`, a
re-presented debit's into `<data dir>/sepa/representation-<payment id>.xml`."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from uuid import UUID

import structlog

from portail.domain.erreurs import RegleMetier
from portail.domain.regles.target2 import prochain_jour_ouvre
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


def _une_fois(outils: Outils, cle: str, nom_fichier: str, produire: Callable[[], tuple[bytes, int]]) -> bool:
    """Write one file once (the claim keyed by `cle`); a refusal (no régie yet, nothing to debit)
    leaves it to the next run."""
    if outils.marqueurs.fait(NOM, cle):
        return False
    try:
        xml, nombre = produire()
    except RegleMetier as refus:
        log.warning("prelevements_impossibles", cle=cle, motif=str(refus))
        return False
    chemin = dossier(outils) / nom_fichier
    with outils.marqueurs.une_fois(NOM, cle, outils.maintenant()) as pris:
        if not pris:
            return False
        _ecrire(chemin, xml)
    outils.marqueurs.noter(NOM, cle, f"{nombre} prélèvements, {chemin.name}")
    log.info("prelevements_ecrits", cle=cle, nombre=nombre)
    return True


def ecrire_prelevements(outils: Outils) -> list[UUID]:
    """The files due today: those whose collection date is at most the régie's pre-notification
    delay ahead and still after today (a bank takes a file until the business day before), not
    written yet. A campaign's date is its invoices' due date moved to a TARGET2 business day; a
    re-presentation's, the date recorded with it. Each file debits what is still owed when it is
    written. Returns the campaigns and re-presented payments whose file was written."""
    facturation = outils.facturation
    aujourd_hui = outils.aujourd_hui()
    delai = timedelta(days=facturation.delai_prenotification_jours())

    def du(le: date) -> bool:
        return le - delai <= aujourd_hui < le

    ecrits: list[UUID] = []
    for campagne in facturation.faits_campagnes().values():
        if campagne.emise_le is None or not campagne.factures:
            continue
        le = prochain_jour_ouvre(facturation.facture(campagne.factures[0].facture_id).echeance)
        produire = partial(outils.fichier_prelevements, campagne.id, le)
        if du(le) and _une_fois(outils, str(campagne.id), f"{campagne.id}.xml", produire):
            ecrits.append(campagne.id)
    for famille_id, representation in facturation.representations():
        reglement_id, le = representation.reglement_id, representation.preleve_le
        produire = partial(outils.fichier_representation, famille_id, reglement_id, le)
        nom = f"representation-{reglement_id}.xml"
        if du(le) and _une_fois(outils, f"representation:{reglement_id}", nom, produire):
            ecrits.append(reglement_id)
    return ecrits
