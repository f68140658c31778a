"""What the running app holds: services built once in the lifespan, and request helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from litestar import Request

from portail.api.auth import Jetons, Utilisateur
from portail.application.audit import ServiceAudit
from portail.application.comptes import ServiceComptes
from portail.application.contexte import Contexte
from portail.application.documents import ServiceDocuments
from portail.application.facturation import ServiceFacturation
from portail.application.familles import ServiceFamilles
from portail.application.offre import ServiceOffre
from portail.application.paiement_carte import PrestataireTest
from portail.application.portail import Portail
from portail.application.reservations import ServiceReservations
from portail.projections.executeur import Projecteur
from portail.projections.requetes import Lectures
from portail.projections.suivi import SuiviVues
from portail.settings import Settings
from portail.store.idempotence import Idempotence
from portail.store.securite import Revocations

ENTETE_MOTIF = "x-motif"


@dataclass
class Services:
    settings: Settings
    portail: Portail
    comptes: ServiceComptes
    familles: ServiceFamilles
    jetons: Jetons
    revocations: Revocations
    offre: ServiceOffre
    reservations: ServiceReservations
    lectures: Lectures
    projecteur: Projecteur | None
    """The projection runner, in the processes that run it (`serve`, `worker`); None in `api`."""
    suivi: SuiviVues
    """Where the read models stand: the runner itself, or the worker's tracking row."""
    idempotence: Idempotence
    facturation: ServiceFacturation
    prestataire_carte: PrestataireTest | None
    audit: ServiceAudit
    documents: ServiceDocuments

    def demarrer_sessions(self) -> None:
        if self.comptes.sessions is not None:
            self.comptes.sessions.demarrer()

    def arreter_sessions(self) -> None:
        if self.comptes.sessions is not None:
            self.comptes.sessions.arreter()

    def apres_ecriture(self) -> None:
        """Read-your-writes: the caller's next read already shows what this thread just saved."""
        self.suivi.attendre(self.portail.derniere_position())

    def apres_reservation(self) -> None:
        """Read-your-writes for the booking routes: their calendar and counter rows committed with
        them; only a save that also changed the waiting-list offers waits for the runner."""
        if self.portail.attend_le_projecteur():
            self.apres_ecriture()


def services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def correlation(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("correlation_id", "inconnu"))


def contexte(request: Request[Any, Any, Any]) -> Contexte:
    """The actor of this request; `X-Motif` (percent-encoded) records why a person acts."""
    utilisateur = request.user if isinstance(request.scope.get("user"), Utilisateur) else None
    motif = request.headers.get(ENTETE_MOTIF)
    motif = unquote(motif)[:500] if motif else None
    if utilisateur is None:
        return Contexte(correlation(request), role="anonyme", motif=motif)
    role = utilisateur.roles[0].value if utilisateur.roles else None
    return Contexte(correlation(request), utilisateur.compte_id, role, motif=motif)


def adresse_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "inconnue"
