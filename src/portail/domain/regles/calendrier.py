"""The calendar facts rules depend on: public holidays and school holidays, given as data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Calendrier:
    """Public holidays and, per zone, whether a day is a school holiday.

    Built by the application from the `holidays` and `vacances-scolaires-france` data; the rules
    only ask it questions, so they stay pure and testable with any calendar.
    """

    jours_feries: frozenset[date] = frozenset()
    vacances: Callable[[date, str], bool] = field(default=lambda _jour, _zone: False)

    def est_ferie(self, jour: date) -> bool:
        return jour in self.jours_feries

    def en_vacances(self, jour: date, zone: str) -> bool:
        return self.vacances(jour, zone)

    def est_ouvre(self, jour: date, jours_exclus: frozenset[int] = frozenset()) -> bool:
        """A working day: Monday to Friday, not a public holiday, not an excluded weekday."""
        return jour.isoweekday() <= 5 and not self.est_ferie(jour) and jour.isoweekday() not in jours_exclus


def reculer_jours_ouvres(jour: date, n: int, calendrier: Calendrier, jours_exclus: frozenset[int]) -> date:
    """The n-th working day before `jour` (n = 0: `jour` itself)."""
    courant = jour
    restants = n
    while restants > 0:
        courant -= timedelta(days=1)
        if calendrier.est_ouvre(courant, jours_exclus):
            restants -= 1
    return courant


def lundi(jour: date) -> date:
    return jour - timedelta(days=jour.isoweekday() - 1)
