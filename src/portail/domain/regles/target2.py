"""The TARGET2 calendar: the days the euro settlement system is open, hence the only days a SEPA
direct debit can be collected on. The same closing days every year, Easter computed."""

from __future__ import annotations

from datetime import date, timedelta

UN_JOUR = timedelta(days=1)


def paques(annee: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous algorithm of 1876, Meeus)."""
    a = annee % 19
    b, c = divmod(annee, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741  (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    mois, jour = divmod(h + l - 7 * m + 114, 31)
    return date(annee, mois, jour + 1)


def jours_feries(annee: int) -> frozenset[date]:
    """The closing days besides weekends: 1 January, Good Friday, Easter Monday, 1 May, 25 and
    26 December."""
    dimanche = paques(annee)
    return frozenset(
        {
            date(annee, 1, 1),
            dimanche - 2 * UN_JOUR,
            dimanche + UN_JOUR,
            date(annee, 5, 1),
            date(annee, 12, 25),
            date(annee, 12, 26),
        }
    )


def est_ouvre(jour: date) -> bool:
    """TARGET2 is open: Monday to Friday, not a closing day."""
    return jour.isoweekday() <= 5 and jour not in jours_feries(jour.year)


def prochain_jour_ouvre(jour: date) -> date:
    """The first business day on or after `jour` (`jour` itself when open)."""
    while not est_ouvre(jour):
        jour += UN_JOUR
    return jour


def jour_ouvre_suivant(jour: date) -> date:
    """The first business day strictly after `jour`."""
    return prochain_jour_ouvre(jour + UN_JOUR)
