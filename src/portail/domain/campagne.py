"""Campagne (one billing period: draft, then issued; corrective campaigns), Facture (immutable
once issued) and Numerotation (gap-free invoice numbers per régie and year)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from portail.domain.erreurs import RegleMetier
from portail.domain.evenements import PortailEvent
from portail.domain.facturation import LigneFacture


@dataclass(frozen=True)
class Totaux:
    familles: int
    lignes: int
    montant_cents: int


@dataclass(frozen=True)
class Report:
    """A family's month left uninvoiced under the threshold, and later carried onto an invoice."""

    periode: str
    famille_id: UUID


@dataclass(frozen=True)
class FactureEmise:
    famille_id: UUID
    facture_id: UUID
    numero: str
    montant_cents: int


class Campagne(Aggregate):
    TOPIC = "portail:Campagne"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Campagne.Created"

    class Preparee(Event, Aggregate.Created):
        TOPIC = "portail:Campagne.Preparee"
        periode: str
        position: int
        campagne_origine: UUID | None
        totaux: Totaux
        anomalies: int
        empreinte: str
        class_version = 2
        version_empreinte: int
        """1: a digest of all the lines; 2: a digest of the families' digests
        (`domain.facturation.empreinte_campagne`)."""

        @staticmethod
        def upcast_v1_v2(etat: dict[str, object]) -> None:
            etat["version_empreinte"] = 1

    class Emise(Event):
        TOPIC = "portail:Campagne.Emise"
        class_version = 2
        emise_le: date
        factures: tuple[FactureEmise, ...]
        reportees: tuple[UUID, ...]
        reports_inclus: tuple[Report, ...]

        @staticmethod
        def upcast_v1_v2(etat: dict[str, object]) -> None:
            etat["reports_inclus"] = ()

    @event(Preparee)
    def __init__(
        self,
        id: UUID,
        periode: str,
        position: int,
        campagne_origine: UUID | None,
        totaux: Totaux,
        anomalies: int,
        empreinte: str,
        version_empreinte: int = 1,
    ) -> None:
        self.periode = periode
        self.position = position
        self.campagne_origine = campagne_origine
        self.totaux = totaux
        self.anomalies = anomalies
        self.empreinte = empreinte
        self.version_empreinte = version_empreinte
        self.emise_le: date | None = None
        self.factures: tuple[FactureEmise, ...] = ()
        self.reportees: tuple[UUID, ...] = ()
        self.reports_inclus: tuple[Report, ...] = ()

    @property
    def statut(self) -> str:
        return "emise" if self.emise_le else "brouillon"

    def emettre(
        self, le: date, factures: list[FactureEmise], reportees: list[UUID], reports_inclus: list[Report]
    ) -> None:
        if self.emise_le is not None:
            raise RegleMetier("Cette campagne a déjà été émise.")
        self._emise(
            emise_le=le,
            factures=tuple(factures),
            reportees=tuple(reportees),
            reports_inclus=tuple(reports_inclus),
        )

    @event(Emise)
    def _emise(
        self,
        emise_le: date,
        factures: tuple[FactureEmise, ...],
        reportees: tuple[UUID, ...],
        reports_inclus: tuple[Report, ...],
    ) -> None:
        self.emise_le = emise_le
        self.factures = tuple(factures)
        self.reportees = tuple(reportees)
        self.reports_inclus = tuple(reports_inclus)


class Numerotation(Aggregate):
    """The last number given in a series: saved with the invoices, so numbers have no gap."""

    TOPIC = "portail:Numerotation"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Numerotation.Created"

    class Ouverte(Event, Aggregate.Created):
        TOPIC = "portail:Numerotation.Ouverte"
        prefixe: str
        annee: int

    class NumerosAttribues(Event):
        TOPIC = "portail:Numerotation.NumerosAttribues"
        premier: int
        dernier: int

    @staticmethod
    def id_pour(prefixe: str, annee: int) -> UUID:
        return uuid5(NAMESPACE_URL, f"/portail/numerotation/{prefixe}/{annee}")

    @event(Ouverte)
    def __init__(self, id: UUID, prefixe: str, annee: int) -> None:
        self.prefixe = prefixe
        self.annee = annee
        self.dernier = 0

    def attribuer(self, nombre: int) -> list[str]:
        if nombre <= 0:
            return []
        premier = self.dernier + 1
        self._attribues(premier=premier, dernier=premier + nombre - 1)
        return [self.formater(n) for n in range(premier, premier + nombre)]

    @event(NumerosAttribues)
    def _attribues(self, premier: int, dernier: int) -> None:
        self.dernier = dernier

    def formater(self, n: int) -> str:
        return f"{self.prefixe}{self.annee}-{n:06d}"


class Facture(Aggregate):
    """An issued invoice (or credit note when negative): never changed afterwards."""

    TOPIC = "portail:Facture"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:Facture.Created"

    class Emise(Event, Aggregate.Created):
        TOPIC = "portail:Facture.Emise"
        numero: str
        famille_id: UUID
        campagne_id: UUID
        periode: str
        lignes: tuple[LigneFacture, ...]
        montant_cents: int
        emise_le: date
        echeance: date

    @event(Emise)
    def __init__(
        self,
        numero: str,
        famille_id: UUID,
        campagne_id: UUID,
        periode: str,
        lignes: tuple[LigneFacture, ...],
        montant_cents: int,
        emise_le: date,
        echeance: date,
    ) -> None:
        self.numero = numero
        self.famille_id = famille_id
        self.campagne_id = campagne_id
        self.periode = periode
        self.lignes = tuple(lignes)
        self.montant_cents = montant_cents
        self.emise_le = emise_le
        self.echeance = echeance

    @property
    def avoir(self) -> bool:
        return self.montant_cents < 0


class EmissionsPeriode(Aggregate):
    """Every issue of one billing period, in order: saved with each issue so that two issues
    racing for the same period conflict, and the second is checked again."""

    TOPIC = "portail:EmissionsPeriode"

    class Event(Aggregate.Event, PortailEvent):
        pass

    class Created(Event, Aggregate.Created):
        """Declared only because explicit topics are required on inherited event classes."""

        TOPIC = "portail:EmissionsPeriode.Created"

    class Ouverte(Event, Aggregate.Created):
        TOPIC = "portail:EmissionsPeriode.Ouverte"
        periode: str

    class CampagneEmise(Event):
        TOPIC = "portail:EmissionsPeriode.CampagneEmise"
        campagne_id: UUID

    @staticmethod
    def id_pour(periode: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/portail/emissions/{periode}")

    @event(Ouverte)
    def __init__(self, id: UUID, periode: str) -> None:
        self.periode = periode
        self.campagnes: list[UUID] = []

    def noter(self, campagne_id: UUID) -> None:
        self._emise(campagne_id=campagne_id)

    @event(CampagneEmise)
    def _emise(self, campagne_id: UUID) -> None:
        self.campagnes.append(campagne_id)
