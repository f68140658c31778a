"""What the régie records by hand on a family's account: credit notes, write-offs and amounts owed,
each with its reason (`Encours.AjustementEnregistre`), and refunds of a credit (`Encours.Rembourse`).

They are events of the family's ledger, `Encours`, rather than of an aggregate of their own: the
ledger holds what an adjustment is checked against (what an invoice still owes, what the credit
allows) and what it changes (the balance, the allocation to invoices), so one save of one stream
decides and records it, and two adjustments racing on a family conflict there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID, uuid4

from portail.application.contexte import Contexte
from portail.application.facturation import ECHEANCE_JOURS, ServiceFacturation
from portail.application.familles import PARIS
from portail.domain.encours import Encours, ModeRemboursement, TypeAjustement
from portail.domain.erreurs import ErreurValidation, Introuvable
from portail.domain.famille import Famille
from portail.domain.valeurs import texte

PREFIXE_NON_VALEURS = "ANV"
"""Write-offs are numbered in a series of their own: they are neither invoices nor credit notes."""


@dataclass(frozen=True)
class Ajustement:
    id: UUID
    famille_id: UUID
    nature: TypeAjustement
    numero: str
    montant_cents: int
    facture_id: UUID | None
    encours: Encours


def _choix(champ: str, cls: type[TypeAjustement] | type[ModeRemboursement], valeur: str) -> str:
    if valeur not in {e.value for e in cls}:
        raise ErreurValidation.sur(champ, ", ".join(e.value for e in cls))
    return valeur


def _aujourd_hui(facturation: ServiceFacturation) -> date:
    return facturation.portail.horloge().astimezone(PARIS).date()


def ajuster(
    facturation: ServiceFacturation,
    contexte: Contexte,
    famille_id: UUID,
    nature: str,
    montant_cents: int,
    facture_id: UUID | None,
    motif: str,
) -> Ajustement:
    """Record an adjustment; its reason is also the audit reason of the event, unless the request
    gave one."""
    nature_v = TypeAjustement(_choix("nature", TypeAjustement, nature))
    motif_v = texte(motif, nom_champ="motif", longueur_max=500)
    facturation.portail.charger(Famille, famille_id)
    parametres = facturation._parametres()
    prefixe = (
        PREFIXE_NON_VALEURS
        if nature_v is TypeAjustement.ADMISSION_EN_NON_VALEUR
        else (parametres.regie.prefixe_factures if parametres and parametres.regie else "F")
    )
    ajustement_id = uuid4()
    contexte = replace(contexte, motif=contexte.motif or motif_v)

    def commande() -> Ajustement:
        encours = facturation.encours(famille_id)
        if facture_id is not None:
            _verifier_piece(facturation, encours, famille_id, facture_id)
        le = _aujourd_hui(facturation)
        numerotation = facturation._numerotation(prefixe, le.year)
        # A refused adjustment saves nothing: the number it drew is not used.
        numero = numerotation.attribuer(1)[0]
        encours.ajuster(
            ajustement_id,
            nature_v,
            montant_cents,
            facture_id,
            numero,
            motif_v,
            le,
            le + timedelta(days=ECHEANCE_JOURS) if not nature_v.credit else le,
        )
        facturation.portail.enregistrer(contexte, numerotation, encours)
        return Ajustement(ajustement_id, famille_id, nature_v, numero, montant_cents, facture_id, encours)

    return facturation.portail.avec_reessais(commande)


def _verifier_piece(
    facturation: ServiceFacturation, encours: Encours, famille_id: UUID, facture_id: UUID
) -> None:
    """The invoice cited is one of the family's: an invoice issued to it, or an amount owed
    recorded by hand; another family's or an unknown one is not found."""
    if str(facture_id) in encours.factures:
        return
    facture = facturation.facture(facture_id)
    if facture.famille_id != famille_id:
        raise Introuvable("Facture introuvable.")


def rembourser(
    facturation: ServiceFacturation,
    contexte: Contexte,
    famille_id: UUID,
    montant_cents: int,
    mode: str,
    reference: str | None,
) -> tuple[UUID, Encours]:
    """Pay back part or all of a family's credit."""
    mode_v = ModeRemboursement(_choix("mode", ModeRemboursement, mode))
    reference_v = texte(reference, nom_champ="reference", longueur_max=100) if reference else None
    facturation.portail.charger(Famille, famille_id)
    remboursement_id = uuid4()

    def commande() -> Encours:
        encours = facturation.encours(famille_id)
        encours.rembourser(remboursement_id, montant_cents, mode_v, reference_v, _aujourd_hui(facturation))
        facturation.portail.enregistrer(contexte, encours)
        return encours

    return remboursement_id, facturation.portail.avec_reessais(commande)
