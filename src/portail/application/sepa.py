"""SEPA direct-debit files (pain.008), the régie being the creditor: an issued campaign's invoices,
or one re-presented debit."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from sepaxml import SepaDD

from portail.application.facturation import ServiceFacturation
from portail.domain.commune import Regie
from portail.domain.encours import Encours
from portail.domain.erreurs import ErreurValidation, Introuvable, RegleMetier
from portail.domain.famille import Famille
from portail.domain.sepa import MandatSepa, date_de_prelevement, ics

SCHEMA = "pain.008.001.02"


def _regie(facturation: ServiceFacturation) -> Regie:
    parametres = facturation._parametres()
    if parametres is None or parametres.regie is None:
        raise RegleMetier("Renseignez la régie (ICS, IBAN, BIC) dans les paramètres avant de prélever.")
    try:
        ics(parametres.regie.ics)
    except ErreurValidation:
        # Settings recorded before the ICS was checked: no bank would take the file.
        raise RegleMetier("L'ICS de la régie n'est pas valide : corrigez-le dans les paramètres.") from None
    return parametres.regie


def _fichier(regie: Regie) -> SepaDD:
    return SepaDD(
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


def _mandat(famille: Famille) -> MandatSepa | None:
    """The mandate in force, when it can still be used (holder and IBAN readable)."""
    mandat = famille.mandat
    if famille.effacee or mandat is None or mandat.iban is None or not mandat.titulaire:
        return None
    return mandat


def _debiter(
    fichier: SepaDD,
    encours: Encours,
    mandat: MandatSepa,
    montant: int,
    le: date,
    description: str,
    reference: str,
) -> None:
    assert mandat.iban is not None and mandat.titulaire
    fichier.add_payment(
        {
            "name": mandat.titulaire,
            "IBAN": mandat.iban.valeur,
            "BIC": mandat.bic or "NOTPROVIDED",
            "amount": montant,
            "type": encours.sequence(mandat.rum).value,
            "collection_date": le,
            "mandate_id": mandat.rum,
            "mandate_date": mandat.signe_le,
            "description": description,
            "endtoend_id": reference,
        }
    )


def prelevements(
    facturation: ServiceFacturation, campagne_id: UUID, le: date | None = None
) -> tuple[bytes, int]:
    """The XML (validated against the XSD sepaxml ships) and the number of debits in it.

    What each invoice still owes is debited, for families with a mandate in force, on the date
    asked for (`le`, checked against the TARGET2 calendar), by default on its due date moved to a
    business day and never before the first business day after today. The invoice is the
    pre-notification.
    """
    campagne = facturation.campagne(campagne_id)
    if campagne.emise_le is None:
        raise RegleMetier("Les prélèvements se préparent sur une campagne émise.")
    regie = _regie(facturation)
    aujourd_hui = facturation.aujourd_hui()
    if le is not None:
        date_de_prelevement(aujourd_hui, le, le)
    fichier = _fichier(regie)
    nombre = 0
    for emise in campagne.factures:
        # What is still owed: payments and credit notes already set against the invoice are not
        # debited, nor an invoice whose rejected debit has been presented again.
        encours = facturation.encours(emise.famille_id)
        ouverte = encours.factures.get(str(emise.facture_id))
        montant = ouverte.reste_cents if ouverte else 0
        if montant <= 0 or encours.representee(emise.facture_id):
            continue
        mandat = _mandat(facturation.portail.charger(Famille, emise.famille_id))
        if mandat is None:
            continue
        facture = facturation.facture(emise.facture_id)
        _debiter(
            fichier,
            encours,
            mandat,
            montant,
            date_de_prelevement(aujourd_hui, le, facture.echeance),
            f"Facture {emise.numero} {campagne.periode}",
            emise.numero.replace("-", ""),
        )
        nombre += 1
    if nombre == 0:
        raise RegleMetier("Aucune facture de cette campagne n'est à prélever (pas de mandat actif).")
    xml: bytes = fichier.export(validate=True)
    return xml, nombre


def representation(
    facturation: ServiceFacturation, famille_id: UUID, reglement_id: UUID, le: date | None = None
) -> tuple[bytes, int]:
    """The file of one re-presented debit (and 1, its number of debits): what it reopened and is still owed, on the date asked
    for, by default the date recorded with it (never before the first business day after today)."""
    regie = _regie(facturation)
    encours = facturation.encours(famille_id)
    representee = encours.representations.get(str(reglement_id))
    if representee is None:
        raise Introuvable("Aucune représentation de ce prélèvement pour cette famille.")
    montant = encours.a_representer(representee)
    if montant <= 0:
        raise RegleMetier("Rien à représenter : ce que ce prélèvement payait a été réglé depuis.")
    mandat = _mandat(facturation.portail.charger(Famille, famille_id))
    if mandat is None:
        raise RegleMetier("Aucun mandat de prélèvement en vigueur pour cette famille.")
    numeros = " ".join(encours.factures[str(a.facture_id)].numero for a in representee.affectations)
    fichier = _fichier(regie)
    _debiter(
        fichier,
        encours,
        mandat,
        montant,
        date_de_prelevement(facturation.aujourd_hui(), le, representee.preleve_le),
        f"Représentation {numeros}"[:140],
        f"REP{reglement_id.hex[:32].upper()}",
    )
    xml: bytes = fichier.export(validate=True)
    return xml, 1
