"""What the read models read of an event whose stored form is far larger than what they use.

The same holds, within the whole log's replay (`Projecteur.reconstruire`), for the two most
frequent events, a booking (`Planning.Reserve`) and a pointage (`Planning.Pointe`): a quarter
each of the log's events at 10,000 children, read whole in 10–15 µs and reduced in 3–4 µs
(measured, `performance.md`). The replay's read models use their days, units and states only;
the audit stamp and the timestamp they carry are not built. Outside the replay they are read
whole: the drafts follow the same events as domain events (`projections.brouillons`).

An issued invoice (`Facture.Emise`) carries every billed line with its day, unit, nature, price
and explanation: at 10,000 children its 46,000 events are two thirds of the log's bytes, and
decoding them whole took 41 % of decoding the log. Its read models use the invoice's header and,
of each line, the child, the accueil and the amount (`comptabilite.ventiler`). Its stored
MessagePack is decoded straight into `FactureEmiseLue`, the other fields skipped by the decoder
and never built. A row the reduced reading cannot take (the JSON format of older rows, another
class version) is decoded whole, then reduced: both give the same `FactureEmiseLue`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from portail.domain.campagne import Facture
from portail.domain.planning import Etat, Planning
from portail.store import format_evenements as fmt

_AUCUN = UUID(int=0)


class LigneVentilee(msgspec.Struct, frozen=True):
    """Of an invoice line, what the ventilation by child and accueil reads."""

    enfant_id: UUID
    accueil_id: UUID
    montant_cents: int


class EvenementLu(msgspec.Struct, kw_only=True):
    originator_id: UUID = _AUCUN
    """The aggregate: its row's column, set after decoding."""
    originator_version: int = 0
    """The event's version in its aggregate: its row's column, set after decoding."""
    class_version: int | msgspec.UnsetType = msgspec.UNSET


class FactureEmiseLue(EvenementLu, kw_only=True):
    """`Facture.Emise` as its read models read it."""

    TOPIC: ClassVar[str] = Facture.Emise.TOPIC
    numero: str
    famille_id: UUID
    campagne_id: UUID
    periode: str
    lignes: tuple[LigneVentilee, ...]
    montant_cents: int
    emise_le: date
    echeance: date

    @classmethod
    def depuis(cls, e: Facture.Emise) -> FactureEmiseLue:
        return cls(
            originator_id=e.originator_id,
            originator_version=e.originator_version,
            numero=e.numero,
            famille_id=e.famille_id,
            campagne_id=e.campagne_id,
            periode=e.periode,
            lignes=tuple(LigneVentilee(x.enfant_id, x.accueil_id, x.montant_cents) for x in e.lignes),
            montant_cents=e.montant_cents,
            emise_le=e.emise_le,
            echeance=e.echeance,
        )


class LigneReservee(msgspec.Struct, frozen=True):
    """Of a booked day-unit (`planning.Ligne`), what the calendar reads."""

    jour: date
    unite: str
    majoration_cents: int | None = None
    majoration_pourcent: int | None = None


class PlanningReserveLu(EvenementLu, kw_only=True):
    """`Planning.Reserve` as the replay's read models read it."""

    TOPIC: ClassVar[str] = Planning.Reserve.TOPIC
    lignes: tuple[LigneReservee, ...]

    @classmethod
    def depuis(cls, e: Planning.Reserve) -> PlanningReserveLu:
        return cls(
            originator_id=e.originator_id,
            originator_version=e.originator_version,
            lignes=tuple(
                LigneReservee(x.jour, x.unite, x.majoration_cents, x.majoration_pourcent) for x in e.lignes
            ),
        )


class CasePointee(msgspec.Struct, frozen=True):
    """A pointed day-unit (`planning.Pointage`), whole: it is all the calendar reads."""

    jour: date
    unite: str
    etat: Etat
    arrivee: time | None = None
    depart: time | None = None


class PlanningPointeLu(EvenementLu, kw_only=True):
    """`Planning.Pointe` as the replay's read models read it."""

    TOPIC: ClassVar[str] = Planning.Pointe.TOPIC
    pointages: tuple[CasePointee, ...]

    @classmethod
    def depuis(cls, e: Planning.Pointe) -> PlanningPointeLu:
        return cls(
            originator_id=e.originator_id,
            originator_version=e.originator_version,
            pointages=tuple(CasePointee(p.jour, p.unite, p.etat, p.arrivee, p.depart) for p in e.pointages),
        )


V = TypeVar("V", bound=EvenementLu)


@dataclass(frozen=True)
class Reduction(Generic[V]):
    lecture: fmt.LectureReduite[V]
    reduire: Callable[[Any], V]
    """From the event decoded whole."""

    def lire(self, stored: StoredEvent) -> V | None:
        """The reduced event, or None when the row is to be decoded whole and then reduced."""
        lu = fmt.lire_reduit(self.lecture, stored.state)
        if lu is not None:
            assert isinstance(stored.originator_id, UUID)
            lu.originator_id = stored.originator_id
            lu.originator_version = stored.originator_version
        return lu


REDUCTIONS: dict[str, Reduction[Any]] = {
    Facture.Emise.TOPIC: Reduction(
        fmt.lecture_reduite(Facture.Emise, FactureEmiseLue), FactureEmiseLue.depuis
    ),
}
"""By topic: the events the runner reads reduced."""

REDUCTIONS_REJEU: dict[str, Reduction[Any]] = {
    **REDUCTIONS,
    Planning.Reserve.TOPIC: Reduction(
        fmt.lecture_reduite(Planning.Reserve, PlanningReserveLu), PlanningReserveLu.depuis
    ),
    Planning.Pointe.TOPIC: Reduction(
        fmt.lecture_reduite(Planning.Pointe, PlanningPointeLu), PlanningPointeLu.depuis
    ),
}
"""By topic: the events the whole log's replay reads reduced (it prices no draft on the way)."""
