"""Attestation de frais de garde: what a family paid in a year for the care of its children under
six on 1 January (the tax credit's rule), meals excluded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from portail.application.facturation import ServiceFacturation
from portail.domain.accueil import Accueil
from portail.domain.campagne import Facture
from portail.domain.enfant import Enfant
from portail.domain.famille import Famille


@dataclass(frozen=True)
class LigneAttestation:
    enfant_id: UUID
    prenom: str | None
    nom: str | None
    naissance: date
    montant_cents: int


def attestation(facturation: ServiceFacturation, famille_id: UUID, annee: int) -> list[LigneAttestation]:
    """Per eligible child, the care of the year billed on invoices fully paid, net of credit notes."""
    portail = facturation.portail
    famille = portail.charger(Famille, famille_id)
    limite = date(annee - 6, 1, 1)
    eligibles: dict[UUID, Enfant] = {}
    for enfant_id in famille.enfants:
        enfant = portail.charger(Enfant, enfant_id)
        if enfant.identite is not None and enfant.identite.date_naissance > limite:
            eligibles[enfant_id] = enfant
    encours = facturation.encours(famille_id)
    payees = {f.facture_id for f in encours.factures.values() if f.reste_cents == 0}
    accueils: dict[UUID, Accueil] = {}
    totaux = dict.fromkeys(eligibles, 0)
    retenues = [f for f in encours.factures.values() if f.facture_id in payees]
    for facture_id in [*(f.facture_id for f in retenues), *encours.avoirs]:
        # Credit notes correct what was billed: their negative lines come off.
        for ligne in portail.charger(Facture, facture_id).lignes:
            if ligne.enfant_id not in eligibles or ligne.jour.year != annee:
                continue
            accueil = accueils.get(ligne.accueil_id) or portail.charger(Accueil, ligne.accueil_id)
            accueils[ligne.accueil_id] = accueil
            unite = accueil.unite(ligne.unite)
            if unite is not None and unite.repas:
                continue
            totaux[ligne.enfant_id] += ligne.montant_cents
    resultat = []
    for enfant_id, enfant in eligibles.items():
        ident = enfant.identite
        assert ident is not None
        resultat.append(
            LigneAttestation(enfant_id, ident.prenom, ident.nom, ident.date_naissance, totaux[enfant_id])
        )
    return sorted(resultat, key=lambda ligne: ligne.naissance)
