"""Capacite: the places of one accueil on one day, per unit, and its waiting lists.

Saved in the same transaction as the plannings it changes: optimistic concurrency on this
aggregate is what keeps confirmed places at or under capacity whatever the concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as InstantaneLibrairie

from portail.domain.ensembles import EnsemblePartage
from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent


@dataclass(frozen=True)
class Offre:
    """A freed place held for the first child waiting, until `expire_le`."""

    offre_id: UUID
    enfant_id: UUID
    expire_le: datetime


class OffreIndisponible(RegleMetier):
    titre = "Offre indisponible"


class Attribution(Enum):
    PLACE = "place"
    ATTENTE = "attente"
    COMPLET = "complet"


@lru_cache(maxsize=1 << 14)
def _id_capacite(accueil_id: UUID, jour: date) -> UUID:
    # A name-based UUID is a SHA-1 and a UUID as text: asked several times by every booking.
    return uuid5(NAMESPACE_URL, f"/portail/capacite/{accueil_id}/{jour.isoformat()}")


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

    class OffreFaite(Event):
        TOPIC = "portail:Capacite.OffreFaite"
        offre: Offre
        unite: str

    class OffreAcceptee(Event):
        TOPIC = "portail:Capacite.OffreAcceptee"
        offre_id: UUID
        unite: str

    class OffreRetiree(Event):
        """Refused by the parent or expired: the place goes to the next child."""

        TOPIC = "portail:Capacite.OffreRetiree"
        offre_id: UUID
        unite: str
        expiree: bool

    @staticmethod
    def id_pour(accueil_id: UUID, jour: date) -> UUID:
        return _id_capacite(accueil_id, jour)

    @event(Ouverte)
    def __init__(self, id: UUID, accueil_id: UUID, jour: date) -> None:
        self.accueil_id = accueil_id
        self.jour = jour
        self.places: dict[str, list[UUID]] = {}
        self.attente: dict[str, list[UUID]] = {}
        self.offres: dict[str, list[Offre]] = {}
        self.nombre_offres = 0
        self._index_attente: dict[str, EnsemblePartage[UUID]] = {}
        """The children of each waiting list, to know in constant time whether one is waiting
        (a summer day's list can hold thousands; a command's copy shares its bulk). Not part of
        a snapshot: rebuilt from the lists."""

    class Snapshot(InstantaneLibrairie):
        """The state without the waiting lists' index, which is rebuilt from the lists."""

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            instantane = super().take(aggregate)
            instantane.state.pop("_index_attente", None)
            return instantane

        def mutate(self, _: None) -> Any:
            capacite: Any = super().mutate(_)
            capacite._index_attente = {u: EnsemblePartage(enfants) for u, enfants in capacite.attente.items()}
            return capacite

    def occupees(self, unite: str) -> int:
        """Confirmed places and places held by an offer."""
        return len(self.places.get(unite, [])) + len(self.offres.get(unite, []))

    def offre_de(self, enfant_id: UUID, unite: str) -> Offre | None:
        return next((o for o in self.offres.get(unite, []) if o.enfant_id == enfant_id), None)

    def a_une_place(self, enfant_id: UUID, unite: str) -> bool:
        return enfant_id in self.places.get(unite, [])

    def _index(self) -> dict[str, EnsemblePartage[UUID]]:
        """The waiting lists' index; built from the lists when missing (a Capacite loaded from a
        snapshot written before the index existed)."""
        index: dict[str, EnsemblePartage[UUID]] | None = self.__dict__.get("_index_attente")
        if index is None:
            index = {u: EnsemblePartage(enfants) for u, enfants in self.attente.items()}
            self._index_attente = index
        return index

    def en_attente(self, enfant_id: UUID, unite: str) -> bool:
        return enfant_id in self._index().get(unite, ())

    def _entre_en_attente(self, enfant_id: UUID, unite: str) -> None:
        index = self._index()
        self.attente.setdefault(unite, []).append(enfant_id)
        index.setdefault(unite, EnsemblePartage()).add(enfant_id)

    def _sort_de_l_attente(self, enfant_id: UUID, unite: str) -> None:
        index = self._index()
        self.attente[unite].remove(enfant_id)
        index[unite].discard(enfant_id)

    def demander(self, enfant_id: UUID, unite: str, capacite: int | None, liste_attente: bool) -> Attribution:
        """A place if one is free, else the end of the waiting list (when the accueil keeps one)."""
        if self.a_une_place(enfant_id, unite):
            return Attribution.PLACE
        if self.en_attente(enfant_id, unite) or self.offre_de(enfant_id, unite):
            return Attribution.ATTENTE
        libre = capacite is None or self.occupees(unite) < capacite
        # A waiting list has priority over a newcomer while it is not empty.
        if libre and not self.attente.get(unite) and not self.offres.get(unite):
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
        self._entre_en_attente(enfant_id, unite)

    def liberer(self, enfant_id: UUID, unite: str) -> None:
        if self.a_une_place(enfant_id, unite):
            self._liberee(enfant_id=enfant_id, unite=unite)
        elif self.en_attente(enfant_id, unite):
            self._sorti(enfant_id=enfant_id, unite=unite)
        elif offre := self.offre_de(enfant_id, unite):
            self._offre_retiree(offre_id=offre.offre_id, unite=unite, expiree=False)

    @event(PlaceLiberee)
    def _liberee(self, enfant_id: UUID, unite: str) -> None:
        self.places[unite].remove(enfant_id)

    @event(SortiDeLAttente)
    def _sorti(self, enfant_id: UUID, unite: str) -> None:
        self._sort_de_l_attente(enfant_id, unite)

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
        self._sort_de_l_attente(enfant_id, unite)
        self.places.setdefault(unite, []).append(enfant_id)

    # Offers: where the accueil asks for it, a freed place is offered rather than given.

    def proposer(self, unite: str, capacite: int | None, expire_le: datetime) -> list[Offre]:
        """Offer the free places to the children first in line, each until `expire_le`."""
        faites: list[Offre] = []
        while self.attente.get(unite) and (capacite is None or self.occupees(unite) < capacite):
            premier = self.attente[unite][0]
            offre = Offre(
                uuid5(NAMESPACE_URL, f"/portail/offre/{self.id}/{self.nombre_offres + 1}"), premier, expire_le
            )
            self._offre_faite(offre=offre, unite=unite)
            faites.append(offre)
        return faites

    @event(OffreFaite)
    def _offre_faite(self, offre: Offre, unite: str) -> None:
        self._sort_de_l_attente(offre.enfant_id, unite)
        self.offres.setdefault(unite, []).append(offre)
        self.nombre_offres += 1

    def _offre_ouverte(self, offre_id: UUID, unite: str, maintenant: datetime) -> Offre:
        """The offer a parent answers: still held and not expired. An expired one is left for
        `expirer`, which passes the place to the next child."""
        offre = next((o for o in self.offres.get(unite, []) if o.offre_id == offre_id), None)
        if offre is None:
            raise OffreIndisponible("Cette offre n'est plus disponible.")
        if maintenant >= offre.expire_le:
            raise OffreIndisponible("Cette offre a expiré ; la place a été proposée à l'enfant suivant.")
        return offre

    def accepter(self, offre_id: UUID, unite: str, maintenant: datetime) -> Offre:
        offre = self._offre_ouverte(offre_id, unite, maintenant)
        self._offre_acceptee(offre_id=offre_id, unite=unite)
        return offre

    @event(OffreAcceptee)
    def _offre_acceptee(self, offre_id: UUID, unite: str) -> None:
        offre = next(o for o in self.offres[unite] if o.offre_id == offre_id)
        self.offres[unite].remove(offre)
        self.places.setdefault(unite, []).append(offre.enfant_id)

    def refuser(self, offre_id: UUID, unite: str, maintenant: datetime) -> Offre:
        offre = self._offre_ouverte(offre_id, unite, maintenant)
        self._offre_retiree(offre_id=offre_id, unite=unite, expiree=False)
        return offre

    def expirer(self, maintenant: datetime) -> list[tuple[str, Offre]]:
        """Withdraw every offer whose time is up; the caller offers the places again."""
        expirees = [(u, o) for u, offres in self.offres.items() for o in offres if maintenant >= o.expire_le]
        for unite, offre in expirees:
            self._offre_retiree(offre_id=offre.offre_id, unite=unite, expiree=True)
        return expirees

    @event(OffreRetiree)
    def _offre_retiree(self, offre_id: UUID, unite: str, expiree: bool) -> None:
        self.offres[unite] = [o for o in self.offres[unite] if o.offre_id != offre_id]
