"""Accueil: the guide's tiles, and what needs the family's attention first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from portail.api.etat import services
from portail.application.pdf import euros
from portail.web.entree import page_connexion
from portail.web.pages import famille_de_la_page, rendu, utilisateur_de, verifier_parent


@dataclass(frozen=True)
class Tuile:
    titre: str
    texte: str
    lien: str


TUILES = (
    Tuile("Mon profil", "Accès à mes informations personnelles", "/profil"),
    Tuile("Mon foyer", "Accès aux informations de mon foyer", "/foyer"),
    Tuile("Mes enfants", "Accès aux informations enfant", "/enfants"),
    Tuile("Mon planning", "Nouvelle réservation ou modification de mes réservations", "/planning"),
    Tuile("Mes factures", "Accès à mes factures et règlements", "/factures"),
    Tuile("Mes documents", "Transmettre un document, voir s'il est accepté", "/documents"),
    Tuile(
        "Quotient familial et prélèvement",
        "Mon quotient familial et le prélèvement automatique",
        "/quotient-prelevement",
    ),
    Tuile("Actualités", "Les nouvelles de la commune et des accueils", "/actualites"),
)


@dataclass(frozen=True)
class Alerte:
    texte: str
    lien: str
    libelle_lien: str
    urgente: bool = False


def alertes(request: Request[Any, Any, Any]) -> list[Alerte]:
    """Offers to answer, invoices to pay (due this week first), refused documents."""
    sv = services(request)
    famille_id = famille_de_la_page(request)
    maintenant = sv.portail.horloge()
    aujourd_hui = sv.familles.aujourd_hui()
    foyer = sv.familles.foyer(famille_id)
    prenoms = {e.id: e.identite.prenom for e in foyer.enfants if e.identite is not None}
    liste: list[Alerte] = []
    for offre in sv.lectures.offres_ouvertes(famille_id, maintenant):
        expire = offre["expire_le"].astimezone(maintenant.tzinfo)
        liste.append(
            Alerte(
                f"Une place s'est libérée pour {prenoms.get(offre['enfant_id'], 'votre enfant')} "
                f"le {offre['jour']:%d/%m/%Y} ({offre['unite']}) : répondez avant le "
                f"{expire:%d/%m/%Y à %H:%M}.",
                "/planning",
                "Répondre à l'offre",
                urgente=True,
            )
        )
    for facture in sv.lectures.factures(famille_id):
        if facture["reste_a_payer_cents"] <= 0:
            continue
        montant = euros(facture["reste_a_payer_cents"])
        echeance = facture["echeance"]
        if echeance < aujourd_hui:
            quand, urgente = f"l'échéance du {echeance:%d/%m/%Y} est passée", True
        elif echeance <= aujourd_hui + timedelta(days=7):
            quand, urgente = f"à régler cette semaine, avant le {echeance:%d/%m/%Y}", True
        else:
            quand, urgente = f"à régler avant le {echeance:%d/%m/%Y}", False
        liste.append(
            Alerte(
                f"Facture {facture['numero']} : {montant} restent à payer ({quand}).",
                "/factures",
                "Voir mes factures",
                urgente=urgente,
            )
        )
    for document in sv.lectures.documents(famille_id, "refuse"):
        liste.append(
            Alerte(
                f"Un document déposé le {document['depose_le']:%d/%m/%Y} a été refusé.",
                "/documents",
                "Voir le motif",
                urgente=True,
            )
        )
    return sorted(liste, key=lambda a: not a.urgente)


class AccueilPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def accueil(self, request: Request[Any, Any, Any]) -> Template:
        if utilisateur_de(request) is None:
            return page_connexion(request)
        verifier_parent(request)
        sv = services(request)
        famille = sv.familles.famille(famille_de_la_page(request))
        responsable = famille.responsable
        return rendu(
            request,
            "accueil.html",
            tuiles=TUILES,
            alertes=alertes(request),
            prenom=responsable.prenom if responsable else "",
        )
