"""The official calendars: French public holidays (`holidays`) and school holidays by zone
(`vacances-scolaires-france`, official data up to the end of its published school years)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Generic, TypeVar

import holidays
from vacances_scolaires_france import SchoolHolidayDates

from portail.domain.regles.calendrier import Calendrier

ANNEES = range(2015, 2041)
T = TypeVar("T")


class _ChargeUneFois(Generic[T]):
    """A value built by the first caller while the others wait for it: `lru_cache` does not
    lock, so the concurrent first readers of a fresh process each built their own."""

    def __init__(self, construire: Callable[[], T]) -> None:
        self._construire = construire
        self._verrou = threading.Lock()
        self._valeur: T | None = None

    def __call__(self) -> T:
        valeur = self._valeur
        if valeur is None:
            with self._verrou:
                valeur = self._valeur
                if valeur is None:
                    valeur = self._valeur = self._construire()
        return valeur

    def cache_clear(self) -> None:
        with self._verrou:
            self._valeur = None


@_ChargeUneFois
def _vacances() -> SchoolHolidayDates:
    return SchoolHolidayDates()


@lru_cache(maxsize=4096)
def _en_vacances(jour: date, zone: str) -> bool:
    try:
        return bool(_vacances().is_holiday_for_zone(jour, zone))
    except Exception:
        return False


@lru_cache(maxsize=1)
def calendrier_officiel() -> Calendrier:
    feries = frozenset(holidays.country_holidays("FR", years=ANNEES).keys())
    return Calendrier(jours_feries=feries, vacances=_en_vacances)
