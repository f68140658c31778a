"""What the read models read of an event whose stored form is far larger than what they use.

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
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent

from portail.domain.campagne import Facture
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
            numero=e.numero,
            famille_id=e.famille_id,
            campagne_id=e.campagne_id,
            periode=e.periode,
            lignes=tuple(LigneVentilee(x.enfant_id, x.accueil_id, x.montant_cents) for x in e.lignes),
            montant_cents=e.montant_cents,
            emise_le=e.emise_le,
            echeance=e.echeance,
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
        return lu


REDUCTIONS: dict[str, Reduction[Any]] = {
    Facture.Emise.TOPIC: Reduction(
        fmt.lecture_reduite(Facture.Emise, FactureEmiseLue), FactureEmiseLue.depuis
    ),
}
"""By topic: the events the runner reads reduced."""
