"""What a family's invoice PDF prints, read from the aggregates: the régie, the recipient, each
child's first name, the direct debit that will pay it, and the invoices a correction cites."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from portail.application.facturation import ServiceFacturation
from portail.application.pdf import FactureCorrigee, FactureImprimee, Prelevement
from portail.application.portail import Portail
from portail.domain.enfant import Enfant
from portail.domain.erreurs import Introuvable
from portail.domain.famille import Famille


def destinataire(famille: Famille) -> tuple[str, ...]:
    """The responsable's civility, name and address, as far as they are readable (not after erasure)."""
    lignes: list[str] = []
    if famille.responsable is not None:
        r = famille.responsable
        lignes.append(f"{r.civilite.value} {r.prenom} {r.nom}")
    if famille.adresse is not None:
        a = famille.adresse
        lignes.extend([a.ligne1, *([a.ligne2] if a.ligne2 else []), f"{a.code_postal} {a.commune}"])
    return tuple(lignes)


def prenoms_des_enfants(portail: Portail, enfant_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The first names of an invoice's children, to name its lines. A child erased, or whose
    file cannot be read, is left out: its lines keep a neutral name."""
    prenoms: dict[UUID, str] = {}
    for enfant_id in enfant_ids:
        try:
            identite = portail.charger(Enfant, enfant_id).identite
        except Introuvable:
            continue
        if identite is not None and identite.prenom:
            prenoms[enfant_id] = identite.prenom
    return prenoms


def facture_imprimee(facturation: ServiceFacturation, facture_id: UUID, reste_cents: int) -> FactureImprimee:
    portail = facturation.portail
    facture = facturation.facture(facture_id)
    parametres = facturation._parametres()
    regie = parametres.regie if parametres else None
    famille = portail.charger(Famille, facture.famille_id)
    prenoms = prenoms_des_enfants(portail, {ligne.enfant_id for ligne in facture.lignes})
    mandat = famille.mandat
    prelevement = None
    # Debited on its due date, as the SEPA file of the campaign asks (`sepa.py`).
    if regie is not None and mandat is not None and mandat.iban is not None and reste_cents > 0:
        prelevement = Prelevement(facture.echeance, mandat.rum, regie.ics, mandat.iban.masque)
    return FactureImprimee(
        facture=facture,
        regie=regie,
        destinataire=destinataire(famille),
        reste_cents=reste_cents,
        prenoms=prenoms,
        prelevement=prelevement,
        corrigees=tuple(
            FactureCorrigee(f.numero, f.emise_le) for f in facturation.factures_corrigees(facture)
        ),
    )
