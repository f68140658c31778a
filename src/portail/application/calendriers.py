"""The official calendars: French public holidays (`holidays`) and school holidays by zone
(`vacances-scolaires-france`, official data up to the end of its published school years)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from vacances_scolaires_france import SchoolHolidayDates

from portail.domain.regles.calendrier import Calendrier

ANNEES = range(2015, 2041)


@lru_cache(maxsize=1)
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
