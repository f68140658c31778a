"""Quotient familial, effective-dated with its source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portail.domain.erreurs import ErreurValidation
from portail.domain.valeurs import SourceQuotient

QF_MAXIMUM = 100_000


@dataclass(frozen=True)
class QuotientFamilial:
    """A QF value in euros, in force from `valable_du` until the next one."""

    valeur: int
    valable_du: date
    source: SourceQuotient

    @classmethod
    def creer(cls, valeur: int, valable_du: date, source: SourceQuotient) -> QuotientFamilial:
        if isinstance(valeur, bool) or not 0 <= valeur <= QF_MAXIMUM:
            raise ErreurValidation.sur(
                "valeur", f"le quotient familial doit être compris entre 0 et {QF_MAXIMUM} €"
            )
        return cls(valeur=valeur, valable_du=valable_du, source=source)


def quotient_au(historique: list[QuotientFamilial], jour: date) -> QuotientFamilial | None:
    """The QF in force on `jour`: the latest whose `valable_du` is on or before it."""
    en_vigueur = [q for q in historique if q.valable_du <= jour]
    return max(en_vigueur, key=lambda q: q.valable_du) if en_vigueur else None


def avec_quotient(historique: list[QuotientFamilial], nouveau: QuotientFamilial) -> list[QuotientFamilial]:
    """The history with `nouveau` in force from its date; a value for the same date is replaced."""
    garde = [q for q in historique if q.valable_du != nouveau.valable_du]
    return sorted([*garde, nouveau], key=lambda q: q.valable_du)
