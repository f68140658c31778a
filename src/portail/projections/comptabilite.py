"""The families' accounts as the régie reads them: what each invoice bills per child and accueil
(`proj_factures_ventilation`), the pieces recorded by hand (rows of `proj_factures`), payments,
rejected debits and refunds (`proj_mouvements`), and the payer's name (`proj_familles`).

A payer's name and a payment's reference are personal: they are emptied when the family is
erased (and read back empty by a rebuild, the family's key being gone).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from psycopg import Cursor

from portail.domain.encours import Encours, TypeAjustement
from portail.domain.famille import Famille
from portail.domain.regles.calendrier import PARIS
from portail.projections.evenements_lus import FactureEmiseLue
from portail.projections.lot import ENCOURS, FACTURES, FAMILLES, MOUVEMENTS, VENTILATION, Ligne, Lot

TABLES = ("proj_factures_ventilation", "proj_encours", "proj_familles", "proj_mouvements")


def ddl(s: str) -> list[str]:
    return [
        # Added for the régie's journal and export; a database built before needs a rebuild to fill them.
        f"ALTER TABLE {s}.proj_factures ADD COLUMN IF NOT EXISTS nature text NOT NULL DEFAULT 'facture'",
        f"ALTER TABLE {s}.proj_factures ADD COLUMN IF NOT EXISTS campagne_id uuid",
        f"ALTER TABLE {s}.proj_factures ADD COLUMN IF NOT EXISTS facture_origine uuid",
        f"ALTER TABLE {s}.proj_factures ADD COLUMN IF NOT EXISTS non_valeur_cents bigint NOT NULL DEFAULT 0",
        f"CREATE INDEX IF NOT EXISTS proj_factures_numero ON {s}.proj_factures (numero)",
        f"CREATE INDEX IF NOT EXISTS proj_factures_emise_le ON {s}.proj_factures (emise_le)",
        f"ALTER TABLE {s}.proj_accueils ADD COLUMN IF NOT EXISTS imputation_budgetaire text",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_factures_ventilation ("
        " facture_id uuid NOT NULL, enfant_id uuid NOT NULL, accueil_id uuid NOT NULL,"
        " montant_cents bigint NOT NULL, PRIMARY KEY (facture_id, enfant_id, accueil_id))",
        f"CREATE INDEX IF NOT EXISTS proj_factures_ventilation_enfant ON {s}.proj_factures_ventilation (enfant_id)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_encours (encours_id uuid PRIMARY KEY, famille_id uuid NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_familles ("
        " famille_id uuid PRIMARY KEY, payeur text, effacee boolean NOT NULL DEFAULT false)",
        f"CREATE TABLE IF NOT EXISTS {s}.proj_mouvements ("
        " mouvement_id uuid PRIMARY KEY, famille_id uuid NOT NULL, nature text NOT NULL, le date NOT NULL,"
        " montant_cents bigint NOT NULL, mode text, reference text, reglement_id uuid,"
        " rejete boolean NOT NULL DEFAULT false)",
        f"CREATE INDEX IF NOT EXISTS proj_mouvements_le ON {s}.proj_mouvements (le)",
        f"CREATE INDEX IF NOT EXISTS proj_mouvements_famille ON {s}.proj_mouvements (famille_id)",
    ]


def statut(facture: Ligne) -> str:
    """A piece's status from its amount and what is left to pay."""
    if facture["montant_cents"] < 0:
        return "avoir"
    if facture["reste_a_payer_cents"] == 0:
        return "admise_en_non_valeur" if facture["non_valeur_cents"] else "payee"
    if facture["reste_a_payer_cents"] < facture["montant_cents"]:
        return "partiellement_payee"
    return "a_payer"


def id_rejet(reglement_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"/portail/rejet/{reglement_id}")


def preparer(curs: Cursor[Any], lot: Lot, evenements: list[Any]) -> list[Any]:
    """The ledgers whose family must be read, and the rows the page changes; returns the invoice
    rows to read (`vues.preparer` reads them with its own)."""
    encours: set[Any] = set()
    mouvements: list[Any] = []
    familles: list[Any] = []
    effacees: list[Any] = []
    factures: list[Any] = []
    for e in evenements:
        if isinstance(e, Encours.Ouvert):
            lot.reperes.encours[e.originator_id] = e.famille_id
        elif isinstance(e, Encours.Event) and e.originator_id not in lot.reperes.encours:
            encours.add(e.originator_id)
        if isinstance(e, Encours.ReglementRecu):
            mouvements.append(e.reglement_id)
        elif isinstance(e, Encours.PrelevementRejete):
            mouvements.extend((e.reglement_id, id_rejet(e.reglement_id)))
        elif isinstance(e, Encours.Rembourse):
            mouvements.append(e.remboursement_id)
        elif isinstance(e, Encours.AjustementEnregistre):
            factures.append(e.ajustement_id)
            if e.facture_id is not None:
                factures.append(e.facture_id)
        elif isinstance(e, Famille.Creee | Famille.ResponsableModifie | Famille.Effacee):
            familles.append(e.originator_id)
            if isinstance(e, Famille.Effacee):
                effacees.append(e.originator_id)
    lot.reperes.charger(curs, lot.schema, set(), set(), encours)
    if familles:
        lot.charger(curs, FAMILLES, familles)
    if effacees:
        lot.charger(curs, MOUVEMENTS, mouvements, "famille_id = ANY(%s)", [effacees])
    elif mouvements:
        lot.charger(curs, MOUVEMENTS, mouvements)
    return factures


def ventiler(lot: Lot, e: FactureEmiseLue) -> None:
    """What the invoice bills per child and accueil: its children, and its budget lines."""
    # Grouped by the ids' integers: a UUID hashes in Python, an int in C (a rebuild groups
    # every line of every invoice).
    montants: dict[tuple[int, int], int] = defaultdict(int)
    ids: dict[tuple[int, int], tuple[UUID, UUID]] = {}
    for ligne in e.lignes:
        cle = (ligne.enfant_id.int, ligne.accueil_id.int)
        montants[cle] += ligne.montant_cents
        if cle not in ids:
            ids[cle] = (ligne.enfant_id, ligne.accueil_id)
    for cle, montant in montants.items():
        lot.ajouter(VENTILATION, (e.originator_id, *ids[cle], montant))


def encours_ouvert(lot: Lot, e: Encours.Ouvert) -> None:
    lot.ajouter(ENCOURS, (e.originator_id, e.famille_id))


def ajustement(lot: Lot, e: Encours.AjustementEnregistre) -> None:
    if lot.ligne(FACTURES, e.ajustement_id) is not None:
        return
    citee = lot.ligne(FACTURES, e.facture_id) if e.facture_id is not None else None
    if e.nature is TypeAjustement.ADMISSION_EN_NON_VALEUR and citee is not None:
        citee = {
            **citee,
            "reste_a_payer_cents": citee["reste_a_payer_cents"] - e.montant_cents,
            "non_valeur_cents": citee["non_valeur_cents"] + e.montant_cents,
        }
        lot.poser(FACTURES, e.facture_id, {**citee, "statut": statut(citee)})
    credit = e.nature.credit
    piece = {
        "facture_id": e.ajustement_id,
        "famille_id": lot.encours(e.originator_id),
        "numero": e.numero,
        "periode": citee["periode"] if citee is not None else f"{e.le:%Y-%m}",
        "emise_le": e.le,
        "echeance": e.echeance,
        "montant_cents": -e.montant_cents if credit else e.montant_cents,
        "reste_a_payer_cents": 0 if credit else e.montant_cents,
        "nature": e.nature.value,
        "campagne_id": None,
        "facture_origine": e.facture_id,
        "non_valeur_cents": 0,
    }
    lot.poser(FACTURES, e.ajustement_id, {**piece, "statut": statut(piece)})


def _mouvement(lot: Lot, e: Any, mouvement_id: UUID, **champs: Any) -> None:
    if lot.ligne(MOUVEMENTS, mouvement_id) is None:
        lot.poser(
            MOUVEMENTS,
            mouvement_id,
            {
                "mouvement_id": mouvement_id,
                "famille_id": lot.encours(e.originator_id),
                "reglement_id": None,
                "rejete": False,
                **champs,
            },
        )


def reglement_recu(lot: Lot, e: Encours.ReglementRecu) -> None:
    _entree(lot, e, e.reglement_id, "reglement", e.recu_le)


def rembourse(lot: Lot, e: Encours.Rembourse) -> None:
    _entree(lot, e, e.remboursement_id, "remboursement", e.rembourse_le)


def _entree(
    lot: Lot, e: Encours.ReglementRecu | Encours.Rembourse, ident: UUID, nature: str, le: date
) -> None:
    """Money that came in or went out: its amount, mode and reference."""
    _mouvement(
        lot,
        e,
        ident,
        nature=nature,
        le=le,
        montant_cents=e.montant_cents,
        mode=e.mode.value,
        reference=e.reference,
    )


def prelevement_rejete(lot: Lot, e: Encours.PrelevementRejete) -> None:
    reglement = lot.ligne(MOUVEMENTS, e.reglement_id)
    if reglement is None:
        return
    lot.poser(MOUVEMENTS, e.reglement_id, {**reglement, "rejete": True})
    _mouvement(
        lot,
        e,
        id_rejet(e.reglement_id),
        nature="rejet",
        le=_jour(e),
        montant_cents=reglement["montant_cents"],
        mode=reglement["mode"],
        reference=None,
        reglement_id=e.reglement_id,
    )


def _jour(e: Any) -> date:
    """The Paris day the application recorded the event (its audit time)."""
    horodatage = (getattr(e, "audit", None) or {}).get("horodatage")
    instant: datetime = datetime.fromisoformat(horodatage) if horodatage else e.timestamp
    return instant.astimezone(PARIS).date()


def famille_ecrite(lot: Lot, e: Famille.Creee | Famille.ResponsableModifie | Famille.Effacee) -> None:
    if isinstance(e, Famille.Effacee):
        lot.poser(FAMILLES, e.originator_id, {"famille_id": e.originator_id, "payeur": None, "effacee": True})
        for mouvement in list(lot.lignes(MOUVEMENTS)):
            if mouvement["famille_id"] == e.originator_id and mouvement["reference"] is not None:
                lot.poser(MOUVEMENTS, mouvement["mouvement_id"], {**mouvement, "reference": None})
        return
    ligne = lot.ligne(FAMILLES, e.originator_id)
    if isinstance(e, Famille.Creee) and ligne is not None:
        return
    r = e.responsable
    effacee = bool(ligne and ligne["effacee"])
    payeur = f"{r.nom} {r.prenom}" if r is not None and not effacee else None
    lot.poser(
        FAMILLES, e.originator_id, {"famille_id": e.originator_id, "payeur": payeur, "effacee": effacee}
    )


GESTIONNAIRES: dict[type, Any] = {
    Encours.Ouvert: encours_ouvert,
    Encours.AjustementEnregistre: ajustement,
    Encours.ReglementRecu: reglement_recu,
    Encours.Rembourse: rembourse,
    Famille.Creee: famille_ecrite,
    Famille.ResponsableModifie: famille_ecrite,
    Famille.Effacee: famille_ecrite,
}
