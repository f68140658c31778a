"""A generated commune, written through the application: for demos and for the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class FamilleGeneree:
    famille_id: UUID
    compte_id: UUID
    email: str
    enfants: tuple[UUID, ...]
    resident: bool


@dataclass(frozen=True)
class CommuneGeneree:
    familles: tuple[FamilleGeneree, ...]
    periscolaire_id: UUID
    mercredis_id: UUID
    vacances_ids: tuple[UUID, ...]
    evenements: int

    @property
    def enfants(self) -> list[tuple[FamilleGeneree, UUID]]:
        return [(f, e) for f in self.familles for e in f.enfants]
