"""Planning: one child's presences at one accueil — booked, waiting, cancelled, pointed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import Enum
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import ErreurValidation
from portail.domain.evenements import PortailEvent


class Etat(Enum):
    RESERVE = "reserve"
    LISTE_ATTENTE = "liste_attente"
    ANNULE = "annule"
    PRESENT = "present"
    ABSENT_JUSTIFIE = "absent_justifie"
    ABSENT_NON_JUSTIFIE = "absent_non_justifie"
    PRESENT_NON_RESERVE = "present_non_reserve"


@lru_cache(maxsize=16_384)
def cle(jour: date, unite: str) -> str:
    # Billing folds every family's year of presences again and again: a school year's keys are
    # a few thousand, each formatted once.
    return f"{jour.isoformat()}/{unite}"


RESERVES = (Etat.RESERVE, Etat.PRESENT, Etat.ABSENT_JUSTIFIE, Etat.ABSENT_NON_JUSTIFIE)
"""States that hold a confirmed place."""


@dataclass(frozen=True)
class Presence:
    etat: Etat
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None
    facturable: bool = False
    motif: str | None = None
    document_id: UUID | None = None
    arrivee: time | None = None
    depart: time | None = None
    offre_id: UUID | None = None
    offre_expire_le: datetime | None = None

    def pointee(self, etat: Etat, arrivee: time | None, depart: time | None) -> Presence:
        """This presence as pointed. A school year's pointage is folded hundreds of thousands of
        times by billing, and the runner keeps hundreds of families folded: the same presence
        pointed the same way is one shared instance (a `Presence` never changes), as a booked
        one is (`demandee`)."""
        return _pointee(self, etat, arrivee, depart)


@lru_cache(maxsize=16_384)
def _pointee(presence: Presence, etat: Etat, arrivee: time | None, depart: time | None) -> Presence:
    # The fields copied as one dictionary: a frozen dataclass's `__init__` sets its ten fields
    # one by one, twice as slow.
    pointee = object.__new__(Presence)
    champs = presence.__dict__.copy()
    champs["etat"], champs["arrivee"], champs["depart"] = etat, arrivee, depart
    object.__setattr__(pointee, "__dict__", champs)
    return pointee


@lru_cache(maxsize=1_024)
def demandee(etat: Etat, majoration_cents: int | None, majoration_pourcent: int | None) -> Presence:
    """A booked or waiting presence: one shared instance per value (a `Presence` never changes),
    so that folding a year of bookings allocates none."""
    return Presence(etat, majoration_cents, majoration_pourcent)


@lru_cache(maxsize=1_024)
def pointee_sans_reservation(etat: Etat, arrivee: time | None, depart: time | None) -> Presence:
    """A presence pointed on a day-unit that was not booked: shared, as `demandee`."""
    return Presence(etat, arrivee=arrivee, depart=depart)


class Ligne(msgspec.Struct, frozen=True):
    """One day-unit of a batch. A Struct rather than a dataclass: a booking event holds dozens,
    and the log's decoding builds a Struct in half the time of a frozen dataclass."""

    jour: date
    unite: str
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None
    facturable: bool = False


class Pointage(msgspec.Struct, frozen=True):
    """One day-unit pointed (a Struct, as `Ligne`)."""

    jour: date
    unite: str
    etat: Etat
    arrivee: time | None = None
    depart: time | None = None


@lru_cache(maxsize=1 << 16)
def _id_planning(enfant_id: UUID, accueil_id: UUID) -> UUID:
    # A name-based UUID is a SHA-1 and two UUIDs as text: asked several times by every booking.
    return uuid5(NAMESPACE_URL, f"/portail/planning/{enfant_id}/{accueil_id}")


class Planning(Aggregate):
    TOPIC = "portail:Planning"
    DONNEES_PERSONNELLES = True

    class Event(Aggregate.Event, PortailEvent):
        SUJET_PERSONNEL = True

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Planning.Created"

    class Ouvert(Event, Aggregate.Created):
        TOPIC = "portail:Planning.Ouvert"
        enfant_id: UUID
        accueil_id: UUID
        famille_id: UUID

    class Reserve(Event):
        TOPIC = "portail:Planning.Reserve"
        lignes: tuple[Ligne, ...]

    class MisEnListeAttente(Event):
        TOPIC = "portail:Planning.MisEnListeAttente"
        lignes: tuple[Ligne, ...]

    class Annule(Event):
        TOPIC = "portail:Planning.Annule"
        PERSONNEL = ("motif",)
        lignes: tuple[Ligne, ...]
        motif: str | None

    class PromuDeListeAttente(Event):
        TOPIC = "portail:Planning.PromuDeListeAttente"
        jour: date
        unite: str

    class OffreRecue(Event):
        TOPIC = "portail:Planning.OffreRecue"
        offre_id: UUID
        jour: date
        unite: str
        expire_le: datetime

    class OffreAcceptee(Event):
        TOPIC = "portail:Planning.OffreAcceptee"
        offre_id: UUID
        jour: date
        unite: str

    class OffrePerdue(Event):
        """Refused by the parent or expired: the child leaves the waiting list."""

        TOPIC = "portail:Planning.OffrePerdue"
        offre_id: UUID
        jour: date
        unite: str
        expiree: bool

    class AbsenceDeclaree(Event):
        TOPIC = "portail:Planning.AbsenceDeclaree"
        PERSONNEL = ("motif",)
        jour: date
        unites: tuple[str, ...]
        motif: str
        document_id: UUID | None

    class Pointe(Event):
        TOPIC = "portail:Planning.Pointe"
        pointages: tuple[Pointage, ...]

    @staticmethod
    def id_pour(enfant_id: UUID, accueil_id: UUID) -> UUID:
        return _id_planning(enfant_id, accueil_id)

    @event(Ouvert)
    def __init__(self, id: UUID, enfant_id: UUID, accueil_id: UUID, famille_id: UUID) -> None:
        self.enfant_id = enfant_id
        self.accueil_id = accueil_id
        self.famille_id = famille_id
        # Keyed "YYYY-MM-DD/UNITE" so that snapshots stay plain JSON.
        self.presences: dict[str, Presence] = {}

    def presence(self, jour: date, unite: str) -> Presence | None:
        return self.presences.get(cle(jour, unite))

    def etat(self, jour: date, unite: str) -> Etat | None:
        presence = self.presence(jour, unite)
        return presence.etat if presence else None

    def unites_reservees(self, jour: date, parmi: Iterable[str] | None = None) -> set[str]:
        """The units held that day; with `parmi`, only those of these units, each looked up by its
        key instead of walking through the planning (a school year holds hundreds of day-units)."""
        if parmi is not None:
            return {code for code in parmi if self.etat(jour, code) in RESERVES}
        prefixe = f"{jour.isoformat()}/"
        return {
            k[len(prefixe) :]
            for k, p in self.presences.items()
            if k.startswith(prefixe) and p.etat in RESERVES
        }

    def jours_presences(self) -> list[tuple[date, str, Presence]]:
        return [(date.fromisoformat(k[:10]), k[11:], p) for k, p in sorted(self.presences.items())]

    def presences_du_mois(self, annee: int, mois: int) -> list[tuple[date, str, Presence]]:
        """The month's day-units, in order: selected on the key before any date is parsed (a
        school year holds hundreds, and billing asks for one month at a time)."""
        prefixe = f"{annee:04d}-{mois:02d}-"
        return [
            (date.fromisoformat(k[:10]), k[11:], p)
            for k, p in sorted(self.presences.items())
            if k.startswith(prefixe)
        ]

    def mois_presences(self) -> set[str]:
        """The months ("YYYY-MM") in which this planning has a day-unit."""
        return {k[:7] for k in self.presences}

    def reserver(self, lignes: list[Ligne]) -> None:
        if lignes:
            self._reserve(lignes=tuple(lignes))

    @event(Reserve)
    def _reserve(self, lignes: tuple[Ligne, ...]) -> None:
        for ligne in lignes:
            self.presences[cle(ligne.jour, ligne.unite)] = demandee(
                Etat.RESERVE, ligne.majoration_cents, ligne.majoration_pourcent
            )

    def mettre_en_attente(self, lignes: list[Ligne]) -> None:
        if lignes:
            self._en_attente(lignes=tuple(lignes))

    @event(MisEnListeAttente)
    def _en_attente(self, lignes: tuple[Ligne, ...]) -> None:
        for ligne in lignes:
            self.presences[cle(ligne.jour, ligne.unite)] = demandee(
                Etat.LISTE_ATTENTE, ligne.majoration_cents, ligne.majoration_pourcent
            )

    def annuler(self, lignes: list[Ligne], motif: str | None) -> None:
        if lignes:
            self._annule(lignes=tuple(lignes), motif=motif)

    @event(Annule)
    def _annule(self, lignes: tuple[Ligne, ...], motif: str | None) -> None:
        for ligne in lignes:
            self.presences[cle(ligne.jour, ligne.unite)] = Presence(
                Etat.ANNULE, facturable=ligne.facturable, motif=motif
            )

    def promouvoir(self, jour: date, unite: str) -> None:
        if self.etat(jour, unite) is Etat.LISTE_ATTENTE:
            self._promu(jour=jour, unite=unite)

    @event(PromuDeListeAttente)
    def _promu(self, jour: date, unite: str) -> None:
        self.presences[cle(jour, unite)] = replace(self.presences[cle(jour, unite)], etat=Etat.RESERVE)

    def recevoir_offre(self, offre_id: UUID, jour: date, unite: str, expire_le: datetime) -> None:
        self._offre_recue(offre_id=offre_id, jour=jour, unite=unite, expire_le=expire_le)

    @event(OffreRecue)
    def _offre_recue(self, offre_id: UUID, jour: date, unite: str, expire_le: datetime) -> None:
        actuelle = self.presences.get(cle(jour, unite), Presence(Etat.LISTE_ATTENTE))
        self.presences[cle(jour, unite)] = replace(
            actuelle, etat=Etat.LISTE_ATTENTE, offre_id=offre_id, offre_expire_le=expire_le
        )

    def accepter_offre(self, offre_id: UUID, jour: date, unite: str) -> None:
        self._offre_acceptee(offre_id=offre_id, jour=jour, unite=unite)

    @event(OffreAcceptee)
    def _offre_acceptee(self, offre_id: UUID, jour: date, unite: str) -> None:
        actuelle = self.presences[cle(jour, unite)]
        self.presences[cle(jour, unite)] = replace(
            actuelle, etat=Etat.RESERVE, offre_id=None, offre_expire_le=None
        )

    def perdre_offre(self, offre_id: UUID, jour: date, unite: str, expiree: bool) -> None:
        self._offre_perdue(offre_id=offre_id, jour=jour, unite=unite, expiree=expiree)

    @event(OffrePerdue)
    def _offre_perdue(self, offre_id: UUID, jour: date, unite: str, expiree: bool) -> None:
        motif = "offre expirée" if expiree else "offre refusée"
        self.presences[cle(jour, unite)] = Presence(Etat.ANNULE, motif=motif)

    def declarer_absence(
        self, jour: date, unites: tuple[str, ...], motif: str, document_id: UUID | None
    ) -> None:
        """Only a booked unit not yet pointed nor declared absent can be declared absent."""
        non_reservees = [u for u in unites if self.etat(jour, u) is not Etat.RESERVE]
        if non_reservees:
            raise ErreurValidation.sur(
                "unites", f"aucune réservation le {jour:%d/%m/%Y} pour {', '.join(non_reservees)}"
            )
        self._absence(jour=jour, unites=unites, motif=motif, document_id=document_id)

    @event(AbsenceDeclaree)
    def _absence(self, jour: date, unites: tuple[str, ...], motif: str, document_id: UUID | None) -> None:
        etat = Etat.ABSENT_JUSTIFIE if document_id is not None else Etat.ABSENT_NON_JUSTIFIE
        for unite in unites:
            actuelle = self.presences.get(cle(jour, unite), Presence(Etat.RESERVE))
            self.presences[cle(jour, unite)] = replace(
                actuelle, etat=etat, motif=motif, document_id=document_id
            )

    def pointer(self, pointages: list[Pointage]) -> None:
        if pointages:
            self._pointe(pointages=tuple(pointages))

    @event(Pointe)
    def _pointe(self, pointages: tuple[Pointage, ...]) -> None:
        for p in pointages:
            k = cle(p.jour, p.unite)
            actuelle = self.presences.get(k)
            if actuelle is None:
                self.presences[k] = pointee_sans_reservation(p.etat, p.arrivee, p.depart)
            else:
                self.presences[k] = actuelle.pointee(p.etat, p.arrivee, p.depart)
