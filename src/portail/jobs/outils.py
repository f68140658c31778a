"""What every job works with: the application services, the claims of what is done, the reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from portail.jobs.marqueurs import Marqueurs
from portail.projections.echeances import Echeances

if TYPE_CHECKING:
    from portail.api.etat import Services


@dataclass
class Outils:
    services: Services
    marqueurs: Marqueurs
    echeances: Echeances

    @classmethod
    def pour(cls, services: Services) -> Outils:
        datastore = services.portail.factory.datastore  # type: ignore[attr-defined]
        return cls(services, Marqueurs(datastore), Echeances(datastore))

    def maintenant(self) -> datetime:
        """The application's clock, which tests move."""
        return self.services.portail.horloge()

    def aujourd_hui(self) -> date:
        return self.services.familles.aujourd_hui()
