"""Installation: remembers that the first administrator was created, so it happens once."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from portail.domain.evenements import PortailEvent

ID_INSTALLATION = uuid5(NAMESPACE_URL, "/portail/installation")


class Installation(Aggregate):
    TOPIC = "portail:Installation"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Installation.Created"

    class PremierAdministrateurCree(Event, Aggregate.Created):
        TOPIC = "portail:Installation.PremierAdministrateurCree"
        compte_id: UUID

    @event(PremierAdministrateurCree)
    def __init__(self, id: UUID, compte_id: UUID) -> None:
        self.premier_administrateur = compte_id
