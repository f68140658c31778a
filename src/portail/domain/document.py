"""Document: a file a family gives the commune (certificate, CAF attestation…), checked by staff.
The file itself is stored encrypted with the family's key; only its metadata are events."""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent


class TypeDocument(Enum):
    JUSTIFICATIF_ABSENCE = "justificatif_absence"
    CERTIFICAT_MEDICAL = "certificat_medical"
    ATTESTATION_QF = "attestation_qf"
    PAI = "pai"
    VACCINATIONS = "vaccinations"
    AUTRE = "autre"


class StatutDocument(Enum):
    DEPOSE = "depose"
    VALIDE = "valide"
    REFUSE = "refuse"


class Document(Aggregate):
    TOPIC = "portail:Document"
    DONNEES_PERSONNELLES = True

    class Event(Aggregate.Event, PortailEvent):
        SUJET_PERSONNEL = True

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Document.Created"

    class Depose(Event, Aggregate.Created):
        TOPIC = "portail:Document.Depose"
        PERSONNEL = ("nom_fichier",)
        famille_id: UUID
        enfant_id: UUID | None
        type: TypeDocument
        nom_fichier: str
        media_type: str
        taille: int
        empreinte: str

    class Valide(Event):
        TOPIC = "portail:Document.Valide"

    class Refuse(Event):
        TOPIC = "portail:Document.Refuse"
        PERSONNEL = ("motif",)
        motif: str

    @event(Depose)
    def __init__(
        self,
        id: UUID,
        famille_id: UUID,
        enfant_id: UUID | None,
        type: TypeDocument,
        nom_fichier: str,
        media_type: str,
        taille: int,
        empreinte: str,
    ) -> None:
        self.famille_id = famille_id
        self.enfant_id = enfant_id
        self.type = type
        self.nom_fichier: str | None = nom_fichier
        self.media_type = media_type
        self.taille = taille
        self.empreinte = empreinte
        self.statut = StatutDocument.DEPOSE
        self.motif_refus: str | None = None

    def valider(self) -> None:
        if self.statut is StatutDocument.REFUSE:
            raise RegleMetier("Ce document a été refusé ; la famille doit en déposer un autre.")
        if self.statut is not StatutDocument.VALIDE:
            self._valide()

    @event(Valide)
    def _valide(self) -> None:
        self.statut = StatutDocument.VALIDE

    def refuser(self, motif: str) -> None:
        if self.statut is StatutDocument.VALIDE:
            raise RegleMetier("Ce document a déjà été validé.")
        if self.statut is not StatutDocument.REFUSE:
            self._refuse(motif=motif)

    @event(Refuse)
    def _refuse(self, motif: str) -> None:
        self.statut = StatutDocument.REFUSE
        self.motif_refus = motif
