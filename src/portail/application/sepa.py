"""SEPA direct-debit file (pain.008) of an issued campaign, the régie being the creditor."""

from __future__ import annotations

from uuid import UUID

from sepaxml import SepaDD

from portail.application.facturation import ServiceFacturation
from portail.domain.erreurs import RegleMetier
from portail.domain.famille import Famille

SCHEMA = "pain.008.001.02"


def prelevements(facturation: ServiceFacturation, campagne_id: UUID) -> tuple[bytes, int]:
    """The XML (validated against the XSD sepaxml ships) and the number of debits in it.

    What each invoice still owes is debited, for families with an active mandate, on its due date, which
    leaves the 14 days of pre-notification the rulebook asks for (the invoice is the notice).
    """
    campagne = facturation.campagne(campagne_id)
    if campagne.emise_le is None:
        raise RegleMetier("Les prélèvements se préparent sur une campagne émise.")
    parametres = facturation._parametres()
    if parametres is None or parametres.regie is None:
        raise RegleMetier("Renseignez la régie (ICS, IBAN, BIC) dans les paramètres avant de prélever.")
    regie = parametres.regie
    fichier = SepaDD(
        {
            "name": regie.nom,
            "IBAN": regie.iban,
            "BIC": regie.bic or "NOTPROVIDED",
            "batch": True,
            "creditor_id": regie.ics,
            "currency": "EUR",
        },
        schema=SCHEMA,
        clean=True,
    )
    nombre = 0
    for emise in campagne.factures:
        # What is still owed: payments and credit notes already set against the invoice are not debited.
        ouverte = facturation.encours(emise.famille_id).factures.get(str(emise.facture_id))
        montant = ouverte.reste_cents if ouverte else 0
        if montant <= 0:
            continue
        famille = facturation.portail.charger(Famille, emise.famille_id)
        mandat = famille.mandat
        if famille.effacee or mandat is None or mandat.iban is None or not mandat.titulaire:
            continue
        facture = facturation.facture(emise.facture_id)
        fichier.add_payment(
            {
                "name": mandat.titulaire,
                "IBAN": mandat.iban.valeur,
                "BIC": mandat.bic or "NOTPROVIDED",
                "amount": montant,
                "type": "RCUR",
                "collection_date": facture.echeance,
                "mandate_id": mandat.rum,
                "mandate_date": mandat.signe_le,
                "description": f"Facture {emise.numero} {campagne.periode}",
                "endtoend_id": emise.numero.replace("-", ""),
            }
        )
        nombre += 1
    if nombre == 0:
        raise RegleMetier("Aucune facture de cette campagne n'est à prélever (pas de mandat actif).")
    xml: bytes = fichier.export(validate=True)
    return xml, nombre
