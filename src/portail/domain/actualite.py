"""Actualité: news the commune publishes, for every family or for the families of given accueils."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from portail.domain.evenements import PortailEvent


class Actualite(Aggregate):
    TOPIC = "portail:Actualite"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Actualite.Created"

    class Publiee(Event, Aggregate.Created):
        TOPIC = "portail:Actualite.Publiee"
        titre: str
        contenu: str
        accueils: tuple[UUID, ...]
        publiee_le: datetime

    @event(Publiee)
    def __init__(self, titre: str, contenu: str, accueils: tuple[UUID, ...], publiee_le: datetime) -> None:
        self.titre = titre
        self.contenu = contenu
        self.accueils = tuple(accueils)
        self.publiee_le = publiee_le
