"""Mandat de prélèvement SEPA of a family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from portail.domain.valeurs import Iban


@dataclass(frozen=True)
class MandatSepa:
    rum: str
    titulaire: str | None  # None once the family is erased
    iban: Iban | None
    bic: str | None
    signe_le: date
    revoque_le: date | None = None

    @property
    def actif(self) -> bool:
        return self.revoque_le is None


def generer_rum(famille_id: UUID, numero: int) -> str:
    """Référence unique de mandat: stable for a family and its n-th mandate, ≤ 35 characters."""
    return f"PF-{famille_id.hex[:16].upper()}-{numero:03d}"
