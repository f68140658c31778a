"""Capacite: the places of one accueil on one day, per unit, and its waiting lists.

Saved in the same transaction as the plannings it changes: optimistic concurrency on this
aggregate is what keeps confirmed places at or under capacity whatever the concurrency.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from portail.domain.evenements import PortailEvent


class Attribution(Enum):
    PLACE = "place"
    ATTENTE = "attente"
    COMPLET = "complet"


class Capacite(Aggregate):
    TOPIC = "portail:Capacite"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Capacite.Created"

    class Ouverte(Event, Aggregate.Created):
        TOPIC = "portail:Capacite.Ouverte"
        accueil_id: UUID
        jour: date

    class PlaceAttribuee(Event):
        TOPIC = "portail:Capacite.PlaceAttribuee"
        enfant_id: UUID
        unite: str

    class MisEnAttente(Event):
        TOPIC = "portail:Capacite.MisEnAttente"
        enfant_id: UUID
        unite: str

    class PlaceLiberee(Event):
        TOPIC = "portail:Capacite.PlaceLiberee"
        enfant_id: UUID
        unite: str

    class SortiDeLAttente(Event):
        TOPIC = "portail:Capacite.SortiDeLAttente"
        enfant_id: UUID
        unite: str

    class Promu(Event):
        TOPIC = "portail:Capacite.Promu"
        enfant_id: UUID
        unite: str

    @staticmethod
    def id_pour(accueil_id: UUID, jour: date) -> UUID:
        return uuid5(NAMESPACE_URL, f"/portail/capacite/{accueil_id}/{jour.isoformat()}")

    @event(Ouverte)
    def __init__(self, id: UUID, accueil_id: UUID, jour: date) -> None:
        self.accueil_id = accueil_id
        self.jour = jour
        self.places: dict[str, list[UUID]] = {}
        self.attente: dict[str, list[UUID]] = {}

    def occupees(self, unite: str) -> int:
        return len(self.places.get(unite, []))

    def a_une_place(self, enfant_id: UUID, unite: str) -> bool:
        return enfant_id in self.places.get(unite, [])

    def en_attente(self, enfant_id: UUID, unite: str) -> bool:
        return enfant_id in self.attente.get(unite, [])

    def demander(self, enfant_id: UUID, unite: str, capacite: int | None, liste_attente: bool) -> Attribution:
        """A place if one is free, else the end of the waiting list (when the accueil keeps one)."""
        if self.a_une_place(enfant_id, unite):
            return Attribution.PLACE
        if self.en_attente(enfant_id, unite):
            return Attribution.ATTENTE
        libre = capacite is None or self.occupees(unite) < capacite
        # A waiting list has priority over a newcomer while it is not empty.
        if libre and not self.attente.get(unite):
            self._attribuee(enfant_id=enfant_id, unite=unite)
            return Attribution.PLACE
        if liste_attente:
            self._en_attente(enfant_id=enfant_id, unite=unite)
            return Attribution.ATTENTE
        return Attribution.COMPLET

    @event(PlaceAttribuee)
    def _attribuee(self, enfant_id: UUID, unite: str) -> None:
        self.places.setdefault(unite, []).append(enfant_id)

    @event(MisEnAttente)
    def _en_attente(self, enfant_id: UUID, unite: str) -> None:
        self.attente.setdefault(unite, []).append(enfant_id)

    def liberer(self, enfant_id: UUID, unite: str) -> None:
        if self.a_une_place(enfant_id, unite):
            self._liberee(enfant_id=enfant_id, unite=unite)
        elif self.en_attente(enfant_id, unite):
            self._sorti(enfant_id=enfant_id, unite=unite)

    @event(PlaceLiberee)
    def _liberee(self, enfant_id: UUID, unite: str) -> None:
        self.places[unite].remove(enfant_id)

    @event(SortiDeLAttente)
    def _sorti(self, enfant_id: UUID, unite: str) -> None:
        self.attente[unite].remove(enfant_id)

    def promouvoir(self, unite: str, capacite: int | None) -> list[UUID]:
        """Move the head of the waiting list onto the places that are free, in arrival order."""
        promus: list[UUID] = []
        while self.attente.get(unite) and (capacite is None or self.occupees(unite) < capacite):
            premier = self.attente[unite][0]
            self._promu(enfant_id=premier, unite=unite)
            promus.append(premier)
        return promus

    @event(Promu)
    def _promu(self, enfant_id: UUID, unite: str) -> None:
        self.attente[unite].remove(enfant_id)
        self.places.setdefault(unite, []).append(enfant_id)
