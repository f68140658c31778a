"""What every job works with, handed over by the composition root (`portail.bootstrap`): the event
store, narrow ports onto the use cases, the claims of what is done, the reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from portail.application.courriel import Courrier
from portail.application.portail import Portail
from portail.domain.regles.calendrier import PARIS, Calendrier
from portail.jobs.marqueurs import Marqueurs
from portail.jobs.ports import (
    EffacementFamille,
    Facturation,
    FichierPrelevements,
    FichierRepresentation,
    Reservations,
)
from portail.projections.echeances import Echeances
from portail.projections.requetes import Lectures
from portail.settings import Settings


@dataclass
class Outils:
    portail: Portail
    reglages: Settings
    marqueurs: Marqueurs
    echeances: Echeances
    lectures: Lectures
    calendrier: Calendrier
    courrier: Courrier
    reservations: Reservations
    facturation: Facturation
    fichier_prelevements: FichierPrelevements
    fichier_representation: FichierRepresentation
    effacer_famille: EffacementFamille

    def maintenant(self) -> datetime:
        """The application's clock, which tests move."""
        return self.portail.horloge()

    def aujourd_hui(self) -> date:
        """Rules speak of the day in Paris."""
        return self.maintenant().astimezone(PARIS).date()
